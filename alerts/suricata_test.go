package alerts

import (
	"fmt"
	"strings"
	"testing"
)

func bEVE(sid int, sev string, extra string) string {
	return fmt.Sprintf(`{"timestamp":"2018-10-03T14:42:44.836744+0000","flow_id":1676750115612723,"in_iface":"eth0","event_type":"alert","src_ip":"10.0.0.5","src_port":49152,"dest_ip":"203.0.113.80","dest_port":80,"proto":"TCP","tx_id":0,"alert":{"action":"allowed","gid":1,"signature_id":%d,"rev":3,"signature":"ET POLICY test %d","category":"Misc activity"%s}%s}`,
		sid, sid, sev, extra)
}

const bEVEFlow = `{"timestamp":"2018-10-03T14:42:45.000000+0000","flow_id":1676750115612723,"event_type":"flow","src_ip":"10.0.0.5","dest_ip":"203.0.113.80","proto":"TCP","flow":{"pkts_toserver":3}}`

func TestSuricataSeverityB(t *testing.T) {
	tests := []struct {
		sev  string
		want Severity
	}{
		{`,"severity":1`, SeverityHigh},
		{`,"severity":2`, SeverityMedium},
		{`,"severity":3`, SeverityLow},
		{`,"severity":4`, SeverityInformational},
		{`,"severity":0`, SeverityCritical}, // default below
		{`,"severity":5`, SeverityCritical},
		{``, SeverityCritical},
		{`,"severity":"1"`, SeverityHigh},
	}
	for _, tt := range tests {
		t.Run(tt.sev, func(t *testing.T) {
			opts := Options{Source: "ids", DefaultSeverity: SeverityCritical}
			as, err := Suricata{}.Normalize([]byte(bEVE(2000001, tt.sev, "")), opts)
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

func TestSuricataNDJSONB(t *testing.T) {
	body := bEVE(2000001, `,"severity":1`, "") + "\n" + bEVEFlow + "\n\n  \n" + bEVE(2000002, `,"severity":3`, "") + "\n"
	opts := Options{Source: "ids"}
	as, err := Suricata{}.Normalize([]byte(body), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 {
		t.Fatalf("got %d alerts, want 2 (flow skipped)", len(as))
	}
	bCheckAlerts(t, as, opts)
	if as[0].ID == as[1].ID {
		t.Errorf("two signatures in one flow share id %q", as[0].ID)
	}
	if string(as[0].Raw) != bEVE(2000001, `,"severity":1`, "") {
		t.Errorf("raw is not the line: %s", as[0].Raw)
	}
	if as[0].Title != "ET POLICY test 2000001" || as[1].Severity != SeverityLow {
		t.Errorf("got %q %q", as[0].Title, as[1].Severity)
	}

	// A bad line fails the body and names the line.
	bad := bEVE(2000001, "", "") + "\n" + bEVEFlow + "\n" + `{"event_type":"alert",` + "\n"
	bWantErr(t, Suricata{}, bad, "suricata: line 3: invalid JSON")
	// A record that is not EVE names its line too.
	bWantErr(t, Suricata{}, bEVE(2000001, "", "")+"\n"+`{"hello":1}`, "suricata: line 2: expected an EVE JSON record")
	bWantErr(t, Suricata{}, bEVE(2000001, "", "")+"\n"+`[1]`, "suricata: line 2: expected an EVE JSON record", "got an array")
	// Only non-alert records.
	bWantErr(t, Suricata{}, bEVEFlow+"\n"+strings.Replace(bEVEFlow, `"flow"`, `"dns"`, 1), `suricata: no event_type "alert" records in body`)
	// An alert record without its alert object.
	bWantErr(t, Suricata{}, `{"event_type":"alert","timestamp":"2018-10-03T14:42:44Z"}`, `suricata: expected an alert record with an "alert" object`)
	bWantErr(t, Suricata{}, `{"event_type":"alert","alert":{"signature_id":1}}`, "suricata: timestamp: missing time")
}

func TestSuricataIDB(t *testing.T) {
	one := bSame(t, Suricata{}, []byte(bEVE(2000001, "", "")))
	noTx := bSame(t, Suricata{}, []byte(strings.Replace(bEVE(2000001, "", ""), `"tx_id":0,`, "", 1)))
	otherTx := bSame(t, Suricata{}, []byte(strings.Replace(bEVE(2000001, "", ""), `"tx_id":0,`, `"tx_id":1,`, 1)))
	otherTime := bSame(t, Suricata{}, []byte(strings.Replace(bEVE(2000001, "", ""), `44.836744`, `45.836744`, 1)))
	ids := map[string]bool{}
	for _, as := range [][]Alert{one, noTx, otherTx, otherTime} {
		ids[as[0].ID] = true
	}
	if len(ids) != 4 {
		t.Errorf("ids not distinct: %v", ids)
	}
	if want := MakeID("suricata", "1676750115612723", "0", "2000001", "2018-10-03T14:42:44.836744+0000"); one[0].ID != want {
		t.Errorf("id = %q, want %q", one[0].ID, want)
	}
}

func TestSuricataObservablesB(t *testing.T) {
	tests := []struct {
		name, extra string
		want        []Observable
	}{
		{"http host and path", `,"http":{"hostname":"Evil.Example","url":"/gate.php?id=1","http_port":8080}`,
			[]Observable{{ObsDomain, "evil.example"}, {ObsURL, "http://Evil.Example:8080/gate.php?id=1"}}},
		{"http ip host", `,"http":{"hostname":"198.51.100.9","url":"/x"}`,
			[]Observable{{ObsIP, "198.51.100.9"}, {ObsURL, "http://198.51.100.9/x"}}},
		{"http ipv6 host", `,"http":{"hostname":"2001:db8::1","url":"/x"}`,
			[]Observable{{ObsIP, "2001:db8::1"}, {ObsURL, "http://[2001:db8::1]/x"}}},
		{"http absolute url", `,"http":{"url":"http://proxy.example/x"}`,
			[]Observable{{ObsURL, "http://proxy.example/x"}}},
		{"http path without host", `,"http":{"url":"/only/path"}`, nil},
		{"dns v1 query list", `,"dns":{"query":[{"rrname":"c2.example.net.","rrtype":"A"}]}`,
			[]Observable{{ObsDomain, "c2.example.net"}}},
		{"dns v2", `,"dns":{"rrname":"c2.example.org","type":"query"}`, []Observable{{ObsDomain, "c2.example.org"}}},
		{"dns v3 queries", `,"dns":{"queries":[{"rrname":"a.example"},{"rrname":"b.example"}]}`,
			[]Observable{{ObsDomain, "a.example"}, {ObsDomain, "b.example"}}},
		{"tls sni", `,"tls":{"sni":"login.example.com","subject":"CN=whatever 192.0.2.1"}`,
			[]Observable{{ObsDomain, "login.example.com"}}},
		{"fileinfo", `,"fileinfo":{"filename":"/dl/payload.exe","sha256":"` + strings.Repeat("C", 64) + `","md5":"` + strings.Repeat("d", 32) + `"}`,
			[]Observable{{ObsFile, "/dl/payload.exe"}, {ObsHashSHA256, strings.Repeat("c", 64)}, {ObsHashMD5, strings.Repeat("d", 32)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Source: "ids"}
			as, err := Suricata{}.Normalize([]byte(bEVE(2000001, "", tt.extra)), opts)
			if err != nil {
				t.Fatal(err)
			}
			bCheckAlerts(t, as, opts)
			base := []Observable{{ObsIP, "10.0.0.5"}, {ObsIP, "203.0.113.80"}}
			want := append(base, tt.want...)
			if fmt.Sprint(as[0].Observables) != fmt.Sprint(want) {
				t.Errorf("observables = %v, want %v", as[0].Observables, want)
			}
			for k, v := range map[string]string{"signature_id": "2000001", "gid": "1", "rev": "3", "category": "Misc activity",
				"action": "allowed", "proto": "TCP", "src_port": "49152", "dest_port": "80", "in_iface": "eth0"} {
				if as[0].Labels[k] != v {
					t.Errorf("label %s = %q, want %q", k, as[0].Labels[k], v)
				}
			}
		})
	}
}

func TestSuricataWrongBodiesB(t *testing.T) {
	bTestWrongBodies(t, Suricata{}, "suricata", "expected an EVE JSON record", "graylog/graylog_notify_aggregation_with_fields.json")
}
