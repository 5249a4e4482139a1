package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/riposte-soar/riposte/internal/auth"
	"github.com/riposte-soar/riposte/internal/incidents"
)

var readRoles = []string{auth.RoleAdmin, auth.RoleResponder, auth.RoleCompliance}

func (h *handler) listIncidents(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.requireRole(w, r, readRoles...); !ok {
		return
	}
	q := r.URL.Query()
	f := incidents.Filter{Status: q.Get("status"), Severity: q.Get("severity"), Playbook: q.Get("playbook")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil {
			writeError(w, http.StatusBadRequest, "limit: must be a number")
			return
		}
		f.Limit = n
	}
	if err := incidents.ValidateFilter(f); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	list, err := h.d.Incidents.List(r.Context(), f)
	if err != nil {
		h.incidentError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"incidents": list})
}

func (h *handler) getIncident(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.requireRole(w, r, readRoles...); !ok {
		return
	}
	st, err := h.d.Incidents.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		h.incidentError(w, err)
		return
	}
	// The contract's sections that later work fills are present, empty.
	b, err := json.Marshal(st)
	if err != nil {
		h.incidentError(w, err)
		return
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		h.incidentError(w, err)
		return
	}
	for _, k := range []string{"approvals", "actions", "tickets", "deadlines", "observables", "timeline"} {
		if out[k] == nil {
			out[k] = []any{}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) incidentError(w http.ResponseWriter, err error) {
	code, msg := h.readStatus(err)
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	writeError(w, code, msg)
}

// readStatus maps a failed read to its status and message, logging what
// the client cannot act on.
func (h *handler) readStatus(err error) (int, string) {
	switch {
	case errors.Is(err, incidents.ErrNotFound):
		return http.StatusNotFound, "incident not found"
	case errors.Is(err, incidents.ErrUnavailable):
		return http.StatusServiceUnavailable, "temporal is unavailable; retry later"
	default:
		h.d.Logger.Error("read incident", zapErr(err))
		return http.StatusInternalServerError, "read incident failed"
	}
}

func zapErr(err error) zap.Field { return zap.Error(err) }
