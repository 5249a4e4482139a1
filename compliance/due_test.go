package compliance

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func ts(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("bad test time %q: %v", s, err)
	}
	return v
}

func mustLoad(t *testing.T) *Catalogue {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// ev is a compact way to write events: "name=RFC3339".
func ev(t *testing.T, kv ...string) Events {
	t.Helper()
	out := Events{}
	for _, p := range kv {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			t.Fatalf("bad event %q", p)
		}
		out[k] = ts(t, v)
	}
	return out
}

func TestDueAt(t *testing.T) {
	c := mustLoad(t)
	cases := []struct {
		name   string
		stage  string
		events []string
		policy PolicyTargets
		want   string // RFC 3339 UTC; "" = not armed (null due_at)
		basis  string
	}{
		// Hour periods: elapsed time on UTC instants, across DST changes.
		{"gdpr 72h across EU spring DST", "gdpr-art33-initial", []string{"aware=2026-03-28T10:00:00+01:00"}, nil, "2026-03-31T09:00:00Z", "law"},
		{"gdpr 72h across EU autumn DST", "gdpr-art33-initial", []string{"aware=2026-10-24T10:00:00+02:00"}, nil, "2026-10-27T08:00:00Z", "law"},
		{"uk gdpr 72h over a weekend", "ukgdpr-art33-ico", []string{"aware=2026-03-28T23:30:00Z"}, nil, "2026-03-31T23:30:00Z", "law"},
		{"nis2 early warning 24h across DST", "nis2-early-warning", []string{"aware=2026-03-28T10:00:00+01:00"}, nil, "2026-03-29T09:00:00Z", "law"},
		{"nis2 notification 72h across DST", "nis2-incident-notification", []string{"aware=2026-03-28T10:00:00+01:00"}, nil, "2026-03-31T09:00:00Z", "law"},
		{"nydfs 72h across US DST end", "nydfs-50017a-incident", []string{"aware=2026-11-01T01:30:00-04:00"}, nil, "2026-11-04T05:30:00Z", "law"},
		{"nydfs extortion payment 24h", "nydfs-50017c-payment-notice", []string{"ransom_paid=2026-02-10T12:00:00Z"}, nil, "2026-02-11T12:00:00Z", "law"},
		{"cert-in 6h", "in-certin-6h", []string{"aware=2026-07-10T22:00:00+05:30"}, nil, "2026-07-10T22:30:00Z", "law"},
		{"swiss isa 24h from discovery", "ch-isa-ncsc", []string{"discovered=2026-12-31T23:00:00+01:00"}, nil, "2027-01-01T22:00:00Z", "law"},

		// DORA initial: min(classification+4h, awareness+24h), or
		// classification+4h when classification comes after the 24 h.
		{"dora classification early: c+4h wins", "dora-initial", []string{"aware=2026-05-04T08:00:00Z", "classified_major=2026-05-04T10:00:00Z"}, nil, "2026-05-04T14:00:00Z", "law"},
		{"dora classification at 22h: a+24h wins", "dora-initial", []string{"aware=2026-05-04T08:00:00Z", "classified_major=2026-05-05T06:00:00Z"}, nil, "2026-05-05T08:00:00Z", "law"},
		{"dora classification exactly at 20h: both equal", "dora-initial", []string{"aware=2026-05-04T08:00:00Z", "classified_major=2026-05-05T04:00:00Z"}, nil, "2026-05-05T08:00:00Z", "law"},
		{"dora classification after 24h: c+4h", "dora-initial", []string{"aware=2026-05-04T08:00:00Z", "classified_major=2026-05-06T09:00:00Z"}, nil, "2026-05-06T13:00:00Z", "law"},
		{"dora classification exactly at 24h: backstop not yet passed, due at once", "dora-initial", []string{"aware=2026-05-04T08:00:00Z", "classified_major=2026-05-05T08:00:00Z"}, nil, "2026-05-05T08:00:00Z", "law"},
		{"dora classification before awareness recorded order: c+4h", "dora-initial", []string{"classified_major=2026-05-04T08:00:00Z", "aware=2026-05-04T07:00:00Z"}, nil, "2026-05-04T12:00:00Z", "law"},
		{"dora not yet classified: provisional a+24h", "dora-initial", []string{"aware=2026-05-04T08:00:00Z"}, nil, "2026-05-05T08:00:00Z", "law"},
		{"dora intermediate 72h after actual initial submission", "dora-intermediate", []string{"aware=2026-05-04T08:00:00Z", "submitted:dora-initial=2026-05-04T13:10:00Z"}, nil, "2026-05-07T13:10:00Z", "law"},
		{"dora intermediate not armed", "dora-intermediate", []string{"aware=2026-05-04T08:00:00Z", "classified_major=2026-05-04T10:00:00Z"}, nil, "", ""},
		{"dora final one month after intermediate", "dora-final", []string{"submitted:dora-intermediate=2026-05-07T12:00:00Z"}, nil, "2026-06-07T12:00:00Z", "law"},
		{"dora final re-anchored on latest update", "dora-final", []string{"submitted:dora-intermediate=2026-05-07T12:00:00Z", "submitted:dora-intermediate-update=2026-05-20T09:00:00Z"}, nil, "2026-06-20T09:00:00Z", "law"},

		// Chained calendar-month stages, clamped at month end.
		{"nis2 final: 31 Jan submission clamps to 28 Feb", "nis2-final", []string{"submitted:nis2-incident-notification=2026-01-31T10:00:00Z"}, nil, "2026-02-28T10:00:00Z", "law"},
		{"nis2 final: 31 Jan 2028 clamps to 29 Feb (leap)", "nis2-final", []string{"submitted:nis2-incident-notification=2028-01-31T09:00:00Z"}, nil, "2028-02-29T09:00:00Z", "law"},
		{"nis2 final: 31 Mar clamps to 30 Apr", "nis2-final", []string{"submitted:nis2-incident-notification=2026-03-31T20:00:00Z"}, nil, "2026-04-30T20:00:00Z", "law"},
		{"nis2 final keeps Brussels wall time across DST", "nis2-final", []string{"submitted:nis2-incident-notification=2026-03-15T12:00:00Z"}, nil, "2026-04-15T11:00:00Z", "law"},
		{"nis2 final not armed before submission", "nis2-final", []string{"aware=2026-03-28T10:00:00+01:00"}, nil, "", ""},
		{"nis2 final after progress report: handling completed", "nis2-final-after-progress", []string{"submitted:nis2-progress=2026-04-01T10:00:00Z", "handling_completed=2026-06-10T08:00:00Z"}, nil, "2026-07-10T08:00:00Z", "law"},
		{"bsig abschlussmeldung: Berlin date decides the month", "de-bsig32-abschlussmeldung", []string{"submitted:de-bsig32-meldung=2026-10-30T23:30:00Z"}, nil, "2026-11-29T23:30:00Z", "law"},
		{"cra incident final: 31 May clamps to 30 Jun", "cra-incident-final", []string{"submitted:cra-incident-notification=2026-05-31T08:00:00Z"}, nil, "2026-06-30T08:00:00Z", "law"},

		// Calendar days in the stage's zone.
		{"cra vulnerability final 14 days after fix", "cra-vuln-final", []string{"fix_available=2026-01-31T10:00:00Z"}, nil, "2026-02-14T10:00:00Z", "law"},
		{"eprivacy 611 second notice 3 days, Brussels wall time across DST", "eu-eprivacy-611-second", []string{"submitted:eu-eprivacy-611-initial=2026-03-27T12:00:00Z"}, nil, "2026-03-30T11:00:00Z", "law"},
		{"nydfs explanation 30 days keeps ET wall time across DST", "nydfs-50017c-explanation", []string{"ransom_paid=2026-02-10T12:00:00Z"}, nil, "2026-03-12T11:00:00Z", "law"},
		{"hipaa individuals 60 days", "hipaa-individuals", []string{"discovered=2026-03-01T10:00:00-05:00"}, nil, "2026-04-30T14:00:00Z", "law"},

		// HIPAA under-500 batch: 60 days after 31 Dec of the discovery year,
		// end of day ET. Jan has 31 days, so day 60 is 29 Feb when the
		// following year is a leap year, else 1 Mar.
		{"hipaa under-500 discovered 2026: due 1 Mar 2027", "hipaa-hhs-under500", []string{"discovered=2026-06-15T12:00:00Z"}, nil, "2027-03-02T04:59:59Z", "law"},
		{"hipaa under-500 discovered 2027: due 29 Feb 2028 (leap)", "hipaa-hhs-under500", []string{"discovered=2027-08-01T12:00:00Z"}, nil, "2028-03-01T04:59:59Z", "law"},
		{"hipaa under-500 discovered in leap year 2028: due 1 Mar 2029", "hipaa-hhs-under500", []string{"discovered=2028-12-31T22:00:00-05:00"}, nil, "2029-03-02T04:59:59Z", "law"},
		{"hipaa under-500 discovered 31 Dec 2025 ET (1 Jan UTC): due 1 Mar 2026", "hipaa-hhs-under500", []string{"discovered=2026-01-01T03:00:00Z"}, nil, "2026-03-02T04:59:59Z", "law"},

		// SEC 8-K Item 1.05: 4 business days (US federal), 17:30 ET.
		{"sec over Thanksgiving and a weekend", "sec-8k-item105", []string{"materiality_determined=2026-11-25T15:00:00-05:00"}, nil, "2026-12-02T22:30:00Z", "law"},
		{"sec from a Friday over a weekend (EDT)", "sec-8k-item105", []string{"materiality_determined=2026-06-05T10:00:00-04:00"}, nil, "2026-06-11T21:30:00Z", "law"},
		{"sec determination after 20:00 ET is still that ET day", "sec-8k-item105", []string{"materiality_determined=2026-06-01T20:00:00-04:00"}, nil, "2026-06-05T21:30:00Z", "law"},
		{"sec over observed Independence Day (Fri 3 Jul)", "sec-8k-item105", []string{"materiality_determined=2026-07-01T12:00:00-04:00"}, nil, "2026-07-08T21:30:00Z", "law"},
		{"sec over Christmas", "sec-8k-item105", []string{"materiality_determined=2026-12-23T09:00:00-05:00"}, nil, "2026-12-30T22:30:00Z", "law"},
		{"sec over New Year 2028 observed Fri 31 Dec 2027", "sec-8k-item105", []string{"materiality_determined=2027-12-29T10:00:00-05:00"}, nil, "2028-01-05T22:30:00Z", "law"},
		{"sec over MLK day", "sec-8k-item105", []string{"materiality_determined=2026-01-15T16:00:00-05:00"}, nil, "2026-01-22T22:30:00Z", "law"},
		{"sec cut-off moves with US DST", "sec-8k-item105", []string{"materiality_determined=2026-03-05T11:00:00-05:00"}, nil, "2026-03-11T21:30:00Z", "law"},
		{"sec determined on a Saturday", "sec-8k-item105", []string{"materiality_determined=2026-06-06T10:00:00-04:00"}, nil, "2026-06-11T21:30:00Z", "law"},

		// Brazil LGPD: 3 business days (br_national), end of day Brasília.
		{"anpd over Carnival 2026", "br-lgpd-anpd", []string{"aware=2026-02-13T10:00:00-03:00"}, nil, "2026-02-21T02:59:59Z", "law"},
		{"anpd over Tiradentes", "br-lgpd-anpd", []string{"aware=2026-04-20T15:00:00-03:00"}, nil, "2026-04-25T02:59:59Z", "law"},
		{"anpd over Good Friday", "br-lgpd-anpd", []string{"aware=2026-04-01T09:00:00-03:00"}, nil, "2026-04-08T02:59:59Z", "law"},
		{"titulares over Corpus Christi", "br-lgpd-titulares", []string{"aware=2026-06-03T18:00:00-03:00"}, nil, "2026-06-10T02:59:59Z", "law"},
		{"anpd complement 20 business days over Finados and Consciencia Negra", "br-lgpd-anpd-complement", []string{"submitted:br-lgpd-anpd=2026-10-30T12:00:00-03:00"}, nil, "2026-12-02T02:59:59Z", "law"},

		// Singapore PDPC: 3 calendar days after the assessment day, end of day SGT.
		{"sg pdpc end of day", "sg-pdpa-pdpc", []string{"assessed_notifiable=2026-03-02T15:00:00+08:00"}, nil, "2026-03-05T15:59:59Z", "law"},
		{"sg pdpc over the new year", "sg-pdpa-pdpc", []string{"assessed_notifiable=2026-12-30T23:30:00+08:00"}, nil, "2027-01-02T15:59:59Z", "law"},
		{"sg pdpc assessment day is the SGT date", "sg-pdpa-pdpc", []string{"assessed_notifiable=2026-12-30T16:00:00Z"}, nil, "2027-01-03T15:59:59Z", "law"},

		// No fixed period: company policy target.
		{"gdpr art 34 default policy target", "gdpr-art34-data-subjects", []string{"aware=2026-03-28T09:00:00Z"}, nil, "2026-03-31T09:00:00Z", "policy"},
		{"gdpr art 34 stage policy target", "gdpr-art34-data-subjects", []string{"aware=2026-03-28T09:00:00Z"}, PolicyTargets{"gdpr-art34-data-subjects": 48 * time.Hour, "gdpr": 24 * time.Hour}, "2026-03-30T09:00:00Z", "policy"},
		{"gdpr phased follow-up: regime policy target from submission", "gdpr-art33-phased", []string{"submitted:gdpr-art33-initial=2026-03-30T09:00:00Z"}, PolicyTargets{"gdpr": 24 * time.Hour, "default": 96 * time.Hour}, "2026-03-31T09:00:00Z", "policy"},
		{"gdpr phased follow-up not armed", "gdpr-art33-phased", []string{"aware=2026-03-28T09:00:00Z"}, nil, "", ""},
		{"swiss fdpic default key", "ch-fadp-fdpic", []string{"aware=2026-03-28T09:00:00Z"}, PolicyTargets{"default": 12 * time.Hour}, "2026-03-28T21:00:00Z", "policy"},
	}
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, ok := c.Stage(tc.stage)
			if !ok {
				t.Fatalf("no stage %q", tc.stage)
			}
			due, basis, err := DueAt(s, ev(t, tc.events...), tc.policy)
			if tc.want == "" {
				if !errors.Is(err, ErrNotArmed) || due != nil {
					t.Fatalf("want not armed, got %v, %v", due, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DueAt: %v", err)
			}
			if got := due.Format(time.RFC3339); got != tc.want {
				t.Errorf("due_at = %s, want %s", got, tc.want)
			}
			if due.Location() != time.UTC {
				t.Errorf("due_at not in UTC: %v", due.Location())
			}
			if basis != tc.basis {
				t.Errorf("basis = %q, want %q", basis, tc.basis)
			}
		})
	}
}

