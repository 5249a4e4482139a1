package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/riposte-soar/riposte/alerts"
	"github.com/riposte-soar/riposte/config"
	"github.com/riposte-soar/riposte/internal/auth"
	"github.com/riposte-soar/riposte/internal/devserver"
	"github.com/riposte-soar/riposte/internal/freeport"
	"github.com/riposte-soar/riposte/workflows"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	// Below the ephemeral range: see internal/freeport.
	addr, err := freeport.Addr("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

type running struct {
	http     string
	temporal string
	token    string
	stop     func()
	// finished closes when Run returns; a start-up failure ends the wait
	// for readiness at once.
	finished chan struct{}
}

// runApp runs Riposte in-process until the test ends.
func runApp(t *testing.T, mode Mode, cfg *config.Config) *running {
	t.Helper()
	token, hash, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Auth.Tokens = append(cfg.Auth.Tokens, config.TokenConfig{Name: "test", Role: auth.RoleAdmin, SHA256: hash})
	cfg.HTTP.Listen = freeAddr(t)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	go func() { done <- Run(ctx, Options{Mode: mode, Config: cfg, Logger: log}) }()
	var (
		once   sync.Once
		runErr error
	)
	finished := make(chan struct{})
	go func() { runErr = <-done; close(finished) }()
	stop := func() {
		once.Do(func() {
			cancel()
			<-finished
			if runErr != nil {
				t.Errorf("run: %v", runErr)
			}
		})
	}
	t.Cleanup(stop)
	r := &running{http: cfg.HTTP.Listen, temporal: cfg.Dev.TemporalListen, token: token, stop: stop, finished: finished}
	r.waitReady(t)
	return r
}

func (r *running) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-r.finished:
			r.stop()
			t.Fatal("riposte stopped before it was ready")
		default:
		}
		resp, err := http.Get("http://" + r.http + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("not ready within 60 s")
}

var httpClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

func (r *running) do(t *testing.T, method, path string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+r.http+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+r.token)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// amAlert is one Alertmanager webhook with one alert.
func amAlert(group string, n int, at time.Time) []byte {
	b, _ := json.Marshal(map[string]any{
		"version": "4", "status": "firing", "receiver": "riposte", "groupKey": "{}:{alertname=\"" + group + "\"}",
		"alerts": []map[string]any{{
			"status":      "firing",
			"labels":      map[string]string{"alertname": group, "instance": fmt.Sprintf("10.1.%d.%d:9100", n/250, n%250), "severity": "critical"},
			"annotations": map[string]string{"summary": "storm " + group},
			"startsAt":    at.Format(time.RFC3339Nano),
			"endsAt":      "0001-01-01T00:00:00Z",
			"fingerprint": fmt.Sprintf("%016x", n),
		}},
	})
	return b
}

func stormConfig(t *testing.T) *config.Config {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Dev.InMemory = true
	cfg.Dev.TemporalListen = freeAddr(t)
	cfg.Ingest.Routes = []config.RouteConfig{{Name: "storm", Match: `alert.source == "alertmanager"`, Playbook: "generic-triage", GroupBy: "alert.labels.alertname"}}
	// Small, so that the storm also exercises continue-as-new.
	cfg.Incident.MaxHistoryEvents = 200
	return &cfg
}

