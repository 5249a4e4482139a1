package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad: whatever the file holds, Load returns a config or errors, never
// panics, and every error says something.
func FuzzLoad(f *testing.F) {
	if example, err := os.ReadFile(exampleFile); err == nil {
		f.Add(string(example))
	}
	for _, seed := range []string{
		"",
		"http:\n  listen: x\n  listn: y\n  shutdown_timeout: soon\n",
		"worker:\n  max_concurrent_activities: many\ndev:\n  ui: yes\n",
		"auth:\n  tokens:\n    - name: ci\n      role: ingest\n      sha256: abc\n      1: 2\n    - x\n",
		"http: &a\n  listen: x\ntemporal:\n  <<: *a\n",
		"- a\n",
		"a: 1\n---\nb: 2\n",
		"http:\n\tlisten: x\n",
		"? [a]\n: 1\n",
		"{http: {listen: [1]}, auth: {tokens: {a: 1}}}",
		"x: &a [*a]\n",
		"temporal:\n  api_key: 1\n  tls: {enabled: maybe}\n",
		"ingest:\n  sources:\n    - name: dd\n      generic:\n        labels: {A: x, a: y, <<: {b: 1}}\n        severity_map: &m {P1: high}\n      formt: x\n  routes: [{name: r, group_window: 1h}]\n  default_route: {suppress: true}\n",
		"ingest: {sources: [{generic: {severity_map: [1], labels: {? [a] : b}}}]}\n",
	} {
		f.Add(seed)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content string) {
		path := filepath.Join(dir, "riposte.yaml")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(LoadOptions{File: path, FileRequired: true})
		if (cfg == nil) == (err == nil) {
			t.Fatalf("Load returned config %v and error %v", cfg, err)
		}
		if err == nil {
			_ = cfg.Validate()
			return
		}
		for _, msg := range messages(err, path) {
			if strings.TrimSpace(msg) == "" {
				t.Fatalf("empty error message in %q", err)
			}
			if strings.Contains(msg, "internal error") {
				t.Fatalf("Load recovered from a panic: %s", msg)
			}
		}
	})
}
