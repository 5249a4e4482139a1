package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/temporal"
)

// ErrTypeUnsupported marks a request an integration cannot carry out by
// design (for example a domain block on nftables).
const ErrTypeUnsupported = "Unsupported"

// TicketRequest is a ticket.create call.
type TicketRequest struct {
	// Key is stored on the ticket; Create finds an existing ticket by it so
	// that a retry or a crash never opens a second one.
	Key        string
	IncidentID string
	StepID     string
	Title      string
	Body       string
	Priority   string
	Queue      string
}

// TicketRef is a ticket as the incident records it.
type TicketRef struct {
	System string `json:"system"`
	ID     string `json:"id"`
	Number string `json:"number,omitempty"`
	URL    string `json:"url,omitempty"`
	// Created is false when an existing ticket with the same key was found.
	Created bool `json:"created"`
}

// Ticketing opens, comments on and resolves tickets.
type Ticketing interface {
	System() string
	Create(ctx context.Context, t TicketRequest) (TicketRef, error)
	Comment(ctx context.Context, id, body string) error
	Resolve(ctx context.Context, id, comment string) error
}

// VendorFirewall is a firewall besides the built-in EDL.
type VendorFirewall interface {
	Name() string
	Firewall
}

// Enricher looks observables up in threat intelligence. Outputs are flat
// maps of JSON-friendly values that playbooks branch on.
type Enricher interface {
	Name() string
	Supports(typ string) bool
	Enrich(ctx context.Context, typ, value string) (map[string]any, error)
}

// Webhooks posts JSON to a configured outbound webhook by name.
type Webhooks interface {
	Post(ctx context.Context, name, key string, body []byte) (status int, err error)
}

// Observer is told the outcome and duration of every integration call
// (metrics): outcome is ok, error or not_configured.
type Observer func(integration, action, outcome string, d time.Duration)

// observe times fn and reports it.
func (a *Actions) observe(integration, action string, fn func() error) error {
	start := time.Now()
	err := fn()
	if a.Observe != nil {
		outcome := "ok"
		if err != nil {
			outcome = "error"
		}
		a.Observe(integration, action, outcome, time.Since(start))
	}
	return err
}

