package alerts

import (
	"fmt"
	"testing"
)

// One alert in three spellings: all dotted, all nested, and a mix.
const (
	aESDotted = `{"@timestamp":"2024-03-01T10:00:00.000Z","kibana.alert.uuid":"u-1","kibana.alert.rule.name":"Brute force","kibana.alert.rule.uuid":"r-1","kibana.alert.severity":"high","kibana.alert.risk_score":73,"kibana.alert.status":"active","kibana.alert.workflow_status":"open","host.name":"web-1","host.ip":"10.1.1.1","source.ip":"203.0.113.9","user.name":"alice"}`
	aESNested = `{"@timestamp":"2024-03-01T10:00:00.000Z","kibana":{"alert":{"uuid":"u-1","rule":{"name":"Brute force","uuid":"r-1"},"severity":"high","risk_score":73,"status":"active","workflow_status":"open"}},"host":{"name":"web-1","ip":"10.1.1.1"},"source":{"ip":"203.0.113.9"},"user":{"name":"alice"}}`
	aESMixed  = `{"@timestamp":"2024-03-01T10:00:00.000Z","kibana.alert":{"uuid":"u-1","rule.name":"Brute force","rule":{"uuid":"r-1"},"severity":"high","risk_score":73},"kibana":{"alert.status":"active","alert":{"workflow_status":"open"}},"host":{"name":"web-1","ip":["10.1.1.1"]},"source.ip":"203.0.113.9","user":{"name":"alice"}}`
	aESOther  = `{"@timestamp":"2024-03-01T11:00:00Z","kibana.alert.uuid":"u-2","kibana.alert.rule.name":"Other","kibana.alert.severity":"low"}`
)

func aESCheckBrute(t *testing.T, as []Alert) {
	t.Helper()
	aWantOne("elastic:u-1", "Brute force", SeverityHigh, StatusFiring, "2024-03-01T10:00:00Z")(t, as)
	aWantObs("hostname", "web-1", "ip", "10.1.1.1", "ip", "203.0.113.9", "user", "alice")(t, as)
	aWantLabels("kibana.alert.rule.name", "Brute force", "kibana.alert.rule.uuid", "r-1", "kibana.alert.workflow_status", "open", "host.name", "web-1")(t, as)
}

// aESDoc builds a minimal alert document with extra top-level fields.
func aESDoc(extra string) string {
	return `{"@timestamp":"2024-03-01T10:00:00Z","kibana.alert.rule.name":"R"` + extra + `}`
}

