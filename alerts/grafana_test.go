package alerts

import (
	"fmt"
	"strings"
	"testing"
)

func aGFGroup(extra string, alerts ...string) string {
	return fmt.Sprintf(`{"receiver":"wh","orgId":1,"alerts":[%s],"groupLabels":{},"commonLabels":{"team":"blue"},"commonAnnotations":{},"externalURL":"https://g/","version":"1","groupKey":"{}:{}","truncatedAlerts":0,"title":"[FIRING:1] (blue)"%s}`,
		strings.Join(alerts, ","), extra)
}

var aGrafanaCases = []aCase{
	{
		name: "severity label and fingerprint id",
		body: aGFGroup(`,"status":"firing","state":"alerting"`, `{"status":"firing","labels":{"alertname":"CPU","severity":"critical","instance":"db1:9100"},"annotations":{},"startsAt":"2024-01-01T01:00:00+01:00","endsAt":"0001-01-01T00:00:00Z","fingerprint":"00ff00ff","valueString":"[ var='B' value=97 ]","dashboardURL":"","values":{"B":97}}`),
		check: aAll(
			aWantOne("grafana:00ff00ff/2024-01-01T00:00:00Z", "CPU", SeverityCritical, StatusFiring, "2024-01-01T00:00:00Z"),
			aWantObs("hostname", "db1"),
			aWantLabels("orgId", "1", "team", "blue", "valueString", "[ var='B' value=97 ]", "value.B", "97", "dashboardURL", "<absent>"),
		),
	},
	{
		name:  "missing severity gives the default",
		body:  aGFGroup(`,"status":"firing"`, `{"labels":{"alertname":"CPU"},"startsAt":"2024-01-01T00:00:00Z","fingerprint":"1"}`),
		check: aWantOne("", "", SeverityMedium, StatusFiring, ""),
	},
	{
		name:  "missing severity gives the configured default",
		body:  aGFGroup(`,"status":"firing"`, `{"labels":{"alertname":"CPU"},"startsAt":"2024-01-01T00:00:00Z","fingerprint":"1"}`),
		opts:  Options{DefaultSeverity: SeverityInformational},
		check: aWantOne("", "", SeverityInformational, "", ""),
	},
	{
		name:  "resolved alert",
		body:  aGFGroup(`,"status":"resolved","state":"ok"`, `{"status":"resolved","labels":{"alertname":"CPU"},"startsAt":"2024-01-01T00:00:00Z","endsAt":"2024-01-01T00:05:00Z","fingerprint":"1"}`),
		check: aWantOne("", "", "", StatusResolved, ""),
	},
	{
		name:  "no status anywhere: state ok means resolved",
		body:  aGFGroup(`,"state":"ok"`, `{"labels":{"alertname":"CPU"},"startsAt":"2024-01-01T00:00:00Z","fingerprint":"1"}`),
		check: aWantOne("", "", "", StatusResolved, ""),
	},
	{
		name:  "no status and no state: firing",
		body:  aGFGroup(``, `{"labels":{"alertname":"CPU"},"startsAt":"2024-01-01T00:00:00Z","fingerprint":"1"}`),
		check: aWantOne("", "", "", StatusFiring, ""),
	},
	{
		name:  "no summary and no alertname: the group title",
		body:  aGFGroup(`,"status":"firing"`, `{"labels":{"rule_uid":"x"},"startsAt":"2024-01-01T00:00:00Z","fingerprint":"1"}`),
		check: aWantOne("", "[FIRING:1] (blue)", "", "", ""),
	},
	{
		name: "two alerts, distinct ids",
		body: aGFGroup(`,"status":"firing"`,
			`{"labels":{"alertname":"CPU"},"startsAt":"2024-01-01T00:00:00Z","fingerprint":"1"}`,
			`{"labels":{"alertname":"CPU"},"startsAt":"2024-01-01T00:00:00Z","fingerprint":"2"}`),
		n: 2,
		check: func(t *testing.T, as []Alert) {
			if as[0].ID == as[1].ID {
				t.Errorf("same id %s", as[0].ID)
			}
		},
	},
	{name: "alertmanager v4 body", body: `{"version":"4","status":"firing","alerts":[{"labels":{"alertname":"A"},"startsAt":"2024-01-01T00:00:00Z"}]}`,
		wantErr: []string{`grafana: expected a Grafana unified-alerting webhook with an "alerts" array (version 1), got version "4"`}},
	{name: "legacy grafana notification", body: `{"title":"[Alerting] CPU","ruleId":1,"ruleName":"CPU","state":"alerting","evalMatches":[{"value":100,"metric":"cpu"}],"message":"m"}`,
		wantErr: []string{`grafana: expected a Grafana unified-alerting webhook`, `got a legacy Grafana alerting notification`}},
	{name: "empty alerts", body: `{"version":"1","alerts":[]}`,
		wantErr: []string{`grafana: expected`, `got an empty "alerts" array`}},
	{name: "alert without startsAt", body: `{"version":"1","alerts":[{"labels":{"alertname":"A"}}]}`,
		wantErr: []string{`grafana: alerts[0]: startsAt: missing time`}},
}

func TestGrafanaCases(t *testing.T) { aRunCases(t, Grafana{}, aGrafanaCases) }
