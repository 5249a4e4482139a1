package nftables

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	nft "github.com/google/nftables"
	"github.com/google/nftables/expr"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// DefaultTable is the inet table Riposte owns when Config.Table is empty.
const DefaultTable = "riposte"

// Names of the objects inside the table.
const (
	set4Name     = "blocked4"
	set6Name     = "blocked6"
	inputChain   = "input"
	forwardChain = "forward"
)

// netnsDir is where `ip netns add` pins named network namespaces.
const netnsDir = "/var/run/netns"

// Config selects the table and the network namespace to manage.
type Config struct {
	// Table is the name of the inet table Riposte owns (default "riposte").
	// Its rules are rewritten by New; add nothing of your own to it.
	Table string
	// NetNS is a named network namespace (under /var/run/netns) or the path
	// of a network namespace file such as /proc/PID/ns/net; "" is the
	// namespace of the Riposte process.
	NetNS string
}

// Block is one firewall block. Every firewall integration takes this shape.
type Block struct {
	Type   string        // "ip"; nftables supports nothing else
	Value  string        // canonical IP address or CIDR prefix, IPv4 or IPv6
	TTL    time.Duration // 0 = until unblocked
	Reason string
	Key    string // idempotency key, kept in the element comment for `nft list`
}

// Client manages the blocklist sets of one table in one network namespace.
// It is safe for concurrent use; it holds no netlink socket or namespace
// handle between calls, so dropping it needs no clean-up.
type Client struct {
	table string
	netns string // path of the namespace file; "" = current namespace
	log   *zap.Logger
	mu    sync.Mutex // one read-modify-write at a time
}

// New validates cfg and creates the table, sets, chains and rules, or brings
// an existing table back to exactly that shape. Existing blocks are kept.
func New(cfg Config, log *zap.Logger) (*Client, error) {
	if log == nil {
		log = zap.NewNop()
	}
	c := &Client{table: cfg.Table, log: log.With(zap.String("integration", "nftables"))}
	if c.table == "" {
		c.table = DefaultTable
	}
	if len(c.table) > 255 || strings.ContainsRune(c.table, 0) {
		return nil, fmt.Errorf("nftables: table: invalid name %q", c.table)
	}
	switch ns := cfg.NetNS; {
	case ns == "":
	case strings.Contains(ns, "/"):
		c.netns = ns
	case ns == "." || ns == "..":
		return nil, fmt.Errorf("nftables: netns: invalid name %q", ns)
	default:
		c.netns = filepath.Join(netnsDir, ns)
	}
	if c.netns != "" {
		if _, err := os.Stat(c.netns); err != nil {
			return nil, fmt.Errorf("nftables: netns: %w", err)
		}
		c.log = c.log.With(zap.String("netns", c.netns))
	}
	c.log = c.log.With(zap.String("table", c.table))

	conn, done, err := c.dial()
	if err != nil {
		return nil, err
	}
	defer done()
	if err := c.setup(conn); err != nil {
		return nil, fmt.Errorf("nftables: set up table inet %s: %w", c.table, err)
	}
	c.log.Debug("nftables table ready")
	return c, nil
}

// Block adds b to the blocklist. Blocking a value again replaces its element,
// which restarts its TTL (or removes the TTL when b.TTL is 0). A value that
// overlaps a different block (an address inside a blocked prefix, say) is
// refused, so that no incident believes it owns a block that another
// incident's unblock or TTL would lift.
func (c *Client) Block(ctx context.Context, b Block) error {
	sp, err := validate(b)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return classify("block "+b.Value, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()

	conn, done, err := c.dial()
	if err != nil {
		return classify("block "+b.Value, err)
	}
	defer done()

	set, current, err := c.read(conn, sp)
	if errors.Is(err, unix.ENOENT) {
		// The table is gone (an `nft flush ruleset`, a reload of the host's
		// nftables.conf): put it back rather than fail every block.
		c.log.Warn("nftables table missing, recreating it")
		if err = c.setup(conn); err == nil {
			set, current, err = c.read(conn, sp)
		}
	}
	if err != nil {
		return classify("block "+b.Value, err)
	}

	var existing *entry
	for i := range current {
		if current[i].equal(sp) {
			existing = &current[i]
			continue
		}
		if current[i].overlaps(sp) {
			return temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("nftables: block %s: overlaps existing block %s", b.Value, current[i].span), "Overlap", nil)
		}
	}

	add := sp.elements(ttlTimeout(b.TTL), elementComment(b.Key, b.Reason))
	if existing != nil {
		// Delete and re-add in one transaction: the only way to reset a
		// timeout that works on every kernel with interval sets.
		if err := conn.SetDeleteElements(set, existing.elements(0, "")); err != nil {
			return classify("block "+b.Value, err)
		}
	}
	if err := conn.SetAddElements(set, add); err != nil {
		return classify("block "+b.Value, err)
	}
	err = conn.Flush()
	if existing != nil && errors.Is(err, unix.ENOENT) {
		// It expired between the read and the write.
		if err = conn.SetAddElements(set, add); err == nil {
			err = conn.Flush()
		}
	}
	if err != nil {
		return classify("block "+b.Value, err)
	}
	c.log.Info("nftables block added",
		zap.String("value", sp.String()),
		zap.Duration("ttl", b.TTL),
		zap.Bool("refreshed", existing != nil),
		zap.String("idempotency_key", b.Key))
	return nil
}

