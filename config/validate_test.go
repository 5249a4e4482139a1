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
	c.HTTP = HTTPConfig{Listen: "0.0.0.0:80", ReadHeaderTimeout: time.Second, ShutdownTimeout: time.Minute}
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
		{Name: "ci", Role: "ingest", SHA256: hashA},
		{Name: "ops", Role: "admin", SHA256: hashB},
	}
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
