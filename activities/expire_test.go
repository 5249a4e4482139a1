package activities

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// expiryVendor records unblocks and answers each value with a set error.
type expiryVendor struct {
	name     string
	errs     map[string]error // by value
	unblocks []string
	keys     []string
}

func (v *expiryVendor) Name() string                       { return v.name }
func (v *expiryVendor) Block(context.Context, Block) error { return errors.New("block: not expected") }
func (v *expiryVendor) Unblock(_ context.Context, b Block) error {
	v.unblocks = append(v.unblocks, b.Type+" "+b.Value)
	v.keys = append(v.keys, b.IdempotencyKey)
	return v.errs[b.Value]
}

var expired = ExpireRequest{Blocks: []ExpiredBlock{
	{Type: "ip", Value: "203.0.113.7", Incident: "inc-1", Step: "block"},
	{Type: "domain", Value: "evil.example", Incident: "inc-2", Step: "block_domain"},
}}

func TestExpireBlocksNoVendors(t *testing.T) {
	res, err := (&Actions{}).ExpireBlocks(context.Background(), expired)
	if err != nil || res != (ExpireResult{}) {
		t.Fatalf("no vendors: %+v %v", res, err)
	}
}

func TestExpireBlocksUnblocksEveryPairAndSkipsUnsupported(t *testing.T) {
	nft := &expiryVendor{name: "nftables", errs: map[string]error{
		"evil.example": temporal.NewNonRetryableApplicationError("nftables: domain blocks are not supported", ErrTypeUnsupported, nil)}}
	forti := &expiryVendor{name: "fortigate"}
	var observed []string
	a := &Actions{Vendors: []VendorFirewall{nft, forti}, Observe: func(integration, action, outcome string, _ time.Duration) {
		observed = append(observed, integration+" "+action+" "+outcome)
	}}
	res, err := a.ExpireBlocks(context.Background(), expired)
	if err != nil {
		t.Fatal(err)
	}
	if res != (ExpireResult{Unblocked: 3, Skipped: 1}) {
		t.Fatalf("result %+v, want 3 unblocked and 1 skipped", res)
	}
	want := []string{"ip 203.0.113.7", "domain evil.example"}
	if !reflect.DeepEqual(nft.unblocks, want) || !reflect.DeepEqual(forti.unblocks, want) {
		t.Fatalf("unblocks: nftables %v, fortigate %v; want %v on each", nft.unblocks, forti.unblocks, want)
	}
	if wantKeys := []string{"inc-1/block/expire", "inc-2/block_domain/expire"}; !reflect.DeepEqual(forti.keys, wantKeys) {
		t.Fatalf("keys %v, want %v", forti.keys, wantKeys)
	}
	wantObs := []string{"nftables firewall.expire_ip ok", "fortigate firewall.expire_ip ok",
		"nftables firewall.expire_domain error", "fortigate firewall.expire_domain ok"}
	if !reflect.DeepEqual(observed, wantObs) {
		t.Fatalf("observed %v, want %v", observed, wantObs)
	}
}

