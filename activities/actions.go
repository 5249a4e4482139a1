package activities

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
)

// ActivityRunAction is the activity that runs a playbook action.
const ActivityRunAction = "RunAction"

// ErrTypeNotConfigured marks an action whose integration is not configured:
// the playbook records it and goes on; nothing is faked.
const ErrTypeNotConfigured = "NotConfigured"

// ErrTypeInvalidArgs marks arguments the action refuses; retrying cannot
// help.
const ErrTypeInvalidArgs = "InvalidArguments"

// ActionRequest is one action call from a playbook step.
type ActionRequest struct {
	IncidentID string         `json:"incident_id"`
	StepID     string         `json:"step_id"`
	Name       string         `json:"name"`
	Args       map[string]any `json:"args,omitempty"`
	// Undo is true when this call reverses an earlier step.
	Undo bool `json:"undo,omitempty"`
}

// IdempotencyKey is what integrations store on the side effect so that a
// retry or a crash never repeats it.
func (r ActionRequest) IdempotencyKey() string {
	k := r.IncidentID + "/" + r.StepID
	if r.Undo {
		k += "/undo"
	}
	return k
}

// ActionResult is what the step records as steps.<id>.output.
type ActionResult struct {
	Output map[string]any `json:"output"`
}

// Block is a firewall block or unblock.
type Block struct {
	// Type is ip, domain or url.
	Type   string
	Value  string
	TTL    time.Duration
	Reason string
	// IdempotencyKey identifies the step that asked.
	IdempotencyKey string
	IncidentID     string
	StepID         string
}

// Firewall blocks and unblocks values. The built-in one is the EDL.
type Firewall interface {
	Block(ctx context.Context, b Block) error
	Unblock(ctx context.Context, b Block) error
}

// Actions runs playbook actions against the configured integrations. A nil
// integration answers "not configured".
type Actions struct {
	// Firewall is the built-in EDL; Vendors also get every block.
	Firewall   Firewall
	Vendors    []VendorFirewall
	Chat       Chat
	Compliance Compliance
	Ticketing  Ticketing
	Enrichers  []Enricher
	// EnrichCache reuses enrichment answers (NewEnrichCache); nil: none.
	EnrichCache *EnrichCache
	Webhooks    Webhooks
	// Observe, when set, is told about every integration call.
	Observe Observer
}

// Compliance starts regulatory clocks for an incident.
type Compliance interface {
	StartClocks(ctx context.Context, incidentID string, regimes []string, events map[string]time.Time) ([]string, error)
}

// RunAction dispatches by action name.
func (a *Actions) RunAction(ctx context.Context, req ActionRequest) (ActionResult, error) {
	family, verb, _ := strings.Cut(req.Name, ".")
	switch family {
	case "firewall":
		return a.firewall(ctx, req, verb)
	case "ticket":
		return a.ticket(ctx, req, verb)
	case "webhook":
		return a.webhook(ctx, req)
	case "chat":
		if a.Chat == nil {
			return ActionResult{}, notConfigured("chat", req.Name)
		}
		msg, _ := req.Args["message"].(string)
		if msg == "" {
			return ActionResult{}, invalid(req.Name, "message: required")
		}
		channel, _ := req.Args["channel"].(string)
		var ref ChatRef
		err := a.observe("slack", req.Name, func() error {
			var err error
			ref, err = a.Chat.PostMessage(ctx, channel, msg)
			return err
		})
		if err != nil {
			return ActionResult{}, wrap(req.Name, err)
		}
		return ActionResult{Output: map[string]any{"channel": ref.Channel, "ts": ref.TS}}, nil
	case "enrich":
		return a.enrich(ctx, req, verb)
	case "compliance":
		if a.Compliance == nil {
			return ActionResult{}, notConfigured("compliance", req.Name)
		}
		return a.startClocks(ctx, req)
	}
	return ActionResult{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("unknown action %q", req.Name), ErrTypeInvalidArgs, nil)
}

func notConfigured(integration, action string) error {
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("%s: integration %s not configured", action, integration), ErrTypeNotConfigured, nil)
}

func invalid(action, format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(action+": "+fmt.Sprintf(format, args...), ErrTypeInvalidArgs, nil)
}

