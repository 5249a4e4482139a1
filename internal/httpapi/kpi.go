package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/riposte-soar/riposte/internal/incidents"
	"github.com/riposte-soar/riposte/internal/kpi"
)

// KPIService computes KPI reports (*kpi.Service).
type KPIService interface {
	Compute(ctx context.Context, from, to time.Time, criticalAfter time.Duration) (kpi.Report, error)
}

// KPI query defaults and limits.
const (
	defaultKPIWindow = 30 * 24 * time.Hour
	defaultKPIAfter  = 15
	maxKPIAfter      = 7 * 24 * 60
)

// KPIParams parses from, to (RFC 3339) and n (minutes) as GET /v1/kpi
// takes them; the console uses it too. The error names the parameter.
func KPIParams(q map[string][]string, now time.Time) (from, to time.Time, n int, err error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	to = now
	if v := get("to"); v != "" {
		if to, err = time.Parse(time.RFC3339, v); err != nil {
			return from, to, 0, errors.New("to: must be an RFC 3339 time such as 2026-11-23T00:00:00Z")
		}
	}
	from = to.Add(-defaultKPIWindow)
	if v := get("from"); v != "" {
		if from, err = time.Parse(time.RFC3339, v); err != nil {
			return from, to, 0, errors.New("from: must be an RFC 3339 time such as 2026-10-24T00:00:00Z")
		}
	}
	if err := kpi.CheckRange(from, to); err != nil {
		return from, to, 0, errors.New("from: " + err.Error())
	}
	n = defaultKPIAfter
	if v := get("n"); v != "" {
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > maxKPIAfter {
			return from, to, 0, errors.New("n: must be a whole number of minutes between 1 and 10080")
		}
	}
	return from.UTC(), to.UTC(), n, nil
}

// getKPI serves GET /v1/kpi?from=&to=&n= to every role that reads
// incidents.
func (h *handler) getKPI(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.requireRole(w, r, readRoles...); !ok {
		return
	}
	from, to, n, err := KPIParams(r.URL.Query(), h.d.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	rep, err := h.d.KPI.Compute(r.Context(), from, to, time.Duration(n)*time.Minute)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, rep)
	case errors.Is(err, kpi.ErrRange):
		writeError(w, http.StatusBadRequest, "from: "+err.Error())
	case errors.Is(err, incidents.ErrUnavailable):
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "temporal is unavailable; retry later")
	default:
		h.d.Logger.Error("compute kpi", zap.Error(err))
		writeError(w, http.StatusInternalServerError, "compute kpi failed")
	}
}
