package config

import (
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		env  []string
		want []string
	}{
		{
			name: "unknown key",
			yaml: "http:\n  listen: 127.0.0.1:9000\n  listn: x\n",
			want: []string{"riposte.yaml:3:3: http.listn: unknown key"},
		},
		{
			name: "unknown top-level key",
			yaml: "data_dir: d\nslak:\n  channel: x\n",
			want: []string{"riposte.yaml:2:1: slak: unknown key"},
		},
		{
			name: "unknown key in a list entry",
			yaml: "auth:\n  tokens:\n    - name: ci\n      rol: ingest\n",
			want: []string{"riposte.yaml:4:7: auth.tokens[0].rol: unknown key"},
		},
		{
			name: "key in the wrong case",
			yaml: "http:\n  Listen: x\n",
			want: []string{`riposte.yaml:2:3: http.Listen: unknown key (keys are lower case: "listen")`},
		},
		{
			name: "dotted key",
			yaml: "http.listen: x\n",
			want: []string{`riposte.yaml:1:1: http.listen: unknown key (nest it: "listen" under "http:")`},
		},
		{
			name: "bad duration",
			yaml: "http:\n  listen: 127.0.0.1:9000\n  read_header_timeout: 1s\n  shutdown_timeout: soon\n",
			want: []string{`riposte.yaml:4:21: http.shutdown_timeout: invalid duration "soon" (use a number with a unit, e.g. 30s, 5m, 2h)`},
		},
		{
			name: "duration without a unit",
			yaml: "temporal:\n  connect_timeout: 30\n",
			want: []string{`riposte.yaml:2:20: temporal.connect_timeout: invalid duration "30" (use a number with a unit, e.g. 30s, 5m, 2h)`},
		},
		{
			name: "string for an integer",
			yaml: "worker:\n  max_concurrent_activities: many\n",
			want: []string{`riposte.yaml:2:30: worker.max_concurrent_activities: expected an integer, got "many"`},
		},
		{
			name: "fraction for an integer",
			yaml: "worker:\n  max_concurrent_workflow_tasks: 1.5\n",
			want: []string{`riposte.yaml:2:34: worker.max_concurrent_workflow_tasks: expected an integer, got 1.5`},
		},
		{
			name: "string for a boolean",
			yaml: "dev:\n  ui: yes\n",
			want: []string{`riposte.yaml:2:7: dev.ui: expected true or false, got "yes"`},
		},
		{
			name: "number for a string",
			yaml: "temporal:\n  namespace: 2024\n",
			want: []string{`riposte.yaml:2:14: temporal.namespace: expected a string, got 2024 (put it in quotes)`},
		},
		{
			name: "list for a string",
			yaml: "http:\n  listen: [a, b]\n",
			want: []string{`riposte.yaml:2:11: http.listen: expected a string, got a list`},
		},
		{
			name: "scalar for a section",
			yaml: "http: 8080\n",
			want: []string{`riposte.yaml:1:7: http: expected a mapping, got 8080`},
		},
		{
			name: "scalar for a list entry",
			yaml: "auth:\n  tokens:\n    - ci\n",
			want: []string{`riposte.yaml:3:7: auth.tokens[0]: expected a mapping, got "ci"`},
		},
		{
			name: "string for a list",
			yaml: "auth:\n  tokens: ci\n",
			want: []string{`riposte.yaml:2:11: auth.tokens: expected a list, got a string`},
		},
		{
			name: "mapping for a list",
			yaml: "auth:\n  tokens:\n    name: ci\n",
			want: []string{`riposte.yaml:3:5: auth.tokens: expected a list, got a mapping`},
		},
		{
			name: "not a mapping at the top",
			yaml: "- data_dir\n",
			want: []string{`riposte.yaml:1:1: expected a mapping of keys at the top level, got a list`},
		},
		{
			name: "duplicate key",
			yaml: "http:\n  listen: a:1\n  listen: b:2\n",
			want: []string{`riposte.yaml:3:3: http.listen: duplicate key (first at line 2)`},
		},
		{
			name: "two documents",
			yaml: "data_dir: a\n---\ndata_dir: b\n",
			want: []string{`riposte.yaml:2:1: only one YAML document is allowed`},
		},
		{
			name: "syntax error",
			yaml: "http:\n  listen: x\n\tshutdown_timeout: 5s\n",
			// The YAML library gives only a line, and the line where the
			// enclosing construct starts.
			want: []string{`riposte.yaml:2:1: found a tab character that violates indentation`},
		},
		{
			name: "secret of the wrong type is not echoed",
			yaml: "temporal:\n  api_key: 8675309\n",
			want: []string{`riposte.yaml:2:12: temporal.api_key: expected a string, got a number (put it in quotes)`},
		},
		{
			name: "many problems at once, in file order",
			yaml: "http:\n  listn: x\n  shutdown_timeout: soon\nworker:\n  max_concurrent_activities: many\ndev:\n  ui: maybe\n  retention: forever\nbogus: 1\n",
			want: []string{
				"riposte.yaml:2:3: http.listn: unknown key",
				`riposte.yaml:3:21: http.shutdown_timeout: invalid duration "soon" (use a number with a unit, e.g. 30s, 5m, 2h)`,
				`riposte.yaml:5:30: worker.max_concurrent_activities: expected an integer, got "many"`,
				`riposte.yaml:7:7: dev.ui: expected true or false, got "maybe"`,
				`riposte.yaml:8:14: dev.retention: invalid duration "forever" (use a number with a unit, e.g. 30s, 5m, 2h)`,
				"riposte.yaml:9:1: bogus: unknown key",
			},
		},
		{
			name: "unknown key in a source",
			yaml: "ingest: {sources: [{name: a, formt: wazuh}]}\n",
			want: []string{"riposte.yaml:1:30: ingest.sources[0].formt: unknown key"},
		},
		{
			name: "unknown keys deeper in a source",
			yaml: "ingest:\n  sources:\n    - name: a\n      hmac:\n        secret: s\n        skew: 1m\n    - name: dd\n      generic:\n        id: $.id\n        observables:\n          - typ: ip\n",
			want: []string{
				"riposte.yaml:6:9: ingest.sources[0].hmac.skew: unknown key",
				"riposte.yaml:11:13: ingest.sources[1].generic.observables[0].typ: unknown key",
			},
		},
		{
			name: "unknown key in a route and in the default route",
			yaml: "ingest:\n  routes:\n    - name: r\n      playbok: p\n  default_route:\n    group: x\n",
			want: []string{
				"riposte.yaml:4:7: ingest.routes[0].playbok: unknown key",
				"riposte.yaml:6:5: ingest.default_route.group: unknown key",
			},
		},
		{
			name: "bad values in a source and a route",
			yaml: "ingest:\n  sources:\n    - name: a\n      hmac: {secret: 1234, max_skew: 5}\n      generic:\n        severity_map: {p1: 1}\n        labels: [a]\n  routes:\n    - {name: r, suppress: maybe, group_window: soon}\n",
			want: []string{
				"riposte.yaml:4:22: ingest.sources[0].hmac.secret: expected a string, got a number (put it in quotes)",
				`riposte.yaml:4:38: ingest.sources[0].hmac.max_skew: invalid duration "5" (use a number with a unit, e.g. 30s, 5m, 2h)`,
				"riposte.yaml:6:28: ingest.sources[0].generic.severity_map[p1]: expected a string, got 1 (put it in quotes)",
				"riposte.yaml:7:17: ingest.sources[0].generic.labels: expected a mapping, got a list",
				`riposte.yaml:9:27: ingest.routes[0].suppress: expected true or false, got "maybe"`,
				`riposte.yaml:9:48: ingest.routes[0].group_window: invalid duration "soon" (use a number with a unit, e.g. 30s, 5m, 2h)`,
			},
		},
		{
			name: "map keys that differ only in case",
			yaml: "ingest:\n  sources:\n    - name: dd\n      generic:\n        labels: {Team: $.a, team: $.b}\n        severity_map:\n          P1: high\n          p2: low\n          p1: low\n",
			want: []string{
				`riposte.yaml:5:29: ingest.sources[0].generic.labels: keys "Team" and "team" differ only in case (map keys are read in lower case)`,
				`riposte.yaml:9:11: ingest.sources[0].generic.severity_map: keys "P1" and "p1" differ only in case (map keys are read in lower case)`,
			},
		},
		{
			name: "map keys that differ only in case, in the environment",
			env:  []string{`RIPOSTE_INGEST_SOURCES=[{"name":"dd","generic":{"labels":{"Team":"$.a","team":"$.b"}}}]`},
			want: []string{`RIPOSTE_INGEST_SOURCES: ingest.sources[0].generic.labels: keys "Team" and "team" differ only in case (map keys are read in lower case)`},
		},
		{
			name: "bad routes from the environment",
			env:  []string{`RIPOSTE_INGEST_ROUTES=[{"name":"x","playbook":"p","group_window":3600,"grp":"alert.id"}]`},
			want: []string{
				`RIPOSTE_INGEST_ROUTES: ingest.routes[0].group_window: invalid duration "3600.0" (use a number with a unit, e.g. 30s, 5m, 2h)`,
				"RIPOSTE_INGEST_ROUTES: ingest.routes[0].grp: unknown key",
			},
		},
		{
			name: "bad JSON for sources in the environment",
			env:  []string{"RIPOSTE_INGEST_SOURCES=wazuh"},
			want: []string{"RIPOSTE_INGEST_SOURCES: ingest.sources: expected a list, got a string (in the environment, write it as a JSON array)"},
		},
		{
			name: "unknown environment variable",
			env:  []string{"RIPOSTE_HTTP_LISTN=127.0.0.1:1", "RIPOSTE_CONFIG=/etc/riposte.yaml", "HOME=/root"},
			want: []string{"RIPOSTE_HTTP_LISTN: unknown environment variable"},
		},
		{
			name: "bad values from the environment",
			env: []string{
				"RIPOSTE_HTTP_SHUTDOWN_TIMEOUT=soon",
				"RIPOSTE_DEV_UI=maybe",
				"RIPOSTE_WORKER_MAX_CONCURRENT_ACTIVITIES=many",
			},
			want: []string{
				`RIPOSTE_DEV_UI: dev.ui: expected true or false, got "maybe"`,
				`RIPOSTE_HTTP_SHUTDOWN_TIMEOUT: http.shutdown_timeout: invalid duration "soon" (use a number with a unit, e.g. 30s, 5m, 2h)`,
				`RIPOSTE_WORKER_MAX_CONCURRENT_ACTIVITIES: worker.max_concurrent_activities: expected an integer, got "many"`,
			},
		},
		{
			name: "the environment's error wins over the file's value",
			yaml: "http:\n  shutdown_timeout: 1s\n",
			env:  []string{"RIPOSTE_HTTP_SHUTDOWN_TIMEOUT=soon"},
			want: []string{`RIPOSTE_HTTP_SHUTDOWN_TIMEOUT: http.shutdown_timeout: invalid duration "soon" (use a number with a unit, e.g. 30s, 5m, 2h)`},
		},
		{
			name: "bad JSON in the environment",
			env:  []string{`RIPOSTE_AUTH_TOKENS=[{"name":"ci"`},
			want: []string{"RIPOSTE_AUTH_TOKENS: auth.tokens: invalid JSON array: unexpected end of JSON input"},
		},
		{
			name: "plain string for a list in the environment",
			env:  []string{"RIPOSTE_AUTH_TOKENS=ci:ingest"},
			want: []string{"RIPOSTE_AUTH_TOKENS: auth.tokens: expected a list, got a string (in the environment, write it as a JSON array)"},
		},
		{
			name: "unknown key in the environment's JSON",
			env:  []string{`RIPOSTE_AUTH_TOKENS=[{"name":"ci","role":"ingest","hash":"x"}]`},
			want: []string{"RIPOSTE_AUTH_TOKENS: auth.tokens[0].hash: unknown key"},
		},
		{
			name: "file and environment problems together",
			yaml: "http:\n  listn: x\n",
			env:  []string{"RIPOSTE_BOGUS=1", "RIPOSTE_DEV_RETENTION=1 day"},
			want: []string{
				"riposte.yaml:2:3: http.listn: unknown key",
				"RIPOSTE_BOGUS: unknown environment variable",
				`RIPOSTE_DEV_RETENTION: dev.retention: invalid duration "1 day" (use a number with a unit, e.g. 30s, 5m, 2h)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := LoadOptions{Environ: tt.env}
			if tt.yaml != "" {
				opts.File = writeConfig(t, tt.yaml)
				opts.FileRequired = true
			}
			cfg, err := Load(opts)
			if err == nil {
				t.Fatalf("Load succeeded with %+v; want errors", cfg)
			}
			if cfg != nil {
				t.Errorf("Load returned a config with its error")
			}
			assertMessages(t, err, opts.File, tt.want)
		})
	}
}

func TestLoadValues(t *testing.T) {
	t.Parallel()
	const hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	tests := []struct {
		name  string
		yaml  string
		env   []string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "no file and no environment gives the defaults",
			check: func(t *testing.T, c *Config) {
				if !reflect.DeepEqual(*c, Default()) {
					t.Errorf("got %+v, want the defaults %+v", *c, Default())
				}
			},
		},
		{
			name: "file overrides defaults and keeps the rest",
			yaml: "http:\n  listen: 0.0.0.0:9090\ntemporal:\n  tls:\n    enabled: true\n",
			check: func(t *testing.T, c *Config) {
				want := Default()
				want.HTTP.Listen = "0.0.0.0:9090"
				want.Temporal.TLS.Enabled = true
				if !reflect.DeepEqual(*c, want) {
					t.Errorf("got %+v, want %+v", *c, want)
				}
			},
		},
		{
			name: "environment overrides the file",
			yaml: "http:\n  listen: 0.0.0.0:9090\n  shutdown_timeout: 1s\ndev:\n  ui: false\n",
			env: []string{
				"RIPOSTE_HTTP_LISTEN=0.0.0.0:7070",
				"RIPOSTE_DEV_UI=true",
				"RIPOSTE_TEMPORAL_TLS_CERT_FILE=/etc/riposte/client.pem",
				"RIPOSTE_WORKER_MAX_CONCURRENT_ACTIVITIES=12",
				"RIPOSTE_DATA_DIR=/var/lib/riposte",
				"RIPOSTE_TEMPORAL_API_KEY=k",
				"RIPOSTE_CONFIG=ignored.yaml",
				"PATH=/usr/bin",
			},
			check: func(t *testing.T, c *Config) {
				want := Default()
				want.HTTP.Listen = "0.0.0.0:7070"
				want.HTTP.ShutdownTimeout = time.Second
				want.Dev.UI = true
				want.Temporal.TLS.CertFile = "/etc/riposte/client.pem"
				want.Worker.MaxConcurrentActivities = 12
				want.DataDir = "/var/lib/riposte"
				want.Temporal.APIKey = "k"
				if !reflect.DeepEqual(*c, want) {
					t.Errorf("got %+v, want %+v", *c, want)
				}
			},
		},
		{
			name: "tokens from the environment as JSON replace the file's",
			yaml: "auth:\n  tokens:\n    - name: old\n      role: admin\n      sha256: " + hash + "\n",
			env:  []string{`RIPOSTE_AUTH_TOKENS=[{"name":"ci","role":"ingest","sha256":"` + hash + `"},{"name":"ops","role":"responder","sha256":"` + hash[:63] + `0"}]`},
			check: func(t *testing.T, c *Config) {
				want := []TokenConfig{
					{Name: "ci", Role: "ingest", SHA256: hash},
					{Name: "ops", Role: "responder", SHA256: hash[:63] + "0"},
				}
				if !reflect.DeepEqual(c.Auth.Tokens, want) {
					t.Errorf("tokens = %+v, want %+v", c.Auth.Tokens, want)
				}
			},
		},
		{
			name: "empty tokens variable clears the file's tokens",
			yaml: "auth:\n  tokens:\n    - name: old\n      role: admin\n      sha256: " + hash + "\n",
			env:  []string{"RIPOSTE_AUTH_TOKENS="},
			check: func(t *testing.T, c *Config) {
				if len(c.Auth.Tokens) != 0 {
					t.Errorf("tokens = %+v, want none", c.Auth.Tokens)
				}
			},
		},
		{
			name: "tokens from the file",
			yaml: "auth:\n  tokens:\n    - name: ci\n      role: ingest\n      sha256: " + hash + "\n",
			check: func(t *testing.T, c *Config) {
				want := []TokenConfig{{Name: "ci", Role: "ingest", SHA256: hash}}
				if !reflect.DeepEqual(c.Auth.Tokens, want) {
					t.Errorf("tokens = %+v, want %+v", c.Auth.Tokens, want)
				}
			},
		},
		{
			name: "null values keep the defaults",
			yaml: "http:\n  listen:\nlog:\n",
			check: func(t *testing.T, c *Config) {
				if !reflect.DeepEqual(*c, Default()) {
					t.Errorf("got %+v, want the defaults", *c)
				}
			},
		},
		{
			name: "anchors and merge keys",
			yaml: "http: &h\n  listen: 0.0.0.0:1\n  shutdown_timeout: 2s\ntemporal:\n  tls:\n    <<: {enabled: true, server_name: a}\n    server_name: b\n",
			check: func(t *testing.T, c *Config) {
				if c.HTTP.ShutdownTimeout != 2*time.Second || !c.Temporal.TLS.Enabled || c.Temporal.TLS.ServerName != "b" {
					t.Errorf("got %+v", *c)
				}
			},
		},
		{
			name: "empty file",
			yaml: "# nothing yet\n",
			check: func(t *testing.T, c *Config) {
				if !reflect.DeepEqual(*c, Default()) {
					t.Errorf("got %+v, want the defaults", *c)
				}
			},
		},
		{
			name: "environment strings for integers and booleans",
			env:  []string{"RIPOSTE_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS=4", "RIPOSTE_DEV_IN_MEMORY=1", "RIPOSTE_TEMPORAL_TLS_ENABLED=TRUE"},
			check: func(t *testing.T, c *Config) {
				if c.Worker.MaxConcurrentWorkflowTasks != 4 || !c.Dev.InMemory || !c.Temporal.TLS.Enabled {
					t.Errorf("got %+v", *c)
				}
			},
		},
		{
			name: "routes from the environment as JSON",
			env:  []string{`RIPOSTE_INGEST_ROUTES=[{"name":"x","match":"true","playbook":"p","group_by":"alert.id"},{"name":"q","suppress":true,"group_window":"1h"}]`},
			check: func(t *testing.T, c *Config) {
				want := []RouteConfig{
					{Name: "x", Match: "true", Playbook: "p", GroupBy: "alert.id"},
					{Name: "q", Suppress: true, GroupWindow: time.Hour},
				}
				if !reflect.DeepEqual(c.Ingest.Routes, want) {
					t.Errorf("routes = %+v, want %+v", c.Ingest.Routes, want)
				}
				if !reflect.DeepEqual(c.Ingest.DefaultRoute, Default().Ingest.DefaultRoute) {
					t.Errorf("default route = %+v, want the default", c.Ingest.DefaultRoute)
				}
			},
		},
		{
			name: "sources from the environment as JSON, map keys lower-cased",
			yaml: "ingest:\n  sources:\n    - name: old\n      format: wazuh\n",
			env: []string{`RIPOSTE_INGEST_SOURCES=[{"name":"wh","format":"wazuh","hmac":{"secret":"s","no_timestamp":true}},` +
				`{"name":"dd","format":"generic","generic":{"id":"$.id","title":"$.t","severity":"$.p","severity_map":{"P1":"critical"},` +
				`"observables":[{"type":"ip","value":"$.ip"}],"labels":{"Team":"$.team","k8s.io/App":"$.app"}}}]`},
			check: func(t *testing.T, c *Config) {
				want := []SourceConfig{
					{Name: "wh", Format: "wazuh", HMAC: HMACConfig{Secret: "s", NoTimestamp: true}},
					{Name: "dd", Format: "generic", Generic: GenericConfig{ID: "$.id", Title: "$.t", Severity: "$.p",
						SeverityMap: map[string]string{"p1": "critical"},
						Observables: []GenericObservable{{Type: "ip", Value: "$.ip"}},
						Labels:      map[string]string{"team": "$.team", "k8s.io/app": "$.app"}}},
				}
				if !reflect.DeepEqual(c.Ingest.Sources, want) {
					t.Errorf("sources =\n%+v\nwant\n%+v", c.Ingest.Sources, want)
				}
			},
		},
		{
			name: "ingest from the file, map keys lower-cased",
			yaml: `auth:
  tokens:
    - {name: am, role: ingest, sha256: ` + hash + `, sources: [prod-am, wazuh]}
ingest:
  max_body_bytes: 2048
  sources:
    - name: prod-am
      format: alertmanager
      default_severity: high
    - name: wh
      format: wazuh
      hmac: {secret: s, header: X-Sig, timestamp_header: X-Ts, max_skew: 1m}
      path_secret_sha256: ` + hash + `
    - name: dd
      format: generic
      generic:
        items: $.events
        id: $.id
        title: $.t
        severity: $.p
        severity_map: {P1: critical, p2: High}
        time: $.ts
        status: $.state
        observables: [{type: hostname, value: $.host}]
        labels: {Team: $.team, kubernetes.io/Name: $.app}
  routes:
    - {name: r, match: 'alert.severity == "critical"', playbook: page, group_by: alert.id, group_window: 30m}
  default_route:
    playbook: triage
incident:
  max_history_events: 500
`,
			check: func(t *testing.T, c *Config) {
				want := Default()
				want.Auth.Tokens = []TokenConfig{{Name: "am", Role: "ingest", SHA256: hash, Sources: []string{"prod-am", "wazuh"}}}
				want.Ingest.MaxBodyBytes = 2048
				want.Ingest.Sources = []SourceConfig{
					{Name: "prod-am", Format: "alertmanager", DefaultSeverity: "high"},
					{Name: "wh", Format: "wazuh", HMAC: HMACConfig{Secret: "s", Header: "X-Sig", TimestampHeader: "X-Ts", MaxSkew: time.Minute}, PathSecretSHA256: hash},
					{Name: "dd", Format: "generic", Generic: GenericConfig{Items: "$.events", ID: "$.id", Title: "$.t", Severity: "$.p",
						// viper lower-cases map keys, in lists too; values
						// are kept as written.
						SeverityMap: map[string]string{"p1": "critical", "p2": "High"},
						Time:        "$.ts", Status: "$.state",
						Observables: []GenericObservable{{Type: "hostname", Value: "$.host"}},
						Labels:      map[string]string{"team": "$.team", "kubernetes.io/name": "$.app"}}},
				}
				want.Ingest.Routes = []RouteConfig{{Name: "r", Match: `alert.severity == "critical"`, Playbook: "page", GroupBy: "alert.id", GroupWindow: 30 * time.Minute}}
				want.Ingest.DefaultRoute.Playbook = "triage"
				want.Incident.MaxHistoryEvents = 500
				if !reflect.DeepEqual(*c, want) {
					t.Errorf("got\n%+v\nwant\n%+v", *c, want)
				}
			},
		},
		{
			name: "last duplicate environment entry wins",
			env:  []string{"RIPOSTE_HTTP_LISTEN=a:1", "RIPOSTE_HTTP_LISTEN=b:2"},
			check: func(t *testing.T, c *Config) {
				if c.HTTP.Listen != "b:2" {
					t.Errorf("http.listen = %q, want b:2", c.HTTP.Listen)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := LoadOptions{Environ: tt.env}
			if tt.yaml != "" {
				opts.File = writeConfig(t, tt.yaml)
			}
			cfg, err := Load(opts)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tt.check(t, cfg)
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "riposte.yaml")

	cfg, err := Load(LoadOptions{File: missing})
	if err != nil {
		t.Fatalf("optional missing file: %v", err)
	}
	if !reflect.DeepEqual(*cfg, Default()) {
		t.Errorf("optional missing file: got %+v, want the defaults", *cfg)
	}

	_, err = Load(LoadOptions{File: missing, FileRequired: true})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("required missing file: got %v, want a not-exist error", err)
	}
	assertMessages(t, err, "", []string{"open " + missing + ": no such file or directory"})

	// A file that exists but cannot be read is an error even when optional.
	_, err = Load(LoadOptions{File: t.TempDir()})
	if err == nil {
		t.Errorf("reading a directory as the config file: no error")
	}
}

// TestLoadDoesNotValidate: cmd applies flags between Load and Validate, so
// Load must accept values that only Validate rejects.
func TestLoadDoesNotValidate(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, "temporal:\n  namespace: \"\"\n")
	cfg, err := Load(LoadOptions{File: path})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	assertMessages(t, cfg.Validate(), "", []string{"temporal.namespace: required"})
}

func TestLoadMiscasedKeyValues(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, "HTTP:\n  listen: 5\n")
	_, err := Load(LoadOptions{File: path})
	assertMessages(t, err, path, []string{
		"riposte.yaml: http.listen: expected a string, got 5 (put it in quotes)",
		`riposte.yaml:1:1: HTTP: unknown key (keys are lower case: "http")`,
	})
}
