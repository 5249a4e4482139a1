// Package config defines Riposte's configuration: the Config struct, its
// defaults, loading from a YAML file and RIPOSTE_* environment variables, and
// validation that reports every problem at once with the key path.
package config

import "time"

// Config is the whole of Riposte's configuration. Every field carries a
// mapstructure tag: the tag is the YAML key and, upper-cased with "_" between
// levels and the RIPOSTE_ prefix, the environment variable.
type Config struct {
	// DataDir holds the embedded Temporal database and the generated admin
	// token in dev mode.
	DataDir    string           `mapstructure:"data_dir"`
	Log        LogConfig        `mapstructure:"log"`
	HTTP       HTTPConfig       `mapstructure:"http"`
	Temporal   TemporalConfig   `mapstructure:"temporal"`
	Dev        DevConfig        `mapstructure:"dev"`
	Worker     WorkerConfig     `mapstructure:"worker"`
	Auth       AuthConfig       `mapstructure:"auth"`
	Ingest     IngestConfig     `mapstructure:"ingest"`
	Incident   IncidentConfig   `mapstructure:"incident"`
	Playbooks  PlaybooksConfig  `mapstructure:"playbooks"`
	Slack      SlackConfig      `mapstructure:"slack"`
	Compliance ComplianceConfig `mapstructure:"compliance"`
	// Integrations that playbook actions call.
	Ticketing   TicketingConfig   `mapstructure:"ticketing"`
	Firewall    FirewallConfig    `mapstructure:"firewall"`
	ThreatIntel ThreatIntelConfig `mapstructure:"threat_intel"`
	Webhooks    []WebhookConfig   `mapstructure:"webhooks"`
	Bench       BenchConfig       `mapstructure:"bench"`
}

// BenchConfig is for `make bench` only.
type BenchConfig struct {
	// NullIntegration answers every firewall, ticketing and threat-intel
	// action with the null integration (integrations/null), which does
	// nothing, so that benchmarks measure Riposte rather than a vendor.
	NullIntegration bool `mapstructure:"null_integration"`
}

// ComplianceConfig tunes the regulatory catalogue.
type ComplianceConfig struct {
	// Enable turns on catalogue entries that are not in force (for
	// example "proposed"); in_force entries are always on.
	Enable []string `mapstructure:"enable"`
	// PolicyTargets are company targets, as durations, for stages the law
	// gives no number ("without undue delay"), by stage id, regime id or
	// "default".
	PolicyTargets map[string]string `mapstructure:"policy_targets"`
}

// SlackConfig connects Riposte to a Slack app: approval requests with
// buttons, signed interactions, reminders and escalation.
type SlackConfig struct {
	// BotToken (xoxb-...) enables Slack; empty leaves chat not configured.
	BotToken Secret `mapstructure:"bot_token"`
	// SigningSecret verifies interaction and slash-command requests.
	SigningSecret Secret `mapstructure:"signing_secret"`
	// AppToken (xapp-...) enables Socket Mode.
	AppToken Secret `mapstructure:"app_token"`
	// APIURL is Slack's Web API base URL (tests and proxies change it).
	APIURL string `mapstructure:"api_url"`
	// Channel receives approval requests and incident threads.
	Channel string `mapstructure:"channel"`
	// EscalationChannel receives escalations of unanswered approvals.
	EscalationChannel string `mapstructure:"escalation_channel"`
	// ComplianceChannel receives regulatory-clock reminders.
	ComplianceChannel string `mapstructure:"compliance_channel"`
	// Users maps Slack user IDs to Riposte roles.
	Users map[string][]string `mapstructure:"users"`
	// Usergroups maps Slack user-group IDs to Riposte roles.
	Usergroups map[string][]string `mapstructure:"usergroups"`
	// IncidentChannels opens a channel per incident (named after its ID),
	// invites the responders and posts a summary; approvals go there.
	IncidentChannels bool `mapstructure:"incident_channels"`
	// ReminderFraction of an approval's timeout after which a reminder is
	// posted in its thread (0 turns reminders off).
	ReminderFraction float64 `mapstructure:"reminder_fraction"`
}

// PlaybooksConfig says where playbooks come from.
type PlaybooksConfig struct {
	// Paths are files or directories of playbook YAML.
	Paths []string `mapstructure:"paths"`
	// Library loads the shipped playbooks.
	Library bool `mapstructure:"library"`
}

// LogConfig selects the log level and encoding.
type LogConfig struct {
	// Level is debug, info, warn or error.
	Level string `mapstructure:"level"`
	// Format is console or json; empty means console for dev and json for
	// serve and worker.
	Format string `mapstructure:"format"`
}

