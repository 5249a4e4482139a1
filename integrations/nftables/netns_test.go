package nftables

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	nft "github.com/google/nftables"
	"github.com/google/nftables/expr"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap/zaptest"
)

// These tests run for real: as root, in namespaces they create, with
// traffic between them. See lab_test.go.

type family struct {
	name     string
	fw, peer netip.Addr
	prefix   string // a prefix holding the peer
	set      string
}

func (l *lab) families() []family {
	return []family{
		{"ipv4", l.fw4, l.peer4, "10.199.0.0/24", set4Name},
		{"ipv6", l.fw6, l.peer6, "fd00:199::/64", set6Name},
	}
}

func newClient(t *testing.T, l *lab, table string) *Client {
	t.Helper()
	c, err := New(Config{Table: table, NetNS: l.fwNS}, zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// inspect opens the library directly in the firewall namespace, to read
// back what the kernel holds independently of the Client.
func (l *lab) inspect(t *testing.T) *nft.Conn {
	t.Helper()
	f, err := os.Open(filepath.Join(netnsDir, l.fwNS))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	conn, err := nft.New(nft.AsLasting(), nft.WithNetNSFd(int(f.Fd())))
	if err != nil {
		t.Fatalf("nftables.New: %v", err)
	}
	t.Cleanup(func() { _ = conn.CloseLasting() })
	return conn
}

func (l *lab) entries(t *testing.T, table, set string) ([]entry, int) {
	t.Helper()
	conn := l.inspect(t)
	s, err := conn.GetSetByName(&nft.Table{Name: table, Family: nft.TableFamilyINet}, set)
	if err != nil {
		t.Fatalf("get set %s: %v", set, err)
	}
	els, err := conn.GetSetElements(s)
	if err != nil {
		t.Fatalf("list %s: %v", set, err)
	}
	return entries(els), len(els)
}

// dropCount is the packet counter of the rule in chain that drops from set.
func (l *lab) dropCount(t *testing.T, table, chain, set string) uint64 {
	t.Helper()
	conn := l.inspect(t)
	tbl := &nft.Table{Name: table, Family: nft.TableFamilyINet}
	rules, err := conn.GetRules(tbl, &nft.Chain{Name: chain, Table: tbl})
	if err != nil {
		t.Fatalf("rules: %v", err)
	}
	for _, r := range rules {
		if s, ok := dropSet(r); ok && s == set {
			for _, e := range r.Exprs {
				if c, ok := e.(*expr.Counter); ok {
					return c.Packets
				}
			}
		}
	}
	t.Fatalf("no drop rule with a counter for @%s", set)
	return 0
}

func wantOnly(t *testing.T, got []entry, want string, timeout time.Duration) entry {
	t.Helper()
	if len(got) != 1 || got[0].String() != want || got[0].timeout != timeout {
		t.Fatalf("set holds %+v, want exactly %s with timeout %s", got, want, timeout)
	}
	return got[0]
}

func TestBlockDropsUnblockPasses(t *testing.T) {
	l := newLab(t)
	c := newClient(t, l, "")
	ctx := context.Background()
	for _, f := range l.families() {
		t.Run(f.name, func(t *testing.T) {
			l.assertPasses(t, f.fw, "before block")
			before := l.dropCount(t, DefaultTable, inputChain, f.set)

			b := Block{Type: "ip", Value: f.peer.String(), Reason: "test\nscan", Key: "inc-1/contain"}
			if err := c.Block(ctx, b); err != nil {
				t.Fatalf("Block: %v", err)
			}
			l.assertDropped(t, f.fw, "after block")
			if after := l.dropCount(t, DefaultTable, inputChain, f.set); after <= before {
				t.Fatalf("drop rule counter %d -> %d: the packets were not dropped by the rule", before, after)
			}
			got, raw := l.entries(t, DefaultTable, f.set)
			e := wantOnly(t, got, f.peer.String(), 0)
			if raw != 2 || e.comment != "riposte inc-1/contain: test scan" {
				t.Fatalf("raw elements %d (want start+end = 2), comment %q", raw, e.comment)
			}

			// Blocking again leaves one element.
			if err := c.Block(ctx, b); err != nil {
				t.Fatalf("second Block: %v", err)
			}
			got, raw = l.entries(t, DefaultTable, f.set)
			wantOnly(t, got, f.peer.String(), 0)
			if raw != 2 {
				t.Fatalf("raw elements after second block %d, want 2", raw)
			}
			l.assertDropped(t, f.fw, "after second block")

			if err := c.Unblock(ctx, b); err != nil {
				t.Fatalf("Unblock: %v", err)
			}
			l.assertPasses(t, f.fw, "after unblock")
			if got, raw := l.entries(t, DefaultTable, f.set); len(got) != 0 || raw != 0 {
				t.Fatalf("set after unblock holds %+v (%d raw), want empty", got, raw)
			}
			// Unblocking what is not blocked succeeds.
			if err := c.Unblock(ctx, b); err != nil {
				t.Fatalf("second Unblock: %v", err)
			}
		})
	}
}

func TestForwardedTrafficDropped(t *testing.T) {
	l := newLab(t)
	l.addGateway(t)
	c := newClient(t, l, "")
	ctx := context.Background()
	for _, f := range l.families() {
		t.Run(f.name, func(t *testing.T) {
			srv := l.srv4
			if f.fw.Is6() {
				srv = l.srv6
			}
			l.assertPasses(t, srv, "routed, before block")
			before := l.dropCount(t, DefaultTable, forwardChain, f.set)
			b := Block{Type: "ip", Value: f.peer.String()}
			if err := c.Block(ctx, b); err != nil {
				t.Fatalf("Block: %v", err)
			}
			l.assertDropped(t, srv, "routed, after block")
			if after := l.dropCount(t, DefaultTable, forwardChain, f.set); after <= before {
				t.Fatalf("forward drop counter %d -> %d: not dropped by the forward rule", before, after)
			}
			if err := c.Unblock(ctx, b); err != nil {
				t.Fatalf("Unblock: %v", err)
			}
			l.assertPasses(t, srv, "routed, after unblock")
		})
	}
}

func TestBlockRefreshesTimeout(t *testing.T) {
	l := newLab(t)
	c := newClient(t, l, "riposte_refresh")
	ctx := context.Background()
	for _, f := range l.families() {
		t.Run(f.name, func(t *testing.T) {
			for _, v := range []string{f.peer.String(), f.prefix} {
				for _, ttl := range []time.Duration{30 * time.Second, time.Hour, 0, 45 * time.Second} {
					if err := c.Block(ctx, Block{Type: "ip", Value: v, TTL: ttl}); err != nil {
						t.Fatalf("Block %s ttl %s: %v", v, ttl, err)
					}
					got, _ := l.entries(t, "riposte_refresh", f.set)
					e := wantOnly(t, got, v, ttl)
					if ttl > 0 && (e.expires <= ttl-5*time.Second || e.expires > ttl) {
						t.Fatalf("%s ttl %s: expires in %s, want a fresh timeout", v, ttl, e.expires)
					}
				}
				if err := c.Unblock(ctx, Block{Type: "ip", Value: v}); err != nil {
					t.Fatalf("Unblock %s: %v", v, err)
				}
			}
		})
	}
}

func TestPrefixBlock(t *testing.T) {
	l := newLab(t)
	c := newClient(t, l, "")
	ctx := context.Background()
	for _, f := range l.families() {
		t.Run(f.name, func(t *testing.T) {
			l.assertPasses(t, f.fw, "before block")
			prefix := Block{Type: "ip", Value: f.prefix}
			if err := c.Block(ctx, prefix); err != nil {
				t.Fatalf("Block %s: %v", f.prefix, err)
			}
			l.assertDropped(t, f.fw, "after prefix block")
			got, _ := l.entries(t, DefaultTable, f.set)
			wantOnly(t, got, f.prefix, 0)

			// An address inside a blocked prefix is another incident's block.
			err := c.Block(ctx, Block{Type: "ip", Value: f.peer.String()})
			var ae *temporal.ApplicationError
			if !errors.As(err, &ae) || !ae.NonRetryable() || ae.Type() != "Overlap" {
				t.Fatalf("Block inside prefix: %v, want non-retryable Overlap", err)
			}
			// Unblocking the address does not lift the prefix.
			if err := c.Unblock(ctx, Block{Type: "ip", Value: f.peer.String()}); err != nil {
				t.Fatalf("Unblock of address inside prefix: %v", err)
			}
			got, _ = l.entries(t, DefaultTable, f.set)
			wantOnly(t, got, f.prefix, 0)

			if err := c.Unblock(ctx, prefix); err != nil {
				t.Fatalf("Unblock %s: %v", f.prefix, err)
			}
			l.assertPasses(t, f.fw, "after prefix unblock")
		})
	}
}

func TestTTLExpiresInKernel(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	const ttl = 2 * time.Second
	blocked := time.Now()
	func() {
		c := newClient(t, l, "")
		for _, f := range l.families() {
			if err := c.Block(ctx, Block{Type: "ip", Value: f.peer.String(), TTL: ttl, Key: "inc-ttl"}); err != nil {
				t.Fatalf("Block %s: %v", f.peer, err)
			}
		}
	}() // The Client is gone (Riposte stopped): from here on only the kernel acts.

	for _, f := range l.families() {
		got, _ := l.entries(t, DefaultTable, f.set)
		wantOnly(t, got, f.peer.String(), ttl)
		l.assertDropped(t, f.fw, f.name+" within ttl")
	}
	for _, f := range l.families() {
		l.waitPasses(t, f.fw, ttl+3*time.Second, f.name+" after ttl")
		held := time.Since(blocked)
		if held < ttl-100*time.Millisecond {
			t.Fatalf("%s passed %s after the block, before its ttl %s", f.name, held, ttl)
		}
		t.Logf("%s: passes again %s after a block with ttl %s", f.name, held.Round(time.Millisecond), ttl)
		if got, _ := l.entries(t, DefaultTable, f.set); len(got) != 0 {
			t.Fatalf("%s: expired block still listed: %+v", f.name, got)
		}
	}

	// Riposte starts again and blocks the same addresses: the expired
	// elements (which the kernel may not have collected yet) do not get in
	// the way.
	c2 := newClient(t, l, "")
	for _, f := range l.families() {
		b := Block{Type: "ip", Value: f.peer.String()}
		if err := c2.Block(ctx, b); err != nil {
			t.Fatalf("re-Block %s after expiry: %v", f.peer, err)
		}
		l.assertDropped(t, f.fw, f.name+" re-blocked")
		if err := c2.Unblock(ctx, b); err != nil {
			t.Fatalf("Unblock %s: %v", f.peer, err)
		}
		l.assertPasses(t, f.fw, f.name+" unblocked")
	}
}

func TestNewIsIdempotent(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	c := newClient(t, l, "")
	if err := c.Block(ctx, Block{Type: "ip", Value: "192.0.2.7", TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		c = newClient(t, l, "")
	}

	conn := l.inspect(t)
	tables, err := conn.ListTablesOfFamily(nft.TableFamilyINet)
	if err != nil {
		t.Fatal(err)
	}
	var ours []*nft.Table
	for _, tb := range tables {
		if tb.Name == DefaultTable {
			ours = append(ours, tb)
		}
	}
	if len(ours) != 1 {
		t.Fatalf("%d inet tables named %s, want 1", len(ours), DefaultTable)
	}
	tbl := ours[0]

	chains, err := conn.ListChainsOfTableFamily(nft.TableFamilyINet)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ch := range chains {
		if ch.Table.Name != DefaultTable {
			continue
		}
		names = append(names, ch.Name)
		wantHook := map[string]nft.ChainHook{inputChain: *nft.ChainHookInput, forwardChain: *nft.ChainHookForward}[ch.Name]
		if ch.Hooknum == nil || *ch.Hooknum != wantHook || ch.Type != nft.ChainTypeFilter ||
			ch.Policy == nil || *ch.Policy != nft.ChainPolicyAccept {
			t.Fatalf("chain %s: hook %v type %q policy %v, want hook %d filter accept", ch.Name, ch.Hooknum, ch.Type, ch.Policy, wantHook)
		}
		rules, err := conn.GetRules(tbl, ch)
		if err != nil {
			t.Fatal(err)
		}
		var drops []string
		for _, r := range rules {
			s, ok := dropSet(r)
			if !ok {
				t.Fatalf("chain %s: rule %d is not a drop: %#v", ch.Name, r.Handle, r.Exprs)
			}
			drops = append(drops, s)
		}
		if !slices.Equal(drops, []string{set4Name, set6Name}) {
			t.Fatalf("chain %s drops from %v, want exactly [blocked4 blocked6]", ch.Name, drops)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{forwardChain, inputChain}) {
		t.Fatalf("chains %v, want [forward input]", names)
	}

	sets, err := conn.GetSets(tbl)
	if err != nil {
		t.Fatal(err)
	}
	var setNames []string
	for _, s := range sets {
		setNames = append(setNames, s.Name)
		if !s.Interval || !s.HasTimeout {
			t.Fatalf("set %s: interval %v timeout %v, want both", s.Name, s.Interval, s.HasTimeout)
		}
	}
	slices.Sort(setNames)
	if !slices.Equal(setNames, []string{set4Name, set6Name}) {
		t.Fatalf("sets %v, want [blocked4 blocked6]", setNames)
	}

	// New keeps the blocks already in place.
	got, _ := l.entries(t, DefaultTable, set4Name)
	if len(got) != 1 || got[0].String() != "192.0.2.7" || got[0].expires < 59*time.Minute {
		t.Fatalf("blocks after a second New: %+v, want 192.0.2.7 with its hour", got)
	}

	if err := c.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
	// Someone flushes the ruleset: Check says so, and the next block puts
	// the table back.
	conn.DelTable(tbl)
	if err := conn.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := c.Check(ctx); err == nil {
		t.Fatal("Check passed with the table deleted")
	}
	if err := c.Unblock(ctx, Block{Type: "ip", Value: l.peer4.String()}); err != nil {
		t.Fatalf("Unblock without table: %v", err)
	}
	if err := c.Block(ctx, Block{Type: "ip", Value: l.peer4.String()}); err != nil {
		t.Fatalf("Block without table: %v", err)
	}
	if err := c.Check(ctx); err != nil {
		t.Fatalf("Check after the block recreated the table: %v", err)
	}
	l.assertDropped(t, l.fw4, "after recreating the table")
}
