package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/riposte-soar/riposte/integrations/slack"
	"github.com/riposte-soar/riposte/internal/incidents"
	"github.com/riposte-soar/riposte/workflows"
)

// SlackDeps serve Slack's interaction requests.
type SlackDeps struct {
	client        *slack.Client
	signingSecret string
	// users and groups map upper-case Slack IDs to roles (config reads map
	// keys in lower case).
	users  map[string][]string
	groups map[string][]string
}

// NewSlackDeps builds the interaction handler's dependencies.
func NewSlackDeps(c *slack.Client, signingSecret string, users, groups map[string][]string) *SlackDeps {
	d := &SlackDeps{client: c, signingSecret: signingSecret, users: map[string][]string{}, groups: map[string][]string{}}
	for id, r := range users {
		d.users[strings.ToUpper(id)] = r
	}
	for id, r := range groups {
		d.groups[strings.ToUpper(id)] = r
	}
	return d
}

// roles are the user's Riposte roles: from slack.users, then from the user
// groups they belong to.
func (s *SlackDeps) roles(ctx context.Context, userID string) []string {
	roles := slices.Clone(s.users[strings.ToUpper(userID)])
	for gid, groleList := range s.groups {
		members, err := s.client.UserGroupMembers(ctx, gid)
		if err != nil {
			continue
		}
		if slices.Contains(members, userID) {
			roles = append(roles, groleList...)
		}
	}
	slices.Sort(roles)
	return slices.Compact(roles)
}

// Auditor records refused attempts in an incident's timeline.
type Auditor interface {
	Audit(ctx context.Context, id string, e workflows.TimelineEntry) error
}

// postSlackInteraction is Slack's request URL for button clicks. Every
// request is verified with the signing secret and refused when older than
// five minutes; a click counts only through the same approval Update as the
// API, so the workflow's validator checks the roles again.
func (h *handler) postSlackInteraction(w http.ResponseWriter, r *http.Request) {
	s := h.d.Slack
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body too large")
		return
	}
	if err := slack.VerifyRequest(r.Header, body, s.signingSecret, h.d.Now()); err != nil {
		h.d.Logger.Info("slack request refused", zap.String("reason", err.Error()), zap.String("remote_addr", r.RemoteAddr))
		writeError(w, http.StatusUnauthorized, "invalid slack signature")
		return
	}
	in, err := slack.ParseInteraction(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	// Slack gives up after 3 s; the Update is quick, but never hold the
	// answer longer than that.
	ctx, cancel := context.WithTimeout(r.Context(), 2500*time.Millisecond)
	defer cancel()
	roles := s.roles(ctx, in.UserID)
	by := "slack:" + in.UserID
	_, err = h.d.Writer.Decide(ctx, in.Value.Incident, workflows.DecideRequest{
		Step: in.Value.Step, Decision: in.Value.Decision, By: by, Roles: roles,
	})
	var rej *incidents.RejectedError
	switch {
	case err == nil:
		w.WriteHeader(http.StatusOK)
		return
	case errors.As(err, &rej) && rej.Type == incidents.ErrTypeForbidden:
		h.ephemeral(in.ResponseURL, "You are not allowed to approve this: "+rej.Message)
		if h.d.Auditor != nil {
			_ = h.d.Auditor.Audit(ctx, in.Value.Incident, workflows.TimelineEntry{Actor: by, Kind: "audit",
				Message: fmt.Sprintf("%s tried to %s %s without one of the approver roles (has: %s)", in.UserID, in.Value.Decision, in.Value.Step, strings.Join(roles, ", "))})
		}
	case errors.As(err, &rej):
		h.ephemeral(in.ResponseURL, rej.Message)
	default:
		h.d.Logger.Warn("slack decision not recorded", zap.String("incident_id", in.Value.Incident), zap.Error(err))
		h.ephemeral(in.ResponseURL, "Riposte could not record your decision; try again or use the console.")
	}
	// Slack shows nothing for a 200 to block_actions; the ephemeral says why.
	w.WriteHeader(http.StatusOK)
}

func (h *handler) ephemeral(responseURL, text string) {
	if responseURL == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.d.Slack.client.PostEphemeral(ctx, responseURL, text); err != nil {
		h.d.Logger.Warn("slack ephemeral not sent", zap.Error(err))
	}
}
