package workflows_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/riposte-soar/riposte/activities"
	"github.com/riposte-soar/riposte/compliance"
	"github.com/riposte-soar/riposte/workflows"
)

var deadlineT0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func h(n float64) time.Duration { return time.Duration(n * float64(time.Hour)) }

// deadlineNotices records what would go to the compliance channel.
var deadlineNotices []string

func newDeadlineEnv() *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.DeadlineWorkflow, workflow.RegisterOptions{Name: workflows.DeadlineWorkflowName})
	deadlineNotices = nil
	env.RegisterActivityWithOptions(func(_ context.Context, n activities.ApprovalNotice) (activities.ChatRef, error) {
		deadlineNotices = append(deadlineNotices, n.Kind+": "+n.Text)
		return activities.ChatRef{}, nil
	}, activity.RegisterOptions{Name: activities.ActivityNotifyApproval})
	env.SetStartTime(deadlineT0)
	return env
}

func catalogueStage(t *testing.T, id string) (compliance.Stage, string) {
	t.Helper()
	c, err := compliance.Load()
	if err != nil {
		t.Fatal(err)
	}
	s, ok := c.Stage(id)
	if !ok {
		t.Fatalf("no stage %q in catalogue %s", id, c.Version)
	}
	return s, c.Version
}

func deadlineInput(t *testing.T, stageID string, ev compliance.Events) workflows.DeadlineInput {
	s, v := catalogueStage(t, stageID)
	return workflows.DeadlineInput{ID: "inc-1/" + stageID, IncidentID: "inc-1", Stage: s, CatalogueVersion: v, Events: ev}
}

// updateResult collects the outcome of one Update.
type updateResult struct {
	rejected error
	err      error
	done     bool
}

func sendUpdate(env *testsuite.TestWorkflowEnvironment, name string, arg any) *updateResult {
	r := &updateResult{}
	env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
		OnReject:   func(err error) { r.rejected = err; r.done = true },
		OnAccept:   func() {},
		OnComplete: func(_ any, err error) { r.err = err; r.done = true },
	}, arg)
	return r
}

// at runs fn at offset d from the start, in workflow time.
func at(env *testsuite.TestWorkflowEnvironment, d time.Duration, fn func()) {
	env.RegisterDelayedCallback(fn, d)
}

