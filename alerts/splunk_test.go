package alerts

import (
	"fmt"
	"testing"
)

const aSPSid = "scheduler__admin__search__RMD5a1b2c3d4e5f6a7b8_at_1700000000_123"

func aSP(searchName, result string) string {
	return fmt.Sprintf(`{"result":%s,"sid":%q,"results_link":"http://splunk:8000/app/search/@go?sid=x","search_name":%s,"owner":"admin","app":"search"}`,
		result, aSPSid, searchName)
}

var aSplunkCases = []aCase{
	{
		// 1700000000 s = 2023-11-14T22:13:20Z.
		name:  "sid epoch when there is no _time, null search_name",
		body:  aSP(`null`, `{"count":"3"}`),
		check: aWantOne("splunk:"+aSPSid, "Splunk alert "+aSPSid, SeverityMedium, StatusFiring, "2023-11-14T22:13:20Z"),
	},
	{
		name:  "real-time sid with a fractional suffix",
		body:  `{"sid":"rt_scheduler__admin__search__RMD5aa_at_1700000000_55.7","search_name":"RT","result":{}}`,
		check: aWantOne("", "RT", "", "", "2023-11-14T22:13:20Z"),
	},
	{name: "_time as epoch seconds with a fraction", body: aSP(`"Failed logins"`, `{"_time":"1700000001.500"}`),
		check: aWantOne("", "Failed logins", "", "", "2023-11-14T22:13:21.5Z")},
	{name: "_time as ISO with an offset", body: aSP(`"x"`, `{"_time":"2023-11-14T23:13:20.000+01:00"}`),
		check: aWantOne("", "", "", "", "2023-11-14T22:13:20Z")},
	{name: "unparseable _time falls back to the sid", body: aSP(`"x"`, `{"_time":"last tuesday"}`),
		check: aWantOne("", "", "", "", "2023-11-14T22:13:20Z")},
	{name: "severity name", body: aSP(`"x"`, `{"severity":"High"}`), check: aWantOne("", "", SeverityHigh, "", "")},
	{name: "severity info", body: aSP(`"x"`, `{"severity":"info"}`), check: aWantOne("", "", SeverityInformational, "", "")},
	{name: "urgency when there is no severity", body: aSP(`"x"`, `{"urgency":"critical"}`), check: aWantOne("", "", SeverityCritical, "", "")},
	{name: "severity wins over urgency", body: aSP(`"x"`, `{"severity":"low","urgency":"critical"}`), check: aWantOne("", "", SeverityLow, "", "")},
	{name: "unknown severity falls to urgency", body: aSP(`"x"`, `{"severity":"unknown","urgency":"medium"}`), check: aWantOne("", "", SeverityMedium, "", "")},
	{name: "no severity: the configured default", body: aSP(`"x"`, `{}`), opts: Options{DefaultSeverity: SeverityLow},
		check: aWantOne("", "", SeverityLow, "", "")},
	{
		name: "observables from CIM columns",
		body: aSP(`"x"`, `{"src_ip":["192.0.2.1","192.0.2.2"],"src":"laptop-7","dest":"10.1.1.1","dest_ip":"10.1.1.1","clientip":"198.51.100.3","host":"idx01",`+
			`"user":"alice","src_user":"bob","dest_user":"root","url":"http://bad.example/a","domain":"bad.example",`+
			`"file_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","hash":"d41d8cd98f00b204e9800998ecf8427e","file_name":"a.exe","process":"powershell.exe -enc AAA"}`),
		check: aWantObs("hostname", "laptop-7", "ip", "192.0.2.1", "ip", "192.0.2.2", "ip", "10.1.1.1", "ip", "198.51.100.3", "hostname", "idx01",
			"user", "alice", "user", "bob", "user", "root", "url", "http://bad.example/a", "domain", "bad.example",
			"hash_sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "hash_md5", "d41d8cd98f00b204e9800998ecf8427e",
			"file", "a.exe", "process", "powershell.exe -enc AAA"),
	},
	{
		name: "labels: scalar result columns, app, owner, search_name",
		body: aSP(`"Failed logins"`, `{"count":12,"user":"alice","src_ip":["192.0.2.1"],"__mv_src_ip":"$192.0.2.1$","flag":true,"nested":{"a":1}}`),
		check: aWantLabels("result.count", "12", "result.user", "alice", "result.flag", "true", "result.src_ip", "<absent>",
			"result.__mv_src_ip", "<absent>", "result.nested", "<absent>", "app", "search", "owner", "admin", "search_name", "Failed logins", "sid", aSPSid),
	},
	{name: "result null is an empty row", body: `{"sid":"` + aSPSid + `","result":null}`,
		check: aWantOne("", "", "", "", "2023-11-14T22:13:20Z")},
	{name: "no _time and no epoch in the sid", body: `{"sid":"1700000000.123","search_name":"x","result":{}}`,
		wantErr: []string{"splunk: no result._time and no _at_<epoch> in sid"}},
	{name: "bad _time and no epoch in the sid", body: `{"sid":"adhoc","result":{"_time":"soon"}}`,
		wantErr: []string{"splunk: no usable time: result._time: unrecognised time"}},
	{name: "no sid", body: `{"result":{"a":"b"},"search_name":"x"}`,
		wantErr: []string{`splunk: expected a Splunk webhook alert action body with "sid" and "result", got a JSON object without "sid"`}},
	{name: "sid not a string", body: `{"sid":{},"result":{}}`,
		wantErr: []string{`splunk: expected a Splunk webhook alert action body`, `got "sid" as an empty JSON object`}},
	{name: "no result", body: `{"sid":"` + aSPSid + `"}`,
		wantErr: []string{`splunk: expected a Splunk webhook alert action body with "sid" and "result", got a JSON object without "result"`}},
	{name: "result an array", body: `{"sid":"` + aSPSid + `","result":[{"a":1}]}`,
		wantErr: []string{`got "result" as a JSON array of 1 element`}},
}

