package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/riposte-soar/riposte/internal/freeport"
)

//go:embed playbooks/*.yaml
var playbookFS embed.FS

// benchK is the number of actions in playbooks/bench-null.yaml; the
// baseline workflow runs as many activities.
const benchK = 5

// Options size a run.
type Options struct {
	Riposte  string
	WorkDir  string
	N        int
	M        int
	Keys     int
	Starters int
	// Rounds alternates baseline and Riposte runs of N/Rounds each.
	Rounds         int
	LatencySamples int
	// LatencyGap spaces the latency samples so the system stays lightly
	// loaded.
	LatencyGap time.Duration
	// PhaseTimeout bounds each phase.
	PhaseTimeout time.Duration
	// Out receives one line per figure.
	Out io.Writer
}

// DefaultOptions are make bench's sizes: about two minutes of measuring
// on 2 cores.
func DefaultOptions() Options {
	return Options{N: 1000, M: 5000, Keys: 10, Starters: 50, Rounds: 2, LatencySamples: 100,
		LatencyGap: 100 * time.Millisecond, PhaseTimeout: 3 * time.Minute}
}

// Result is what a run measured. Rates are per second; latencies in ms.
type Result struct {
	Machine   Machine        `json:"machine"`
	Options   map[string]any `json:"options"`
	StartupMS float64        `json:"startup_ms"`
	Baseline  struct {
		Workflows       int     `json:"workflows"`
		Activities      int     `json:"activities_per_workflow"`
		Seconds         float64 `json:"seconds"`
		PerSecond       float64 `json:"workflows_per_s"`
		ServerCPUPerWF  float64 `json:"server_cpu_s_per_workflow"`
		HarnessCPUPerWF float64 `json:"harness_worker_cpu_s_per_workflow"`
		StartP50MS      float64 `json:"start_p50_ms"`
		StartP99MS      float64 `json:"start_p99_ms"`
	} `json:"baseline"`
	Riposte struct {
		Incidents      int     `json:"incidents"`
		Actions        int     `json:"actions_per_incident"`
		Seconds        float64 `json:"seconds"`
		PerSecond      float64 `json:"incidents_per_s"`
		ActionsPerS    float64 `json:"actions_per_s"`
		AckP50MS       float64 `json:"ack_p50_ms"`
		AckP99MS       float64 `json:"ack_p99_ms"`
		CPUPerIncident float64 `json:"cpu_s_per_incident"`
		Resolved       int     `json:"resolved"`
		Refused        int     `json:"refused"`
	} `json:"riposte"`
	Ratio float64 `json:"ratio"`
	Storm struct {
		Alerts      int     `json:"alerts"`
		Keys        int     `json:"keys"`
		Accepted    int     `json:"accepted"`
		Refused     int     `json:"refused"`
		Seconds     float64 `json:"seconds"`
		PerSecond   float64 `json:"alerts_per_s"`
		AckP50MS    float64 `json:"ack_p50_ms"`
		AckP99MS    float64 `json:"ack_p99_ms"`
		Incidents   int     `json:"incidents"`
		InIncidents int     `json:"alerts_in_incidents"`
		Lost        int     `json:"lost"`
	} `json:"storm"`
	Latency struct {
		Samples int     `json:"samples"`
		P50MS   float64 `json:"approval_request_p50_ms"`
		P99MS   float64 `json:"approval_request_p99_ms"`
		MaxMS   float64 `json:"approval_request_max_ms"`
	} `json:"latency"`
	Resources struct {
		PeakRSSMB      float64 `json:"peak_rss_mb"`
		CPUSeconds     float64 `json:"cpu_s_total"`
		CPUPerIncident float64 `json:"cpu_s_per_incident"`
	} `json:"resources"`
}

// ResultLine is the final line make bench prints.
func (r *Result) ResultLine() string {
	return fmt.Sprintf("RESULT baseline_wf_per_s=%.1f riposte_incidents_per_s=%.1f ratio=%.2f actions_per_s=%.1f storm_alerts_per_s=%.1f approval_request_p99_ms=%.0f rss_mb=%.0f",
		r.Baseline.PerSecond, r.Riposte.PerSecond, r.Ratio, r.Riposte.ActionsPerS, r.Storm.PerSecond, r.Latency.P99MS, r.Resources.PeakRSSMB)
}

