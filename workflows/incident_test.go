package workflows_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/riposte-soar/riposte/internal/devserver"
	"github.com/riposte-soar/riposte/workflows"
)

func TestIncidentWorkflowGroupsAlertsUntilClosed(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.IncidentWorkflow, workflowOpts())
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	alert := func(sev string, at time.Time) workflows.AlertSignal {
		return workflows.AlertSignal{ID: "a", Source: "alertmanager", Title: "disk full", Severity: sev, Status: "firing", ObservedAt: at}
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
		env.SignalWorkflow(workflows.SignalClose, workflows.CloseSignal{By: "U123", Reason: "false positive"})
	}, 3*time.Minute)

	env.ExecuteWorkflow(workflows.IncidentWorkflowName, workflows.IncidentInput{ID: "inc-1", Title: "disk full", Severity: "low", Source: "alertmanager"})
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
	if n := len(st.Timeline); n != 2 || st.Timeline[1].Actor != "U123" || st.Timeline[1].Kind != "closed" {
		t.Fatalf("timeline %+v", st.Timeline)
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

// TestReplayIncidentWorkflow replays a history recorded on a real server, so
// a change that would break running incidents fails here. Regenerate only
// for a deliberate, versioned change: RIPOSTE_RECORD_HISTORIES=1 go test.
func TestReplayIncidentWorkflow(t *testing.T) {
	if os.Getenv("RIPOSTE_RECORD_HISTORIES") == "1" {
		recordIncidentHistory(t)
	}
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(workflows.IncidentWorkflow, workflowOpts())
	if err := r.ReplayWorkflowHistoryFromJSONFile(nil, incidentHistory); err != nil {
		t.Fatalf("replay %s: %v", incidentHistory, err)
	}
}

func recordIncidentHistory(t *testing.T) {
	ctx := context.Background()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv, err := devserver.Start(ctx, devserver.Options{FrontendAddr: addr, Namespace: "default", SearchAttributes: workflows.SearchAttributes()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	c, err := client.Dial(client.Options{HostPort: srv.FrontendAddress()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := worker.New(c, "record", worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.IncidentWorkflow, workflowOpts())
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "inc-record", TaskQueue: "record"}, workflows.IncidentWorkflowName,
		workflows.IncidentInput{ID: "inc-record", Title: "ssh brute force", Severity: "medium", Source: "wazuh"})
	if err != nil {
		t.Fatal(err)
	}
	for i, sev := range []string{"medium", "high", "low"} {
		if err := c.SignalWorkflow(ctx, run.GetID(), "", workflows.SignalAlert, workflows.AlertSignal{
			ID: "a" + sev, Source: "wazuh", Title: "ssh brute force", Severity: sev, Status: "firing",
			ObservedAt: time.Date(2026, 11, 23, 10, i, 0, 0, time.UTC),
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.SignalWorkflow(ctx, run.GetID(), "", workflows.SignalClose, workflows.CloseSignal{By: "analyst", Reason: "contained"}); err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	var events []*history.HistoryEvent
	it := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
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
	if err := os.WriteFile(filepath.FromSlash(incidentHistory), b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %d events to %s", len(events), incidentHistory)
}
