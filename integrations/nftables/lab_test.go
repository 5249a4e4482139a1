package nftables

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// lab is two network namespaces joined by a veth pair: "fw", where Riposte's
// table lives and an HTTP server listens, and "peer", the host that gets
// blocked. Both have an IPv4 and an IPv6 address.
type lab struct {
	fwNS, peerNS string // names under /var/run/netns
	fw4, peer4   netip.Addr
	fw6, peer6   netip.Addr
	port         int

	// Set by addGateway: a third namespace behind fw, which then routes.
	srvNS      string
	srv4, srv6 netip.Addr
	srvPort    int
}

const (
	// dropWait is how long a dial must hang to count as dropped. Inside one
	// host a passing connection takes well under a millisecond, and a
	// refused one fails at once, so a timeout means the SYN went nowhere.
	dropWait = 700 * time.Millisecond
	passWait = 3 * time.Second
	body     = "riposte-lab-ok"
)

// requireLab skips (or fails under CI) unless the test can create network
// namespaces.
func requireLab(t *testing.T) {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	for _, tool := range []struct{ bin, pkg string }{{"ip", "iproute2"}, {"nft", "nftables"}} {
		if _, err := exec.LookPath(tool.bin); err != nil {
			missing("missing tool %s (Debian package %s)", tool.bin, tool.pkg)
		}
	}
	if os.Geteuid() != 0 {
		missing("network namespace tests need root (CAP_SYS_ADMIN and CAP_NET_ADMIN)")
	}
}

func run(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// newLab builds the namespaces, the veth pair and the HTTP server; Cleanup
// removes them.
func newLab(t *testing.T) *lab {
	t.Helper()
	requireLab(t)
	var r [4]byte
	_, _ = rand.Read(r[:])
	suffix := fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(r[:]))
	l := &lab{
		fwNS: "riposte-fw-" + suffix, peerNS: "riposte-peer-" + suffix,
		fw4: netip.MustParseAddr("10.199.0.1"), peer4: netip.MustParseAddr("10.199.0.2"),
		fw6: netip.MustParseAddr("fd00:199::1"), peer6: netip.MustParseAddr("fd00:199::2"),
	}
	for _, ns := range []string{l.fwNS, l.peerNS} {
		run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	}
	// Interface names only have to be unique inside each namespace.
	run(t, "ip", "-n", l.fwNS, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns", l.peerNS)
	for _, side := range []struct {
		ns, dev string
		a4, a6  netip.Addr
	}{{l.fwNS, "veth0", l.fw4, l.fw6}, {l.peerNS, "veth1", l.peer4, l.peer6}} {
		run(t, "ip", "-n", side.ns, "addr", "add", side.a4.String()+"/24", "dev", side.dev)
		// nodad: usable at once instead of after duplicate address detection.
		run(t, "ip", "-n", side.ns, "addr", "add", side.a6.String()+"/64", "dev", side.dev, "nodad")
		run(t, "ip", "-n", side.ns, "link", "set", "lo", "up")
		run(t, "ip", "-n", side.ns, "link", "set", side.dev, "up")
	}

	l.port = serve(t, l.fwNS)
	return l
}

// addGateway puts a server namespace behind fw and makes fw route between
// peer and server, so that peer -> server traffic crosses fw's forward hook.
func (l *lab) addGateway(t *testing.T) {
	t.Helper()
	l.srvNS = strings.Replace(l.fwNS, "riposte-fw-", "riposte-srv-", 1)
	l.srv4, l.srv6 = netip.MustParseAddr("10.198.0.2"), netip.MustParseAddr("fd00:198::2")
	run(t, "ip", "netns", "add", l.srvNS)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", l.srvNS).Run() })
	run(t, "ip", "-n", l.fwNS, "link", "add", "veth2", "type", "veth", "peer", "name", "veth3", "netns", l.srvNS)
	run(t, "ip", "-n", l.fwNS, "addr", "add", "10.198.0.1/24", "dev", "veth2")
	run(t, "ip", "-n", l.fwNS, "addr", "add", "fd00:198::1/64", "dev", "veth2", "nodad")
	run(t, "ip", "-n", l.fwNS, "link", "set", "veth2", "up")
	run(t, "ip", "-n", l.srvNS, "addr", "add", l.srv4.String()+"/24", "dev", "veth3")
	run(t, "ip", "-n", l.srvNS, "addr", "add", l.srv6.String()+"/64", "dev", "veth3", "nodad")
	run(t, "ip", "-n", l.srvNS, "link", "set", "lo", "up")
	run(t, "ip", "-n", l.srvNS, "link", "set", "veth3", "up")
	for _, r := range []struct{ ns, via string }{
		{l.peerNS, l.fw4.String()}, {l.peerNS, l.fw6.String()},
		{l.srvNS, "10.198.0.1"}, {l.srvNS, "fd00:198::1"},
	} {
		run(t, "ip", "-n", r.ns, "route", "add", "default", "via", r.via)
	}
	// /proc/sys/net shows the namespace of the process that opens it.
	run(t, "ip", "netns", "exec", l.fwNS, "sh", "-c",
		"echo 1 > /proc/sys/net/ipv4/ip_forward && echo 1 > /proc/sys/net/ipv6/conf/all/forwarding")
	l.srvPort = serve(t, l.srvNS)
}

// serve starts the lab HTTP server in namespace ns and returns its port.
func serve(t *testing.T, ns string) int {
	t.Helper()
	var ln net.Listener
	err := inNetNS(ns, func() error {
		var err error
		ln, err = net.Listen("tcp", "[::]:0") // dual stack: IPv4 and IPv6
		return err
	})
	if err != nil {
		t.Fatalf("listen in %s: %v", ns, err)
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, body) }),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// inNetNS runs fn on an OS thread switched into the named namespace.
// Sockets belong to the namespace they were created in, so a listener or
// connection made by fn stays there after fn returns. The thread is never
// unlocked: it exits with the goroutine rather than go back to the
// scheduler in the wrong namespace.
func inNetNS(name string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(filepath.Join(netnsDir, name))
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns: %w", err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// url is the lab page on the fw or server address a.
func (l *lab) url(a netip.Addr) string {
	port := l.port
	if a == l.srv4 || a == l.srv6 {
		port = l.srvPort
	}
	return "http://" + netip.AddrPortFrom(a, uint16(port)).String() + "/"
}

// get fetches the lab page from the peer namespace.
func (l *lab) get(fw netip.Addr, timeout time.Duration) error {
	client := &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				var c net.Conn
				err := inNetNS(l.peerNS, func() error {
					var err error
					c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
					return err
				})
				return c, err
			},
		},
	}
	resp, err := client.Get(l.url(fw))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || string(b) != body {
		return fmt.Errorf("unexpected answer %d %q", resp.StatusCode, b)
	}
	return nil
}

