package deadlines

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/client"

	"github.com/riposte-soar/riposte/internal/incidents"
	"github.com/riposte-soar/riposte/workflows"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// manyObligations records n obligations in visibility in a shuffled order,
// with due times that repeat (so the ID breaks ties) and some waiting
// ones with none; each has a state behind its Query.
func manyObligations(n int) *fakeTemporal {
	f := &fakeTemporal{queryErr: map[string]error{}}
	rng := rand.New(rand.NewPCG(7, 11))
	for _, i := range rng.Perm(n) {
		r := row{
			id: fmt.Sprintf("dl-inc-%05d-gdpr-art33-initial", i), incidentID: fmt.Sprintf("inc-%05d", i),
			regime: "gdpr", stage: "gdpr-art33-initial", status: workflows.ObligationOpen,
		}
		switch {
		case i%50 == 0:
			r.status, r.stage = workflows.ObligationWaiting, "nis2-final"
		case i%7 == 0:
			r.status, r.due = workflows.ObligationLate, tp(now.Add(-time.Duration(i%13)*time.Hour))
		default:
			r.due = tp(now.Add(time.Duration(i%997) * time.Minute))
		}
		f.add(r, &workflows.DeadlineState{
			ID: r.id, IncidentID: r.incidentID, StageID: r.stage, Regime: r.regime, Status: r.status, DueAt: r.due,
			Recipient: "supervisory authority", CatalogueVersion: "2026.11.23-2",
			History: []workflows.TimelineEntry{{At: now.Add(-time.Hour), Actor: "riposte", Kind: "started"}},
		})
	}
	return f
}

