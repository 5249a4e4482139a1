package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/riposte-soar/riposte/activities"
	"github.com/riposte-soar/riposte/config"
	"github.com/riposte-soar/riposte/integrations/abuseipdb"
	"github.com/riposte-soar/riposte/integrations/fortigate"
	"github.com/riposte-soar/riposte/integrations/jira"
	"github.com/riposte-soar/riposte/integrations/nftables"
	"github.com/riposte-soar/riposte/integrations/opnsense"
	"github.com/riposte-soar/riposte/integrations/panos"
	"github.com/riposte-soar/riposte/integrations/rt"
	"github.com/riposte-soar/riposte/integrations/servicenow"
	"github.com/riposte-soar/riposte/integrations/virustotal"
	"github.com/riposte-soar/riposte/integrations/webhook"
)

// Integration is one configured integration as `riposte integrations
// check` sees it.
type Integration struct {
	Kind  string // ticketing, firewall, threat_intel, webhook
	Name  string // rt, panos, abuseipdb, webhook soc-bus, ...
	Check func(ctx context.Context) error
	// Detail says what a passing check proved.
	Detail string
}

// Integrations builds every configured integration. The caller plugs them
// into the activities with Wire. Errors name the config key.
func Integrations(cfg *config.Config, log *zap.Logger) (*Built, error) {
	b := &Built{}
	var errs []error
	add := func(key string, err error) { errs = append(errs, fmt.Errorf("%s: %w", key, err)) }
	t := cfg.Ticketing
	switch t.System {
	case "rt":
		c, err := rt.New(rt.Config{URL: t.RT.URL, Token: t.RT.Token.Reveal(), Username: t.RT.Username, Password: t.RT.Password.Reveal(),
			Queue: t.RT.Queue, KeyCustomField: t.RT.KeyCustomField, CAFile: t.RT.CAFile, Timeout: t.RT.Timeout}, log)
		if err != nil {
			add("ticketing.rt", err)
			break
		}
		b.Ticketing = rtTickets{c}
		b.list = append(b.list, Integration{Kind: "ticketing", Name: "rt", Check: c.Check, Detail: "REST2 reachable, credentials accepted"})
	case "jira":
		c, err := jira.New(jira.Config{URL: t.Jira.URL, Email: t.Jira.Email, APIToken: t.Jira.APIToken.Reveal(), Project: t.Jira.Project,
			IssueType: t.Jira.IssueType, ResolveTransition: t.Jira.ResolveTransition, SetPriority: t.Jira.SetPriority, Timeout: t.Jira.Timeout}, log)
		if err != nil {
			add("ticketing.jira", err)
			break
		}
		b.Ticketing = jiraTickets{c}
		b.list = append(b.list, Integration{Kind: "ticketing", Name: "jira", Check: c.Check, Detail: "site reachable, token accepted, project visible"})
	case "servicenow":
		c, err := servicenow.New(servicenow.Config{URL: t.ServiceNow.URL, Username: t.ServiceNow.Username, Password: t.ServiceNow.Password.Reveal(),
			Token: t.ServiceNow.Token.Reveal(), Table: t.ServiceNow.Table, AssignmentGroup: t.ServiceNow.AssignmentGroup,
			CommentField: t.ServiceNow.CommentField, CloseCode: t.ServiceNow.CloseCode, ResolveState: t.ServiceNow.ResolveState, CAFile: t.ServiceNow.CAFile,
			Timeout: t.ServiceNow.Timeout},
			log)
		if err != nil {
			add("ticketing.servicenow", err)
			break
		}
		b.Ticketing = snowTickets{c}
		b.list = append(b.list, Integration{Kind: "ticketing", Name: "servicenow", Check: c.Check, Detail: "table readable with these credentials"})
	}

	f := cfg.Firewall
	for _, v := range f.Vendors {
		l := log
		var fw activities.VendorFirewall
		var check func(context.Context) error
		var err error
		switch v {
		case "nftables":
			var c *nftables.Client
			if c, err = nftables.New(nftables.Config{Table: f.NFTables.Table, NetNS: f.NFTables.NetNS}, l); err == nil {
				fw, check = vendor[nftables.Block]{"nftables", c.Block, c.Unblock, toNFT}, c.Check
			}
		case "panos":
			var c *panos.Client
			if c, err = panos.New(panos.Config{URL: f.PANOS.URL, APIKey: f.PANOS.APIKey.Reveal(), Tag: f.PANOS.Tag, CAFile: f.PANOS.CAFile, Timeout: f.PANOS.Timeout}, l); err == nil {
				fw, check = vendor[panos.Block]{"panos", c.Block, c.Unblock, toPANOS}, c.Check
			}
		case "fortigate":
			var c *fortigate.Client
			if c, err = fortigate.New(fortigate.Config{URL: f.FortiGate.URL, Token: f.FortiGate.Token.Reveal(), AddressGroup: f.FortiGate.AddressGroup,
				AddressGroup6: f.FortiGate.AddressGroup6, VDOM: f.FortiGate.VDOM, CAFile: f.FortiGate.CAFile, Timeout: f.FortiGate.Timeout}, l); err == nil {
				fw, check = vendor[fortigate.Block]{"fortigate", c.Block, c.Unblock, toFortiGate}, c.Check
			}
		case "opnsense":
			var c *opnsense.Client
			if c, err = opnsense.New(opnsense.Config{URL: f.OPNsense.URL, Key: f.OPNsense.Key.Reveal(), Secret: f.OPNsense.Secret.Reveal(),
				Alias: f.OPNsense.Alias, CAFile: f.OPNsense.CAFile, Timeout: f.OPNsense.Timeout}, l); err == nil {
				fw, check = vendor[opnsense.Block]{"opnsense", c.Block, c.Unblock, toOPNsense}, c.Check
			}
		}
		if err != nil {
			add("firewall."+v, err)
			continue
		}
		b.Vendors = append(b.Vendors, fw)
		b.list = append(b.list, Integration{Kind: "firewall", Name: v, Check: check, Detail: "reachable, credentials accepted"})
	}

	ti := cfg.ThreatIntel
	for _, p := range ti.Providers {
		l := log
		switch p {
		case "abuseipdb":
			c, err := abuseipdb.New(abuseipdb.Config{URL: ti.AbuseIPDB.URL, APIKey: ti.AbuseIPDB.APIKey.Reveal(), MaxAgeDays: ti.AbuseIPDB.MaxAgeDays, Timeout: ti.AbuseIPDB.Timeout}, l)
			if err != nil {
				add("threat_intel.abuseipdb", err)
				continue
			}
			b.Enrichers = append(b.Enrichers, enricher{"abuseipdb", c})
			b.list = append(b.list, Integration{Kind: "threat_intel", Name: "abuseipdb", Check: c.Check, Detail: "key accepted"})
		case "virustotal":
			c, err := virustotal.New(virustotal.Config{URL: ti.VirusTotal.URL, APIKey: ti.VirusTotal.APIKey.Reveal(), Timeout: ti.VirusTotal.Timeout}, l)
			if err != nil {
				add("threat_intel.virustotal", err)
				continue
			}
			b.Enrichers = append(b.Enrichers, enricher{"virustotal", c})
			b.list = append(b.list, Integration{Kind: "threat_intel", Name: "virustotal", Check: c.Check, Detail: "key accepted"})
		}
	}

	if len(cfg.Webhooks) > 0 {
		hooks := webhooks{}
		for i, w := range cfg.Webhooks {
			c, err := webhook.New(webhook.Config{Name: w.Name, URL: w.URL, Headers: w.Headers, Secret: w.Secret.Reveal(), CAFile: w.CAFile, Timeout: w.Timeout},
				log.With(zap.String("webhook", w.Name)))
			if err != nil {
				add(fmt.Sprintf("webhooks[%d]", i), err)
				continue
			}
			hooks[w.Name] = c
			b.list = append(b.list, Integration{Kind: "webhook", Name: "webhook " + w.Name, Check: c.Check, Detail: "reachable (TCP; nothing sent)"})
		}
		b.Webhooks = hooks
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return b, nil
}

// Built holds the configured integrations.
type Built struct {
	Ticketing activities.Ticketing
	Vendors   []activities.VendorFirewall
	Enrichers []activities.Enricher
	Webhooks  activities.Webhooks
	list      []Integration
}

// List is every configured integration, in config order.
func (b *Built) List() []Integration { return b.list }

// Wire plugs the integrations into the activities.
func (b *Built) Wire(acts *activities.Actions, cacheTTL time.Duration) {
	if b.Ticketing != nil {
		acts.Ticketing = b.Ticketing
	}
	acts.Vendors = append(acts.Vendors, b.Vendors...)
	acts.Enrichers = append(acts.Enrichers, b.Enrichers...)
	if b.Webhooks != nil {
		acts.Webhooks = b.Webhooks
	}
	if len(b.Enrichers) > 0 && acts.EnrichCache == nil {
		acts.EnrichCache = activities.NewEnrichCache(cacheTTL)
	}
}

// The adapters below translate between the activities' types and each
// integration's own (integrations import neither activities nor config).

type rtTickets struct{ c *rt.Client }

func (t rtTickets) System() string { return "rt" }
func (t rtTickets) Create(ctx context.Context, r activities.TicketRequest) (activities.TicketRef, error) {
	tk, err := t.c.Create(ctx, rt.NewTicket{Key: r.Key, IncidentID: r.IncidentID, Title: r.Title, Body: r.Body, Priority: r.Priority, Queue: r.Queue})
	return activities.TicketRef{ID: tk.ID, Number: tk.Number, URL: tk.URL, Created: tk.Created}, err
}
func (t rtTickets) Comment(ctx context.Context, id, body string) error {
	return t.c.Comment(ctx, id, body)
}
func (t rtTickets) Resolve(ctx context.Context, id, comment string) error {
	return t.c.Resolve(ctx, id, comment)
}

type jiraTickets struct{ c *jira.Client }

func (t jiraTickets) System() string { return "jira" }
func (t jiraTickets) Create(ctx context.Context, r activities.TicketRequest) (activities.TicketRef, error) {
	tk, err := t.c.Create(ctx, jira.NewTicket{Key: r.Key, IncidentID: r.IncidentID, Title: r.Title, Body: r.Body, Priority: r.Priority, Queue: r.Queue})
	return activities.TicketRef{ID: tk.ID, Number: tk.Number, URL: tk.URL, Created: tk.Created}, err
}
func (t jiraTickets) Comment(ctx context.Context, id, body string) error {
	return t.c.Comment(ctx, id, body)
}
func (t jiraTickets) Resolve(ctx context.Context, id, comment string) error {
	return t.c.Resolve(ctx, id, comment)
}

type snowTickets struct{ c *servicenow.Client }

func (t snowTickets) System() string { return "servicenow" }
func (t snowTickets) Create(ctx context.Context, r activities.TicketRequest) (activities.TicketRef, error) {
	tk, err := t.c.Create(ctx, servicenow.NewTicket{Key: r.Key, IncidentID: r.IncidentID, Title: r.Title, Body: r.Body, Priority: r.Priority, Queue: r.Queue})
	return activities.TicketRef{ID: tk.ID, Number: tk.Number, URL: tk.URL, Created: tk.Created}, err
}
func (t snowTickets) Comment(ctx context.Context, id, body string) error {
	return t.c.Comment(ctx, id, body)
}
func (t snowTickets) Resolve(ctx context.Context, id, comment string) error {
	return t.c.Resolve(ctx, id, comment)
}

// vendor adapts a vendor firewall whose Block type is B.
type vendor[B any] struct {
	name    string
	block   func(context.Context, B) error
	unblock func(context.Context, B) error
	conv    func(activities.Block) B
}

func (v vendor[B]) Name() string { return v.name }
func (v vendor[B]) Block(ctx context.Context, b activities.Block) error {
	return v.block(ctx, v.conv(b))
}
func (v vendor[B]) Unblock(ctx context.Context, b activities.Block) error {
	return v.unblock(ctx, v.conv(b))
}

func toNFT(b activities.Block) nftables.Block {
	return nftables.Block{Type: b.Type, Value: b.Value, TTL: b.TTL, Reason: b.Reason, Key: b.IdempotencyKey}
}
func toPANOS(b activities.Block) panos.Block {
	return panos.Block{Type: b.Type, Value: b.Value, TTL: b.TTL, Reason: b.Reason, Key: b.IdempotencyKey}
}
func toFortiGate(b activities.Block) fortigate.Block {
	return fortigate.Block{Type: b.Type, Value: b.Value, TTL: b.TTL, Reason: b.Reason, Key: b.IdempotencyKey}
}
func toOPNsense(b activities.Block) opnsense.Block {
	return opnsense.Block{Type: b.Type, Value: b.Value, TTL: b.TTL, Reason: b.Reason, Key: b.IdempotencyKey}
}

type intelClient interface {
	Supports(typ string) bool
	Enrich(ctx context.Context, typ, value string) (map[string]any, error)
}

type enricher struct {
	name string
	intelClient
}

func (e enricher) Name() string { return e.name }

type webhooks map[string]*webhook.Client

func (w webhooks) Post(ctx context.Context, name, key string, body []byte) (int, error) {
	c, ok := w[name]
	if !ok {
		return 0, temporal.NewNonRetryableApplicationError(fmt.Sprintf("webhook %q is not configured (see webhooks in the config)", name), activities.ErrTypeNotConfigured, nil)
	}
	return c.Post(ctx, key, body)
}
