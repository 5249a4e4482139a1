package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAlertNormalizeCLI(t *testing.T) {
	dir := t.TempDir()
	fixtures, _ := filepath.Glob("../../alerts/testdata/fixtures/*/*.json")
	if len(fixtures) < 11 {
		t.Fatalf("found %d fixtures", len(fixtures))
	}
	for _, f := range fixtures {
		abs, _ := filepath.Abs(f)
		source := filepath.Base(filepath.Dir(f))
		stdout, stderr, code := runRiposte(t, dir, nil, "alert", "normalize", "--source", source, abs)
		if code != 0 {
			t.Errorf("%s: status %d: %s", source, code, stderr)
			continue
		}
		var list []map[string]any
		if err := json.Unmarshal([]byte(stdout), &list); err != nil || len(list) == 0 {
			t.Errorf("%s: not a non-empty JSON array: %v\n%s", source, err, stdout)
			continue
		}
		for _, key := range []string{"source", "id", "title", "severity", "status", "observed_at", "observables", "labels", "raw"} {
			if _, ok := list[0][key]; !ok {
				t.Errorf("%s: alert lacks %q", source, key)
			}
		}
	}
	wazuh, _ := filepath.Abs("../../alerts/testdata/fixtures/wazuh/dashboard_sample_5716_ssh_auth_failed.json")
	_, stderr, code := runRiposte(t, dir, nil, "alert", "normalize", "--source", "alertmanager", wazuh)
	if code != 1 || !strings.Contains(stderr, `alertmanager: expected a webhook with an "alerts" array`) {
		t.Fatalf("wrong format: status %d, %q", code, stderr)
	}
	_, stderr, code = runRiposte(t, dir, nil, "alert", "normalize", "--source", "nosuch", wazuh)
	if code != 2 || !strings.Contains(stderr, `unknown source "nosuch"`) {
		t.Fatalf("unknown source: status %d, %q", code, stderr)
	}
}

// TestAlertSendAndIncidentCLI drives a running riposte dev with the CLI, as
// a user would after `make run`.
func TestAlertSendAndIncidentCLI(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	httpAddr := freePort(t)
	p := startRiposte(t, dir, nil, "dev", "--in-memory", "--data-dir", dataDir, "--http", httpAddr, "--temporal", freePort(t))
	waitReady(t, p, httpAddr, 30*time.Second)
	server := "--server=http://" + httpAddr
	wazuh, _ := filepath.Abs("../../alerts/testdata/fixtures/wazuh/dashboard_sample_5716_ssh_auth_failed.json")

	// The dev admin token is found in --data-dir.
	stdout, stderr, code := runRiposte(t, dir, nil, "alert", "send", "--source", "wazuh", server, "--data-dir", dataDir, wazuh)
	if code != 0 {
		t.Fatalf("alert send: %d %s", code, stderr)
	}
	var acc struct {
		Accepted []struct {
			AlertID      string `json:"alert_id"`
			IncidentID   string `json:"incident_id"`
			Deduplicated bool   `json:"deduplicated"`
		} `json:"accepted"`
	}
	if err := json.Unmarshal([]byte(stdout), &acc); err != nil || len(acc.Accepted) != 1 || acc.Accepted[0].Deduplicated {
		t.Fatalf("send answer %q: %v", stdout, err)
	}
	id := acc.Accepted[0].IncidentID

	// A wrong token is refused with the server's message and status 1.
	_, stderr, code = runRiposte(t, dir, []string{"RIPOSTE_TOKEN=rpt_wrong"}, "alert", "send", "--source", "wazuh", server, wazuh)
	if code != 1 || !strings.Contains(stderr, "401") {
		t.Fatalf("wrong token: %d %q", code, stderr)
	}

	token, _ := os.ReadFile(filepath.Join(dataDir, "admin.token"))
	env := []string{"RIPOSTE_TOKEN=" + strings.TrimSpace(string(token)), "RIPOSTE_SERVER=http://" + httpAddr}
	deadline := time.Now().Add(30 * time.Second)
	for {
		stdout, stderr, code = runRiposte(t, dir, env, "incident", "list", "--status", "open")
		if code == 0 && strings.Contains(stdout, id) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("incident list never showed %s: %d %s %s", id, code, stdout, stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(stdout, "sshd: authentication failed.") || !strings.HasPrefix(stdout, "ID") {
		t.Fatalf("list output:\n%s", stdout)
	}
	stdout, stderr, code = runRiposte(t, dir, env, "incident", "show", id)
	if code != 0 {
		t.Fatalf("show: %d %s", code, stderr)
	}
	var st struct {
		ID     string `json:"id"`
		Alerts struct {
			Count int `json:"count"`
		} `json:"alerts"`
		Observables []map[string]string `json:"observables"`
	}
	if err := json.Unmarshal([]byte(stdout), &st); err != nil || st.ID != id || st.Alerts.Count != 1 || len(st.Observables) == 0 {
		t.Fatalf("show output %q: %v", stdout, err)
	}
	_, stderr, code = runRiposte(t, dir, env, "incident", "show", "inc-nosuch")
	if code != 1 || !strings.Contains(stderr, "404") {
		t.Fatalf("show unknown: %d %q", code, stderr)
	}
	// The generic-triage playbook asks for no approval: the workflow refuses.
	_, stderr, code = runRiposte(t, dir, env, "incident", "approve", id, "nosuch")
	if code != 1 || !strings.Contains(stderr, "409") || !strings.Contains(stderr, `step \"nosuch\" has no approval`) && !strings.Contains(stderr, `step "nosuch" has no approval`) {
		t.Fatalf("approve a step without approval: %d %q", code, stderr)
	}
	stdout, stderr, code = runRiposte(t, dir, env, "incident", "close", id, "--reason", "test done")
	if code != 0 || strings.TrimSpace(stdout) != id+": closed" {
		t.Fatalf("close: %d %q %q", code, stdout, stderr)
	}
	_, stderr, code = runRiposte(t, dir, env, "incident", "close", id, "--reason", "again")
	if code != 1 || !strings.Contains(stderr, "409") {
		t.Fatalf("close twice: %d %q", code, stderr)
	}
	stdout, _, code = runRiposte(t, dir, env, "incident", "reopen", id, "--reason", "came back")
	if code != 0 || strings.TrimSpace(stdout) != id+": open" {
		t.Fatalf("reopen: %d %q", code, stdout)
	}
}