func (a *Actions) firewall(ctx context.Context, req ActionRequest, verb string) (ActionResult, error) {
	if a.Firewall == nil {
		a.notConfiguredCall("firewall", req.Name)
		return ActionResult{}, notConfigured("firewall", req.Name)
	}
	block := strings.HasPrefix(verb, "block_")
	typ := strings.TrimPrefix(strings.TrimPrefix(verb, "block_"), "unblock_")
	key := map[string]string{"ip": "ip", "domain": "domain", "url": "url"}[typ]
	if key == "" {
		return ActionResult{}, invalid(req.Name, "unknown firewall action")
	}
	raw, _ := req.Args[key].(string)
	value, err := canonical(typ, raw)
	if err != nil {
		return ActionResult{}, invalid(req.Name, "%s: %v", key, err)
	}
	b := Block{Type: typ, Value: value, IdempotencyKey: req.IdempotencyKey(), IncidentID: req.IncidentID, StepID: req.StepID}
	if r, ok := req.Args["reason"].(string); ok {
		b.Reason = r
	}
	if block {
		if s, ok := req.Args["ttl"].(string); ok && s != "" {
			d, err := time.ParseDuration(s)
			if err != nil || d < 0 {
				return ActionResult{}, invalid(req.Name, "ttl: invalid duration %q", s)
			}
			b.TTL = d
		}
		if err := a.observe("edl", req.Name, func() error { return a.Firewall.Block(ctx, b) }); err != nil {
			return ActionResult{}, wrap(req.Name+" "+value, err)
		}
		out := map[string]any{"type": typ, "value": value, "blocked": true}
		if b.TTL > 0 {
			out["ttl"] = b.TTL.String()
		}
		return a.withVendors(ctx, req, b, true, out)
	}
	if err := a.observe("edl", req.Name, func() error { return a.Firewall.Unblock(ctx, b) }); err != nil {
		return ActionResult{}, wrap(req.Name+" "+value, err)
	}
	return a.withVendors(ctx, req, b, false, map[string]any{"type": typ, "value": value, "blocked": false})
}

// withVendors repeats a block or unblock on the vendor firewalls and
// records which of them carried it.
func (a *Actions) withVendors(ctx context.Context, req ActionRequest, b Block, block bool, out map[string]any) (ActionResult, error) {
	if len(a.Vendors) == 0 {
		return ActionResult{Output: out}, nil
	}
	done, skipped, err := a.vendorBlocks(ctx, req, b, block)
	if err != nil {
		return ActionResult{}, err
	}
	out["firewalls"] = append([]any{"edl"}, done...)
	if len(skipped) > 0 {
		out["skipped"] = skipped
	}
	return ActionResult{Output: out}, nil
}

// canonical validates and normalises a value to block. Blocking a
// malformed value would put garbage in every firewall's list.
func canonical(typ, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", fmt.Errorf("required")
	}
	switch typ {
	case "ip":
		if p, err := netip.ParsePrefix(v); err == nil {
			return p.Masked().String(), nil
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			return "", fmt.Errorf("not an IP address or prefix: %q", v)
		}
		return a.Unmap().String(), nil
	case "domain":
		d := strings.TrimSuffix(strings.ToLower(v), ".")
		if len(d) > 253 || !strings.Contains(d, ".") || strings.ContainsAny(d, " /:@\t\r\n") {
			return "", fmt.Errorf("not a domain name: %q", v)
		}
		return d, nil
	case "url":
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || strings.ContainsAny(v, " \t\r\n") {
			return "", fmt.Errorf("not an absolute URL: %q", v)
		}
		// EDL URL entries carry no scheme.
		return u.Host + u.RequestURI(), nil
	}
	return "", fmt.Errorf("unknown type %q", typ)
}

func (a *Actions) startClocks(ctx context.Context, req ActionRequest) (ActionResult, error) {
	var regimes []string
	list, _ := req.Args["regimes"].([]any)
	for _, r := range list {
		if s, ok := r.(string); ok && s != "" {
			regimes = append(regimes, s)
		}
	}
	if len(regimes) == 0 {
		return ActionResult{}, invalid(req.Name, "regimes: at least one regime is required")
	}
	events := map[string]time.Time{}
	raw, _ := req.Args["events"].(map[string]any)
	for name, v := range raw {
		s, _ := v.(string)
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return ActionResult{}, invalid(req.Name, "events.%s: %q is not an RFC 3339 time", name, s)
		}
		events[name] = t.UTC()
	}
	ids, err := a.Compliance.StartClocks(ctx, req.IncidentID, regimes, events)
	if err != nil {
		return ActionResult{}, wrap(req.Name, err)
	}
	started := make([]any, 0, len(ids))
	for _, id := range ids {
		started = append(started, id)
	}
	return ActionResult{Output: map[string]any{"started": started, "count": int64(len(ids))}}, nil
}
