package workflows

import (
	"sort"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/riposte-soar/riposte/activities"
)

// The blocklist is one long-running workflow: the external dynamic list
// (EDL) that firewalls poll. Blocks arrive by signal, expire on durable
// timers (even while Riposte is down) and are read by query.
const (
	BlocklistWorkflowName = "BlocklistWorkflow"
	BlocklistWorkflowID   = "riposte-blocklist"
	SignalBlock           = "block"
	SignalUnblock         = "unblock"
	QueryBlocklist        = "blocklist"
)

// Blocklist entry types.
const (
	BlockIP     = "ip"
	BlockDomain = "domain"
	BlockURL    = "url"
)

// BlockEntry is one blocked value.
type BlockEntry struct {
	Type     string    `json:"type"`
	Value    string    `json:"value"`
	AddedAt  time.Time `json:"added_at"`
	Expires  time.Time `json:"expires,omitempty"` // zero: until removed
	Incident string    `json:"incident,omitempty"`
	Step     string    `json:"step,omitempty"`
	Reason   string    `json:"reason,omitempty"`
}

// BlockRequest adds (TTL 0: no expiry) or removes a value.
type BlockRequest struct {
	Type     string        `json:"type"`
	Value    string        `json:"value"`
	TTL      time.Duration `json:"ttl,omitempty"`
	Incident string        `json:"incident,omitempty"`
	Step     string        `json:"step,omitempty"`
	Reason   string        `json:"reason,omitempty"`
}

// BlocklistInput carries the entries across continue-as-new.
type BlocklistInput struct {
	Entries []BlockEntry `json:"entries,omitempty"`
	// MaxHistoryEvents: continue-as-new past this many events.
	MaxHistoryEvents int `json:"max_history_events,omitempty"`
	// Expiring are expired entries whose vendor unblock had not finished
	// at continue-as-new; the next run starts it again.
	Expiring []BlockEntry `json:"expiring,omitempty"`
}

// versionVendorExpiry gates the vendor unblock of expired entries, so
// that histories from before it replay unchanged.
const versionVendorExpiry = "vendor-expiry"

// expiryOptions: the unblock is retried until it succeeds (a retry only
// repeats idempotent calls and adds no history), backing off to every 5
// minutes. The activity heartbeats after each entry, which lets a
// cancellation reach a running attempt and a long list take its time.
var expiryOptions = workflow.ActivityOptions{
	StartToCloseTimeout: time.Hour,
	HeartbeatTimeout:    2 * time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    10 * time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    5 * time.Minute,
	},
}

// expiryBatch is one run of the expiry activity, for entries that expired
// together.
type expiryBatch struct {
	entries []BlockEntry
	// reblocked: entries blocked again since; they must stay on the vendors.
	reblocked map[string]bool
	done      bool
	cancel    workflow.CancelFunc
	// restart: cancelled for a re-block; run again for the others.
	restart bool
}

func (b *expiryBatch) live() []BlockEntry {
	var out []BlockEntry
	for _, e := range b.entries {
		if !b.reblocked[blockKey(e.Type, e.Value)] {
			out = append(out, e)
		}
	}
	return out
}

func blockKey(typ, value string) string { return typ + "\x00" + value }

