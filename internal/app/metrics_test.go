package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/riposte-soar/riposte/config"
	"github.com/riposte-soar/riposte/internal/auth"
	"github.com/riposte-soar/riposte/workflows"
)

type scrape map[string]*dto.MetricFamily

func (r *running) scrape(t *testing.T) scrape {
	t.Helper()
	code, b := r.do(t, "GET", "/metrics", nil)
	if code != 200 {
		t.Fatalf("/metrics: %d %s", code, truncate(b))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return fams
}

// series returns the metric of family name whose labels include want.
// For histograms the value is the sample count; sum gives the sum.
func (s scrape) series(name string, want map[string]string) (value, sum float64, ok bool) {
	fam := s[name]
	if fam == nil {
		return 0, 0, false
	}
	total := 0.0
	found := false
next:
	for _, m := range fam.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		found = true
		switch {
		case m.Counter != nil:
			total += m.GetCounter().GetValue()
		case m.Gauge != nil:
			total += m.GetGauge().GetValue()
		case m.Histogram != nil:
			total += float64(m.GetHistogram().GetSampleCount())
			sum += m.GetHistogram().GetSampleSum()
		}
	}
	return total, sum, found
}

func (s scrape) value(name string, labels map[string]string) float64 {
	v, _, _ := s.series(name, labels)
	return v
}

func metricsConfig(t *testing.T) *config.Config {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Dev.InMemory = true
	cfg.Dev.TemporalListen = freeAddr(t)
	cfg.Ingest.Routes = []config.RouteConfig{{Name: "ssh", Match: `alert.source == "wazuh"`, Playbook: "ssh-brute-force", GroupBy: `"ssh/" + host`}}
	return &cfg
}