// wantOrder sorts IDs by due time, then ID, with no due time last: the
// order List must give, computed without compliance.DueBefore.
func wantOrder(f *fakeTemporal) []string {
	type k struct {
		id  string
		due time.Time
	}
	var ks []k
	for id, st := range f.states {
		d := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		if st.DueAt != nil {
			d = *st.DueAt
		}
		ks = append(ks, k{id, d})
	}
	slices.SortFunc(ks, func(a, b k) int {
		if c := a.due.Compare(b.due); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	out := make([]string, len(ks))
	for i, x := range ks {
		out[i] = x.id
	}
	return out
}

func ids(list []Obligation) []string {
	out := make([]string, len(list))
	for i, o := range list {
		out[i] = o.ID
	}
	return out
}

func TestListReturnsEveryObligationSorted(t *testing.T) {
	const n = 2500
	f := manyObligations(n)
	f.queryDelay = time.Millisecond
	// Three that cannot be read, for different reasons.
	broken := map[string]string{
		"dl-inc-00003-gdpr-art33-initial": "query failed: deadline query handler panicked",
		"dl-inc-00010-gdpr-art33-initial": "query failed: workflow is busy",
		"dl-inc-00014-gdpr-art33-initial": "query failed: workflow not found",
	}
	f.queryErr["dl-inc-00003-gdpr-art33-initial"] = serviceerror.NewQueryFailed("deadline query handler panicked")
	f.queryErr["dl-inc-00010-gdpr-art33-initial"] = serviceerror.NewResourceExhausted(enumspb.RESOURCE_EXHAUSTED_CAUSE_BUSY_WORKFLOW, "workflow is busy")
	want := wantOrder(f)
	delete(f.states, "dl-inc-00014-gdpr-art33-initial") // gone between list and query

	s := f.service()
	start := time.Now()
	list, err := s.List(context.Background(), Filter{}, now)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("listed %d obligations (%d visibility pages, %d queries, at most %d at once, 1 ms each) in %s",
		len(list), f.lists.Load(), f.queries.Load(), f.maxInflight.Load(), elapsed)
	if !slices.Equal(ids(list), want) {
		t.Fatalf("listed %d obligations, want %d in due order; first 5: %v, want %v", len(list), len(want), ids(list)[:5], want[:5])
	}
	if got := f.lists.Load(); got != 3 {
		t.Errorf("visibility pages: %d, want 3 (1000 a page)", got)
	}
	if got := f.queries.Load(); got != n {
		t.Errorf("queries: %d, want %d (one per obligation)", got, n)
	}
	if m := f.maxInflight.Load(); m > DefaultQueryConcurrency || m < 2 {
		t.Errorf("queries in flight at once: %d, want 2..%d", m, DefaultQueryConcurrency)
	}
	unreadable := 0
	for _, o := range list {
		reason, isBroken := broken[o.ID]
		if !isBroken {
			if o.Unreadable != "" || o.Recipient != "supervisory authority" || len(o.History) != 1 {
				t.Fatalf("%s: not the queried state: %+v", o.ID, o)
			}
			continue
		}
		unreadable++
		// What visibility knows, and why the rest is missing.
		if !strings.HasPrefix(o.Unreadable, reason) || o.IncidentID == "" || o.Regime != "gdpr" || o.StageID != "gdpr-art33-initial" ||
			o.Status == "" || o.DueAt == nil || o.RemainingSeconds == nil || o.Recipient != "" {
			t.Fatalf("%s: %+v, want the visibility row with unreadable %q", o.ID, o, reason)
		}
		if wantLeft := int64(o.DueAt.Sub(now).Seconds()); *o.RemainingSeconds != wantLeft {
			t.Fatalf("%s: remaining %d, want %d", o.ID, *o.RemainingSeconds, wantLeft)
		}
	}
	if unreadable != len(broken) {
		t.Fatalf("unreadable obligations listed: %d, want %d", unreadable, len(broken))
	}
	// The waiting ones (no due time) come last.
	if last := list[len(list)-1]; last.DueAt != nil || last.Status != workflows.ObligationWaiting || last.RemainingSeconds != nil {
		t.Fatalf("last: %+v, want a waiting obligation", last)
	}
}

func TestListFilterQuery(t *testing.T) {
	f := manyObligations(3)
	if _, err := f.service().List(context.Background(), Filter{Status: "open", Regime: "nis2", IncidentID: "inc-7"}, now); err != nil {
		t.Fatal(err)
	}
	want := "WorkflowType = 'DeadlineWorkflow' AND RiposteStatus = 'open' AND RiposteRegime = 'nis2' AND RiposteIncidentID = 'inc-7'"
	if len(f.listQueries) != 1 || f.listQueries[0] != want {
		t.Fatalf("visibility queries %q, want [%q]", f.listQueries, want)
	}
	_, err := f.service().List(context.Background(), Filter{Regime: "x' OR 1=1"}, now)
	if !errors.Is(err, ErrInvalid) || err.Error() != `regime: invalid value "x' OR 1=1"` {
		t.Fatalf("bad filter: %v, want ErrInvalid naming the regime", err)
	}
}

func TestListOverloadedIsUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name             string
		listErr, oneErr  error
		wantUnavailable  bool
		wantQueriesBelow int64
	}{
		{name: "visibility resource exhausted", listErr: serviceerror.NewResourceExhausted(enumspb.RESOURCE_EXHAUSTED_CAUSE_SYSTEM_OVERLOADED, "system overloaded"), wantUnavailable: true, wantQueriesBelow: 1},
		{name: "visibility unavailable", listErr: serviceerror.NewUnavailable("frontend is not reachable"), wantUnavailable: true, wantQueriesBelow: 1},
		{name: "visibility deadline exceeded", listErr: serviceerror.NewDeadlineExceeded("context deadline exceeded"), wantUnavailable: true, wantQueriesBelow: 1},
		{name: "visibility refuses the query", listErr: serviceerror.NewInvalidArgument("invalid query"), wantUnavailable: false, wantQueriesBelow: 1},
		// One Query told the frontend is overloaded: stop querying and
		// answer 503 rather than press on with thousands more.
		{name: "query rate limited", oneErr: serviceerror.NewResourceExhausted(enumspb.RESOURCE_EXHAUSTED_CAUSE_RPS_LIMIT, "namespace rate limit exceeded"), wantUnavailable: true, wantQueriesBelow: 100},
		{name: "query unavailable", oneErr: serviceerror.NewUnavailable("history service unavailable"), wantUnavailable: true, wantQueriesBelow: 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := manyObligations(1500)
			f.listErr = tc.listErr
			f.queryDelay = time.Millisecond
			if tc.oneErr != nil {
				f.queryErr["dl-inc-00100-gdpr-art33-initial"] = tc.oneErr
				// Visibility order is shuffled; make it the first one queried.
				i := slices.IndexFunc(f.rows, func(r *workflowpb.WorkflowExecutionInfo) bool {
					return r.GetExecution().GetWorkflowId() == "dl-inc-00100-gdpr-art33-initial"
				})
				f.rows[0], f.rows[i] = f.rows[i], f.rows[0]
			}
			list, err := f.service().List(context.Background(), Filter{}, now)
			if err == nil || list != nil {
				t.Fatalf("list: %d rows, err %v; want an error", len(list), err)
			}
			if got := errors.Is(err, incidents.ErrUnavailable); got != tc.wantUnavailable {
				t.Fatalf("err %v: unavailable %v, want %v", err, got, tc.wantUnavailable)
			}
			if q := f.queries.Load(); q >= tc.wantQueriesBelow {
				t.Fatalf("%d queries, want fewer than %d", q, tc.wantQueriesBelow)
			}
		})
	}
	s := &Service{Client: func() client.Client { return nil }}
	if _, err := s.List(context.Background(), Filter{}, now); !errors.Is(err, incidents.ErrUnavailable) {
		t.Fatalf("no client yet: %v, want ErrUnavailable", err)
	}
}

