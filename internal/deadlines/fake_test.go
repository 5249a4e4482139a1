package deadlines

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/riposte-soar/riposte/workflows"
)

// fakeTemporal answers visibility from rows built with the search
// attributes DeadlineWorkflow upserts, and Queries from states. It pages
// like the frontend (at most 1000 rows a page) and counts every call.
type fakeTemporal struct {
	client.Client

	rows     []*workflowpb.WorkflowExecutionInfo
	states   map[string]workflows.DeadlineState
	queryErr map[string]error
	listErr  error
	// queryDelay is each Query's latency; hang makes Queries wait for
	// their context.
	queryDelay time.Duration
	hang       bool

	lists, queries        atomic.Int64
	inflight, maxInflight atomic.Int64
	mu                    sync.Mutex
	listQueries           []string
}

// add records an obligation in visibility and, unless st is nil, its state
// behind the Query.
func (f *fakeTemporal) add(o row, st *workflows.DeadlineState) {
	dc := converter.GetDefaultDataConverter()
	fields := map[string]*commonpb.Payload{}
	set := func(name string, v any) {
		p, err := dc.ToPayload(v)
		if err != nil {
			panic(err)
		}
		fields[name] = p
	}
	set(workflows.SAIncidentID.GetName(), o.incidentID)
	set(workflows.SARegime.GetName(), o.regime)
	set(workflows.SAStage.GetName(), o.stage)
	set(workflows.SAStatus.GetName(), o.status)
	if o.due != nil {
		set(workflows.SADueAt.GetName(), *o.due)
	}
	f.rows = append(f.rows, &workflowpb.WorkflowExecutionInfo{
		Execution:        &commonpb.WorkflowExecution{WorkflowId: o.id, RunId: "run-" + o.id},
		Type:             &commonpb.WorkflowType{Name: workflows.DeadlineWorkflowName},
		SearchAttributes: &commonpb.SearchAttributes{IndexedFields: fields},
	})
	if st != nil {
		if f.states == nil {
			f.states = map[string]workflows.DeadlineState{}
		}
		f.states[o.id] = *st
	}
}

func (f *fakeTemporal) ListWorkflow(_ context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	f.lists.Add(1)
	f.mu.Lock()
	f.listQueries = append(f.listQueries, req.GetQuery())
	f.mu.Unlock()
	if f.listErr != nil {
		return nil, f.listErr
	}
	size := int(req.GetPageSize())
	if size <= 0 || size > 1000 {
		size = 1000
	}
	from := 0
	if t := req.GetNextPageToken(); len(t) > 0 {
		var err error
		if from, err = strconv.Atoi(string(t)); err != nil {
			return nil, serviceerror.NewInvalidArgument("bad page token")
		}
	}
	to := min(from+size, len(f.rows))
	resp := &workflowservice.ListWorkflowExecutionsResponse{Executions: f.rows[from:to]}
	if to < len(f.rows) {
		resp.NextPageToken = []byte(strconv.Itoa(to))
	}
	return resp, nil
}

func (f *fakeTemporal) QueryWorkflow(ctx context.Context, id, _ string, queryType string, _ ...any) (converter.EncodedValue, error) {
	f.queries.Add(1)
	n := f.inflight.Add(1)
	defer f.inflight.Add(-1)
	for {
		m := f.maxInflight.Load()
		if n <= m || f.maxInflight.CompareAndSwap(m, n) {
			break
		}
	}
	if queryType != workflows.QueryDeadline {
		return nil, serviceerror.NewInvalidArgument("unknown query type " + queryType)
	}
	if f.hang {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if f.queryDelay > 0 {
		select {
		case <-time.After(f.queryDelay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err := f.queryErr[id]; err != nil {
		return nil, err
	}
	st, ok := f.states[id]
	if !ok {
		return nil, serviceerror.NewNotFound("workflow not found for ID: " + id)
	}
	p, err := converter.GetDefaultDataConverter().ToPayload(st)
	if err != nil {
		return nil, err
	}
	return encoded{p}, nil
}

type encoded struct{ p *commonpb.Payload }

func (e encoded) HasValue() bool { return e.p != nil }
func (e encoded) Get(v any) error {
	return converter.GetDefaultDataConverter().FromPayload(e.p, v)
}

func (f *fakeTemporal) service() *Service {
	return &Service{Client: func() client.Client { return f }, Namespace: "default"}
}

func tp(t time.Time) *time.Time { return &t }
