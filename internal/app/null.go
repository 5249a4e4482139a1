package app

import (
	"context"

	"go.uber.org/zap"

	"github.com/riposte-soar/riposte/activities"
	"github.com/riposte-soar/riposte/integrations/null"
)

// useNullIntegration points the firewall, ticketing and threat-intel
// actions at the null integration, which does nothing (bench.null_integration,
// for make bench only). Validate refuses it beside real vendors.
func useNullIntegration(acts *activities.Actions, log *zap.Logger) error {
	c, err := null.New(null.Config{}, log)
	if err != nil {
		return err
	}
	acts.Firewall = nullFirewall{c}
	acts.Vendors = nil
	acts.Ticketing = nullTicketing{c}
	acts.Enrichers = []activities.Enricher{nullEnricher{c}}
	log.Warn("bench.null_integration is on: firewall, ticketing and threat-intel actions do nothing")
	return nil
}

type nullFirewall struct{ c *null.Client }

func (f nullFirewall) Block(ctx context.Context, b activities.Block) error {
	return f.c.Block(ctx, b.Type, b.Value, b.TTL, b.IdempotencyKey)
}

func (f nullFirewall) Unblock(ctx context.Context, b activities.Block) error {
	return f.c.Unblock(ctx, b.Type, b.Value, b.IdempotencyKey)
}

type nullTicketing struct{ c *null.Client }

func (nullTicketing) System() string { return "null" }

func (t nullTicketing) Create(ctx context.Context, r activities.TicketRequest) (activities.TicketRef, error) {
	tk, err := t.c.CreateTicket(ctx, r.Key, r.Title, r.Body)
	if err != nil {
		return activities.TicketRef{}, err
	}
	return activities.TicketRef{System: "null", ID: tk.ID, URL: tk.URL, Created: true}, nil
}

func (t nullTicketing) Comment(ctx context.Context, id, body string) error {
	return t.c.Comment(ctx, id, body)
}

func (t nullTicketing) Resolve(ctx context.Context, id, comment string) error {
	return t.c.Resolve(ctx, id, comment)
}

type nullEnricher struct{ c *null.Client }

func (nullEnricher) Name() string { return "null" }

func (nullEnricher) Supports(typ string) bool {
	return typ == "ip" || typ == "domain" || typ == "url" || typ == "hash"
}

func (e nullEnricher) Enrich(ctx context.Context, typ, value string) (map[string]any, error) {
	v, err := e.c.Lookup(ctx, typ, value)
	if err != nil {
		return nil, err
	}
	return map[string]any{"malicious": v.Malicious, "score": int64(v.Score), "source": v.Source}, nil
}
