package alerts

import (
	"reflect"
	"testing"
	"time"
)

// aFuzz seeds a fuzz target with the format's fixture, its inline edge
// cases and the shapes every normaliser must reject, then checks the
// Normalizer contract on any input.
func aFuzz(f *testing.F, n Normalizer, fixture string, cases []aCase) {
	f.Add(aReadFixture(f, fixture))
	for _, b := range aBodies(cases) {
		f.Add([]byte(b))
	}
	for _, b := range []string{``, `null`, `[]`, `{}`, `"x"`, `{"a":`, `[{}]`, `{"alerts":[{}]}`, `{"rule":{}}`, `{"sid":"_at_1"}`, `{"properties":{"title":1}}`} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		opts := Options{Source: "fz", DefaultSeverity: SeverityLow}
		as, err := n.Normalize(body, opts)
		if err != nil {
			if as != nil {
				t.Fatalf("alerts with an error: %v", err)
			}
			return
		}
		if len(as) == 0 {
			t.Fatal("no alerts and no error")
		}
		for _, a := range as {
			if a.ID == "" {
				t.Fatal("empty id")
			}
			if !a.Severity.Valid() {
				t.Fatalf("invalid severity %q", a.Severity)
			}
			if a.Status != StatusFiring && a.Status != StatusResolved {
				t.Fatalf("invalid status %q", a.Status)
			}
			if a.ObservedAt.Location() != time.UTC {
				t.Fatalf("observed_at not UTC: %v", a.ObservedAt)
			}
			if a.Observables == nil || a.Labels == nil {
				t.Fatal("nil observables or labels")
			}
			if a.Source != opts.Source {
				t.Fatalf("source %q", a.Source)
			}
		}
		again, err := n.Normalize(body, opts)
		if err != nil {
			t.Fatalf("second run failed: %v", err)
		}
		if !reflect.DeepEqual(aIDs(as), aIDs(again)) {
			t.Fatalf("ids differ between runs: %v vs %v", aIDs(as), aIDs(again))
		}
	})
}

func FuzzAlertmanager(f *testing.F) {
	aFuzz(f, Alertmanager{}, "alertmanager/alertmonitor_firing_icmp.json", aAlertmanagerCases)
}

func FuzzGrafana(f *testing.F) {
	aFuzz(f, Grafana{}, "grafana/grafana_docs_webhook_firing.json", aGrafanaCases)
}

func FuzzElastic(f *testing.F) {
	aFuzz(f, Elastic{}, "elastic/kibana_es_archive_8.1.0_threat_match_alert.json", aElasticCases)
}

func FuzzWazuh(f *testing.F) {
	aFuzz(f, Wazuh{}, "wazuh/dashboard_sample_5716_ssh_auth_failed.json", aWazuhCases)
}

func FuzzSplunk(f *testing.F) {
	aFuzz(f, Splunk{}, "splunk/splunk_docs_webhook_example.json", aSplunkCases)
}

func FuzzSentinel(f *testing.F) {
	aFuzz(f, Sentinel{}, "sentinel/restapi_2023-02-01_GetIncidentById_body.json", aSentinelCases)
}
