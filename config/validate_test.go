package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	hashA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	hashB = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
)

func TestDefaultIsValid(t *testing.T) {
	t.Parallel()
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	c.DataDir = t.TempDir()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default() with data_dir set: Validate() = %v", err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pem := filepath.Join(dir, "client.pem")
	if err := os.WriteFile(pem, []byte("not really a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")

	tests := []struct {
		name   string
		mutate func(c *Config)
		want   []string
	}{
		{
			name:   "valid with everything set",
			mutate: func(c *Config) { setAll(c, pem) },
		},
		{
			name: "required values",
			mutate: func(c *Config) {
				c.Temporal.Namespace = ""
				c.Temporal.TaskQueue = " "
				c.DataDir = ""
				c.HTTP.Listen = ""
			},
			want: []string{
				"data_dir: required",
				"http.listen: required",
				"temporal.namespace: required",
				"temporal.task_queue: required",
			},
		},
		{
			name: "addresses",
			mutate: func(c *Config) {
				c.HTTP.Listen = "x"
				c.Temporal.Address = "temporal:port"
				c.Dev.TemporalListen = "127.0.0.1:70000"
				c.Dev.UIListen = ":0" // any free port: fine
			},
			want: []string{
				`http.listen: invalid address "x": missing port in address`,
				`temporal.address: invalid address "temporal:port": the port must be a number from 0 to 65535`,
				`dev.temporal_listen: invalid address "127.0.0.1:70000": the port must be a number from 0 to 65535`,
			},
		},
		{
			name:   "log level and format",
			mutate: func(c *Config) { c.Log.Level = "loud"; c.Log.Format = "xml" },
			want: []string{
				`log.level: must be one of debug, info, warn, error; got "loud"`,
				`log.format: must be one of console, json (or empty); got "xml"`,
			},
		},
		{
			name: "durations",
			mutate: func(c *Config) {
				c.HTTP.ReadHeaderTimeout = 0
				c.HTTP.ShutdownTimeout = -time.Second
				c.Temporal.ConnectTimeout = 0
				c.Temporal.RetryMaxInterval = 0
				c.Dev.Retention = 23 * time.Hour
			},
			want: []string{
				"http.read_header_timeout: must be positive",
				"http.shutdown_timeout: must be positive",
				"temporal.connect_timeout: must be positive",
				"temporal.retry_max_interval: must be positive",
				"dev.retention: must be at least 24h (Temporal's minimum)",
			},
		},
		{
			name:   "tls key without certificate",
			mutate: func(c *Config) { c.Temporal.TLS.KeyFile = pem },
			want:   []string{"temporal.tls.cert_file: required when temporal.tls.key_file is set"},
		},
		{
			name:   "tls certificate without key",
			mutate: func(c *Config) { c.Temporal.TLS.CertFile = pem },
			want:   []string{"temporal.tls.key_file: required when temporal.tls.cert_file is set"},
		},
		{
			name: "tls files that cannot be opened",
			mutate: func(c *Config) {
				c.Temporal.TLS.CAFile = missing
				c.Temporal.TLS.CertFile = pem
				c.Temporal.TLS.KeyFile = dir
			},
			want: []string{
				"temporal.tls.ca_file: open " + missing + ": no such file or directory",
				"temporal.tls.key_file: " + dir + " is a directory",
			},
		},
		{
			name: "worker limits",
			mutate: func(c *Config) {
				c.Worker.MaxConcurrentActivities = -1
				c.Worker.MaxConcurrentWorkflowTasks = -2
			},
			want: []string{
				"worker.max_concurrent_activities: must not be negative",
				"worker.max_concurrent_workflow_tasks: must not be negative",
			},
		},
		{
			name: "tokens",
			mutate: func(c *Config) {
				c.Auth.Tokens = []TokenConfig{
					{Name: "ci", Role: "root", SHA256: hashA},
					{Name: "ops", Role: "admin", SHA256: "deadbeef"},
					{Name: "", Role: "", SHA256: ""},
					{Name: "ci", Role: "ingest", SHA256: hashA},
					{Name: "up", Role: "responder", SHA256: strings.ToUpper(hashB)},
				}
			},
			want: []string{
				`auth.tokens[0].role: must be one of admin, responder, compliance, ingest; got "root"`,
				"auth.tokens[1].sha256: must be 64 hex characters (the SHA-256 of the token, from riposte token new)",
				"auth.tokens[2].name: required",
				"auth.tokens[2].role: required",
				"auth.tokens[2].sha256: required",
				`auth.tokens[3].name: duplicate name "ci" (also auth.tokens[0])`,
				"auth.tokens[3].sha256: same hash as auth.tokens[0]",
				"auth.tokens[4].sha256: must be lower case (the SHA-256 of the token, from riposte token new)",
			},
		},
		{
			name: "every problem at once",
			mutate: func(c *Config) {
				c.Log.Level = ""
				c.HTTP.ShutdownTimeout = 0
				c.Temporal.Namespace = ""
				c.Auth.Tokens = []TokenConfig{{Name: "x", Role: "ingest", SHA256: "nope"}}
			},
			want: []string{
				`log.level: must be one of debug, info, warn, error; got ""`,
				"http.shutdown_timeout: must be positive",
				"temporal.namespace: required",
				"auth.tokens[0].sha256: must be 64 hex characters (the SHA-256 of the token, from riposte token new)",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			tt.mutate(&c)
			assertMessages(t, c.Validate(), "", tt.want)
		})
	}
}

// setAll sets every key to a valid, non-default value.
func setAll(c *Config, pem string) {
	c.DataDir = "/var/lib/riposte"
	c.Log = LogConfig{Level: "debug", Format: "json"}
	c.HTTP = HTTPConfig{Listen: "0.0.0.0:80", ReadHeaderTimeout: time.Second, ShutdownTimeout: time.Minute, PublicURL: "https://riposte.example.com", SessionTTL: time.Hour}
	c.Temporal = TemporalConfig{
		Address:          "ns.acct.tmprl.cloud:7233",
		Namespace:        "ns.acct",
		TaskQueue:        "q",
		APIKey:           "key",
		TLS:              TLSConfig{Enabled: true, CAFile: pem, CertFile: pem, KeyFile: pem, ServerName: "x"},
		ConnectTimeout:   time.Second,
		RetryMaxInterval: time.Minute,
	}
	c.Dev = DevConfig{TemporalListen: "[::1]:7233", UI: true, UIListen: "localhost:0", InMemory: true, Retention: 24 * time.Hour}
	c.Worker = WorkerConfig{MaxConcurrentActivities: 10, MaxConcurrentWorkflowTasks: 5}
	c.Auth.Tokens = []TokenConfig{
		{Name: "ci", Role: "ingest", SHA256: hashA, Sources: []string{"am", "wazuh", "splunk"}},
		{Name: "ops", Role: "admin", SHA256: hashB},
	}
	c.Ingest = IngestConfig{
		MaxBodyBytes: 64 << 20,
		Sources: []SourceConfig{
			{Name: "am", Format: "alertmanager", DefaultSeverity: "high"},
			{Name: "wazuh", HMAC: HMACConfig{Secret: "s", Header: "X-Sig", TimestampHeader: "X-Ts", MaxSkew: time.Minute}},
			{Name: "gh", Format: "generic", HMAC: HMACConfig{Secret: "s", NoTimestamp: true}, PathSecretSHA256: hashA,
				Generic: GenericConfig{Items: "$.items", ID: "$.id", Title: "$.t", Severity: "$.p",
					SeverityMap: map[string]string{"p1": "critical"}, Time: "$.ts", Status: "$.s",
					Observables: []GenericObservable{{Type: "ip", Value: "$.ip"}}, Labels: map[string]string{"team": "$.team"}}},
		},
		Routes: []RouteConfig{
			{Name: "r", Match: "true", Playbook: "p", GroupBy: "alert.id", GroupWindow: time.Hour},
			{Name: "quiet", Match: "false", Suppress: true},
		},
		DefaultRoute: RouteConfig{Name: "", Playbook: "triage", GroupBy: "alert.id"},
	}
	c.Incident.MaxHistoryEvents = 100
}

// TestValidateNeverLeaks: no Validate message carries a token hash, a
// secret or the contents of a named file.
func TestValidateNeverLeaks(t *testing.T) {
	t.Parallel()
	const contents = "-----BEGIN PRIVATE KEY----- zebra-7Q4x-distinctive -----END PRIVATE KEY-----"
	key := filepath.Join(t.TempDir(), "client.key")
	if err := os.WriteFile(key, []byte(contents), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Default()
	c.Temporal.TLS.KeyFile = key // without cert_file: an error naming key_file
	c.Temporal.TLS.CAFile = key + ".missing"
	c.Temporal.APIKey = "apikey-zebra-7Q4x"
	c.Auth.Tokens = []TokenConfig{
		{Name: "a", Role: "bad", SHA256: hashA + "00"},
		{Name: "b", Role: "admin", SHA256: hashB},
		{Name: "c", Role: "admin", SHA256: hashB},
	}
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate succeeded")
	}
	msg := err.Error()
	for _, leak := range []string{"zebra", "7Q4x", hashA, hashB, "PRIVATE KEY"} {
		if strings.Contains(msg, leak) {
			t.Errorf("Validate error contains %q:\n%s", leak, msg)
		}
	}
	if !strings.Contains(msg, "temporal.tls.cert_file: required when temporal.tls.key_file is set") {
		t.Errorf("missing the key_file error:\n%s", msg)
	}
}

func TestValidateIngest(t *testing.T) {
	t.Parallel()
	formats := "alertmanager, grafana, elastic, wazuh, splunk, sentinel, graylog, suricata, crowdstrike, qradar, thehive, generic"
	severities := "informational, low, medium, high, critical"
	generic := func(g GenericConfig) []SourceConfig {
		return []SourceConfig{{Name: "dd", Format: "generic", Generic: g}}
	}
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   []string
	}{
		{
			name:   "body size",
			mutate: func(c *Config) { c.Ingest.MaxBodyBytes = 0 },
			want:   []string{"ingest.max_body_bytes: must be positive"},
		},
		{
			name:   "body size negative",
			mutate: func(c *Config) { c.Ingest.MaxBodyBytes = -1 },
			want:   []string{"ingest.max_body_bytes: must be positive"},
		},
		{
			name:   "body size above 64 MiB",
			mutate: func(c *Config) { c.Ingest.MaxBodyBytes = 64<<20 + 1 },
			want:   []string{"ingest.max_body_bytes: must be at most 67108864 (64 MiB)"},
		},
		{
			name: "source names",
			mutate: func(c *Config) {
				c.Ingest.Sources = []SourceConfig{
					{Name: "", Format: "wazuh"},
					{Name: "Prod AM", Format: "alertmanager"},
					{Name: "-am", Format: "alertmanager"},
					{Name: strings.Repeat("a", 64), Format: "alertmanager"},
					{Name: "am_2", Format: "alertmanager"},
					{Name: "am_2", Format: "grafana"},
					{Name: strings.Repeat("a", 63), Format: "alertmanager"},
				}
			},
			want: []string{
				"ingest.sources[0].name: required",
				`ingest.sources[1].name: must be 1 to 63 lower-case letters, digits, "_" or "-", starting with a letter or digit (it is the URL path segment /v1/alerts/{name}); got "Prod AM"`,
				`ingest.sources[2].name: must be 1 to 63 lower-case letters, digits, "_" or "-", starting with a letter or digit (it is the URL path segment /v1/alerts/{name}); got "-am"`,
				`ingest.sources[3].name: must be 1 to 63 lower-case letters, digits, "_" or "-", starting with a letter or digit (it is the URL path segment /v1/alerts/{name}); got "` + strings.Repeat("a", 64) + `"`,
				`ingest.sources[5].name: duplicate name "am_2" (also ingest.sources[4])`,
			},
		},
		{
			name: "formats",
			mutate: func(c *Config) {
				c.Ingest.Sources = []SourceConfig{
					{Name: "wazuh"},              // the name is the format
					{Name: "x", Format: "Wazuh"}, // case matters
					{Name: "y", Format: "splunkk"},
					{Name: "prod-am"},
					{Name: ""},
				}
			},
			want: []string{
				`ingest.sources[1].format: unknown format "Wazuh"; one of ` + formats,
				`ingest.sources[2].format: unknown format "splunkk"; one of ` + formats,
				`ingest.sources[3].format: required (the name "prod-am" is not a format)`,
				"ingest.sources[4].name: required",
			},
		},
		{
			name: "default severity",
			mutate: func(c *Config) {
				c.Ingest.Sources = []SourceConfig{
					{Name: "wazuh", DefaultSeverity: "critical"},
					{Name: "splunk", DefaultSeverity: "sev1"},
					{Name: "grafana", DefaultSeverity: "High"},
				}
			},
			want: []string{
				`ingest.sources[1].default_severity: must be one of ` + severities + ` (or empty); got "sev1"`,
				`ingest.sources[2].default_severity: must be one of ` + severities + ` (or empty); got "High"`,
			},
		},
		{
			name: "hmac",
			mutate: func(c *Config) {
				c.Ingest.Sources = []SourceConfig{
					{Name: "a", Format: "wazuh", HMAC: HMACConfig{Header: "X-Sig"}},
					{Name: "b", Format: "wazuh", HMAC: HMACConfig{TimestampHeader: "X-Ts"}},
					{Name: "c", Format: "wazuh", HMAC: HMACConfig{MaxSkew: time.Minute}},
					{Name: "d", Format: "wazuh", HMAC: HMACConfig{NoTimestamp: true}},
					{Name: "e", Format: "wazuh", HMAC: HMACConfig{Secret: "s", MaxSkew: -time.Second}},
					{Name: "f", Format: "wazuh", HMAC: HMACConfig{Secret: "s", Header: "X Sig", TimestampHeader: "X-Ts:"}},
					{Name: "g", Format: "wazuh", HMAC: HMACConfig{Secret: "s", NoTimestamp: true, TimestampHeader: "X-Ts", MaxSkew: time.Minute}},
					{Name: "h", Format: "wazuh", HMAC: HMACConfig{Secret: "s"}},
				}
			},
			want: []string{
				"ingest.sources[0].hmac.secret: required when hmac is configured",
				"ingest.sources[1].hmac.secret: required when hmac is configured",
				"ingest.sources[2].hmac.secret: required when hmac is configured",
				"ingest.sources[3].hmac.secret: required when hmac is configured",
				"ingest.sources[4].hmac.max_skew: must not be negative",
				`ingest.sources[5].hmac.header: must be an HTTP header name; got "X Sig"`,
				`ingest.sources[5].hmac.timestamp_header: must be an HTTP header name; got "X-Ts:"`,
				"ingest.sources[6].hmac.timestamp_header: must be empty when no_timestamp is true",
				"ingest.sources[6].hmac.max_skew: must be empty when no_timestamp is true",
			},
		},
		{
			name: "path secret",
			mutate: func(c *Config) {
				c.Ingest.Sources = []SourceConfig{
					{Name: "splunk", PathSecretSHA256: hashA},
					{Name: "a", Format: "splunk", PathSecretSHA256: "deadbeef"},
					{Name: "b", Format: "splunk", PathSecretSHA256: strings.ToUpper(hashB)},
					{Name: "c", Format: "splunk", PathSecretSHA256: hashA + "0"},
				}
			},
			want: []string{
				"ingest.sources[1].path_secret_sha256: must be 64 hex characters (the SHA-256 of the path secret)",
				"ingest.sources[2].path_secret_sha256: must be lower case (the SHA-256 of the path secret)",
				"ingest.sources[3].path_secret_sha256: must be 64 hex characters (the SHA-256 of the path secret)",
			},
		},
		{
			name:   "generic needs id and title",
			mutate: func(c *Config) { c.Ingest.Sources = generic(GenericConfig{}) },
			want: []string{
				"ingest.sources[0].generic.id: required",
				"ingest.sources[0].generic.title: required",
			},
		},
		{
			name: "generic by name",
			mutate: func(c *Config) {
				c.Ingest.Sources = []SourceConfig{{Name: "generic", Generic: GenericConfig{Title: "$.t"}}}
			},
			want: []string{"ingest.sources[0].generic.id: required"},
		},
		{
			name: "generic observables and severity map",
			mutate: func(c *Config) {
				c.Ingest.Sources = generic(GenericConfig{ID: "$.id", Title: "$.t", Severity: "$.p",
					SeverityMap: map[string]string{"p1": "critical", "p2": "urgent", "p3": ""},
					Observables: []GenericObservable{{Type: "ip", Value: "$.ip"}, {Type: "ipv4", Value: "$.ip"}, {Type: "", Value: ""}},
				})
			},
			want: []string{
				`ingest.sources[0].generic.severity_map[p2]: must be one of ` + severities + `; got "urgent"`,
				`ingest.sources[0].generic.severity_map[p3]: must be one of ` + severities + `; got ""`,
				`ingest.sources[0].generic.observables[1].type: must be one of ip, domain, url, hostname, user, email, hash_md5, hash_sha1, hash_sha256, file, process; got "ipv4"`,
				"ingest.sources[0].generic.observables[2].type: required",
				"ingest.sources[0].generic.observables[2].value: required",
			},
		},
		{
			name: "generic severity map without severity",
			mutate: func(c *Config) {
				c.Ingest.Sources = generic(GenericConfig{ID: "$.id", Title: "$.t", SeverityMap: map[string]string{"p1": "high"},
					Labels: map[string]string{"": "$.x"}})
			},
			want: []string{
				"ingest.sources[0].generic.severity: required when severity_map is set",
				"ingest.sources[0].generic.labels: a label name must not be empty",
			},
		},
		{
			name: "generic mapping on another format",
			mutate: func(c *Config) {
				c.Ingest.Sources = []SourceConfig{
					{Name: "wazuh", Generic: GenericConfig{ID: "$.id"}},
					{Name: "a", Format: "splunk", Generic: GenericConfig{Labels: map[string]string{"x": "$.x"}}},
					{Name: "b", Format: "splunk", Generic: GenericConfig{Labels: map[string]string{}}}, // empty: fine
				}
			},
			want: []string{
				"ingest.sources[0].generic: only for format generic",
				"ingest.sources[1].generic: only for format generic",
			},
		},
		{
			name: "routes",
			mutate: func(c *Config) {
				c.Ingest.Routes = []RouteConfig{
					{Name: "", Playbook: "p"},
					{Name: "a", Playbook: " "},
					{Name: "a", Playbook: "p"},
					{Name: "quiet", Suppress: true, Playbook: "p"},
					{Name: "neg", Playbook: "p", GroupWindow: -time.Minute},
					{Name: "default", Playbook: "p"},
					{Name: "drop", Suppress: true, GroupBy: "alert.id"}, // fine
				}
			},
			want: []string{
				"ingest.routes[0].name: required",
				"ingest.routes[1].playbook: required (unless suppress is true)",
				`ingest.routes[2].name: duplicate name "a" (also ingest.routes[1])`,
				"ingest.routes[3].playbook: a suppressing route runs no playbook",
				"ingest.routes[4].group_window: must not be negative",
				`ingest.routes[5].name: duplicate name "default" (also ingest.default_route)`,
			},
		},
		{
			name: "default route",
			mutate: func(c *Config) {
				c.Ingest.DefaultRoute = RouteConfig{Name: "", Match: "true", Suppress: true, GroupWindow: -1}
				c.Ingest.Routes = []RouteConfig{{Name: "default", Playbook: "p"}} // the empty name is "default"
			},
			want: []string{
				`ingest.routes[0].name: duplicate name "default" (also ingest.default_route)`,
				"ingest.default_route.suppress: the default route must not drop alerts",
				"ingest.default_route.playbook: required (unless suppress is true)",
				"ingest.default_route.group_window: must not be negative",
				"ingest.default_route.match: must be empty: the default route takes every alert that no route matches",
				"ingest.default_route.group_by: required",
			},
		},
		{
			name: "default route with its own name",
			mutate: func(c *Config) {
				c.Ingest.DefaultRoute.Name = "catch-all"
				c.Ingest.Routes = []RouteConfig{{Name: "default", Playbook: "p"}, {Name: "catch-all", Playbook: "p"}}
			},
			want: []string{`ingest.routes[1].name: duplicate name "catch-all" (also ingest.default_route)`},
		},
		{
			name: "token sources",
			mutate: func(c *Config) {
				c.Ingest.Sources = []SourceConfig{{Name: "prod-am", Format: "alertmanager"}}
				c.Auth.Tokens = []TokenConfig{
					{Name: "a", Role: "ingest", SHA256: hashA, Sources: []string{"prod-am", "x", "wazuh", "generic", ""}},
					{Name: "b", Role: "responder", SHA256: hashB, Sources: []string{"prod-am"}},
					{Name: "c", Role: "ingest", SHA256: strings.Repeat("c", 64), Sources: []string{}}, // empty: unbound
				}
			},
			want: []string{
				`auth.tokens[0].sources[1]: unknown source "x"`,
				`auth.tokens[0].sources[3]: unknown source "generic"`,
				`auth.tokens[0].sources[4]: unknown source ""`,
				"auth.tokens[1].sources: only ingest tokens can be bound to sources",
			},
		},
		{
			name: "a configured generic source can be bound",
			mutate: func(c *Config) {
				c.Ingest.Sources = []SourceConfig{{Name: "generic", Generic: GenericConfig{ID: "$.id", Title: "$.t"}}}
				c.Auth.Tokens = []TokenConfig{{Name: "a", Role: "ingest", SHA256: hashA, Sources: []string{"generic"}}}
			},
		},
		{
			name:   "incident history",
			mutate: func(c *Config) { c.Incident.MaxHistoryEvents = 99 },
			want:   []string{"incident.max_history_events: must be at least 100"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			tt.mutate(&c)
			assertMessages(t, c.Validate(), "", tt.want)
		})
	}
}