func TestExpireBlocksErrorsKeepRetryClass(t *testing.T) {
	retryable := temporal.NewApplicationErrorWithOptions("opnsense: 503 Service Unavailable", "HTTPStatus",
		temporal.ApplicationErrorOptions{NextRetryDelay: 30 * time.Second})
	denied := temporal.NewNonRetryableApplicationError("fortigate: 401 Unauthorized", "HTTPStatus", nil)
	cases := []struct {
		name         string
		errs         map[string]map[string]error // vendor -> value -> error
		wantNonRetry bool
		wantDelay    time.Duration
		wantMsg      string
	}{
		{
			name:      "retryable keeps its delay",
			errs:      map[string]map[string]error{"opnsense": {"203.0.113.7": retryable}},
			wantDelay: 30 * time.Second,
			wantMsg:   "expire blocks (1 of 4 vendor unblocks failed): ip 203.0.113.7 on opnsense: opnsense: 503 Service Unavailable",
		},
		{
			name:         "non-retryable stays non-retryable",
			errs:         map[string]map[string]error{"fortigate": {"evil.example": denied}},
			wantNonRetry: true,
			wantMsg:      "expire blocks (1 of 4 vendor unblocks failed): domain evil.example on fortigate: fortigate: 401 Unauthorized",
		},
		{
			name: "a retryable failure wins so that Temporal retries",
			errs: map[string]map[string]error{
				"fortigate": {"203.0.113.7": denied},
				"opnsense":  {"evil.example": retryable},
			},
			wantDelay: 30 * time.Second,
			wantMsg:   "expire blocks (2 of 4 vendor unblocks failed): domain evil.example on opnsense: opnsense: 503 Service Unavailable",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			forti := &expiryVendor{name: "fortigate", errs: tc.errs["fortigate"]}
			opn := &expiryVendor{name: "opnsense", errs: tc.errs["opnsense"]}
			_, err := (&Actions{Vendors: []VendorFirewall{forti, opn}}).ExpireBlocks(context.Background(), expired)
			var app *temporal.ApplicationError
			if !errors.As(err, &app) {
				t.Fatalf("error %v (%T), want an application error", err, err)
			}
			if app.NonRetryable() != tc.wantNonRetry || app.NextRetryDelay() != tc.wantDelay || app.Type() != "HTTPStatus" {
				t.Fatalf("non-retryable %v, delay %v, type %q; want %v, %v, HTTPStatus", app.NonRetryable(), app.NextRetryDelay(), app.Type(), tc.wantNonRetry, tc.wantDelay)
			}
			if app.Message() != tc.wantMsg {
				t.Fatalf("message %q, want %q", app.Message(), tc.wantMsg)
			}
			// One broken vendor does not keep blocks on the other.
			if len(forti.unblocks) != 2 || len(opn.unblocks) != 2 {
				t.Fatalf("unblocks: fortigate %v, opnsense %v; want both values on each", forti.unblocks, opn.unblocks)
			}
		})
	}
}

func TestExpireBlocksPlainErrorIsRetryable(t *testing.T) {
	v := &expiryVendor{name: "opnsense", errs: map[string]error{"203.0.113.7": errors.New("dial tcp 192.0.2.1:443: connection refused")}}
	_, err := (&Actions{Vendors: []VendorFirewall{v}}).ExpireBlocks(context.Background(), expired)
	var app *temporal.ApplicationError
	if err == nil || errors.As(err, &app) {
		t.Fatalf("error %v: want a plain (retryable) error", err)
	}
	if !strings.Contains(err.Error(), "ip 203.0.113.7 on opnsense: dial tcp") {
		t.Fatalf("message %q", err)
	}
}

func TestExpireBlocksStopsWhenCancelled(t *testing.T) {
	v := &expiryVendor{name: "fortigate"}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := (&Actions{Vendors: []VendorFirewall{v}}).ExpireBlocks(ctx, expired)
	if !errors.Is(err, context.Canceled) || len(v.unblocks) != 0 {
		t.Fatalf("cancelled: %v, %d unblocks; want context.Canceled and none", err, len(v.unblocks))
	}
}

// A retry resumes after the blocks its last heartbeat recorded as off
// every vendor. (Heartbeats are throttled, so only the first one reaches
// the listener here: the resumed count, sent after the first call.)
func TestExpireBlocksResumesFromHeartbeat(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	forti := &expiryVendor{name: "fortigate"}
	env.RegisterActivityWithOptions((&Actions{Vendors: []VendorFirewall{forti}}).ExpireBlocks, activity.RegisterOptions{Name: ActivityExpireBlocks})
	env.SetHeartbeatDetails(1)
	var progress []int
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		var n int
		if err := details.Get(&n); err != nil {
			t.Error(err)
		}
		progress = append(progress, n)
	})
	v, err := env.ExecuteActivity(ActivityExpireBlocks, expired)
	if err != nil {
		t.Fatal(err)
	}
	var res ExpireResult
	if err := v.Get(&res); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(forti.unblocks, []string{"domain evil.example"}) || res.Unblocked != 1 {
		t.Fatalf("resumed at 1: unblocked %v, result %+v; want only the domain", forti.unblocks, res)
	}
	if len(progress) == 0 || progress[0] != 1 {
		t.Fatalf("heartbeats %v, want the first to carry the resumed count 1", progress)
	}
}
