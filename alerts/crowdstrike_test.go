package alerts

import (
	"fmt"
	"strings"
	"testing"
)

func bFalcon(md, ev string) string {
	return fmt.Sprintf(`{"metadata":{"customerIDString":"cid1","offset":42,"eventType":"DetectionSummaryEvent","eventCreationTime":1700000000123,"version":"1.0"%s},"event":{"CompositeId":"cid1:ind:aid1:111-222","Hostname":"WS-17","UserName":"bob"%s}}`, md, ev)
}

func TestCrowdStrikeSeverityB(t *testing.T) {
	tests := []struct {
		ev   string
		want Severity
	}{
		{`,"SeverityName":"Critical","Severity":10`, SeverityCritical}, // the name wins
		{`,"SeverityName":"informational"`, SeverityInformational},
		{`,"SeverityName":"Medium"`, SeverityMedium},
		{`,"Severity":0`, SeverityInformational},
		{`,"Severity":19`, SeverityInformational},
		{`,"Severity":20`, SeverityLow},
		{`,"Severity":39`, SeverityLow},
		{`,"Severity":40`, SeverityMedium},
		{`,"Severity":59`, SeverityMedium},
		{`,"Severity":60`, SeverityHigh},
		{`,"Severity":79`, SeverityHigh},
		{`,"Severity":80`, SeverityCritical},
		{`,"Severity":100`, SeverityCritical},
		{`,"Severity":101`, SeverityLow}, // out of range: default
		{`,"Severity":-1`, SeverityLow},
		{`,"SeverityName":"Unknown","Severity":70`, SeverityHigh},
		{``, SeverityLow},
	}
	for _, tt := range tests {
		t.Run(tt.ev, func(t *testing.T) {
			opts := Options{Source: "falcon", DefaultSeverity: SeverityLow}
			as, err := CrowdStrike{}.Normalize([]byte(bFalcon("", tt.ev)), opts)
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

func TestCrowdStrikeIDB(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"composite", bFalcon("", `,"AggregateId":"agg1"`), "crowdstrike:cid1:ind:aid1:111-222"},
		{"aggregate", strings.Replace(bFalcon("", `,"AggregateId":"aggind:aid1:9"`), `"CompositeId":"cid1:ind:aid1:111-222",`, "", 1), "crowdstrike:aggind:aid1:9"},
		{"detect id", strings.Replace(bFalcon("", `,"DetectId":"ldt:aid1:77"`), `"CompositeId":"cid1:ind:aid1:111-222",`, "", 1), "crowdstrike:ldt:aid1:77"},
		{"offset", strings.Replace(bFalcon("", ""), `"CompositeId":"cid1:ind:aid1:111-222",`, "", 1), "crowdstrike:cid1/42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := bSame(t, CrowdStrike{}, []byte(tt.body))
			if len(as) != 1 || as[0].ID != tt.want {
				t.Fatalf("got %+v, want id %q", as, tt.want)
			}
		})
	}
	noID := strings.Replace(strings.Replace(bFalcon("", ""), `"CompositeId":"cid1:ind:aid1:111-222",`, "", 1), `"offset":42,`, "", 1)
	bWantErr(t, CrowdStrike{}, noID, "crowdstrike: ", `"event.CompositeId"`, `"metadata.offset"`)
}

func TestCrowdStrikeFieldsB(t *testing.T) {
	ev := `,"Name":"","DetectName":"Credential Dumping","Description":"desc","LocalIP":"10.1.2.3","ExternalIP":"198.51.100.1",
"SHA256String":"` + strings.Repeat("e", 64) + `","MD5String":"` + strings.Repeat("f", 32) + `","SHA1String":"` + strings.Repeat("0", 40) + `",
"FilePath":"\\Device\\HarddiskVolume1\\Windows\\Temp","FileName":"mimi.exe","CommandLine":"mimi.exe privilege::debug",
"IOCType":"domain","IOCValue":"bad.example","Tactic":"Credential Access","Technique":"OS Credential Dumping","Objective":"Gain Access",
"FalconHostLink":"https://falcon.crowdstrike.com/x","PatternDispositionDescription":"Detection, standard detection."`
	opts := Options{Source: "falcon"}
	as, err := CrowdStrike{}.Normalize([]byte(bFalcon("", ev)), opts)
	if err != nil {
		t.Fatal(err)
	}
	bCheckAlerts(t, as, opts)
	a := as[0]
	want := []Observable{
		{ObsHostname, "ws-17"}, {ObsUser, "bob"}, {ObsIP, "10.1.2.3"}, {ObsIP, "198.51.100.1"},
		{ObsHashSHA256, strings.Repeat("e", 64)}, {ObsHashMD5, strings.Repeat("f", 32)},
		{ObsFile, `\Device\HarddiskVolume1\Windows\Temp\mimi.exe`}, {ObsProcess, "mimi.exe privilege::debug"},
		{ObsDomain, "bad.example"},
	}
	if fmt.Sprint(a.Observables) != fmt.Sprint(want) {
		t.Errorf("observables =\n%v\nwant\n%v", a.Observables, want)
	}
	if a.Title != "Credential Dumping" {
		t.Errorf("title = %q", a.Title)
	}
	if got := a.ObservedAt.Format("2006-01-02T15:04:05.000Z07:00"); got != "2023-11-14T22:13:20.123Z" {
		t.Errorf("observed_at = %s", got)
	}
	for k, v := range map[string]string{"eventType": "DetectionSummaryEvent", "Tactic": "Credential Access",
		"Technique": "OS Credential Dumping", "Objective": "Gain Access", "FalconHostLink": "https://falcon.crowdstrike.com/x",
		"PatternDispositionDescription": "Detection, standard detection.", "customerIDString": "cid1", "offset": "42"} {
		if a.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, a.Labels[k], v)
		}
	}

	// IOC types.
	for typ, want := range map[string]Observable{
		"hash_md5":    {ObsHashMD5, strings.Repeat("1", 32)},
		"hash_sha1":   {ObsHashSHA1, strings.Repeat("1", 40)},
		"ipv4":        {ObsIP, "192.0.2.44"},
		"ipv6":        {ObsIP, "2001:db8::44"},
		"url":         {ObsURL, "http://x.example/p"},
		"filename":    {ObsFile, "evil.dll"},
		"registry":    {ObsIP, "192.0.2.45"}, // unknown type: only an IP is typed
		"hash_sha256": {ObsHashSHA256, strings.Repeat("1", 64)},
	} {
		ev := fmt.Sprintf(`,"IOCType":%q,"IOCValue":%q`, typ, want.Value)
		as, err := CrowdStrike{}.Normalize([]byte(bFalcon("", ev)), opts)
		if err != nil {
			t.Fatal(err)
		}
		if !bHasObs(as[0], want) {
			t.Errorf("IOCType %s: %v missing from %v", typ, want, as[0].Observables)
		}
	}
	as, _ = CrowdStrike{}.Normalize([]byte(bFalcon("", `,"IOCType":"registry_key","IOCValue":"HKLM\\Run\\x"`)), opts)
	if len(as[0].Observables) != 2 {
		t.Errorf("registry IOC should be skipped: %v", as[0].Observables)
	}
}