func getIncident(t *testing.T, r *running, id string) workflows.IncidentState {
	t.Helper()
	code, b := r.do(t, "GET", "/v1/incidents/"+id, nil)
	if code != 200 {
		t.Fatalf("GET incident %s: %d %s", id, code, b)
	}
	var st workflows.IncidentState
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestAlertStorm posts 2,000 alerts over 20 grouping keys from 50 clients.
func TestAlertStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped with -short: storm of 2,000 alerts")
	}
	r := runApp(t, ModeDev, stormConfig(t))
	const alertsN, groups, clients = 2000, 20, 50
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	jobs := make(chan int)
	var mu sync.Mutex
	statuses := map[int]int{}
	incidentOf := map[string]string{}
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range jobs {
				group := fmt.Sprintf("storm-%02d", n%groups)
				code, b := r.do(t, "POST", "/v1/alerts/alertmanager", amAlert(group, n, t0.Add(time.Duration(n)*time.Millisecond)))
				mu.Lock()
				statuses[code]++
				if code == 202 {
					var acc struct {
						Accepted []struct {
							IncidentID string `json:"incident_id"`
						} `json:"accepted"`
					}
					if err := json.Unmarshal(b, &acc); err == nil && len(acc.Accepted) == 1 {
						incidentOf[group] = acc.Accepted[0].IncidentID
					}
				}
				mu.Unlock()
			}
		}()
	}
	for n := range alertsN {
		jobs <- n
	}
	close(jobs)
	wg.Wait()
	took := time.Since(start)
	t.Logf("%d alerts in %v (%.0f alerts/s); statuses %v", alertsN, took.Round(time.Millisecond), alertsN/took.Seconds(), statuses)
	if statuses[202] != alertsN {
		t.Fatalf("statuses %v: want %d × 202 and no 5xx", statuses, alertsN)
	}
	if len(incidentOf) != groups {
		t.Fatalf("%d incidents, want %d", len(incidentOf), groups)
	}
	code, metrics := r.do(t, "GET", "/metrics", nil)
	for _, want := range []string{
		`riposte_alerts_received_total{result="accepted",source="alertmanager"} 20`,
		`riposte_alerts_received_total{result="deduplicated",source="alertmanager"} 1980`,
		`riposte_ingest_duration_seconds_count{code="202",source="alertmanager"} 2000`,
	} {
		if code != 200 || !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("/metrics (%d) lacks %s", code, want)
		}
	}

	// Every alert is in history; wait for the workflows to have applied
	// them, then check the counts exactly.
	deadline := time.Now().Add(90 * time.Second)
	for {
		total, runs, done := 0, 0, true
		for group, id := range incidentOf {
			st := getIncident(t, r, id)
			total += st.Alerts.Count
			runs += st.Runs
			if st.Alerts.Count > alertsN/groups || st.Alerts.Duplicates != 0 {
				t.Fatalf("incident %s (%s) counts %d alerts, %d duplicates; want %d, 0", id, group, st.Alerts.Count, st.Alerts.Duplicates, alertsN/groups)
			}
			if st.Alerts.Count != alertsN/groups {
				done = false
			}
		}
		if done {
			t.Logf("20 incidents × 100 alerts = %d; %d continue-as-new in all", total, runs)
			if runs == 0 {
				t.Error("no incident continued as new; MaxHistoryEvents had no effect")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 90 s the incidents count %d alerts, want %d", total, alertsN)
		}
		time.Sleep(500 * time.Millisecond)
	}

	// The list API sees exactly the 20 (visibility is eventually consistent).
	deadline = time.Now().Add(30 * time.Second)
	for {
		code, b := r.do(t, "GET", "/v1/incidents?status=open&limit=1000", nil)
		var list struct {
			Incidents []struct {
				ID         string `json:"id"`
				AlertCount int64  `json:"alert_count"`
				Severity   string `json:"severity"`
			} `json:"incidents"`
		}
		_ = json.Unmarshal(b, &list)
		var sum int64
		for _, i := range list.Incidents {
			sum += i.AlertCount
		}
		if code == 200 && len(list.Incidents) == groups && sum == alertsN {
			if list.Incidents[0].Severity != string(alerts.SeverityCritical) {
				t.Fatalf("listed severity %q", list.Incidents[0].Severity)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("list: %d incidents summing %d alerts, want %d and %d (%d %s)", len(list.Incidents), sum, groups, alertsN, code, truncate(b))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

// TestTemporalOutage stops Temporal under `riposte serve`: posts get 503,
// and once it is back, retried posts succeed with nothing lost or doubled.
func TestTemporalOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped with -short: restarts an embedded Temporal server")
	}
	dbFile := filepath.Join(t.TempDir(), "temporal.db")
	tAddr := freeAddr(t)
	startTemporal := func() *devserver.Server {
		s, err := devserver.Start(context.Background(), devserver.Options{
			FrontendAddr: tAddr, DatabaseFile: dbFile, Namespace: "default", SearchAttributes: workflows.SearchAttributes(),
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	srv := startTemporal()
	cfg := config.Default()
	cfg.Temporal.Address = tAddr
	cfg.Temporal.RetryMaxInterval = time.Second
	cfg.Ingest.Routes = []config.RouteConfig{{Name: "outage", Match: "true", Playbook: "generic-triage", GroupBy: "alert.labels.alertname"}}
	r := runApp(t, ModeServe, &cfg)

	t0 := time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC)
	post := func(n int) (int, string) {
		code, b := r.do(t, "POST", "/v1/alerts/alertmanager", amAlert("outage", n, t0.Add(time.Duration(n)*time.Second)))
		var acc struct {
			Accepted []struct {
				IncidentID string `json:"incident_id"`
			} `json:"accepted"`
		}
		_ = json.Unmarshal(b, &acc)
		if len(acc.Accepted) == 1 {
			return code, acc.Accepted[0].IncidentID
		}
		return code, ""
	}
	var incident string
	for n := range 10 {
		code, id := post(n)
		if code != 202 {
			t.Fatalf("before the outage: %d", code)
		}
		incident = id
	}

	srv.Stop()
	var wg sync.WaitGroup
	codes := make([]int, 5)
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = post(10 + i)
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != 503 {
			t.Fatalf("post %d during the outage: %d, want 503", 10+i, c)
		}
	}

	srv = startTemporal()
	defer srv.Stop()
	r.waitReady(t)
	// The SIEM retries what failed, and re-sends what succeeded.
	for n := range 15 {
		deadline := time.Now().Add(30 * time.Second)
		for {
			code, _ := post(n)
			if code == 202 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("post %d after the outage: %d", n, code)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := getIncident(t, r, incident)
		if st.Alerts.Count == 15 && st.Alerts.Duplicates == 10 {
			break
		}
		if st.Alerts.Count > 15 || time.Now().After(deadline) {
			t.Fatalf("incident counts %d alerts and %d duplicates; want 15 and 10", st.Alerts.Count, st.Alerts.Duplicates)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