// Problems lists what is missing or wrong in the result.
func (r *Result) Problems() []string {
	var p []string
	check := func(ok bool, msg string, args ...any) {
		if !ok {
			p = append(p, fmt.Sprintf(msg, args...))
		}
	}
	check(r.Baseline.Workflows > 0 && r.Baseline.PerSecond > 0, "baseline: no rate")
	check(r.Riposte.Resolved == r.Riposte.Incidents && r.Riposte.Incidents > 0, "riposte: %d of %d incidents resolved", r.Riposte.Resolved, r.Riposte.Incidents)
	check(r.Riposte.Refused == 0, "riposte: %d alerts refused", r.Riposte.Refused)
	check(r.Riposte.PerSecond > 0, "riposte: no rate")
	check(r.Storm.Accepted == r.Storm.Alerts && r.Storm.Alerts > 0, "storm: %d of %d alerts accepted", r.Storm.Accepted, r.Storm.Alerts)
	check(r.Storm.Lost == 0 && r.Storm.InIncidents == r.Storm.Accepted, "storm: %d accepted alerts not in an incident", r.Storm.Accepted-r.Storm.InIncidents)
	check(r.Storm.Incidents == r.Storm.Keys, "storm: %d incidents for %d keys", r.Storm.Incidents, r.Storm.Keys)
	check(r.Latency.Samples > 0 && r.Latency.P99MS > 0, "latency: no samples")
	check(r.Resources.PeakRSSMB > 0, "resources: no RSS")
	return p
}

// Complete reports whether every figure was measured and nothing was lost.
func (r *Result) Complete() bool { return len(r.Problems()) == 0 }

// bench is one run's state.
type bench struct {
	o        Options
	out      io.Writer
	runID    string
	dir      string
	httpAddr string
	tAddr    string
	ingest   string
	admin    string
	proc     *exec.Cmd
	exited   chan struct{}
	stdout   *syncBuffer
	logPath  string
	http     *http.Client
	tc       client.Client
	slack    *fakeSlack
	res      *Result
}

// Run starts riposte dev and measures every figure.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.LatencyGap <= 0 {
		o.LatencyGap = DefaultOptions().LatencyGap
	}
	if o.PhaseTimeout <= 0 {
		o.PhaseTimeout = DefaultOptions().PhaseTimeout
	}
	if o.N <= 0 || o.M <= 0 || o.Keys <= 0 || o.Starters <= 0 || o.LatencySamples <= 0 {
		return nil, errors.New("n, m, keys, starters and latency-samples must be positive")
	}
	started := time.Now()
	b := &bench{o: o, out: o.Out, res: &Result{Machine: describeMachine()}, runID: randomHex(4)}
	b.res.Options = map[string]any{"n": o.N, "m": o.M, "keys": o.Keys, "starters": o.Starters, "rounds": o.Rounds,
		"latency_samples": o.LatencySamples, "k": benchK, "database": "sqlite file"}
	b.printf("MACHINE cpu=%q cores=%d memory_gb=%.1f kernel=%s go=%s loadavg=%q",
		b.res.Machine.CPU, b.res.Machine.Cores, b.res.Machine.MemoryGB, b.res.Machine.Kernel, b.res.Machine.Go, b.res.Machine.LoadStart)

	if o.WorkDir == "" {
		d, err := os.MkdirTemp("", "riposte-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		b.dir = d
	} else {
		if err := os.MkdirAll(o.WorkDir, 0o700); err != nil {
			return nil, err
		}
		b.dir = o.WorkDir
	}
	b.slack = newFakeSlack()
	defer b.slack.Close()
	b.http = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4 * o.Starters, MaxIdleConns: 4 * o.Starters}}

	if err := b.start(ctx); err != nil {
		return nil, err
	}
	defer b.stop()
	pid := b.proc.Process.Pid
	var err error
	// The baseline's client talks to the embedded server as riposte dev's
	// own does (no gzip on loopback), so the ratio is Riposte's overhead
	// and not a transport setting.
	b.tc, err = client.DialContext(ctx, client.Options{HostPort: b.tAddr, Namespace: "default", Logger: quietLogger{},
		ConnectionOptions: client.ConnectionOptions{GrpcCompression: &client.GrpcCompressionNone{}}})
	if err != nil {
		return nil, fmt.Errorf("dial temporal %s: %w", b.tAddr, err)
	}
	defer b.tc.Close()

	if err := b.warmUp(ctx); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	if err := b.latency(ctx); err != nil {
		return nil, fmt.Errorf("latency: %w", err)
	}
	if err := b.throughput(ctx, pid); err != nil {
		return nil, err
	}
	if err := b.storm(ctx); err != nil {
		return nil, fmt.Errorf("storm: %w", err)
	}
	r := b.res
	if r.Baseline.PerSecond > 0 {
		r.Ratio = round(r.Riposte.PerSecond/r.Baseline.PerSecond, 3)
	}
	rss, err := peakRSSMB(pid)
	if err != nil {
		return nil, err
	}
	cpu, _ := cpuSeconds(pid)
	r.Resources.PeakRSSMB, r.Resources.CPUSeconds, r.Resources.CPUPerIncident = round(rss, 1), round(cpu, 2), r.Riposte.CPUPerIncident
	b.printf("RESOURCES peak_rss_mb=%.0f cpu_s_total=%.1f cpu_s_per_incident=%.4f", rss, cpu, r.Riposte.CPUPerIncident)
	r.Machine.LoadEnd = loadavg()
	r.Machine.Seconds = round(time.Since(started).Seconds(), 1)
	b.printf("RATIO riposte/baseline=%.2f (loadavg at end %q)", r.Ratio, r.Machine.LoadEnd)
	return r, nil
}

