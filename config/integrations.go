package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// TicketingConfig chooses the ticketing system for ticket.* actions.
type TicketingConfig struct {
	// System is rt, jira or servicenow; empty leaves ticketing not
	// configured (ticket.* steps are recorded as not configured).
	System     string           `mapstructure:"system"`
	RT         RTConfig         `mapstructure:"rt"`
	Jira       JiraConfig       `mapstructure:"jira"`
	ServiceNow ServiceNowConfig `mapstructure:"servicenow"`
}

// RTConfig is Request Tracker 5 (REST2). Token or username/password.
type RTConfig struct {
	// URL is RT's base URL, without /REST/2.0.
	URL      string `mapstructure:"url"`
	Token    Secret `mapstructure:"token"`
	Username string `mapstructure:"username"`
	Password Secret `mapstructure:"password"`
	// Queue new tickets go to.
	Queue string `mapstructure:"queue"`
	// KeyCustomField, when set, is a ticket custom field that also holds
	// the idempotency key, so a ticket is found even after someone edits
	// its subject.
	KeyCustomField string `mapstructure:"key_custom_field"`
	// CAFile trusts an internal CA (PEM) besides the system roots.
	CAFile  string        `mapstructure:"ca_file"`
	Timeout time.Duration `mapstructure:"timeout"`
}

// JiraConfig is Jira Cloud REST v3 with an API token.
type JiraConfig struct {
	// URL is the site, e.g. https://example.atlassian.net.
	URL      string `mapstructure:"url"`
	Email    string `mapstructure:"email"`
	APIToken Secret `mapstructure:"api_token"`
	// Project is the project key issues are created in.
	Project   string `mapstructure:"project"`
	IssueType string `mapstructure:"issue_type"`
	// ResolveTransition is the workflow transition (or target status) that
	// ticket.resolve applies.
	ResolveTransition string `mapstructure:"resolve_transition"`
	// SetPriority sends the incident's priority on create (off: many
	// projects have no priority field on their create screen).
	SetPriority bool          `mapstructure:"set_priority"`
	Timeout     time.Duration `mapstructure:"timeout"`
}

// ServiceNowConfig is the ServiceNow Table API.
type ServiceNowConfig struct {
	// URL is the instance, e.g. https://example.service-now.com.
	URL      string `mapstructure:"url"`
	Username string `mapstructure:"username"`
	Password Secret `mapstructure:"password"`
	// Token is an OAuth bearer token, instead of username/password.
	Token Secret `mapstructure:"token"`
	// Table is incident or sn_si_incident.
	Table           string `mapstructure:"table"`
	AssignmentGroup string `mapstructure:"assignment_group"`
	// CommentField is work_notes (internal) or comments (visible to the
	// caller).
	CommentField string `mapstructure:"comment_field"`
	// CloseCode and ResolveState are what ticket.resolve sets.
	CloseCode    string        `mapstructure:"close_code"`
	ResolveState string        `mapstructure:"resolve_state"`
	CAFile       string        `mapstructure:"ca_file"`
	Timeout      time.Duration `mapstructure:"timeout"`
}

// FirewallConfig lists vendor firewalls that block besides the built-in
// EDL (GET /v1/blocklist/*.txt), which is always on.
type FirewallConfig struct {
	// Vendors are nftables, panos, fortigate and opnsense, each configured
	// below; every block and unblock goes to each of them.
	Vendors   []string        `mapstructure:"vendors"`
	NFTables  NFTablesConfig  `mapstructure:"nftables"`
	PANOS     PANOSConfig     `mapstructure:"panos"`
	FortiGate FortiGateConfig `mapstructure:"fortigate"`
	OPNsense  OPNsenseConfig  `mapstructure:"opnsense"`
}

// NFTablesConfig is a local nftables ruleset (needs CAP_NET_ADMIN).
type NFTablesConfig struct {
	// Table is the inet table Riposte owns.
	Table string `mapstructure:"table"`
	// NetNS is a named network namespace (/var/run/netns/NAME) or a path
	// to one; empty is Riposte's own.
	NetNS string `mapstructure:"netns"`
}

// PANOSConfig is a PAN-OS firewall or Panorama (XML API, User-ID tags).
type PANOSConfig struct {
	URL    string `mapstructure:"url"`
	APIKey Secret `mapstructure:"api_key"`
	// Tag is registered on blocked IPs; a dynamic address group matching it
	// is used in a deny rule.
	Tag     string        `mapstructure:"tag"`
	CAFile  string        `mapstructure:"ca_file"`
	Timeout time.Duration `mapstructure:"timeout"`
}

