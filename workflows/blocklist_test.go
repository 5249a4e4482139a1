package workflows_test

import (
	"context"
	"errors"
	"os"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/riposte-soar/riposte/activities"
	"github.com/riposte-soar/riposte/workflows"
)

func TestBlocklistTTLAndUnblock(t *testing.T) {
	env := blocklistEnv() // no vendor firewalls
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

// expiryVendor is a vendor firewall that records unblocks. Values in down
// fail with a retryable error until healthy is set; domains are
// Unsupported when noDomains is set (as on nftables).
type expiryVendor struct {
	name      string
	noDomains bool
	// downDelay is the Retry-After of the failure while down.
	downDelay time.Duration
	mu        sync.Mutex
	down      map[string]bool
	unblocked []string // successful unblocks, "type value"
	failed    int
}

func (v *expiryVendor) Name() string { return v.name }
func (v *expiryVendor) Block(context.Context, activities.Block) error {
	return errors.New("block: not expected")
}
func (v *expiryVendor) Unblock(_ context.Context, b activities.Block) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.down[b.Value] {
		v.failed++
		return temporal.NewApplicationErrorWithOptions(v.name+": 503 Service Unavailable", "HTTPStatus",
			temporal.ApplicationErrorOptions{NextRetryDelay: v.downDelay})
	}
	v.unblocked = append(v.unblocked, b.Type+" "+b.Value)
	if v.noDomains && b.Type == workflows.BlockDomain {
		return temporal.NewNonRetryableApplicationError(v.name+": domain blocks are not supported", activities.ErrTypeUnsupported, nil)
	}
	return nil
}

func (v *expiryVendor) setDown(value string, down bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.down == nil {
		v.down = map[string]bool{}
	}
	v.down[value] = down
}

func (v *expiryVendor) calls() (unblocked []string, failed int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.unblocked...), v.failed
}

// blocklistEnv runs the blocklist with the real ExpireBlocks activity in
// front of the given vendor firewalls.
func blocklistEnv(vendors ...activities.VendorFirewall) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.BlocklistWorkflow, workflow.RegisterOptions{Name: workflows.BlocklistWorkflowName})
	acts := &activities.Actions{Vendors: vendors}
	env.RegisterActivityWithOptions(acts.ExpireBlocks, activity.RegisterOptions{Name: activities.ActivityExpireBlocks})
	return env
}

func queryList(t *testing.T, env *testsuite.TestWorkflowEnvironment) []string {
	t.Helper()
	v, err := env.QueryWorkflow(workflows.QueryBlocklist)
	if err != nil {
		t.Fatal(err)
	}
	var list []workflows.BlockEntry
	if err := v.Get(&list); err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, e := range list {
		out = append(out, e.Type+" "+e.Value)
	}
	return out
}

func signalAt(env *testsuite.TestWorkflowEnvironment, at time.Duration, name string, r workflows.BlockRequest) {
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(name, r) }, at)
}

