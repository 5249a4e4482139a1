package alerts

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Expected values below were read off the fixtures by hand and checked
// against DESIGN.md's severity table and testdata/fixtures/README.md.

type bWant struct {
	id, title string
	sev       Severity
	status    Status
	at        string // RFC 3339 UTC
	obs       []Observable
	noObs     []Observable // must not be there
	labels    map[string]string
}

func TestFixturesB(t *testing.T) {
	tests := []struct {
		file string
		n    Normalizer
		want []bWant
	}{
		{
			file: "graylog/graylog_notify_aggregation_with_fields.json",
			n:    Graylog{},
			want: []bWant{{
				id:     "graylog:01HE51TMQT0G3V67XKXRBQP05W",
				title:  "Error and Warn",
				sev:    SeverityHigh, // priority 3
				status: StatusFiring,
				at:     "2023-11-01T09:00:35.664Z",
				obs:    []Observable{{ObsHostname, "497115bebf4d"}},
				labels: map[string]string{
					"event_definition_id":   "65420b968189520c8fe81364",
					"event_definition_type": "aggregation-v1",
					"field.tag":             "stg",
				},
			}},
		},
		{
			file: "suricata/suricata_docs_eve_alert_example.json",
			n:    Suricata{},
			want: []bWant{{
				// MakeID("suricata", "586497171462735", "4", "2018358",
				// "2017-04-07T22:24:37.251547+0100"), hashed because of the "+".
				id:     "suricata:53928390a94a3bc0efe0412b8bd60952",
				title:  "ET HUNTING GENERIC SUSPICIOUS POST to Dotted Quad with Fake Browser 1",
				sev:    SeverityMedium, // alert.severity 2
				status: StatusFiring,
				at:     "2017-04-07T21:24:37.251547Z", // +0100
				obs:    []Observable{{ObsIP, "192.168.2.14"}, {ObsIP, "209.53.113.5"}},
				labels: map[string]string{
					"signature_id": "2018358", "rev": "10", "category": "Potentially Bad Traffic",
					"proto": "TCP", "src_port": "50096", "dest_port": "80", "app_proto": "http", "action": "allowed",
				},
			}},
		},
		{
			file: "crowdstrike/elastic_integrations_epp_detection_summary_ngav_blocked.json",
			n:    CrowdStrike{},
			want: []bWant{{
				id:     "crowdstrike:44be50f58ccfcfcfcfcfcfcfcffc:ind:c8d1292a8a904216aa25ab728f4b45fd:11111111111-2222-3333333",
				title:  "NGAV",
				sev:    SeverityLow,              // SeverityName "Low"
				status: StatusFiring,             //
				at:     "2023-06-15T16:06:52.4Z", // eventCreationTime 1686845212400 ms
				obs: []Observable{
					{ObsHostname, "desktop1111"},
					{ObsUser, "USER11111"},
					{ObsIP, "81.2.69.144"},
					{ObsHashSHA256, "faf0c5e4ef7dbcfd863377c55a4d1d87a3f6a58c13a8a9882e11012066f31976"},
					{ObsHashMD5, "848a53dc549be0386e5da0f49700c389"},
					{ObsFile, `\Device\HarddiskVolume2\Program Files (x86)\Remote Utilities - Host\rfusclient.exe`},
					{ObsProcess, `"C:\Program Files (x86)\Remote Utilities - Host\rfusclient.exe" /rsession`},
				},
				noObs: []Observable{{ObsHashSHA1, "0000000000000000000000000000000000000000"}},
				labels: map[string]string{
					"eventType": "EPPDetectionSummaryEvent", "Tactic": "Malware", "Technique": "PUP",
					"Objective":                     "Falcon Detection Method",
					"PatternDispositionDescription": "Prevention, process was blocked from execution.",
				},
			}},
		},
		{
			file: "qradar/xsoar_qradar_v3_offense_15_multiple_login_failures.json",
			n:    QRadar{},
			want: []bWant{{
				id:     "qradar:15",
				title:  "Multiple Login Failures for the Same User containing Failure Audit: The domain controller failed to validate the credentials for an account",
				sev:    SeverityLow, // severity 3
				status: StatusFiring,
				at:     "2021-02-15T13:21:36.537Z", // start_time 1613395296537 ms
				obs:    []Observable{{ObsUser, "yarden"}},
				// source_address_ids [2, 1] are record ids, not addresses.
				noObs: []Observable{{ObsIP, "0.0.0.2"}, {ObsIP, "0.0.0.1"}},
				labels: map[string]string{
					"magnitude": "1", "credibility": "2", "relevance": "0", "offense_type": "3",
					"categories": "General Authentication Failed,User Login Failure", "domain_id": "0",
					"follow_up": "false", "status": "OPEN", "event_count": "15",
				},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := bReadFixture(t, tt.file)
			opts := Options{Source: "src-" + strings.Split(tt.file, "/")[0]}
			got, err := tt.n.Normalize(body, opts)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d alerts, want %d", len(got), len(tt.want))
			}
			bCheckAlerts(t, got, opts)
			for i, w := range tt.want {
				bCheckWant(t, got[i], w)
			}
			// The only record is the whole body.
			if len(got) == 1 && !bytes.Equal(bytes.TrimSpace(got[0].Raw), bytes.TrimSpace(body)) {
				t.Errorf("raw is not the body")
			}
		})
	}
}

