package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestIntegrationsCheck: one line per configured integration, the failing
// one named with the vendor's words, exit 1, no secret printed, and nothing
// posted to a webhook.
func TestIntegrationsCheck(t *testing.T) {
	const abuseKey, vtKey, hookSecret = "abuse-key-0123456789abcdef", "vt-key-0123456789abcdef", "hook-secret-0123456789"
	abuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"errors":[{"detail":"Authentication failed. Your API key is either missing, incorrect, or revoked.","status":401}]}`)
	}))
	defer abuse.Close()
	vt := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("x-apikey") != vtKey || r.URL.Path != "/api/v3/ip_addresses/8.8.8.8" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"code":"WrongCredentialsError","message":"Wrong API key"}}`)
			return
		}
		fmt.Fprint(w, `{"data":{"id":"8.8.8.8","type":"ip_address","attributes":{"last_analysis_stats":{"harmless":60,"malicious":0,"suspicious":0,"undetected":30},"reputation":0}}}`)
	}))
	defer vt.Close()
	var hookHits atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hookHits.Add(1) }))
	defer hook.Close()
	// A port nobody listens on, for an unreachable webhook.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()

	dir := t.TempDir()
	cfg := fmt.Sprintf(`threat_intel:
  providers: [abuseipdb, virustotal]
  abuseipdb: {url: %s, api_key: %s}
  virustotal: {url: %s, api_key: %s}
webhooks:
  - {name: soc-bus, url: %s/hook, secret: %s}
  - {name: gone, url: http://%s/hook}
`, abuse.URL+"/api/v2", abuseKey, vt.URL+"/api/v3", vtKey, hook.URL, hookSecret, closed)
	file := filepath.Join(dir, "riposte.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run([]string{"integrations", "check", "--config", file, "--timeout", "5s"}, &out, &errOut)
	if code != exitFailure {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 6 {
		t.Fatalf("want 6 lines, got:\n%s", out.String())
	}
	want := []struct{ prefix, contains string }{
		{"ok    edl:", "built in"},
		{"FAIL  abuseipdb:", "Authentication failed"},
		{"ok    virustotal:", "key accepted"},
		{"ok    webhook soc-bus:", "nothing sent"},
		{"FAIL  webhook gone:", closed},
		{"2 of 4 configured integrations failed", ""},
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w.prefix) || !strings.Contains(lines[i], w.contains) {
			t.Errorf("line %d = %q, want prefix %q containing %q", i+1, lines[i], w.prefix, w.contains)
		}
	}
	for _, s := range []string{abuseKey, vtKey, hookSecret} {
		if strings.Contains(out.String()+errOut.String(), s) {
			t.Errorf("secret %q printed:\n%s%s", s, out.String(), errOut.String())
		}
	}
	if n := hookHits.Load(); n != 0 {
		t.Errorf("the check sent %d requests to the webhook receiver, want 0", n)
	}

	// Nothing configured besides the EDL: success.
	empty := filepath.Join(dir, "empty.yaml")
	_ = os.WriteFile(empty, []byte("log: {level: info}\n"), 0o600)
	out.Reset()
	if code := run([]string{"integrations", "check", "--config", empty}, &out, &errOut); code != exitOK || !strings.Contains(out.String(), "no other integrations configured") {
		t.Fatalf("empty config: exit %d\n%s", code, out.String())
	}
}
