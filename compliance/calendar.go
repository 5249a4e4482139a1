package compliance

import (
	"fmt"
	"sort"
	"time"

	_ "time/tzdata" // deterministic zone data on every host

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/br"
	"github.com/rickar/cal/v2/de"
	"github.com/rickar/cal/v2/us"
)

// Business-day calendars. Holidays are data from github.com/rickar/cal/v2
// (versioned with go.mod), never hard-coded dates:
//
//   - us_federal: US federal holidays (5 U.S.C. 6103) with the federal
//     weekend shift (Saturday → Friday, Sunday → Monday), for the SEC.
//   - br_national: Brazilian national holidays plus the Carnival Monday
//     and Tuesday closures of federal bodies in Brasília-DF (ANPD).
//   - de_national: German nationwide holidays, for DORA's weekend relief.
//   - weekdays: Monday to Friday, no holidays (calendar unspecified).
//
// Convention (reference notes 2 and 3; SEC "the determination day is day
// 0"; LGPD "the day of knowledge is excluded"): the trigger day is day 0 and
// is never counted, whatever the hour. Counting starts with the next
// business day, and the N-th business day is the last day.
var calendars = map[string]calendarDef{
	"us_federal":  {zone: "America/New_York", holidays: us.Holidays},
	"br_national": {zone: "America/Sao_Paulo", holidays: append(append([]*cal.Holiday{}, br.Holidays...), carnivalMonday)},
	"de_national": {zone: "Europe/Berlin", holidays: de.Holidays},
	"weekdays":    {zone: "UTC"},
}

// carnivalMonday is the Monday of Carnival (48 days before Easter), a
// closure of federal bodies in Brasília alongside Carnival Tuesday.
var carnivalMonday = &cal.Holiday{
	Name:   "Carnaval (segunda-feira)",
	Type:   cal.ObservancePublic,
	Offset: -48,
	Func:   cal.CalcEasterOffset,
}

type calendarDef struct {
	zone     string
	holidays []*cal.Holiday
}

// Calendars returns the sorted names of the known business-day calendars.
func Calendars() []string {
	out := make([]string, 0, len(calendars))
	for k := range calendars {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// IsBusinessDay reports whether the local date of t in loc is a business day
// of the named calendar: a weekday that is not a holiday (observed dates
// included).
func IsBusinessDay(t time.Time, calendar string, loc *time.Location) (bool, error) {
	def, ok := calendars[calendar]
	if !ok {
		return false, fmt.Errorf("unknown calendar %q", calendar)
	}
	return def.isBusinessDay(t.In(loc)), nil
}

func (d calendarDef) isBusinessDay(local time.Time) bool {
	switch local.Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	y, m, day := local.Date()
	for _, h := range d.holidays {
		// Check the year before and after too: an observed date can move
		// across the new year (1 Jan on a Saturday is observed on 31 Dec).
		for _, yy := range []int{y - 1, y, y + 1} {
			act, obs := h.Calc(yy)
			if sameDate(act, y, m, day) || sameDate(obs, y, m, day) {
				return false
			}
		}
	}
	return true
}

func sameDate(t time.Time, y int, m time.Month, d int) bool {
	if t.IsZero() {
		return false
	}
	ty, tm, td := t.Date()
	return ty == y && tm == m && td == d
}

// AddBusinessDays returns the start of the local day (00:00 in loc) of the
// n-th business day after start's local date in loc. The trigger day is
// day 0 and never counts, even when it is a business day; n <= 0 returns
// the start of start's own local day. It panics on an unknown calendar,
// which Load rules out for catalogue stages.
func AddBusinessDays(start time.Time, n int, calendar string, loc *time.Location) time.Time {
	def, ok := calendars[calendar]
	if !ok {
		panic(fmt.Sprintf("compliance: unknown calendar %q", calendar))
	}
	local := start.In(loc)
	y, m, d := local.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, loc)
	for n > 0 {
		day = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
		if def.isBusinessDay(day) {
			n--
		}
	}
	return day
}

// nextBusinessDayAt returns hh:mm local time on the first business day
// strictly after t's local date.
func nextBusinessDayAt(t time.Time, calendar string, hour, minute int) time.Time {
	def := calendars[calendar]
	loc, err := time.LoadLocation(def.zone)
	if err != nil {
		loc = time.UTC
	}
	d := AddBusinessDays(t, 1, calendar, loc)
	return time.Date(d.Year(), d.Month(), d.Day(), hour, minute, 0, 0, loc)
}