// HTTPConfig configures Riposte's own HTTP server (API, webhooks, console,
// health and metrics).
type HTTPConfig struct {
	// Listen is the host:port the HTTP server binds.
	Listen string `mapstructure:"listen"`
	// ReadHeaderTimeout bounds how long a client may take to send headers.
	ReadHeaderTimeout time.Duration `mapstructure:"read_header_timeout"`
	// ShutdownTimeout bounds how long in-flight requests may take on shutdown.
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout"`
	// PublicURL is the console's external URL; when it is https, session
	// cookies are marked Secure even where TLS ends at a proxy.
	PublicURL string `mapstructure:"public_url"`
	// SessionTTL is how long a console login lasts.
	SessionTTL time.Duration `mapstructure:"session_ttl"`
}

// TemporalConfig tells serve and worker how to reach the Temporal cluster. In
// dev mode Address is ignored: the client connects to the embedded server.
type TemporalConfig struct {
	// Address is the frontend host:port (for Temporal Cloud:
	// <namespace>.<account>.tmprl.cloud:7233).
	Address   string `mapstructure:"address"`
	Namespace string `mapstructure:"namespace"`
	// TaskQueue is the queue Riposte's workflows and activities run on.
	TaskQueue string `mapstructure:"task_queue"`
	// APIKey authenticates to Temporal Cloud; it implies TLS.
	APIKey Secret    `mapstructure:"api_key"`
	TLS    TLSConfig `mapstructure:"tls"`
	// ConnectTimeout bounds a single connection attempt; failed attempts are
	// retried with backoff up to RetryMaxInterval.
	ConnectTimeout   time.Duration `mapstructure:"connect_timeout"`
	RetryMaxInterval time.Duration `mapstructure:"retry_max_interval"`
}

// TLSConfig configures TLS and mTLS to the Temporal frontend.
type TLSConfig struct {
	Enabled bool `mapstructure:"enabled"`
	// CAFile is a PEM bundle to verify the server; empty uses the system roots.
	CAFile string `mapstructure:"ca_file"`
	// CertFile and KeyFile are the client certificate and key for mTLS.
	CertFile string `mapstructure:"cert_file"`
	KeyFile  string `mapstructure:"key_file"`
	// ServerName overrides the name checked in the server certificate.
	ServerName string `mapstructure:"server_name"`
}

// DevConfig configures the embedded Temporal server of `riposte dev`.
type DevConfig struct {
	// TemporalListen is the embedded frontend's gRPC host:port.
	TemporalListen string `mapstructure:"temporal_listen"`
	// UI enables the Temporal Web UI on UIListen.
	UI       bool   `mapstructure:"ui"`
	UIListen string `mapstructure:"ui_listen"`
	// InMemory keeps the database in memory (tests); nothing survives a
	// restart.
	InMemory bool `mapstructure:"in_memory"`
	// Retention is how long closed workflows are kept in the dev namespace.
	Retention time.Duration `mapstructure:"retention"`
}

// WorkerConfig tunes the Temporal worker.
type WorkerConfig struct {
	// MaxConcurrentActivities and MaxConcurrentWorkflowTasks cap the
	// executions in flight; 0 keeps the SDK default.
	MaxConcurrentActivities    int `mapstructure:"max_concurrent_activities"`
	MaxConcurrentWorkflowTasks int `mapstructure:"max_concurrent_workflow_tasks"`
}

// AuthConfig holds the API tokens. Only their SHA-256 hashes are stored.
type AuthConfig struct {
	Tokens []TokenConfig `mapstructure:"tokens"`
}

// TokenConfig is one API token: a name for audit, a role and the hex SHA-256
// of the token.
type TokenConfig struct {
	Name string `mapstructure:"name"`
	// Role is admin, responder, compliance or ingest.
	Role   string `mapstructure:"role"`
	SHA256 string `mapstructure:"sha256"`
	// Sources, when set, binds an ingest token to these alert sources only.
	Sources []string `mapstructure:"sources"`
}

// IngestConfig configures alert webhooks: sources, their authentication and
// the routing rules that group alerts into incidents.
type IngestConfig struct {
	// MaxBodyBytes is the largest webhook body accepted (413 above).
	MaxBodyBytes int64 `mapstructure:"max_body_bytes"`
	// Sources are the webhook endpoints /v1/alerts/{name}. Every built-in
	// format is also a source of the same name that takes bearer tokens.
	Sources []SourceConfig `mapstructure:"sources"`
	// Routes are tried in order; the first whose match is true wins.
	Routes []RouteConfig `mapstructure:"routes"`
	// DefaultRoute takes the alerts that no route matches.
	DefaultRoute RouteConfig `mapstructure:"default_route"`
}

