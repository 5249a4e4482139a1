package deadlines

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/riposte-soar/riposte/compliance"
	"github.com/riposte-soar/riposte/internal/incidents"
	"github.com/riposte-soar/riposte/workflows"
)

const (
	// DefaultQueryConcurrency keeps List from flooding the frontend and
	// the workers with Queries while still overlapping their latency.
	DefaultQueryConcurrency = 8
	// DefaultQueryTimeout bounds one Query: a Query waits for a worker,
	// so without a bound one stuck obligation would hold the whole list.
	DefaultQueryTimeout = 5 * time.Second
	// visibilityPageSize is the frontend's default maximum page size.
	visibilityPageSize = 1000
)

// Filter narrows a list.
type Filter struct {
	Status     string
	Regime     string
	IncidentID string
}

// Obligation is one row of the list.
type Obligation struct {
	workflows.DeadlineState
	// RemainingSeconds until due (negative when overdue); absent while
	// the stage waits to be armed.
	RemainingSeconds *int64 `json:"remaining_seconds,omitempty"`
	// Unreadable says why the obligation's Query failed. The row then
	// holds only what visibility knows: ID, incident, regime, stage,
	// status and due time.
	Unreadable string `json:"unreadable,omitempty"`
}

var safeValue = regexp.MustCompile(`^[A-Za-z0-9._:-]*$`)

// row is what visibility knows of an obligation, from the search
// attributes that DeadlineWorkflow upserts on every change of status or
// due time.
type row struct {
	id, incidentID, regime, stage, status string
	due                                   *time.Time
}

// obligation is the row as a list entry, for when the Query is not run
// or fails.
func (r row) obligation(now time.Time) Obligation {
	o := Obligation{DeadlineState: workflows.DeadlineState{
		ID: r.id, IncidentID: r.incidentID, Regime: r.regime, StageID: r.stage, Status: r.status, DueAt: r.due,
	}}
	o.RemainingSeconds = remaining(&o.DeadlineState, now)
	return o
}

func remaining(st *workflows.DeadlineState, now time.Time) *int64 {
	if st.DueAt == nil || st.Final() {
		return nil
	}
	r := int64(st.DueAt.Sub(now).Seconds())
	return &r
}

// visibilityQuery selects DeadlineWorkflows matching f plus extra
// conditions; values are validated first, so quoting them is safe.
func visibilityQuery(f Filter, extra ...string) (string, error) {
	for _, kv := range [][2]string{{"status", f.Status}, {"regime", f.Regime}, {"incident", f.IncidentID}} {
		if !safeValue.MatchString(kv[1]) {
			return "", invalidf("%s: invalid value %q", kv[0], kv[1])
		}
	}
	q := []string{fmt.Sprintf("WorkflowType = '%s'", workflows.DeadlineWorkflowName)}
	add := func(attr, v string) {
		if v != "" {
			q = append(q, fmt.Sprintf("%s = '%s'", attr, v))
		}
	}
	add(workflows.SAStatus.GetName(), f.Status)
	add(workflows.SARegime.GetName(), f.Regime)
	add(workflows.SAIncidentID.GetName(), f.IncidentID)
	return strings.Join(append(q, extra...), " AND "), nil
}

// scan pages through visibility and calls fn for every row.
func (s *Service) scan(ctx context.Context, c client.Client, query string, fn func(row)) error {
	dc := converter.GetDefaultDataConverter()
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: s.Namespace, Query: query, PageSize: visibilityPageSize, NextPageToken: token,
		})
		if err != nil {
			return classify(fmt.Errorf("list deadline workflows: %w", err))
		}
		for _, e := range resp.GetExecutions() {
			fields := e.GetSearchAttributes().GetIndexedFields()
			str := func(name string) string {
				var v string
				if p, ok := fields[name]; ok {
					_ = dc.FromPayload(p, &v)
				}
				return v
			}
			r := row{
				id:         e.GetExecution().GetWorkflowId(),
				incidentID: str(workflows.SAIncidentID.GetName()),
				regime:     str(workflows.SARegime.GetName()),
				stage:      str(workflows.SAStage.GetName()),
				status:     str(workflows.SAStatus.GetName()),
			}
			if p, ok := fields[workflows.SADueAt.GetName()]; ok {
				var t time.Time
				if err := dc.FromPayload(p, &t); err == nil && !t.IsZero() {
					t = t.UTC()
					r.due = &t
				}
			}
			fn(r)
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			return nil
		}
	}
}

