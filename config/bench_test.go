package config

import (
	"strings"
	"testing"
)

// TestBenchNullIntegration: the null integration is off by default, may be
// turned on from the environment, and refuses to stand beside real vendors.
func TestBenchNullIntegration(t *testing.T) {
	if Default().Bench.NullIntegration {
		t.Fatal("bench.null_integration is on by default")
	}
	cfg, err := Load(LoadOptions{Environ: []string{"RIPOSTE_BENCH_NULL_INTEGRATION=true"}})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !cfg.Bench.NullIntegration {
		t.Fatal("RIPOSTE_BENCH_NULL_INTEGRATION=true was not applied")
	}
	const want = "bench.null_integration: replaces every firewall, ticketing and threat-intel integration; " +
		"it cannot be combined with ticketing.system, firewall.vendors or threat_intel.providers"
	for name, mutate := range map[string]func(c *Config){
		"ticketing": func(c *Config) {
			c.Ticketing.System = "rt"
			c.Ticketing.RT.URL = "https://rt.example.com"
			c.Ticketing.RT.Token = "t"
		},
		"firewall": func(c *Config) { c.Firewall.Vendors = []string{"nftables"} },
		"intel":    func(c *Config) { c.ThreatIntel.Providers = []string{"abuseipdb"}; c.ThreatIntel.AbuseIPDB.APIKey = "k" },
	} {
		c := Default()
		c.Bench.NullIntegration = true
		mutate(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: Validate() = %v, want it to contain %q", name, err, want)
		}
	}
}