// Unblock removes the block for exactly b.Value. A value that is not blocked
// is a success; a block of a wider prefix that covers it is left alone (and
// logged), because it belongs to whoever added it.
func (c *Client) Unblock(ctx context.Context, b Block) error {
	sp, err := validate(b)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return classify("unblock "+b.Value, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()

	conn, done, err := c.dial()
	if err != nil {
		return classify("unblock "+b.Value, err)
	}
	defer done()

	set, current, err := c.read(conn, sp)
	if errors.Is(err, unix.ENOENT) {
		c.log.Info("nftables unblock: table missing, nothing is blocked", zap.String("value", sp.String()))
		return nil
	}
	if err != nil {
		return classify("unblock "+b.Value, err)
	}
	var existing *entry
	for i := range current {
		if current[i].equal(sp) {
			existing = &current[i]
		} else if current[i].overlaps(sp) {
			c.log.Warn("nftables unblock: an overlapping block stays in place",
				zap.String("value", sp.String()), zap.String("overlapping", current[i].span.String()))
		}
	}
	if existing == nil {
		c.log.Info("nftables unblock: not blocked", zap.String("value", sp.String()), zap.String("idempotency_key", b.Key))
		return nil
	}
	if err := conn.SetDeleteElements(set, existing.elements(0, "")); err != nil {
		return classify("unblock "+b.Value, err)
	}
	if err := conn.Flush(); err != nil && !errors.Is(err, unix.ENOENT) { // ENOENT: it just expired
		return classify("unblock "+b.Value, err)
	}
	c.log.Info("nftables block removed", zap.String("value", sp.String()), zap.String("idempotency_key", b.Key))
	return nil
}

// Check proves that netlink answers in the namespace and that the table,
// both sets and both chains with their drop rules are in place.
func (c *Client) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return classify("check", err)
	}
	conn, done, err := c.dial()
	if err != nil {
		return classify("check", err)
	}
	defer done()
	if err := c.verify(conn); err != nil {
		return classify("check", err)
	}
	return nil
}

func (c *Client) verify(conn *nft.Conn) error {
	t, err := conn.ListTableOfFamily(c.table, nft.TableFamilyINet)
	if err != nil {
		return fmt.Errorf("table inet %s: %w", c.table, err)
	}
	for _, name := range []string{set4Name, set6Name} {
		if _, err := conn.GetSetByName(t, name); err != nil {
			return fmt.Errorf("set %s: %w", name, err)
		}
	}
	for _, name := range []string{inputChain, forwardChain} {
		ch, err := conn.ListChain(t, name)
		if err != nil {
			return fmt.Errorf("chain %s: %w", name, err)
		}
		rules, err := conn.GetRules(t, ch)
		if err != nil {
			return fmt.Errorf("chain %s: rules: %w", name, err)
		}
		drops := map[string]bool{}
		for _, r := range rules {
			if set, ok := dropSet(r); ok {
				drops[set] = true
			}
		}
		if !drops[set4Name] || !drops[set6Name] {
			return fmt.Errorf("chain %s: drop rules for @%s and @%s missing", name, set4Name, set6Name)
		}
	}
	return nil
}

// dropSet reports the set a rule looks the source address up in when the
// rule's verdict is drop ("ip saddr @blocked4 counter drop").
func dropSet(r *nft.Rule) (string, bool) {
	var set string
	for _, e := range r.Exprs {
		switch e := e.(type) {
		case *expr.Lookup:
			if !e.Invert {
				set = e.SetName
			}
		case *expr.Verdict:
			return set, set != "" && e.Kind == expr.VerdictDrop
		}
	}
	return "", false
}

// dial opens a netlink socket in the configured namespace. The namespace
// file is only needed while the socket is created.
func (c *Client) dial() (*nft.Conn, func(), error) {
	opts := []nft.ConnOption{nft.AsLasting()}
	if c.netns != "" {
		f, err := os.Open(c.netns)
		if err != nil {
			return nil, nil, fmt.Errorf("open netns: %w", err)
		}
		defer f.Close()
		opts = append(opts, nft.WithNetNSFd(int(f.Fd())))
	}
	conn, err := nft.New(opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("open netlink: %w", err)
	}
	return conn, func() { _ = conn.CloseLasting() }, nil
}

