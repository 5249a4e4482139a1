package alerts

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// aAMGroup wraps alert objects in an Alertmanager v4 group.
func aAMGroup(status string, alerts ...string) string {
	return fmt.Sprintf(`{"receiver":"team","status":%q,"alerts":[%s],"groupLabels":{},"commonLabels":{"job":"node","env":"prod"},"commonAnnotations":{},"externalURL":"http://am:9093","version":"4","groupKey":"{}:{alertname=\"A\"}","truncatedAlerts":0}`,
		status, strings.Join(alerts, ","))
}

func aAMAlert(status, labels, annotations, startsAt, extra string) string {
	return fmt.Sprintf(`{"status":%q,"labels":{%s},"annotations":{%s},"startsAt":%q,"endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prom/graph"%s}`,
		status, labels, annotations, startsAt, extra)
}

const aAMStart = "2024-05-06T07:08:09.5Z"

var aAlertmanagerCases = []aCase{
	{
		name: "missing severity gives medium",
		body: aAMGroup("firing", aAMAlert("firing", `"alertname":"A"`, ``, aAMStart, ``)),
		check: aWantOne(
			MakeID("alertmanager", HashFields(map[string]string{"alertname": "A"}), "2024-05-06T07:08:09.5Z"),
			"A", SeverityMedium, StatusFiring, "2024-05-06T07:08:09.5Z"),
	},
	{
		name:  "missing severity gives the configured default",
		body:  aAMGroup("firing", aAMAlert("firing", `"alertname":"A"`, ``, aAMStart, ``)),
		opts:  Options{DefaultSeverity: SeverityHigh},
		check: aWantOne("", "", SeverityHigh, "", ""),
	},
	{
		name:  "an invalid configured default gives medium",
		body:  aAMGroup("firing", aAMAlert("firing", `"alertname":"A"`, ``, aAMStart, ``)),
		opts:  Options{DefaultSeverity: "urgent"},
		check: aWantOne("", "", SeverityMedium, "", ""),
	},
	{
		name:  "unknown severity label gives the default",
		body:  aAMGroup("firing", aAMAlert("firing", `"alertname":"A","severity":"sev2"`, ``, aAMStart, ``)),
		opts:  Options{DefaultSeverity: SeverityLow},
		check: aWantOne("", "", SeverityLow, "", ""),
	},
	{
		name:  "resolved alert in a firing group",
		body:  aAMGroup("firing", aAMAlert("resolved", `"alertname":"A","severity":"critical"`, ``, aAMStart, `,"endsAt":"2024-05-06T08:00:00Z"`)),
		check: aWantOne("", "A", SeverityCritical, StatusResolved, "2024-05-06T07:08:09.5Z"),
	},
	{
		// Alertmanager sometimes sends endsAt zero on resolved alerts.
		name:  "resolved with a zero endsAt is still resolved",
		body:  aAMGroup("resolved", aAMAlert("resolved", `"alertname":"A"`, ``, aAMStart, ``)),
		check: aWantOne("", "", "", StatusResolved, ""),
	},
	{
		name:  "alert without status takes the group's",
		body:  aAMGroup("resolved", `{"labels":{"alertname":"A"},"startsAt":"2024-05-06T07:08:09Z"}`),
		check: aWantOne("", "", "", StatusResolved, "2024-05-06T07:08:09Z"),
	},
	{
		name:  "a firing alert in a resolved group stays firing",
		body:  aAMGroup("resolved", aAMAlert("firing", `"alertname":"A"`, ``, aAMStart, ``)),
		check: aWantOne("", "", "", StatusFiring, ""),
	},
	{
		name:  "fingerprint and an offset startsAt give a UTC id",
		body:  aAMGroup("firing", aAMAlert("firing", `"alertname":"A"`, ``, "2024-05-06T09:08:09+02:00", `,"fingerprint":"3f2a9c0d1e"`)),
		check: aWantOne("alertmanager:3f2a9c0d1e/2024-05-06T07:08:09Z", "", "", "", "2024-05-06T07:08:09Z"),
	},
	{
		name: "labels merge over commonLabels, annotations are prefixed, summary is the title",
		body: aAMGroup("firing", aAMAlert("firing", `"alertname":"DiskFull","env":"staging","severity":"warning"`,
			`"summary":"Disk almost full","runbook":"http://rb"`, aAMStart, ``)),
		check: aAll(
			aWantOne("", "Disk almost full", SeverityMedium, "", ""),
			aWantLabels("alertname", "DiskFull", "env", "staging", "job", "node", "severity", "warning",
				"annotation.summary", "Disk almost full", "annotation.runbook", "http://rb",
				"groupKey", `{}:{alertname="A"}`, "receiver", "team"),
		),
	},
	{
		name: "instance host:port and address labels are typed",
		body: aAMGroup("firing", aAMAlert("firing",
			`"alertname":"A","instance":"Node1.example.com:9100","hostname":"WEB01","ip":"10.0.0.1:80","src_ip":"not-an-ip","dst_ip":"2001:db8::1","user":"alice","username":"bob"`,
			``, aAMStart, ``)),
		check: aWantObs("hostname", "node1.example.com", "hostname", "web01", "ip", "10.0.0.1", "ip", "2001:db8::1", "user", "alice", "user", "bob"),
	},
	{
		name:  "IPv6 instance with a port",
		body:  aAMGroup("firing", aAMAlert("firing", `"alertname":"A","instance":"[2001:db8::7]:9100"`, ``, aAMStart, ``)),
		check: aWantObs("ip", "2001:db8::7"),
	},
	{
		name: "one alert per element, each with its own raw",
		body: aAMGroup("firing",
			aAMAlert("firing", `"alertname":"A","instance":"a:1"`, ``, aAMStart, ``),
			aAMAlert("firing", `"alertname":"A","instance":"b:1"`, ``, aAMStart, ``)),
		n: 2,
		check: func(t *testing.T, as []Alert) {
			if as[0].ID == as[1].ID {
				t.Errorf("two alerts share id %s", as[0].ID)
			}
			want := aAMAlert("firing", `"alertname":"A","instance":"b:1"`, ``, aAMStart, ``)
			if string(as[1].Raw) != want {
				t.Errorf("raw = %s, want %s", as[1].Raw, want)
			}
		},
	},
	{
		name: "no version field is accepted",
		body: `{"status":"firing","alerts":[{"labels":{"alertname":"A"},"startsAt":"2024-05-06T07:08:09Z"}]}`,
	},
	{name: "wazuh alert", body: `{"timestamp":"2020-04-17T00:17:53.159+0000","rule":{"level":5,"id":"5716"},"id":"1.2"}`,
		wantErr: []string{`alertmanager: expected a webhook with an "alerts" array (version 4), got a JSON object without "alerts"`}},
	{name: "empty alerts", body: `{"version":"4","alerts":[]}`,
		wantErr: []string{`alertmanager: expected a webhook with an "alerts" array (version 4), got an empty "alerts" array`}},
	{name: "alerts not an array", body: `{"alerts":{}}`,
		wantErr: []string{`got "alerts" as an empty JSON object`}},
	{name: "alert not an object", body: `{"alerts":[1]}`,
		wantErr: []string{`alertmanager: alerts[0]: expected an alert object, got a JSON number (1)`}},
	{name: "grafana version", body: `{"version":"1","alerts":[{"labels":{"alertname":"A"},"startsAt":"2024-05-06T07:08:09Z"}]}`,
		wantErr: []string{`got version "1" (a Grafana webhook: use the grafana format)`}},
	{name: "missing startsAt", body: `{"alerts":[{"labels":{"alertname":"A"}}]}`,
		wantErr: []string{`alertmanager: alerts[0]: startsAt: missing time`}},
	{name: "bad startsAt", body: `{"alerts":[{"labels":{"alertname":"A"},"startsAt":"yesterday"}]}`,
		wantErr: []string{`alertmanager: alerts[0]: startsAt: unrecognised time "yesterday"`}},
	{name: "zero startsAt", body: `{"alerts":[{"labels":{"alertname":"A"},"startsAt":"0001-01-01T00:00:00Z"}]}`,
		wantErr: []string{`alerts[0]: startsAt: zero time`}},
	{name: "labels not an object", body: `{"alerts":[{"labels":"a=b","startsAt":"2024-05-06T07:08:09Z"}]}`,
		wantErr: []string{`alerts[0]: expected "labels" to be an object, got a JSON string ("a=b")`}},
	{name: "empty alert object", body: `{"alerts":[{}]}`,
		wantErr: []string{`alerts[0]: expected an alert object with "labels" and "startsAt", got an empty JSON object`}},
	{name: "second alert bad", body: aAMGroup("firing", aAMAlert("firing", `"alertname":"A"`, ``, aAMStart, ``), `[]`),
		wantErr: []string{`alertmanager: alerts[1]: expected an alert object, got an empty JSON array`}},
}

