package nftables

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	nft "github.com/google/nftables"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// These tests need neither root nor a kernel.

func TestParseValue(t *testing.T) {
	for _, tc := range []struct {
		in, start, end, str string // end "" = to the end of the space
	}{
		{"192.0.2.7", "192.0.2.7", "192.0.2.8", "192.0.2.7"},
		{"192.0.2.0/24", "192.0.2.0", "192.0.3.0", "192.0.2.0/24"},
		{"10.0.0.255/32", "10.0.0.255", "10.0.1.0", "10.0.0.255"},
		{"255.255.255.255", "255.255.255.255", "", "255.255.255.255"},
		{"0.0.0.0/0", "0.0.0.0", "", "0.0.0.0/0"},
		{"128.0.0.0/1", "128.0.0.0", "", "128.0.0.0/1"},
		{"2001:db8::1", "2001:db8::1", "2001:db8::2", "2001:db8::1"},
		{"2001:db8::/32", "2001:db8::", "2001:db9::", "2001:db8::/32"},
		{"2001:db8::ffff/128", "2001:db8::ffff", "2001:db8::1:0", "2001:db8::ffff"},
		{"::ffff:198.51.100.9", "198.51.100.9", "198.51.100.10", "198.51.100.9"}, // mapped: blocked as IPv4
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			sp, err := parseValue(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			end := ""
			if sp.end.IsValid() {
				end = sp.end.String()
			}
			if sp.start.String() != tc.start || end != tc.end || sp.String() != tc.str {
				t.Fatalf("got [%s, %q) %q, want [%s, %q) %q", sp.start, end, sp, tc.start, tc.end, tc.str)
			}
		})
	}
}

