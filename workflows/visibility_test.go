package workflows_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/riposte-soar/riposte/alerts"
	"github.com/riposte-soar/riposte/playbooks"
	"github.com/riposte-soar/riposte/workflows"
)

// lazyPlaybook: actions in four phases and an approval in contain.
func lazyPlaybook(withApproval bool) *playbooks.Playbook {
	action := func(id string) playbooks.Step {
		return playbooks.Step{ID: id, Kind: playbooks.KindAction, Action: &playbooks.ActionCall{Name: "enrich.ip", Args: map[string]any{"ip": "203.0.113.7"}}}
	}
	contain := []playbooks.Step{action("block")}
	if withApproval {
		contain = append([]playbooks.Step{{ID: "approve", Kind: playbooks.KindApproval,
			Approval: &playbooks.Approval{Approvers: []string{"responder"}, Prompt: "block?", Timeout: dur(time.Hour)}}}, contain...)
	}
	return &playbooks.Playbook{Name: "lazy", Version: "1", SHA256: "x", Phases: map[string][]playbooks.Step{
		playbooks.PhaseDetect:  {action("enrich")},
		playbooks.PhaseContain: contain,
		playbooks.PhaseAnalyse: {action("ticket")},
		playbooks.PhaseRestore: {action("unblock")},
	}}
}

// TestPhaseVisibilityIsDeferred: phases that only run actions write no
// search attributes of their own; an approval writes the phase it waits
// in; the playbook's end writes the final state.
func TestPhaseVisibilityIsDeferred(t *testing.T) {
	for _, tc := range []struct {
		name         string
		withApproval bool
		// startedWith sets the search attributes ingestion starts with.
		startedWith bool
		// want is each write's phase/status, in order: the first alert's
		// (detect), the approval's, the playbook end's, then the close;
		// the completion changes nothing and writes nothing.
		want []string
	}{
		{name: "actions only", want: []string{"detect/open", "restore/resolved", "restore/closed"}},
		{name: "approval", withApproval: true, want: []string{"detect/open", "contain/open", "restore/resolved", "restore/closed"}},
		{name: "started with attributes", startedWith: true, want: []string{"restore/resolved", "restore/closed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			var writes []string
			h.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
				sa := args.Get(0).(temporal.SearchAttributes)
				p, _ := sa.GetKeyword(workflows.SAPhase)
				s, _ := sa.GetKeyword(workflows.SAStatus)
				writes = append(writes, p+"/"+s)
			}).Return(nil)
			if tc.startedWith {
				in := workflows.IncidentInput{ID: "inc-t", Playbook: "lazy"}
				if err := h.env.SetTypedSearchAttributesOnStart(startAttributes(t, in, triggerAlert)); err != nil {
					t.Fatal(err)
				}
			}
			if tc.withApproval {
				h.decide(time.Minute, "approve", "approve", "alice", []string{"responder"}, false)
			}
			st := h.run(lazyPlaybook(tc.withApproval), 2*time.Hour)
			if st.Playbook.Status != "completed" || len(h.rec.calls) != 4 {
				t.Fatalf("playbook %s with calls %v", st.Playbook.Status, h.rec.calls)
			}
			if !slices.Equal(writes, tc.want) {
				t.Errorf("search attributes written %q, want %q", writes, tc.want)
			}
		})
	}
}

