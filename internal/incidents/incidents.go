// Package incidents reads incidents back from Temporal: lists from
// visibility over Riposte's search attributes, details from the workflow's
// Query. Temporal is the only source of truth; nothing is cached here.
package incidents

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/riposte-soar/riposte/workflows"
)

// ErrNotFound means no incident has that ID.
var ErrNotFound = errors.New("incident not found")

// ErrUnavailable means Temporal could not answer.
var ErrUnavailable = errors.New("temporal is unavailable")

// Filter narrows a list. Empty fields match everything.
type Filter struct {
	Status   string
	Severity string
	Playbook string
	Limit    int
	// ActiveSince keeps incidents still running or closed at or after it
	// (a time window for reports; zero keeps all).
	ActiveSince time.Time
}

// Summary is one row of a list, from search attributes.
type Summary struct {
	ID         string    `json:"id"`
	Title      string    `json:"title"`
	Severity   string    `json:"severity"`
	Status     string    `json:"status"`
	Phase      string    `json:"phase"`
	Playbook   string    `json:"playbook"`
	AlertCount int64     `json:"alert_count"`
	LastSeen   time.Time `json:"last_seen"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Reader reads incidents.
type Reader struct {
	Client    func() client.Client
	Namespace string
}

var validFilter = map[string]map[string]bool{
	"status":   {workflows.StatusOpen: true, workflows.StatusClosed: true},
	"severity": {"informational": true, "low": true, "medium": true, "high": true, "critical": true},
}

// ValidateFilter names a bad filter value.
func ValidateFilter(f Filter) error {
	if f.Status != "" && !validFilter["status"][f.Status] {
		return fmt.Errorf("status: must be open or closed, got %q", f.Status)
	}
	if f.Severity != "" && !validFilter["severity"][f.Severity] {
		return fmt.Errorf("severity: must be one of informational, low, medium, high, critical, got %q", f.Severity)
	}
	if strings.ContainsAny(f.Playbook, "'\"\\") {
		return fmt.Errorf("playbook: must not contain quotes or backslashes")
	}
	if f.Limit < 0 || f.Limit > 1000 {
		return fmt.Errorf("limit: must be between 1 and 1000")
	}
	return nil
}

// Query builds the visibility query for f; values are validated first, so
// quoting them is safe.
func Query(f Filter) string {
	q := []string{
		fmt.Sprintf("WorkflowType = '%s'", workflows.IncidentWorkflowName),
		// Continued-as-new runs are earlier generations of an incident.
		"ExecutionStatus != 'ContinuedAsNew'",
	}
	add := func(attr, v string) {
		if v != "" {
			q = append(q, fmt.Sprintf("%s = '%s'", attr, v))
		}
	}
	add(workflows.SAStatus.GetName(), f.Status)
	add(workflows.SASeverity.GetName(), f.Severity)
	add(workflows.SAPlaybook.GetName(), f.Playbook)
	if !f.ActiveSince.IsZero() {
		q = append(q, fmt.Sprintf("(ExecutionStatus = 'Running' OR CloseTime >= '%s')", f.ActiveSince.UTC().Format(time.RFC3339Nano)))
	}
	return strings.Join(q, " AND ")
}

// List returns incidents matching f, newest first.
func (r *Reader) List(ctx context.Context, f Filter) ([]Summary, error) {
	if err := ValidateFilter(f); err != nil {
		return nil, err
	}
	c := r.Client()
	if c == nil {
		return nil, ErrUnavailable
	}
	limit := f.Limit
	if limit == 0 {
		limit = 100
	}
	out := []Summary{}
	var token []byte
	for len(out) < limit {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: r.Namespace, Query: Query(f), PageSize: int32(min(limit-len(out), 100)), NextPageToken: token,
		})
		if err != nil {
			return nil, classify(err)
		}
		for _, e := range resp.GetExecutions() {
			s := Summary{ID: e.GetExecution().GetWorkflowId()}
			if t := e.GetExecutionTime(); t != nil {
				s.UpdatedAt = t.AsTime()
			}
			fields := e.GetSearchAttributes().GetIndexedFields()
			dc := converter.GetDefaultDataConverter()
			str := func(name string) string {
				var v string
				if p, ok := fields[name]; ok {
					_ = dc.FromPayload(p, &v)
				}
				return v
			}
			s.Title = str(workflows.SATitle.GetName())
			s.Severity = str(workflows.SASeverity.GetName())
			s.Status = str(workflows.SAStatus.GetName())
			s.Phase = str(workflows.SAPhase.GetName())
			s.Playbook = str(workflows.SAPlaybook.GetName())
			if p, ok := fields[workflows.SAAlertCount.GetName()]; ok {
				_ = dc.FromPayload(p, &s.AlertCount)
			}
			if p, ok := fields[workflows.SALastSeen.GetName()]; ok {
				_ = dc.FromPayload(p, &s.LastSeen)
			}
			out = append(out, s)
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			break
		}
	}
	return out, nil
}

// Get returns the incident's state from its workflow.
func (r *Reader) Get(ctx context.Context, id string) (*workflows.IncidentState, error) {
	c := r.Client()
	if c == nil {
		return nil, ErrUnavailable
	}
	v, err := c.QueryWorkflow(ctx, id, "", workflows.QueryIncident)
	if err != nil {
		return nil, classify(err)
	}
	var st workflows.IncidentState
	if err := v.Get(&st); err != nil {
		return nil, fmt.Errorf("decode incident %s: %w", id, err)
	}
	return &st, nil
}

func classify(err error) error {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return ErrNotFound
	}
	var u *serviceerror.Unavailable
	var d *serviceerror.DeadlineExceeded
	if errors.As(err, &u) || errors.As(err, &d) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return err
}

// Error types that the incident workflow's Update validators use, so that
// callers can answer with the right status.
const (
	ErrTypeForbidden = "Forbidden"
	ErrTypeConflict  = "Conflict"
)

// RejectedError is an Update that the workflow's validator refused:
// nothing was written to history.
type RejectedError struct {
	Type    string
	Message string
}

func (e *RejectedError) Error() string { return e.Message }

// Decide sends an approval vote.
func (r *Reader) Decide(ctx context.Context, id string, req workflows.DecideRequest) (*workflows.ApprovalState, error) {
	var out workflows.ApprovalState
	if err := r.update(ctx, id, workflows.UpdateDecide, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Close closes the incident, running its pending undos.
func (r *Reader) Close(ctx context.Context, id string, req workflows.LifecycleRequest) (*workflows.IncidentState, error) {
	var out workflows.IncidentState
	if err := r.update(ctx, id, workflows.UpdateClose, req, &out); err != nil {
		return nil, err
	}
	out.Seen = nil
	return &out, nil
}

// Reopen reopens a closed incident.
func (r *Reader) Reopen(ctx context.Context, id string, req workflows.LifecycleRequest) (*workflows.IncidentState, error) {
	var out workflows.IncidentState
	if err := r.update(ctx, id, workflows.UpdateReopen, req, &out); err != nil {
		return nil, err
	}
	out.Seen = nil
	return &out, nil
}

func (r *Reader) update(ctx context.Context, id, name string, arg, out any) error {
	c := r.Client()
	if c == nil {
		return ErrUnavailable
	}
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, out)
	}
	if err != nil {
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) {
			return &RejectedError{Type: appErr.Type(), Message: appErr.Message()}
		}
		return classify(err)
	}
	return nil
}

// Audit adds an entry to the incident's timeline (a refused attempt, say).
// It is a signal, so it records only the entry, never a decision.
func (r *Reader) Audit(ctx context.Context, id string, e workflows.TimelineEntry) error {
	c := r.Client()
	if c == nil {
		return ErrUnavailable
	}
	return classify(c.SignalWorkflow(ctx, id, "", workflows.SignalAudit, e))
}
