package deadlines

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/api/serviceerror"

	"github.com/riposte-soar/riposte/workflows"
)

// TestCollectorReadsVisibilityOnly: 3,000 obligations in every status;
// the scrape pages visibility, runs no Query and exports exact figures.
func TestCollectorReadsVisibilityOnly(t *testing.T) {
	f := &fakeTemporal{}
	n := 0
	add := func(regime, stage, status string, due *time.Time) {
		n++
		id := fmt.Sprintf("dl-inc-%05d-%s", n, stage)
		// A state behind the Query too, which the collector must not ask for.
		f.add(row{id: id, incidentID: fmt.Sprintf("inc-%05d", n), regime: regime, stage: stage, status: status, due: due},
			&workflows.DeadlineState{ID: id, Regime: regime, StageID: stage, Status: status, DueAt: due})
	}
	for i := range 1200 {
		if i < 10 { // late: the soonest was due 2 h 9 min ago
			add("gdpr", "gdpr-art33-initial", workflows.ObligationLate, tp(now.Add(-2*time.Hour-time.Duration(i)*time.Minute)))
			continue
		}
		add("gdpr", "gdpr-art33-initial", workflows.ObligationOpen, tp(now.Add(time.Hour+time.Duration(i)*time.Minute)))
	}
	for i := range 99 {
		add("gdpr", "gdpr-art34-data-subjects", workflows.ObligationOpen, tp(now.Add(time.Duration(i+1)*30*time.Second)))
	}
	// Due 90.7 s ago, still open in visibility: its timer has not fired
	// (worker busy or stopped). Overdue all the same.
	add("gdpr", "gdpr-art34-data-subjects", workflows.ObligationOpen, tp(now.Add(-90700*time.Millisecond)))
	for i := range 800 {
		add("nis2", "nis2-early-warning", workflows.ObligationOpen, tp(now.Add(30*time.Minute+time.Duration(i)*time.Second+500*time.Millisecond)))
	}
	for i := range 600 {
		switch {
		case i < 300:
			add("nis2", "nis2-incident-notification", workflows.ObligationSubmitted, tp(now.Add(-time.Hour)))
		case i < 305:
			add("nis2", "nis2-incident-notification", workflows.ObligationSubmittedLate, tp(now.Add(-5*time.Hour)))
		default:
			add("nis2", "nis2-incident-notification", workflows.ObligationWaiting, nil)
		}
	}
	for i := range 300 {
		if i < 150 {
			add("nis2", "nis2-final", workflows.ObligationCancelled, tp(now.Add(-time.Hour)))
		} else {
			add("nis2", "nis2-final", workflows.ObligationDeferred, tp(now.Add(-time.Hour)))
		}
	}
	if n != 3000 {
		t.Fatalf("%d obligations, want 3000", n)
	}

	c := &Collector{S: f.service(), Now: func() time.Time { return now }}
	want := []string{
		`riposte_deadline_seconds_remaining{regime="gdpr",stage="gdpr-art33-initial"} -7740`,
		`riposte_deadline_seconds_remaining{regime="gdpr",stage="gdpr-art34-data-subjects"} -90`,
		`riposte_deadline_seconds_remaining{regime="nis2",stage="nis2-early-warning"} 1800`,
		`riposte_deadlines_open{regime="gdpr"} 1300`,
		`riposte_deadlines_open{regime="nis2"} 800`,
		`riposte_deadlines_overdue 11`,
		`riposte_deadlines_submitted_late 5`,
	}
	if got := scrape(t, c); !slices.Equal(got, want) {
		t.Fatalf("series:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if q := f.queries.Load(); q != 0 {
		t.Fatalf("the scrape ran %d workflow queries, want 0", q)
	}
	if l := f.lists.Load(); l != 3 {
		t.Fatalf("the scrape read %d visibility pages, want 3", l)
	}
	// Only the statuses the series count are asked of visibility.
	wantQ := "WorkflowType = 'DeadlineWorkflow' AND RiposteStatus IN ('open', 'late', 'submitted_late')"
	for _, q := range f.listQueries {
		if q != wantQ {
			t.Fatalf("visibility query %q, want %q", q, wantQ)
		}
	}
}

func TestCollectorExportsNothingWhenTemporalFails(t *testing.T) {
	f := &fakeTemporal{listErr: serviceerror.NewUnavailable("frontend is not reachable")}
	f.add(row{id: "dl-1", regime: "gdpr", stage: "gdpr-art33-initial", status: workflows.ObligationOpen, due: tp(now)}, nil)
	c := &Collector{S: f.service(), Now: func() time.Time { return now }}
	if got := scrape(t, c); len(got) != 0 {
		t.Fatalf("exported %q while Temporal is away, want nothing", got)
	}
}

// scrape registers c alone and returns its series as sorted
// `name{labels} value` lines.
func scrape(t *testing.T, c prometheus.Collector) []string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			name := mf.GetName()
			if len(labels) > 0 {
				name += "{" + strings.Join(labels, ",") + "}"
			}
			out = append(out, fmt.Sprintf("%s %g", name, m.GetGauge().GetValue()))
		}
	}
	slices.Sort(out)
	return out
}

func BenchmarkCollect(b *testing.B) {
	f := &fakeTemporal{}
	for i := range 10000 {
		id := fmt.Sprintf("dl-inc-%05d-gdpr-art33-initial", i)
		f.add(row{id: id, incidentID: fmt.Sprintf("inc-%05d", i), regime: "gdpr", stage: "gdpr-art33-initial",
			status: workflows.ObligationOpen, due: tp(now.Add(time.Duration(i) * time.Minute))}, nil)
	}
	c := &Collector{S: f.service(), Now: func() time.Time { return now }}
	ch := make(chan prometheus.Metric, 16)
	go func() {
		for range ch {
		}
	}()
	for b.Loop() {
		c.Collect(ch)
	}
	close(ch)
	if q := f.queries.Load(); q != 0 {
		b.Fatalf("%d queries", q)
	}
}
