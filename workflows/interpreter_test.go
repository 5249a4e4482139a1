package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/riposte-soar/riposte/activities"
	"github.com/riposte-soar/riposte/alerts"
	"github.com/riposte-soar/riposte/playbooks"
	"github.com/riposte-soar/riposte/workflows"
)

// recorder stands in for the integrations and remembers every call.
type recorder struct {
	calls   []string
	fail    map[string]error
	notices []string
	// chatFailures makes the first N chat calls fail as Slack would with a
	// 429 or a 5xx.
	chatFailures int
	posts        int
}

func (r *recorder) NotifyApproval(ctx context.Context, n activities.ApprovalNotice) (activities.ChatRef, error) {
	if r.chatFailures > 0 {
		r.chatFailures--
		return activities.ChatRef{}, temporal.NewApplicationErrorWithOptions("slack chat.postMessage: 429", "SlackRateLimited",
			temporal.ApplicationErrorOptions{NextRetryDelay: 30 * time.Second})
	}
	r.notices = append(r.notices, n.Kind+":"+n.Step+":"+n.Status)
	if n.Kind == activities.NoticePost {
		r.posts++
		return activities.ChatRef{Channel: "C1", TS: "1.0001"}, nil
	}
	if n.Ref.TS != "1.0001" {
		return activities.ChatRef{}, fmt.Errorf("%s without the posted message's ts", n.Kind)
	}
	return n.Ref, nil
}

func (r *recorder) RunAction(ctx context.Context, req activities.ActionRequest) (activities.ActionResult, error) {
	name := req.Name
	if req.Undo {
		name = "undo:" + name
	}
	r.calls = append(r.calls, name+"("+req.StepID+")")
	if err := r.fail[req.StepID]; err != nil && !req.Undo {
		return activities.ActionResult{}, err
	}
	return activities.ActionResult{Output: map[string]any{"ok": true}}, nil
}

type harness struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment
	rec *recorder
}

func newHarness(t *testing.T) *harness {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.IncidentWorkflow, workflow.RegisterOptions{Name: workflows.IncidentWorkflowName})
	rec := &recorder{fail: map[string]error{}}
	env.RegisterActivityWithOptions(rec.RunAction, activity.RegisterOptions{Name: activities.ActivityRunAction})
	env.RegisterActivityWithOptions(rec.NotifyApproval, activity.RegisterOptions{Name: activities.ActivityNotifyApproval})
	return &harness{t: t, env: env, rec: rec}
}

var triggerAlert = alerts.Alert{ID: "wazuh:1", Source: "wazuh", Title: "sshd: authentication failed", Severity: alerts.SeverityMedium,
	Status: alerts.StatusFiring, ObservedAt: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
	Observables: []alerts.Observable{{Type: alerts.ObsIP, Value: "203.0.113.7"}}, Labels: map[string]string{"rule.id": "5716"}}

// run starts the incident with pb, delivers the trigger alert, runs the
// callbacks, and closes the incident at closeAt (0: never) so the workflow
// ends.
func (h *harness) run(pb *playbooks.Playbook, closeAt time.Duration) workflows.IncidentState {
	h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(workflows.SignalAlert, triggerAlert) }, 0)
	if closeAt > 0 {
		h.env.RegisterDelayedCallback(func() {
			h.update(workflows.UpdateClose, workflows.LifecycleRequest{By: "analyst", Roles: []string{"responder"}, Reason: "done"}, false)
		}, closeAt)
	}
	h.env.ExecuteWorkflow(workflows.IncidentWorkflowName, workflows.IncidentInput{ID: "inc-t", Source: "wazuh", Playbook: pb.Name,
		PlaybookDef: pb, ReopenWindow: time.Minute, ReminderFraction: 0.5})
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
	var st workflows.IncidentState
	if err := h.env.GetWorkflowResult(&st); err != nil {
		h.t.Fatal(err)
	}
	return st
}

// update sends an Update; wantReject says the validator must refuse it.
func (h *harness) update(name string, arg any, wantReject bool) {
	h.t.Helper()
	h.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
		OnReject: func(err error) {
			if !wantReject {
				h.t.Errorf("update %s %+v rejected: %v", name, arg, err)
			}
		},
		OnAccept: func() {
			if wantReject {
				h.t.Errorf("update %s %+v accepted, want rejected", name, arg)
			}
		},
		OnComplete: func(any, error) {},
	}, arg)
}

