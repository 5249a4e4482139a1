package compliance

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Events maps trigger event names ("aware", "classified_major", ...) and
// "submitted:<stage id>" to the time they happened.
type Events map[string]time.Time

// PolicyTargets maps a stage id, a regime id or "default" to the internal
// company-policy target for stages the law gives no fixed period. Lookup
// order: stage id, regime id, "default", then DefaultPolicyTarget.
type PolicyTargets map[string]time.Duration

// DefaultPolicyTarget applies when PolicyTargets has no entry.
const DefaultPolicyTarget = 72 * time.Hour

// Basis values of a plan entry.
const (
	BasisLaw    = "law"
	BasisPolicy = "policy"
)

// Plan is one stage's computed due time, as printed by
// `riposte deadlines plan`.
type Plan struct {
	ID         string     `json:"id"`
	Regulation string     `json:"regulation"`
	Stage      string     `json:"stage"`
	Recipient  string     `json:"recipient"`
	DueAt      *time.Time `json:"due_at"`
	OuterBound *time.Time `json:"outer_bound,omitempty"`
	Basis      string     `json:"basis"`
	DependsOn  []string   `json:"depends_on"`
}

// ErrNotArmed reports that a stage's trigger event has not been recorded.
var ErrNotArmed = errors.New("stage not armed")

func (p PolicyTargets) target(s Stage) time.Duration {
	for _, k := range []string{s.ID, s.Regime, "default"} {
		if d, ok := p[k]; ok && d > 0 {
			return d
		}
	}
	return DefaultPolicyTarget
}

// anchor returns the time the stage's clock starts from, or ok=false when
// the events do not arm it. For a "submitted:" trigger the anchor is the
// LATEST recorded submission among depends_on (re-armed on every update).
// Another trigger on a stage with depends_on waits for one of them to be
// submitted.
func anchor(s Stage, ev Events) (time.Time, bool) {
	if strings.HasPrefix(s.Trigger, SubmittedPrefix) {
		var latest time.Time
		for _, d := range s.DependsOn {
			if t, ok := ev[SubmittedPrefix+d]; ok && t.After(latest) {
				latest = t
			}
		}
		return latest, !latest.IsZero()
	}
	if len(s.DependsOn) > 0 {
		armed := false
		for _, d := range s.DependsOn {
			if _, ok := ev[SubmittedPrefix+d]; ok {
				armed = true
			}
		}
		if !armed {
			return time.Time{}, false
		}
	}
	t, ok := ev[s.Trigger]
	return t, ok && !t.IsZero()
}

// DueAt computes a stage's due time in UTC from the recorded events.
// It returns (nil, "", ErrNotArmed) when the stage's trigger (or the
// submission it depends on) is not recorded. Stages with no fixed period
// get the policy target with basis "policy"; others have basis "law".
//
// Rules: hour periods are added to UTC instants (72 h is 72 elapsed hours
// across DST). Day and month periods are added to the local date in the
// stage's time zone, keeping the local time of day (months clamp to the
// month's last day: 31 Jan + 1 month = 28/29 Feb); with a cut-off the due
// time is that local time on the last day (end_of_day = 23:59:59). Business
// days follow AddBusinessDays and end at the cut-off (end of day if none).
func DueAt(s Stage, ev Events, policy PolicyTargets) (*time.Time, string, error) {
	start, ok := anchor(s, ev)
	if !ok {
		if s.Backstop != nil && len(s.DependsOn) == 0 {
			// Provisional clock: the backstop alone (DORA: awareness + 24 h
			// before any classification is recorded).
			if b, ok := ev[s.Backstop.Trigger]; ok && !b.IsZero() {
				due := b.UTC().Add(time.Duration(s.Backstop.Amount) * time.Hour)
				return &due, BasisLaw, nil
			}
		}
		return nil, "", ErrNotArmed
	}
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		return nil, "", fmt.Errorf("stage %q: time zone %q: %w", s.ID, s.TimeZone, err)
	}
	if s.Anchor == AnchorEndOfYear {
		start = time.Date(start.In(loc).Year(), time.December, 31, 23, 59, 59, 0, loc)
	}
	var due time.Time
	basis := BasisLaw
	switch s.Deadline.Unit {
	case UnitNone:
		due = start.UTC().Add(policy.target(s))
		basis = BasisPolicy
	case UnitHours:
		due = start.UTC().Add(time.Duration(s.Deadline.Amount) * time.Hour)
		if b := s.Backstop; b != nil {
			if bt, ok := ev[b.Trigger]; ok && !bt.IsZero() {
				backstop := bt.UTC().Add(time.Duration(b.Amount) * time.Hour)
				// The earlier clock wins, unless the main trigger came after
				// the backstop had already run out.
				if !start.After(backstop) && backstop.Before(due) {
					due = backstop
				}
			}
		}
	case UnitDays:
		l := start.In(loc)
		due = time.Date(l.Year(), l.Month(), l.Day()+s.Deadline.Amount, l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), loc)
		due = applyCutOff(due, s.CutOff, loc)
	case UnitMonths:
		due = AddMonthsClamped(start.In(loc), s.Deadline.Amount)
		due = applyCutOff(due, s.CutOff, loc)
	case UnitBusinessDays:
		day := AddBusinessDays(start, s.Deadline.Amount, s.Calendar, loc)
		cut := s.CutOff
		if cut == "" {
			cut = CutOffEndOfDay
		}
		due = applyCutOff(day, cut, loc)
	default:
		return nil, "", fmt.Errorf("stage %q: unknown deadline unit %q", s.ID, s.Deadline.Unit)
	}
	due = due.UTC()
	return &due, basis, nil
}

