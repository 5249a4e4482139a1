package app

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/riposte-soar/riposte/config"
	"github.com/riposte-soar/riposte/internal/auth"
)

type obligation struct {
	ID               string  `json:"id"`
	StageID          string  `json:"stage_id"`
	Status           string  `json:"status"`
	DueAt            *string `json:"due_at"`
	RemainingSeconds *int64  `json:"remaining_seconds"`
}

// TestDeadlinesAPI starts GDPR and NIS2 clocks for an incident handled
// outside Riposte, lists them with their due times, submits the NIS2
// notification as the compliance officer, and sees the final report armed.
func TestDeadlinesAPI(t *testing.T) {
	cfg := stormConfig(t)
	compTok, compHash, _ := auth.NewToken()
	respTok, respHash, _ := auth.NewToken()
	cfg.Auth.Tokens = append(cfg.Auth.Tokens,
		config.TokenConfig{Name: "dpo", Role: auth.RoleCompliance, SHA256: compHash},
		config.TokenConfig{Name: "soc", Role: auth.RoleResponder, SHA256: respHash})
	cfg.Compliance.PolicyTargets = map[string]string{"gdpr-art34-data-subjects": "24h"}
	r := runApp(t, ModeDev, cfg)
	as := func(tok string) *running { c := *r; c.token = tok; return &c }

	aware := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	code, b := as(compTok).do(t, "POST", "/v1/deadlines", mustJSON(map[string]any{
		"incident_id": "ext-2026-7", "regimes": []string{"gdpr-art33-initial", "gdpr-art34-data-subjects", "nis2"},
		"events": map[string]string{"aware": aware.Format(time.RFC3339)},
	}))
	if code != http.StatusCreated {
		t.Fatalf("start: %d %s", code, b)
	}
	list := func() map[string]obligation {
		code, b := as(respTok).do(t, "GET", "/v1/deadlines?incident=ext-2026-7", nil)
		if code != 200 {
			t.Fatalf("list: %d %s", code, b)
		}
		var out struct {
			Deadlines []obligation `json:"deadlines"`
		}
		_ = json.Unmarshal(b, &out)
		m := map[string]obligation{}
		for _, o := range out.Deadlines {
			m[o.StageID] = o
		}
		return m
	}
	waitFor(t, "obligations listed", 30*time.Second, func() bool { return len(list()) >= 4 })
	got := list()
	want := map[string]string{
		// No legal period: the company target from config.
		"gdpr-art34-data-subjects":   aware.Add(24 * time.Hour).Format(time.RFC3339),
		"gdpr-art33-initial":         aware.Add(72 * time.Hour).Format(time.RFC3339),
		"nis2-early-warning":         aware.Add(24 * time.Hour).Format(time.RFC3339),
		"nis2-incident-notification": aware.Add(72 * time.Hour).Format(time.RFC3339),
	}
	for stage, due := range want {
		o, ok := got[stage]
		if !ok || o.DueAt == nil || *o.DueAt != due || o.Status != "open" || o.RemainingSeconds == nil {
			t.Fatalf("%s: %+v, want open and due %s", stage, o, due)
		}
	}
	if o := got["nis2-final"]; o.DueAt != nil || o.Status != "waiting" {
		t.Fatalf("nis2-final before the notification: %+v, want waiting", o)
	}

	id := got["nis2-incident-notification"].ID
	sub := mustJSON(map[string]any{"reference": "CSIRT-2026-0815", "note": "filed via the national portal"})
	if code, b := as(respTok).do(t, "POST", "/v1/deadlines/"+id+"/submissions", sub); code != http.StatusForbidden {
		t.Fatalf("responder submission: %d %s, want 403", code, b)
	}
	code, b = as(compTok).do(t, "POST", "/v1/deadlines/"+id+"/submissions", sub)
	if code != 200 || !strings.Contains(string(b), `"status":"submitted"`) || !strings.Contains(string(b), "CSIRT-2026-0815") {
		t.Fatalf("submission: %d %s", code, b)
	}
	waitFor(t, "final report armed", 30*time.Second, func() bool {
		o := list()["nis2-final"]
		return o.Status == "open" && o.DueAt != nil
	})
	final := list()["nis2-final"]
	due, _ := time.Parse(time.RFC3339, *final.DueAt)
	if d := due.Sub(time.Now()); d < 27*24*time.Hour || d > 32*24*time.Hour {
		t.Fatalf("nis2-final due %s: want about one month after the submission", *final.DueAt)
	}
	// The early warning is cancelled with a reason.
	ew := got["nis2-early-warning"].ID
	if code, b := as(compTok).do(t, "POST", "/v1/deadlines/"+ew+"/cancellations", mustJSON(map[string]string{})); code != 400 {
		t.Fatalf("cancel without a reason: %d %s", code, b)
	}
	if code, b := as(compTok).do(t, "POST", "/v1/deadlines/"+ew+"/cancellations", mustJSON(map[string]string{"reason": "not a significant incident (NIS2 Art. 23(3))"})); code != 200 {
		t.Fatalf("cancel: %d %s", code, b)
	}
	gdpr := got["gdpr-art33-initial"].ID
	until := aware.Add(10 * 24 * time.Hour).Format(time.RFC3339)
	// GDPR Art. 33 provides no deferral: refused.
	if code, b := as(compTok).do(t, "POST", "/v1/deadlines/"+gdpr+"/deferrals", mustJSON(map[string]string{"until": until, "legal_basis": "law-enforcement request", "document": "LE-2026-11"})); code != 409 {
		t.Fatalf("gdpr deferral: %d %s, want 409", code, b)
	}

	// The audit export carries it all.
	code, csvBody := as(compTok).do(t, "GET", "/v1/deadlines/export.csv?incident=ext-2026-7", nil)
	if code != 200 {
		t.Fatalf("export: %d %s", code, csvBody)
	}
	for _, want := range []string{"CSIRT-2026-0815", "not a significant incident", "nis2-final", "aware=" + aware.Format(time.RFC3339), "2026.11.23-2"} {
		if !strings.Contains(string(csvBody), want) {
			t.Errorf("CSV export lacks %q:\n%s", want, csvBody)
		}
	}
	if code, _ := as(respTok).do(t, "GET", "/v1/deadlines/export.json", nil); code != 403 {
		t.Fatalf("responder export: %d, want 403", code)
	}

	// Metrics: the open clocks' remaining seconds.
	code, metrics := r.do(t, "GET", "/metrics", nil)
	if code != 200 || !strings.Contains(string(metrics), `riposte_deadline_seconds_remaining{regime="gdpr",stage="gdpr-art33-initial"}`) || !strings.Contains(string(metrics), `riposte_deadlines_open{regime="gdpr"} 2`) ||
		strings.Contains(string(metrics), `incident="ext-2026-7"`) ||
		!strings.Contains(string(metrics), "riposte_deadlines_overdue 0") {
		t.Fatalf("metrics (%d) lack the deadline gauges:\n%s", code, grepLines(string(metrics), "riposte_deadline"))
	}

	// Starting the same clocks again starts nothing new.
	code, _ = as(compTok).do(t, "POST", "/v1/deadlines", mustJSON(map[string]any{
		"incident_id": "ext-2026-7", "regimes": []string{"nis2"}, "events": map[string]string{"aware": aware.Format(time.RFC3339)},
	}))
	if code != http.StatusCreated || list()["nis2-incident-notification"].Status != "submitted" {
		t.Fatalf("restart of the same clocks disturbed them (%d)", code)
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// TestBreachPlaybookStartsClocks: a personal-data-breach incident starts
// the GDPR and NIS2 clocks through compliance.start_clocks once the
// compliance officer confirms the assessment.
func TestBreachPlaybookStartsClocks(t *testing.T) {
	cfg := stormConfig(t)
	compTok, compHash, _ := auth.NewToken()
	cfg.Auth.Tokens = append(cfg.Auth.Tokens, config.TokenConfig{Name: "dpo", Role: auth.RoleCompliance, SHA256: compHash})
	cfg.Ingest.Routes = []config.RouteConfig{{Name: "breach", Match: `alert.source == "sentinel"`, Playbook: "personal-data-breach", GroupBy: "alert.id"}}
	r := runApp(t, ModeDev, cfg)
	dpo := *r
	dpo.token = compTok
	body := mustRead(t, "../../alerts/testdata/fixtures/sentinel/restapi_2023-02-01_GetIncidentById_body.json")
	code, b := r.do(t, "POST", "/v1/alerts/sentinel", body)
	var acc struct {
		Accepted []struct {
			IncidentID string `json:"incident_id"`
		} `json:"accepted"`
	}
	if code != 202 || json.Unmarshal(b, &acc) != nil || len(acc.Accepted) != 1 {
		t.Fatalf("post: %d %s", code, b)
	}
	id := acc.Accepted[0].IncidentID
	waitFor(t, "assessment pending", 30*time.Second, func() bool {
		st := getIncident(t, r, id)
		return len(st.Approvals) == 1 && st.Approvals[0].Step == "assess"
	})
	if code, b := dpo.do(t, "POST", "/v1/incidents/"+id+"/approvals/assess", mustJSON(map[string]string{"decision": "approve"})); code != 200 {
		t.Fatalf("assess: %d %s", code, b)
	}
	created := getIncident(t, r, id).CreatedAt
	waitFor(t, "clocks started", 30*time.Second, func() bool {
		code, b := dpo.do(t, "GET", "/v1/deadlines?incident="+id, nil)
		return code == 200 && strings.Contains(string(b), "gdpr-art33-initial") && strings.Contains(string(b), "nis2-early-warning")
	})
	_, b = dpo.do(t, "GET", "/v1/deadlines?incident="+id+"&regime=gdpr", nil)
	var out struct {
		Deadlines []obligation `json:"deadlines"`
	}
	_ = json.Unmarshal(b, &out)
	found := false
	for _, o := range out.Deadlines {
		if o.StageID == "gdpr-art33-initial" {
			found = true
			want := created.Add(72 * time.Hour).UTC().Format(time.RFC3339)
			if o.DueAt == nil || !strings.HasPrefix(*o.DueAt, want[:19]) {
				t.Fatalf("gdpr due %v, want %s (incident created %s + 72 h)", o.DueAt, want, created)
			}
		}
	}
	if !found {
		t.Fatalf("regime filter: %s", b)
	}
	st := getIncident(t, r, id)
	for _, a := range st.Actions {
		if a.Action == "compliance.start_clocks" && a.Status != "succeeded" {
			t.Fatalf("start_clocks %+v", a)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// grepLines keeps the lines of s that contain substr.
func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
