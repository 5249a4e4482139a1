package workflows_test

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

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
		// want is each write's phase/status, in order: the first alert's
		// (detect), the approval's, the playbook end's, then the close and
		// the completion.
		want []string
	}{
		{name: "actions only", want: []string{"detect/open", "restore/resolved", "restore/closed", "restore/closed"}},
		{name: "approval", withApproval: true, want: []string{"detect/open", "contain/open", "restore/resolved", "restore/closed", "restore/closed"}},
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

// TestRecordLazyVisibilityHistory records the replay history of the
// deferred phase writes (RIPOSTE_RECORD_LAZY_VISIBILITY=1); TestReplayHistories
// replays it with the others, next to the histories recorded before.
func TestRecordLazyVisibilityHistory(t *testing.T) {
	if os.Getenv("RIPOSTE_RECORD_LAZY_VISIBILITY") != "1" {
		t.Skip("records only with RIPOSTE_RECORD_LAZY_VISIBILITY=1")
	}
	c := startDev(t)
	ctx := context.Background()
	id := "inc-record-lazy-visibility"
	in := workflows.IncidentInput{ID: id, Source: "wazuh", Playbook: "lazy", PlaybookDef: lazyPlaybook(true), ReopenWindow: time.Second}
	if _, err := c.SignalWithStartWorkflow(ctx, id, workflows.SignalAlert, recordAlert, client.StartWorkflowOptions{ID: id, TaskQueue: "record"},
		workflows.IncidentWorkflowName, in); err != nil {
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
	writeHistory(t, c, id, "", "testdata/incident_lazy-visibility.json")
}
