// Package null is an integration that does nothing, at once. It answers
// firewall, ticketing and threat-intelligence calls with plausible results
// and no I/O, so that `make bench` measures Riposte and Temporal rather than
// a vendor. Riposte wires it in only when bench.null_integration is true; it
// must never stand in for a real system.
package null

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"
)

// Config configures the null integration. It has no fields that matter:
// there is nothing to reach.
type Config struct {
	// Timeout is accepted for symmetry with real integrations and unused.
	Timeout time.Duration
}

// Client is the null integration. Its methods are safe for concurrent use.
type Client struct {
	log   *zap.Logger
	calls atomic.Int64
}

// ErrTypeInvalidArgs marks a call the null integration refuses, as a real
// vendor would refuse it.
const ErrTypeInvalidArgs = "InvalidArguments"

// New returns a Client; a nil logger logs nothing.
func New(_ Config, log *zap.Logger) (*Client, error) {
	if log == nil {
		log = zap.NewNop()
	}
	return &Client{log: log.With(zap.String("integration", "null"))}, nil
}

// Check always succeeds: there is no vendor to reach.
func (c *Client) Check(ctx context.Context) error { return c.enter(ctx) }

// Calls is the number of calls answered so far (Check included).
func (c *Client) Calls() int64 { return c.calls.Load() }

// enter counts a call and honours a cancelled context, as a real client
// would.
func (c *Client) enter(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return temporal.NewApplicationErrorWithCause("null: "+err.Error(), "Canceled", err)
	}
	c.calls.Add(1)
	return nil
}

func invalid(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError("null: "+fmt.Sprintf(format, args...), ErrTypeInvalidArgs, nil)
}

// Block pretends to block value (an IP, domain or URL) for ttl (0: until
// unblocked).
func (c *Client) Block(ctx context.Context, kind, value string, ttl time.Duration, idempotencyKey string) error {
	if err := c.enter(ctx); err != nil {
		return err
	}
	if value == "" {
		return invalid("block %s: value: required", kind)
	}
	c.log.Debug("block", zap.String("type", kind), zap.String("value", value), zap.Duration("ttl", ttl),
		zap.String("idempotency_key", idempotencyKey))
	return nil
}

// Unblock pretends to lift a block.
func (c *Client) Unblock(ctx context.Context, kind, value, idempotencyKey string) error {
	if err := c.enter(ctx); err != nil {
		return err
	}
	if value == "" {
		return invalid("unblock %s: value: required", kind)
	}
	c.log.Debug("unblock", zap.String("type", kind), zap.String("value", value), zap.String("idempotency_key", idempotencyKey))
	return nil
}

// Ticket is a ticket the null integration pretends to have opened.
type Ticket struct {
	ID  string
	URL string
}

// CreateTicket returns a ticket whose ID derives from the idempotency key,
// so a retried call answers with the same ticket, as a real integration
// that stores the key must.
func (c *Client) CreateTicket(ctx context.Context, idempotencyKey, title, _ string) (Ticket, error) {
	if err := c.enter(ctx); err != nil {
		return Ticket{}, err
	}
	if title == "" {
		return Ticket{}, invalid("create ticket: title: required")
	}
	if idempotencyKey == "" {
		return Ticket{}, invalid("create ticket: idempotency key: required")
	}
	sum := sha256.Sum256([]byte(idempotencyKey))
	id := "null-" + hex.EncodeToString(sum[:6])
	c.log.Debug("create ticket", zap.String("ticket", id), zap.String("idempotency_key", idempotencyKey))
	return Ticket{ID: id, URL: "null://ticket/" + id}, nil
}

// Comment pretends to comment on a ticket.
func (c *Client) Comment(ctx context.Context, ticket, body string) error {
	if err := c.enter(ctx); err != nil {
		return err
	}
	if ticket == "" {
		return invalid("comment: ticket: required")
	}
	if body == "" {
		return invalid("comment: body: required")
	}
	return nil
}

// Resolve pretends to resolve a ticket.
func (c *Client) Resolve(ctx context.Context, ticket, _ string) error {
	if err := c.enter(ctx); err != nil {
		return err
	}
	if ticket == "" {
		return invalid("resolve: ticket: required")
	}
	return nil
}

// Verdict is a threat-intelligence answer.
type Verdict struct {
	// Malicious is always false: the null integration knows nothing.
	Malicious bool
	// Score is 0 on a 0-100 scale.
	Score int
	// Source names the integration.
	Source string
}

// Lookup answers "nothing known" for an ip, domain, url or hash.
func (c *Client) Lookup(ctx context.Context, kind, value string) (Verdict, error) {
	if err := c.enter(ctx); err != nil {
		return Verdict{}, err
	}
	switch kind {
	case "ip", "domain", "url", "hash":
	default:
		return Verdict{}, invalid("lookup: unknown observable kind %q", kind)
	}
	if value == "" {
		return Verdict{}, invalid("lookup %s: value: required", kind)
	}
	return Verdict{Source: "null"}, nil
}
