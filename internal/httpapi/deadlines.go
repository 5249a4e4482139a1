package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/riposte-soar/riposte/internal/auth"
	"github.com/riposte-soar/riposte/internal/deadlines"
	"github.com/riposte-soar/riposte/internal/incidents"
	"github.com/riposte-soar/riposte/workflows"
)

// DeadlineService manages regulatory obligations.
type DeadlineService interface {
	Start(ctx context.Context, req deadlines.StartRequest) ([]string, error)
	List(ctx context.Context, f deadlines.Filter, now time.Time) ([]deadlines.Obligation, error)
	Submit(ctx context.Context, id string, req workflows.SubmitRequest) (*workflows.DeadlineState, error)
	Defer(ctx context.Context, id string, req workflows.DeferRequest) (*workflows.DeadlineState, error)
	Cancel(ctx context.Context, id string, req workflows.CancelRequest) (*workflows.DeadlineState, error)
}

func (h *handler) postDeadlines(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.requireRole(w, r, auth.RoleAdmin, auth.RoleCompliance, auth.RoleResponder); !ok {
		return
	}
	var req deadlines.StartRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	ids, err := h.d.Deadlines.Start(r.Context(), req)
	if err != nil {
		h.deadlineError(w, err)
		return
	}
	if ids == nil {
		ids = []string{}
	}
	writeJSON(w, http.StatusCreated, map[string]any{"started": ids})
}

func (h *handler) getDeadlines(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.requireRole(w, r, auth.RoleAdmin, auth.RoleCompliance, auth.RoleResponder); !ok {
		return
	}
	q := r.URL.Query()
	list, err := h.d.Deadlines.List(r.Context(), deadlines.Filter{Status: q.Get("status"), Regime: q.Get("regime"), IncidentID: q.Get("incident")}, h.d.Now())
	if err != nil {
		h.deadlineError(w, err)
		return
	}
	if list == nil {
		list = []deadlines.Obligation{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"deadlines": list})
}

// submitRoles may record a regulatory report; the DeadlineWorkflow's
// validator checks the same roles.
var submitRoles = []string{auth.RoleAdmin, auth.RoleCompliance}

// submit records a filed report through the obligation's Update. The API
// and the console both submit through it.
func (h *handler) submit(ctx context.Context, p auth.Principal, id string, req workflows.SubmitRequest) (*workflows.DeadlineState, error) {
	if req.SubmittedAt.IsZero() {
		req.SubmittedAt = h.d.Now().UTC()
	}
	req.SubmittedBy, req.Roles = principalID(p), []string{p.Role}
	return h.d.Deadlines.Submit(ctx, id, req)
}

func (h *handler) postSubmission(w http.ResponseWriter, r *http.Request) {
	p, ok := h.requireRole(w, r, submitRoles...)
	if !ok {
		return
	}
	var body struct {
		SubmittedAt     *time.Time `json:"submitted_at"`
		Reference       string     `json:"reference"`
		Recipient       string     `json:"recipient"`
		Note            string     `json:"note"`
		EvidenceURL     string     `json:"evidence_url"`
		ReasonsForDelay string     `json:"reasons_for_delay"`
	}
	if !decodeJSON(w, r, &body) {
		return
	}
	var at time.Time
	if body.SubmittedAt != nil {
		at = body.SubmittedAt.UTC()
	}
	st, err := h.submit(r.Context(), p, r.PathValue("id"), workflows.SubmitRequest{
		SubmittedAt: at, Reference: body.Reference, Recipient: body.Recipient,
		Note: body.Note, EvidenceURL: body.EvidenceURL, ReasonsForDelay: body.ReasonsForDelay,
	})
	if err != nil {
		h.updateError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (h *handler) postDeferral(w http.ResponseWriter, r *http.Request) {
	p, ok := h.requireRole(w, r, auth.RoleAdmin, auth.RoleCompliance)
	if !ok {
		return
	}
	var body struct {
		Until      time.Time `json:"until"`
		LegalBasis string    `json:"legal_basis"`
		Document   string    `json:"document"`
	}
	if !decodeJSON(w, r, &body) {
		return
	}
	st, err := h.d.Deadlines.Defer(r.Context(), r.PathValue("id"), workflows.DeferRequest{
		Until: body.Until.UTC(), LegalBasis: body.LegalBasis, Document: body.Document, By: principalID(p), Roles: []string{p.Role}})
	if err != nil {
		h.updateError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (h *handler) postCancellation(w http.ResponseWriter, r *http.Request) {
	p, ok := h.requireRole(w, r, auth.RoleAdmin, auth.RoleCompliance)
	if !ok {
		return
	}
	var body struct {
		Reason string `json:"reason"`
	}
	if !decodeJSON(w, r, &body) {
		return
	}
	st, err := h.d.Deadlines.Cancel(r.Context(), r.PathValue("id"), workflows.CancelRequest{Reason: body.Reason, By: principalID(p), Roles: []string{p.Role}})
	if err != nil {
		h.updateError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// getExport is the audit evidence: every obligation with its triggers, due
// time, reminders, submission, deferral, cancellation, who did what and
// when, and the catalogue version. The console's session cookie is
// accepted as well as a bearer token, so the board can link to it.
func (h *handler) getExport(format string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, ok := h.requireRoleOrSession(w, r, auth.RoleAdmin, auth.RoleCompliance); !ok {
			return
		}
		q := r.URL.Query()
		list, err := h.d.Deadlines.List(r.Context(), deadlines.Filter{Status: q.Get("status"), Regime: q.Get("regime"), IncidentID: q.Get("incident")}, h.d.Now())
		if err != nil {
			h.deadlineError(w, err)
			return
		}
		if format == "json" {
			w.Header().Set("Content-Disposition", `attachment; filename="riposte-deadlines.json"`)
			if list == nil {
				list = []deadlines.Obligation{}
			}
			writeJSON(w, http.StatusOK, map[string]any{"exported_at": h.d.Now().UTC(), "deadlines": list})
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="riposte-deadlines.csv"`)
		w.Header().Set("Cache-Control", "no-store")
		_ = deadlines.WriteCSV(w, list)
	}
}

// deadlineError answers a start or list failure: 503 while Temporal is
// away or overloaded, 400 for what the request got wrong, 500 otherwise.
func (h *handler) deadlineError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, incidents.ErrUnavailable):
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "temporal is unavailable; retry later")
	case errors.Is(err, deadlines.ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		h.d.Logger.Error("deadlines", zapErr(err))
		writeError(w, http.StatusInternalServerError, "deadlines could not be read or started")
	}
}
