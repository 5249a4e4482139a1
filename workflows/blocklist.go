package workflows

import (
	"sort"
	"time"

	"go.temporal.io/sdk/workflow"
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
	apply := func(add bool, r BlockRequest) {
		k := blockKey(r.Type, r.Value)
		if !add {
			delete(entries, k)
			return
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
		for _, e := range sorted() {
			if !e.Expires.IsZero() && !e.Expires.After(now) {
				delete(entries, blockKey(e.Type, e.Value))
			}
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
			return workflow.NewContinueAsNewError(ctx, BlocklistWorkflowName, BlocklistInput{Entries: sorted(), MaxHistoryEvents: in.MaxHistoryEvents})
		}
	}
}
