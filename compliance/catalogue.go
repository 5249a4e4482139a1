// Package compliance holds Riposte's regulatory notification catalogue and
// the pure, deterministic computation of notification due times: hour
// periods on UTC instants, calendar days and months with end-of-month
// clamping, business days on holiday calendars with time zones and cut-offs,
// DORA's min rule, and chained stages anchored on actual submissions.
//
// Nothing here reads the clock, does I/O after Load, or depends on map
// iteration order, so it can be called from Temporal workflow code.
package compliance

import (
	_ "embed"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed catalogue.yaml
var catalogueYAML []byte

// Trigger events that can start a clock. A stage may also be triggered by
// "submitted:<stage id>", the actual submission of another stage.
const (
	EventAware                 = "aware"
	EventClassifiedMajor       = "classified_major"
	EventMaterialityDetermined = "materiality_determined"
	EventDiscovered            = "discovered"
	EventAssessedNotifiable    = "assessed_notifiable"
	EventRansomPaid            = "ransom_paid"
	EventFixAvailable          = "fix_available"
	EventHandlingCompleted     = "handling_completed"

	// SubmittedPrefix starts the event name of a stage's submission.
	SubmittedPrefix = "submitted:"
)

// Deadline units.
const (
	UnitHours        = "hours"
	UnitDays         = "days"
	UnitMonths       = "months"
	UnitBusinessDays = "business_days"
	UnitNone         = "none"
)

// Cut-off values other than a local "HH:MM".
const (
	// CutOffEndOfDay puts the due time at 23:59:59 local time of the last day.
	CutOffEndOfDay = "end_of_day"
)

// Anchor values.
const (
	// AnchorEndOfYear anchors the period on the end (31 Dec) of the calendar
	// year of the trigger event, as for HIPAA's annual batch of small breaches.
	AnchorEndOfYear = "end_of_year"
)

// StatusInForce is the only status planned by default; see Catalogue.Enable.
const StatusInForce = "in_force"

var knownEvents = map[string]bool{
	EventAware: true, EventClassifiedMajor: true, EventMaterialityDetermined: true,
	EventDiscovered: true, EventAssessedNotifiable: true, EventRansomPaid: true,
	EventFixAvailable: true, EventHandlingCompleted: true,
}

var knownUnits = map[string]bool{
	UnitHours: true, UnitDays: true, UnitMonths: true, UnitBusinessDays: true, UnitNone: true,
}

var knownStatuses = map[string]bool{
	"in_force": true, "proposed": true, "pending_legislation": true,
	"not_yet_applicable": true, "contractual": true, "guidance": true,
}

// Period is an amount of a unit; Unit "none" means no fixed period (for
// example "without undue delay"), which gets a company-policy target.
type Period struct {
	Amount int    `json:"amount,omitempty" yaml:"amount,omitempty"`
	Unit   string `json:"unit" yaml:"unit"`
}

// Backstop is a second, independent clock for the same stage. The due time
// is the earlier of the two, unless the main trigger comes after the
// backstop's due time, in which case the main clock alone applies (DORA).
type Backstop struct {
	Trigger string `json:"trigger" yaml:"trigger"`
	Amount  int    `json:"amount" yaml:"amount"`
	Unit    string `json:"unit" yaml:"unit"`
}

// Stage is one catalogue entry: one stage of one regime.
type Stage struct {
	ID           string `json:"id" yaml:"id"`
	Regime       string `json:"regime" yaml:"regime"`
	Regulation   string `json:"regulation" yaml:"regulation"`
	Jurisdiction string `json:"jurisdiction,omitempty" yaml:"jurisdiction,omitempty"`
	Stage        string `json:"stage" yaml:"stage"`
	Recipient    string `json:"recipient" yaml:"recipient"`
	Trigger      string `json:"trigger" yaml:"trigger"`
	// Deferral names the legal basis on which an authority may defer this
	// stage (HIPAA's law-enforcement delay, SEC Item 1.05(c)); empty means
	// the law allows none.
	Deferral string    `json:"deferral,omitempty" yaml:"deferral,omitempty"`
	Anchor   string    `json:"anchor,omitempty" yaml:"anchor,omitempty"`
	Backstop *Backstop `json:"backstop,omitempty" yaml:"backstop,omitempty"`
	Deadline Period    `json:"deadline" yaml:"deadline"`
	Calendar string    `json:"calendar" yaml:"calendar"`
	TimeZone string    `json:"time_zone" yaml:"time_zone"`
	CutOff   string    `json:"cut_off,omitempty" yaml:"cut_off,omitempty"`
	// ReliefCalendar, when set, gives an outer bound: a due time falling on
	// a weekend or holiday of that calendar may be met by 12:00 local time
	// of the next business day (DORA relief for eligible entities).
	ReliefCalendar string   `json:"relief_calendar,omitempty" yaml:"relief_calendar,omitempty"`
	DependsOn      []string `json:"depends_on,omitempty" yaml:"depends_on,omitempty"`
	// OnLate is "reasons_required" (late report still owed, with reasons:
	// the obligation turns late, not closed) or "hard".
	OnLate     string `json:"on_late" yaml:"on_late"`
	Standard   string `json:"standard,omitempty" yaml:"standard,omitempty"`
	Status     string `json:"status" yaml:"status"`
	Source     string `json:"source" yaml:"source"`
	Confidence string `json:"confidence" yaml:"confidence"`
}

// Catalogue is the versioned list of stages. Every obligation records the
// Version it was computed with.
type Catalogue struct {
	Version string  `json:"version" yaml:"version"`
	Stages  []Stage `json:"stages" yaml:"stages"`

	enabled map[string]bool // statuses planned besides in_force
}

// Load parses and validates the embedded catalogue.
func Load() (*Catalogue, error) {
	return Parse(catalogueYAML)
}

// Parse parses and validates a catalogue document. Unknown keys are rejected.
func Parse(data []byte) (*Catalogue, error) {
	var c Catalogue
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("parse catalogue: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks ids, references, events, units, calendars and zones.
// Every error names the stage id.
func (c *Catalogue) Validate() error {
	if c.Version == "" {
		return errors.New("catalogue: version is required")
	}
	ids := make(map[string]bool, len(c.Stages))
	for i, s := range c.Stages {
		if s.ID == "" {
			return fmt.Errorf("catalogue: stage #%d: id is required", i+1)
		}
		if ids[s.ID] {
			return fmt.Errorf("stage %q: duplicate id", s.ID)
		}
		ids[s.ID] = true
	}
	for _, s := range c.Stages {
		if err := c.validateStage(s, ids); err != nil {
			return fmt.Errorf("stage %q: %w", s.ID, err)
		}
	}
	return nil
}

func (c *Catalogue) validateStage(s Stage, ids map[string]bool) error {
	if s.Regime == "" {
		return errors.New("regime is required")
	}
	if !knownStatuses[s.Status] {
		return fmt.Errorf("unknown status %q", s.Status)
	}
	if s.Source == "" {
		return errors.New("source is required")
	}
	for _, d := range s.DependsOn {
		if !ids[d] {
			return fmt.Errorf("depends_on %q: no such stage", d)
		}
		if d == s.ID {
			return errors.New("depends_on itself")
		}
	}
	if dep, ok := strings.CutPrefix(s.Trigger, SubmittedPrefix); ok {
		if !ids[dep] {
			return fmt.Errorf("trigger %q: no such stage", s.Trigger)
		}
		if !contains(s.DependsOn, dep) {
			return fmt.Errorf("trigger %q: stage %q must be listed in depends_on", s.Trigger, dep)
		}
	} else if !knownEvents[s.Trigger] {
		return fmt.Errorf("unknown trigger event %q", s.Trigger)
	}
	if !knownUnits[s.Deadline.Unit] {
		return fmt.Errorf("unknown deadline unit %q", s.Deadline.Unit)
	}
	if s.Deadline.Unit == UnitNone {
		if s.Deadline.Amount != 0 {
			return errors.New("deadline unit none takes no amount")
		}
	} else if s.Deadline.Amount <= 0 {
		return fmt.Errorf("deadline amount must be positive, got %d", s.Deadline.Amount)
	}
	if _, err := time.LoadLocation(s.TimeZone); s.TimeZone == "" || err != nil {
		return fmt.Errorf("unknown time zone %q", s.TimeZone)
	}
	if s.Deadline.Unit == UnitBusinessDays {
		if _, ok := calendars[s.Calendar]; !ok {
			return fmt.Errorf("business days need a known calendar, got %q", s.Calendar)
		}
	} else if s.Calendar != "none" && s.Calendar != "" {
		if _, ok := calendars[s.Calendar]; !ok {
			return fmt.Errorf("unknown calendar %q", s.Calendar)
		}
	}
	if s.ReliefCalendar != "" {
		if _, ok := calendars[s.ReliefCalendar]; !ok {
			return fmt.Errorf("unknown relief calendar %q", s.ReliefCalendar)
		}
	}
	if s.CutOff != "" {
		if s.Deadline.Unit != UnitDays && s.Deadline.Unit != UnitBusinessDays && s.Deadline.Unit != UnitMonths {
			return fmt.Errorf("cut_off %q needs a day, month or business-day deadline", s.CutOff)
		}
		if _, _, err := parseCutOff(s.CutOff); err != nil {
			return err
		}
	}
	if s.Anchor != "" && s.Anchor != AnchorEndOfYear {
		return fmt.Errorf("unknown anchor %q", s.Anchor)
	}
	if b := s.Backstop; b != nil {
		if !knownEvents[b.Trigger] {
			return fmt.Errorf("backstop: unknown trigger event %q", b.Trigger)
		}
		if b.Unit != UnitHours || b.Amount <= 0 || s.Deadline.Unit != UnitHours {
			return errors.New("backstop: only positive hour periods on hour deadlines are supported")
		}
	}
	if s.OnLate != "reasons_required" && s.OnLate != "hard" {
		return fmt.Errorf("on_late must be reasons_required or hard, got %q", s.OnLate)
	}
	return nil
}

// parseCutOff returns the local hour and minute of a cut-off; end_of_day is
// 23:59 (seconds are set to 59 by the caller).
func parseCutOff(s string) (hour, minute int, err error) {
	if s == CutOffEndOfDay {
		return 23, 59, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, 0, fmt.Errorf("cut_off %q: want HH:MM or end_of_day", s)
	}
	return t.Hour(), t.Minute(), nil
}

// Stage returns the stage with the given id.
func (c *Catalogue) Stage(id string) (Stage, bool) {
	for _, s := range c.Stages {
		if s.ID == id {
			return s, true
		}
	}
	return Stage{}, false
}

// Regime returns the stages of a regime id (for example "gdpr", "nis2",
// "dora", "sec-8k"), in catalogue order.
func (c *Catalogue) Regime(regulation string) []Stage {
	var out []Stage
	for _, s := range c.Stages {
		if s.Regime == regulation {
			out = append(out, s)
		}
	}
	return out
}

// Regimes returns the sorted regime ids.
func (c *Catalogue) Regimes() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range c.Stages {
		if !seen[s.Regime] {
			seen[s.Regime] = true
			out = append(out, s.Regime)
		}
	}
	sort.Strings(out)
	return out
}

// Enable returns a copy of the catalogue that also plans stages with the
// given statuses (for example "proposed"). Only in_force stages are planned
// otherwise.
func (c *Catalogue) Enable(statuses ...string) *Catalogue {
	cp := *c
	cp.enabled = map[string]bool{}
	for k, v := range c.enabled {
		cp.enabled[k] = v
	}
	for _, s := range statuses {
		cp.enabled[s] = true
	}
	return &cp
}

func (c *Catalogue) isEnabled(s Stage) bool {
	return s.Status == StatusInForce || c.enabled[s.Status]
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
