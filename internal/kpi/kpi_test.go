package kpi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/riposte-soar/riposte/activities"
	"github.com/riposte-soar/riposte/alerts"
	"github.com/riposte-soar/riposte/internal/deadlines"
	"github.com/riposte-soar/riposte/internal/incidents"
	"github.com/riposte-soar/riposte/internal/kpi"
	"github.com/riposte-soar/riposte/playbooks"
	"github.com/riposte-soar/riposte/workflows"
)

// integrations stand in for the real ones as an unconfigured install
// answers: no threat intel, no ticketing; the firewall works unless told.
type integrations struct{ failUndo bool }

func (i *integrations) RunAction(ctx context.Context, req activities.ActionRequest) (activities.ActionResult, error) {
	switch {
	case strings.HasPrefix(req.Name, "enrich."), strings.HasPrefix(req.Name, "ticket."):
		return activities.ActionResult{}, temporal.NewNonRetryableApplicationError(req.Name+": not configured", activities.ErrTypeNotConfigured, nil)
	case req.Undo && i.failUndo:
		return activities.ActionResult{}, temporal.NewNonRetryableApplicationError("firewall: connection refused", "Unavailable", nil)
	}
	return activities.ActionResult{Output: map[string]any{"ok": true}}, nil
}

func (i *integrations) NotifyApproval(ctx context.Context, n activities.ApprovalNotice) (activities.ChatRef, error) {
	return activities.ChatRef{Channel: "C1", TS: "1.0001"}, nil
}

// event happens at an offset from the incident's creation.
type event struct {
	after time.Duration
	do    func(env *testsuite.TestWorkflowEnvironment, t *testing.T)
}

func decide(step, decision, by, role string) func(*testsuite.TestWorkflowEnvironment, *testing.T) {
	return update(workflows.UpdateDecide, workflows.DecideRequest{Step: step, Decision: decision, By: by, Roles: []string{role}})
}

func closeBy(by string) func(*testsuite.TestWorkflowEnvironment, *testing.T) {
	return update(workflows.UpdateClose, workflows.LifecycleRequest{By: by, Roles: []string{"responder"}, Reason: "done"})
}

func update(name string, arg any) func(*testsuite.TestWorkflowEnvironment, *testing.T) {
	return func(env *testsuite.TestWorkflowEnvironment, t *testing.T) {
		env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { t.Errorf("update %s %+v rejected: %v", name, arg, err) },
			OnAccept:   func() {},
			OnComplete: func(any, error) {},
		}, arg)
	}
}

func resolveAlert(a alerts.Alert) func(*testsuite.TestWorkflowEnvironment, *testing.T) {
	return func(env *testsuite.TestWorkflowEnvironment, t *testing.T) {
		a.Status, a.ObservedAt = alerts.StatusResolved, env.Now()
		env.SignalWorkflow(workflows.SignalAlert, a)
	}
}

// runIncident runs the real IncidentWorkflow from created, with its first
// alert observed detectDelay earlier, and returns its final state.
func runIncident(t *testing.T, id string, created time.Time, detectDelay time.Duration, sev alerts.Severity,
	pb *playbooks.Playbook, ints *integrations, events ...event) workflows.IncidentState {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(created)
	env.RegisterWorkflowWithOptions(workflows.IncidentWorkflow, workflow.RegisterOptions{Name: workflows.IncidentWorkflowName})
	env.RegisterActivityWithOptions(ints.RunAction, activity.RegisterOptions{Name: activities.ActivityRunAction})
	env.RegisterActivityWithOptions(ints.NotifyApproval, activity.RegisterOptions{Name: activities.ActivityNotifyApproval})
	a := alerts.Alert{ID: "wazuh:" + id, Source: "wazuh", Title: "sshd: authentication failed", Severity: sev, Status: alerts.StatusFiring,
		ObservedAt: created.Add(-detectDelay), Observables: []alerts.Observable{{Type: alerts.ObsIP, Value: "203.0.113.7"}}}
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.SignalAlert, a) }, 0)
	for _, e := range events {
		env.RegisterDelayedCallback(func() { e.do(env, t) }, e.after)
	}
	in := workflows.IncidentInput{ID: id, Source: "wazuh", Severity: string(sev), ReopenWindow: time.Minute}
	if pb != nil {
		in.Playbook, in.PlaybookDef = pb.Name, pb
	}
	env.ExecuteWorkflow(workflows.IncidentWorkflowName, in)
	if !env.IsWorkflowCompleted() {
		t.Fatalf("%s: workflow did not complete", id)
	}
	var st workflows.IncidentState
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	if !st.CreatedAt.Equal(created) {
		t.Fatalf("%s: created %v, want %v", id, st.CreatedAt, created)
	}
	return st
}