func (b *bench) printf(format string, args ...any) {
	fmt.Fprintf(b.out, format+"\n", args...)
}

func randomHex(n int) string {
	p := make([]byte, n)
	_, _ = rand.Read(p)
	return hex.EncodeToString(p)
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// config is riposte.yaml for the run: fresh ports, two tokens, the bench
// playbooks and routes, Slack at the fake, and the null integration.
func (b *bench) config() (string, error) {
	httpAddr, err := freeport.Addr("127.0.0.1")
	if err != nil {
		return "", err
	}
	tAddr, err := freeport.Addr("127.0.0.1")
	if err != nil {
		return "", err
	}
	b.httpAddr = httpAddr
	b.ingest, b.admin = "bench-ingest-"+randomHex(16), "bench-admin-"+randomHex(16)
	pbDir := filepath.Join(b.dir, "playbooks")
	if err := os.MkdirAll(pbDir, 0o700); err != nil {
		return "", err
	}
	entries, _ := playbookFS.ReadDir("playbooks")
	for _, e := range entries {
		data, _ := playbookFS.ReadFile("playbooks/" + e.Name())
		if err := os.WriteFile(filepath.Join(pbDir, e.Name()), data, 0o600); err != nil {
			return "", err
		}
	}
	cfg := fmt.Sprintf(`data_dir: %q
log:
  level: warn
http:
  listen: %q
dev:
  temporal_listen: %q
auth:
  tokens:
    - {name: bench-ingest, role: ingest, sha256: %s}
    - {name: bench-admin, role: admin, sha256: %s}
ingest:
  routes:
    - name: bench-throughput
      match: alert.labels["bench"] == "throughput"
      playbook: bench-null
      group_by: alert.id
    - name: bench-storm
      match: alert.labels["bench"] == "storm"
      playbook: bench-storm
      group_by: alert.labels["key"]
    - name: bench-approval
      match: alert.labels["bench"] == "approval"
      playbook: bench-approval
      group_by: alert.id
  default_route:
    playbook: bench-null
    group_by: alert.id
playbooks:
  paths: [%q]
  library: false
slack:
  bot_token: xoxb-bench
  signing_secret: bench-signing-secret
  api_url: %q
  channel: C0BENCH
  reminder_fraction: 0
bench:
  null_integration: true
`, filepath.Join(b.dir, "data"), httpAddr, tAddr, sha(b.ingest), sha(b.admin), pbDir, b.slack.URL())
	path := filepath.Join(b.dir, "riposte.yaml")
	return path, os.WriteFile(path, []byte(cfg), 0o600)
}

var temporalLine = regexp.MustCompile(`(?m)^\s*Temporal:\s+(\S+)`)

func (b *bench) start(ctx context.Context) error {
	cfgPath, err := b.config()
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	b.logPath = filepath.Join(b.dir, "riposte.log")
	logf, err := os.Create(b.logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(b.o.Riposte, "dev", "--config", cfgPath)
	cmd.Dir = b.dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RIPOSTE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	b.stdout = &syncBuffer{}
	cmd.Stdout, cmd.Stderr = b.stdout, logf
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start riposte: %w", err)
	}
	b.proc, b.exited = cmd, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(b.exited)
	}()
	deadline := time.Now().Add(90 * time.Second)
	for {
		if m := temporalLine.FindStringSubmatch(b.stdout.String()); m != nil && b.tAddr == "" {
			b.tAddr = m[1]
		}
		if b.tAddr != "" && b.readyz() {
			break
		}
		select {
		case <-b.exited:
			return fmt.Errorf("riposte dev exited at start: %s", b.logTail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("riposte dev not ready within 90s: %s", b.logTail())
		}
	}
	b.res.StartupMS = ms(time.Since(t0))
	b.printf("STARTUP ready_ms=%.0f temporal=%s http=%s", b.res.StartupMS, b.tAddr, b.httpAddr)
	return nil
}

func (b *bench) readyz() bool {
	resp, err := b.http.Get("http://" + b.httpAddr + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (b *bench) logTail() string {
	data, _ := os.ReadFile(b.logPath)
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

// stop shuts riposte down as Ctrl-C does, then kills it if it hangs.
func (b *bench) stop() {
	if b.proc == nil {
		return
	}
	_ = b.proc.Process.Signal(syscall.SIGINT)
	select {
	case <-b.exited:
	case <-time.After(30 * time.Second):
		_ = b.proc.Process.Kill()
		<-b.exited
	}
}

// alert is one Alertmanager webhook with one alert; id makes it unique.
func alertBody(kind, id, key, ip string) []byte {
	body := map[string]any{
		"version": "4", "status": "firing", "receiver": "riposte", "groupKey": kind + "/" + id,
		"alerts": []map[string]any{{
			"status":      "firing",
			"labels":      map[string]string{"alertname": "Bench", "bench": kind, "key": key, "src_ip": ip, "instance": "bench-" + id},
			"annotations": map[string]string{"summary": "bench-" + kind + "-" + id},
			"startsAt":    "2026-01-01T00:00:00Z",
			"fingerprint": id,
		}},
	}
	data, _ := json.Marshal(body)
	return data
}

// accepted is the 202 body.
type accepted struct {
	Accepted []struct {
		AlertID    string `json:"alert_id"`
		IncidentID string `json:"incident_id"`
	} `json:"accepted"`
}

// post sends one webhook and returns the incident it joined.
func (b *bench) post(ctx context.Context, body []byte) (incident string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+b.httpAddr+"/v1/alerts/alertmanager", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+b.ingest)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("POST /v1/alerts/alertmanager: %d %s", resp.StatusCode, strings.TrimSpace(string(data)))
	}
	var a accepted
	if err := json.Unmarshal(data, &a); err != nil || len(a.Accepted) != 1 || a.Accepted[0].IncidentID == "" {
		return "", fmt.Errorf("POST /v1/alerts/alertmanager: unexpected answer %s", data)
	}
	return a.Accepted[0].IncidentID, nil
}

// ipFor spreads bench addresses over 10.0.0.0/8.
func ipFor(i int) string {
	return fmt.Sprintf("10.%d.%d.%d", (i>>16)&255, (i>>8)&255, i&255)
}

// fanOut runs fn(i) for i in [0, n) on workers goroutines and collects the
// latency of each call.
func fanOut(ctx context.Context, n, workers int, fn func(i int) error) (lat []time.Duration, failures int, first, last time.Time) {
	var (
		mu   sync.Mutex
		next atomic.Int64
		wg   sync.WaitGroup
		fail atomic.Int64
	)
	lat = make([]time.Duration, 0, n)
	first = time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t := time.Now()
				err := fn(i)
				d := time.Since(t)
				if err != nil {
					fail.Add(1)
					continue
				}
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return lat, int(fail.Load()), first, time.Now()
}

// countUntil polls a visibility count until it reaches want and returns
// when it did. Both throughput runs end this way, so visibility lag weighs
// on both alike.
func (b *bench) countUntil(ctx context.Context, query string, from, want int, timeout time.Duration) (time.Time, int, error) {
	deadline := time.Now().Add(timeout)
	got := 0
	for {
		resp, err := b.tc.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: "default", Query: query})
		if err == nil {
			got = int(resp.GetCount())
			if got >= want {
				return time.Now(), got, nil
			}
		}
		if time.Now().After(deadline) {
			return time.Now(), got, fmt.Errorf("%d of %d after %v (%s)", got, want, timeout, query)
		}
		// Counting reads the same database the run writes: poll slowly
		// until the end is near.
		wait := 100 * time.Millisecond
		if got < from+(want-from)*8/10 {
			wait = time.Second
		}
		select {
		case <-ctx.Done():
			return time.Now(), got, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// warmUp runs a few of each kind so that the measured runs do not pay for
// first-use costs (connections, caches, code paths).
func (b *bench) warmUp(ctx context.Context) error {
	w := worker.New(b.tc, baselineTaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(BaselineWorkflow, workflow.RegisterOptions{Name: BaselineWorkflowName})
	w.RegisterActivity(NoopActivity)
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	for i := range 5 {
		run, err := b.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bench-warm-%s-%d", b.runID, i), TaskQueue: baselineTaskQueue},
			BaselineWorkflowName, benchK)
		if err != nil {
			return err
		}
		if err := run.Get(ctx, nil); err != nil {
			return err
		}
	}
	for i := range 5 {
		if _, err := b.post(ctx, alertBody("warm", fmt.Sprintf("warm-%s-%d", b.runID, i), "", ipFor(i))); err != nil {
			return err
		}
	}
	_, _, err := b.countUntil(ctx, "RipostePlaybook = 'bench-null' AND RiposteStatus = 'resolved'", 0, 5, time.Minute)
	return err
}

// latency times webhook → Slack approval request, one alert at a time.
func (b *bench) latency(ctx context.Context) error {
	n := b.o.LatencySamples
	lat := make([]time.Duration, 0, n)
	for i := range n {
		id := fmt.Sprintf("lat-%s-%d", b.runID, i)
		marker := "bench-approval-" + id
		wait := b.slack.expect(marker)
		t0 := time.Now()
		if _, err := b.post(ctx, alertBody("approval", id, "", ipFor(i))); err != nil {
			return err
		}
		select {
		case at := <-wait:
			lat = append(lat, at.Sub(t0))
		case <-time.After(30 * time.Second):
			return fmt.Errorf("no Slack approval request for alert %d within 30s: %s", i, b.logTail())
		case <-ctx.Done():
			return ctx.Err()
		}
		time.Sleep(b.o.LatencyGap)
	}
	r := &b.res.Latency
	r.Samples = len(lat)
	r.P50MS, r.P99MS, r.MaxMS = pct(lat, 50), pct(lat, 99), pct(lat, 100)
	b.printf("LATENCY samples=%d approval_request_p50_ms=%.0f approval_request_p99_ms=%.0f max_ms=%.0f", r.Samples, r.P50MS, r.P99MS, r.MaxMS)
	return nil
}

// throughput runs the baseline and Riposte in alternating rounds (B R B
// R ...), so that a change in the machine's load over the run weighs on
// both alike. Each rate is all items over the time of its rounds.
func (b *bench) throughput(ctx context.Context, pid int) error {
	w := worker.New(b.tc, baselineTaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(BaselineWorkflow, workflow.RegisterOptions{Name: BaselineWorkflowName})
	w.RegisterActivity(NoopActivity)
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	rounds := max(1, min(b.o.Rounds, b.o.N))
	var bt, rt roundTotals
	for i := range rounds {
		n := b.o.N / rounds
		if i < b.o.N%rounds {
			n++
		}
		if err := b.baselineRound(ctx, pid, i, n, &bt); err != nil {
			return fmt.Errorf("baseline round %d: %w", i+1, err)
		}
		if err := b.riposteRound(ctx, pid, i, n, &rt); err != nil {
			return fmt.Errorf("riposte round %d: %w", i+1, err)
		}
	}
	br := &b.res.Baseline
	br.Workflows, br.Activities, br.Seconds = bt.items, benchK, round(bt.secs, 2)
	br.PerSecond = round(float64(bt.items)/bt.secs, 1)
	br.ServerCPUPerWF = round(bt.cpu/float64(bt.items), 4)
	br.HarnessCPUPerWF = round(bt.selfCPU/float64(bt.items), 4)
	br.StartP50MS, br.StartP99MS = pct(bt.lat, 50), pct(bt.lat, 99)
	b.printf("BASELINE workflows=%d activities=%d rounds=%d seconds=%.1f wf_per_s=%.1f start_p50_ms=%.0f start_p99_ms=%.0f server_cpu_s_per_wf=%.4f worker_cpu_s_per_wf=%.4f",
		br.Workflows, benchK, rounds, br.Seconds, br.PerSecond, br.StartP50MS, br.StartP99MS, br.ServerCPUPerWF, br.HarnessCPUPerWF)
	r := &b.res.Riposte
	r.Incidents, r.Actions, r.Seconds = rt.items, benchK, round(rt.secs, 2)
	r.PerSecond = round(float64(rt.items)/rt.secs, 1)
	r.ActionsPerS = round(r.PerSecond*benchK, 1)
	r.AckP50MS, r.AckP99MS = pct(rt.lat, 50), pct(rt.lat, 99)
	r.CPUPerIncident = round(rt.cpu/float64(rt.items), 4)
	b.printf("RIPOSTE incidents=%d actions=%d rounds=%d seconds=%.1f incidents_per_s=%.1f actions_per_s=%.1f ack_p50_ms=%.0f ack_p99_ms=%.0f cpu_s_per_incident=%.4f",
		r.Incidents, benchK, rounds, r.Seconds, r.PerSecond, r.ActionsPerS, r.AckP50MS, r.AckP99MS, r.CPUPerIncident)
	return b.checkIncident(ctx, rt.sample)
}

type roundTotals struct {
	items        int
	secs         float64
	cpu, selfCPU float64
	lat          []time.Duration
	sample       string
}

// baselineRound: raw Temporal, n workflows of K no-op activities from the
// starters, worker in this process on its own task queue.
func (b *bench) baselineRound(ctx context.Context, pid, round, n int, t *roundTotals) error {
	prefix := fmt.Sprintf("bench-baseline-%s-%d-", b.runID, round)
	cpu0, self0 := mustCPU(pid), selfCPUSeconds()
	lat, failures, t0, _ := fanOut(ctx, n, b.o.Starters, func(i int) error {
		_, err := b.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("%s%d", prefix, i), TaskQueue: baselineTaskQueue},
			BaselineWorkflowName, benchK)
		return err
	})
	if failures > 0 {
		return fmt.Errorf("%d of %d starts failed", failures, n)
	}
	q := fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Completed' AND WorkflowId STARTS_WITH '%s'", BaselineWorkflowName, prefix)
	end, _, err := b.countUntil(ctx, q, 0, n, b.o.PhaseTimeout)
	if err != nil {
		return err
	}
	t.items += n
	t.secs += end.Sub(t0).Seconds()
	t.cpu += mustCPU(pid) - cpu0
	t.selfCPU += selfCPUSeconds() - self0
	t.lat = append(t.lat, lat...)
	return nil
}

func mustCPU(pid int) float64 {
	c, _ := cpuSeconds(pid)
	return c
}

// riposteRound: n alerts over HTTP, each a new incident running
// bench-null; done when n more incidents read "resolved".
func (b *bench) riposteRound(ctx context.Context, pid, round, n int, t *roundTotals) error {
	q := "RipostePlaybook = 'bench-null' AND RiposteStatus = 'resolved'"
	_, before, err := b.countUntil(ctx, q, 0, 0, time.Minute)
	if err != nil {
		return err
	}
	cpu0 := mustCPU(pid)
	prefix := fmt.Sprintf("thr-%s-%d-", b.runID, round)
	var sample atomic.Value
	lat, failures, t0, _ := fanOut(ctx, n, b.o.Starters, func(i int) error {
		inc, err := b.post(ctx, alertBody("throughput", fmt.Sprintf("%s%d", prefix, i), "", ipFor(i)))
		if err == nil && i == n-1 {
			sample.Store(inc)
		}
		return err
	})
	b.res.Riposte.Refused += failures
	if failures > 0 {
		return fmt.Errorf("%d of %d alerts refused", failures, n)
	}
	end, got, err := b.countUntil(ctx, q, before, before+n, b.o.PhaseTimeout)
	b.res.Riposte.Resolved += got - before
	if err != nil {
		return err
	}
	t.items += n
	t.secs += end.Sub(t0).Seconds()
	t.cpu += mustCPU(pid) - cpu0
	t.lat = append(t.lat, lat...)
	t.sample, _ = sample.Load().(string)
	return nil
}

// checkIncident reads one incident back to prove the playbook ran every
// action against the null integration (not "not configured").
func (b *bench) checkIncident(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("no incident to check")
	}
	var st struct {
		Playbook struct{ Status string } `json:"playbook"`
		Actions  []struct {
			Action string `json:"action"`
			Status string `json:"status"`
		} `json:"actions"`
	}
	if err := b.getJSON(ctx, "/v1/incidents/"+id, &st); err != nil {
		return err
	}
	ok := 0
	for _, a := range st.Actions {
		if a.Status == "succeeded" {
			ok++
		}
	}
	if st.Playbook.Status != "completed" || ok != benchK {
		return fmt.Errorf("incident %s: playbook %s with %d of %d actions succeeded: %+v", id, st.Playbook.Status, ok, benchK, st.Actions)
	}
	return nil
}

func (b *bench) getJSON(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+b.httpAddr+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+b.admin)
	resp, err := b.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, strings.TrimSpace(string(data)))
	}
	return json.Unmarshal(data, v)
}