// FortiGateConfig is FortiOS REST API v2.
type FortiGateConfig struct {
	URL   string `mapstructure:"url"`
	Token Secret `mapstructure:"token"`
	// AddressGroup (IPv4) and AddressGroup6 (IPv6; empty = no IPv6 blocks)
	// are used in a deny policy.
	AddressGroup  string        `mapstructure:"address_group"`
	AddressGroup6 string        `mapstructure:"address_group6"`
	VDOM          string        `mapstructure:"vdom"`
	CAFile        string        `mapstructure:"ca_file"`
	Timeout       time.Duration `mapstructure:"timeout"`
}

// OPNsenseConfig is OPNsense's alias_util API.
type OPNsenseConfig struct {
	URL    string `mapstructure:"url"`
	Key    Secret `mapstructure:"key"`
	Secret Secret `mapstructure:"secret"`
	// Alias is the firewall alias (type host or network) used in a block
	// rule.
	Alias   string        `mapstructure:"alias"`
	CAFile  string        `mapstructure:"ca_file"`
	Timeout time.Duration `mapstructure:"timeout"`
}

// ThreatIntelConfig configures enrich.* actions.
type ThreatIntelConfig struct {
	// Providers are abuseipdb and virustotal; each enrich call asks every
	// provider that supports the observable type and merges the outputs.
	Providers []string `mapstructure:"providers"`
	// CacheTTL is how long a provider's answer for one observable is
	// reused (0 disables the cache).
	CacheTTL   time.Duration    `mapstructure:"cache_ttl"`
	AbuseIPDB  AbuseIPDBConfig  `mapstructure:"abuseipdb"`
	VirusTotal VirusTotalConfig `mapstructure:"virustotal"`
}

// AbuseIPDBConfig is AbuseIPDB API v2.
type AbuseIPDBConfig struct {
	URL        string        `mapstructure:"url"`
	APIKey     Secret        `mapstructure:"api_key"`
	MaxAgeDays int           `mapstructure:"max_age_days"`
	Timeout    time.Duration `mapstructure:"timeout"`
}

// VirusTotalConfig is VirusTotal API v3.
type VirusTotalConfig struct {
	URL     string        `mapstructure:"url"`
	APIKey  Secret        `mapstructure:"api_key"`
	Timeout time.Duration `mapstructure:"timeout"`
}

// WebhookConfig is an outbound webhook that webhook.post can call by name.
type WebhookConfig struct {
	Name string `mapstructure:"name"`
	URL  string `mapstructure:"url"`
	// Headers are sent with every call (values are treated as secrets in
	// logs).
	Headers map[string]string `mapstructure:"headers"`
	// Secret signs each call: X-Riposte-Signature is sha256=hex(HMAC of
	// "<X-Riposte-Timestamp>.<body>").
	Secret Secret `mapstructure:"secret"`
	// CAFile trusts an internal CA (PEM) for this receiver.
	CAFile  string        `mapstructure:"ca_file"`
	Timeout time.Duration `mapstructure:"timeout"`
}

// Integration names accepted in config.
var (
	TicketingSystems    = []string{"rt", "jira", "servicenow"}
	FirewallVendors     = []string{"nftables", "panos", "fortigate", "opnsense"}
	ThreatIntelProvider = []string{"abuseipdb", "virustotal"}
)

var webhookName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

func (v *validator) httpURL(key, val string) {
	u, err := url.Parse(val)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		v.add(key, fmt.Sprintf("must be an http(s) URL, got %q", redactURL(val)))
		return
	}
	if u.User != nil {
		v.add(key, "must not carry credentials; use the integration's credential keys")
	}
}

// redactURL keeps credentials in a bad URL out of the error.
func redactURL(s string) string {
	if i := strings.Index(s, "@"); i >= 0 {
		if j := strings.Index(s, "://"); j >= 0 && j < i {
			return s[:j+3] + "<redacted>" + s[i:]
		}
		return "<redacted>" + s[i:]
	}
	return s
}

func (v *validator) notNegativeDuration(key string, d time.Duration) {
	if d < 0 {
		v.add(key, "must not be negative")
	}
}