// fakeSource serves states as the incidents reader and deadlines service
// would, and records the filter it was asked for.
type fakeSource struct {
	states      []workflows.IncidentState
	obligations []workflows.DeadlineState
	filter      incidents.Filter
}

func (f *fakeSource) List(ctx context.Context, flt incidents.Filter) ([]incidents.Summary, error) {
	f.filter = flt
	var out []incidents.Summary
	for _, st := range f.states {
		out = append(out, incidents.Summary{ID: st.ID})
	}
	return out, nil
}

func (f *fakeSource) Get(ctx context.Context, id string) (*workflows.IncidentState, error) {
	for i := range f.states {
		if f.states[i].ID == id {
			// Through JSON, as a Query answers.
			b, _ := json.Marshal(f.states[i])
			var st workflows.IncidentState
			if err := json.Unmarshal(b, &st); err != nil {
				return nil, err
			}
			return &st, nil
		}
	}
	return nil, incidents.ErrNotFound
}

type fakeDeadlines []workflows.DeadlineState

func (f fakeDeadlines) List(ctx context.Context, flt deadlines.Filter, now time.Time) ([]deadlines.Obligation, error) {
	var out []deadlines.Obligation
	for _, o := range f {
		ob := deadlines.Obligation{DeadlineState: o}
		if strings.HasPrefix(o.ID, "unreadable-") {
			ob.Unreadable = "query failed: workflow busy"
		}
		out = append(out, ob)
	}
	return out, nil
}

func ptr[T any](v T) *T { return &v }