// TestListStopsQueryingWhenQueriesTimeOut: with no worker to answer,
// every Query times out; after a handful List stops querying and lists
// the rest from visibility, each saying why.
func TestListStopsQueryingWhenQueriesTimeOut(t *testing.T) {
	const n = 200
	f := manyObligations(n)
	f.hang = true
	s := f.service()
	s.QueryTimeout = 20 * time.Millisecond
	list, err := s.List(context.Background(), Filter{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != n {
		t.Fatalf("listed %d, want %d", len(list), n)
	}
	if q := f.queries.Load(); q < DefaultQueryConcurrency || q > 2*DefaultQueryConcurrency {
		t.Fatalf("%d queries, want between %d and %d", q, DefaultQueryConcurrency, 2*DefaultQueryConcurrency)
	}
	timedOut, skipped := 0, 0
	for _, o := range list {
		switch {
		case strings.HasPrefix(o.Unreadable, "query timed out after 20ms: "):
			timedOut++
		case strings.HasPrefix(o.Unreadable, "not queried: "):
			skipped++
		default:
			t.Fatalf("%s: unreadable %q", o.ID, o.Unreadable)
		}
		if o.Status == "" || o.Regime != "gdpr" {
			t.Fatalf("%s: visibility fields missing: %+v", o.ID, o)
		}
	}
	if int64(timedOut) != f.queries.Load() || timedOut+skipped != n {
		t.Fatalf("%d timed out, %d skipped, %d queries", timedOut, skipped, f.queries.Load())
	}
}

func TestListHonoursContext(t *testing.T) {
	f := manyObligations(500)
	f.hang = true
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	list, err := f.service().List(ctx, Filter{}, now)
	if list != nil || !errors.Is(err, incidents.ErrUnavailable) {
		t.Fatalf("list after the caller's deadline: %d rows, %v; want ErrUnavailable", len(list), err)
	}
	if q := f.queries.Load(); q > DefaultQueryConcurrency {
		t.Fatalf("%d queries started, want at most %d", q, DefaultQueryConcurrency)
	}
}

func BenchmarkList(b *testing.B) {
	for _, conc := range []int{1, DefaultQueryConcurrency} {
		b.Run(fmt.Sprintf("n=10000/1ms-query/concurrency=%d", conc), func(b *testing.B) {
			f := manyObligations(10000)
			f.queryDelay = time.Millisecond
			s := f.service()
			s.QueryConcurrency = conc
			for b.Loop() {
				if _, err := s.List(context.Background(), Filter{}, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
