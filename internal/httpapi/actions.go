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
	if body.Decision != "approve" && body.Decision != "reject" {
		writeError(w, http.StatusBadRequest, `decision: must be "approve" or "reject"`)
		return
	}
	a, err := h.d.Writer.Decide(r.Context(), r.PathValue("id"), workflows.DecideRequest{
		Step: r.PathValue("step"), Decision: body.Decision, By: principalID(p), Roles: []string{p.Role}, Comment: body.Comment,
	})
	if err != nil {
		h.updateError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
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
	var rej *incidents.RejectedError
	if errors.As(err, &rej) {
		switch rej.Type {
		case incidents.ErrTypeForbidden:
			writeError(w, http.StatusForbidden, rej.Message)
		case incidents.ErrTypeConflict:
			writeError(w, http.StatusConflict, rej.Message)
		default:
			writeError(w, http.StatusBadRequest, rej.Message)
		}
		return
	}
	h.incidentError(w, err)
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
