package alerts

import (
	"os"
	"path/filepath"
	"testing"
)

// bFuzzSeeds adds every fixture of the formats, so that each target also
// sees the other vendors' payloads, plus the inline cases.
func bFuzzSeeds(f *testing.F, inline ...string) {
	f.Helper()
	files, _ := filepath.Glob(filepath.Join("testdata", "fixtures", "*", "*.json"))
	more, _ := filepath.Glob(filepath.Join("testdata", "generic", "*.json"))
	for _, p := range append(files, more...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range append(inline, ``, `[]`, `{}`, `null`, `"x"`, `1e999`, `[{}]`, "{}\n{}", `{"a":`) {
		f.Add([]byte(s))
	}
}

// bFuzzCheck asserts the invariants every normaliser keeps on any input.
func bFuzzCheck(t *testing.T, n Normalizer, body []byte) {
	opts := Options{Source: "fuzz"}
	as, err := n.Normalize(body, opts)
	if err != nil {
		if as != nil {
			t.Fatalf("alerts returned with error %v", err)
		}
		return
	}
	if len(as) == 0 {
		t.Fatalf("no alerts and no error")
	}
	bCheckAlerts(t, as, opts)
	again, err := n.Normalize(body, opts)
	if err != nil || len(again) != len(as) {
		t.Fatalf("second run differs: %d alerts, %v", len(again), err)
	}
	for i := range as {
		if as[i].ID != again[i].ID {
			t.Fatalf("alert %d: id %q then %q", i, as[i].ID, again[i].ID)
		}
	}
}

func FuzzGraylog(f *testing.F) {
	bFuzzSeeds(f, bGraylogBody(`,"priority":3,"fields":{"src_ip":"10.0.0.1","user":["a","b"],"md5":1}`),
		`{"event":{"id":"x","timestamp":1}}`, `{"event":{"id":5,"timestamp":"2024-01-01T00:00:00Z","priority":"4","source":"[::1]:80"}}`)
	f.Fuzz(func(t *testing.T, body []byte) { bFuzzCheck(t, Graylog{}, body) })
}

func FuzzSuricata(f *testing.F) {
	bFuzzSeeds(f, bEVE(1, `,"severity":1`, `,"http":{"hostname":"h","url":"/x","http_port":"a:b"}`)+"\n"+bEVEFlow,
		bEVE(2, "", `,"dns":{"query":[{"rrname":"a."},1,null]},"fileinfo":{"sha256":7}`),
		`{"event_type":"alert","alert":{"signature_id":1},"timestamp":"2018-10-03T14:42:44.836744+0000"}`,
		`{"event_type":"alert","alert":{"signature_id":1},"timestamp":1e300}`)
	f.Fuzz(func(t *testing.T, body []byte) { bFuzzCheck(t, Suricata{}, body) })
}

func FuzzCrowdStrike(f *testing.F) {
	bFuzzSeeds(f, bFalcon("", `,"Severity":85,"IOCType":"ipv6","IOCValue":"::1","FilePath":"\\x\\","FileName":"y"`),
		`{"metadata":{"offset":1,"eventCreationTime":"1"},"event":{}}`,
		bFalcon("", "")+"\n"+bFalcon("", `,"SeverityName":"HIGH"`))
	f.Fuzz(func(t *testing.T, body []byte) { bFuzzCheck(t, CrowdStrike{}, body) })
}

func FuzzQRadar(f *testing.F) {
	bFuzzSeeds(f, bOffense(1, `,"severity":7`), "["+bOffense(2, "")+","+bOffense(3, `,"status":"CLOSED"`)+"]",
		`{"id":9223372036854775807,"start_time":0}`, `{"id":1,"start_time":1,"offense_type":"7","offense_source":"[::1]:1"}`)
	f.Fuzz(func(t *testing.T, body []byte) { bFuzzCheck(t, QRadar{}, body) })
}

func FuzzTheHive(f *testing.F) {
	bFuzzSeeds(f, bHiveAlert(`,"artifacts":[{"dataType":"file","data":";"},{"dataType":"hash","data":["a",1]}]`),
		`{"objectType":"alert","object":{"type":"t","source":"s","sourceRef":"r","createdAt":"1"}}`,
		bHiveAlert(`,"observables":[{"dataType":"file","attachment":{"name":7}}],"status":"Ignored"`))
	f.Fuzz(func(t *testing.T, body []byte) { bFuzzCheck(t, TheHive{}, body) })
}

func bFuzzGenericMapping() GenericMapping {
	return GenericMapping{
		ID:          `has(event.id) ? string(event.id) : event.uuid`,
		Title:       "$.title",
		Severity:    "$.sev",
		SeverityMap: map[string]string{"1": "low", "p1": "critical"},
		Time:        `event.?time.orValue(event.?ts.orValue(null))`,
		Status:      "$.status",
		Observables: []GenericObservable{
			{Type: ObsIP, Value: "$.hosts[*].ip"},
			{Type: ObsHostname, Value: `event.?hosts.orValue([]).map(h, h.name)`},
			{Type: ObsHashSHA256, Value: "$['hash']"},
		},
		Labels: map[string]string{"a": "$.a.b.c", "tags": `event.tags.join(",")`, "n": "event.n * 2"},
	}
}

func FuzzGeneric(f *testing.F) {
	g, err := NewGeneric("fuzz", bFuzzGenericMapping())
	if err != nil {
		f.Fatal(err)
	}
	bFuzzSeeds(f, `{"id":12345678901234567890,"title":"t","time":1,"hosts":[{"ip":"::1","name":"h"},{"ip":1}],"tags":["a","b"],"n":3}`,
		`[{"uuid":"u","title":1,"ts":"2024-01-01T00:00:00Z","sev":"P1","status":false,"n":1.5}]`,
		`{"id":"x","title":"t","time":"1","tags":[1],"n":"s"}`,
		`{"id":-1,"title":"t","time":1e12,"n":9223372036854775807}`)
	f.Fuzz(func(t *testing.T, body []byte) { bFuzzCheck(t, g, body) })
}
