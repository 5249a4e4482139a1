package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestPlaybookTestCommand runs `riposte playbook test` for every shipped
// playbook against a fixture alert and checks the timeline it prints.
func TestPlaybookTestCommand(t *testing.T) {
	fixture := func(p string) string {
		abs, _ := filepath.Abs("../../alerts/testdata/fixtures/" + p)
		return abs
	}
	tests := []struct {
		playbook, source, alert string
		args                    []string
		want                    []string
	}{
		{"ssh-brute-force", "wazuh", fixture("wazuh/dashboard_sample_5716_ssh_auth_failed.json"), nil, []string{
			"): completed",
			"phase detect", "phase contain", "phase analyse", "phase restore", "phase follow_up",
			"approval approve_block requested from responder: Block 49.88.112.73 for 24h?",
			"tester-1 approved approve_block (1 of 1)",
			"firewall.block_ip done: ip=49.88.112.73 reason=ssh brute force: sshd: authentication failed. ttl=24h",
			"+24:01:00", "firewall.unblock_ip done: ip=49.88.112.73",
			"  unblock firewall.unblock_ip ip=49.88.112.73",
		}},
		{"ssh-brute-force", "wazuh", fixture("wazuh/dashboard_sample_5716_ssh_auth_failed.json"), []string{"--approve", "none"}, []string{
			"approval approve_block not answered in 30m0s; escalated to admin",
			"approval approve_block expired: denied",
			"step block skipped",
		}},
		{"phishing", "thehive", fixture("thehive/thehivedocs_create_alert_with_artifacts.json"), nil, []string{
			"): completed", "firewall.block_domain done: domain=thehive-project.org", "firewall.unblock_domain undone: domain=thehive-project.org",
		}},
		{"malware-on-host", "crowdstrike", fixture("crowdstrike/elastic_integrations_epp_detection_summary_ngav_blocked.json"), nil, []string{
			"): completed", "tester-1 approved approve_containment (1 of 2 needed)", "tester-2 approved approve_containment (2 of 2)",
			"firewall.block_ip done: ip=81.2.69.144",
		}},
		{"personal-data-breach", "sentinel", fixture("sentinel/restapi_2023-02-01_GetIncidentById_body.json"), nil, []string{
			"): completed", "approval assess requested from compliance", "compliance.start_clocks done: events=map[aware:2019-01-01T13:00:30Z] regimes=[gdpr nis2]",
		}},
		{"generic-triage", "suricata", fixture("suricata/suricata_docs_eve_alert_example.json"), nil, []string{
			"): completed", "phase analyse", "enrich.ip done: ip=192.168.2.14",
		}},
	}
	dir := t.TempDir()
	for _, tc := range tests {
		t.Run(tc.playbook+strings.Join(tc.args, ""), func(t *testing.T) {
			args := append([]string{"playbook", "test", tc.playbook, "--source", tc.source, "--alert", tc.alert}, tc.args...)
			stdout, stderr, code := runRiposte(t, dir, nil, args...)
			if code != 0 {
				t.Fatalf("status %d: %s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, stdout)
				}
			}
		})
	}
}
