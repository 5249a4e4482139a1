package alerts

import (
	"fmt"
	"strings"
	"testing"
)

func bHiveAlert(extra string) string {
	return fmt.Sprintf(`{"type":"external","source":"siem-1","sourceRef":"ref-77","title":"Phishing reported","description":"d","date":1700000000000,"tlp":2,"pap":2,"tags":["phishing","mail"]%s}`, extra)
}

func TestTheHiveSeverityAndStatusB(t *testing.T) {
	for sev, want := range map[string]Severity{"1": SeverityLow, "2": SeverityMedium, "3": SeverityHigh, "4": SeverityCritical,
		"0": SeverityHigh, "5": SeverityHigh, "null": SeverityHigh} {
		opts := Options{Source: "hive", DefaultSeverity: SeverityHigh}
		as, err := TheHive{}.Normalize([]byte(bHiveAlert(`,"severity":`+sev)), opts)
		if err != nil {
			t.Fatal(err)
		}
		bCheckAlerts(t, as, opts)
		if as[0].Severity != want {
			t.Errorf("severity %s: got %q, want %q", sev, as[0].Severity, want)
		}
	}
	for status, want := range map[string]Status{"New": StatusFiring, "Updated": StatusFiring, "Imported": StatusFiring,
		"Ignored": StatusResolved, "ignored": StatusResolved} {
		as, err := TheHive{}.Normalize([]byte(bHiveAlert(`,"status":"`+status+`"`)), Options{})
		if err != nil || as[0].Status != want {
			t.Errorf("status %s: got %v %v, want %s", status, as, err, want)
		}
	}
}

func TestTheHiveObservablesB(t *testing.T) {
	v3 := bHiveAlert(`,"artifacts":[{"dataType":"ip","data":"192.0.2.7"},{"dataType":"mail","data":"Eve@Example.com"},
{"dataType":"user-agent","data":"Mozilla/5.0"},{"dataType":"hash","data":"` + strings.Repeat("a", 40) + `"},
{"dataType":"url","data":"http://phish.example/login"},{"dataType":"fqdn","data":"mx1.example.com"},
{"dataType":"filename","data":"invoice.pdf.exe"},{"dataType":"registry","data":"HKLM\\Run"},{"dataType":"other","data":"x"}]`)
	v5 := bHiveAlert(`,"observables":[{"dataType":"ip","data":"192.0.2.7","tags":["src"]},{"dataType":"domain","data":"phish.example"},
{"dataType":"file","attachment":{"name":"invoice.pdf.exe","contentType":"application/octet-stream"}},
{"dataType":"hash","data":"` + strings.Repeat("b", 64) + `"}]`)
	tests := []struct {
		name, body string
		want       []Observable
	}{
		{"v3 artifacts", v3, []Observable{{ObsIP, "192.0.2.7"}, {ObsEmail, "eve@example.com"}, {ObsHashSHA1, strings.Repeat("a", 40)},
			{ObsURL, "http://phish.example/login"}, {ObsHostname, "mx1.example.com"}, {ObsFile, "invoice.pdf.exe"}}},
		{"v5 observables", v5, []Observable{{ObsIP, "192.0.2.7"}, {ObsDomain, "phish.example"}, {ObsFile, "invoice.pdf.exe"},
			{ObsHashSHA256, strings.Repeat("b", 64)}}},
		{"none", bHiveAlert(""), []Observable{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Source: "hive"}
			as, err := TheHive{}.Normalize([]byte(tt.body), opts)
			if err != nil {
				t.Fatal(err)
			}
			bCheckAlerts(t, as, opts)
			if fmt.Sprint(as[0].Observables) != fmt.Sprint(tt.want) {
				t.Errorf("observables =\n%v\nwant\n%v", as[0].Observables, tt.want)
			}
			for k, v := range map[string]string{"type": "external", "source": "siem-1", "sourceRef": "ref-77", "tlp": "2",
				"pap": "2", "tags": "phishing,mail"} {
				if as[0].Labels[k] != v {
					t.Errorf("label %s = %q, want %q", k, as[0].Labels[k], v)
				}
			}
		})
	}
}

func TestTheHiveTimeAndIDB(t *testing.T) {
	noDate := strings.Replace(bHiveAlert(""), `"date":1700000000000,`, "", 1)
	bWantErr(t, TheHive{}, noDate, "thehive: no date")
	as, err := TheHive{}.Normalize([]byte(strings.Replace(noDate, `"tlp"`, `"createdAt":1600000000000,"tlp"`, 1)), Options{})
	if err != nil || as[0].ObservedAt.UnixMilli() != 1600000000000 {
		t.Fatalf("createdAt fallback: %v %v", as, err)
	}
	bWantErr(t, TheHive{}, strings.Replace(bHiveAlert(""), "1700000000000", `"last week"`, 1), "thehive: date: ")

	a := bSame(t, TheHive{}, []byte(bHiveAlert("")))
	if a[0].ID != "thehive:external/siem-1/ref-77" || a[0].Title != "Phishing reported" {
		t.Errorf("got %q %q", a[0].ID, a[0].Title)
	}
	b := bSame(t, TheHive{}, []byte(strings.Replace(bHiveAlert(""), "ref-77", "ref-78", 1)))
	c := bSame(t, TheHive{}, []byte(strings.Replace(bHiveAlert(""), "siem-1", "siem-2", 1)))
	if a[0].ID == b[0].ID || a[0].ID == c[0].ID {
		t.Errorf("different alerts share an id")
	}

	// TheHive's webhook envelope.
	env := `{"operation":"Creation","objectType":"alert","objectId":"~4200","object":` + bHiveAlert(`,"severity":4`) + `}`
	as, err = TheHive{}.Normalize([]byte(env), Options{})
	if err != nil || as[0].ID != a[0].ID || as[0].Severity != SeverityCritical || string(as[0].Raw) != env {
		t.Fatalf("envelope: %+v %v", as, err)
	}
}

func TestTheHiveWrongBodiesB(t *testing.T) {
	bTestWrongBodies(t, TheHive{}, "thehive", "expected a thehive alert object", "crowdstrike/elastic_integrations_epp_detection_summary_ngav_blocked.json")
	bWantErr(t, TheHive{}, `{"type":"external","source":"s"}`, "thehive: expected a thehive alert object")
	bWantErr(t, TheHive{}, "["+bHiveAlert("")+"]", "thehive: expected a thehive alert object", "got an array")
}