var aElasticCases = []aCase{
	{name: "bare dotted", body: aESDotted, check: aESCheckBrute},
	{name: "bare nested", body: aESNested, check: aESCheckBrute},
	{name: "bare mixed, host.ip as an array", body: aESMixed, check: aESCheckBrute},
	{
		name: "array of documents ({{context.alerts}})",
		body: `[` + aESNested + `,` + aESOther + `]`, n: 2,
		check: func(t *testing.T, as []Alert) {
			aESCheckBrute(t, as)
			aWantOne("elastic:u-2", "Other", SeverityLow, StatusFiring, "2024-03-01T11:00:00Z")(t, as[1:])
			if string(as[1].Raw) != aESOther {
				t.Errorf("raw = %s, want the element", as[1].Raw)
			}
		},
	},
	{
		name: "one search hit",
		body: `{"_index":".internal.alerts-security.alerts-default-000001","_id":"u-1","_score":1,"_source":` + aESDotted + `}`,
		check: func(t *testing.T, as []Alert) {
			aESCheckBrute(t, as)
			aWantLabels("_index", ".internal.alerts-security.alerts-default-000001", "_id", "u-1")(t, as)
			if string(as[0].Raw) != aESDotted {
				t.Errorf("raw = %s, want the _source", as[0].Raw)
			}
		},
	},
	{
		name: "search response",
		body: `{"took":3,"timed_out":false,"hits":{"total":{"value":2,"relation":"eq"},"max_score":1,"hits":[{"_index":"i","_id":"a","_source":` + aESMixed + `},{"_index":"i","_id":"b","_source":` + aESOther + `}]}}`,
		n:    2,
		check: func(t *testing.T, as []Alert) {
			aESCheckBrute(t, as)
			if string(as[1].Raw) != aESOther {
				t.Errorf("raw = %s, want the _source", as[1].Raw)
			}
		},
	},
	{name: "array of hits", body: `[{"_index":"i","_id":"a","_source":` + aESNested + `}]`, check: aESCheckBrute},
	{
		name:  "host.ip as a string and as an array of two",
		body:  aESDoc(`,"kibana.alert.uuid":"h","host":{"name":"H1","ip":["10.0.0.5","fe80::1"]},"related.ip":["10.0.0.5","192.0.2.1"]`),
		check: aWantObs("hostname", "h1", "ip", "10.0.0.5", "ip", "fe80::1", "ip", "192.0.2.1"),
	},
	{
		name: "ECS observables are typed by field",
		body: aESDoc(`,"kibana.alert.uuid":"o","destination":{"ip":"198.51.100.7","domain":"evil.example"},"related":{"user":["bob","alice"],"hosts":["ws-9","10.9.9.9"]},` +
			`"file":{"path":"C:\\x\\a.exe","hash":{"md5":"D41D8CD98F00B204E9800998ECF8427E","sha1":"da39a3ee5e6b4b0d3255bfef95601890afd80709","sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},` +
			`"url.full":"https://evil.example/x","dns":{"question":{"name":"C2.Example"}},"process":{"name":"a.exe","executable":"C:\\x\\a.exe"},"user.email":"Bob@Example.com"`),
		check: aWantObs(
			"ip", "198.51.100.7", "hostname", "ws-9", "ip", "10.9.9.9", "domain", "evil.example", "domain", "c2.example",
			"user", "bob", "user", "alice", "email", "bob@example.com", "url", "https://evil.example/x", "file", `C:\x\a.exe`,
			"hash_md5", "d41d8cd98f00b204e9800998ecf8427e", "hash_sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
			"hash_sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "process", `C:\x\a.exe`),
	},
	{name: "missing severity and risk score gives the default", body: aESDoc(``), check: aWantOne("", "", SeverityMedium, "", "")},
	{name: "missing severity gives the configured default", body: aESDoc(``), opts: Options{DefaultSeverity: SeverityCritical},
		check: aWantOne("", "", SeverityCritical, "", "")},
	{name: "named severity wins over risk score", body: aESDoc(`,"kibana.alert.severity":"Critical","kibana.alert.risk_score":5`),
		check: aWantOne("", "", SeverityCritical, "", "")},
	{name: "unknown severity name falls back to risk score", body: aESDoc(`,"kibana.alert.severity":"urgent","kibana.alert.risk_score":"50"`),
		check: aWantOne("", "", SeverityHigh, "", "")},
	{name: "recovered is resolved", body: aESDoc(`,"kibana.alert.status":"recovered"`), check: aWantOne("", "", "", StatusResolved, "")},
	{name: "active is firing", body: aESDoc(`,"kibana.alert.status":"active"`), check: aWantOne("", "", "", StatusFiring, "")},
	{name: "original_time when @timestamp is missing",
		body:  `{"kibana.alert.uuid":"t","kibana.alert.original_time":"2024-02-29T23:59:59+05:00"}`,
		check: aWantOne("elastic:t", "Elastic Security alert", "", "", "2024-02-29T18:59:59Z")},
	{name: "id from _id when there is no uuid",
		body:  `{"_id":"hit-7","_source":` + aESDoc(``) + `}`,
		check: aWantOne("elastic:hit-7", "R", "", "", "")},
	{name: "empty array", body: `[]`,
		wantErr: []string{"elastic: expected an Elastic Security alert document", "got an empty JSON array"}},
	{name: "search response without hits", body: `{"hits":{"total":{"value":0},"hits":[]}}`,
		wantErr: []string{"elastic: expected an Elastic Security alert document", "got a search response with no hits"}},
	{name: "document without kibana.alert fields", body: `{"@timestamp":"2024-03-01T10:00:00Z","host":{"name":"x"}}`,
		wantErr: []string{"elastic: expected an Elastic Security alert document with kibana.alert.* fields", "got a JSON object without kibana.alert.uuid"}},
	{name: "second element not a document", body: `[` + aESOther + `,"x"]`,
		wantErr: []string{`elastic: [1]: expected an Elastic Security alert document`, `got a JSON string ("x")`}},
	{name: "hit with a bad _source", body: `{"hits":{"hits":[{"_id":"a","_source":[]}]}}`,
		wantErr: []string{`elastic: hits.hits[0]: expected a search hit whose "_source" is an alert document, got "_source" as an empty JSON array`}},
	{name: "hit whose _source is not an alert", body: `{"_id":"a","_source":{"message":"hi"}}`,
		wantErr: []string{`elastic: expected an Elastic Security alert document`}},
	{name: "no time", body: `{"kibana.alert.uuid":"x"}`,
		wantErr: []string{`elastic: @timestamp: missing time`}},
	{name: "bad time", body: `{"kibana.alert.uuid":"x","@timestamp":"now"}`,
		wantErr: []string{`elastic: @timestamp: unrecognised time "now"`}},
}

func TestElasticCases(t *testing.T) { aRunCases(t, Elastic{}, aElasticCases) }

// Elastic's rule editor bands: 0–21 low, 22–47 medium, 48–73 high, 74–100
// critical; out of range is no score at all.
func TestElasticRiskScoreBands(t *testing.T) {
	for score, want := range map[string]Severity{
		"0": SeverityLow, "21": SeverityLow, "21.5": SeverityLow, "22": SeverityMedium, "47": SeverityMedium,
		"48": SeverityHigh, "73": SeverityHigh, "74": SeverityCritical, "99": SeverityCritical, "100": SeverityCritical,
		"101": SeverityInformational, "-1": SeverityInformational, `"47"`: SeverityMedium, `"high"`: SeverityInformational, "null": SeverityInformational,
	} {
		body := aESDoc(fmt.Sprintf(`,"kibana.alert.uuid":"x","kibana.alert.risk_score":%s`, score))
		if got := aSev(t, Elastic{}, body, SeverityInformational); got != want {
			t.Errorf("risk_score %s: got %s, want %s", score, got, want)
		}
	}
}

func TestElasticStableIDs(t *testing.T) {
	// Without uuid or _id the id is a hash of the document: independent of
	// spacing and key order, different for different documents.
	a := aNormalize(t, Elastic{}, aESDoc(`,"host.name":"a"`), Options{})[0].ID
	a2 := aNormalize(t, Elastic{}, "{\n  \"host.name\": \"a\",\n  \"kibana.alert.rule.name\": \"R\",  \"@timestamp\":\"2024-03-01T10:00:00Z\"}", Options{})[0].ID
	b := aNormalize(t, Elastic{}, aESDoc(`,"host.name":"b"`), Options{})[0].ID
	if a != a2 {
		t.Errorf("same document, different ids: %s %s", a, a2)
	}
	if a == b {
		t.Errorf("different documents share id %s", a)
	}
	// The same alert in every envelope has the same id.
	for _, body := range []string{aESDotted, aESNested, aESMixed, `[` + aESDotted + `]`, `{"_id":"u-1","_source":` + aESNested + `}`} {
		if id := aNormalize(t, Elastic{}, body, Options{})[0].ID; id != "elastic:u-1" {
			t.Errorf("id %s for %s", id, body)
		}
	}
}
