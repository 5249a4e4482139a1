// Package kpi computes the figures that show whether a SOC works (time to
// detect, acknowledge, contain and resolve; critical incidents left
// unactioned; approval response time; recovery success; regulatory reports
// filed on time) from the incidents' workflow state and the obligations'
// state. Temporal stays the only source of truth: nothing is stored here.
package kpi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/riposte-soar/riposte/internal/deadlines"
	"github.com/riposte-soar/riposte/internal/incidents"
	"github.com/riposte-soar/riposte/playbooks"
	"github.com/riposte-soar/riposte/workflows"
)

// MaxRange is the longest window a report covers.
const MaxRange = 366 * 24 * time.Hour

// MaxIncidents is how many incidents one report reads; past it the report
// says Truncated.
const MaxIncidents = 1000

// Stat summarises durations: how many, their mean, and the 50th and 90th
// percentiles (nearest rank). All zero when Count is 0.
type Stat struct {
	Count       int     `json:"count"`
	MeanSeconds float64 `json:"mean_seconds"`
	P50Seconds  float64 `json:"p50_seconds"`
	P90Seconds  float64 `json:"p90_seconds"`
}

// CriticalStat is the share of critical incidents with no action within
// AfterMinutes of their creation. Incidents younger than that are not
// counted yet.
type CriticalStat struct {
	Total        int     `json:"total"`
	Unactioned   int     `json:"unactioned"`
	Share        float64 `json:"share"`
	AfterMinutes int     `json:"after_minutes"`
}

// RecoveryStat counts reversals (undos, and actions of the restore phase)
// that succeeded out of those attempted; one reversal counts once however
// often it was retried.
type RecoveryStat struct {
	Attempted int     `json:"attempted"`
	Succeeded int     `json:"succeeded"`
	Rate      float64 `json:"rate"`
}

// ReportStat counts regulatory reports filed in the window and those filed
// by their due time. Overdue counts obligations due in the window that are
// past due with nothing filed when the report is computed.
type ReportStat struct {
	Filed   int     `json:"filed"`
	OnTime  int     `json:"on_time"`
	Rate    float64 `json:"rate"`
	Overdue int     `json:"overdue"`
	// Unreadable obligations could not be queried, so whether they were
	// filed is unknown; they are left out of the figures above.
	Unreadable int `json:"unreadable"`
}

// Day is one UTC day of the window, for a chart.
type Day struct {
	// Date is YYYY-MM-DD (UTC).
	Date      string `json:"date"`
	Incidents int    `json:"incidents"`
	// Resolved incidents among those opened that day, and their mean time
	// to resolve.
	Resolved        int     `json:"resolved"`
	MTTRMeanSeconds float64 `json:"mttr_mean_seconds"`
}

// Report holds the figures for incidents created in [From, To).
type Report struct {
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Incidents int       `json:"incidents"`
	// MTTD: first alert's observed_at → incident created.
	MTTD Stat `json:"mttd"`
	// MTTA: created → first human action (approval decision or close).
	MTTA Stat `json:"mtta"`
	// MTTC: created → contained (contain phase done).
	MTTC Stat `json:"mttc"`
	// MTTR: created → resolved (restore phase done), or closed when the
	// incident was closed without one.
	MTTR Stat `json:"mttr"`
	// ApprovalResponse: approval requested → first decision.
	ApprovalResponse Stat         `json:"approval_response"`
	Critical         CriticalStat `json:"critical"`
	Recovery         RecoveryStat `json:"recovery"`
	ReportsOnTime    ReportStat   `json:"reports_on_time"`
	Daily            []Day        `json:"daily"`
	ComputedAt       time.Time    `json:"computed_at"`
	// Truncated: more than MaxIncidents incidents matched; the figures
	// cover the newest MaxIncidents.
	Truncated bool `json:"truncated,omitempty"`
}

// IncidentSource lists incidents and reads their state
// (*incidents.Reader).
type IncidentSource interface {
	List(ctx context.Context, f incidents.Filter) ([]incidents.Summary, error)
	Get(ctx context.Context, id string) (*workflows.IncidentState, error)
}

// ObligationSource lists regulatory obligations (*deadlines.Service).
type ObligationSource interface {
	List(ctx context.Context, f deadlines.Filter, now time.Time) ([]deadlines.Obligation, error)
}

