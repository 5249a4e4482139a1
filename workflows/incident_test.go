package workflows_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/riposte-soar/riposte/activities"
	"github.com/riposte-soar/riposte/alerts"
	"github.com/riposte-soar/riposte/compliance"
	"github.com/riposte-soar/riposte/internal/devserver"
	"github.com/riposte-soar/riposte/internal/freeport"
	"github.com/riposte-soar/riposte/internal/tclient"
	"github.com/riposte-soar/riposte/playbooks"
	"github.com/riposte-soar/riposte/workflows"
)

func TestIncidentWorkflowGroupsAlertsUntilClosed(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.IncidentWorkflow, workflowOpts())
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	n := 0
	alert := func(sev alerts.Severity, at time.Time) workflows.AlertSignal {
		n++
		return workflows.AlertSignal{ID: fmt.Sprintf("am:%d", n), Source: "alertmanager", Title: "disk full", Severity: sev, Status: "firing", ObservedAt: at,
			Observables: []alerts.Observable{{Type: alerts.ObsHostname, Value: "web-1"}, {Type: alerts.ObsIP, Value: fmt.Sprintf("10.0.0.%d", n)}}}
	}
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.SignalAlert, alert("medium", t0.Add(time.Minute))) }, time.Minute)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.SignalAlert, alert("critical", t0)) }, 2*time.Minute)
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(workflows.QueryIncident)
		if err != nil {
			t.Errorf("query: %v", err)
			return
		}
		var st workflows.IncidentState
		if err := v.Get(&st); err != nil {
			t.Errorf("decode query: %v", err)
			return
		}
		if st.Status != workflows.StatusOpen || st.Alerts.Count != 2 {
			t.Errorf("mid-incident state %+v", st)
		}
		env.SignalWorkflow(workflows.SignalAlert, alert("low", t0.Add(5*time.Minute)))
		closeIncident(env, "U123", "false positive")
	}, 3*time.Minute)

	env.ExecuteWorkflow(workflows.IncidentWorkflowName, workflows.IncidentInput{ID: "inc-1", Title: "disk full", Severity: "low", Source: "alertmanager", ReopenWindow: time.Minute})
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var st workflows.IncidentState
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	if st.Status != workflows.StatusClosed || st.Alerts.Count != 3 || st.Severity != "critical" {
		t.Fatalf("final state: status %q count %d severity %q", st.Status, st.Alerts.Count, st.Severity)
	}
	if !st.Alerts.FirstSeen.Equal(t0) || !st.Alerts.LastSeen.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("first/last seen %v %v", st.Alerts.FirstSeen, st.Alerts.LastSeen)
	}
	last := st.Timeline[len(st.Timeline)-1]
	if last.Actor != "U123" || last.Kind != "closed" {
		t.Fatalf("timeline %+v", st.Timeline)
	}
	// The union of observables: one hostname, three IPs.
	if len(st.Observables) != 4 {
		t.Fatalf("observables %+v", st.Observables)
	}
}

func TestIncidentWorkflowRejectsMissingID(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.IncidentWorkflow, workflowOpts())
	env.ExecuteWorkflow(workflows.IncidentWorkflowName, workflows.IncidentInput{})
	if env.GetWorkflowError() == nil {
		t.Fatal("want an error for an incident without id")
	}
}

const incidentHistory = "testdata/incident_v1.json"