// An expired block leaves every vendor firewall exactly once; a block
// unblocked before its TTL, or without a TTL, never reaches the expiry.
func TestBlocklistExpiryUnblocksVendors(t *testing.T) {
	forti := &expiryVendor{name: "fortigate"}
	nft := &expiryVendor{name: "nftables", noDomains: true}
	env := blocklistEnv(forti, nft)
	ip := func(v string, ttl time.Duration) workflows.BlockRequest {
		return workflows.BlockRequest{Type: workflows.BlockIP, Value: v, TTL: ttl, Incident: "inc-1", Step: "block"}
	}
	signalAt(env, time.Minute, workflows.SignalBlock, ip("203.0.113.7", time.Hour))
	signalAt(env, time.Minute, workflows.SignalBlock, workflows.BlockRequest{Type: workflows.BlockDomain, Value: "evil.example", TTL: 2 * time.Hour, Incident: "inc-1", Step: "block_domain"})
	signalAt(env, time.Minute, workflows.SignalBlock, ip("198.51.100.1", 3*time.Hour))
	signalAt(env, time.Minute, workflows.SignalBlock, ip("192.0.2.9", 0))
	signalAt(env, 2*time.Minute, workflows.SignalBlock, ip("203.0.113.7", time.Hour)) // one entry, expiring at 1h02m
	signalAt(env, 90*time.Minute, workflows.SignalUnblock, ip("198.51.100.1", 0))
	check := func(at time.Duration, want []string) {
		env.RegisterDelayedCallback(func() {
			for _, v := range []*expiryVendor{forti, nft} {
				if got, _ := v.calls(); !reflect.DeepEqual(got, want) {
					t.Errorf("at %v: %s unblocked %q, want %q", at, v.name, got, want)
				}
			}
		}, at)
	}
	check(61*time.Minute, nil)
	check(63*time.Minute, []string{"ip 203.0.113.7"})
	check(4*time.Hour, []string{"ip 203.0.113.7", "domain evil.example"})
	env.RegisterDelayedCallback(func() {
		if got := queryList(t, env); !reflect.DeepEqual(got, []string{"ip 192.0.2.9"}) {
			t.Errorf("list after 4 h: %q", got)
		}
		env.CancelWorkflow()
	}, 4*time.Hour+time.Minute)
	env.ExecuteWorkflow(workflows.BlocklistWorkflowName, workflows.BlocklistInput{})
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
}

// A vendor that is down keeps the expiry retrying without holding up the
// list: blocks that arrive meanwhile are applied at once. (The test
// environment stops an activity after 10 attempts, about 25 minutes of
// this policy; the server retries until it succeeds.)
func TestBlocklistSignalsWhileVendorDown(t *testing.T) {
	forti := &expiryVendor{name: "fortigate"}
	forti.setDown("203.0.113.7", true)
	env := blocklistEnv(forti)
	signalAt(env, time.Minute, workflows.SignalBlock, workflows.BlockRequest{Type: workflows.BlockIP, Value: "203.0.113.7", TTL: time.Hour})
	// Expired at 1h01m; attempts fail at 1h01m, +10s, +30s, +70s, ...
	signalAt(env, 70*time.Minute, workflows.SignalBlock, workflows.BlockRequest{Type: workflows.BlockIP, Value: "198.51.100.1"})
	env.RegisterDelayedCallback(func() {
		if got := queryList(t, env); !reflect.DeepEqual(got, []string{"ip 198.51.100.1"}) {
			t.Errorf("list while the vendor is down: %q", got)
		}
		if ok, failed := forti.calls(); len(ok) != 0 || failed != 6 {
			t.Errorf("while down: %d unblocks, %d failed attempts; want none and 6", len(ok), failed)
		}
		forti.setDown("203.0.113.7", false)
	}, 70*time.Minute+time.Second)
	env.RegisterDelayedCallback(func() {
		if ok, failed := forti.calls(); !reflect.DeepEqual(ok, []string{"ip 203.0.113.7"}) || failed != 6 {
			t.Errorf("after the vendor is back: unblocked %q after %d failures", ok, failed)
		}
		env.CancelWorkflow()
	}, 80*time.Minute) // the next attempt is at 1h16m10s
	env.ExecuteWorkflow(workflows.BlocklistWorkflowName, workflows.BlocklistInput{})
}

