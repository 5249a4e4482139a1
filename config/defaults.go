package config

import (
	"slices"
	"time"
)

// DefaultFile is the config file read from the working directory when no
// file is named; it is skipped silently when it does not exist.
const DefaultFile = "riposte.yaml"

// EnvConfigFile names the environment variable that cmd reads for the config
// file path. Load accepts and ignores it, so it is not an unknown variable.
const EnvConfigFile = "RIPOSTE_CONFIG"

// EnvClientToken and EnvClientServer are read by the CLI's client commands
// (alert send, incident list); Load accepts and ignores them.
const (
	EnvClientToken  = "RIPOSTE_TOKEN"
	EnvClientServer = "RIPOSTE_SERVER"
)

// EnvPrefix starts every environment variable that sets a config key.
const EnvPrefix = "RIPOSTE_"

// Roles are the API token and Slack roles, from most to least powerful.
var Roles = []string{"admin", "responder", "compliance", "ingest"}

// ValidRole reports whether role is one of Roles.
func ValidRole(role string) bool { return slices.Contains(Roles, role) }

// Formats are the built-in alert formats (the normalisers of package
// alerts, whose tests keep the two lists equal). Each is also a source of
// the same name, except generic, which needs a mapping.
var Formats = []string{
	"alertmanager", "grafana", "elastic", "wazuh", "splunk", "sentinel",
	"graylog", "suricata", "crowdstrike", "qradar", "thehive", "generic",
}

// FormatGeneric is the format mapped by GenericConfig.
const FormatGeneric = "generic"

// Severities are the alert severities, from least to most severe.
var Severities = []string{"informational", "low", "medium", "high", "critical"}

// ObservableTypes are the observable types an alert can carry.
var ObservableTypes = []string{
	"ip", "domain", "url", "hostname", "user", "email",
	"hash_md5", "hash_sha1", "hash_sha256", "file", "process",
}

// The defaults of HMACConfig, applied by WithDefaults.
const (
	DefaultHMACHeader          = "X-Riposte-Signature"
	DefaultHMACTimestampHeader = "X-Riposte-Timestamp"
	DefaultHMACMaxSkew         = 5 * time.Minute
)

// WithDefaults returns h with its unset fields defaulted: Header
// X-Riposte-Signature and, unless NoTimestamp, TimestampHeader
// X-Riposte-Timestamp and MaxSkew 5m. With NoTimestamp, TimestampHeader and
// MaxSkew are returned empty: the body alone is signed.
func (h HMACConfig) WithDefaults() HMACConfig {
	if h.Header == "" {
		h.Header = DefaultHMACHeader
	}
	if h.NoTimestamp {
		h.TimestampHeader = ""
		h.MaxSkew = 0
		return h
	}
	if h.TimestampHeader == "" {
		h.TimestampHeader = DefaultHMACTimestampHeader
	}
	if h.MaxSkew == 0 {
		h.MaxSkew = DefaultHMACMaxSkew
	}
	return h
}

// Default returns a configuration with which `riposte dev` runs without a
// file: everything on localhost, data in ./data.
func Default() Config {
	return Config{
		DataDir: "./data",
		Log: LogConfig{
			Level:  "info",
			Format: "", // console for dev, json for serve and worker
		},
		HTTP: HTTPConfig{
			Listen:            "127.0.0.1:8080",
			ReadHeaderTimeout: 10 * time.Second,
			ShutdownTimeout:   5 * time.Second,
			SessionTTL:        8 * time.Hour,
		},
		Temporal: TemporalConfig{
			Address:          "127.0.0.1:7233",
			Namespace:        "default",
			TaskQueue:        "riposte",
			ConnectTimeout:   5 * time.Second,
			RetryMaxInterval: 5 * time.Second,
		},
		Dev: DevConfig{
			TemporalListen: "127.0.0.1:7233",
			UI:             false,
			UIListen:       "127.0.0.1:8233",
			InMemory:       false,
			Retention:      30 * 24 * time.Hour,
		},
		Ingest: IngestConfig{
			MaxBodyBytes: 1 << 20,
			DefaultRoute: RouteConfig{
				Name:        "default",
				Playbook:    "generic-triage",
				GroupBy:     `alert.source + "/" + alert.title`,
				GroupWindow: 24 * time.Hour,
			},
		},
		Incident: IncidentConfig{
			MaxHistoryEvents: 10000,
			ReopenWindow:     24 * time.Hour,
		},
		Playbooks: PlaybooksConfig{Library: true},
		Slack:     SlackConfig{APIURL: "https://slack.com/api/", ReminderFraction: 0.5},
		Ticketing: TicketingConfig{
			RT:         RTConfig{Queue: "General"},
			Jira:       JiraConfig{IssueType: "Task", ResolveTransition: "Done"},
			ServiceNow: ServiceNowConfig{Table: "incident", CommentField: "work_notes"},
		},
		Firewall: FirewallConfig{
			NFTables: NFTablesConfig{Table: "riposte"},
			PANOS:    PANOSConfig{Tag: "riposte-block"},
		},
		ThreatIntel: ThreatIntelConfig{
			CacheTTL:   time.Hour,
			AbuseIPDB:  AbuseIPDBConfig{URL: "https://api.abuseipdb.com/api/v2", MaxAgeDays: 90},
			VirusTotal: VirusTotalConfig{URL: "https://www.virustotal.com/api/v3"},
		},
	}
}
