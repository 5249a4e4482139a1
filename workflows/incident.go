package workflows

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/riposte-soar/riposte/alerts"
)

// Names that clients use to talk to an incident.
const (
	IncidentWorkflowName = "IncidentWorkflow"
	SignalAlert          = "alert"
	SignalClose          = "close"
	QueryIncident        = "incident"
)

// Incident statuses.
const (
	StatusOpen   = "open"
	StatusClosed = "closed"
)

// Limits that keep an incident's state (carried across continue-as-new)
// bounded under an alert storm.
const (
	maxObservables   = 1000
	maxRecentAlerts  = 50
	maxTimeline      = 500
	maxSeenAlertIDs  = 100_000
	defaultMaxEvents = 10_000
)

// IncidentInput starts an incident, or continues one after continue-as-new.
type IncidentInput struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
	Source   string `json:"source"`
	Playbook string `json:"playbook"`
	Route    string `json:"route"`
	GroupKey string `json:"group_key"`
	// MaxHistoryEvents: continue-as-new past this many events.
	MaxHistoryEvents int `json:"max_history_events,omitempty"`
	// State is set only when continuing as new.
	State *IncidentState `json:"state,omitempty"`
}

// AlertSignal is one alert joining the incident.
type AlertSignal = alerts.Alert

// CloseSignal closes the incident.
type CloseSignal struct {
	By     string `json:"by"`
	Reason string `json:"reason"`
}

// TimelineEntry is one line of the incident's history as people read it.
type TimelineEntry struct {
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
}

