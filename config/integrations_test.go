package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestValidateIntegrations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   []string
	}{
		{"unknown ticketing system", func(c *Config) { c.Ticketing.System = "otrs" },
			[]string{`ticketing.system: must be one of rt, jira, servicenow (or empty); got "otrs"`}},
		{"rt without credentials", func(c *Config) {
			c.Ticketing.System = "rt"
			c.Ticketing.RT.URL = "http://rt.example.com"
			c.Ticketing.RT.Username = "riposte"
		}, []string{"ticketing.rt.token: required (or ticketing.rt.username and ticketing.rt.password)"}},
		{"rt url with credentials is refused and redacted", func(c *Config) {
			c.Ticketing.System = "rt"
			c.Ticketing.RT.URL = "http://root:hunter2@rt.example.com"
			c.Ticketing.RT.Token = "tok"
		}, []string{"ticketing.rt.url: must not carry credentials; use the integration's credential keys"}},
		{"jira incomplete", func(c *Config) {
			c.Ticketing.System = "jira"
			c.Ticketing.Jira.URL = "example.atlassian.net"
		}, []string{
			`ticketing.jira.url: must be an http(s) URL, got "example.atlassian.net"`,
			"ticketing.jira.email: required",
			"ticketing.jira.api_token: required",
			"ticketing.jira.project: required",
		}},
		{"servicenow table", func(c *Config) {
			c.Ticketing.System = "servicenow"
			c.Ticketing.ServiceNow.URL = "https://x.service-now.com"
			c.Ticketing.ServiceNow.Token = "t"
			c.Ticketing.ServiceNow.Table = "problem"
		}, []string{`ticketing.servicenow.table: must be one of incident, sn_si_incident; got "problem"`}},
		{"firewall vendors", func(c *Config) {
			c.Firewall.Vendors = []string{"panos", "checkpoint", "panos", "opnsense"}
			c.Firewall.PANOS.URL = "https://fw"
			c.Firewall.PANOS.APIKey = "k"
			c.Firewall.OPNsense.URL = "https://opn"
		}, []string{
			`firewall.vendors[1]: must be one of nftables, panos, fortigate, opnsense; got "checkpoint"`,
			`firewall.vendors[2]: "panos" listed twice`,
			"firewall.opnsense.key: required",
			"firewall.opnsense.secret: required",
			"firewall.opnsense.alias: required",
		}},
		{"fortigate group", func(c *Config) {
			c.Firewall.Vendors = []string{"fortigate"}
			c.Firewall.FortiGate.URL = "https://fgt"
			c.Firewall.FortiGate.Token = "t"
			c.Firewall.FortiGate.Timeout = -1
		}, []string{"firewall.fortigate.address_group: required", "firewall.fortigate.timeout: must not be negative"}},
		{"threat intel", func(c *Config) {
			c.ThreatIntel.Providers = []string{"abuseipdb", "virustotal", "shodan"}
			c.ThreatIntel.AbuseIPDB.MaxAgeDays = 0
			c.ThreatIntel.CacheTTL = -1
		}, []string{
			`threat_intel.providers[2]: must be one of abuseipdb, virustotal; got "shodan"`,
			"threat_intel.abuseipdb.api_key: required",
			"threat_intel.abuseipdb.max_age_days: must be between 1 and 365",
			"threat_intel.virustotal.api_key: required",
			"threat_intel.cache_ttl: must not be negative",
		}},
		{"webhooks", func(c *Config) {
			c.Webhooks = []WebhookConfig{{Name: "soc-bus", URL: "https://bus"}, {Name: "soc-bus", URL: "ftp://x", Secret: "short"}, {Name: "Bad Name", URL: "https://x"}}
		}, []string{
			`webhooks[1].name: "soc-bus" is used twice`,
			`webhooks[1].url: must be an http(s) URL, got "ftp://x"`,
			"webhooks[1].secret: must be at least 16 characters",
			`webhooks[2].name: must be lower-case letters, digits, - or _ (got "Bad Name")`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate() = nil")
			}
			got := strings.Split(err.Error(), "\n")
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Validate() =\n%s\nwant\n%s", err, strings.Join(tt.want, "\n"))
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("password in %q", err)
			}
		})
	}
}

func TestIntegrationsFromFileAndEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := filepath.Join(dir, "riposte.yaml")
	yaml := "ticketing:\n  system: rt\n  rt:\n    url: http://127.0.0.1:9\n    token: file-token\nwebhooks:\n  - name: soc-bus\n    url: https://bus.example.com/h\n    headers: {Authorization: Bearer hdr-secret}\n    secret: hmac-secret\n"
	if err := os.WriteFile(f, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(LoadOptions{File: f, FileRequired: true, Environ: []string{"RIPOSTE_TICKETING_RT_TOKEN=env-token", "RIPOSTE_THREAT_INTEL_CACHE_TTL=10m"}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Ticketing.RT.Token.Reveal() != "env-token" || cfg.ThreatIntel.CacheTTL.String() != "10m0s" {
		t.Fatalf("env did not win: token set=%v cache_ttl=%s", cfg.Ticketing.RT.Token.IsSet(), cfg.ThreatIntel.CacheTTL)
	}
	if len(cfg.Webhooks) != 1 || cfg.Webhooks[0].Secret.Reveal() != "hmac-secret" || cfg.Webhooks[0].URL != "https://bus.example.com/h" {
		t.Fatalf("webhooks = %+v", cfg.Webhooks)
	}
}