// TestKPIFromIncidentWorkflows runs six incidents through the real
// IncidentWorkflow and the shipped ssh-brute-force playbook with decisions
// and closes at known offsets (time skipping), then checks every figure.
func TestKPIFromIncidentWorkflows(t *testing.T) {
	pb, err := playbooks.LoadFile("../../playbooks/library/ssh-brute-force.yaml")
	if err != nil {
		t.Fatal(err)
	}
	day1 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	day2 := day1.Add(24 * time.Hour)
	ok, failUndo := &integrations{}, &integrations{failUndo: true}
	alertOf := func(id string, sev alerts.Severity) alerts.Alert {
		return alerts.Alert{ID: "wazuh:" + id, Source: "wazuh", Title: "sshd: authentication failed", Severity: sev,
			Observables: []alerts.Observable{{Type: alerts.ObsIP, Value: "203.0.113.7"}}}
	}

	var states []workflows.IncidentState
	// A: critical; approved after 5 min (block, contained), alert resolved
	// after 1 h (unblock in restore: resolved), closed after 2 h.
	aCreated := day1.Add(10 * time.Hour)
	states = append(states, runIncident(t, "inc-a", aCreated, 2*time.Minute, alerts.SeverityCritical, pb, ok,
		event{5 * time.Minute, decide("approve_block", "approve", "alice", "responder")},
		event{time.Hour, resolveAlert(alertOf("inc-a", alerts.SeverityCritical))},
		event{2 * time.Hour, closeBy("alice")}))
	// B: critical; nobody answers in 30 min, escalated, the admin approves
	// at 45 min (block, contained); closed at 50 min before the alert
	// resolves: the undo (unblock) fails.
	states = append(states, runIncident(t, "inc-b", day1.Add(14*time.Hour), 0, alerts.SeverityCritical, pb, failUndo,
		event{45 * time.Minute, decide("approve_block", "approve", "root", "admin")},
		event{50 * time.Minute, closeBy("bob")}))
	// C: high; rejected at 10 min: nothing blocked, contain and restore
	// have nothing to do, so contained and resolved at 10 min.
	states = append(states, runIncident(t, "inc-c", day2.Add(9*time.Hour), 10*time.Minute, alerts.SeverityHigh, pb, ok,
		event{10 * time.Minute, decide("approve_block", "reject", "carol", "responder")},
		event{20 * time.Minute, closeBy("carol")}))
	// D: critical, opened 10 min before the report: too young to count as
	// unactioned; closed by a person at 5 min while the approval waits.
	dCreated := day2.Add(23*time.Hour + 40*time.Minute)
	states = append(states, runIncident(t, "inc-d", dCreated, 30*time.Second, alerts.SeverityCritical, pb, ok,
		event{5 * time.Minute, closeBy("dave")}))
	// F: low, no playbook; closed by a person after 90 s.
	states = append(states, runIncident(t, "inc-f", day2.Add(12*time.Hour), 45*time.Second, alerts.SeverityLow, nil, ok,
		event{90 * time.Second, closeBy("erin")}))
	// E: before the window.
	states = append(states, runIncident(t, "inc-e", day1.Add(-time.Hour), 0, alerts.SeverityCritical, nil, ok,
		event{time.Minute, closeBy("erin")}))

	// The workflow records what the figures need.
	a := states[0]
	if len(a.Approvals) != 1 || !a.Approvals[0].RequestedAt.Equal(aCreated) || !a.Lifecycle.Acknowledged.Equal(aCreated.Add(5*time.Minute)) ||
		!a.Lifecycle.Contained.Equal(aCreated.Add(5*time.Minute)) || !a.Lifecycle.Resolved.Equal(aCreated.Add(time.Hour)) {
		t.Fatalf("incident A: approvals %+v lifecycle %+v", a.Approvals, a.Lifecycle)
	}
	if d := states[3]; !d.Lifecycle.Acknowledged.Equal(dCreated.Add(5*time.Minute)) || !d.Lifecycle.Contained.IsZero() {
		t.Fatalf("incident D (closed by a person): lifecycle %+v", d.Lifecycle)
	}

	from, to := day1, day2.Add(24*time.Hour)
	src := &fakeSource{states: states}
	obligations := fakeDeadlines{
		// Filed on time in the window.
		{ID: "dl-1", Status: workflows.ObligationSubmitted, DueAt: ptr(day1.Add(72 * time.Hour)),
			Submission: &workflows.Submission{SubmittedAt: day1.Add(20 * time.Hour), Reference: "DPA-1"}},
		// Filed late in the window.
		{ID: "dl-2", Status: workflows.ObligationSubmittedLate, DueAt: ptr(day1.Add(12 * time.Hour)),
			Submission: &workflows.Submission{SubmittedAt: day2.Add(time.Hour), Reference: "CSIRT-2", Late: true}},
		// Filed before the window.
		{ID: "dl-3", Status: workflows.ObligationSubmitted, DueAt: ptr(day1),
			Submission: &workflows.Submission{SubmittedAt: day1.Add(-time.Hour), Reference: "X"}},
		// Due in the window, nothing filed.
		{ID: "dl-4", Status: workflows.ObligationLate, DueAt: ptr(day2.Add(6 * time.Hour))},
		// Open, due after the window.
		{ID: "dl-5", Status: workflows.ObligationOpen, DueAt: ptr(to.Add(time.Hour))},
		// Its Query failed: whether it was filed is unknown, so it is left
		// out of the figures and counted as unreadable.
		{ID: "unreadable-1", Status: workflows.ObligationLate, DueAt: ptr(day2.Add(7 * time.Hour)),
			Submission: &workflows.Submission{SubmittedAt: day2, Reference: "Y"}},
	}
	now := dCreated.Add(10 * time.Minute)
	svc := &kpi.Service{Incidents: src, Deadlines: obligations, Now: func() time.Time { return now }}
	got, err := svc.Compute(context.Background(), from, to, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !src.filter.ActiveSince.Equal(from) || src.filter.Limit != kpi.MaxIncidents {
		t.Fatalf("listed with %+v", src.filter)
	}

	want := kpi.Report{
		From: from, To: to, Incidents: 5, ComputedAt: now,
		// A 120 s, B 0, C 600, D 30, F 45.
		MTTD: kpi.Stat{Count: 5, MeanSeconds: 159, P50Seconds: 45, P90Seconds: 600},
		// A 300 (decision), B 2700 (decision), C 600 (decision), D 300
		// (close), F 90 (close).
		MTTA: kpi.Stat{Count: 5, MeanSeconds: 798, P50Seconds: 300, P90Seconds: 2700},
		// A 300, B 2700, C 600.
		MTTC: kpi.Stat{Count: 3, MeanSeconds: 1200, P50Seconds: 600, P90Seconds: 2700},
		// A 3600 (resolved), B 3000 (closed), C 600 (resolved), D 300
		// (closed), F 90 (closed).
		MTTR: kpi.Stat{Count: 5, MeanSeconds: 1518, P50Seconds: 600, P90Seconds: 3600},
		// Requested at creation: A 300, B 2700, C 600.
		ApprovalResponse: kpi.Stat{Count: 3, MeanSeconds: 1200, P50Seconds: 600, P90Seconds: 2700},
		// A acted on at 5 min, B not before 45 min; D too young.
		Critical: kpi.CriticalStat{Total: 2, Unactioned: 1, Share: 0.5, AfterMinutes: 15},
		// A's restore unblock succeeded, B's undo failed.
		Recovery:      kpi.RecoveryStat{Attempted: 2, Succeeded: 1, Rate: 0.5},
		ReportsOnTime: kpi.ReportStat{Filed: 2, OnTime: 1, Rate: 0.5, Overdue: 1, Unreadable: 1},
		Daily: []kpi.Day{
			{Date: "2026-11-02", Incidents: 2, Resolved: 2, MTTRMeanSeconds: 3300},
			{Date: "2026-11-03", Incidents: 3, Resolved: 3, MTTRMeanSeconds: 330},
		},
	}
	gb, _ := json.MarshalIndent(got, "", "  ")
	wb, _ := json.MarshalIndent(want, "", "  ")
	if string(gb) != string(wb) {
		t.Fatalf("report:\n%s\nwant:\n%s", gb, wb)
	}

	// A critical incident that is old enough now counts: D was closed by a
	// person at 5 min, within 15.
	now = dCreated.Add(20 * time.Minute)
	got, _ = svc.Compute(context.Background(), from, to, 15*time.Minute)
	if got.Critical != (kpi.CriticalStat{Total: 3, Unactioned: 1, Share: 1.0 / 3, AfterMinutes: 15}) {
		t.Fatalf("critical 20 min after D: %+v", got.Critical)
	}
	// With N = 60 B was actioned in time (the admin at 45 min).
	got, _ = svc.Compute(context.Background(), from, to, time.Hour)
	if got.Critical != (kpi.CriticalStat{Total: 2, Unactioned: 0, Share: 0, AfterMinutes: 60}) {
		t.Fatalf("critical with N = 60: %+v", got.Critical)
	}
}

func TestKPIJSONNames(t *testing.T) {
	b, _ := json.Marshal(kpi.Report{Daily: []kpi.Day{{}}})
	for _, k := range []string{`"from"`, `"to"`, `"incidents"`, `"mttd"`, `"mtta"`, `"mttc"`, `"mttr"`, `"approval_response"`,
		`"mean_seconds"`, `"p50_seconds"`, `"p90_seconds"`, `"critical"`, `"unactioned"`, `"after_minutes"`, `"share"`,
		`"recovery"`, `"attempted"`, `"succeeded"`, `"rate"`, `"reports_on_time"`, `"filed"`, `"on_time"`, `"overdue"`,
		`"daily"`, `"date"`, `"mttr_mean_seconds"`} {
		if !strings.Contains(string(b), k+":") {
			t.Errorf("report JSON lacks %s: %s", k, b)
		}
	}
}

func TestKPIRange(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	svc := &kpi.Service{Incidents: &fakeSource{}}
	for _, c := range []struct {
		from, to time.Time
		want     string
	}{
		{t0, t0, "invalid range: to must be after from"},
		{t0, t0.Add(-time.Hour), "invalid range: to must be after from"},
		{t0, t0.Add(367 * 24 * time.Hour), "invalid range: the window must not exceed 366 days"},
	} {
		_, err := svc.Compute(context.Background(), c.from, c.to, time.Minute)
		if err == nil || err.Error() != c.want {
			t.Errorf("%v..%v: %v, want %s", c.from, c.to, err, c.want)
		}
	}
	// An empty window has empty figures and one day per day.
	r, err := svc.Compute(context.Background(), t0.Add(12*time.Hour), t0.Add(36*time.Hour), time.Minute)
	if err != nil || r.Incidents != 0 || len(r.Daily) != 2 || r.Daily[0].Date != "2026-11-02" || r.Daily[1].Date != "2026-11-03" {
		t.Fatalf("empty window: %+v %v", r, err)
	}
}