// AlertStats summarises the alerts grouped into the incident.
type AlertStats struct {
	// Count is the number of distinct alerts (by alert ID).
	Count     int       `json:"count"`
	Firing    int       `json:"firing"`
	Resolved  int       `json:"resolved"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Duplicates counts deliveries of an alert already recorded with the
	// same status (SIEM retries, re-notifications).
	Duplicates int `json:"duplicates"`
}

// AlertSummary is a recent alert as the API shows it.
type AlertSummary struct {
	ID         string          `json:"id"`
	Source     string          `json:"source"`
	Title      string          `json:"title"`
	Severity   alerts.Severity `json:"severity"`
	Status     alerts.Status   `json:"status"`
	ObservedAt time.Time       `json:"observed_at"`
}

// PlaybookRef names the playbook an incident runs.
type PlaybookRef struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
}

// IncidentState is what QueryIncident returns and what continue-as-new
// carries.
type IncidentState struct {
	ID          string              `json:"id"`
	Title       string              `json:"title"`
	Severity    string              `json:"severity"`
	Status      string              `json:"status"`
	Phase       string              `json:"phase"`
	Playbook    PlaybookRef         `json:"playbook"`
	Route       string              `json:"route"`
	GroupKey    string              `json:"group_key"`
	CreatedAt   time.Time           `json:"created_at"`
	Alerts      AlertStats          `json:"alerts"`
	Observables []alerts.Observable `json:"observables"`
	Recent      []AlertSummary      `json:"recent_alerts"`
	Timeline    []TimelineEntry     `json:"timeline"`
	// Seen maps each alert ID to its last status; it is what makes a
	// retried delivery count once.
	Seen map[string]alerts.Status `json:"seen,omitempty"`
	// Runs counts continue-as-new generations.
	Runs int `json:"runs"`
}

// IncidentWorkflow groups alerts into one incident until it is closed. The
// playbook interpreter grows here; this keeps state, dedup, timeline and
// search attributes, and continues as new before the history gets large.
func IncidentWorkflow(ctx workflow.Context, in IncidentInput) (IncidentState, error) {
	if in.ID == "" {
		return IncidentState{}, errors.New("incident id is required")
	}
	maxEvents := in.MaxHistoryEvents
	if maxEvents <= 0 {
		maxEvents = defaultMaxEvents
	}
	var st IncidentState
	if in.State != nil {
		st = *in.State
		st.Runs++
	} else {
		now := workflow.Now(ctx)
		st = IncidentState{
			ID: in.ID, Title: in.Title, Severity: in.Severity, Status: StatusOpen, Phase: "detect",
			Playbook: PlaybookRef{Name: in.Playbook}, Route: in.Route, GroupKey: in.GroupKey, CreatedAt: now,
			Observables: []alerts.Observable{},
		}
		st.Timeline = append(st.Timeline, TimelineEntry{At: now, Actor: "riposte", Kind: "opened",
			Message: fmt.Sprintf("incident opened from %s by route %q", in.Source, in.Route)})
	}
	if st.Seen == nil {
		st.Seen = map[string]alerts.Status{}
	}
	if err := workflow.SetQueryHandler(ctx, QueryIncident, func() (IncidentState, error) {
		out := st
		out.Seen = nil // internal; can be large
		return out, nil
	}); err != nil {
		return st, err
	}

	alertCh := workflow.GetSignalChannel(ctx, SignalAlert)
	closeCh := workflow.GetSignalChannel(ctx, SignalClose)
	closed := false
	for !closed {
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(alertCh, func(c workflow.ReceiveChannel, _ bool) {
			var a AlertSignal
			c.Receive(ctx, &a)
			st.addAlert(ctx, a)
		})
		sel.AddReceive(closeCh, func(c workflow.ReceiveChannel, _ bool) {
			var cs CloseSignal
			c.Receive(ctx, &cs)
			closed = true
			st.Status = StatusClosed
			st.addTimeline(TimelineEntry{At: workflow.Now(ctx), Actor: cs.By, Kind: "closed", Message: cs.Reason})
		})
		sel.Select(ctx)
		// Take everything already delivered before writing search
		// attributes, so a storm costs one upsert per batch, not per alert.
		for !closed {
			var a AlertSignal
			if !alertCh.ReceiveAsync(&a) {
				break
			}
			st.addAlert(ctx, a)
		}
		if err := st.upsertSearchAttributes(ctx); err != nil {
			return st, err
		}
		info := workflow.GetInfo(ctx)
		if !closed && (info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() >= maxEvents) {
			// Drain again: a signal left in the channel would be lost with
			// this run.
			for {
				var a AlertSignal
				if !alertCh.ReceiveAsync(&a) {
					break
				}
				st.addAlert(ctx, a)
			}
			next := in
			next.State = &st
			return st, workflow.NewContinueAsNewError(ctx, IncidentWorkflowName, next)
		}
	}
	// Alerts that arrived with the close still count; none is dropped.
	for {
		var a AlertSignal
		if !alertCh.ReceiveAsync(&a) {
			break
		}
		st.addAlert(ctx, a)
	}
	return st, st.upsertSearchAttributes(ctx)
}

func (st *IncidentState) addAlert(ctx workflow.Context, a AlertSignal) {
	prev, seen := st.Seen[a.ID]
	switch {
	case seen && prev == a.Status:
		st.Alerts.Duplicates++
		return
	case seen:
		// The same alert changed status (firing → resolved, or back).
		st.Seen[a.ID] = a.Status
		if a.Status == alerts.StatusResolved {
			st.Alerts.Firing--
			st.Alerts.Resolved++
		} else {
			st.Alerts.Firing++
			st.Alerts.Resolved--
		}
		st.addTimeline(TimelineEntry{At: workflow.Now(ctx), Actor: a.Source, Kind: "alert_" + string(a.Status),
			Message: fmt.Sprintf("alert %s is %s: %s", a.ID, a.Status, a.Title)})
	default:
		if len(st.Seen) < maxSeenAlertIDs {
			st.Seen[a.ID] = a.Status
		}
		st.Alerts.Count++
		if a.Status == alerts.StatusResolved {
			st.Alerts.Resolved++
		} else {
			st.Alerts.Firing++
		}
	}
	if st.Alerts.FirstSeen.IsZero() || a.ObservedAt.Before(st.Alerts.FirstSeen) {
		st.Alerts.FirstSeen = a.ObservedAt
	}
	if a.ObservedAt.After(st.Alerts.LastSeen) {
		st.Alerts.LastSeen = a.ObservedAt
	}
	if a.Severity.Rank() > alerts.Severity(st.Severity).Rank() {
		if st.Severity != "" {
			st.addTimeline(TimelineEntry{At: workflow.Now(ctx), Actor: a.Source, Kind: "severity",
				Message: fmt.Sprintf("severity raised from %s to %s by alert %s", st.Severity, a.Severity, a.ID)})
		}
		st.Severity = string(a.Severity)
	}
	if st.Title == "" {
		st.Title = a.Title
	}
	st.addObservables(a.Observables)
	st.Recent = append(st.Recent, AlertSummary{ID: a.ID, Source: a.Source, Title: a.Title, Severity: a.Severity, Status: a.Status, ObservedAt: a.ObservedAt})
	if len(st.Recent) > maxRecentAlerts {
		st.Recent = st.Recent[len(st.Recent)-maxRecentAlerts:]
	}
}

func (st *IncidentState) addObservables(obs []alerts.Observable) {
	if len(obs) == 0 {
		return
	}
	have := make(map[alerts.Observable]bool, len(st.Observables))
	for _, o := range st.Observables {
		have[o] = true
	}
	for _, o := range obs {
		if have[o] || len(st.Observables) >= maxObservables {
			continue
		}
		have[o] = true
		st.Observables = append(st.Observables, o)
	}
	sort.SliceStable(st.Observables, func(i, j int) bool {
		if st.Observables[i].Type != st.Observables[j].Type {
			return st.Observables[i].Type < st.Observables[j].Type
		}
		return st.Observables[i].Value < st.Observables[j].Value
	})
}

func (st *IncidentState) addTimeline(e TimelineEntry) {
	st.Timeline = append(st.Timeline, e)
	if len(st.Timeline) > maxTimeline {
		// Keep the opening entry; drop the oldest of the rest.
		st.Timeline = append(st.Timeline[:1], st.Timeline[len(st.Timeline)-maxTimeline+1:]...)
	}
}

func (st *IncidentState) upsertSearchAttributes(ctx workflow.Context) error {
	return workflow.UpsertTypedSearchAttributes(ctx,
		SAIncidentID.ValueSet(st.ID),
		SAStatus.ValueSet(st.Status),
		SAPhase.ValueSet(st.Phase),
		SASeverity.ValueSet(st.Severity),
		SASeverityRank.ValueSet(int64(alerts.Severity(st.Severity).Rank())),
		SAPlaybook.ValueSet(st.Playbook.Name),
		SATitle.ValueSet(st.Title),
		SAAlertCount.ValueSet(int64(st.Alerts.Count)),
		SALastSeen.ValueSet(st.Alerts.LastSeen),
	)
}