func (h *harness) decide(at time.Duration, step, decision, by string, roles []string, wantReject bool) {
	h.env.RegisterDelayedCallback(func() {
		h.update(workflows.UpdateDecide, workflows.DecideRequest{Step: step, Decision: decision, By: by, Roles: roles}, wantReject)
	}, at)
}

func dur(d time.Duration) playbooks.Duration { return playbooks.Duration(d) }

func blockPlaybook(approval playbooks.Approval, onError string) *playbooks.Playbook {
	return &playbooks.Playbook{Name: "t", Version: "1", SHA256: "x", Phases: map[string][]playbooks.Step{
		playbooks.PhaseContain: {
			{ID: "approve_block", Kind: playbooks.KindApproval, Approval: &approval, OnError: onError},
			{ID: "block", Kind: playbooks.KindAction, If: `steps.approve_block.status == "approved"`,
				Action: &playbooks.ActionCall{Name: "firewall.block_ip", Args: map[string]any{"ip": "${{ alert.observables[0].value }}", "ttl": "24h"}},
				Undo:   &playbooks.ActionCall{Name: "firewall.unblock_ip", Args: map[string]any{"ip": "${{ alert.observables[0].value }}"}}},
		},
	}}
}

func approvalOf(st workflows.IncidentState, step string) workflows.ApprovalState {
	for _, a := range st.Approvals {
		if a.Step == step {
			return a
		}
	}
	return workflows.ApprovalState{}
}

func stepStatus(st workflows.IncidentState, id string) string {
	for _, s := range st.Steps {
		if s.ID == id {
			return s.Status
		}
	}
	return ""
}

var responder = []string{"responder"}

func TestApprovalApprove(t *testing.T) {
	h := newHarness(t)
	h.decide(10*time.Minute, "approve_block", "approve", "alice", responder, false)
	st := h.run(blockPlaybook(playbooks.Approval{Approvers: responder, Timeout: dur(time.Hour), OnTimeout: "deny", Required: 1}, ""), 2*time.Hour)
	if a := approvalOf(st, "approve_block"); a.Status != workflows.ApprovalApproved || len(a.Decisions) != 1 || a.Decisions[0].By != "alice" {
		t.Fatalf("approval %+v", a)
	}
	want := []string{"firewall.block_ip(block)", "undo:firewall.unblock_ip(block)"}
	if !slices.Equal(h.rec.calls, want) {
		t.Fatalf("calls %v, want %v (block, then the undo on close)", h.rec.calls, want)
	}
	if st.Status != workflows.StatusClosed || st.Lifecycle.Acknowledged.IsZero() || st.Lifecycle.Contained.IsZero() {
		t.Fatalf("status %s lifecycle %+v", st.Status, st.Lifecycle)
	}
}

func TestApprovalReject(t *testing.T) {
	h := newHarness(t)
	h.decide(10*time.Minute, "approve_block", "reject", "alice", responder, false)
	st := h.run(blockPlaybook(playbooks.Approval{Approvers: responder, Timeout: dur(time.Hour), OnTimeout: "deny", Required: 1}, ""), 2*time.Hour)
	if a := approvalOf(st, "approve_block"); a.Status != workflows.ApprovalRejected {
		t.Fatalf("approval %+v", a)
	}
	if stepStatus(st, "block") != workflows.StepSkipped || len(h.rec.calls) != 0 {
		t.Fatalf("block %s, calls %v: want skipped and nothing done", stepStatus(st, "block"), h.rec.calls)
	}
}

func TestApprovalTimeoutDenies(t *testing.T) {
	h := newHarness(t)
	st := h.run(blockPlaybook(playbooks.Approval{Approvers: responder, Timeout: dur(30 * time.Minute), OnTimeout: "deny", Required: 1}, ""), 5*time.Hour)
	if a := approvalOf(st, "approve_block"); a.Status != workflows.ApprovalExpired {
		t.Fatalf("approval %+v", a)
	}
	if stepStatus(st, "approve_block") != workflows.StepExpired || len(h.rec.calls) != 0 {
		t.Fatalf("calls %v", h.rec.calls)
	}
}

func TestApprovalEscalatesThenApprovedByEscalationRole(t *testing.T) {
	h := newHarness(t)
	// After 30 min the approval moves to admins: a responder may no longer
	// decide, an admin may.
	h.decide(45*time.Minute, "approve_block", "approve", "bob", responder, true)
	h.decide(50*time.Minute, "approve_block", "approve", "carol", []string{"admin"}, false)
	st := h.run(blockPlaybook(playbooks.Approval{Approvers: responder, Timeout: dur(30 * time.Minute), OnTimeout: "escalate",
		EscalateTo: []string{"admin"}, EscalationTimeout: dur(time.Hour), Required: 1}, ""), 3*time.Hour)
	a := approvalOf(st, "approve_block")
	if a.Status != workflows.ApprovalApproved || !a.Escalated || len(a.Decisions) != 1 || a.Decisions[0].By != "carol" {
		t.Fatalf("approval %+v", a)
	}
	if h.rec.calls[0] != "firewall.block_ip(block)" {
		t.Fatalf("calls %v", h.rec.calls)
	}
}

