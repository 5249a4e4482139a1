package alerts

import (
	"strings"
	"testing"
	"time"
)

func TestRouterFirstMatchWins(t *testing.T) {
	r, err := NewRouter([]RouteSpec{
		{Name: "drop-info", Match: `alert.severity == "informational"`, Suppress: true},
		{Name: "ssh", Match: `alert.source == "wazuh" && alert.labels["rule.id"] == "5716"`, Playbook: "ssh-bruteforce",
			GroupBy: `alert.labels["rule.id"] + "/" + host`, GroupWindow: time.Hour},
		{Name: "am", Match: `alert.source == "alertmanager"`, Playbook: "infra", GroupBy: `alert.labels.alertname + "/" + host`},
	}, RouteSpec{Playbook: "triage", GroupBy: `alert.source + "/" + alert.title`})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 23, 10, 5, 0, 0, time.UTC)
	wazuh := Alert{Source: "wazuh", ID: "wazuh:1", Title: "sshd: authentication failed", Severity: SeverityLow, ObservedAt: t0,
		Labels: map[string]string{"rule.id": "5716"}, Observables: []Observable{{ObsIP, "10.0.0.1"}, {ObsHostname, "web-1"}}}
	tests := []struct {
		name  string
		alert Alert
		want  Decision
	}{
		{"suppressed", Alert{Source: "x", ID: "x:1", Severity: SeverityInformational}, Decision{Route: "drop-info", Suppressed: true}},
		{"wazuh ssh", wazuh, Decision{Route: "ssh", Playbook: "ssh-bruteforce", GroupKey: "5716/web-1"}},
		{"host falls back to ip", Alert{Source: "alertmanager", ID: "am:1", Severity: SeverityHigh,
			Labels: map[string]string{"alertname": "HostDown"}, Observables: []Observable{{ObsIP, "192.0.2.1"}}},
			Decision{Route: "am", Playbook: "infra", GroupKey: "HostDown/192.0.2.1"}},
		{"missing label groups by alert id", Alert{Source: "alertmanager", ID: "am:2", Severity: SeverityHigh, Labels: map[string]string{}},
			Decision{Route: "am", Playbook: "infra", GroupKey: "alert:am:2"}},
		{"default", Alert{Source: "suricata", ID: "s:1", Title: "ET SCAN", Severity: SeverityHigh},
			Decision{Route: "default", Playbook: "triage", GroupKey: "suricata/ET SCAN"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := r.Route(tc.alert)
			if got.Route != tc.want.Route || got.Playbook != tc.want.Playbook || got.Suppressed != tc.want.Suppressed || got.GroupKey != tc.want.GroupKey {
				t.Fatalf("Route = %+v, want %+v", got, tc.want)
			}
			if tc.want.Suppressed != (got.IncidentID == "") {
				t.Fatalf("incident id %q for suppressed=%v", got.IncidentID, got.Suppressed)
			}
		})
	}

	// Same group and window: same incident; another window: another.
	a := r.Route(wazuh)
	later := wazuh
	later.ObservedAt = t0.Add(20 * time.Minute)
	if b := r.Route(later); b.IncidentID != a.IncidentID {
		t.Fatalf("same window, different incidents: %s %s", a.IncidentID, b.IncidentID)
	}
	later.ObservedAt = t0.Add(2 * time.Hour)
	if c := r.Route(later); c.IncidentID == a.IncidentID {
		t.Fatal("next window joined the old incident")
	}
}

func TestRouterCompileErrors(t *testing.T) {
	_, err := NewRouter([]RouteSpec{
		{Name: "bad-syntax", Match: `alert.severity ==`, Playbook: "p", GroupBy: "alert.id"},
		{Name: "not-bool", Match: `"yes"`, Playbook: "p", GroupBy: "alert.id"},
		{Name: "not-string", Playbook: "p", GroupBy: `1 + 2`},
	}, RouteSpec{Playbook: "p"})
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{`route "bad-syntax": match:`, `route "not-bool": match: must give a bool`,
		`route "not-string": group_by: must give a string`, `route "default": group_by: required`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
