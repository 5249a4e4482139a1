package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riposte-soar/riposte/internal/auth"
)

// TestBreachClocksEndToEnd: on riposte dev, a personal-data-breach incident
// from the Sentinel fixture starts the GDPR and NIS2 clocks once compliance
// confirms; the CLI records the NIS2 notification, which arms the final
// report; the CSV export carries it; a kill -9 and restart change nothing.
func TestBreachClocksEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped with -short: end-to-end run of riposte dev")
	}
	dir := t.TempDir()
	tokens := map[string]string{}
	var lines []string
	for _, role := range []string{"admin", "compliance", "ingest"} {
		tok, hash, _ := auth.NewToken()
		tokens[role] = tok
		lines = append(lines, fmt.Sprintf("    - {name: %s-user, role: %s, sha256: %s}", role, role, hash))
	}
	cfg := "auth:\n  tokens:\n" + strings.Join(lines, "\n") + `
ingest:
  routes:
    - name: breach
      match: 'alert.source == "sentinel"'
      playbook: personal-data-breach
      group_by: alert.id
`
	if err := os.WriteFile(filepath.Join(dir, "riposte.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	httpAddr := freePort(t)
	args := []string{"dev", "--data-dir", filepath.Join(dir, "data"), "--http", httpAddr, "--temporal", freePort(t)}
	p := startRiposte(t, dir, nil, args...)
	waitReady(t, p, httpAddr, 30*time.Second)
	base := "http://" + httpAddr
	dpo := apiUser{t, base, tokens["compliance"]}
	body, _ := os.ReadFile("../../alerts/testdata/fixtures/sentinel/restapi_2023-02-01_GetIncidentById_body.json")
	code, b := apiUser{t, base, tokens["ingest"]}.do("POST", "/v1/alerts/sentinel", body)
	var acc struct {
		Accepted []struct {
			IncidentID string `json:"incident_id"`
		} `json:"accepted"`
	}
	if code != 202 || json.Unmarshal(b, &acc) != nil || len(acc.Accepted) != 1 {
		t.Fatalf("post: %d %s", code, b)
	}
	id := acc.Accepted[0].IncidentID
	eventually(t, "assessment requested", 30*time.Second, func() bool {
		v := dpo.incident(id)
		return len(v.Approvals) == 1 && v.Approvals[0].Status == "pending"
	})
	if code, b := dpo.do("POST", "/v1/incidents/"+id+"/approvals/assess", map[string]string{"decision": "approve"}); code != 200 {
		t.Fatalf("assess: %d %s", code, b)
	}
	type ob struct {
		ID      string  `json:"id"`
		StageID string  `json:"stage_id"`
		Status  string  `json:"status"`
		DueAt   *string `json:"due_at"`
	}
	list := func() map[string]ob {
		code, b := dpo.do("GET", "/v1/deadlines?incident="+id, nil)
		if code != 200 {
			return nil
		}
		var out struct {
			Deadlines []ob `json:"deadlines"`
		}
		_ = json.Unmarshal(b, &out)
		m := map[string]ob{}
		for _, o := range out.Deadlines {
			m[o.StageID] = o
		}
		return m
	}
	eventually(t, "GDPR and NIS2 clocks", 30*time.Second, func() bool {
		m := list()
		return m["gdpr-art33-initial"].DueAt != nil && m["nis2-incident-notification"].DueAt != nil && m["nis2-final"].Status == "waiting"
	})
	before := list()
	gdprDue, _ := time.Parse(time.RFC3339, *before["gdpr-art33-initial"].DueAt)
	nis2Due, _ := time.Parse(time.RFC3339, *before["nis2-incident-notification"].DueAt)
	if !gdprDue.Equal(nis2Due) || time.Until(gdprDue) < 71*time.Hour || time.Until(gdprDue) > 73*time.Hour {
		t.Fatalf("GDPR due %s and NIS2 notification due %s: want both 72 h after the incident was opened", gdprDue, nis2Due)
	}

	// The CLI records the NIS2 notification; the final report is armed.
	env := []string{"RIPOSTE_TOKEN=" + tokens["compliance"], "RIPOSTE_SERVER=" + base}
	stdout, stderr, code := runRiposte(t, dir, env, "deadlines", "submit", before["nis2-incident-notification"].ID, "--reference", "CSIRT-42")
	if code != 0 || !strings.Contains(stdout, "submitted") {
		t.Fatalf("deadlines submit: %d %q %q", code, stdout, stderr)
	}
	eventually(t, "NIS2 final report armed", 30*time.Second, func() bool { return list()["nis2-final"].Status == "open" })
	armed := list()

	// kill -9 and restart: the obligations are exactly as they were.
	p.killHard(t)
	p = startRiposte(t, dir, nil, args...)
	waitReady(t, p, httpAddr, 30*time.Second)
	after := list()
	for stage, o := range armed {
		a := after[stage]
		if a.Status != o.Status || (a.DueAt == nil) != (o.DueAt == nil) || (a.DueAt != nil && *a.DueAt != *o.DueAt) {
			t.Fatalf("%s changed across kill -9: %+v → %+v", stage, o, a)
		}
	}
	stdout, _, code = runRiposte(t, dir, env, "deadlines", "list", "--incident", id)
	if code != 0 || !strings.Contains(stdout, "nis2-final") || !strings.Contains(stdout, "submitted") {
		t.Fatalf("deadlines list: %d %s", code, stdout)
	}
	code, csv := dpo.do("GET", "/v1/deadlines/export.csv?incident="+id, nil)
	if code != 200 || !strings.Contains(string(csv), "CSIRT-42") || !strings.Contains(string(csv), "gdpr-art33-initial") {
		t.Fatalf("export: %d %s", code, csv)
	}
}
