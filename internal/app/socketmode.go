package app

import (
	"context"
	"net/url"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"go.uber.org/zap"

	"github.com/riposte-soar/riposte/config"
	"github.com/riposte-soar/riposte/integrations/slack"
	"github.com/riposte-soar/riposte/internal/httpapi"
)

// runSocketMode takes Slack's button clicks over a websocket opened with the
// app-level token, for deployments with no public URL. Clicks go to the same
// handler as POST /v1/slack/interactions; the websocket, opened with the
// app token, stands in for the request signature.
func runSocketMode(ctx context.Context, cfg config.SlackConfig, ih *httpapi.InteractionHandler, log *zap.Logger) {
	api := slackapi.New(cfg.BotToken.Reveal(), slackapi.OptionAppLevelToken(cfg.AppToken.Reveal()), slackapi.OptionAPIURL(cfg.APIURL))
	sm := socketmode.New(api)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case evt, ok := <-sm.Events:
				if !ok {
					return
				}
				switch evt.Type {
				case socketmode.EventTypeConnected:
					log.Info("slack socket mode connected")
				case socketmode.EventTypeConnectionError:
					log.Warn("slack socket mode connection error; retrying")
				case socketmode.EventTypeInteractive:
					if evt.Request == nil {
						continue
					}
					// Acknowledge first: Slack retries an envelope that is not
					// acknowledged within 3 s.
					_ = sm.Ack(*evt.Request)
					in, err := slack.ParseInteraction([]byte("payload=" + url.QueryEscape(string(evt.Request.Payload))))
					if err != nil {
						log.Info("slack socket mode: interaction ignored", zap.Error(err))
						continue
					}
					ih.Handle(ctx, in)
				default:
					if evt.Request != nil && evt.Request.EnvelopeID != "" {
						_ = sm.Ack(*evt.Request)
					}
				}
			}
		}
	}()
	go func() {
		if err := sm.RunContext(ctx); err != nil && ctx.Err() == nil {
			log.Error("slack socket mode stopped", zap.Error(err))
		}
	}()
}
