package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/riposte-soar/riposte/internal/auth"
	"github.com/riposte-soar/riposte/internal/incidents"
	"github.com/riposte-soar/riposte/workflows"
)

// IncidentWriter changes incidents through their workflow's Updates.
type IncidentWriter interface {
	Decide(ctx context.Context, id string, req workflows.DecideRequest) (*workflows.ApprovalState, error)
	Close(ctx context.Context, id string, req workflows.LifecycleRequest) (*workflows.IncidentState, error)
	Reopen(ctx context.Context, id string, req workflows.LifecycleRequest) (*workflows.IncidentState, error)
}

// Blocklist reads the EDL.
type Blocklist interface {
	Entries(ctx context.Context) ([]workflows.BlockEntry, error)
}

const maxJSONBody = 64 << 10

func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return false
	}
	return true
}

// principalID is how a token holder appears in timelines.
func principalID(p auth.Principal) string { return "token:" + p.Name }

func (h *handler) postDecision(w http.ResponseWriter, r *http.Request) {
	p, ok := h.requireRole(w, r, auth.RoleAdmin, auth.RoleResponder, auth.RoleCompliance)
	if !ok {
		return
	}
	var body struct {
		Decision string `json:"decision"`
		Comment  string `json:"comment"`
	}
	if !decodeJSON(w, r, &body) {
		return
	}
	a, err := h.decide(r.Context(), p, r.PathValue("id"), r.PathValue("step"), body.Decision, body.Comment)
	if err != nil {
		h.updateError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

var errBadDecision = errors.New(`decision: must be "approve" or "reject"`)

// decide votes on an approval through the incident's "decide" Update, whose
// validator checks the voter's role against the approvers before anything
// is recorded. The API and the console both vote through it.
func (h *handler) decide(ctx context.Context, p auth.Principal, id, step, decision, comment string) (*workflows.ApprovalState, error) {
	if decision != "approve" && decision != "reject" {
		return nil, errBadDecision
	}
	return h.d.Writer.Decide(ctx, id, workflows.DecideRequest{
		Step: step, Decision: decision, By: principalID(p), Roles: []string{p.Role}, Comment: comment,
	})
}

func (h *handler) postLifecycle(reopen bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := h.requireRole(w, r, auth.RoleAdmin, auth.RoleResponder)
		if !ok {
			return
		}
		var body struct {
			Reason string `json:"reason"`
		}
		if !decodeJSON(w, r, &body) {
			return
		}
		if strings.TrimSpace(body.Reason) == "" {
			writeError(w, http.StatusBadRequest, "reason: required")
			return
		}
		req := workflows.LifecycleRequest{By: principalID(p), Roles: []string{p.Role}, Reason: body.Reason}
		var (
			st  *workflows.IncidentState
			err error
		)
		if reopen {
			st, err = h.d.Writer.Reopen(r.Context(), r.PathValue("id"), req)
		} else {
			st, err = h.d.Writer.Close(r.Context(), r.PathValue("id"), req)
		}
		if err != nil {
			h.updateError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, st)
	}
}

func (h *handler) updateError(w http.ResponseWriter, err error) {
	if code, msg, ok := updateStatus(err); ok {
		writeError(w, code, msg)
		return
	}
	h.incidentError(w, err)
}

// updateStatus maps a refused Update (or a bad decision) to its status and
// message; ok is false for other errors.
func updateStatus(err error) (code int, msg string, ok bool) {
	if errors.Is(err, errBadDecision) {
		return http.StatusBadRequest, err.Error(), true
	}
	var rej *incidents.RejectedError
	if !errors.As(err, &rej) {
		return 0, "", false
	}
	switch rej.Type {
	case incidents.ErrTypeForbidden:
		return http.StatusForbidden, rej.Message, true
	case incidents.ErrTypeConflict:
		return http.StatusConflict, rej.Message, true
	default:
		return http.StatusBadRequest, rej.Message, true
	}
}

// getBlocklist serves the EDL as plain text. Firewalls authenticate with a
// bearer token or with HTTP basic auth whose password is a token, as PAN-OS
// and FortiGate can send.
func (h *handler) getBlocklist(typ string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, pass, ok := r.BasicAuth(); ok {
			if _, ok := h.d.Tokens.Lookup(pass); !ok {
				w.Header().Set("WWW-Authenticate", `Basic realm="riposte"`)
				writeError(w, http.StatusUnauthorized, "invalid token")
				return
			}
		} else if _, ok := h.requireRole(w, r); !ok {
			return
		}
		entries, err := h.d.Blocklist.Entries(r.Context())
		if err != nil {
			w.Header().Set("Retry-After", "5")
			writeError(w, http.StatusServiceUnavailable, "blocklist unavailable; retry later")
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		var b strings.Builder
		for _, e := range entries {
			if e.Type == typ {
				b.WriteString(e.Value)
				b.WriteByte('\n')
			}
		}
		_, _ = io.WriteString(w, b.String())
	}
}