// An expiry still unblocking at continue-as-new moves to the next run,
// which finishes it.
func TestBlocklistExpiryCarriedAcrossContinueAsNew(t *testing.T) {
	forti := &expiryVendor{name: "fortigate"}
	forti.setDown("203.0.113.7", true)
	env := blocklistEnv(forti)
	signalAt(env, time.Minute, workflows.SignalBlock, workflows.BlockRequest{Type: workflows.BlockIP, Value: "203.0.113.7", TTL: time.Hour, Incident: "inc-1", Step: "block"})
	env.RegisterDelayedCallback(func() {
		env.SetContinueAsNewSuggested(true)
		env.SignalWorkflow(workflows.SignalBlock, workflows.BlockRequest{Type: workflows.BlockIP, Value: "198.51.100.1"})
	}, 70*time.Minute) // the expiry is still retrying

	env.ExecuteWorkflow(workflows.BlocklistWorkflowName, workflows.BlocklistInput{})
	var can *workflow.ContinueAsNewError
	if !errors.As(env.GetWorkflowError(), &can) {
		t.Fatalf("workflow ended with %v, want continue-as-new", env.GetWorkflowError())
	}
	var next workflows.BlocklistInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if len(next.Entries) != 1 || next.Entries[0].Value != "198.51.100.1" || len(next.Expiring) != 1 || next.Expiring[0].Value != "203.0.113.7" || next.Expiring[0].Incident != "inc-1" {
		t.Fatalf("next run's input %+v", next)
	}

	back := &expiryVendor{name: "fortigate"}
	env2 := blocklistEnv(back)
	env2.RegisterDelayedCallback(func() {
		if ok, _ := back.calls(); !reflect.DeepEqual(ok, []string{"ip 203.0.113.7"}) {
			t.Errorf("next run unblocked %q", ok)
		}
		env2.CancelWorkflow()
	}, time.Minute)
	env2.ExecuteWorkflow(workflows.BlocklistWorkflowName, next)
}

// On a real server: expired blocks leave the vendors once each, and a
// value blocked again while its expiry is waiting to retry on a vendor
// that is down has that expiry cancelled, so the new block stays.
func TestBlocklistVendorExpiryOnServer(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped with -short: runs the embedded Temporal server")
	}
	blocklistServerScenario(t)
}

// recordBlocklistHistory records the vendor-expiry branch (version 1).
// testdata/blocklist_v0.json was recorded before it and is kept as is.
func recordBlocklistHistory(t *testing.T) {
	c, id := blocklistServerScenario(t)
	writeHistory(t, c, id, "", "testdata/blocklist_v1.json")
}