// Service computes reports.
type Service struct {
	Incidents IncidentSource
	// Deadlines may be nil: no report figures then.
	Deadlines ObligationSource
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// ErrRange is a window Compute refuses.
var ErrRange = errors.New("invalid range")

// Compute reads the incidents created in [from, to) and the obligations,
// and computes the report. criticalAfter is N in "critical incidents with
// no action after N minutes".
func (s *Service) Compute(ctx context.Context, from, to time.Time, criticalAfter time.Duration) (Report, error) {
	if err := CheckRange(from, to); err != nil {
		return Report{}, err
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	// Visibility cannot filter on an incident's creation (a continued-as-new
	// run starts later), so take every incident still running or closed
	// since from, and filter on the state's CreatedAt.
	list, err := s.Incidents.List(ctx, incidents.Filter{ActiveSince: from, Limit: MaxIncidents})
	if err != nil {
		return Report{}, fmt.Errorf("kpi: list incidents: %w", err)
	}
	states := make([]workflows.IncidentState, 0, len(list))
	for _, sum := range list {
		st, err := s.Incidents.Get(ctx, sum.ID)
		if errors.Is(err, incidents.ErrNotFound) {
			continue // gone between list and query (retention)
		}
		if err != nil {
			return Report{}, fmt.Errorf("kpi: query incident %s: %w", sum.ID, err)
		}
		states = append(states, *st)
	}
	var obligations []workflows.DeadlineState
	unreadable := 0
	if s.Deadlines != nil {
		obs, err := s.Deadlines.List(ctx, deadlines.Filter{}, now)
		if err != nil {
			return Report{}, fmt.Errorf("kpi: list obligations: %w", err)
		}
		for _, o := range obs {
			if o.Unreadable != "" {
				unreadable++ // filed or not is unknown: left out, and said
				continue
			}
			obligations = append(obligations, o.DeadlineState)
		}
	}
	r := FromStates(from, to, now, criticalAfter, states, obligations)
	r.ReportsOnTime.Unreadable = unreadable
	r.Truncated = len(list) >= MaxIncidents
	return r, nil
}

// CheckRange refuses an empty, inverted or too long window.
func CheckRange(from, to time.Time) error {
	switch {
	case !to.After(from):
		return fmt.Errorf("%w: to must be after from", ErrRange)
	case to.Sub(from) > MaxRange:
		return fmt.Errorf("%w: the window must not exceed 366 days", ErrRange)
	}
	return nil
}

// FromStates computes the report from incident and obligation states. It
// is pure: the same states give the same report.
func FromStates(from, to, now time.Time, criticalAfter time.Duration, states []workflows.IncidentState, obligations []workflows.DeadlineState) Report {
	from, to = from.UTC(), to.UTC()
	r := Report{From: from, To: to, ComputedAt: now.UTC(), Critical: CriticalStat{AfterMinutes: int(criticalAfter / time.Minute)}}
	var mttd, mtta, mttc, mttr, appr []float64
	days := newDays(from, to)
	for i := range states {
		st := &states[i]
		created := st.CreatedAt
		if created.IsZero() || created.Before(from) || !created.Before(to) {
			continue
		}
		r.Incidents++
		day := days.at(created)
		if day != nil {
			day.Incidents++
		}
		lc := st.Lifecycle
		if !lc.FirstAlert.IsZero() {
			// An alert stamped after the incident opened (a SIEM clock
			// ahead of ours) was detected at once.
			mttd = append(mttd, max(0, created.Sub(lc.FirstAlert).Seconds()))
		}
		if !lc.Acknowledged.IsZero() {
			mtta = append(mtta, lc.Acknowledged.Sub(created).Seconds())
		}
		if !lc.Contained.IsZero() {
			mttc = append(mttc, lc.Contained.Sub(created).Seconds())
		}
		if at := resolvedAt(st); !at.IsZero() {
			d := at.Sub(created).Seconds()
			mttr = append(mttr, d)
			if day != nil {
				day.Resolved++
				day.MTTRMeanSeconds += d // summed here, divided below
			}
		}
		for _, a := range st.Approvals {
			if len(a.Decisions) == 0 {
				continue
			}
			req := approvalRequestedAt(st, a)
			if req.IsZero() {
				continue
			}
			appr = append(appr, a.Decisions[0].At.Sub(req).Seconds())
		}
		if st.Severity == "critical" && !created.Add(criticalAfter).After(now) {
			r.Critical.Total++
			first := firstAction(st)
			if first.IsZero() || first.After(created.Add(criticalAfter)) {
				r.Critical.Unactioned++
			}
		}
		att, ok := recovery(st)
		r.Recovery.Attempted += att
		r.Recovery.Succeeded += ok
	}
	r.MTTD, r.MTTA, r.MTTC, r.MTTR, r.ApprovalResponse = stat(mttd), stat(mtta), stat(mttc), stat(mttr), stat(appr)
	r.Critical.Share = ratio(r.Critical.Unactioned, r.Critical.Total)
	r.Recovery.Rate = ratio(r.Recovery.Succeeded, r.Recovery.Attempted)
	for _, o := range obligations {
		if sub := o.Submission; sub != nil && !sub.SubmittedAt.Before(from) && sub.SubmittedAt.Before(to) {
			r.ReportsOnTime.Filed++
			if !sub.Late {
				r.ReportsOnTime.OnTime++
			}
		}
		if o.Status == workflows.ObligationLate && o.DueAt != nil && !o.DueAt.Before(from) && o.DueAt.Before(to) {
			r.ReportsOnTime.Overdue++
		}
	}
	r.ReportsOnTime.Rate = ratio(r.ReportsOnTime.OnTime, r.ReportsOnTime.Filed)
	r.Daily = days.list
	for i := range r.Daily {
		if d := &r.Daily[i]; d.Resolved > 0 {
			d.MTTRMeanSeconds /= float64(d.Resolved)
		}
	}
	return r
}

// resolvedAt is when the incident was resolved: the restore phase's end,
// or its closing when it was closed without one.
func resolvedAt(st *workflows.IncidentState) time.Time {
	if !st.Lifecycle.Resolved.IsZero() {
		return st.Lifecycle.Resolved
	}
	return st.Lifecycle.Closed
}

// approvalRequestedAt falls back to the approval step's start for states
// recorded before approvals carried their request time.
func approvalRequestedAt(st *workflows.IncidentState, a workflows.ApprovalState) time.Time {
	if !a.RequestedAt.IsZero() {
		return a.RequestedAt
	}
	for _, s := range st.Steps {
		if s.ID == a.Step {
			return s.StartedAt
		}
	}
	return time.Time{}
}

// firstAction is the earliest action on the incident: a person's decision
// or close, or an action that succeeded. Chat posts do not act on anything.
func firstAction(st *workflows.IncidentState) time.Time {
	first := st.Lifecycle.Acknowledged
	for _, a := range st.Actions {
		if a.Status != workflows.StepSucceeded || strings.HasPrefix(a.Action, "chat.") {
			continue
		}
		if first.IsZero() || a.At.Before(first) {
			first = a.At
		}
	}
	return first
}

// recovery counts the incident's reversals: undos and restore-phase
// actions, each (step, action, undo) once, succeeded if any attempt did.
// Actions whose integration is not configured were not attempted.
func recovery(st *workflows.IncidentState) (attempted, succeeded int) {
	phase := map[string]string{}
	for _, s := range st.Steps {
		phase[s.ID] = s.Phase
	}
	type key struct {
		step, action string
		undo         bool
	}
	seen := map[key]bool{}
	var order []key
	for _, a := range st.Actions {
		if !a.Undo && phase[a.Step] != playbooks.PhaseRestore {
			continue
		}
		if a.Status != workflows.StepSucceeded && a.Status != workflows.StepFailed {
			continue
		}
		k := key{a.Step, a.Action, a.Undo}
		if _, ok := seen[k]; !ok {
			order = append(order, k)
		}
		seen[k] = seen[k] || a.Status == workflows.StepSucceeded
	}
	for _, k := range order {
		attempted++
		if seen[k] {
			succeeded++
		}
	}
	return attempted, succeeded
}

// stat summarises seconds; percentiles by nearest rank.
func stat(v []float64) Stat {
	if len(v) == 0 {
		return Stat{}
	}
	sort.Float64s(v)
	sum := 0.0
	for _, x := range v {
		sum += x
	}
	rank := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(v)))) - 1
		return v[min(max(i, 0), len(v)-1)]
	}
	return Stat{Count: len(v), MeanSeconds: sum / float64(len(v)), P50Seconds: rank(0.5), P90Seconds: rank(0.9)}
}

func ratio(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

type dayIndex struct {
	start time.Time
	list  []Day
}

func newDays(from, to time.Time) *dayIndex {
	start := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	d := &dayIndex{start: start}
	for t := start; t.Before(to); t = t.AddDate(0, 0, 1) {
		d.list = append(d.list, Day{Date: t.Format(time.DateOnly)})
	}
	return d
}

func (d *dayIndex) at(t time.Time) *Day {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	i := int(day.Sub(d.start) / (24 * time.Hour))
	if i < 0 || i >= len(d.list) {
		return nil
	}
	return &d.list[i]
}