// assertPasses fails unless the peer reaches the server at fw.
func (l *lab) assertPasses(t *testing.T, fw netip.Addr, what string) {
	t.Helper()
	if err := l.get(fw, passWait); err != nil {
		t.Fatalf("%s: peer -> %s should pass: %v\n%s", what, fw, err, l.ruleset())
	}
}

// assertDropped fails unless the peer's connection to fw times out: a
// silent drop, not a refusal and not an answer. With an accept verdict in
// the rule this fails.
func (l *lab) assertDropped(t *testing.T, fw netip.Addr, what string) {
	t.Helper()
	err := l.get(fw, dropWait)
	if err == nil {
		t.Fatalf("%s: peer -> %s passed, want dropped\n%s", what, fw, l.ruleset())
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("%s: peer -> %s: %v, want a timeout (silent drop)", what, fw, err)
	}
}

// waitPasses polls until the peer reaches fw, for at most limit, and
// returns how long that took.
func (l *lab) waitPasses(t *testing.T, fw netip.Addr, limit time.Duration, what string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := l.get(fw, 300*time.Millisecond)
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("%s: peer -> %s still failing after %s: %v\n%s", what, fw, limit, err, l.ruleset())
		}
	}
}

// ruleset is `nft list ruleset` in the firewall namespace, for failure
// messages.
func (l *lab) ruleset() string {
	out, err := exec.Command("ip", "netns", "exec", l.fwNS, "nft", "list", "ruleset").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("nft list ruleset: %v: %s", err, out)
	}
	return string(out)
}
