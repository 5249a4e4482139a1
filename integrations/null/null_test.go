package null

import (
	"context"
	"errors"
	"testing"

	"go.temporal.io/sdk/temporal"
)

func TestCallsSucceedAndAreCounted(t *testing.T) {
	c, err := New(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Check(ctx); err != nil {
		t.Fatalf("check: %v", err)
	}
	if err := c.Block(ctx, "ip", "203.0.113.7", 0, "inc/block"); err != nil {
		t.Fatalf("block: %v", err)
	}
	if err := c.Unblock(ctx, "ip", "203.0.113.7", "inc/block/undo"); err != nil {
		t.Fatalf("unblock: %v", err)
	}
	t1, err := c.CreateTicket(ctx, "inc/ticket", "title", "body")
	if err != nil {
		t.Fatalf("create ticket: %v", err)
	}
	t2, _ := c.CreateTicket(ctx, "inc/ticket", "title", "body")
	t3, _ := c.CreateTicket(ctx, "other/ticket", "title", "body")
	if t1 != t2 || t1.ID == t3.ID || len(t1.ID) != len("null-")+12 {
		t.Fatalf("tickets: same key %v %v, other key %v", t1, t2, t3)
	}
	if err := c.Comment(ctx, t1.ID, "note"); err != nil {
		t.Fatalf("comment: %v", err)
	}
	if err := c.Resolve(ctx, t1.ID, ""); err != nil {
		t.Fatalf("resolve: %v", err)
	}
	v, err := c.Lookup(ctx, "ip", "203.0.113.7")
	if err != nil || v != (Verdict{Source: "null"}) {
		t.Fatalf("lookup: %+v %v", v, err)
	}
	if got := c.Calls(); got != 9 {
		t.Fatalf("calls = %d, want 9", got)
	}
}

func TestBadInputIsNonRetryable(t *testing.T) {
	c, _ := New(Config{}, nil)
	ctx := context.Background()
	_, ticketErr := c.CreateTicket(ctx, "k", "", "")
	_, lookupErr := c.Lookup(ctx, "mac", "x")
	cases := map[string]struct {
		err  error
		want string
	}{
		"block":  {c.Block(ctx, "ip", "", 0, "k"), "null: block ip: value: required"},
		"ticket": {ticketErr, "null: create ticket: title: required"},
		"lookup": {lookupErr, `null: lookup: unknown observable kind "mac"`},
	}
	for name, tc := range cases {
		var appErr *temporal.ApplicationError
		if !errors.As(tc.err, &appErr) || !appErr.NonRetryable() || appErr.Type() != ErrTypeInvalidArgs || appErr.Message() != tc.want {
			t.Errorf("%s: got %v, want non-retryable %q", name, tc.err, tc.want)
		}
	}
}

func TestCancelledContext(t *testing.T) {
	c, _ := New(Config{}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := c.Block(ctx, "ip", "203.0.113.7", 0, "k")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if c.Calls() != 0 {
		t.Fatalf("a cancelled call was counted")
	}
}
