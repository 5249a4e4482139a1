package alerts

import (
	"fmt"
	"strings"
	"testing"
)

func aWZ(id string, level string, extra string) string {
	idField := ""
	if id != "" {
		idField = fmt.Sprintf(`"id":%q,`, id)
	}
	return fmt.Sprintf(`{"timestamp":"2024-04-01T12:00:00.250+0200",%s"rule":{"level":%s,"description":"Test rule","id":"100200","groups":["web","attack"]},"agent":{"id":"002","name":"web01","ip":"10.0.0.2"},"manager":{"name":"wazuh-mgr"},"decoder":{"name":"web-accesslog"},"location":"/var/log/nginx/access.log"%s}`,
		idField, level, extra)
}

var aWazuhCases = []aCase{
	{
		name: "one alert",
		body: aWZ("1711965600.42", "10", `,"data":{"srcip":"198.51.100.20","dstip":"10.0.0.2","srcuser":"eve","dstuser":"www-data"}`),
		check: aAll(
			aWantOne("wazuh:1711965600.42", "Test rule", SeverityMedium, StatusFiring, "2024-04-01T10:00:00.25Z"),
			aWantObs("ip", "198.51.100.20", "ip", "10.0.0.2", "user", "eve", "user", "www-data", "hostname", "web01"),
			aWantLabels("rule.id", "100200", "rule.level", "10", "rule.groups", "web,attack", "agent.id", "002", "agent.name", "web01",
				"decoder.name", "web-accesslog", "location", "/var/log/nginx/access.log", "manager.name", "wazuh-mgr"),
		),
	},
	{
		name: "syscheck file and hashes",
		body: aWZ("1.1", "7", `,"syscheck":{"path":"/etc/passwd","md5_after":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","sha1_after":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","sha256_after":"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc","md5_before":"dddddddddddddddddddddddddddddddd"}`),
		check: aWantObs("hostname", "web01", "ip", "10.0.0.2", "file", "/etc/passwd",
			"hash_md5", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "hash_sha1", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
			"hash_sha256", "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"),
	},
	{name: "missing level gives the default", body: `{"timestamp":"2024-04-01T12:00:00Z","rule":{"id":"1"},"id":"1.2"}`,
		check: aWantOne("wazuh:1.2", "Wazuh rule 1", SeverityMedium, StatusFiring, "2024-04-01T12:00:00Z")},
	{name: "missing level gives the configured default", body: `{"timestamp":"2024-04-01T12:00:00Z","rule":{"id":"1"},"id":"1.2"}`,
		opts: Options{DefaultSeverity: SeverityHigh}, check: aWantOne("", "", SeverityHigh, "", "")},
	{
		name: "NDJSON with three alerts, blank lines and CRLF",
		body: aWZ("1.1", "3", ``) + "\r\n\r\n" + aWZ("1.2", "12", ``) + "\n   \n" + aWZ("1.3", "15", ``) + "\n",
		n:    3,
		check: func(t *testing.T, as []Alert) {
			for i, want := range []struct {
				id  string
				sev Severity
			}{{"wazuh:1.1", SeverityLow}, {"wazuh:1.2", SeverityHigh}, {"wazuh:1.3", SeverityCritical}} {
				if as[i].ID != want.id || as[i].Severity != want.sev {
					t.Errorf("[%d] = %s %s, want %s %s", i, as[i].ID, as[i].Severity, want.id, want.sev)
				}
			}
			if string(as[1].Raw) != aWZ("1.2", "12", ``) {
				t.Errorf("raw of line 3 = %s", as[1].Raw)
			}
		},
	},
	{
		name:  "pretty-printed single alert",
		body:  "{\n  \"timestamp\": \"2024-04-01T12:00:00.000+0000\",\n  \"rule\": {\n    \"level\": 12,\n    \"description\": \"x\"\n  },\n  \"id\": \"9.9\"\n}\n",
		check: aWantOne("wazuh:9.9", "x", SeverityHigh, "", "2024-04-01T12:00:00Z"),
	},
	{
		name: "no id: a stable hash",
		body: aWZ("", "5", ``),
		check: func(t *testing.T, as []Alert) {
			if !strings.HasPrefix(as[0].ID, "wazuh:") || len(as[0].ID) != len("wazuh:")+32 {
				t.Errorf("id = %s, want wazuh:<32 hex>", as[0].ID)
			}
		},
	},
	{name: "@timestamp when there is no timestamp", body: `{"@timestamp":"2024-04-01T12:00:00.000Z","rule":{"level":3},"id":"1.5"}`,
		check: aWantOne("", "", SeverityLow, "", "2024-04-01T12:00:00Z")},
	{name: "NDJSON with a bad third line", body: aWZ("1.1", "3", ``) + "\n" + aWZ("1.2", "3", ``) + "\n" + `{"timestamp": oops}` + "\n",
		wantErr: []string{`wazuh: line 3: expected a Wazuh alert object with "rule"`, `got invalid JSON at offset 14 (line 1, column 15)`}},
	{name: "NDJSON with a non-alert second line", body: aWZ("1.1", "3", ``) + "\n\n" + `{"event_type":"alert"}`,
		wantErr: []string{`wazuh: line 3: expected a Wazuh alert object with "rule"`, `got a JSON object without "rule"`}},
	{name: "NDJSON with a number line", body: aWZ("1.1", "3", ``) + "\n" + `7`,
		wantErr: []string{`wazuh: line 2: expected a Wazuh alert object with "rule"`, `got a JSON number (7)`}},
	{name: "alertmanager body", body: `{"version":"4","status":"firing","alerts":[]}`,
		wantErr: []string{`wazuh: expected a Wazuh alert object with "rule"`, `got a JSON object without "rule"`}},
	{name: "rule not an object", body: `{"rule":"5716","timestamp":"2024-04-01T12:00:00Z"}`,
		wantErr: []string{`wazuh: expected a Wazuh alert object with "rule"`, `got "rule" as a JSON string ("5716")`}},
	{name: "no timestamp", body: `{"rule":{"level":3},"id":"1"}`,
		wantErr: []string{`wazuh: timestamp: missing time`}},
	{name: "array", body: `[` + aWZ("1.1", "3", ``) + `]`,
		wantErr: []string{`wazuh: expected a Wazuh alert object with "rule"`, `got a JSON array of 1 element`}},
}