// applyCutOff sets the local time of day of t to the cut-off.
func applyCutOff(t time.Time, cutOff string, loc *time.Location) time.Time {
	if cutOff == "" {
		return t
	}
	h, m, err := parseCutOff(cutOff)
	if err != nil {
		return t
	}
	sec := 0
	if cutOff == CutOffEndOfDay {
		sec = 59
	}
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), h, m, sec, 0, loc)
}

// AddMonthsClamped adds n calendar months to t in t's location, keeping the
// time of day and clamping the day to the target month's last day
// (31 Jan + 1 month = 28 Feb, or 29 Feb in a leap year).
func AddMonthsClamped(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, t.Location())
	last := time.Date(first.Year(), first.Month()+1, 0, 0, 0, 0, 0, t.Location()).Day()
	if d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
}

// OuterBound returns the later legal limit for a due time, if the stage has
// one: with a relief calendar, a due time on a weekend or holiday of that
// calendar may be met by 12:00 local time of the next business day.
func OuterBound(s Stage, due time.Time) *time.Time {
	if s.ReliefCalendar == "" {
		return nil
	}
	def := calendars[s.ReliefCalendar]
	loc, err := time.LoadLocation(def.zone)
	if err != nil {
		return nil
	}
	if def.isBusinessDay(due.In(loc)) {
		return nil
	}
	ob := nextBusinessDayAt(due.In(loc), s.ReliefCalendar, 12, 0).UTC()
	return &ob
}

// Plan computes the due times of a regime's stages (regime id, stage id or
// "all") from one set of events. It lists each enabled stage that the
// events arm, plus each stage chained on a listed stage, whose due_at is
// null until the stage it depends on is submitted. Output is sorted by due
// time, then id, with nulls last.
func (c *Catalogue) Plan(regime string, ev Events, policy PolicyTargets) ([]Plan, error) {
	var selected []Stage
	for _, s := range c.Stages {
		if (regime == "all" || s.Regime == regime || s.ID == regime) && c.isEnabled(s) {
			selected = append(selected, s)
		}
	}
	if len(selected) == 0 {
		return nil, fmt.Errorf("regime %q: no such regime or stage in catalogue %s", regime, c.Version)
	}
	keys := make([]string, 0, len(ev))
	for k := range ev {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic error for the first bad event
	for _, k := range keys {
		if dep, ok := strings.CutPrefix(k, SubmittedPrefix); ok {
			if _, found := c.Stage(dep); !found {
				return nil, fmt.Errorf("event %q: no such stage", k)
			}
		} else if !knownEvents[k] {
			return nil, fmt.Errorf("unknown event %q", k)
		}
	}
	listed := map[string]bool{}
	var out []Plan
	// Chains can be several deep (DORA initial → intermediate → final), so
	// repeat until no new stage is listed.
	for changed := true; changed; {
		changed = false
		for _, s := range selected {
			if listed[s.ID] {
				continue
			}
			due, basis, err := DueAt(s, ev, policy)
			if errors.Is(err, ErrNotArmed) {
				if !chainedOnListed(s, listed) {
					continue
				}
				basis = BasisLaw
				if s.Deadline.Unit == UnitNone {
					basis = BasisPolicy
				}
			} else if err != nil {
				return nil, err
			}
			p := Plan{
				ID: s.ID, Regulation: s.Regulation, Stage: s.Stage, Recipient: s.Recipient,
				DueAt: due, Basis: basis, DependsOn: append([]string{}, s.DependsOn...),
			}
			if due != nil && basis == BasisLaw {
				p.OuterBound = OuterBound(s, *due)
			}
			out = append(out, p)
			listed[s.ID] = true
			changed = true
		}
	}
	SortPlans(out)
	return out, nil
}

func chainedOnListed(s Stage, listed map[string]bool) bool {
	for _, d := range s.DependsOn {
		if listed[d] {
			return true
		}
	}
	return false
}

// SortPlans orders plans by due time, then id; plans without a due time
// come last.
func SortPlans(p []Plan) {
	sort.SliceStable(p, func(i, j int) bool { return DueBefore(p[i].DueAt, p[i].ID, p[j].DueAt, p[j].ID) })
}

// DueBefore orders obligations soonest due first, by id on a tie; those
// without a due time come last.
func DueBefore(a *time.Time, aID string, b *time.Time, bID string) bool {
	switch {
	case a == nil && b == nil:
		return aID < bID
	case a == nil:
		return false
	case b == nil:
		return true
	case !a.Equal(*b):
		return a.Before(*b)
	}
	return aID < bID
}