func TestFourEyes(t *testing.T) {
	h := newHarness(t)
	h.decide(5*time.Minute, "approve_block", "approve", "alice", responder, false)
	h.decide(6*time.Minute, "approve_block", "approve", "alice", responder, true) // the same person twice
	h.decide(7*time.Minute, "approve_block", "approve", "bob", responder, false)
	st := h.run(blockPlaybook(playbooks.Approval{Approvers: responder, Timeout: dur(time.Hour), OnTimeout: "deny", Required: 2}, ""), 2*time.Hour)
	a := approvalOf(st, "approve_block")
	if a.Status != workflows.ApprovalApproved || len(a.Decisions) != 2 || a.Decisions[1].By != "bob" {
		t.Fatalf("approval %+v", a)
	}
}

func TestNonApproverRefusedBeforeHistory(t *testing.T) {
	h := newHarness(t)
	h.decide(5*time.Minute, "approve_block", "approve", "mallory", []string{"ingest"}, true)
	h.decide(6*time.Minute, "nosuch", "approve", "alice", responder, true)
	h.decide(7*time.Minute, "approve_block", "maybe", "alice", responder, true)
	st := h.run(blockPlaybook(playbooks.Approval{Approvers: responder, Timeout: dur(time.Hour), OnTimeout: "deny", Required: 1}, ""), 2*time.Hour)
	a := approvalOf(st, "approve_block")
	if len(a.Decisions) != 0 || a.Status != workflows.ApprovalExpired {
		t.Fatalf("refused votes left a trace: %+v", a)
	}
	for _, e := range st.Timeline {
		if strings.Contains(e.Message, "mallory") {
			t.Fatalf("timeline mentions the refused voter: %+v", e)
		}
	}
}

func TestCompensationInReverseOrder(t *testing.T) {
	h := newHarness(t)
	h.rec.fail["isolate"] = temporal.NewNonRetryableApplicationError("edr down", "Down", nil)
	act := func(id, name, undo string) playbooks.Step {
		return playbooks.Step{ID: id, Kind: playbooks.KindAction, OnError: playbooks.OnErrorCompensate,
			Action: &playbooks.ActionCall{Name: name, Args: map[string]any{"ip": "203.0.113.7"}},
			Undo:   &playbooks.ActionCall{Name: undo, Args: map[string]any{"ip": "203.0.113.7"}}}
	}
	pb := &playbooks.Playbook{Name: "t", Version: "1", Phases: map[string][]playbooks.Step{playbooks.PhaseContain: {
		act("first", "firewall.block_ip", "firewall.unblock_ip"),
		act("second", "firewall.block_domain", "firewall.unblock_domain"),
		act("isolate", "firewall.block_url", "firewall.unblock_url"),
		act("never", "firewall.block_ip", "firewall.unblock_ip"),
	}}}
	st := h.run(pb, time.Hour)
	want := []string{"firewall.block_ip(first)", "firewall.block_domain(second)", "firewall.block_url(isolate)",
		"undo:firewall.unblock_domain(second)", "undo:firewall.unblock_ip(first)"}
	if !slices.Equal(h.rec.calls, want) {
		t.Fatalf("calls\n%v\nwant\n%v", h.rec.calls, want)
	}
	if st.Playbook.Status != "failed" || stepStatus(st, "never") != "" {
		t.Fatalf("playbook %+v, never=%q", st.Playbook, stepStatus(st, "never"))
	}
}

func TestIfSkips(t *testing.T) {
	h := newHarness(t)
	pb := &playbooks.Playbook{Name: "t", Version: "1", Phases: map[string][]playbooks.Step{playbooks.PhaseDetect: {
		{ID: "only_critical", Kind: playbooks.KindAction, If: `alert.severity == "critical"`,
			Action: &playbooks.ActionCall{Name: "firewall.block_ip", Args: map[string]any{"ip": "1.2.3.4"}}},
		{ID: "medium", Kind: playbooks.KindAction, If: `alert.severity == "medium" && alert.labels["rule.id"] == "5716"`,
			Action: &playbooks.ActionCall{Name: "firewall.block_ip", Args: map[string]any{"ip": "5.6.7.8"}}},
	}}}
	st := h.run(pb, time.Hour)
	if stepStatus(st, "only_critical") != workflows.StepSkipped || stepStatus(st, "medium") != workflows.StepSucceeded {
		t.Fatalf("steps %+v", st.Steps)
	}
	if !slices.Equal(h.rec.calls, []string{"firewall.block_ip(medium)"}) {
		t.Fatalf("calls %v", h.rec.calls)
	}
}