func TestWazuhCases(t *testing.T) { aRunCases(t, Wazuh{}, aWazuhCases) }

// DESIGN.md: 0–6 low, 7–11 medium, 12–14 high, 15 critical; Wazuh allows
// level 16 too. Anything else is no level.
func TestWazuhLevelBands(t *testing.T) {
	for level, want := range map[string]Severity{
		"0": SeverityLow, "1": SeverityLow, "6": SeverityLow, "7": SeverityMedium, "11": SeverityMedium,
		"12": SeverityHigh, "14": SeverityHigh, "15": SeverityCritical, "16": SeverityCritical,
		"17": SeverityInformational, "-1": SeverityInformational, "6.5": SeverityInformational,
		`"12"`: SeverityHigh, `"x"`: SeverityInformational, "null": SeverityInformational, "12.0": SeverityHigh,
	} {
		if got := aSev(t, Wazuh{}, aWZ("1.1", level, ``), SeverityInformational); got != want {
			t.Errorf("level %s: got %s, want %s", level, got, want)
		}
	}
}

func TestWazuhStableIDs(t *testing.T) {
	id := func(body string) string { return aNormalize(t, Wazuh{}, body, Options{})[0].ID }
	a := aWZ("", "5", `,"data":{"srcip":"192.0.2.1"}`)
	b := aWZ("", "5", `,"data":{"srcip":"192.0.2.2"}`) // same rule, agent and time
	if id(a) != id(a) {
		t.Error("same alert, different ids")
	}
	if id(a) == id(b) {
		t.Error("different alerts (same rule, agent and time) share an id")
	}
	if id(aWZ("1.1", "5", ``)) == id(aWZ("1.2", "5", ``)) {
		t.Error("different Wazuh ids share an id")
	}
}
