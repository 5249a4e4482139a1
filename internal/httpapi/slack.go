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
	h.handleInteraction(r.Context(), in)
	// Slack shows nothing for a 200 to block_actions; an ephemeral says why
	// a click did not count.
	w.WriteHeader(http.StatusOK)
}

// InteractionHandler handles verified, parsed button clicks; the HTTP
// endpoint and Socket Mode share it.
type InteractionHandler struct{ h *handler }

// NewInteractionHandler returns the shared click handler.
func NewInteractionHandler(d Deps) *InteractionHandler {
	if d.Logger == nil {
		d.Logger = zap.NewNop()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &InteractionHandler{h: &handler{d: d}}
}

// Handle records the click through the approval Update.
func (ih *InteractionHandler) Handle(ctx context.Context, in *slack.Interaction) {
	ih.h.handleInteraction(ctx, in)
}

func (h *handler) handleInteraction(parent context.Context, in *slack.Interaction) {
	s := h.d.Slack
	// Slack gives up after 3 s; the Update is quick, but never hold the
	// answer longer than that.
	ctx, cancel := context.WithTimeout(parent, 2500*time.Millisecond)
	defer cancel()
	roles := s.roles(ctx, in.UserID)
	by := "slack:" + in.UserID
	_, err := h.d.Writer.Decide(ctx, in.Value.Incident, workflows.DecideRequest{
		Step: in.Value.Step, Decision: in.Value.Decision, By: by, Roles: roles,
	})
	var rej *incidents.RejectedError
	switch {
	case err == nil:
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
}

// postSlackCommand answers /riposte incident ID with the incident's state,
// visible only to the caller. Requests are verified like interactions, and
// the caller needs a Riposte role.
func (h *handler) postSlackCommand(w http.ResponseWriter, r *http.Request) {
	s := h.d.Slack
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body too large")
		return
	}
	if err := slack.VerifyRequest(r.Header, body, s.signingSecret, h.d.Now()); err != nil {
		writeError(w, http.StatusUnauthorized, "invalid slack signature")
		return
	}
	cmd, err := slack.ParseSlashCommand(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	reply := func(text string) {
		writeJSON(w, http.StatusOK, map[string]string{"response_type": "ephemeral", "text": text})
	}
	if len(s.roles(r.Context(), cmd.UserID)) == 0 {
		reply("You have no Riposte role.")
		return
	}
	if len(cmd.Args) != 2 || cmd.Args[0] != "incident" {
		reply("Usage: /riposte incident ID")
		return
	}
	st, err := h.d.Incidents.Get(r.Context(), cmd.Args[1])
	if err != nil {
		reply("Incident " + slack.EscapeText(cmd.Args[1]) + ": " + err.Error())
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*%s* %s\nseverity %s · status %s · phase %s · playbook %s\nalerts %d (first %s, last %s)\n",
		slack.EscapeText(st.ID), slack.EscapeText(st.Title), st.Severity, st.Status, st.Phase, slack.EscapeText(st.Playbook.Name),
		st.Alerts.Count, st.Alerts.FirstSeen.UTC().Format(time.RFC3339), st.Alerts.LastSeen.UTC().Format(time.RFC3339))
	for _, a := range st.Approvals {
		fmt.Fprintf(&b, "approval %s: %s (%d decisions)\n", slack.EscapeText(a.Step), a.Status, len(a.Decisions))
	}
	reply(b.String())
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
