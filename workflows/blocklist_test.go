package workflows_test

import (
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/riposte-soar/riposte/workflows"
)

func TestBlocklistTTLAndUnblock(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.BlocklistWorkflow, workflow.RegisterOptions{Name: workflows.BlocklistWorkflowName})
	list := func() map[string]workflows.BlockEntry {
		v, err := env.QueryWorkflow(workflows.QueryBlocklist)
		if err != nil {
			t.Fatal(err)
		}
		var out []workflows.BlockEntry
		if err := v.Get(&out); err != nil {
			t.Fatal(err)
		}
		m := map[string]workflows.BlockEntry{}
		for _, e := range out {
			m[e.Type+":"+e.Value] = e
		}
		return m
	}
	block := func(at time.Duration, typ, value string, ttl time.Duration) {
		env.RegisterDelayedCallback(func() {
			env.SignalWorkflow(workflows.SignalBlock, workflows.BlockRequest{Type: typ, Value: value, TTL: ttl, Incident: "inc-1", Step: "block"})
		}, at)
	}
	block(time.Minute, workflows.BlockIP, "203.0.113.7", time.Hour)
	block(time.Minute, workflows.BlockDomain, "evil.example", 0) // no expiry
	block(2*time.Minute, workflows.BlockIP, "198.51.100.1", 24*time.Hour)
	block(3*time.Minute, workflows.BlockIP, "203.0.113.7", 10*time.Minute) // shorter: keeps the later expiry
	env.RegisterDelayedCallback(func() {
		if n := len(list()); n != 3 {
			t.Errorf("after blocking: %d entries, want 3", n)
		}
	}, 30*time.Minute)
	env.RegisterDelayedCallback(func() {
		got := list()
		if _, ok := got["ip:203.0.113.7"]; ok {
			t.Error("203.0.113.7 outlived its 1 h TTL")
		}
		if _, ok := got["ip:198.51.100.1"]; !ok {
			t.Error("198.51.100.1 expired early")
		}
		env.SignalWorkflow(workflows.SignalUnblock, workflows.BlockRequest{Type: workflows.BlockDomain, Value: "evil.example"})
	}, 2*time.Hour)
	env.RegisterDelayedCallback(func() {
		got := list()
		if len(got) != 1 || got["ip:198.51.100.1"].Incident != "inc-1" {
			t.Errorf("after unblock: %+v", got)
		}
	}, 3*time.Hour)
	env.RegisterDelayedCallback(func() {
		if got := list(); len(got) != 0 {
			t.Errorf("after 25 h: %+v, want empty", got)
		}
		env.CancelWorkflow()
	}, 25*time.Hour)
	env.ExecuteWorkflow(workflows.BlocklistWorkflowName, workflows.BlocklistInput{})
}