// The published TheHive example is a creation body without "date"; TheHive
// stamps such an alert with its arrival time, and so does Riposte when the
// handler gives it one.
func TestFixtureTheHiveB(t *testing.T) {
	body := bReadFixture(t, "thehive/thehivedocs_create_alert_with_artifacts.json")
	if _, err := (TheHive{}).Normalize(body, Options{}); err == nil || !strings.Contains(err.Error(), "thehive: no date") {
		t.Fatalf("without an arrival time: err = %v, want thehive: no date", err)
	}
	received := time.Date(2026, 11, 23, 9, 30, 0, 0, time.FixedZone("CET", 3600))
	asPublished, err := (TheHive{}).Normalize(body, Options{Source: "hive", ReceivedAt: received})
	if err != nil {
		t.Fatal(err)
	}
	if len(asPublished) != 1 || !asPublished[0].ObservedAt.Equal(received) || asPublished[0].ObservedAt.Location() != time.UTC ||
		asPublished[0].Labels["riposte.time_source"] != "received" || asPublished[0].ID != "thehive:external/instance1/alert-ref" {
		t.Fatalf("as published: %+v", asPublished)
	}

	// The same body with a date, as TheHive's webhook would carry it.
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	m["date"] = json.Number("1700000000000")
	dated, _ := json.Marshal(m)
	opts := Options{Source: "hive"}
	got, err := (TheHive{}).Normalize(dated, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d alerts, want 1", len(got))
	}
	bCheckAlerts(t, got, opts)
	bCheckWant(t, got[0], bWant{
		id:     "thehive:external/instance1/alert-ref",
		title:  "Other alert",
		sev:    SeverityHigh, // severity 3
		status: StatusFiring,
		at:     "2023-11-14T22:13:20Z",
		obs:    []Observable{{ObsIP, "127.0.0.1"}, {ObsDomain, "thehive-project.org"}, {ObsFile, "logo.svg"}},
		labels: map[string]string{"type": "external", "source": "instance1", "sourceRef": "alert-ref", "tlp": "3",
			"caseTemplate": "external-alert"},
	})
	if len(got[0].Observables) != 3 {
		t.Errorf("observables = %v, want exactly 3", got[0].Observables)
	}
}

func bElasticMapping() GenericMapping {
	return GenericMapping{
		ID:       "$.kibana.alert.uuid", // a dotted key, found by the dotted-key fallback
		Title:    "$['kibana.alert.rule.name']",
		Severity: "$['kibana.alert.severity']",
		Time:     "$['@timestamp']",
		Status:   `event["kibana.alert.status"] == "recovered" ? "resolved" : "firing"`,
		Observables: []GenericObservable{
			{Type: ObsHostname, Value: "$.host.name"},
			{Type: ObsIP, Value: "$.host.ip"},
			{Type: ObsHostname, Value: "$.threat.enrichments[*].matched.atomic"},
		},
		Labels: map[string]string{
			"rule_uuid":  "$['kibana.alert.rule.uuid']",
			"risk_score": "$['kibana.alert.risk_score']",
			"reason":     `event["kibana.alert.reason"]`,
			"agent":      "$.agent.name",
		},
	}
}

func bDatadogMapping() GenericMapping {
	return GenericMapping{
		// The cycle key links the trigger and the recovery of one alert.
		ID:       `event.?alert_cycle_key.orValue("") != "" ? event.alert_cycle_key : string(event.event_id)`,
		Title:    "$.event_title",
		Severity: "$.alert_priority",
		SeverityMap: map[string]string{
			"P1": "critical", "P2": "high", "P3": "medium", "P4": "low", "P5": "informational",
		},
		Time:   "$.date",
		Status: "$.alert_transition",
		Observables: []GenericObservable{
			{Type: ObsHostname, Value: "$.hostname"},
			{Type: ObsHostname, Value: `event.alert_scope.split(",").map(s, s.trim()).filter(s, s.startsWith("host:")).map(s, s.substring(5))`},
			{Type: ObsURL, Value: "$.link"},
		},
		Labels: map[string]string{
			"monitor_id":   "$.alert_id",
			"event_id":     "$.event_id",
			"event_id_cel": "string(event.event_id)",
			"org":          "$.org.name",
			"metric":       "$.alert_metric",
			"tags":         `event.tags.split(",")`,
			"transition":   "$.alert_transition",
		},
	}
}