func TestAlertmanagerCases(t *testing.T) { aRunCases(t, Alertmanager{}, aAlertmanagerCases) }

// DESIGN.md's label table, through the normaliser.
func TestAlertmanagerSeverityLabels(t *testing.T) {
	for label, want := range map[string]Severity{
		"critical": SeverityCritical, "crit": SeverityCritical, "page": SeverityCritical, "emergency": SeverityCritical, "fatal": SeverityCritical,
		"high": SeverityHigh, "error": SeverityHigh, "err": SeverityHigh, "major": SeverityHigh,
		"warning": SeverityMedium, "warn": SeverityMedium, "medium": SeverityMedium, "minor": SeverityMedium,
		"low": SeverityLow, "info": SeverityInformational, "informational": SeverityInformational, "none": SeverityInformational,
		" Critical ": SeverityCritical, "": SeverityLow, "p1": SeverityLow,
	} {
		body := aAMGroup("firing", aAMAlert("firing", fmt.Sprintf(`"alertname":"A","severity":%q`, label), ``, aAMStart, ``))
		if got := aSev(t, Alertmanager{}, body, SeverityLow); got != want {
			t.Errorf("severity %q: got %s, want %s", label, got, want)
		}
	}
}

func TestAlertmanagerStableIDs(t *testing.T) {
	base := aAMAlert("firing", `"alertname":"A","instance":"h:1"`, ``, aAMStart, ``)
	variants := []string{
		aAMAlert("firing", `"alertname":"A","instance":"h:2"`, ``, aAMStart, ``),               // other labels
		aAMAlert("firing", `"alertname":"A","instance":"h:1"`, ``, "2024-05-06T07:08:10Z", ``), // other start
		aAMAlert("firing", `"alertname":"A","instance":"h:1"`, ``, aAMStart, `,"fingerprint":"ab"`),
	}
	id := func(alert string) string {
		return aNormalize(t, Alertmanager{}, aAMGroup("firing", alert), Options{})[0].ID
	}
	b := id(base)
	if b != id(base) {
		t.Fatal("same alert, different ids")
	}
	// Annotations, status and group fields are not part of the identity.
	same := aAMAlert("resolved", `"alertname":"A","instance":"h:1"`, `"summary":"changed"`, aAMStart, ``)
	if id(same) != b {
		t.Errorf("annotations/status changed the id")
	}
	seen := map[string]bool{b: true}
	for _, v := range variants {
		i := id(v)
		if seen[i] {
			t.Errorf("id %s repeats for %s", i, v)
		}
		seen[i] = true
	}
}

// The Alertmanager fixture sent to the Grafana normaliser and back.
func TestAlertmanagerGrafanaVersions(t *testing.T) {
	am, err := os.ReadFile("testdata/fixtures/alertmanager/alertmonitor_firing_icmp.json")
	if err != nil {
		t.Fatal(err)
	}
	aNormalizeErr(t, Grafana{}, string(am), `grafana: expected a Grafana unified-alerting webhook`, `got version "4" (an Alertmanager webhook: use the alertmanager format)`)
	gr, err := os.ReadFile("testdata/fixtures/grafana/grafana_docs_webhook_firing.json")
	if err != nil {
		t.Fatal(err)
	}
	aNormalizeErr(t, Alertmanager{}, string(gr), `alertmanager: expected a webhook with an "alerts" array (version 4), got version "1"`)
}