func TestParseValueRejects(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.5/24", `invalid prefix "192.0.2.5/24": host bits set (did you mean 192.0.2.0/24?)`},
		{"192.0.2.0/33", `invalid prefix "192.0.2.0/33"`},
		{"::ffff:192.0.2.0/120", `invalid prefix "::ffff:192.0.2.0/120": IPv4-mapped IPv6 prefix, give the IPv4 prefix`},
		{"fe80::1%eth0", `invalid IP address "fe80::1%eth0": zones are not supported`},
		{"example.com", `invalid IP address "example.com"`},
		{"", `invalid IP address ""`},
		{"192.0.2.1 ", `invalid IP address "192.0.2.1 "`},
	} {
		_, err := parseValue(tc.in)
		if err == nil || err.Error() != tc.want {
			t.Errorf("parseValue(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestSpanOverlaps(t *testing.T) {
	sp := func(s string) span {
		v, err := parseValue(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"10.0.0.0/24", "10.0.0.5", true},
		{"10.0.0.0/24", "10.0.1.0", false}, // adjacent: the end of a is the start of b
		{"10.0.0.0/24", "9.255.255.255", false},
		{"0.0.0.0/0", "255.255.255.255", true},
		{"128.0.0.0/1", "127.255.255.255", false},
		{"2001:db8::/32", "2001:db8:ffff::1", true},
		{"10.0.0.1", "10.0.0.1", true},
	} {
		if got := sp(tc.a).overlaps(sp(tc.b)); got != tc.want {
			t.Errorf("%s overlaps %s = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if got := sp(tc.b).overlaps(sp(tc.a)); got != tc.want {
			t.Errorf("%s overlaps %s = %v, want %v", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestEntriesPairsIntervalElements(t *testing.T) {
	k := func(s string) []byte { return netip.MustParseAddr(s).AsSlice() }
	// A dump as the kernel gives it: descending, with nft's zero-address end
	// element, an orphan end left by an expired range, adjacent ranges that
	// share a key, and an open range at the top of the space.
	els := []nft.SetElement{
		{Key: k("255.255.255.255"), Timeout: time.Minute, Expires: 30 * time.Second, Comment: "riposte k: top"},
		{Key: k("10.0.1.1"), IntervalEnd: true},
		{Key: k("10.0.1.0"), Comment: "adjacent"},
		{Key: k("10.0.1.0"), IntervalEnd: true},
		{Key: k("10.0.0.0")},
		{Key: k("9.0.0.2"), IntervalEnd: true}, // orphan: its start expired
		{Key: k("1.2.3.7"), IntervalEnd: true},
		{Key: k("1.2.3.5")}, // 1.2.3.5-1.2.3.6: no prefix describes it
		{Key: k("0.0.0.0"), IntervalEnd: true},
	}
	var got []string
	for _, e := range entries(els) {
		got = append(got, fmt.Sprintf("%s t=%s e=%s c=%q", e.span, e.timeout, e.expires, e.comment))
	}
	want := []string{
		`1.2.3.5-1.2.3.6 t=0s e=0s c=""`,
		`10.0.0.0/24 t=0s e=0s c=""`,
		`10.0.1.0 t=0s e=0s c="adjacent"`,
		`255.255.255.255 t=1m0s e=30s c="riposte k: top"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestElementsEncoding(t *testing.T) {
	sp, _ := parseValue("192.0.2.0/24")
	els := sp.elements(90*time.Second, "c")
	if len(els) != 2 ||
		netip.AddrFrom4([4]byte(els[0].Key)).String() != "192.0.2.0" || els[0].IntervalEnd || els[0].Timeout != 90*time.Second || els[0].Comment != "c" ||
		netip.AddrFrom4([4]byte(els[1].Key)).String() != "192.0.3.0" || !els[1].IntervalEnd || els[1].Timeout != 0 || els[1].Comment != "" {
		t.Fatalf("elements %+v", els)
	}
	top, _ := parseValue("255.255.255.0/24")
	if els := top.elements(0, ""); len(els) != 1 || els[0].IntervalEnd {
		t.Fatalf("a range to the top of the space has no end element: %+v", els)
	}
}

func TestTTLTimeout(t *testing.T) {
	for in, want := range map[time.Duration]time.Duration{
		0:                                0,
		-time.Second:                     0,
		time.Nanosecond:                  time.Millisecond, // never "no timeout"
		1500 * time.Microsecond:          2 * time.Millisecond,
		24 * time.Hour:                   24 * time.Hour,
		time.Minute + time.Millisecond/2: time.Minute + time.Millisecond,
	} {
		if got := ttlTimeout(in); got != want {
			t.Errorf("ttlTimeout(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestElementComment(t *testing.T) {
	if got := elementComment("inc-42/contain", "brute force\r\nfrom x"); got != "riposte inc-42/contain: brute force  from x" {
		t.Fatalf("comment %q", got)
	}
	if got := elementComment("", ""); got != "riposte" {
		t.Fatalf("empty comment %q", got)
	}
	long := elementComment("k", strings.Repeat("é", 300))
	if len(long) > 200 || !strings.HasPrefix(long, "riposte k: é") || strings.ToValidUTF8(long, "?") != long {
		t.Fatalf("long comment: %d bytes, valid UTF-8 %v", len(long), strings.ToValidUTF8(long, "?") == long)
	}
}

func TestBlockRejectsBadInput(t *testing.T) {
	c := &Client{table: DefaultTable, log: zap.NewNop()} // validation comes before any netlink call
	ctx := context.Background()
	for _, tc := range []struct {
		b        Block
		typ, msg string
	}{
		{Block{Type: "domain", Value: "evil.example"}, "Unsupported", `nftables: block type "domain" not supported (only ip)`},
		{Block{Type: "url", Value: "https://evil.example/x"}, "Unsupported", `nftables: block type "url" not supported (only ip)`},
		{Block{Type: "", Value: "192.0.2.1"}, "Unsupported", `nftables: block type "" not supported (only ip)`},
		{Block{Type: "ip", Value: "192.0.2.1/24"}, "InvalidArgument", `nftables: invalid prefix "192.0.2.1/24": host bits set (did you mean 192.0.2.0/24?)`},
		{Block{Type: "ip", Value: "192.0.2.1", TTL: -time.Second}, "InvalidArgument", `nftables: block 192.0.2.1: negative ttl -1s`},
	} {
		for name, op := range map[string]func(context.Context, Block) error{"Block": c.Block, "Unblock": c.Unblock} {
			err := op(ctx, tc.b)
			var ae *temporal.ApplicationError
			if !errors.As(err, &ae) || !ae.NonRetryable() || ae.Type() != tc.typ || ae.Message() != tc.msg {
				t.Errorf("%s(%+v) = %v, want non-retryable %s %q", name, tc.b, err, tc.typ, tc.msg)
			}
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err          error
		typ          string
		nonRetryable bool
	}{
		{fmt.Errorf("conn.Receive: %w", unix.EPERM), "Permission", true},
		{&os.PathError{Op: "open", Path: "/var/run/netns/x", Err: unix.EACCES}, "Permission", true},
		{fmt.Errorf("conn.Receive: %w", errors.Join(unix.EINVAL)), "Rejected", true},
		{fmt.Errorf("conn.Receive: %w", unix.EEXIST), "Rejected", true},
		{fmt.Errorf("open netns: %w", &os.PathError{Op: "open", Path: "/var/run/netns/x", Err: unix.ENOENT}), "Netlink", false},
		{fmt.Errorf("conn.Receive: %w", unix.ENOBUFS), "Netlink", false},
		{context.DeadlineExceeded, "Timeout", false},
	} {
		err := classify("block 192.0.2.1", tc.err)
		var ae *temporal.ApplicationError
		if !errors.As(err, &ae) || ae.Type() != tc.typ || ae.NonRetryable() != tc.nonRetryable ||
			!strings.HasPrefix(ae.Message(), "nftables: block 192.0.2.1: ") {
			t.Errorf("classify(%v) = %v, want %s nonRetryable=%v", tc.err, err, tc.typ, tc.nonRetryable)
		}
	}
}

func TestNewConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{NetNS: "riposte-no-such-netns"}, "nftables: netns: stat /var/run/netns/riposte-no-such-netns: no such file or directory"},
		{Config{NetNS: "/nonexistent/ns"}, "nftables: netns: stat /nonexistent/ns: no such file or directory"},
		{Config{NetNS: ".."}, `nftables: netns: invalid name ".."`},
		{Config{Table: "a\x00b"}, `nftables: table: invalid name "a\x00b"`},
		{Config{Table: strings.Repeat("t", 256)}, `nftables: table: invalid name "` + strings.Repeat("t", 256) + `"`},
	} {
		if _, err := New(tc.cfg, nil); err == nil || err.Error() != tc.want {
			t.Errorf("New(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
}
