package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDeadlinesPlanCLI(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := runRiposte(t, dir, nil, "deadlines", "plan", "--regime", "dora",
		"--event", "aware=2026-11-20T10:00:00Z", "--event", "classified_major=2026-11-20T12:00:00Z")
	if code != 0 {
		t.Fatalf("status %d: %s", code, stderr)
	}
	var plans []struct {
		ID        string   `json:"id"`
		DueAt     *string  `json:"due_at"`
		Basis     string   `json:"basis"`
		DependsOn []string `json:"depends_on"`
	}
	if err := json.Unmarshal([]byte(stdout), &plans); err != nil || len(plans) == 0 {
		t.Fatalf("output %q: %v", stdout, err)
	}
	byID := map[string]int{}
	for i, p := range plans {
		byID[p.ID] = i
	}
	// DORA's initial report: the earlier of classification + 4 h and
	// awareness + 24 h.
	if p := plans[byID["dora-initial"]]; p.DueAt == nil || *p.DueAt != "2026-11-20T16:00:00Z" || p.Basis != "law" {
		t.Fatalf("dora-initial %+v", p)
	}
	// The intermediate report waits on the initial one's submission.
	if p := plans[byID["dora-intermediate"]]; p.DueAt != nil || len(p.DependsOn) == 0 {
		t.Fatalf("dora-intermediate %+v, want due_at null until the initial report is submitted", p)
	}
	_, stderr, code = runRiposte(t, dir, nil, "deadlines", "plan", "--regime", "gdpr", "--event", "aware=yesterday")
	if code != 2 || !strings.Contains(stderr, "not an RFC 3339 time") {
		t.Fatalf("bad event: %d %q", code, stderr)
	}
}