func queryDeadline(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.DeadlineState {
	t.Helper()
	v, err := env.QueryWorkflow(workflows.QueryDeadline)
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	var st workflows.DeadlineState
	if err := v.Get(&st); err != nil {
		t.Fatalf("decode query: %v", err)
	}
	return st
}

func deadlineResult(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.DeadlineState {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var st workflows.DeadlineState
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func mustApply(t *testing.T, name string, r *updateResult) {
	t.Helper()
	if !r.done || r.rejected != nil || r.err != nil {
		t.Fatalf("update %s: done %v rejected %v err %v", name, r.done, r.rejected, r.err)
	}
}

func mustReject(t *testing.T, name string, r *updateResult, errType string) {
	t.Helper()
	var appErr *temporal.ApplicationError
	if r.rejected == nil || !errors.As(r.rejected, &appErr) || appErr.Type() != errType {
		t.Fatalf("update %s: want rejection of type %s, got rejected %v err %v", name, errType, r.rejected, r.err)
	}
}

func offsets(ts []time.Time) []time.Duration {
	out := make([]time.Duration, len(ts))
	for i, x := range ts {
		out[i] = x.Sub(deadlineT0)
	}
	return out
}

func compliance1() workflows.SubmitRequest {
	return workflows.SubmitRequest{Reference: "REF-1", SubmittedBy: "dpo", Roles: []string{"compliance"}}
}

func TestDeadlineRemindersAtEachLeadTime(t *testing.T) {
	for _, tc := range []struct {
		stage    string
		submitAt time.Duration
		want     []time.Duration
	}{
		// 72 h: 24 h, 4 h and 1 h before; no half-time.
		{"gdpr-art33-initial", h(71.5), []time.Duration{h(48), h(68), h(71)}},
		// 24 h: the 24 h lead falls on the start and is skipped; half-time at 12 h.
		{"nis2-early-warning", h(23.5), []time.Duration{h(12), h(20), h(23)}},
	} {
		t.Run(tc.stage, func(t *testing.T) {
			env := newDeadlineEnv()
			var mid workflows.DeadlineState
			var sub *updateResult
			at(env, tc.submitAt-time.Minute, func() { mid = queryDeadline(t, env) })
			at(env, tc.submitAt, func() { sub = sendUpdate(env, workflows.UpdateSubmit, compliance1()) })
			env.ExecuteWorkflow(workflows.DeadlineWorkflowName, deadlineInput(t, tc.stage, compliance.Events{compliance.EventAware: deadlineT0}))
			st := deadlineResult(t, env)
			mustApply(t, "submit", sub)
			if mid.Status != workflows.ObligationOpen {
				t.Fatalf("status before due: %q", mid.Status)
			}
			if got := offsets(st.RemindersSent); !slices.Equal(got, tc.want) {
				t.Fatalf("reminders at %v, want %v", got, tc.want)
			}
			if st.Status != workflows.ObligationSubmitted || st.Submission == nil || st.Submission.Late {
				t.Fatalf("final %q submission %+v", st.Status, st.Submission)
			}
			if !st.Submission.SubmittedAt.Equal(deadlineT0.Add(tc.submitAt)) {
				t.Fatalf("submitted_at %v", st.Submission.SubmittedAt)
			}
		})
	}
}

func TestDeadlineLateThenSubmittedWithReasons(t *testing.T) {
	env := newDeadlineEnv()
	var late workflows.DeadlineState
	var sub *updateResult
	at(env, h(73), func() { late = queryDeadline(t, env) })
	at(env, h(80), func() {
		req := compliance1()
		req.SubmittedAt = deadlineT0.Add(h(79))
		req.ReasonsForDelay = "forensics needed to establish the scope"
		req.EvidenceURL = "https://evidence.example/1"
		sub = sendUpdate(env, workflows.UpdateSubmit, req)
	})
	env.ExecuteWorkflow(workflows.DeadlineWorkflowName, deadlineInput(t, "gdpr-art33-initial", compliance.Events{compliance.EventAware: deadlineT0}))
	st := deadlineResult(t, env)
	mustApply(t, "submit", sub)
	if late.Status != workflows.ObligationLate || late.DueAt == nil || !late.DueAt.Equal(deadlineT0.Add(h(72))) {
		t.Fatalf("at 73 h: status %q due %v", late.Status, late.DueAt)
	}
	if !slices.ContainsFunc(late.History, func(e workflows.TimelineEntry) bool {
		return e.Kind == "late" && e.At.Equal(deadlineT0.Add(h(72)))
	}) {
		t.Fatalf("no late entry at the due time: %+v", late.History)
	}
	if st.Status != workflows.ObligationSubmittedLate || st.Submission == nil || !st.Submission.Late ||
		st.Submission.ReasonsForDelay == "" || !st.Submission.SubmittedAt.Equal(deadlineT0.Add(h(79))) ||
		st.Submission.Recipient == "" || st.Submission.SubmittedBy != "dpo" {
		t.Fatalf("final %q submission %+v", st.Status, st.Submission)
	}
	if last := st.History[len(st.History)-1]; last.Actor != "dpo" || last.Kind != workflows.ObligationSubmittedLate {
		t.Fatalf("last history entry %+v", last)
	}
}

func TestDeadlineLateSubmissionWithoutReasonsRefused(t *testing.T) {
	env := newDeadlineEnv()
	var before, after workflows.DeadlineState
	var refused, ok *updateResult
	at(env, h(73), func() {
		before = queryDeadline(t, env)
		refused = sendUpdate(env, workflows.UpdateSubmit, compliance1())
	})
	at(env, h(74), func() {
		after = queryDeadline(t, env)
		req := compliance1()
		req.ReasonsForDelay = "late discovery of the processor's logs"
		ok = sendUpdate(env, workflows.UpdateSubmit, req)
	})
	env.ExecuteWorkflow(workflows.DeadlineWorkflowName, deadlineInput(t, "gdpr-art33-initial", compliance.Events{compliance.EventAware: deadlineT0}))
	st := deadlineResult(t, env)
	mustReject(t, "submit without reasons", refused, "Invalid")
	mustApply(t, "submit with reasons", ok)
	if after.Status != workflows.ObligationLate || after.Submission != nil || len(after.History) != len(before.History) {
		t.Fatalf("refused submission was recorded: status %q submission %+v history %d→%d",
			after.Status, after.Submission, len(before.History), len(after.History))
	}
	if st.Status != workflows.ObligationSubmittedLate {
		t.Fatalf("final status %q", st.Status)
	}
}

func TestDeadlineChainedStageArmedByEvent(t *testing.T) {
	env := newDeadlineEnv()
	var waiting, armed workflows.DeadlineState
	var ev, sub *updateResult
	submitted := deadlineT0.Add(h(2))
	at(env, h(1), func() { waiting = queryDeadline(t, env) })
	at(env, h(2), func() {
		ev = sendUpdate(env, workflows.UpdateEvent, workflows.EventRequest{Name: "submitted:nis2-incident-notification", At: submitted})
	})
	at(env, h(2)+time.Minute, func() { armed = queryDeadline(t, env) })
	at(env, h(100), func() { sub = sendUpdate(env, workflows.UpdateSubmit, compliance1()) })
	in := deadlineInput(t, "nis2-final", compliance.Events{compliance.EventAware: deadlineT0})
	env.ExecuteWorkflow(workflows.DeadlineWorkflowName, in)
	st := deadlineResult(t, env)
	mustApply(t, "event", ev)
	mustApply(t, "submit", sub)
	if waiting.Status != workflows.ObligationWaiting || waiting.DueAt != nil {
		t.Fatalf("before the event: status %q due %v", waiting.Status, waiting.DueAt)
	}
	want := time.Date(2026, 12, 23, 12, 0, 0, 0, time.UTC) // one month after the submission, Europe/Brussels
	if armed.Status != workflows.ObligationOpen || armed.DueAt == nil || !armed.DueAt.Equal(want) {
		t.Fatalf("after the event: status %q due %v, want %v", armed.Status, armed.DueAt, want)
	}
	if !armed.Events["submitted:nis2-incident-notification"].Equal(submitted) {
		t.Fatalf("events %v", armed.Events)
	}
	if st.Status != workflows.ObligationSubmitted {
		t.Fatalf("final status %q", st.Status)
	}
}

func TestDeadlineDeferral(t *testing.T) {
	env := newDeadlineEnv()
	in := deadlineInput(t, "hipaa-individuals", compliance.Events{compliance.EventDiscovered: deadlineT0})
	due, _, err := compliance.DueAt(in.Stage, in.Events, nil)
	if err != nil {
		t.Fatal(err)
	}
	until := due.Add(30 * 24 * time.Hour)
	var noBasis, deferred *updateResult
	var afterDue workflows.DeadlineState
	var sub *updateResult
	at(env, h(10), func() {
		noBasis = sendUpdate(env, workflows.UpdateDefer, workflows.DeferRequest{Until: until, By: "cco", Roles: []string{"compliance"}})
		deferred = sendUpdate(env, workflows.UpdateDefer, workflows.DeferRequest{Until: until, LegalBasis: "45 CFR 164.412 (law-enforcement delay)",
			Document: "https://docs.example/fbi-letter.pdf", By: "cco", Roles: []string{"compliance"}})
	})
	at(env, due.Sub(deadlineT0)+h(1), func() { afterDue = queryDeadline(t, env) })
	at(env, until.Sub(deadlineT0)-h(2), func() { sub = sendUpdate(env, workflows.UpdateSubmit, compliance1()) })
	env.ExecuteWorkflow(workflows.DeadlineWorkflowName, in)
	st := deadlineResult(t, env)
	mustReject(t, "defer without legal basis", noBasis, "Invalid")
	mustApply(t, "defer", deferred)
	mustApply(t, "submit", sub)
	if afterDue.Status != workflows.ObligationDeferred || afterDue.DueAt == nil || !afterDue.DueAt.Equal(until) {
		t.Fatalf("after the original due time: status %q due %v", afterDue.Status, afterDue.DueAt)
	}
	d := afterDue.Deferral
	if d == nil || d.LegalBasis == "" || d.Document == "" || d.By != "cco" || d.PreviousDueAt == nil || !d.PreviousDueAt.Equal(*due) {
		t.Fatalf("deferral %+v", d)
	}
	// Reminders follow the new due time only.
	want := []time.Duration{until.Sub(deadlineT0) - h(24), until.Sub(deadlineT0) - h(4)}
	if got := offsets(st.RemindersSent); !slices.Equal(got, want) {
		t.Fatalf("reminders at %v, want %v", got, want)
	}
	if st.Status != workflows.ObligationSubmitted {
		t.Fatalf("final status %q", st.Status)
	}
}

func TestDeadlineCancellationWithReason(t *testing.T) {
	env := newDeadlineEnv()
	var noReason, cancelled *updateResult
	var before workflows.DeadlineState
	at(env, h(5), func() {
		noReason = sendUpdate(env, workflows.UpdateCancel, workflows.CancelRequest{By: "dpo", Roles: []string{"compliance"}})
	})
	at(env, h(5)+time.Minute, func() {
		before = queryDeadline(t, env)
		cancelled = sendUpdate(env, workflows.UpdateCancel, workflows.CancelRequest{
			Reason: "assessed unlikely to result in a risk (Art. 33(1))", By: "dpo", Roles: []string{"compliance"}})
	})
	env.ExecuteWorkflow(workflows.DeadlineWorkflowName, deadlineInput(t, "gdpr-art33-initial", compliance.Events{compliance.EventAware: deadlineT0}))
	st := deadlineResult(t, env)
	mustReject(t, "cancel without reason", noReason, "Invalid")
	mustApply(t, "cancel", cancelled)
	if before.Status != workflows.ObligationOpen || before.Cancellation != nil {
		t.Fatalf("refused cancel was recorded: %+v", before)
	}
	c := st.Cancellation
	if st.Status != workflows.ObligationCancelled || c == nil || c.Reason == "" || c.By != "dpo" || !c.At.Equal(deadlineT0.Add(h(5)+time.Minute)) {
		t.Fatalf("final %q cancellation %+v", st.Status, c)
	}
	if st.Submission != nil || len(st.RemindersSent) != 0 || st.DueAt == nil {
		t.Fatalf("cancelled record: %+v", st)
	}
}

func TestDeadlineDORAClassificationRecomputesDueAt(t *testing.T) {
	c, err := compliance.Load()
	if err != nil {
		t.Fatal(err)
	}
	var initial string
	for _, s := range c.Regime("dora") {
		if s.Stage == "initial" {
			initial = s.ID
		}
	}
	if initial == "" {
		t.Fatal("no DORA initial stage in the catalogue")
	}
	env := newDeadlineEnv()
	var first, second workflows.DeadlineState
	var ev, sub *updateResult
	at(env, h(1), func() { first = queryDeadline(t, env) })
	at(env, h(2), func() {
		ev = sendUpdate(env, workflows.UpdateEvent, workflows.EventRequest{Name: compliance.EventClassifiedMajor, At: deadlineT0.Add(h(2)), By: "analyst"})
	})
	at(env, h(2)+time.Minute, func() { second = queryDeadline(t, env) })
	at(env, h(5.5), func() { sub = sendUpdate(env, workflows.UpdateSubmit, compliance1()) })
	env.ExecuteWorkflow(workflows.DeadlineWorkflowName, deadlineInput(t, initial, compliance.Events{compliance.EventAware: deadlineT0}))
	st := deadlineResult(t, env)
	mustApply(t, "event", ev)
	mustApply(t, "submit", sub)
	// Before classification: the 24 h backstop from awareness.
	if first.DueAt == nil || !first.DueAt.Equal(deadlineT0.Add(h(24))) || first.Status != workflows.ObligationOpen {
		t.Fatalf("before classification: status %q due %v", first.Status, first.DueAt)
	}
	// Classified at 2 h: classification + 4 h is earlier.
	if second.DueAt == nil || !second.DueAt.Equal(deadlineT0.Add(h(6))) {
		t.Fatalf("after classification: due %v", second.DueAt)
	}
	// Reminders follow the new 4 h clock: half-time at 4 h, 1 h before at 5 h.
	if got, want := offsets(st.RemindersSent), []time.Duration{h(4), h(5)}; !slices.Equal(got, want) {
		t.Fatalf("reminders at %v, want %v", got, want)
	}
	if st.Status != workflows.ObligationSubmitted || st.CatalogueVersion != c.Version {
		t.Fatalf("final status %q catalogue %q", st.Status, st.CatalogueVersion)
	}
}

func TestDeadlineSubmitNeedsComplianceRole(t *testing.T) {
	env := newDeadlineEnv()
	var before, after workflows.DeadlineState
	var refused, noRef, ok *updateResult
	at(env, h(1), func() {
		before = queryDeadline(t, env)
		req := compliance1()
		req.SubmittedBy, req.Roles = "analyst", []string{"responder"}
		refused = sendUpdate(env, workflows.UpdateSubmit, req)
		req = compliance1()
		req.Reference = ""
		noRef = sendUpdate(env, workflows.UpdateSubmit, req)
	})
	at(env, h(1)+time.Minute, func() { after = queryDeadline(t, env) })
	at(env, h(2), func() {
		req := compliance1()
		req.Roles = []string{"admin"}
		ok = sendUpdate(env, workflows.UpdateSubmit, req)
	})
	env.ExecuteWorkflow(workflows.DeadlineWorkflowName, deadlineInput(t, "gdpr-art33-initial", compliance.Events{compliance.EventAware: deadlineT0}))
	st := deadlineResult(t, env)
	mustReject(t, "submit by a responder", refused, "Forbidden")
	mustReject(t, "submit without reference", noRef, "Invalid")
	mustApply(t, "submit by admin", ok)
	if after.Submission != nil || after.Status != workflows.ObligationOpen || len(after.History) != len(before.History) {
		t.Fatalf("refused submission was recorded: %+v", after)
	}
	if st.Status != workflows.ObligationSubmitted || st.Submission.Reference != "REF-1" {
		t.Fatalf("final %q submission %+v", st.Status, st.Submission)
	}
}

// Reminders and the late escalation go to the compliance channel.
func TestDeadlineNoticesToComplianceChannel(t *testing.T) {
	env := newDeadlineEnv()
	stage, version := catalogueStage(t, "gdpr-art33-initial")
	env.RegisterDelayedCallback(func() {}, h(80))
	env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, h(81))
	env.ExecuteWorkflow(workflows.DeadlineWorkflowName, workflows.DeadlineInput{ID: "dl-n", IncidentID: "inc-n", Stage: stage,
		CatalogueVersion: version, Events: compliance.Events{"aware": deadlineT0}})
	var reminders, late int
	for _, n := range deadlineNotices {
		if strings.HasPrefix(n, "deadline: Regulatory clock gdpr-art33-initial (incident inc-n") {
			reminders++
		}
		if strings.HasPrefix(n, "deadline: LATE: regulatory clock gdpr-art33-initial") {
			late++
		}
	}
	if reminders != 3 || late != 1 {
		t.Fatalf("notices %q: want 3 reminders and 1 late escalation", deadlineNotices)
	}
}
