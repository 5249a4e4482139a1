// Package deadlines starts, lists and settles regulatory obligations: one
// DeadlineWorkflow per incident × stage. Lists come from visibility over the
// workflows' search attributes and state from their Query; the metrics read
// visibility alone. Nothing is kept here.
package deadlines

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/riposte-soar/riposte/compliance"
	"github.com/riposte-soar/riposte/internal/incidents"
	"github.com/riposte-soar/riposte/workflows"
)

// Service manages obligations.
type Service struct {
	Client    func() client.Client
	Namespace string
	TaskQueue string
	Catalogue *compliance.Catalogue
	// Policy holds the company targets for stages without a legal period.
	Policy compliance.PolicyTargets
	// QueryConcurrency bounds the Queries that List runs at once; zero
	// is DefaultQueryConcurrency.
	QueryConcurrency int
	// QueryTimeout bounds each of List's Queries; zero is
	// DefaultQueryTimeout.
	QueryTimeout time.Duration
}

// ErrInvalid marks errors in what the caller asked for (a bad incident ID,
// an unknown regime, a filter value), as opposed to Temporal failing.
var ErrInvalid = errors.New("invalid request")

type invalidError struct {
	msg string
	err error
}

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Unwrap() error        { return e.err }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, a ...any) error {
	err := fmt.Errorf(format, a...)
	return &invalidError{msg: err.Error(), err: errors.Unwrap(err)}
}

// StartRequest starts the clocks of some regimes or stages for an incident
// (one handled in Riposte or outside it).
type StartRequest struct {
	IncidentID string            `json:"incident_id"`
	Regimes    []string          `json:"regimes"`
	Events     compliance.Events `json:"events"`
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// WorkflowID is the obligation's ID: one per incident and stage, so that
// starting the same clocks twice starts nothing new.
func WorkflowID(incidentID, stageID string) string { return "dl-" + incidentID + "-" + stageID }

// Start starts a DeadlineWorkflow for every stage of the regimes that the
// events arm, and for the stages chained on them (waiting until armed).
func (s *Service) Start(ctx context.Context, req StartRequest) ([]string, error) {
	if !idPattern.MatchString(req.IncidentID) {
		return nil, invalidf("incident_id: must be 1 to 128 letters, digits, '.', '_', ':' or '-'")
	}
	if len(req.Regimes) == 0 {
		return nil, invalidf("regimes: at least one regime or stage id is required")
	}
	c := s.Client()
	if c == nil {
		return nil, incidents.ErrUnavailable
	}
	var started []string
	seen := map[string]bool{}
	for _, regime := range req.Regimes {
		plans, err := s.Catalogue.Plan(regime, req.Events, s.Policy)
		if err != nil {
			return started, invalidf("regimes: %s: %w", regime, err)
		}
		for _, p := range plans {
			if seen[p.ID] {
				continue
			}
			seen[p.ID] = true
			stage, _ := s.Catalogue.Stage(p.ID)
			id := WorkflowID(req.IncidentID, p.ID)
			_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID: id, TaskQueue: s.TaskQueue,
				// The same obligation is never started twice.
				WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
				WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			}, workflows.DeadlineWorkflowName, workflows.DeadlineInput{
				ID: id, IncidentID: req.IncidentID, Stage: stage, CatalogueVersion: s.Catalogue.Version, Events: req.Events, Policy: s.Policy,
			})
			var already *serviceerror.WorkflowExecutionAlreadyStarted
			if err != nil && !errors.As(err, &already) {
				return started, classify(fmt.Errorf("start %s: %w", id, err))
			}
			started = append(started, id)
		}
	}
	return started, nil
}

// Get queries one obligation.
func (s *Service) Get(ctx context.Context, id string) (*workflows.DeadlineState, error) {
	c := s.Client()
	if c == nil {
		return nil, incidents.ErrUnavailable
	}
	v, err := c.QueryWorkflow(ctx, id, "", workflows.QueryDeadline)
	if err != nil {
		return nil, classify(fmt.Errorf("query %s: %w", id, err))
	}
	var st workflows.DeadlineState
	if err := v.Get(&st); err != nil {
		return nil, fmt.Errorf("decode %s: %w", id, err)
	}
	return &st, nil
}

// update runs an obligation's Update and maps a validator's refusal.
func (s *Service) update(ctx context.Context, id, name string, arg any) (*workflows.DeadlineState, error) {
	c := s.Client()
	if c == nil {
		return nil, incidents.ErrUnavailable
	}
	var st workflows.DeadlineState
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: name,
		WaitForStage: client.WorkflowUpdateStageCompleted, Args: []any{arg}})
	if err == nil {
		err = h.Get(ctx, &st)
	}
	if err != nil {
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) {
			return nil, &incidents.RejectedError{Type: appErr.Type(), Message: appErr.Message()}
		}
		return nil, classify(fmt.Errorf("%s %s: %w", name, id, err))
	}
	return &st, nil
}

// Defer records a deferral request (its legal basis and document).
func (s *Service) Defer(ctx context.Context, id string, req workflows.DeferRequest) (*workflows.DeadlineState, error) {
	return s.update(ctx, id, workflows.UpdateDefer, req)
}

// Cancel ends an obligation with a reason; the record is kept.
func (s *Service) Cancel(ctx context.Context, id string, req workflows.CancelRequest) (*workflows.DeadlineState, error) {
	return s.update(ctx, id, workflows.UpdateCancel, req)
}

// Submit records a submission, then arms the stages chained on it.
func (s *Service) Submit(ctx context.Context, id string, req workflows.SubmitRequest) (*workflows.DeadlineState, error) {
	stp, err := s.update(ctx, id, workflows.UpdateSubmit, req)
	if err != nil {
		return nil, err
	}
	st := *stp
	c := s.Client()
	event := "submitted:" + st.StageID
	for _, next := range s.Catalogue.Stages {
		if next.Trigger != event {
			continue
		}
		nid := WorkflowID(st.IncidentID, next.ID)
		h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: nid, UpdateName: workflows.UpdateEvent,
			WaitForStage: client.WorkflowUpdateStageCompleted,
			Args:         []any{workflows.EventRequest{Name: event, At: req.SubmittedAt, By: req.SubmittedBy}}})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		var nf *serviceerror.NotFound
		if err != nil && !errors.As(err, &nf) {
			return &st, fmt.Errorf("arm %s: %w", nid, err)
		}
	}
	return &st, nil
}

// StartClocks is the compliance.start_clocks action: it starts the clocks
// of the regimes for an incident.
func (s *Service) StartClocks(ctx context.Context, incidentID string, regimes []string, events map[string]time.Time) ([]string, error) {
	return s.Start(ctx, StartRequest{IncidentID: incidentID, Regimes: regimes, Events: compliance.Events(events)})
}