// storm: M alerts to Keys grouping keys; every accepted alert must be
// counted in its incident.
func (b *bench) storm(ctx context.Context) error {
	m, keys := b.o.M, b.o.Keys
	prefix := "storm-" + b.runID + "-"
	var (
		mu        sync.Mutex
		incidents = map[string]int{}
	)
	lat, failures, t0, t1 := fanOut(ctx, m, b.o.Starters, func(i int) error {
		key := fmt.Sprintf("key-%s-%d", b.runID, i%keys)
		inc, err := b.post(ctx, alertBody("storm", fmt.Sprintf("%s%d", prefix, i), key, ipFor(i%keys)))
		if err != nil {
			return err
		}
		mu.Lock()
		incidents[inc]++
		mu.Unlock()
		return nil
	})
	r := &b.res.Storm
	r.Alerts, r.Keys, r.Refused, r.Accepted = m, keys, failures, m-failures
	secs := t1.Sub(t0).Seconds()
	r.Seconds, r.PerSecond = round(secs, 2), round(float64(r.Accepted)/secs, 1)
	r.AckP50MS, r.AckP99MS = pct(lat, 50), pct(lat, 99)
	r.Incidents = len(incidents)

	// The 202 means each alert is in its incident's history; the count
	// in the incident's state follows as the workflow takes the signals.
	ids := make([]string, 0, len(incidents))
	for id := range incidents {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	deadline := time.Now().Add(b.o.PhaseTimeout)
	for {
		total, short := 0, false
		for _, id := range ids {
			var st struct {
				Alerts struct {
					Count int `json:"count"`
				} `json:"alerts"`
			}
			if err := b.getJSON(ctx, "/v1/incidents/"+id, &st); err != nil {
				short = true
				continue
			}
			total += st.Alerts.Count
			if st.Alerts.Count < incidents[id] {
				short = true
			}
		}
		r.InIncidents = total
		if !short || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	r.Lost = max(0, r.Accepted-r.InIncidents)
	b.printf("STORM alerts=%d keys=%d accepted=%d refused=%d seconds=%.1f alerts_per_s=%.1f ack_p50_ms=%.0f ack_p99_ms=%.0f incidents=%d alerts_in_incidents=%d lost=%d",
		m, keys, r.Accepted, r.Refused, secs, r.PerSecond, r.AckP50MS, r.AckP99MS, r.Incidents, r.InIncidents, r.Lost)
	return nil
}

// pct is the p-th percentile (nearest rank) in milliseconds.
func pct(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	i = min(max(i, 0), len(s)-1)
	return ms(s[i])
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 1) }

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// syncBuffer collects the child's stdout while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// quietLogger keeps the SDK's logs out of the figures.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}

var _ log.Logger = quietLogger{}