// TestMetricsMoveWithAnIncident scrapes /metrics on riposte dev before and
// after a Wazuh alert becomes an ssh-brute-force incident, approved through
// the API, with a regulatory clock started for it and already overdue; the
// listed series are present and move by exactly what happened. GET /v1/kpi
// on the same server agrees with the approval histogram. The Grafana
// dashboard queries only metrics that this scrape has.
func TestMetricsMoveWithAnIncident(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped with -short: runs riposte dev with an embedded Temporal server")
	}
	cfg := metricsConfig(t)
	respTok, respHash, _ := auth.NewToken()
	cfg.Auth.Tokens = append(cfg.Auth.Tokens, config.TokenConfig{Name: "soc", Role: auth.RoleResponder, SHA256: respHash})
	r := runApp(t, ModeDev, cfg)
	responder := *r
	responder.token = respTok
	start := time.Now().UTC().Truncate(time.Second)
	before := r.scrape(t)
	for _, name := range []string{"riposte_approvals_requested_total", "riposte_approvals_decided_total",
		"riposte_approval_response_seconds", "riposte_deadlines_overdue", "riposte_deadlines_submitted_late"} {
		if before[name] == nil {
			t.Errorf("before: /metrics lacks %s", name)
		}
	}
	if _, _, ok := before.series("riposte_incidents", nil); ok {
		t.Fatalf("before: active incidents exported with none started: %v", before["riposte_incidents"])
	}

	id := postWazuh(t, r)
	waitFor(t, "approval pending", 20*time.Second, func() bool {
		st := getIncident(t, r, id)
		return len(st.Approvals) == 1 && st.Approvals[0].Status == workflows.ApprovalPending
	})
	code, b := responder.do(t, "POST", "/v1/incidents/"+id+"/approvals/approve_block", []byte(`{"decision":"approve","comment":"metrics test"}`))
	if code != 200 {
		t.Fatalf("approve: %d %s", code, b)
	}
	var st workflows.IncidentState
	waitFor(t, "restore phase", 30*time.Second, func() bool {
		st = getIncident(t, r, id)
		return st.Phase == "restore"
	})
	// A GDPR clock for this incident whose 72 h ran out an hour ago.
	aware := time.Now().UTC().Add(-73 * time.Hour).Truncate(time.Second)
	code, b = r.do(t, "POST", "/v1/deadlines", mustJSON(map[string]any{
		"incident_id": id, "regimes": []string{"gdpr-art33-initial"}, "events": map[string]string{"aware": aware.Format(time.RFC3339)},
	}))
	if code != 201 {
		t.Fatalf("start clock: %d %s", code, b)
	}

	var after scrape
	activeLabels := map[string]string{"status": st.Status, "phase": "restore", "severity": st.Severity}
	waitFor(t, "incident gauge and overdue clock", 30*time.Second, func() bool {
		after = r.scrape(t)
		return after.value("riposte_incidents", activeLabels) == 1 && after.value("riposte_deadlines_overdue", nil) == 1
	})
	if st.Status != workflows.StatusContained {
		t.Fatalf("status %q, want contained", st.Status)
	}
	if n, _, _ := after.series("riposte_incidents", nil); n != 1 {
		t.Fatalf("riposte_incidents sums to %v, want 1", n)
	}
	for _, m := range after["riposte_incidents"].GetMetric() {
		for _, l := range m.GetLabel() {
			if strings.Contains(l.GetValue(), id) {
				t.Fatalf("riposte_incidents carries the incident ID in label %s", l.GetName())
			}
		}
	}

	deltas := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"riposte_alerts_received_total", map[string]string{"source": "wazuh", "result": "accepted"}, 1},
		{"riposte_ingest_duration_seconds", map[string]string{"source": "wazuh", "code": "202"}, 1},
		{"riposte_approvals_requested_total", nil, 1},
		{"riposte_approvals_decided_total", map[string]string{"outcome": "approved"}, 1},
		{"riposte_approvals_decided_total", map[string]string{"outcome": "rejected"}, 0},
		{"riposte_approval_response_seconds", nil, 1},
		// detect: enrich.ip (no threat intel); contain: the block on the
		// EDL; analyse: ticket.create (no ticketing).
		{"riposte_integration_call_duration_seconds", map[string]string{"integration": "threat_intel", "action": "enrich.ip", "outcome": "not_configured"}, 1},
		{"riposte_integration_call_duration_seconds", map[string]string{"integration": "edl", "action": "firewall.block_ip", "outcome": "ok"}, 1},
		{"riposte_integration_call_duration_seconds", map[string]string{"integration": "ticketing", "action": "ticket.create", "outcome": "not_configured"}, 1},
		{"riposte_integration_call_duration_seconds", map[string]string{"outcome": "error"}, 0},
		{"riposte_incidents", nil, 1},
		{"riposte_deadlines_overdue", nil, 1},
		{"riposte_deadlines_submitted_late", nil, 0},
	}
	for _, d := range deltas {
		got := after.value(d.name, d.labels) - before.value(d.name, d.labels)
		if got != d.want {
			t.Errorf("%s%v moved by %v, want %v", d.name, d.labels, got, d.want)
		}
	}
	// The overdue clock: about an hour past due, labelled with its stage.
	left, _, ok := after.series("riposte_deadline_seconds_remaining", map[string]string{"regime": "gdpr", "stage": "gdpr-art33-initial"})
	if !ok || left > -3600 || left < -3600-120 {
		t.Errorf("riposte_deadline_seconds_remaining for the clock: %v (present %v), want about -3600", left, ok)
	}

	// The approval latency histogram holds the one response time that the
	// state records; the KPI report computes the same figure.
	_, sumBefore, _ := before.series("riposte_approval_response_seconds", nil)
	_, sumAfter, _ := after.series("riposte_approval_response_seconds", nil)
	st = getIncident(t, r, id)
	a := st.Approvals[0]
	wantResp := a.Decisions[0].At.Sub(a.RequestedAt).Seconds()
	if sumAfter-sumBefore != wantResp || wantResp <= 0 {
		t.Errorf("approval response sum moved by %v, want %v", sumAfter-sumBefore, wantResp)
	}
	code, b = r.do(t, "GET", fmt.Sprintf("/v1/kpi?from=%s&n=60", start.Add(-2*time.Hour).Format(time.RFC3339)), nil)
	var rep struct {
		Incidents        int `json:"incidents"`
		ApprovalResponse struct {
			Count       int     `json:"count"`
			MeanSeconds float64 `json:"mean_seconds"`
		} `json:"approval_response"`
		MTTA struct {
			Count       int     `json:"count"`
			MeanSeconds float64 `json:"mean_seconds"`
		} `json:"mtta"`
		MTTC struct {
			Count int `json:"count"`
		} `json:"mttc"`
		ReportsOnTime struct {
			Overdue int `json:"overdue"`
		} `json:"reports_on_time"`
	}
	if code != 200 || json.Unmarshal(b, &rep) != nil {
		t.Fatalf("kpi: %d %s", code, b)
	}
	wantMTTA := st.Lifecycle.Acknowledged.Sub(st.CreatedAt).Seconds()
	if rep.Incidents != 1 || rep.ApprovalResponse.Count != 1 || rep.ApprovalResponse.MeanSeconds != wantResp ||
		rep.MTTA.Count != 1 || rep.MTTA.MeanSeconds != wantMTTA || rep.MTTC.Count != 1 || rep.ReportsOnTime.Overdue != 1 {
		t.Errorf("kpi %s; want 1 incident, approval response %v, mtta %v, 1 contained, 1 overdue report", b, wantResp, wantMTTA)
	}

	// The Temporal SDK's own metrics are in the same registry and moved.
	for _, name := range []string{"temporal_request_total", "temporal_workflow_task_execution_latency_seconds",
		"temporal_activity_execution_latency_seconds", "temporal_workflow_task_queue_poll_succeed_total"} {
		if after.value(name, nil) <= before.value(name, nil) {
			t.Errorf("%s did not move: %v → %v", name, before.value(name, nil), after.value(name, nil))
		}
	}

	checkDashboard(t, after)
}

var promIdent = regexp.MustCompile(`\b(?:riposte|temporal)_[a-zA-Z0-9_]+`)

// checkDashboard: every metric the Grafana dashboard queries is in the
// scrape (histogram series by their family).
func checkDashboard(t *testing.T, s scrape) {
	t.Helper()
	raw, err := os.ReadFile("../../deploy/grafana/riposte.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	queried := map[string]bool{}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, name := range promIdent.FindAllString(tg.Expr, -1) {
				queried[name] = true
			}
		}
	}
	var missing []string
	for name := range queried {
		if s[name] != nil {
			continue
		}
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_count"), "_sum")
		if f := s[base]; f != nil && f.GetType() == dto.MetricType_HISTOGRAM {
			continue
		}
		missing = append(missing, name)
	}
	sort.Strings(missing)
	if len(queried) < 10 || len(missing) > 0 {
		t.Errorf("dashboard %q queries %d metrics; not in a real scrape: %v", dash.Title, len(queried), missing)
	}
}