func (c *Client) tableRef() *nft.Table {
	return &nft.Table{Name: c.table, Family: nft.TableFamilyINet}
}

// setup sends the whole table in one transaction. Adding an object that
// exists is a no-op for netlink, and each chain is flushed before its rules
// are added, so any number of runs leave one copy of everything; the
// transaction is atomic, so the rules never vanish in between.
func (c *Client) setup(conn *nft.Conn) error {
	t := conn.AddTable(c.tableRef())
	set4 := &nft.Set{Table: t, Name: set4Name, KeyType: nft.TypeIPAddr, Interval: true, HasTimeout: true}
	set6 := &nft.Set{Table: t, Name: set6Name, KeyType: nft.TypeIP6Addr, Interval: true, HasTimeout: true}
	for _, s := range []*nft.Set{set4, set6} {
		if err := conn.AddSet(s, nil); err != nil {
			return fmt.Errorf("set %s: %w", s.Name, err)
		}
	}
	policy := nft.ChainPolicyAccept
	for _, hook := range []struct {
		name string
		hook *nft.ChainHook
	}{{inputChain, nft.ChainHookInput}, {forwardChain, nft.ChainHookForward}} {
		ch := conn.AddChain(&nft.Chain{
			Name: hook.name, Table: t, Type: nft.ChainTypeFilter,
			Hooknum: hook.hook, Priority: nft.ChainPriorityFilter, Policy: &policy,
		})
		conn.FlushChain(ch)
		conn.AddRule(&nft.Rule{Table: t, Chain: ch, Exprs: saddrDrop(unix.NFPROTO_IPV4, 12, 4, set4)})
		conn.AddRule(&nft.Rule{Table: t, Chain: ch, Exprs: saddrDrop(unix.NFPROTO_IPV6, 8, 16, set6)})
	}
	return conn.Flush()
}

// saddrDrop is "ip saddr @set counter drop" (or ip6): the protocol check
// first, since an inet chain sees both families.
func saddrDrop(proto byte, offset, length uint32, set *nft.Set) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: length},
		&expr.Lookup{SourceRegister: 1, SetName: set.Name, SetID: set.ID},
		&expr.Counter{},
		&expr.Verdict{Kind: expr.VerdictDrop},
	}
}

// read returns the set for sp's family and its current blocks. A missing
// table or set gives an error matching unix.ENOENT.
func (c *Client) read(conn *nft.Conn, sp span) (*nft.Set, []entry, error) {
	name := set4Name
	if sp.start.Is6() {
		name = set6Name
	}
	set, err := conn.GetSetByName(c.tableRef(), name)
	if err != nil {
		return nil, nil, fmt.Errorf("set %s: %w", name, err)
	}
	els, err := conn.GetSetElements(set)
	if err != nil {
		return nil, nil, fmt.Errorf("set %s: list elements: %w", name, err)
	}
	return set, entries(els), nil
}

// validate checks b and returns the span to block. Errors are
// non-retryable Temporal errors: the same input can never succeed.
func validate(b Block) (span, error) {
	if b.Type != "ip" {
		return span{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("nftables: block type %q not supported (only ip)", b.Type), "Unsupported", nil)
	}
	if b.TTL < 0 {
		return span{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("nftables: block %s: negative ttl %s", b.Value, b.TTL), "InvalidArgument", nil)
	}
	sp, err := parseValue(b.Value)
	if err != nil {
		return span{}, temporal.NewNonRetryableApplicationError("nftables: "+err.Error(), "InvalidArgument", nil)
	}
	return sp, nil
}

// classify turns a netlink or system error into a Temporal application
// error. Missing privileges and requests the kernel refuses are permanent;
// everything else (a namespace that is being recreated, a busy or
// overflowing socket) may pass on retry.
func classify(op string, err error) error {
	msg := fmt.Sprintf("nftables: %s: %v", op, err)
	switch {
	case errors.Is(err, os.ErrPermission):
		return temporal.NewNonRetryableApplicationError(msg+" (needs CAP_NET_ADMIN in the namespace)", "Permission", nil)
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ERANGE), errors.Is(err, unix.EOPNOTSUPP),
		errors.Is(err, unix.EEXIST), errors.Is(err, unix.ENOTEMPTY):
		return temporal.NewNonRetryableApplicationError(msg, "Rejected", nil)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return temporal.NewApplicationErrorWithOptions(msg, "Timeout", temporal.ApplicationErrorOptions{})
	}
	return temporal.NewApplicationErrorWithOptions(msg, "Netlink", temporal.ApplicationErrorOptions{})
}