// BlocklistWorkflow keeps the blocklist.
func BlocklistWorkflow(ctx workflow.Context, in BlocklistInput) error {
	entries := map[string]BlockEntry{}
	for _, e := range in.Entries {
		entries[blockKey(e.Type, e.Value)] = e
	}
	sorted := func() []BlockEntry {
		out := make([]BlockEntry, 0, len(entries))
		for _, e := range entries {
			out = append(out, e)
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].Type != out[j].Type {
				return out[i].Type < out[j].Type
			}
			return out[i].Value < out[j].Value
		})
		return out
	}
	if err := workflow.SetQueryHandler(ctx, QueryBlocklist, func() ([]BlockEntry, error) { return sorted(), nil }); err != nil {
		return err
	}
	maxEvents := in.MaxHistoryEvents
	if maxEvents <= 0 {
		maxEvents = defaultMaxEvents
	}
	blockCh := workflow.GetSignalChannel(ctx, SignalBlock)
	unblockCh := workflow.GetSignalChannel(ctx, SignalUnblock)

	// Vendor firewalls without expiry of their own (FortiGate, OPNsense)
	// get an unblock when an entry expires. The version is read at the
	// first expiry, so a run started before this change adopts it at its
	// first expiry on the new code (or at its next continue-as-new).
	version, versioned := workflow.DefaultVersion, false
	vendorExpiry := func() bool {
		if !versioned {
			version = workflow.GetVersion(ctx, versionVendorExpiry, workflow.DefaultVersion, 1)
			versioned = true
		}
		return version == 1
	}
	var batches []*expiryBatch            // in start order, for continue-as-new
	expiring := map[string]*expiryBatch{} // key -> batch still unblocking it
	log := workflow.GetLogger(ctx)
	startExpiry := func(expired []BlockEntry) {
		b := &expiryBatch{entries: expired, reblocked: map[string]bool{}}
		for _, e := range expired {
			expiring[blockKey(e.Type, e.Value)] = b
		}
		batches = append(batches, b)
		// A coroutine, so that signals are handled while vendors are slow
		// or down.
		workflow.Go(ctx, func(gctx workflow.Context) {
			defer func() {
				b.done = true
				for _, e := range b.entries {
					if k := blockKey(e.Type, e.Value); expiring[k] == b {
						delete(expiring, k)
					}
				}
			}()
			for {
				live := b.live()
				if len(live) == 0 {
					return
				}
				req := activities.ExpireRequest{Blocks: make([]activities.ExpiredBlock, 0, len(live))}
				for _, e := range live {
					req.Blocks = append(req.Blocks, activities.ExpiredBlock{Type: e.Type, Value: e.Value, Incident: e.Incident, Step: e.Step})
				}
				actx, cancel := workflow.WithCancel(gctx)
				b.cancel, b.restart = cancel, false
				var res activities.ExpireResult
				err := workflow.ExecuteActivity(workflow.WithActivityOptions(actx, expiryOptions), activities.ActivityExpireBlocks, req).Get(actx, &res)
				cancel()
				switch {
				case err == nil:
					log.Info("expired blocks taken off the vendor firewalls", "entries", len(live), "unblocked", res.Unblocked, "skipped", res.Skipped)
					return
				case b.restart && temporal.IsCanceledError(err):
					continue
				case temporal.IsCanceledError(err):
					return
				}
				values := make([]string, 0, len(live))
				for _, e := range live {
					values = append(values, e.Type+" "+e.Value)
				}
				log.Error("expired blocks could not be taken off the vendor firewalls; unblock them there", "values", values, "error", err)
				return
			}
		})
	}

	apply := func(add bool, r BlockRequest) {
		k := blockKey(r.Type, r.Value)
		if !add {
			delete(entries, k)
			return
		}
		if b, ok := expiring[k]; ok {
			// Blocked again while its expiry is still unblocking it on the
			// vendors (for example one that is down): the new block, which
			// the step also sends to the vendors, must not be undone.
			delete(expiring, k)
			b.reblocked[k] = true
			if b.cancel != nil { // nil: its activity is not scheduled yet
				b.restart = true
				b.cancel()
			}
		}
		now := workflow.Now(ctx)
		e := BlockEntry{Type: r.Type, Value: r.Value, AddedAt: now, Incident: r.Incident, Step: r.Step, Reason: r.Reason}
		if r.TTL > 0 {
			e.Expires = now.Add(r.TTL)
		}
		if old, ok := entries[k]; ok {
			e.AddedAt = old.AddedAt
			// A second block keeps the later expiry; no expiry wins.
			if old.Expires.IsZero() || (!e.Expires.IsZero() && old.Expires.After(e.Expires)) {
				e.Expires = old.Expires
			}
		}
		entries[k] = e
	}
	if len(in.Expiring) > 0 && vendorExpiry() {
		startExpiry(in.Expiring)
	}
	for {
		// The earliest expiry decides the timer.
		var next time.Time
		for _, e := range sorted() {
			if !e.Expires.IsZero() && (next.IsZero() || e.Expires.Before(next)) {
				next = e.Expires
			}
		}
		timerCtx, cancelTimer := workflow.WithCancel(ctx)
		sel := workflow.NewSelector(ctx)
		if !next.IsZero() {
			d := next.Sub(workflow.Now(ctx))
			if d < 0 {
				d = 0
			}
			sel.AddFuture(workflow.NewTimer(timerCtx, d), func(workflow.Future) {})
		}
		sel.AddReceive(blockCh, func(c workflow.ReceiveChannel, _ bool) {
			var r BlockRequest
			c.Receive(ctx, &r)
			apply(true, r)
		})
		sel.AddReceive(unblockCh, func(c workflow.ReceiveChannel, _ bool) {
			var r BlockRequest
			c.Receive(ctx, &r)
			apply(false, r)
		})
		sel.Select(ctx)
		cancelTimer()
		now := workflow.Now(ctx)
		var expired []BlockEntry
		for _, e := range sorted() {
			if !e.Expires.IsZero() && !e.Expires.After(now) {
				delete(entries, blockKey(e.Type, e.Value))
				expired = append(expired, e)
			}
		}
		if len(expired) > 0 && vendorExpiry() {
			startExpiry(expired)
		}
		info := workflow.GetInfo(ctx)
		if info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() >= maxEvents {
			for {
				var r BlockRequest
				if blockCh.ReceiveAsync(&r) {
					apply(true, r)
					continue
				}
				if unblockCh.ReceiveAsync(&r) {
					apply(false, r)
					continue
				}
				break
			}
			var pending []BlockEntry
			for _, b := range batches {
				if !b.done {
					pending = append(pending, b.live()...)
				}
			}
			return workflow.NewContinueAsNewError(ctx, BlocklistWorkflowName, BlocklistInput{Entries: sorted(), MaxHistoryEvents: in.MaxHistoryEvents, Expiring: pending})
		}
	}
}
