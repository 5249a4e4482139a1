package alerts

import (
	"fmt"
	"strings"
	"testing"
)

func bGraylogBody(eventExtra string) string {
	return fmt.Sprintf(`{"event_definition_id":"def1","event_definition_title":"SSH brute force",
"event":{"id":"01HE51TMQT0G3V67XKXRBQP05W","event_definition_id":"def1","timestamp":"2024-05-01T10:00:00.000Z",
"message":"msg","source":"fw-01","key":"10.1.1.1"%s}}`, eventExtra)
}

func TestGraylogSeverityB(t *testing.T) {
	tests := []struct {
		name, extra string
		want        Severity
	}{
		{"priority 1", `,"priority":1`, SeverityLow},
		{"priority 2", `,"priority":2`, SeverityMedium},
		{"priority 3", `,"priority":3`, SeverityHigh},
		{"priority 4", `,"priority":4`, SeverityCritical},
		{"priority 0", `,"priority":0`, SeverityInformational}, // the default given below
		{"priority 5", `,"priority":5`, SeverityInformational},
		{"priority as string", `,"priority":"2"`, SeverityMedium},
		{"priority null", `,"priority":null`, SeverityInformational},
		{"priority missing", ``, SeverityInformational},
		{"priority fractional", `,"priority":2.5`, SeverityInformational},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Source: "gl", DefaultSeverity: SeverityInformational}
			as, err := Graylog{}.Normalize([]byte(bGraylogBody(tt.extra)), opts)
			if err != nil {
				t.Fatal(err)
			}
			bCheckAlerts(t, as, opts)
			if as[0].Severity != tt.want {
				t.Errorf("severity = %q, want %q", as[0].Severity, tt.want)
			}
		})
	}
	// No default configured: medium.
	as, err := Graylog{}.Normalize([]byte(bGraylogBody("")), Options{})
	if err != nil || as[0].Severity != SeverityMedium {
		t.Errorf("missing priority, no default: %v %v", as, err)
	}
}

func TestGraylogFieldsB(t *testing.T) {
	body := bGraylogBody(`,"priority":2,"source":"10.0.0.5:514","fields":{
"src_ip":"192.0.2.10","dst_ip":"not-an-ip","username":"alice","hostname":"web-1.example.com",
"host":"198.51.100.7","domain":"Evil.Example.","url":"http://evil.example/x","file_sha256":"` + strings.Repeat("a", 64) + `",
"md5":"` + strings.Repeat("b", 32) + `","comment":"see 203.0.113.9","count":3,"list":["x","y"]}`)
	opts := Options{Source: "gl"}
	as, err := Graylog{}.Normalize([]byte(body), opts)
	if err != nil {
		t.Fatal(err)
	}
	bCheckAlerts(t, as, opts)
	a := as[0]
	for _, o := range []Observable{
		{ObsIP, "10.0.0.5"}, {ObsIP, "192.0.2.10"}, {ObsUser, "alice"}, {ObsHostname, "web-1.example.com"},
		{ObsIP, "198.51.100.7"}, {ObsDomain, "evil.example"}, {ObsURL, "http://evil.example/x"},
		{ObsHashSHA256, strings.Repeat("a", 64)}, {ObsHashMD5, strings.Repeat("b", 32)},
	} {
		if !bHasObs(a, o) {
			t.Errorf("missing %v in %v", o, a.Observables)
		}
	}
	if len(a.Observables) != 9 {
		t.Errorf("observables = %v, want 9 (no scraping of free text, invalid ip dropped)", a.Observables)
	}
	for k, v := range map[string]string{"event_definition_id": "def1", "key": "10.1.1.1", "field.count": "3",
		"field.list": "x,y", "field.comment": "see 203.0.113.9", "field.src_ip": "192.0.2.10"} {
		if a.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, a.Labels[k], v)
		}
	}
	if a.Title != "SSH brute force" {
		t.Errorf("title = %q", a.Title)
	}
}

func TestGraylogTitleAndTimeB(t *testing.T) {
	body := `{"event":{"id":"E1","timestamp":"2024-05-01T10:00:00Z","message":"from message"}}`
	as, err := Graylog{}.Normalize([]byte(body), Options{})
	if err != nil || as[0].Title != "from message" || as[0].ID != "graylog:E1" || as[0].Status != StatusFiring {
		t.Fatalf("got %+v, %v", as, err)
	}
	as, err = Graylog{}.Normalize([]byte(`{"event":{"id":"E1","timestamp":"2024-05-01T10:00:00Z"}}`), Options{})
	if err != nil || as[0].Title != "Graylog event E1" {
		t.Fatalf("got %+v, %v", as, err)
	}
	as, err = Graylog{}.Normalize([]byte(`{"event":{"id":"E1","timestamp_processing":"2024-05-01T10:00:01Z"}}`), Options{})
	if err != nil || as[0].ObservedAt.Second() != 1 {
		t.Fatalf("timestamp_processing fallback: %+v, %v", as, err)
	}
	bWantErr(t, Graylog{}, `{"event":{"id":"E1"}}`, "graylog: ", "event.timestamp", "missing time")
	bWantErr(t, Graylog{}, `{"event":{"id":"E1","timestamp":"yesterday"}}`, "graylog: ", "event.timestamp")
}

func TestGraylogWrongBodiesB(t *testing.T) {
	bTestWrongBodies(t, Graylog{}, "graylog", "expected a graylog event notification object", "suricata/suricata_docs_eve_alert_example.json")
	bWantErr(t, Graylog{}, `{"event":{}}`, "graylog: ", `"event.id"`, `without an "id"`)
	bWantErr(t, Graylog{}, `{"event":"x"}`, "graylog: ", "expected a graylog")
	bWantErr(t, Graylog{}, `[{"event":{"id":"x","timestamp":"2024-05-01T10:00:00Z"}}]`, "graylog: ", "got an array")
	bWantErr(t, Graylog{}, bGraylogBody("")+"\n"+bGraylogBody(""), "graylog: ", "single JSON document")
}

func TestGraylogStableIDsB(t *testing.T) {
	a := bSame(t, Graylog{}, []byte(bGraylogBody(`,"priority":1`)))
	b := bSame(t, Graylog{}, []byte(strings.Replace(bGraylogBody(`,"priority":1`), "01HE51TMQT0G3V67XKXRBQP05W", "01HE51TMQT0G3V67XKXRBQP05X", 1)))
	if a[0].ID == b[0].ID {
		t.Errorf("different events share id %q", a[0].ID)
	}
}