// List returns every obligation matching f, soonest due first, each with
// its state from the workflow's Query. The Queries run a few at a time.
// An obligation whose Query fails is listed all the same, with what
// visibility knows and the reason in Unreadable. When Temporal is
// overloaded or unreachable the error wraps incidents.ErrUnavailable.
func (s *Service) List(ctx context.Context, f Filter, now time.Time) ([]Obligation, error) {
	query, err := visibilityQuery(f)
	if err != nil {
		return nil, err
	}
	c := s.Client()
	if c == nil {
		return nil, incidents.ErrUnavailable
	}
	var rows []row
	if err := s.scan(ctx, c, query, func(r row) { rows = append(rows, r) }); err != nil {
		return nil, err
	}
	out, err := s.readAll(ctx, c, rows, now)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b Obligation) int {
		switch {
		case compliance.DueBefore(a.DueAt, a.ID, b.DueAt, b.ID):
			return -1
		case compliance.DueBefore(b.DueAt, b.ID, a.DueAt, a.ID):
			return 1
		}
		return 0
	})
	return out, nil
}

// readAll queries every row with at most QueryConcurrency Queries in
// flight. After as many Queries in a row time out (workers down, say) it
// stops querying and lists the rest from visibility, so a board of
// thousands of obligations answers in a few timeouts, not thousands.
func (s *Service) readAll(ctx context.Context, c client.Client, rows []row, now time.Time) ([]Obligation, error) {
	workers := s.QueryConcurrency
	if workers <= 0 {
		workers = DefaultQueryConcurrency
	}
	timeout := s.QueryTimeout
	if timeout <= 0 {
		timeout = DefaultQueryTimeout
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	out := make([]Obligation, len(rows))
	var (
		timeouts atomic.Int64
		skip     atomic.Pointer[string]
		failOnce sync.Once
		failure  error
	)
	fail := func(err error) {
		failOnce.Do(func() { failure = err; cancel() })
	}
	read := func(i int) {
		r := rows[i]
		if reason := skip.Load(); reason != nil {
			out[i] = r.obligation(now)
			out[i].Unreadable = *reason
			return
		}
		qctx, qcancel := context.WithTimeout(ctx, timeout)
		st, err := s.query(qctx, c, r.id)
		qcancel()
		if err == nil {
			timeouts.Store(0)
			out[i] = Obligation{DeadlineState: *st, RemainingSeconds: remaining(st, now)}
			return
		}
		out[i] = r.obligation(now)
		switch {
		case ctx.Err() != nil:
			// The caller gave up, or another Query found Temporal
			// overloaded: the list as a whole fails below.
		case overloaded(err):
			fail(fmt.Errorf("%w: query %s: %v", incidents.ErrUnavailable, r.id, err))
		case timedOut(err):
			out[i].Unreadable = fmt.Sprintf("query timed out after %s: %v", timeout, err)
			if n := timeouts.Add(1); n >= int64(workers) {
				reason := fmt.Sprintf("not queried: %d queries in a row timed out (are the workers running?)", n)
				skip.CompareAndSwap(nil, &reason)
			}
		default:
			out[i].Unreadable = "query failed: " + err.Error()
		}
	}

	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(rows)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				read(i)
			}
		}()
	}
feed:
	for i := range rows {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if failure != nil {
		return nil, failure
	}
	if err := ctx.Err(); err != nil {
		return nil, classify(fmt.Errorf("query obligations: %w", err))
	}
	return out, nil
}

// query runs the obligation's Query, errors unclassified.
func (s *Service) query(ctx context.Context, c client.Client, id string) (*workflows.DeadlineState, error) {
	v, err := c.QueryWorkflow(ctx, id, "", workflows.QueryDeadline)
	if err != nil {
		return nil, err
	}
	var st workflows.DeadlineState
	if err := v.Get(&st); err != nil {
		return nil, fmt.Errorf("decode state: %w", err)
	}
	return &st, nil
}

// overloaded reports whether Temporal as a whole refuses service, as
// opposed to one workflow being busy or slow.
func overloaded(err error) bool {
	var u *serviceerror.Unavailable
	if errors.As(err, &u) {
		return true
	}
	var re *serviceerror.ResourceExhausted
	return errors.As(err, &re) && re.Cause != enumspb.RESOURCE_EXHAUSTED_CAUSE_BUSY_WORKFLOW
}

func timedOut(err error) bool {
	var d *serviceerror.DeadlineExceeded
	return errors.As(err, &d) || errors.Is(err, context.DeadlineExceeded)
}

// classify marks failures the caller should retry later with
// incidents.ErrUnavailable and a missing workflow with
// incidents.ErrNotFound.
func classify(err error) error {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return incidents.ErrNotFound
	}
	var nsnf *serviceerror.NamespaceNotFound
	if overloaded(err) || timedOut(err) || errors.As(err, &nsnf) {
		return fmt.Errorf("%w: %v", incidents.ErrUnavailable, err)
	}
	return err
}
