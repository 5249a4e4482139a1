package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/riposte-soar/riposte/internal/devserver"
	"github.com/riposte-soar/riposte/internal/tclient"
	"github.com/riposte-soar/riposte/workflows"
)

// timerWorkflow lives only in this test and runs on the test's own worker
// and task queue; riposte registers nothing for tests.
func timerWorkflow(ctx workflow.Context, d time.Duration) (time.Time, error) {
	if err := workflow.Sleep(ctx, d); err != nil {
		return time.Time{}, err
	}
	return workflow.Now(ctx), nil
}

func TestDevSurvivesKillDashNine(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped with -short: runs riposte dev for about 30 s")
	}
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	httpAddr, temporalAddr := freePort(t), freePort(t)
	args := []string{"dev", "--data-dir", dataDir, "--http", httpAddr, "--temporal", temporalAddr}

	p := startRiposte(t, dir, nil, args...)
	addr := p.temporalAddr(t)
	if addr != temporalAddr {
		t.Fatalf("printed Temporal address %q, want %q", addr, temporalAddr)
	}
	waitReady(t, p, httpAddr, 30*time.Second)

	c, err := client.Dial(client.Options{HostPort: addr, Logger: tclient.NewLogger(nil)})
	if err != nil {
		t.Fatalf("dial printed temporal address: %v", err)
	}
	defer c.Close()
	const taskQueue = "e2e-durable-timer"
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(timerWorkflow)
	if err := w.Start(); err != nil {
		t.Fatalf("start test worker: %v", err)
	}
	defer w.Stop()

	const timer = 20 * time.Second
	ctx := context.Background()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "e2e-timer", TaskQueue: taskQueue}, timerWorkflow, timer)
	if err != nil {
		t.Fatalf("start workflow: %v", err)
	}
	started := time.Now()
	waitTimerStarted(t, c, run)

	// Crash 1: kill -9 while the timer is pending, restart at once.
	p.killHard(t)
	p = startRiposte(t, dir, nil, args...)
	waitReady(t, p, httpAddr, 30*time.Second)

	// Crash 2: kill -9 again and stay down until the timer has fallen due.
	p.killHard(t)
	time.Sleep(time.Until(started.Add(timer + 3*time.Second)))
	p = startRiposte(t, dir, nil, args...)
	waitReady(t, p, httpAddr, 30*time.Second)

	getCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var firedAt time.Time
	if err := run.Get(getCtx, &firedAt); err != nil {
		t.Fatalf("workflow did not complete after restarts: %v", err)
	}
	if firedAt.Before(started.Add(timer)) {
		t.Fatalf("timer fired at %v, before its due time %v", firedAt, started.Add(timer))
	}
	t.Logf("timer due %v after start; fired %v after start", timer, firedAt.Sub(started).Round(time.Millisecond))

	// The data directory keeps the database and the admin token, mode 0600.
	fi, err := os.Stat(filepath.Join(dataDir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin.token mode %v, want 0600", fi.Mode().Perm())
	}
	if !strings.Contains(p.stdout.String(), "Admin token: rpt_") {
		t.Fatalf("banner does not print the admin token:\n%s", p.stdout.String())
	}
}

func waitTimerStarted(t *testing.T, c client.Client, run client.WorkflowRun) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		it := c.GetWorkflowHistory(context.Background(), run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				break
			}
			if ev.GetEventType() == enumspb.EVENT_TYPE_TIMER_STARTED {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("timer never started")
}

func TestDevReadyAndCleanInterrupt(t *testing.T) {
	dir := t.TempDir()
	httpAddr, uiAddr := freePort(t), freePort(t)
	p := startRiposte(t, dir, nil, "dev", "--data-dir", filepath.Join(dir, "data"), "--http", httpAddr, "--temporal", freePort(t),
		"--ui", "--ui-addr", uiAddr)
	took := waitReady(t, p, httpAddr, 30*time.Second)
	t.Logf("/readyz answered 200 %v after start", took.Round(time.Millisecond))
	if took > 5*time.Second {
		t.Errorf("/readyz took %v, want under 5 s", took)
	}
	resp, err := http.Get("http://" + httpAddr + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %v %v", resp, err)
	}
	resp.Body.Close()

	// The optional Temporal Web UI serves its app and proxies the API.
	resp, err = http.Get("http://" + uiAddr + "/api/v1/namespaces")
	if err != nil {
		t.Fatalf("temporal ui: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"default"`) {
		t.Fatalf("temporal ui /api/v1/namespaces = %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(p.stdout.String(), "Temporal UI: http://"+uiAddr+"/") {
		t.Fatalf("banner does not print the UI address:\n%s", p.stdout.String())
	}

	sent := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code := p.wait(t, 30*time.Second)
	stopped := time.Since(sent)
	t.Logf("SIGINT to exit: %v, status %d", stopped.Round(time.Millisecond), code)
	if code != 0 {
		t.Errorf("exit status %d after SIGINT, want 0\nstderr:\n%s", code, p.stderr.String())
	}
	if stopped > 5*time.Second {
		t.Errorf("shutdown took %v, want under 5 s", stopped)
	}
	// Shutdown order: HTTP, worker, client, embedded server.
	log := p.stderr.String()
	order := []string{"shutting down", "worker stopped", "embedded temporal stopped", "stopped cleanly"}
	last := -1
	for _, s := range order {
		i := strings.Index(log, s)
		if i < 0 || i < last {
			t.Fatalf("shutdown log out of order or missing %q:\n%s", s, log)
		}
		last = i
	}
}

func TestServeWaitsForTemporal(t *testing.T) {
	dir := t.TempDir()
	httpAddr, temporalAddr := freePort(t), freePort(t) // nothing listens on temporalAddr yet
	env := []string{
		"RIPOSTE_TEMPORAL_ADDRESS=" + temporalAddr,
		"RIPOSTE_TEMPORAL_RETRY_MAX_INTERVAL=1s",
	}
	p := startRiposte(t, dir, env, "serve", "--http", httpAddr)
	p.waitStderr(t, "cannot reach Temporal at "+temporalAddr, 30*time.Second)
	for range 5 {
		if got := readyStatus(httpAddr); got != http.StatusServiceUnavailable {
			t.Fatalf("/readyz = %d while Temporal is down, want 503", got)
		}
		time.Sleep(200 * time.Millisecond)
	}

	srv, err := devserver.Start(context.Background(), devserver.Options{
		FrontendAddr:     temporalAddr,
		Namespace:        "default",
		SearchAttributes: workflows.SearchAttributes(),
	})
	if err != nil {
		t.Fatalf("start embedded temporal: %v", err)
	}
	defer srv.Stop()
	took := waitReady(t, p, httpAddr, 60*time.Second)
	t.Logf("ready %v after Temporal appeared", took.Round(time.Millisecond))
	p.waitStderr(t, "worker polling", 10*time.Second)

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("exit status %d after SIGTERM, want 0", code)
	}
}
