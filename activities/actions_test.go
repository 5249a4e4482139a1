package activities

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
)

type fakeFirewall struct{ blocks, unblocks []Block }

func (f *fakeFirewall) Block(_ context.Context, b Block) error {
	f.blocks = append(f.blocks, b)
	return nil
}
func (f *fakeFirewall) Unblock(_ context.Context, b Block) error {
	f.unblocks = append(f.unblocks, b)
	return nil
}

func errType(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Type()
	}
	return ""
}

func TestRunAction(t *testing.T) {
	fw := &fakeFirewall{}
	a := &Actions{Firewall: fw}
	ctx := context.Background()
	req := func(name string, args map[string]any) ActionRequest {
		return ActionRequest{IncidentID: "inc-1", StepID: "block", Name: name, Args: args}
	}
	tests := []struct {
		name    string
		req     ActionRequest
		errType string
		value   string
	}{
		{"ipv4", req("firewall.block_ip", map[string]any{"ip": " 203.0.113.7 ", "ttl": "24h"}), "", "203.0.113.7"},
		{"mapped ipv6", req("firewall.block_ip", map[string]any{"ip": "::ffff:198.51.100.1"}), "", "198.51.100.1"},
		{"prefix", req("firewall.block_ip", map[string]any{"ip": "10.1.2.3/24"}), "", "10.1.2.0/24"},
		{"not an ip", req("firewall.block_ip", map[string]any{"ip": "10.0.0.300"}), ErrTypeInvalidArgs, ""},
		{"bad ttl", req("firewall.block_ip", map[string]any{"ip": "10.0.0.1", "ttl": "soon"}), ErrTypeInvalidArgs, ""},
		{"domain", req("firewall.block_domain", map[string]any{"domain": "Evil.Example."}), "", "evil.example"},
		{"not a domain", req("firewall.block_domain", map[string]any{"domain": "evil example"}), ErrTypeInvalidArgs, ""},
		{"url", req("firewall.block_url", map[string]any{"url": "https://evil.example/login?x=1"}), "", "evil.example/login?x=1"},
		{"ticket not configured", req("ticket.create", map[string]any{"title": "x"}), ErrTypeNotConfigured, ""},
		{"unknown", req("nope.do", nil), ErrTypeInvalidArgs, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fw.blocks = nil
			res, err := a.RunAction(ctx, tc.req)
			if got := errType(err); got != tc.errType {
				t.Fatalf("error %v (type %q), want type %q", err, got, tc.errType)
			}
			if tc.value != "" && (len(fw.blocks) != 1 || fw.blocks[0].Value != tc.value || res.Output["value"] != tc.value) {
				t.Fatalf("blocks %+v output %v, want %s", fw.blocks, res.Output, tc.value)
			}
		})
	}
	if _, err := a.RunAction(ctx, req("firewall.block_ip", map[string]any{"ip": "10.0.0.1", "ttl": "1h"})); err != nil {
		t.Fatal(err)
	}
	if b := fw.blocks[0]; b.TTL != time.Hour || b.IdempotencyKey != "inc-1/block" {
		t.Fatalf("block %+v", b)
	}
	if _, err := (&Actions{}).RunAction(ctx, req("firewall.block_ip", map[string]any{"ip": "10.0.0.1"})); errType(err) != ErrTypeNotConfigured {
		t.Fatalf("no firewall: %v", err)
	}
}
