// Package httpapi serves Riposte's HTTP surface: alert webhooks, the
// incident API, health, readiness and metrics. Every request except the
// probes is authenticated.
package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/riposte-soar/riposte/alerts"
	"github.com/riposte-soar/riposte/internal/auth"
	"github.com/riposte-soar/riposte/internal/incidents"
	"github.com/riposte-soar/riposte/internal/ingest"
	"github.com/riposte-soar/riposte/playbooks"
	"github.com/riposte-soar/riposte/workflows"
)

// ReadinessChecker reports whether the process can do its job: Temporal is
// reachable and the worker is polling.
type ReadinessChecker interface {
	Ready(ctx context.Context) error
}

// Recorder records normalised alerts in their incidents.
type Recorder interface {
	Record(ctx context.Context, src *ingest.Source, list []alerts.Alert) ([]ingest.Accepted, error)
}

// IncidentReader reads incidents.
type IncidentReader interface {
	List(ctx context.Context, f incidents.Filter) ([]incidents.Summary, error)
	Get(ctx context.Context, id string) (*workflows.IncidentState, error)
}

// AlertSource is a webhook source with its authentication.
type AlertSource struct {
	Source *ingest.Source
	Auth   SourceAuth
}

// Deps are what the handlers need. Nil Recorder or Incidents leave those
// routes out (worker mode).
type Deps struct {
	Logger       *zap.Logger
	Ready        ReadinessChecker
	Tokens       *auth.Store
	Sources      map[string]*AlertSource
	Recorder     Recorder
	Incidents    IncidentReader
	Writer       IncidentWriter
	Blocklist    Blocklist
	Slack        *SlackDeps
	Deadlines    DeadlineService
	Auditor      Auditor
	MaxBodyBytes int64
	Metrics      *Metrics
	Gatherer     prometheus.Gatherer
	// KPI computes GET /v1/kpi; nil leaves the route out.
	KPI KPIService
	// Playbooks are the loaded playbooks, shown read-only in the console.
	Playbooks map[string]*playbooks.Playbook
	// Console configures the web console's sessions.
	Console ConsoleConfig
	// Now is the clock for HMAC timestamps; nil is time.Now.
	Now func() time.Time
}

type handler struct {
	d        Deps
	sessions *sessionStore
}

// NewHandler returns the root handler.
func NewHandler(d Deps) http.Handler {
	if d.Logger == nil {
		d.Logger = zap.NewNop()
	}
	if d.Tokens == nil {
		d.Tokens, _ = auth.NewStore(nil)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 1 << 20
	}
	if d.Metrics == nil {
		d.Metrics = NewMetrics(prometheus.NewRegistry())
	}
	h := &handler{d: d, sessions: newSessionStore(d.Console.SessionTTL, d.Now)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if err := d.Ready.Ready(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	if d.Gatherer != nil {
		metrics := promhttp.HandlerFor(d.Gatherer, promhttp.HandlerOpts{})
		mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
			if _, ok := h.requireRole(w, r); !ok {
				return
			}
			metrics.ServeHTTP(w, r)
		})
	}
	if d.Recorder != nil {
		mux.HandleFunc("POST /v1/alerts/{source}", h.postAlerts)
		mux.HandleFunc("POST /v1/alerts/{source}/{secret}", h.postAlerts)
	}
	if d.Incidents != nil {
		mux.HandleFunc("GET /v1/incidents", h.listIncidents)
		mux.HandleFunc("GET /v1/incidents/{id}", h.getIncident)
	}
	if d.Writer != nil {
		mux.HandleFunc("POST /v1/incidents/{id}/approvals/{step}", h.postDecision)
		mux.HandleFunc("POST /v1/incidents/{id}/close", h.postLifecycle(false))
		mux.HandleFunc("POST /v1/incidents/{id}/reopen", h.postLifecycle(true))
	}
	if d.Slack != nil && d.Writer != nil {
		mux.HandleFunc("POST /v1/slack/interactions", h.postSlackInteraction)
		mux.HandleFunc("POST /v1/slack/commands", h.postSlackCommand)
	}
	if d.Deadlines != nil {
		mux.HandleFunc("POST /v1/deadlines", h.postDeadlines)
		mux.HandleFunc("GET /v1/deadlines", h.getDeadlines)
		mux.HandleFunc("POST /v1/deadlines/{id}/submissions", h.postSubmission)
		mux.HandleFunc("POST /v1/deadlines/{id}/deferrals", h.postDeferral)
		mux.HandleFunc("POST /v1/deadlines/{id}/cancellations", h.postCancellation)
		mux.HandleFunc("GET /v1/deadlines/export.csv", h.getExport("csv"))
		mux.HandleFunc("GET /v1/deadlines/export.json", h.getExport("json"))
	}
	if d.KPI != nil {
		mux.HandleFunc("GET /v1/kpi", h.getKPI)
	}
	if d.Blocklist != nil {
		mux.HandleFunc("GET /v1/blocklist/ip.txt", h.getBlocklist("ip"))
		mux.HandleFunc("GET /v1/blocklist/domain.txt", h.getBlocklist("domain"))
		mux.HandleFunc("GET /v1/blocklist/url.txt", h.getBlocklist("url"))
	}
	if d.Incidents != nil {
		h.registerConsole(mux)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not found: "+r.Method+" "+r.URL.Path)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
