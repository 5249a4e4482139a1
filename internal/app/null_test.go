package app

import (
	"context"
	"testing"

	"go.uber.org/zap"

	"github.com/riposte-soar/riposte/activities"
)

// TestNullIntegration: with bench.null_integration every firewall,
// ticketing and threat-intel action succeeds without touching anything.
func TestNullIntegration(t *testing.T) {
	acts := &activities.Actions{}
	if err := useNullIntegration(acts, zap.NewNop()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, req := range []activities.ActionRequest{
		{Name: "enrich.ip", Args: map[string]any{"ip": "203.0.113.7"}},
		{Name: "firewall.block_ip", Args: map[string]any{"ip": "203.0.113.7", "ttl": "1h"}},
		{Name: "ticket.create", Args: map[string]any{"title": "t"}},
		{Name: "ticket.comment", Args: map[string]any{"ticket": "null-1", "body": "b"}},
		{Name: "firewall.unblock_ip", Args: map[string]any{"ip": "203.0.113.7"}},
	} {
		req.IncidentID, req.StepID = "inc-1", "step"
		res, err := acts.RunAction(ctx, req)
		if err != nil {
			t.Fatalf("%s: %v", req.Name, err)
		}
		if len(res.Output) == 0 {
			t.Fatalf("%s: no output", req.Name)
		}
	}
}