func TestAddMonthsClamped(t *testing.T) {
	cases := []struct{ in, want string }{
		{"2026-01-31T10:00:00Z", "2026-02-28T10:00:00Z"},
		{"2028-01-31T10:00:00Z", "2028-02-29T10:00:00Z"},
		{"2026-03-31T00:00:00Z", "2026-04-30T00:00:00Z"},
		{"2026-12-31T23:00:00Z", "2027-01-31T23:00:00Z"},
		{"2026-01-15T08:00:00Z", "2026-02-15T08:00:00Z"},
	}
	for _, tc := range cases {
		if got := AddMonthsClamped(ts(t, tc.in), 1).Format(time.RFC3339); got != tc.want {
			t.Errorf("%s + 1 month = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestAddBusinessDays(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	sp, _ := time.LoadLocation("America/Sao_Paulo")
	cases := []struct {
		name, start string
		n           int
		cal         string
		loc         *time.Location
		want        string
	}{
		{"trigger day not counted even on a business day", "2026-06-01T08:00:00-04:00", 1, "us_federal", ny, "2026-06-02T00:00:00-04:00"},
		{"skips Thanksgiving", "2026-11-25T12:00:00-05:00", 1, "us_federal", ny, "2026-11-27T00:00:00-05:00"},
		{"skips Carnival Monday and Tuesday", "2026-02-13T12:00:00-03:00", 1, "br_national", sp, "2026-02-18T00:00:00-03:00"},
		{"n=0 is the start of the trigger day", "2026-06-01T08:00:00-04:00", 0, "us_federal", ny, "2026-06-01T00:00:00-04:00"},
		{"weekdays calendar ignores holidays", "2026-12-24T12:00:00Z", 1, "weekdays", time.UTC, "2026-12-25T00:00:00Z"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := AddBusinessDays(ts(t, tc.start), tc.n, tc.cal, tc.loc)
			if !got.Equal(ts(t, tc.want)) {
				t.Errorf("got %s, want %s", got.Format(time.RFC3339), tc.want)
			}
		})
	}
}

func TestIsBusinessDay(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	berlin, _ := time.LoadLocation("Europe/Berlin")
	cases := []struct {
		day, cal string
		loc      *time.Location
		want     bool
	}{
		{"2026-07-03T12:00:00-04:00", "us_federal", ny, false}, // 4 Jul on Saturday, observed Friday
		{"2027-12-31T12:00:00-05:00", "us_federal", ny, false}, // 1 Jan 2028 on Saturday, observed Friday
		{"2026-11-27T12:00:00-05:00", "us_federal", ny, true},  // day after Thanksgiving is not federal
		{"2026-05-14T12:00:00+02:00", "de_national", berlin, false},
		{"2026-05-11T12:00:00+02:00", "de_national", berlin, true},
	}
	for _, tc := range cases {
		got, err := IsBusinessDay(ts(t, tc.day), tc.cal, tc.loc)
		if err != nil || got != tc.want {
			t.Errorf("IsBusinessDay(%s, %s) = %v, %v; want %v", tc.day, tc.cal, got, err, tc.want)
		}
	}
	if _, err := IsBusinessDay(time.Time{}, "xx", time.UTC); err == nil {
		t.Error("want error for unknown calendar")
	}
}

func planIDs(p []Plan) []string {
	out := make([]string, len(p))
	for i, x := range p {
		out[i] = x.ID
	}
	return out
}

func TestPlanNIS2SortedNullsLast(t *testing.T) {
	c := mustLoad(t)
	p, err := c.Plan("nis2", ev(t, "aware=2026-03-28T10:00:00+01:00"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "nis2-early-warning,nis2-tsp-incident-notification,nis2-incident-notification,nis2-service-recipients,nis2-final,nis2-final-after-progress,nis2-progress"
	if got := strings.Join(planIDs(p), ","); got != want {
		t.Fatalf("plan order\n got %s\nwant %s", got, want)
	}
	for _, x := range p[4:] {
		if x.DueAt != nil {
			t.Errorf("%s: want null due_at, got %v", x.ID, x.DueAt)
		}
	}
	if p[3].Basis != BasisPolicy {
		t.Errorf("nis2-service-recipients basis = %q, want policy", p[3].Basis)
	}
}

func TestPlanJSON(t *testing.T) {
	c := mustLoad(t)
	p, err := c.Plan("cert-in", ev(t, "aware=2026-07-10T22:00:00+05:30"), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := c.Stage("in-certin-6h")
	rec, _ := json.Marshal(s.Recipient)
	reg, _ := json.Marshal(s.Regulation)
	want := `[{"id":"in-certin-6h","regulation":` + string(reg) + `,"stage":"initial","recipient":` + string(rec) +
		`,"due_at":"2026-07-10T22:30:00Z","basis":"law","depends_on":[]}]`
	if string(b) != want {
		t.Errorf("json\n got %s\nwant %s", b, want)
	}
	p, _ = c.Plan("nis2-final", ev(t, "aware=2026-03-28T10:00:00Z"), nil)
	if len(p) != 0 {
		t.Errorf("nis2-final alone without its dependency listed: got %v", planIDs(p))
	}
	p, _ = c.Plan("nis2", ev(t, "submitted:nis2-incident-notification=2026-01-31T10:00:00Z"), nil)
	b, _ = json.Marshal(p)
	if !strings.Contains(string(b), `"id":"nis2-final"`) || !strings.Contains(string(b), `"due_at":"2026-02-28T10:00:00Z"`) {
		t.Errorf("nis2 final not planned from submission: %s", b)
	}
}

func TestPlanDORAOuterBoundAndChain(t *testing.T) {
	c := mustLoad(t)
	// Initial submitted Wed 6 May 2026 10:00 UTC: intermediate due Sat 9 May
	// 10:00 UTC; relief to Mon 11 May 12:00 Berlin (10:00 UTC).
	p, err := c.Plan("dora", ev(t, "aware=2026-05-06T06:00:00Z", "classified_major=2026-05-06T07:00:00Z", "submitted:dora-initial=2026-05-06T10:00:00Z"), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Plan{}
	for _, x := range p {
		got[x.ID] = x
	}
	in := got["dora-intermediate"]
	if in.DueAt == nil || in.DueAt.Format(time.RFC3339) != "2026-05-09T10:00:00Z" {
		t.Fatalf("intermediate due = %v", in.DueAt)
	}
	if in.OuterBound == nil || in.OuterBound.Format(time.RFC3339) != "2026-05-11T10:00:00Z" {
		t.Errorf("intermediate outer bound = %v", in.OuterBound)
	}
	if ini := got["dora-initial"]; ini.DueAt == nil || ini.DueAt.Format(time.RFC3339) != "2026-05-06T11:00:00Z" || ini.OuterBound != nil {
		t.Errorf("initial = %+v", ini)
	}
	if f, ok := got["dora-final"]; !ok || f.DueAt != nil {
		t.Errorf("final should be listed with null due_at: %+v (listed %v)", f, ok)
	}
}

func TestPlanErrorsAndGating(t *testing.T) {
	c := mustLoad(t)
	e := ev(t, "aware=2026-03-28T09:00:00Z")
	if _, err := c.Plan("nope", e, nil); err == nil || !strings.Contains(err.Error(), `regime "nope"`) {
		t.Errorf("unknown regime: %v", err)
	}
	if _, err := c.Plan("gdpr", Events{"noticed": time.Time{}}, nil); err == nil || err.Error() != `unknown event "noticed"` {
		t.Errorf("unknown event: %v", err)
	}
	if _, err := c.Plan("gdpr", Events{"submitted:nope": time.Time{}}, nil); err == nil || err.Error() != `event "submitted:nope": no such stage` {
		t.Errorf("unknown submitted stage: %v", err)
	}
	if _, err := c.Plan("eu-omnibus", e, nil); err == nil {
		t.Error("proposed regime planned without Enable")
	}
	p, err := c.Enable("proposed").Plan("eu-omnibus", e, nil)
	if err != nil || len(p) != 1 || p[0].DueAt.Format(time.RFC3339) != "2026-04-01T09:00:00Z" {
		t.Errorf("enabled proposed: %v %v", p, err)
	}
	all1, _ := c.Plan("all", e, nil)
	all2, _ := c.Plan("all", e, nil)
	a, _ := json.Marshal(all1)
	b, _ := json.Marshal(all2)
	if string(a) != string(b) || len(all1) < 20 {
		t.Errorf("plan all not deterministic or too short (%d)", len(all1))
	}
	for _, x := range all1 {
		s, _ := c.Stage(x.ID)
		if s.Status != StatusInForce {
			t.Errorf("%s with status %s planned by default", x.ID, s.Status)
		}
	}
}
