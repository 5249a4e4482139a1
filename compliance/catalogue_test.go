package compliance

import (
	"strings"
	"testing"
)

func TestLoadEmbedded(t *testing.T) {
	c := mustLoad(t)
	if c.Version == "" {
		t.Fatal("catalogue has no version")
	}
	for _, id := range []string{
		"gdpr-art33-initial", "gdpr-art34-data-subjects", "ukgdpr-art33-ico", "nis2-early-warning",
		"nis2-incident-notification", "nis2-final", "dora-initial", "dora-intermediate", "dora-final",
		"sec-8k-item105", "hipaa-hhs-500plus", "hipaa-hhs-under500", "nydfs-50017a-incident",
		"in-certin-6h", "br-lgpd-anpd", "sg-pdpa-pdpc",
	} {
		s, ok := c.Stage(id)
		if !ok {
			t.Errorf("stage %q missing", id)
			continue
		}
		if s.Source == "" || s.Confidence == "" || s.Status == "" {
			t.Errorf("stage %q: source, confidence and status are required", id)
		}
	}
	if s, _ := c.Stage("gdpr-art33-initial"); s.OnLate != "reasons_required" {
		t.Errorf("gdpr art 33 late must require reasons, not close: %q", s.OnLate)
	}
	if s, _ := c.Stage("sec-8k-item105"); s.Calendar != "us_federal" || s.TimeZone != "America/New_York" || s.CutOff != "17:30" {
		t.Errorf("sec stage: %+v", s)
	}
	if got := len(c.Regime("dora")); got != 5 {
		t.Errorf("dora stages = %d, want 5", got)
	}
	if len(c.Regime("nope")) != 0 {
		t.Error("unknown regime has stages")
	}
}

const validStage = `
  - id: a
    regime: r
    regulation: R
    stage: initial
    recipient: X
    trigger: aware
    deadline: {amount: 72, unit: hours}
    calendar: none
    time_zone: UTC
    on_late: hard
    status: in_force
    source: https://example.test
    confidence: high
`

func TestParseValidation(t *testing.T) {
	cases := []struct {
		name, doc, want string
	}{
		{"duplicate id", "version: v\nstages:" + validStage + validStage, `stage "a": duplicate id`},
		{"missing version", "stages:" + validStage, `catalogue: version is required`},
		{"unknown depends_on", "version: v\nstages:" + validStage + strings.NewReplacer("id: a", "id: b", "on_late: hard", "on_late: hard\n    depends_on: [zz]").Replace(validStage), `stage "b": depends_on "zz": no such stage`},
		{"unknown trigger", "version: v\nstages:" + strings.Replace(validStage, "trigger: aware", "trigger: noticed", 1), `stage "a": unknown trigger event "noticed"`},
		{"submitted trigger not in depends_on", "version: v\nstages:" + validStage + strings.NewReplacer("id: a", "id: b", "trigger: aware", "trigger: submitted:a").Replace(validStage), `stage "b": trigger "submitted:a": stage "a" must be listed in depends_on`},
		{"unknown unit", "version: v\nstages:" + strings.Replace(validStage, "unit: hours", "unit: weeks", 1), `stage "a": unknown deadline unit "weeks"`},
		{"business days without calendar", "version: v\nstages:" + strings.Replace(validStage, "unit: hours", "unit: business_days", 1), `stage "a": business days need a known calendar, got "none"`},
		{"bad zone", "version: v\nstages:" + strings.Replace(validStage, "time_zone: UTC", "time_zone: Mars/Olympus", 1), `stage "a": unknown time zone "Mars/Olympus"`},
		{"bad cut-off", "version: v\nstages:" + strings.NewReplacer("unit: hours", "unit: days", "on_late: hard", "on_late: hard\n    cut_off: \"5pm\"").Replace(validStage), `stage "a": cut_off "5pm": want HH:MM or end_of_day`},
		{"none with amount", "version: v\nstages:" + strings.Replace(validStage, "unit: hours", "unit: none", 1), `stage "a": deadline unit none takes no amount`},
		{"unknown status", "version: v\nstages:" + strings.Replace(validStage, "status: in_force", "status: maybe", 1), `stage "a": unknown status "maybe"`},
		{"unknown key", "version: v\nstages:" + strings.Replace(validStage, "status: in_force", "status: in_force\n    colour: red", 1), `field colour not found`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := Parse([]byte("version: v\nstages:" + validStage)); err != nil {
		t.Fatalf("valid doc: %v", err)
	}
}
