package workflows_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/riposte-soar/riposte/activities"
	"github.com/riposte-soar/riposte/playbooks"
	"github.com/riposte-soar/riposte/workflows"
)

type intel struct{ score int64 }

func (i intel) Name() string             { return "abuseipdb" }
func (i intel) Supports(typ string) bool { return typ == "ip" }
func (i intel) Enrich(context.Context, string, string) (map[string]any, error) {
	return map[string]any{"abuse_confidence": i.score, "country": "CN"}, nil
}

type tickets struct{ calls []string }

func (t *tickets) System() string { return "rt" }
func (t *tickets) Create(_ context.Context, r activities.TicketRequest) (activities.TicketRef, error) {
	t.calls = append(t.calls, "create "+r.Key)
	return activities.TicketRef{ID: "7", URL: "http://rt/Ticket/Display.html?id=7", Created: true}, nil
}
func (t *tickets) Comment(_ context.Context, id, body string) error {
	t.calls = append(t.calls, "comment "+id+" "+body)
	return nil
}
func (t *tickets) Resolve(_ context.Context, id, _ string) error {
	t.calls = append(t.calls, "resolve "+id)
	return nil
}

// runWithActions runs pb with the real activities.Actions over fakes of the
// integrations, and closes the incident after an hour.
func runWithActions(t *testing.T, a *activities.Actions, pb *playbooks.Playbook) workflows.IncidentState {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.IncidentWorkflow, workflow.RegisterOptions{Name: workflows.IncidentWorkflowName})
	env.RegisterActivityWithOptions(a.RunAction, activity.RegisterOptions{Name: activities.ActivityRunAction})
	h := &harness{t: t, env: env}
	return h.run(pb, time.Hour)
}

func TestPlaybookBranchesOnEnrichment(t *testing.T) {
	pb := &playbooks.Playbook{Name: "t", Version: "1", Phases: map[string][]playbooks.Step{
		playbooks.PhaseAnalyse: {
			{ID: "enrich", Kind: playbooks.KindAction, Action: &playbooks.ActionCall{Name: "enrich.ip", Args: map[string]any{"ip": "${{ alert.observables[0].value }}"}}},
			{ID: "block", Kind: playbooks.KindAction, If: `steps.enrich.output.abuse_confidence >= 75`,
				Action: &playbooks.ActionCall{Name: "firewall.block_ip", Args: map[string]any{"ip": "${{ steps.enrich.output.value }}"}}},
		},
	}}
	for _, tc := range []struct {
		score int64
		want  string
	}{{90, workflows.StepSucceeded}, {10, workflows.StepSkipped}} {
		fw := &edl{}
		st := runWithActions(t, &activities.Actions{Enrichers: []activities.Enricher{intel{tc.score}}, Firewall: fw}, pb)
		if got := stepStatus(st, "block"); got != tc.want {
			t.Fatalf("score %d: block step %q, want %q", tc.score, got, tc.want)
		}
		found := false
		for _, e := range st.Timeline {
			found = found || (e.Kind == "action" && strings.Contains(e.Message, "enrich.ip done") && strings.Contains(e.Message, "abuse_confidence="+itoa(tc.score)))
		}
		if !found {
			t.Fatalf("score %d: the timeline does not show the enrichment: %+v", tc.score, st.Timeline)
		}
	}
}

type edl struct{ blocked []string }

func (e *edl) Block(_ context.Context, b activities.Block) error {
	e.blocked = append(e.blocked, b.Value)
	return nil
}
func (e *edl) Unblock(context.Context, activities.Block) error { return nil }

func itoa(n int64) string {
	return strings.TrimSpace(strings.Replace(time.Duration(n).String(), "ns", "", 1))
}

func TestTicketsRecordedAndDefaulted(t *testing.T) {
	tk := &tickets{}
	pb := &playbooks.Playbook{Name: "t", Version: "1", Phases: map[string][]playbooks.Step{
		playbooks.PhaseAnalyse: {
			{ID: "ticket", Kind: playbooks.KindAction, Action: &playbooks.ActionCall{Name: "ticket.create", Args: map[string]any{"title": "${{ alert.title }}"}},
				Undo: &playbooks.ActionCall{Name: "ticket.resolve", Args: map[string]any{}}},
			{ID: "note", Kind: playbooks.KindAction, Action: &playbooks.ActionCall{Name: "ticket.comment", Args: map[string]any{"body": "triaged"}}},
		},
	}}
	st := runWithActions(t, &activities.Actions{Ticketing: tk}, pb)
	want := []string{"create inc-t/ticket", "comment 7 triaged", "resolve 7"}
	if !slices.Equal(tk.calls, want) {
		t.Fatalf("calls %v, want %v", tk.calls, want)
	}
	if len(st.Tickets) != 1 || st.Tickets[0].ID != "7" || st.Tickets[0].System != "rt" || st.Tickets[0].URL != "http://rt/Ticket/Display.html?id=7" || !st.Tickets[0].Resolved || st.Tickets[0].Step != "ticket" {
		t.Fatalf("tickets %+v", st.Tickets)
	}
}

type hooks struct{ name, key, body string }

func (h *hooks) Post(_ context.Context, name, key string, body []byte) (int, error) {
	h.name, h.key, h.body = name, key, string(body)
	return 204, nil
}

// webhook.post's body is data whose strings are CEL templates, rendered
// against the incident like every other argument.
func TestWebhookBodyIsTemplated(t *testing.T) {
	wh := &hooks{}
	pb := &playbooks.Playbook{Name: "t", Version: "1", Phases: map[string][]playbooks.Step{
		playbooks.PhaseAnalyse: {
			{ID: "notify", Kind: playbooks.KindAction, Action: &playbooks.ActionCall{Name: "webhook.post", Args: map[string]any{
				"webhook": "soc-bus",
				"body": map[string]any{
					"incident": "${{ incident.id }}",
					"source":   "${{ alert.observables[0].value }}",
					"tags":     []any{"riposte", "${{ alert.labels['rule.id'] }}"},
				},
			}}},
		},
	}}
	st := runWithActions(t, &activities.Actions{Webhooks: wh}, pb)
	if stepStatus(st, "notify") != workflows.StepSucceeded {
		t.Fatalf("steps %+v", st.Steps)
	}
	want := `{"incident":"inc-t","source":"203.0.113.7","tags":["riposte","5716"]}`
	if wh.name != "soc-bus" || wh.key != "inc-t/notify" || wh.body != want {
		t.Fatalf("posted %q key %q body %s, want %s", wh.name, wh.key, wh.body, want)
	}
}