func TestParallelFailureCancelsSiblings(t *testing.T) {
	h := newHarness(t)
	h.rec.fail["bad"] = temporal.NewNonRetryableApplicationError("boom", "Boom", nil)
	pb := &playbooks.Playbook{Name: "t", Version: "1", Phases: map[string][]playbooks.Step{playbooks.PhaseContain: {
		{ID: "fan", Kind: playbooks.KindParallel, Parallel: []playbooks.Step{
			{ID: "slow", Kind: playbooks.KindWait, Wait: &playbooks.Wait{Duration: dur(time.Hour)}},
			{ID: "bad", Kind: playbooks.KindAction, Action: &playbooks.ActionCall{Name: "firewall.block_ip", Args: map[string]any{"ip": "1.2.3.4"}}},
		}},
		{ID: "after", Kind: playbooks.KindAction, Action: &playbooks.ActionCall{Name: "firewall.block_ip", Args: map[string]any{"ip": "5.6.7.8"}}},
	}}}
	st := h.run(pb, 3*time.Hour)
	if stepStatus(st, "slow") != workflows.StepCancelled || stepStatus(st, "bad") != workflows.StepFailed || stepStatus(st, "after") != "" {
		t.Fatalf("steps %+v", st.Steps)
	}
	if st.Playbook.Status != "failed" {
		t.Fatalf("playbook %+v", st.Playbook)
	}
}

func TestNotConfiguredIsRecordedNotFaked(t *testing.T) {
	h := newHarness(t)
	h.rec.fail["ticket"] = temporal.NewNonRetryableApplicationError("ticket.create: integration ticketing not configured", activities.ErrTypeNotConfigured, nil)
	pb := &playbooks.Playbook{Name: "t", Version: "1", Phases: map[string][]playbooks.Step{playbooks.PhaseAnalyse: {
		{ID: "ticket", Kind: playbooks.KindAction, Action: &playbooks.ActionCall{Name: "ticket.create", Args: map[string]any{"title": "x"}}},
		{ID: "next", Kind: playbooks.KindSet, Set: map[string]string{"n": "1 + 1"}},
	}}}
	st := h.run(pb, time.Hour)
	if stepStatus(st, "ticket") != workflows.StepNotConfigured || stepStatus(st, "next") != workflows.StepSucceeded || st.Vars["n"] == nil {
		t.Fatalf("steps %+v vars %v", st.Steps, st.Vars)
	}
	found := false
	for _, e := range st.Timeline {
		found = found || (e.Kind == "not_configured" && strings.Contains(e.Message, "ticketing not configured"))
	}
	if !found {
		t.Fatal("timeline does not say the integration is not configured")
	}
	_ = errors.New
}

// Reminder at half the timeout, escalation on timeout, and the message
// updated with the outcome; Slack's 429s are retried by Temporal without a
// second post.
func TestApprovalChatReminderEscalationAndRetries(t *testing.T) {
	h := newHarness(t)
	h.rec.chatFailures = 2
	st := h.run(blockPlaybook(playbooks.Approval{Approvers: responder, Timeout: dur(30 * time.Minute), OnTimeout: "escalate",
		EscalateTo: []string{"admin"}, EscalationTimeout: dur(time.Hour), Required: 1}, ""), 4*time.Hour)
	want := []string{
		"post:approve_block:pending",
		"reminder:approve_block:pending",
		"escalate:approve_block:escalated",
		"reminder:approve_block:escalated",
		"update:approve_block:expired",
		"thread::", // "incident closed" in the request's thread
	}
	if !slices.Equal(h.rec.notices, want) {
		t.Fatalf("notices\n%v\nwant\n%v", h.rec.notices, want)
	}
	if h.rec.posts != 1 {
		t.Fatalf("%d posts, want exactly 1 after two 429s", h.rec.posts)
	}
	if a := approvalOf(st, "approve_block"); a.Chat == nil || a.Chat.TS != "1.0001" {
		t.Fatalf("chat ref not kept: %+v", a.Chat)
	}
}