func TestCrowdStrikeTimeB(t *testing.T) {
	noCreation := strings.Replace(bFalcon("", `,"ProcessStartTime":1718032715`), `"eventCreationTime":1700000000123,`, "", 1)
	as, err := CrowdStrike{}.Normalize([]byte(noCreation), Options{})
	if err != nil || as[0].ObservedAt.Unix() != 1718032715 {
		t.Fatalf("ProcessStartTime fallback (epoch s): %v %v", as, err)
	}
	none := strings.Replace(bFalcon("", ""), `"eventCreationTime":1700000000123,`, "", 1)
	bWantErr(t, CrowdStrike{}, none, "crowdstrike: metadata.eventCreationTime: missing time")
	bWantErr(t, CrowdStrike{}, bFalcon(``, ``)+"\n"+strings.Replace(bFalcon("", ""), "1700000000123", `"soon"`, 1),
		"crowdstrike: line 2: metadata.eventCreationTime")
}

func TestCrowdStrikeNDJSONB(t *testing.T) {
	second := strings.Replace(bFalcon("", ""), "111-222", "333-444", 1)
	opts := Options{Source: "falcon"}
	as, err := CrowdStrike{}.Normalize([]byte(bFalcon("", "")+"\n\n"+second+"\n"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 || as[0].ID == as[1].ID {
		t.Fatalf("got %+v", as)
	}
	bCheckAlerts(t, as, opts)
	if string(as[1].Raw) != second {
		t.Errorf("raw = %s", as[1].Raw)
	}
	bWantErr(t, CrowdStrike{}, bFalcon("", "")+"\n"+`{"metadata":{}}`, "crowdstrike: line 2: expected a falcon event stream record")
}

func TestCrowdStrikeWrongBodiesB(t *testing.T) {
	bTestWrongBodies(t, CrowdStrike{}, "crowdstrike", "expected a falcon event stream record", "qradar/xsoar_qradar_v3_offense_15_multiple_login_failures.json")
}
