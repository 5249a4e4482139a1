package alerts

import (
	"fmt"
	"strings"
	"testing"
)

func bOffense(id int, extra string) string {
	return fmt.Sprintf(`{"id":%d,"description":"Excessive Firewall Denies\n between hosts\n","start_time":1613395296537,"last_updated_time":1613395306948,"status":"OPEN","offense_type":0,"offense_source":"10.0.0.9","magnitude":5,"credibility":3,"relevance":4,"categories":["Firewall Deny"],"domain_id":0,"follow_up":true,"event_count":120,"source_address_ids":[7,8]%s}`, id, extra)
}

func TestQRadarSeverityB(t *testing.T) {
	tests := []struct {
		sev  string
		want Severity
	}{
		{`,"severity":1`, SeverityLow},
		{`,"severity":3`, SeverityLow},
		{`,"severity":4`, SeverityMedium},
		{`,"severity":6`, SeverityMedium},
		{`,"severity":7`, SeverityHigh},
		{`,"severity":8`, SeverityHigh},
		{`,"severity":9`, SeverityCritical},
		{`,"severity":10`, SeverityCritical},
		{`,"severity":0`, SeverityInformational}, // default below
		{`,"severity":11`, SeverityInformational},
		{`,"severity":null`, SeverityInformational},
		{``, SeverityInformational},
	}
	for _, tt := range tests {
		t.Run(tt.sev, func(t *testing.T) {
			opts := Options{Source: "qr", DefaultSeverity: SeverityInformational}
			as, err := QRadar{}.Normalize([]byte(bOffense(15, tt.sev)), opts)
			if err != nil {
				t.Fatal(err)
			}
			bCheckAlerts(t, as, opts)
			if as[0].Severity != tt.want {
				t.Errorf("severity = %q, want %q", as[0].Severity, tt.want)
			}
		})
	}
}

func TestQRadarStatusAndFieldsB(t *testing.T) {
	for status, want := range map[string]Status{"OPEN": StatusFiring, "HIDDEN": StatusFiring, "CLOSED": StatusResolved, "closed": StatusResolved} {
		as, err := QRadar{}.Normalize([]byte(strings.Replace(bOffense(1, ""), `"OPEN"`, `"`+status+`"`, 1)), Options{})
		if err != nil || as[0].Status != want {
			t.Errorf("status %s: got %v %v, want %s", status, as, err, want)
		}
	}
	opts := Options{Source: "qr"}
	as, err := QRadar{}.Normalize([]byte(bOffense(1, "")), opts)
	if err != nil {
		t.Fatal(err)
	}
	bCheckAlerts(t, as, opts)
	a := as[0]
	if a.Title != "Excessive Firewall Denies between hosts" {
		t.Errorf("title = %q", a.Title)
	}
	if fmt.Sprint(a.Observables) != fmt.Sprint([]Observable{{ObsIP, "10.0.0.9"}}) {
		t.Errorf("observables = %v (source_address_ids must not appear)", a.Observables)
	}
	for k, v := range map[string]string{"magnitude": "5", "credibility": "3", "relevance": "4", "offense_type": "0",
		"categories": "Firewall Deny", "domain_id": "0", "follow_up": "true", "status": "OPEN", "event_count": "120"} {
		if a.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, a.Labels[k], v)
		}
	}
	// Title fallback and last_updated_time fallback.
	body := `{"id":3,"last_updated_time":1613395306948}`
	as, err = QRadar{}.Normalize([]byte(body), opts)
	if err != nil || as[0].Title != "QRadar offense 3" || as[0].ObservedAt.UnixMilli() != 1613395306948 {
		t.Errorf("got %+v %v", as, err)
	}
	bWantErr(t, QRadar{}, `{"id":3}`, "qradar: offense 3: last_updated_time: missing time")
}

func TestQRadarOffenseTypesB(t *testing.T) {
	tests := []struct {
		typ, src string
		want     []Observable
	}{
		{"0", "10.0.0.1", []Observable{{ObsIP, "10.0.0.1"}}},
		{"1", "10.0.0.2", []Observable{{ObsIP, "10.0.0.2"}}},
		{"3", "yarden", []Observable{{ObsUser, "yarden"}}},
		{"4", "00:11:22:33:44:55", nil},
		{"2", "Login Failure", nil},
		{"7", "dc01.corp.example", []Observable{{ObsHostname, "dc01.corp.example"}}},
		{"10", "2001:db8::5", []Observable{{ObsIP, "2001:db8::5"}}},
		{"11", "2001:db8::6", []Observable{{ObsIP, "2001:db8::6"}}},
		{"0", "not an ip", nil},
		{"9", "443", nil},
		{"99", "192.0.2.99", []Observable{{ObsIP, "192.0.2.99"}}}, // unknown type, an IP
		{"99", "something", nil},
		{"null", "192.0.2.98", []Observable{{ObsIP, "192.0.2.98"}}},
	}
	for _, tt := range tests {
		t.Run(tt.typ+"/"+tt.src, func(t *testing.T) {
			body := fmt.Sprintf(`{"id":1,"start_time":1613395296537,"offense_type":%s,"offense_source":%q}`, tt.typ, tt.src)
			as, err := QRadar{}.Normalize([]byte(body), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(as[0].Observables) != fmt.Sprint(bObsOrEmpty(tt.want)) {
				t.Errorf("observables = %v, want %v", as[0].Observables, tt.want)
			}
		})
	}
}

func bObsOrEmpty(o []Observable) []Observable {
	if o == nil {
		return []Observable{}
	}
	return o
}

func TestQRadarArrayB(t *testing.T) {
	body := "[" + bOffense(15, `,"severity":9`) + ",\n" + bOffense(16, `,"severity":2`) + "]"
	opts := Options{Source: "qr"}
	as, err := QRadar{}.Normalize([]byte(body), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 || as[0].ID != "qradar:15" || as[1].ID != "qradar:16" ||
		as[0].Severity != SeverityCritical || as[1].Severity != SeverityLow {
		t.Fatalf("got %+v", as)
	}
	bCheckAlerts(t, as, opts)
	if string(as[1].Raw) != bOffense(16, `,"severity":2`) {
		t.Errorf("raw = %s", as[1].Raw)
	}
	bWantErr(t, QRadar{}, "["+bOffense(15, "")+`,{"id":"16"}]`, `qradar: element 1: expected an offense object with an integer "id"`, "whose id is a string")
	bWantErr(t, QRadar{}, `[1]`, `qradar: element 0: expected an offense object`)
	bWantErr(t, QRadar{}, `{"id":1.5,"start_time":1}`, `expected an offense object with an integer "id"`)
}

func TestQRadarStableIDsB(t *testing.T) {
	a := bSame(t, QRadar{}, []byte(bOffense(12345678901234567, "")))
	if a[0].ID != "qradar:12345678901234567" {
		t.Errorf("id = %q (large ids must stay exact)", a[0].ID)
	}
}

func TestQRadarWrongBodiesB(t *testing.T) {
	bTestWrongBodies(t, QRadar{}, "qradar", `expected an offense object with an integer "id"`, "thehive/thehivedocs_create_alert_with_artifacts.json")
}
