package config

import (
	"slices"
	"testing"
)

func TestKeyPaths(t *testing.T) {
	t.Parallel()
	want := []string{
		"auth.tokens",
		"bench.null_integration",
		"compliance.enable",
		"compliance.policy_targets",
		"data_dir",
		"dev.in_memory",
		"dev.retention",
		"dev.temporal_listen",
		"dev.ui",
		"dev.ui_listen",
		"firewall.fortigate.address_group",
		"firewall.fortigate.address_group6",
		"firewall.fortigate.ca_file",
		"firewall.fortigate.timeout",
		"firewall.fortigate.token",
		"firewall.fortigate.url",
		"firewall.fortigate.vdom",
		"firewall.nftables.netns",
		"firewall.nftables.table",
		"firewall.opnsense.alias",
		"firewall.opnsense.ca_file",
		"firewall.opnsense.key",
		"firewall.opnsense.secret",
		"firewall.opnsense.timeout",
		"firewall.opnsense.url",
		"firewall.panos.api_key",
		"firewall.panos.ca_file",
		"firewall.panos.tag",
		"firewall.panos.timeout",
		"firewall.panos.url",
		"firewall.vendors",
		"http.listen",
		"http.public_url",
		"http.read_header_timeout",
		"http.session_ttl",
		"http.shutdown_timeout",
		"incident.max_history_events",
		"incident.reopen_window",
		"ingest.default_route.group_by",
		"ingest.default_route.group_window",
		"ingest.default_route.match",
		"ingest.default_route.name",
		"ingest.default_route.playbook",
		"ingest.default_route.suppress",
		"ingest.max_body_bytes",
		"ingest.routes",
		"ingest.sources",
		"log.format",
		"log.level",
		"playbooks.library",
		"playbooks.paths",
		"slack.api_url",
		"slack.app_token",
		"slack.bot_token",
		"slack.channel",
		"slack.compliance_channel",
		"slack.escalation_channel",
		"slack.incident_channels",
		"slack.reminder_fraction",
		"slack.signing_secret",
		"slack.usergroups",
		"slack.users",
		"temporal.address",
		"temporal.api_key",
		"temporal.connect_timeout",
		"temporal.namespace",
		"temporal.retry_max_interval",
		"temporal.task_queue",
		"temporal.tls.ca_file",
		"temporal.tls.cert_file",
		"temporal.tls.enabled",
		"temporal.tls.key_file",
		"temporal.tls.server_name",
		"threat_intel.abuseipdb.api_key",
		"threat_intel.abuseipdb.max_age_days",
		"threat_intel.abuseipdb.timeout",
		"threat_intel.abuseipdb.url",
		"threat_intel.cache_ttl",
		"threat_intel.providers",
		"threat_intel.virustotal.api_key",
		"threat_intel.virustotal.timeout",
		"threat_intel.virustotal.url",
		"ticketing.jira.api_token",
		"ticketing.jira.email",
		"ticketing.jira.issue_type",
		"ticketing.jira.project",
		"ticketing.jira.resolve_transition",
		"ticketing.jira.set_priority",
		"ticketing.jira.timeout",
		"ticketing.jira.url",
		"ticketing.rt.ca_file",
		"ticketing.rt.key_custom_field",
		"ticketing.rt.password",
		"ticketing.rt.queue",
		"ticketing.rt.timeout",
		"ticketing.rt.token",
		"ticketing.rt.url",
		"ticketing.rt.username",
		"ticketing.servicenow.assignment_group",
		"ticketing.servicenow.ca_file",
		"ticketing.servicenow.close_code",
		"ticketing.servicenow.comment_field",
		"ticketing.servicenow.password",
		"ticketing.servicenow.resolve_state",
		"ticketing.servicenow.table",
		"ticketing.servicenow.timeout",
		"ticketing.servicenow.token",
		"ticketing.servicenow.url",
		"ticketing.servicenow.username",
		"ticketing.system",
		"webhooks",
		"worker.max_concurrent_activities",
		"worker.max_concurrent_workflow_tasks",
	}
	if got := KeyPaths(); !slices.Equal(got, want) {
		t.Errorf("KeyPaths() =\n%q\nwant\n%q", got, want)
	}
	// Callers get a copy.
	KeyPaths()[0] = "changed"
	if KeyPaths()[0] != "auth.tokens" {
		t.Error("KeyPaths shares its slice")
	}
}

func TestEnvVar(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"http.listen":            "RIPOSTE_HTTP_LISTEN",
		"temporal.tls.cert_file": "RIPOSTE_TEMPORAL_TLS_CERT_FILE",
		"data_dir":               "RIPOSTE_DATA_DIR",
		"auth.tokens":            "RIPOSTE_AUTH_TOKENS",
		"ingest.sources":         "RIPOSTE_INGEST_SOURCES",
	}
	for key, want := range tests {
		if got := EnvVar(key); got != want {
			t.Errorf("EnvVar(%q) = %q, want %q", key, got, want)
		}
	}
	// Two keys must never share a variable, or one could not be set.
	seen := map[string]string{}
	for _, k := range KeyPaths() {
		v := EnvVar(k)
		if other, dup := seen[v]; dup {
			t.Errorf("%s and %s both map to %s", other, k, v)
		}
		seen[v] = k
	}
	if _, dup := seen[EnvConfigFile]; dup {
		t.Errorf("%s is also a key's variable", EnvConfigFile)
	}
}