func TestFixturesGenericB(t *testing.T) {
	t.Run("elastic", func(t *testing.T) {
		g, err := NewGeneric("elastic", bElasticMapping())
		if err != nil {
			t.Fatal(err)
		}
		body := bReadFixture(t, "elastic/kibana_es_archive_8.1.0_threat_match_alert.json")
		opts := Options{Source: "kibana"}
		got, err := g.Normalize(body, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 {
			t.Fatalf("got %d alerts, want 1", len(got))
		}
		bCheckAlerts(t, got, opts)
		bCheckWant(t, got[0], bWant{
			id:     "elastic:30a75fe46d3dbdfab55982036f77a8d60e2d1112e96f277c3b8c22f9bb57817a",
			title:  "threat-match-rule",
			sev:    SeverityLow,
			status: StatusFiring, // kibana.alert.status active
			at:     "2022-03-19T02:48:12.634Z",
			obs:    []Observable{{ObsHostname, "security-linux-1"}, {ObsIP, "11.200.0.194"}},
			labels: map[string]string{
				"rule_uuid":  "031d5c00-a72f-11ec-a8a3-7b1c8077fc3e",
				"risk_score": "21",
				"reason":     "event on security-linux-1 created low alert threat-match-rule.",
				"agent":      "security-linux-1.example.dev",
			},
		})
		if n := len(got[0].Observables); n != 2 {
			t.Errorf("observables = %v, want 2 (the matched atomic is the same host)", got[0].Observables)
		}
	})

	t.Run("datadog", func(t *testing.T) {
		g, err := NewGeneric("datadog", bDatadogMapping())
		if err != nil {
			t.Fatal(err)
		}
		body, err := os.ReadFile(filepath.Join("testdata", "generic", "datadog_webhook.json"))
		if err != nil {
			t.Fatal(err)
		}
		opts := Options{Source: "datadog", DefaultSeverity: SeverityLow}
		got, err := g.Normalize(body, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 {
			t.Fatalf("got %d alerts, want 1", len(got))
		}
		bCheckAlerts(t, got, opts)
		bCheckWant(t, got[0], bWant{
			id:     "datadog:7412305981146400001",
			title:  "[Triggered on {host:web-03.prod.example.com}] High CPU on web-03",
			sev:    SeverityHigh, // P2
			status: StatusFiring, // Triggered
			at:     "2024-07-01T14:12:03Z",
			obs: []Observable{
				{ObsHostname, "web-03.prod.example.com"},
				{ObsURL, "https://app.datadoghq.com/event/event?id=7412305981146412345"},
			},
			labels: map[string]string{
				"monitor_id":   "98765432",
				"event_id":     "7412305981146412345", // above 2^53: exact
				"event_id_cel": "7412305981146412345",
				"org":          "Example Corp",
				"metric":       "system.cpu.user",
				"tags":         "env:prod,role:frontend,service:checkout,host:web-03.prod.example.com",
				"transition":   "Triggered",
			},
		})
		if n := len(got[0].Observables); n != 2 {
			t.Errorf("observables = %v, want 2 (scope host deduplicated)", got[0].Observables)
		}

		// The recovery of the same alert: same ID, resolved.
		rec := bytes.Replace(body, []byte(`"Triggered"`), []byte(`"Recovered"`), 1)
		rec = bytes.Replace(rec, []byte(`"P2"`), []byte(`"P5"`), 1)
		got2, err := g.Normalize(rec, opts)
		if err != nil {
			t.Fatal(err)
		}
		if got2[0].ID != got[0].ID || got2[0].Status != StatusResolved || got2[0].Severity != SeverityInformational {
			t.Errorf("recovery: id %q status %q severity %q", got2[0].ID, got2[0].Status, got2[0].Severity)
		}
	})
}

// Helpers shared by this engineer's tests.

func bReadFixture(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func bCheckWant(t *testing.T, a Alert, w bWant) {
	t.Helper()
	if a.ID != w.id {
		t.Errorf("id = %q, want %q", a.ID, w.id)
	}
	if a.Title != w.title {
		t.Errorf("title = %q, want %q", a.Title, w.title)
	}
	if a.Severity != w.sev {
		t.Errorf("severity = %q, want %q", a.Severity, w.sev)
	}
	if a.Status != w.status {
		t.Errorf("status = %q, want %q", a.Status, w.status)
	}
	at, err := time.Parse(time.RFC3339Nano, w.at)
	if err != nil {
		t.Fatal(err)
	}
	if !a.ObservedAt.Equal(at) || a.ObservedAt.Location() != time.UTC {
		t.Errorf("observed_at = %v, want %v UTC", a.ObservedAt, at)
	}
	for _, o := range w.obs {
		if !bHasObs(a, o) {
			t.Errorf("observable %s %q missing from %v", o.Type, o.Value, a.Observables)
		}
	}
	for _, o := range w.noObs {
		if bHasObs(a, o) {
			t.Errorf("observable %s %q should not be there", o.Type, o.Value)
		}
	}
	for k, v := range w.labels {
		if a.Labels[k] != v {
			t.Errorf("label %q = %q, want %q", k, a.Labels[k], v)
		}
	}
}

func bHasObs(a Alert, o Observable) bool {
	for _, x := range a.Observables {
		if x == o {
			return true
		}
	}
	return false
}

// bCheckAlerts asserts what every alert must satisfy.
func bCheckAlerts(t testing.TB, as []Alert, opts Options) {
	t.Helper()
	if len(as) == 0 {
		t.Fatalf("no alerts and no error")
	}
	for i, a := range as {
		if a.ID == "" || a.Title == "" {
			t.Errorf("alert %d: empty id %q or title %q", i, a.ID, a.Title)
		}
		if a.Source != opts.Source {
			t.Errorf("alert %d: source %q, want %q", i, a.Source, opts.Source)
		}
		if !a.Severity.Valid() {
			t.Errorf("alert %d: invalid severity %q", i, a.Severity)
		}
		if a.Status != StatusFiring && a.Status != StatusResolved {
			t.Errorf("alert %d: invalid status %q", i, a.Status)
		}
		if a.ObservedAt.IsZero() || a.ObservedAt.Location() != time.UTC {
			t.Errorf("alert %d: observed_at %v not a UTC time", i, a.ObservedAt)
		}
		if a.Observables == nil || a.Labels == nil {
			t.Errorf("alert %d: nil observables or labels", i)
		}
		for _, o := range a.Observables {
			if o.Value == "" || !bKnownObservableType(o.Type) {
				t.Errorf("alert %d: bad observable %+v", i, o)
			}
		}
		if !json.Valid(a.Raw) {
			t.Errorf("alert %d: raw is not JSON: %q", i, a.Raw)
		}
		if _, err := json.Marshal(a); err != nil {
			t.Errorf("alert %d: does not marshal: %v", i, err)
		}
	}
}

// bWantErr asserts that body fails with an error containing every part.
func bWantErr(t *testing.T, n Normalizer, body string, parts ...string) {
	t.Helper()
	as, err := n.Normalize([]byte(body), Options{})
	if err == nil {
		t.Fatalf("no error for %q; got %d alerts", truncate(body, 60), len(as))
	}
	if as != nil {
		t.Errorf("alerts returned with the error")
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
	if msg := err.Error(); msg != "" && strings.ToLower(msg[:1]) != msg[:1] {
		t.Errorf("error %q is not lowercase", msg)
	}
}

// bWrongBodies are bodies that no normaliser of this set accepts, with the
// key of another vendor's fixture added per test.
var bWrongBodies = map[string]string{
	"empty array":  `[]`,
	"empty object": `{}`,
	"null":         `null`,
	"string":       `"x"`,
	"number":       `42`,
	"invalid json": `{"a":`,
	"garbage":      `not json`,
	"empty body":   ``,
}

func bTestWrongBodies(t *testing.T, n Normalizer, prefix, expect string, otherVendor string) {
	for name, body := range bWrongBodies {
		t.Run(name, func(t *testing.T) { bWantErr(t, n, body, prefix+": ", expect) })
	}
	t.Run("other vendor", func(t *testing.T) {
		bWantErr(t, n, string(bReadFixture(t, otherVendor)), prefix+": ", expect)
	})
}

// bSame asserts that normalising body twice gives the same IDs.
func bSame(t testing.TB, n Normalizer, body []byte) []Alert {
	t.Helper()
	a1, err1 := n.Normalize(body, Options{})
	a2, err2 := n.Normalize(body, Options{})
	if (err1 == nil) != (err2 == nil) {
		t.Fatalf("errors differ: %v / %v", err1, err2)
	}
	if len(a1) != len(a2) {
		t.Fatalf("counts differ: %d / %d", len(a1), len(a2))
	}
	for i := range a1 {
		if a1[i].ID != a2[i].ID {
			t.Fatalf("alert %d: ids differ: %q / %q", i, a1[i].ID, a2[i].ID)
		}
	}
	return a1
}