func blocklistServerScenario(t *testing.T) (client.Client, string) {
	c := startDev(t)
	ctx := context.Background()
	const queue = "record-blocklist"
	forti := &expiryVendor{name: "fortigate", downDelay: time.Minute}
	forti.setDown("198.51.100.1", true)
	nft := &expiryVendor{name: "nftables", noDomains: true}
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.BlocklistWorkflow, workflow.RegisterOptions{Name: workflows.BlocklistWorkflowName})
	acts := &activities.Actions{Vendors: []activities.VendorFirewall{forti, nft}}
	w.RegisterActivityWithOptions(acts.ExpireBlocks, activity.RegisterOptions{Name: activities.ActivityExpireBlocks})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	opts := client.StartWorkflowOptions{ID: workflows.BlocklistWorkflowID, TaskQueue: queue}
	send := func(signal string, r workflows.BlockRequest) {
		t.Helper()
		if _, err := c.SignalWithStartWorkflow(ctx, opts.ID, signal, r, opts, workflows.BlocklistWorkflowName, workflows.BlocklistInput{}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	events := func() map[enums.EventType]int {
		n := map[enums.EventType]int{}
		it := c.GetWorkflowHistory(ctx, opts.ID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			n[ev.GetEventType()]++
		}
		return n
	}

	send(workflows.SignalBlock, workflows.BlockRequest{Type: workflows.BlockIP, Value: "203.0.113.7", TTL: 2 * time.Second, Incident: "inc-1", Step: "block"})
	send(workflows.SignalBlock, workflows.BlockRequest{Type: workflows.BlockDomain, Value: "evil.example", TTL: 2 * time.Second, Incident: "inc-1", Step: "block_domain"})
	send(workflows.SignalBlock, workflows.BlockRequest{Type: workflows.BlockIP, Value: "198.51.100.1", TTL: 3 * time.Second, Incident: "inc-2", Step: "block"})
	send(workflows.SignalBlock, workflows.BlockRequest{Type: workflows.BlockIP, Value: "192.0.2.9", Incident: "inc-3", Step: "block"})
	send(workflows.SignalUnblock, workflows.BlockRequest{Type: workflows.BlockIP, Value: "192.0.2.9"})
	// The first two expire together; 198.51.100.1 fails on fortigate,
	// which asks for a retry in a minute.
	waitFor("the expiries", func() bool {
		ok, failed := nft.calls()
		return len(ok) == 3 && failed == 0 && func() bool { _, f := forti.calls(); return f == 1 }()
	})
	send(workflows.SignalBlock, workflows.BlockRequest{Type: workflows.BlockIP, Value: "198.51.100.1", Incident: "inc-4", Step: "block"})
	waitFor("the pending expiry to be cancelled", func() bool { return events()[enums.EVENT_TYPE_ACTIVITY_TASK_CANCELED] == 1 })

	// The first two may expire in one batch or two (each signal is its
	// own workflow task), so the order of the calls is not fixed.
	fortiOK, fortiFailed := forti.calls()
	nftOK, _ := nft.calls()
	sort.Strings(fortiOK)
	sort.Strings(nftOK)
	if want := []string{"domain evil.example", "ip 203.0.113.7"}; !reflect.DeepEqual(fortiOK, want) || fortiFailed != 1 {
		t.Errorf("fortigate: unblocked %q, %d failed; want %q and 1", fortiOK, fortiFailed, want)
	}
	if want := []string{"domain evil.example", "ip 198.51.100.1", "ip 203.0.113.7"}; !reflect.DeepEqual(nftOK, want) {
		t.Errorf("nftables: unblocked %q, want %q", nftOK, want)
	}
	n := events()
	if n[enums.EVENT_TYPE_MARKER_RECORDED] != 1 || n[enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED] != n[enums.EVENT_TYPE_ACTIVITY_TASK_COMPLETED]+1 ||
		n[enums.EVENT_TYPE_ACTIVITY_TASK_FAILED] != 0 {
		t.Errorf("history: %d markers, %d activities scheduled, %d completed, %d failed; want 1 marker and all but the cancelled one completed",
			n[enums.EVENT_TYPE_MARKER_RECORDED], n[enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED], n[enums.EVENT_TYPE_ACTIVITY_TASK_COMPLETED], n[enums.EVENT_TYPE_ACTIVITY_TASK_FAILED])
	}
	v, err := c.QueryWorkflow(ctx, opts.ID, "", workflows.QueryBlocklist)
	if err != nil {
		t.Fatal(err)
	}
	var list []workflows.BlockEntry
	if err := v.Get(&list); err != nil || len(list) != 1 || list[0].Value != "198.51.100.1" || !list[0].Expires.IsZero() {
		t.Fatalf("blocklist at the end: %+v %v", list, err)
	}
	return c, opts.ID
}

// The replay test covers both sides of the vendor-expiry version.
func TestBlocklistHistoriesCoverBothVersions(t *testing.T) {
	count := func(file string) (markers, expiries, cancelled int) {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range h.GetEvents() {
			switch ev.GetEventType() {
			case enums.EVENT_TYPE_MARKER_RECORDED:
				markers++
			case enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
				if ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == activities.ActivityExpireBlocks {
					expiries++
				}
			case enums.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
				cancelled++
			}
		}
		return
	}
	if m, e, _ := count("testdata/blocklist_v0.json"); m != 0 || e != 0 {
		t.Errorf("blocklist_v0.json: %d markers, %d expiries; want an unversioned history", m, e)
	}
	if m, e, c := count("testdata/blocklist_v1.json"); m != 1 || e < 2 || c != 1 {
		t.Errorf("blocklist_v1.json: %d markers, %d expiries, %d cancelled; want 1, at least 2, 1", m, e, c)
	}
}