func (v *validator) integrations(c *Config) {
	t := &c.Ticketing
	v.oneOf("ticketing.system", t.System, TicketingSystems, true)
	switch t.System {
	case "rt":
		v.httpURL("ticketing.rt.url", t.RT.URL)
		if !t.RT.Token.IsSet() && (t.RT.Username == "" || !t.RT.Password.IsSet()) {
			v.add("ticketing.rt.token", "required (or ticketing.rt.username and ticketing.rt.password)")
		}
		v.readable("ticketing.rt.ca_file", t.RT.CAFile)
	case "jira":
		v.httpURL("ticketing.jira.url", t.Jira.URL)
		v.required("ticketing.jira.email", t.Jira.Email)
		v.required("ticketing.jira.api_token", t.Jira.APIToken.Reveal())
		v.required("ticketing.jira.project", t.Jira.Project)
	case "servicenow":
		v.httpURL("ticketing.servicenow.url", t.ServiceNow.URL)
		if !t.ServiceNow.Token.IsSet() && (t.ServiceNow.Username == "" || !t.ServiceNow.Password.IsSet()) {
			v.add("ticketing.servicenow.token", "required (or ticketing.servicenow.username and ticketing.servicenow.password)")
		}
		v.oneOf("ticketing.servicenow.table", t.ServiceNow.Table, []string{"incident", "sn_si_incident"}, false)
		v.oneOf("ticketing.servicenow.comment_field", t.ServiceNow.CommentField, []string{"work_notes", "comments"}, false)
		v.readable("ticketing.servicenow.ca_file", t.ServiceNow.CAFile)
	}
	v.notNegativeDuration("ticketing.rt.timeout", t.RT.Timeout)
	v.notNegativeDuration("ticketing.jira.timeout", t.Jira.Timeout)
	v.notNegativeDuration("ticketing.servicenow.timeout", t.ServiceNow.Timeout)

	f := &c.Firewall
	seen := map[string]bool{}
	for i, name := range f.Vendors {
		key := fmt.Sprintf("firewall.vendors[%d]", i)
		v.oneOf(key, name, FirewallVendors, false)
		if seen[name] {
			v.add(key, fmt.Sprintf("%q listed twice", name))
		}
		seen[name] = true
	}
	if seen["nftables"] {
		v.required("firewall.nftables.table", f.NFTables.Table)
	}
	if seen["panos"] {
		v.httpURL("firewall.panos.url", f.PANOS.URL)
		v.required("firewall.panos.api_key", f.PANOS.APIKey.Reveal())
		v.required("firewall.panos.tag", f.PANOS.Tag)
		v.readable("firewall.panos.ca_file", f.PANOS.CAFile)
	}
	if seen["fortigate"] {
		v.httpURL("firewall.fortigate.url", f.FortiGate.URL)
		v.required("firewall.fortigate.token", f.FortiGate.Token.Reveal())
		v.required("firewall.fortigate.address_group", f.FortiGate.AddressGroup)
		v.readable("firewall.fortigate.ca_file", f.FortiGate.CAFile)
	}
	if seen["opnsense"] {
		v.httpURL("firewall.opnsense.url", f.OPNsense.URL)
		v.required("firewall.opnsense.key", f.OPNsense.Key.Reveal())
		v.required("firewall.opnsense.secret", f.OPNsense.Secret.Reveal())
		v.required("firewall.opnsense.alias", f.OPNsense.Alias)
		v.readable("firewall.opnsense.ca_file", f.OPNsense.CAFile)
	}
	v.notNegativeDuration("firewall.panos.timeout", f.PANOS.Timeout)
	v.notNegativeDuration("firewall.fortigate.timeout", f.FortiGate.Timeout)
	v.notNegativeDuration("firewall.opnsense.timeout", f.OPNsense.Timeout)

	ti := &c.ThreatIntel
	seen = map[string]bool{}
	for i, name := range ti.Providers {
		key := fmt.Sprintf("threat_intel.providers[%d]", i)
		v.oneOf(key, name, ThreatIntelProvider, false)
		if seen[name] {
			v.add(key, fmt.Sprintf("%q listed twice", name))
		}
		seen[name] = true
	}
	if seen["abuseipdb"] {
		v.httpURL("threat_intel.abuseipdb.url", ti.AbuseIPDB.URL)
		v.required("threat_intel.abuseipdb.api_key", ti.AbuseIPDB.APIKey.Reveal())
		if ti.AbuseIPDB.MaxAgeDays < 1 || ti.AbuseIPDB.MaxAgeDays > 365 {
			v.add("threat_intel.abuseipdb.max_age_days", "must be between 1 and 365")
		}
	}
	if seen["virustotal"] {
		v.httpURL("threat_intel.virustotal.url", ti.VirusTotal.URL)
		v.required("threat_intel.virustotal.api_key", ti.VirusTotal.APIKey.Reveal())
	}
	v.notNegativeDuration("threat_intel.cache_ttl", ti.CacheTTL)
	v.notNegativeDuration("threat_intel.abuseipdb.timeout", ti.AbuseIPDB.Timeout)
	v.notNegativeDuration("threat_intel.virustotal.timeout", ti.VirusTotal.Timeout)

	names := map[string]bool{}
	for i, w := range c.Webhooks {
		key := fmt.Sprintf("webhooks[%d]", i)
		if !webhookName.MatchString(w.Name) {
			v.add(key+".name", fmt.Sprintf("must be lower-case letters, digits, - or _ (got %q)", w.Name))
		} else if names[w.Name] {
			v.add(key+".name", fmt.Sprintf("%q is used twice", w.Name))
		}
		names[w.Name] = true
		v.httpURL(key+".url", w.URL)
		v.readable(key+".ca_file", w.CAFile)
		if w.Secret.IsSet() && len(w.Secret.Reveal()) < 16 {
			v.add(key+".secret", "must be at least 16 characters")
		}
		v.notNegativeDuration(key+".timeout", w.Timeout)
	}
}
