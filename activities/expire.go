package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// ActivityExpireBlocks is the activity the blocklist workflow runs when
// blocks with a TTL expire: it takes them off the vendor firewalls, some
// of which (FortiGate, OPNsense) have no expiry of their own.
const ActivityExpireBlocks = "ExpireBlocks"

// ExpireRequest lists the blocks whose TTL ended.
type ExpireRequest struct {
	Blocks []ExpiredBlock `json:"blocks"`
}

// ExpiredBlock is one block whose TTL ended.
type ExpiredBlock struct {
	Type     string `json:"type"`
	Value    string `json:"value"`
	Incident string `json:"incident,omitempty"`
	Step     string `json:"step,omitempty"`
}

// ExpireResult counts the vendor calls, for the workflow's log.
type ExpireResult struct {
	// Unblocked counts (block, vendor) pairs removed.
	Unblocked int `json:"unblocked"`
	// Skipped counts pairs the vendor cannot carry (type Unsupported).
	Skipped int `json:"skipped"`
}

// ExpireBlocks calls Unblock for every expired block on every vendor
// firewall. Unblock is idempotent on all of them, so vendors that expire
// blocks themselves (nftables, PAN-OS) are called too and a retry simply
// repeats the calls. Every pair is tried even when one fails, so one
// broken firewall does not keep blocks on the others. When some failed,
// the error returned keeps the retry class of a retryable failure if
// there is one (so Temporal retries), else that of the first failure.
// The heartbeat records how many leading blocks are off every vendor, so
// that a retry of a long list resumes after them.
func (a *Actions) ExpireBlocks(ctx context.Context, req ExpireRequest) (ExpireResult, error) {
	var res ExpireResult
	if len(a.Vendors) == 0 {
		return res, nil
	}
	inActivity := activity.IsActivity(ctx)
	done := 0 // req.Blocks[:done] are off every vendor
	heartbeat := func() {
		if inActivity {
			// Also lets a cancellation from the workflow reach this attempt.
			activity.RecordHeartbeat(ctx, done)
		}
	}
	if inActivity && activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &done); err != nil || done < 0 || done > len(req.Blocks) {
			done = 0
		}
	}
	var first, retryable error
	failed, calls := 0, 0
	for i := done; i < len(req.Blocks); i++ {
		e := req.Blocks[i]
		entryFailed := false
		b := Block{Type: e.Type, Value: e.Value, Reason: "expired", IncidentID: e.Incident, StepID: e.Step,
			IdempotencyKey: e.Incident + "/" + e.Step + "/expire"}
		action := "firewall.expire_" + e.Type
		for _, fw := range a.Vendors {
			if err := ctx.Err(); err != nil {
				// Cancelled (a value was blocked again), or the worker stops.
				return res, err
			}
			name := fw.Name()
			calls++
			err := a.observe(name, action, func() error { return fw.Unblock(ctx, b) })
			heartbeat()
			var appErr *temporal.ApplicationError
			switch {
			case err == nil:
				res.Unblocked++
				continue
			case errors.As(err, &appErr) && appErr.Type() == ErrTypeUnsupported:
				res.Skipped++
				continue
			}
			failed++
			entryFailed = true
			err = wrap(fmt.Sprintf("%s %s on %s", e.Type, e.Value, name), err)
			if first == nil {
				first = err
			}
			if retryable == nil && !(errors.As(err, &appErr) && appErr.NonRetryable()) {
				retryable = err
			}
		}
		if !entryFailed && done == i {
			done = i + 1
			heartbeat()
		}
	}
	if failed == 0 {
		return res, nil
	}
	err := first
	if retryable != nil {
		err = retryable
	}
	return res, wrap(fmt.Sprintf("expire blocks (%d of %d vendor unblocks failed)", failed, calls), err)
}
