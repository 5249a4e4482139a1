package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeConfig writes content as riposte.yaml in a fresh directory and
// returns its path.
func writeConfig(t testing.TB, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "riposte.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// messages splits a joined error into its messages, with the temporary
// path shortened to riposte.yaml so tests can compare exact strings.
func messages(err error, path string) []string {
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		msg := e.Error()
		if path != "" {
			msg = strings.ReplaceAll(msg, path, "riposte.yaml")
		}
		out = append(out, msg)
	}
	return out
}

func assertMessages(t *testing.T, err error, path string, want []string) {
	t.Helper()
	got := messages(err, path)
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n got: %s\nwant: %s", strings.Join(quoteAll(got), "\n      "), strings.Join(quoteAll(want), "\n      "))
	}
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = "`" + s + "`"
	}
	return out
}