func TestSplunkCases(t *testing.T) { aRunCases(t, Splunk{}, aSplunkCases) }

// result.severity / result.urgency: names, and savedsearches.conf's
// alert.severity numbers (1 debug, 2 info, 3 warn, 4 error, 5 severe,
// 6 fatal), mapped like DESIGN.md's label table.
func TestSplunkSeverityValues(t *testing.T) {
	for v, want := range map[string]Severity{
		`"informational"`: SeverityInformational, `"info"`: SeverityInformational, `"low"`: SeverityLow, `"medium"`: SeverityMedium,
		`"high"`: SeverityHigh, `"critical"`: SeverityCritical, `"CRITICAL"`: SeverityCritical,
		`"debug"`: SeverityInformational, `"warn"`: SeverityMedium, `"error"`: SeverityHigh, `"severe"`: SeverityCritical, `"fatal"`: SeverityCritical,
		`1`: SeverityInformational, `"2"`: SeverityInformational, `3`: SeverityMedium, `4`: SeverityHigh, `5`: SeverityCritical, `"6"`: SeverityCritical,
		`0`: SeverityLow, `7`: SeverityLow, `"unknown"`: SeverityLow, `["high","low"]`: SeverityHigh, `null`: SeverityLow,
	} {
		if got := aSev(t, Splunk{}, aSP(`"x"`, `{"severity":`+v+`}`), SeverityLow); got != want {
			t.Errorf("severity %s: got %s, want %s", v, got, want)
		}
	}
}

func TestSplunkStableIDs(t *testing.T) {
	id := func(body string) string { return aNormalize(t, Splunk{}, body, Options{})[0].ID }
	a := aSP(`"x"`, `{"count":"1"}`)
	if id(a) != id(a) {
		t.Error("same body, different ids")
	}
	other := `{"sid":"scheduler__admin__search__RMD5a1b2c3d4e5f6a7b8_at_1700000060_124","result":{"count":"1"}}`
	if id(a) == id(other) {
		t.Error("different sids share an id")
	}
}
