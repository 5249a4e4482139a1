package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// TestBenchTiny runs the whole harness at a tiny size: every figure must be
// measured, every incident must finish its five null actions, and every
// storm alert that got a 202 must be counted in its incident.
func TestBenchTiny(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "riposte")
	build := exec.Command("go", "build", "-o", bin, "../cmd/riposte")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build riposte: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out bytes.Buffer
	o := Options{Riposte: bin, N: 8, M: 40, Keys: 4, Starters: 4, Rounds: 2, LatencySamples: 3, PhaseTimeout: time.Minute, Out: &out}
	res, err := Run(ctx, o)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if p := res.Problems(); len(p) > 0 {
		t.Fatalf("problems: %v", p)
	}
	if res.Baseline.Workflows != 8 || res.Riposte.Incidents != 8 || res.Riposte.Resolved != 8 {
		t.Errorf("throughput counts: baseline %d, riposte %d (%d resolved), want 8", res.Baseline.Workflows, res.Riposte.Incidents, res.Riposte.Resolved)
	}
	if s := res.Storm; s.Accepted != 40 || s.InIncidents != 40 || s.Lost != 0 || s.Incidents != 4 {
		t.Errorf("storm: %+v, want 40 accepted and counted in 4 incidents", s)
	}
	if res.Latency.Samples != 3 {
		t.Errorf("latency samples = %d, want 3", res.Latency.Samples)
	}
	line := res.ResultLine()
	want := regexp.MustCompile(`^RESULT baseline_wf_per_s=[0-9.]+ riposte_incidents_per_s=[0-9.]+ ratio=[0-9.]+ actions_per_s=[0-9.]+ ` +
		`storm_alerts_per_s=[0-9.]+ approval_request_p99_ms=[0-9]+ rss_mb=[0-9]+$`)
	if !want.MatchString(line) {
		t.Errorf("result line %q does not match %s", line, want)
	}
	for _, fig := range []string{"STARTUP ", "LATENCY ", "BASELINE ", "RIPOSTE ", "STORM ", "RESOURCES "} {
		if !bytes.Contains(out.Bytes(), []byte("\n"+fig)) {
			t.Errorf("no %s line in the output", fig)
		}
	}
}