// TestValidateIngestNeverLeaks: HMAC secrets and path secret hashes stay
// out of messages.
func TestValidateIngestNeverLeaks(t *testing.T) {
	t.Parallel()
	c := Default()
	c.Ingest.Sources = []SourceConfig{
		{Name: "a", Format: "wazuh", HMAC: HMACConfig{Secret: "zebra-7Q4x", MaxSkew: -1}, PathSecretSHA256: strings.ToUpper(hashA)},
		{Name: "b", Format: "wazuh", PathSecretSHA256: hashB + "0"},
	}
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate succeeded")
	}
	msg := err.Error()
	for _, leak := range []string{"zebra", "7Q4x", hashA, strings.ToUpper(hashA), hashB} {
		if strings.Contains(msg, leak) {
			t.Errorf("Validate error contains %q:\n%s", leak, msg)
		}
	}
}

func TestHMACWithDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   HMACConfig
		want HMACConfig
	}{
		{
			name: "all unset",
			in:   HMACConfig{Secret: "s"},
			want: HMACConfig{Secret: "s", Header: "X-Riposte-Signature", TimestampHeader: "X-Riposte-Timestamp", MaxSkew: 5 * time.Minute},
		},
		{
			name: "all set",
			in:   HMACConfig{Secret: "s", Header: "X-Sig", TimestampHeader: "X-Ts", MaxSkew: time.Minute},
			want: HMACConfig{Secret: "s", Header: "X-Sig", TimestampHeader: "X-Ts", MaxSkew: time.Minute},
		},
		{
			name: "no timestamp",
			in:   HMACConfig{Secret: "s", NoTimestamp: true},
			want: HMACConfig{Secret: "s", Header: "X-Riposte-Signature", NoTimestamp: true},
		},
		{
			name: "no timestamp clears a timestamp header and skew",
			in:   HMACConfig{Secret: "s", Header: "X-Hub-Signature-256", TimestampHeader: "X-Ts", MaxSkew: time.Minute, NoTimestamp: true},
			want: HMACConfig{Secret: "s", Header: "X-Hub-Signature-256", NoTimestamp: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := tt.in
			if got := tt.in.WithDefaults(); got != tt.want {
				t.Errorf("WithDefaults() = %+v, want %+v", got, tt.want)
			}
			if in != tt.in {
				t.Errorf("WithDefaults changed its receiver")
			}
		})
	}
}

func TestEffectiveFormat(t *testing.T) {
	t.Parallel()
	if got := (SourceConfig{Name: "wazuh"}).EffectiveFormat(); got != "wazuh" {
		t.Errorf("EffectiveFormat() = %q, want wazuh", got)
	}
	if got := (SourceConfig{Name: "prod", Format: "splunk"}).EffectiveFormat(); got != "splunk" {
		t.Errorf("EffectiveFormat() = %q, want splunk", got)
	}
}

func TestValidRole(t *testing.T) {
	t.Parallel()
	for _, r := range Roles {
		if !ValidRole(r) {
			t.Errorf("ValidRole(%q) = false", r)
		}
	}
	for _, r := range []string{"", "Admin", "root", "admin "} {
		if ValidRole(r) {
			t.Errorf("ValidRole(%q) = true", r)
		}
	}
}