// TestReplayHistories replays every history recorded on a real server (the
// plain incident and one per shipped playbook), so a change that would break
// running incidents fails here. Regenerate only for a deliberate, versioned
// change: RIPOSTE_RECORD_HISTORIES=1 go test ./workflows/.
func TestReplayHistories(t *testing.T) {
	if os.Getenv("RIPOSTE_RECORD_HISTORIES") == "1" {
		recordIncidentHistory(t)
		recordPlaybookHistories(t)
		recordBlocklistHistory(t)
		recordDeadlineHistory(t)
		recordLazyVisibilityHistory(t)
	}
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) < 2 {
		t.Fatalf("histories: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(workflows.IncidentWorkflow, workflowOpts())
			r.RegisterWorkflowWithOptions(workflows.BlocklistWorkflow, workflow.RegisterOptions{Name: workflows.BlocklistWorkflowName})
			r.RegisterWorkflowWithOptions(workflows.DeadlineWorkflow, workflow.RegisterOptions{Name: workflows.DeadlineWorkflowName})
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}

// startDev runs an in-memory embedded server and a worker on task queue
// "record" for the test.
func startDev(t *testing.T) client.Client {
	t.Helper()
	addr, err := freeport.Addr("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := devserver.Start(context.Background(), devserver.Options{FrontendAddr: addr, Namespace: "default", SearchAttributes: workflows.SearchAttributes()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	c, err := client.Dial(client.Options{HostPort: srv.FrontendAddress(), Logger: tclient.NewLogger(nil)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	w := worker.New(c, "record", worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.IncidentWorkflow, workflowOpts())
	w.RegisterWorkflowWithOptions(workflows.BlocklistWorkflow, workflow.RegisterOptions{Name: workflows.BlocklistWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.DeadlineWorkflow, workflow.RegisterOptions{Name: workflows.DeadlineWorkflowName})
	acts := &activities.Actions{Firewall: nopFirewall{}}
	w.RegisterActivityWithOptions(acts.RunAction, activity.RegisterOptions{Name: activities.ActivityRunAction})
	w.RegisterActivityWithOptions(acts.NotifyApproval, activity.RegisterOptions{Name: activities.ActivityNotifyApproval})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return c
}

func recordIncidentHistory(t *testing.T) {
	ctx := context.Background()
	c := startDev(t)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "inc-record", TaskQueue: "record"}, workflows.IncidentWorkflowName,
		workflows.IncidentInput{ID: "inc-record", Title: "ssh brute force", Severity: "medium", Source: "wazuh", ReopenWindow: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for i, sev := range []alerts.Severity{"medium", "high", "low", "low"} {
		status := alerts.StatusFiring
		if i == 3 {
			status = alerts.StatusResolved
		}
		if err := c.SignalWorkflow(ctx, run.GetID(), "", workflows.SignalAlert, workflows.AlertSignal{
			ID: "wazuh:" + string(sev), Source: "wazuh", Title: "ssh brute force", Severity: sev, Status: status,
			ObservedAt:  time.Date(2026, 11, 23, 10, i, 0, 0, time.UTC),
			Observables: []alerts.Observable{{Type: alerts.ObsIP, Value: "203.0.113.7"}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	closeOnServer(t, c, run.GetID())
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	writeHistory(t, c, run.GetID(), run.GetRunID(), incidentHistory)
}

func writeHistory(t *testing.T, c client.Client, id, runID, file string) {
	t.Helper()
	var events []*history.HistoryEvent
	it := c.GetWorkflowHistory(context.Background(), id, runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, ev)
	}
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&history.History{Events: events})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.FromSlash(file), b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %d events to %s", len(events), file)
}

func TestIncidentWorkflowDeduplicatesAndTracksResolution(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.IncidentWorkflow, workflowOpts())
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	a := workflows.AlertSignal{ID: "am:x", Source: "alertmanager", Title: "HostDown", Severity: alerts.SeverityHigh, Status: alerts.StatusFiring, ObservedAt: t0}
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalAlert, a)
		env.SignalWorkflow(workflows.SignalAlert, a) // a retried post
		r := a
		r.Status = alerts.StatusResolved
		env.SignalWorkflow(workflows.SignalAlert, r)
		env.SignalWorkflow(workflows.SignalAlert, r) // resolved, re-sent
		closeIncident(env, "analyst", "done")
	}, time.Minute)
	env.ExecuteWorkflow(workflows.IncidentWorkflowName, workflows.IncidentInput{ID: "inc-d", Source: "alertmanager", ReopenWindow: time.Minute})
	var st workflows.IncidentState
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	if st.Alerts.Count != 1 || st.Alerts.Duplicates != 2 || st.Alerts.Firing != 0 || st.Alerts.Resolved != 1 {
		t.Fatalf("alerts %+v: want 1 alert, 2 duplicates, resolved", st.Alerts)
	}
	found := false
	for _, e := range st.Timeline {
		found = found || e.Kind == "alert_resolved"
	}
	if !found {
		t.Fatalf("no resolution in timeline %+v", st.Timeline)
	}
}

// Continue-as-new needs a real history, so this runs on the embedded server.
func TestIncidentWorkflowContinuesAsNewWithoutLoss(t *testing.T) {
	c := startDev(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	const n = 150
	in := workflows.IncidentInput{ID: "inc-can", Source: "suricata", MaxHistoryEvents: 100, ReopenWindow: time.Second}
	opts := client.StartWorkflowOptions{ID: "inc-can", TaskQueue: "record"}
	for i := range n {
		a := workflows.AlertSignal{ID: fmt.Sprintf("s:%d", i), Source: "suricata", Title: "ET SCAN",
			Severity: alerts.SeverityMedium, Status: alerts.StatusFiring, ObservedAt: t0.Add(time.Duration(i) * time.Second)}
		if _, err := c.SignalWithStartWorkflow(ctx, opts.ID, workflows.SignalAlert, a, opts, workflows.IncidentWorkflowName, in); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 { // a retried delivery
			if _, err := c.SignalWithStartWorkflow(ctx, opts.ID, workflows.SignalAlert, a, opts, workflows.IncidentWorkflowName, in); err != nil {
				t.Fatal(err)
			}
		}
	}
	closeOnServer(t, c, opts.ID)
	var st workflows.IncidentState
	if err := c.GetWorkflow(ctx, opts.ID, "").Get(ctx, &st); err != nil {
		t.Fatal(err)
	}
	if st.Runs == 0 {
		t.Fatal("the incident never continued as new")
	}
	if st.Alerts.Count != n || st.Alerts.Duplicates != n/10 {
		t.Fatalf("after %d continue-as-new: %d alerts, %d duplicates; want %d and %d", st.Runs, st.Alerts.Count, st.Alerts.Duplicates, n, n/10)
	}
	t.Logf("%d alerts over %d runs", st.Alerts.Count, st.Runs+1)
}

func closeIncident(env *testsuite.TestWorkflowEnvironment, by, reason string) {
	env.UpdateWorkflow(workflows.UpdateClose, "", &testsuite.TestUpdateCallback{
		OnReject: func(err error) { panic(err) }, OnAccept: func() {}, OnComplete: func(any, error) {},
	}, workflows.LifecycleRequest{By: by, Roles: []string{"responder"}, Reason: reason})
}

func closeOnServer(t *testing.T, c client.Client, id string) {
	t.Helper()
	h, err := c.UpdateWorkflow(context.Background(), client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: workflows.UpdateClose, WaitForStage: client.WorkflowUpdateStageCompleted,
		Args: []any{workflows.LifecycleRequest{By: "analyst", Roles: []string{"responder"}, Reason: "done"}},
	})
	if err == nil {
		err = h.Get(context.Background(), nil)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// nopFirewall accepts every block: the recorded histories need the
// firewall steps to succeed, not a real firewall.
type nopFirewall struct{}

func (nopFirewall) Block(context.Context, activities.Block) error   { return nil }
func (nopFirewall) Unblock(context.Context, activities.Block) error { return nil }

// recordAlert carries every kind of observable the shipped playbooks use.
var recordAlert = alerts.Alert{
	ID: "record:1", Source: "wazuh", Title: "recorded incident", Severity: alerts.SeverityHigh, Status: alerts.StatusFiring,
	ObservedAt: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), Labels: map[string]string{"rule.id": "5716"},
	Observables: []alerts.Observable{
		{Type: alerts.ObsIP, Value: "203.0.113.7"}, {Type: alerts.ObsDomain, Value: "evil.example"},
		{Type: alerts.ObsURL, Value: "https://evil.example/login"}, {Type: alerts.ObsEmail, Value: "attacker@evil.example"},
		{Type: alerts.ObsHostname, Value: "web-1"}, {Type: alerts.ObsUser, Value: "root"},
		{Type: alerts.ObsHashSHA256, Value: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	},
}

// recordPlaybookHistories runs each shipped playbook to its end on the
// embedded server: every approval approved by two people, the alert
// resolved, then the incident closed.
func recordPlaybookHistories(t *testing.T) {
	lib, err := playbooks.LoadLibrary()
	if err != nil {
		t.Fatal(err)
	}
	c := startDev(t)
	ctx := context.Background()
	for _, pb := range lib {
		id := "inc-record-" + pb.Name
		opts := client.StartWorkflowOptions{ID: id, TaskQueue: "record"}
		in := workflows.IncidentInput{ID: id, Source: "wazuh", Playbook: pb.Name, PlaybookDef: pb, ReopenWindow: time.Second}
		if _, err := c.SignalWithStartWorkflow(ctx, id, workflows.SignalAlert, recordAlert, opts, workflows.IncidentWorkflowName, in); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		resolved := false
		for time.Now().Before(deadline) {
			v, err := c.QueryWorkflow(ctx, id, "", workflows.QueryIncident)
			if err != nil {
				t.Fatal(err)
			}
			var st workflows.IncidentState
			if err := v.Get(&st); err != nil {
				t.Fatal(err)
			}
			if st.Playbook.Status == "completed" || st.Playbook.Status == "failed" {
				break
			}
			for _, a := range st.Approvals {
				if a.Status != workflows.ApprovalPending && a.Status != workflows.ApprovalEscalated {
					continue
				}
				for _, who := range []string{"alice", "bob"}[len(a.Decisions):min(a.Required, 2)] {
					h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: workflows.UpdateDecide,
						WaitForStage: client.WorkflowUpdateStageCompleted,
						Args:         []any{workflows.DecideRequest{Step: a.Step, Decision: "approve", By: who, Roles: []string{"admin", "responder", "compliance"}}}})
					if err == nil {
						err = h.Get(ctx, nil)
					}
					if err != nil {
						t.Fatalf("%s: approve %s: %v", pb.Name, a.Step, err)
					}
				}
			}
			if !resolved && st.Phase == playbooks.PhaseRestore {
				r := recordAlert
				r.Status = alerts.StatusResolved
				if err := c.SignalWorkflow(ctx, id, "", workflows.SignalAlert, r); err != nil {
					t.Fatal(err)
				}
				resolved = true
			}
			time.Sleep(100 * time.Millisecond)
		}
		closeOnServer(t, c, id)
		run := c.GetWorkflow(ctx, id, "")
		var st workflows.IncidentState
		if err := run.Get(ctx, &st); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: playbook %s, %d steps, %d actions", pb.Name, st.Playbook.Status, len(st.Steps), len(st.Actions))
		writeHistory(t, c, id, "", "testdata/playbook_"+pb.Name+".json")
	}
}

// recordDeadlineHistory records a GDPR Art. 33 obligation: a refused
// submission (no compliance role), an event, then the submission.
func recordDeadlineHistory(t *testing.T) {
	c := startDev(t)
	ctx := context.Background()
	cat, err := compliance.Load()
	if err != nil {
		t.Fatal(err)
	}
	stage, ok := cat.Stage("gdpr-art33-initial")
	if !ok {
		t.Fatal("no gdpr-art33-initial in the catalogue")
	}
	now := time.Now().UTC().Truncate(time.Second)
	id := "dl-record-gdpr"
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: "record"}, workflows.DeadlineWorkflowName,
		workflows.DeadlineInput{ID: id, IncidentID: "inc-record", Stage: stage, CatalogueVersion: cat.Version,
			Events: compliance.Events{"aware": now.Add(-time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	update := func(name string, arg any) error {
		h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: name, WaitForStage: client.WorkflowUpdateStageCompleted, Args: []any{arg}})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		return err
	}
	if err := update(workflows.UpdateSubmit, workflows.SubmitRequest{SubmittedAt: now, Reference: "SA-1", SubmittedBy: "bob", Roles: []string{"responder"}}); err == nil {
		t.Fatal("a submission without the compliance role was accepted")
	}
	if err := update(workflows.UpdateSubmit, workflows.SubmitRequest{SubmittedAt: now, Reference: "SA-2026-0042", SubmittedBy: "dpo", Roles: []string{"compliance"}}); err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	writeHistory(t, c, id, run.GetRunID(), "testdata/deadline_gdpr.json")
}
