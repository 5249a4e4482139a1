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
	DataDir  string         `mapstructure:"data_dir"`
	Log      LogConfig      `mapstructure:"log"`
	HTTP     HTTPConfig     `mapstructure:"http"`
	Temporal TemporalConfig `mapstructure:"temporal"`
	Dev      DevConfig      `mapstructure:"dev"`
	Worker   WorkerConfig   `mapstructure:"worker"`
	Auth     AuthConfig     `mapstructure:"auth"`
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
}