// wrap prefixes an integration error with context while keeping what
// Temporal's retry reads from it: the SDK looks only at the outermost
// error, so a plain fmt.Errorf would turn a non-retryable error retryable.
func wrap(prefix string, err error) error {
	if err == nil {
		return nil
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return temporal.NewApplicationErrorWithOptions(prefix+": "+appErr.Message(), appErr.Type(),
			temporal.ApplicationErrorOptions{NonRetryable: appErr.NonRetryable(), NextRetryDelay: appErr.NextRetryDelay()})
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

func argString(req ActionRequest, name string) string {
	s, _ := req.Args[name].(string)
	return strings.TrimSpace(s)
}

func (a *Actions) ticket(ctx context.Context, req ActionRequest, verb string) (ActionResult, error) {
	if a.Ticketing == nil {
		a.notConfiguredCall("ticketing", req.Name)
		return ActionResult{}, notConfigured("ticketing", req.Name)
	}
	sys := a.Ticketing.System()
	switch verb {
	case "create":
		title := argString(req, "title")
		if title == "" {
			return ActionResult{}, invalid(req.Name, "title: required")
		}
		var ref TicketRef
		err := a.observe(sys, req.Name, func() error {
			var err error
			ref, err = a.Ticketing.Create(ctx, TicketRequest{
				Key: req.IdempotencyKey(), IncidentID: req.IncidentID, StepID: req.StepID, Title: title,
				Body: argString(req, "body"), Priority: argString(req, "priority"), Queue: argString(req, "queue"),
			})
			return err
		})
		if err != nil {
			return ActionResult{}, wrap(req.Name, err)
		}
		ref.System = sys
		return ActionResult{Output: ticketOutput(ref)}, nil
	case "comment", "resolve":
		id := argString(req, "ticket")
		if id == "" {
			return ActionResult{}, invalid(req.Name, "ticket: required (the incident has no ticket yet)")
		}
		err := a.observe(sys, req.Name, func() error {
			if verb == "comment" {
				body := argString(req, "body")
				if body == "" {
					return invalid(req.Name, "body: required")
				}
				return a.Ticketing.Comment(ctx, id, body)
			}
			return a.Ticketing.Resolve(ctx, id, argString(req, "comment"))
		})
		if err != nil {
			return ActionResult{}, wrap(req.Name+" "+id, err)
		}
		out := map[string]any{"system": sys, "id": id}
		if verb == "resolve" {
			out["resolved"] = true
		}
		return ActionResult{Output: out}, nil
	}
	return ActionResult{}, invalid(req.Name, "unknown ticket action")
}

func ticketOutput(r TicketRef) map[string]any {
	out := map[string]any{"system": r.System, "id": r.ID, "created": r.Created}
	if r.Number != "" {
		out["number"] = r.Number
	}
	if r.URL != "" {
		out["url"] = r.URL
	}
	return out
}

// vendorBlocks sends a block or unblock to every vendor firewall and
// returns the names of those that did it. A vendor that cannot carry the
// type by design is skipped; any other failure fails the step, and the
// retry repeats the calls, which are idempotent.
func (a *Actions) vendorBlocks(ctx context.Context, req ActionRequest, b Block, block bool) (done, skipped []any, err error) {
	for _, fw := range a.Vendors {
		name := fw.Name()
		err := a.observe(name, req.Name, func() error {
			if block {
				return fw.Block(ctx, b)
			}
			return fw.Unblock(ctx, b)
		})
		var appErr *temporal.ApplicationError
		switch {
		case err == nil:
			done = append(done, name)
		case errors.As(err, &appErr) && appErr.Type() == ErrTypeUnsupported:
			skipped = append(skipped, name)
		default:
			return nil, nil, wrap(fmt.Sprintf("%s %s on %s", req.Name, b.Value, name), err)
		}
	}
	return done, skipped, nil
}

func (a *Actions) enrich(ctx context.Context, req ActionRequest, typ string) (ActionResult, error) {
	if len(a.Enrichers) == 0 {
		a.notConfiguredCall("threat_intel", req.Name)
		return ActionResult{}, notConfigured("threat_intel", req.Name)
	}
	argName := typ
	value := argString(req, argName)
	if value == "" {
		return ActionResult{}, invalid(req.Name, "%s: required", argName)
	}
	if typ == "ip" || typ == "domain" {
		v, err := canonical(typ, value)
		if err != nil {
			return ActionResult{}, invalid(req.Name, "%s: %v", argName, err)
		}
		value = v
	}
	if typ == "hash" {
		value = strings.ToLower(value)
		if !isHash(value) {
			return ActionResult{}, invalid(req.Name, "hash: not an MD5, SHA-1 or SHA-256 hex digest: %q", value)
		}
	}
	out := map[string]any{"type": typ, "value": value}
	var providers []any
	for _, e := range a.Enrichers {
		if !e.Supports(typ) {
			continue
		}
		name := e.Name()
		res, ok := a.EnrichCache.get(name, typ, value)
		if !ok {
			err := a.observe(name, req.Name, func() error {
				var err error
				res, err = e.Enrich(ctx, typ, value)
				return err
			})
			if err != nil {
				return ActionResult{}, wrap(fmt.Sprintf("%s %s via %s", req.Name, value, name), err)
			}
			a.EnrichCache.put(name, typ, value, res)
		}
		for k, v := range res {
			out[k] = v
		}
		providers = append(providers, name)
	}
	if len(providers) == 0 {
		a.notConfiguredCall("threat_intel", req.Name)
		return ActionResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s: no configured threat-intel provider supports %s lookups", req.Name, typ), ErrTypeNotConfigured, nil)
	}
	out["providers"] = providers
	return ActionResult{Output: out}, nil
}

func isHash(s string) bool {
	switch len(s) {
	case 32, 40, 64:
	default:
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func (a *Actions) webhook(ctx context.Context, req ActionRequest) (ActionResult, error) {
	if a.Webhooks == nil {
		a.notConfiguredCall("webhook", req.Name)
		return ActionResult{}, notConfigured("webhook", req.Name)
	}
	name := argString(req, "webhook")
	if name == "" {
		return ActionResult{}, invalid(req.Name, "webhook: required")
	}
	body, ok := req.Args["body"]
	if !ok {
		return ActionResult{}, invalid(req.Name, "body: required")
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return ActionResult{}, invalid(req.Name, "body: %v", err)
	}
	var status int
	err = a.observe("webhook", req.Name, func() error {
		var err error
		status, err = a.Webhooks.Post(ctx, name, req.IdempotencyKey(), raw)
		return err
	})
	if err != nil {
		return ActionResult{}, wrap(req.Name+" "+name, err)
	}
	return ActionResult{Output: map[string]any{"webhook": name, "status": int64(status)}}, nil
}

func (a *Actions) notConfiguredCall(integration, action string) {
	if a.Observe != nil {
		a.Observe(integration, action, "not_configured", 0)
	}
}

// EnrichCache keeps each provider's answer per observable for a while, so
// that a storm of alerts about one IP costs one lookup (and quota). A nil
// cache keeps nothing.
type EnrichCache struct {
	ttl time.Duration
	now func() time.Time
	mu  sync.Mutex
	m   map[string]cached
}

const maxCached = 10000

type cached struct {
	at  time.Time
	out map[string]any
}

// NewEnrichCache returns a cache that keeps answers for ttl (0: none).
func NewEnrichCache(ttl time.Duration) *EnrichCache {
	return &EnrichCache{ttl: ttl, now: time.Now, m: map[string]cached{}}
}

func (c *EnrichCache) get(provider, typ, value string) (map[string]any, bool) {
	if c == nil || c.ttl <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[provider+"|"+typ+"|"+value]
	if !ok || c.now().Sub(e.at) >= c.ttl {
		return nil, false
	}
	return e.out, true
}

func (c *EnrichCache) put(provider, typ, value string, out map[string]any) {
	if c == nil || c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.m) >= maxCached { // bound memory: drop what has expired, or all
		for k, e := range c.m {
			if now.Sub(e.at) >= c.ttl {
				delete(c.m, k)
			}
		}
		if len(c.m) >= maxCached {
			clear(c.m)
		}
	}
	c.m[provider+"|"+typ+"|"+value] = cached{at: now, out: out}
}