// startAttributes decodes StartSearchAttributes into typed attributes, as
// the server hands them to the workflow.
func startAttributes(t *testing.T, in workflows.IncidentInput, a alerts.Alert) temporal.SearchAttributes {
	t.Helper()
	raw, err := workflows.StartSearchAttributes(in, a)
	if err != nil {
		t.Fatal(err)
	}
	dc := converter.GetDefaultDataConverter()
	f := raw.GetIndexedFields()
	var (
		id, status, phase, sev, pb, title string
		rank, count                       int64
		last                              time.Time
	)
	for name, v := range map[string]any{"RiposteIncidentID": &id, "RiposteStatus": &status, "RipostePhase": &phase,
		"RiposteSeverity": &sev, "RipostePlaybook": &pb, "RiposteTitle": &title, "RiposteSeverityRank": &rank,
		"RiposteAlertCount": &count, "RiposteLastSeen": &last} {
		if err := dc.FromPayload(f[name], v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if len(f) != 9 {
		t.Fatalf("%d start attributes, want 9", len(f))
	}
	return temporal.NewSearchAttributes(workflows.SAIncidentID.ValueSet(id), workflows.SAStatus.ValueSet(status),
		workflows.SAPhase.ValueSet(phase), workflows.SASeverity.ValueSet(sev), workflows.SAPlaybook.ValueSet(pb),
		workflows.SATitle.ValueSet(title), workflows.SASeverityRank.ValueSet(rank), workflows.SAAlertCount.ValueSet(count),
		workflows.SALastSeen.ValueSet(last))
}

func TestStartSearchAttributes(t *testing.T) {
	in := workflows.IncidentInput{ID: "inc-1", Playbook: "ssh-brute-force", Severity: "low"}
	sa := startAttributes(t, in, triggerAlert)
	got := []any{}
	for _, k := range []temporal.SearchAttributeKeyKeyword{workflows.SAIncidentID, workflows.SAStatus, workflows.SAPhase, workflows.SASeverity, workflows.SAPlaybook} {
		v, _ := sa.GetKeyword(k)
		got = append(got, v)
	}
	title, _ := sa.GetString(workflows.SATitle)
	rank, _ := sa.GetInt64(workflows.SASeverityRank)
	count, _ := sa.GetInt64(workflows.SAAlertCount)
	last, _ := sa.GetTime(workflows.SALastSeen)
	got = append(got, title, rank, count, last.UTC())
	// The alert's medium severity is above the input's low, as the
	// workflow's first alert would raise it.
	want := []any{"inc-1", "open", "detect", "medium", "ssh-brute-force", "sshd: authentication failed", int64(3), int64(1), triggerAlert.ObservedAt}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("start attributes %v, want %v", got, want)
	}
}

// recordLazyVisibilityHistory records the replay history of the deferred
// and skipped search-attribute writes (lazy-phase-visibility version 2) to
// incident_lazy-visibility_v2.json, with the other histories:
// RIPOSTE_RECORD_HISTORIES=1 go test ./workflows/. incident_lazy-visibility.json
// (version 1) and the older histories stay as they were recorded.
func recordLazyVisibilityHistory(t *testing.T) {
	c := startDev(t)
	ctx := context.Background()
	id := "inc-record-lazy-visibility"
	in := workflows.IncidentInput{ID: id, Source: "wazuh", Playbook: "lazy", PlaybookDef: lazyPlaybook(true), ReopenWindow: time.Second}
	// Started as ingestion starts incidents: with their search attributes.
	opts := client.StartWorkflowOptions{ID: id, TaskQueue: "record", TypedSearchAttributes: startAttributes(t, in, recordAlert)}
	if _, err := c.SignalWithStartWorkflow(ctx, id, workflows.SignalAlert, recordAlert, opts, workflows.IncidentWorkflowName, in); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for approved := false; time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		v, err := c.QueryWorkflow(ctx, id, "", workflows.QueryIncident)
		if err != nil {
			t.Fatal(err)
		}
		var st workflows.IncidentState
		if err := v.Get(&st); err != nil {
			t.Fatal(err)
		}
		if st.Playbook.Status == "completed" {
			break
		}
		if !approved && len(st.Approvals) == 1 {
			h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: workflows.UpdateDecide,
				WaitForStage: client.WorkflowUpdateStageCompleted,
				Args:         []any{workflows.DecideRequest{Step: "approve", Decision: "approve", By: "alice", Roles: []string{"responder"}}}})
			if err == nil {
				err = h.Get(ctx, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			approved = true
		}
	}
	closeOnServer(t, c, id)
	if err := c.GetWorkflow(ctx, id, "").Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	writeHistory(t, c, id, "", "testdata/incident_lazy-visibility_v2.json")
}
