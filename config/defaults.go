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

// EnvPrefix starts every environment variable that sets a config key.
const EnvPrefix = "RIPOSTE_"

// Roles are the API token and Slack roles, from most to least powerful.
var Roles = []string{"admin", "responder", "compliance", "ingest"}

// ValidRole reports whether role is one of Roles.
func ValidRole(role string) bool { return slices.Contains(Roles, role) }

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
	}
}