// SourceConfig is one webhook source.
type SourceConfig struct {
	// Name is the {source} path segment.
	Name string `mapstructure:"name"`
	// Format is the normaliser (alertmanager, grafana, elastic, wazuh,
	// splunk, sentinel, graylog, suricata, crowdstrike, qradar, thehive,
	// generic); empty means the name.
	Format string `mapstructure:"format"`
	// DefaultSeverity applies when an alert carries none (default medium).
	DefaultSeverity string `mapstructure:"default_severity"`
	// HMAC accepts requests signed with a shared secret.
	HMAC HMACConfig `mapstructure:"hmac"`
	// PathSecretSHA256 is the SHA-256 of a secret path segment, for senders
	// that cannot set headers: POST /v1/alerts/{name}/{secret}.
	PathSecretSHA256 string `mapstructure:"path_secret_sha256"`
	// Generic maps fields for format generic.
	Generic GenericConfig `mapstructure:"generic"`
}

// EffectiveFormat is the source's format: Format, or Name when Format is
// empty.
func (s SourceConfig) EffectiveFormat() string {
	if s.Format != "" {
		return s.Format
	}
	return s.Name
}

// HMACConfig is request signing: the signature header carries the hex
// HMAC-SHA256 of "<timestamp>.<body>" (or of the body alone with
// NoTimestamp), optionally prefixed "sha256=". Empty fields take their
// defaults at use time: call WithDefaults.
type HMACConfig struct {
	// Secret is the shared key; setting it turns signing on.
	Secret Secret `mapstructure:"secret"`
	// Header carries the signature (default X-Riposte-Signature).
	Header string `mapstructure:"header"`
	// TimestampHeader carries the Unix time in seconds that is signed with
	// the body (default X-Riposte-Timestamp).
	TimestampHeader string `mapstructure:"timestamp_header"`
	// MaxSkew is how far the timestamp may be from now, which bounds
	// replays (default 5m).
	MaxSkew time.Duration `mapstructure:"max_skew"`
	// NoTimestamp signs the body only: no timestamp header and no replay
	// protection, for senders (such as GitHub-style webhooks) that sign
	// nothing else. TimestampHeader and MaxSkew must then be empty.
	NoTimestamp bool `mapstructure:"no_timestamp"`
}

// GenericConfig maps a JSON body to alert fields. Each value is a JSON path
// starting with "$" or a CEL expression over `event`.
//
// The keys of SeverityMap and Labels are lower case after Load: viper
// lower-cases every map key of the file, and Load lower-cases the
// environment's to match. Match SeverityMap against the lower-cased
// severity value.
type GenericConfig struct {
	Items    string `mapstructure:"items"`
	ID       string `mapstructure:"id"`
	Title    string `mapstructure:"title"`
	Severity string `mapstructure:"severity"`
	// SeverityMap maps the value Severity gives (lower-cased) to one of
	// Severities.
	SeverityMap map[string]string   `mapstructure:"severity_map"`
	Time        string              `mapstructure:"time"`
	Status      string              `mapstructure:"status"`
	Observables []GenericObservable `mapstructure:"observables"`
	// Labels maps label names (lower case) to the values that fill them.
	Labels map[string]string `mapstructure:"labels"`
}

// GenericObservable maps one observable.
type GenericObservable struct {
	Type  string `mapstructure:"type"`
	Value string `mapstructure:"value"`
}

// RouteConfig is one routing rule.
type RouteConfig struct {
	Name string `mapstructure:"name"`
	// Match is a CEL condition over alert; empty matches everything.
	Match string `mapstructure:"match"`
	// Playbook runs for the incidents this route opens.
	Playbook string `mapstructure:"playbook"`
	// GroupBy is a CEL string expression; alerts with the same value (and
	// in the same GroupWindow) join one incident.
	GroupBy string `mapstructure:"group_by"`
	// GroupWindow splits groups by time (of the alert's observed_at); 0
	// groups forever.
	GroupWindow time.Duration `mapstructure:"group_window"`
	// Suppress drops matching alerts on purpose (counted in metrics).
	Suppress bool `mapstructure:"suppress"`
}

// IncidentConfig tunes incident workflows.
type IncidentConfig struct {
	// MaxHistoryEvents makes an incident continue-as-new before its history
	// grows past this many events (Temporal warns at 10k and fails at 50k).
	MaxHistoryEvents int `mapstructure:"max_history_events"`
	// ReopenWindow is how long a closed incident can be reopened.
	ReopenWindow time.Duration `mapstructure:"reopen_window"`
}
