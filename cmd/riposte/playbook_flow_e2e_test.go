package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/riposte-soar/riposte/internal/auth"
	"github.com/riposte-soar/riposte/internal/tclient"
)

type apiUser struct {
	t     *testing.T
	base  string
	token string
}

func (u apiUser) do(method, path string, body any) (int, []byte) {
	u.t.Helper()
	var r io.Reader
	if body != nil {
		switch b := body.(type) {
		case []byte:
			r = bytes.NewReader(b)
		default:
			j, _ := json.Marshal(b)
			r = bytes.NewReader(j)
		}
	}
	req, _ := http.NewRequest(method, u.base+path, r)
	req.Header.Set("Authorization", "Bearer "+u.token)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type incidentView struct {
	Status    string `json:"status"`
	Phase     string `json:"phase"`
	Approvals []struct {
		Step      string `json:"step"`
		Status    string `json:"status"`
		Decisions []struct {
			By string `json:"by"`
		} `json:"decisions"`
	} `json:"approvals"`
	Timeline []struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
	} `json:"timeline"`
}

func (u apiUser) incident(id string) incidentView {
	u.t.Helper()
	code, b := u.do("GET", "/v1/incidents/"+id, nil)
	if code != 200 {
		u.t.Fatalf("GET incident: %d %s", code, b)
	}
	var v incidentView
	if err := json.Unmarshal(b, &v); err != nil {
		u.t.Fatal(err)
	}
	return v
}

func eventually(t *testing.T, what string, timeout time.Duration, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestSSHBruteForceEndToEnd: the Wazuh fixture starts the shipped
// ssh-brute-force playbook on riposte dev; the approval comes through the
// API; the source IP appears on the EDL, and leaves it when the incident is
// closed. A kill -9 while the approval is pending changes nothing.
func TestSSHBruteForceEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped with -short: end-to-end run of riposte dev")
	}
	dir := t.TempDir()
	tokens := map[string]string{}
	var lines []string
	for _, role := range []string{"admin", "responder", "compliance", "ingest"} {
		tok, hash, _ := auth.NewToken()
		tokens[role] = tok
		lines = append(lines, fmt.Sprintf("    - {name: %s-user, role: %s, sha256: %s}", role, role, hash))
	}
	cfg := "auth:\n  tokens:\n" + strings.Join(lines, "\n") + `
ingest:
  routes:
    - name: ssh
      match: 'alert.source == "wazuh" && alert.labels["rule.id"] == "5716"'
      playbook: ssh-brute-force
      group_by: '"ssh/" + host'
`
	if err := os.WriteFile(filepath.Join(dir, "riposte.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	httpAddr, temporalAddr := freePort(t), freePort(t)
	args := []string{"dev", "--data-dir", filepath.Join(dir, "data"), "--http", httpAddr, "--temporal", temporalAddr}
	p := startRiposte(t, dir, nil, args...)
	waitReady(t, p, httpAddr, 30*time.Second)
	base := "http://" + httpAddr
	ingest := apiUser{t, base, tokens["ingest"]}
	responder := apiUser{t, base, tokens["responder"]}
	compliance := apiUser{t, base, tokens["compliance"]}

	body, err := os.ReadFile("../../alerts/testdata/fixtures/wazuh/dashboard_sample_5716_ssh_auth_failed.json")
	if err != nil {
		t.Fatal(err)
	}
	code, b := ingest.do("POST", "/v1/alerts/wazuh", body)
	if code != 202 {
		t.Fatalf("post: %d %s", code, b)
	}
	var acc struct {
		Accepted []struct {
			IncidentID string `json:"incident_id"`
			Playbook   string `json:"playbook"`
		} `json:"accepted"`
	}
	_ = json.Unmarshal(b, &acc)
	if len(acc.Accepted) != 1 || acc.Accepted[0].Playbook != "ssh-brute-force" {
		t.Fatalf("accepted %s", b)
	}
	id := acc.Accepted[0].IncidentID
	pending := func() bool {
		v := responder.incident(id)
		return len(v.Approvals) == 1 && v.Approvals[0].Step == "approve_block" && v.Approvals[0].Status == "pending"
	}
	eventually(t, "approval pending", 30*time.Second, pending)

	// kill -9 while the approval is pending; the restart changes nothing.
	p.killHard(t)
	p = startRiposte(t, dir, nil, args...)
	waitReady(t, p, httpAddr, 30*time.Second)
	if !pending() {
		t.Fatalf("after kill -9 the approval is not pending: %+v", responder.incident(id))
	}

	// A compliance officer is not among the approvers: the workflow's
	// validator refuses, and nothing reaches the history.
	code, b = compliance.do("POST", "/v1/incidents/"+id+"/approvals/approve_block", map[string]string{"decision": "approve"})
	if code != 403 || !strings.Contains(string(b), "may not decide") {
		t.Fatalf("compliance vote: %d %s", code, b)
	}
	code, b = responder.do("POST", "/v1/incidents/"+id+"/approvals/approve_block", map[string]string{"decision": "approve", "comment": "seen in auth.log"})
	if code != 200 || !strings.Contains(string(b), `"approved"`) {
		t.Fatalf("approve: %d %s", code, b)
	}
	code, b = responder.do("POST", "/v1/incidents/"+id+"/approvals/approve_block", map[string]string{"decision": "approve"})
	if code != 409 {
		t.Fatalf("second vote: %d %s, want 409", code, b)
	}

	const ip = "49.88.112.73"
	edl := func() string {
		// Firewalls use basic auth with the token as password.
		req, _ := http.NewRequest("GET", base+"/v1/blocklist/ip.txt", nil)
		req.SetBasicAuth("paloalto", tokens["responder"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Fatalf("ip.txt: %d %s", resp.StatusCode, b)
		}
		return string(b)
	}
	eventually(t, ip+" on the EDL", 30*time.Second, func() bool { return strings.Contains(edl(), ip+"\n") })

	phases := func() []string {
		var out []string
		for _, e := range responder.incident(id).Timeline {
			if e.Kind == "phase" {
				out = append(out, strings.TrimPrefix(e.Message, "phase "))
			}
		}
		return out
	}
	// The playbook now waits in restore for the alert to resolve.
	eventually(t, "phases detect to restore", 30*time.Second, func() bool { return strings.Join(phases(), ",") == "detect,contain,analyse,restore" })
	if v := responder.incident(id); v.Status != "contained" {
		t.Fatalf("status %q, want contained", v.Status)
	}

	// Only the accepted vote reached the history.
	c, err := client.Dial(client.Options{HostPort: temporalAddr, Logger: tclient.NewLogger(nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	accepted := 0
	it := c.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED {
			accepted++
		}
	}
	if accepted != 1 {
		t.Fatalf("%d updates in history, want 1 (refused votes leave none)", accepted)
	}

	code, b = responder.do("POST", "/v1/incidents/"+id+"/close", map[string]string{"reason": "attacker blocked upstream"})
	if code != 200 || !strings.Contains(string(b), `"status":"closed"`) {
		t.Fatalf("close: %d %s", code, b)
	}
	eventually(t, ip+" off the EDL", 30*time.Second, func() bool { return !strings.Contains(edl(), ip) })
	v := responder.incident(id)
	var kinds []string
	for _, e := range v.Timeline {
		kinds = append(kinds, e.Kind)
	}
	for _, k := range []string{"opened", "approval_requested", "approval", "action", "compensation", "closed"} {
		if !strings.Contains(strings.Join(kinds, ","), k) {
			t.Errorf("timeline lacks %q: %v", k, kinds)
		}
	}
}
