package workflows

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/riposte-soar/riposte/activities"
	"github.com/riposte-soar/riposte/alerts"
	"github.com/riposte-soar/riposte/playbooks"
)

// Names that clients use to talk to an incident.
const (
	IncidentWorkflowName = "IncidentWorkflow"
	SignalAlert          = "alert"
	SignalAudit          = "audit"
	QueryIncident        = "incident"
	UpdateDecide         = "decide"
	UpdateClose          = "close"
	UpdateReopen         = "reopen"
)

// Incident statuses.
const (
	StatusOpen      = "open"
	StatusContained = "contained"
	StatusResolved  = "resolved"
	StatusClosed    = "closed"
)

// Limits that keep an incident's state (carried across continue-as-new)
// bounded under an alert storm.
const (
	maxObservables      = 1000
	maxRecentAlerts     = 50
	maxTimeline         = 500
	maxSeenAlertIDs     = 100_000
	defaultMaxEvents    = 10_000
	defaultReopenWindow = 24 * time.Hour
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
	// PlaybookDef is the parsed playbook, recorded in history so that a
	// changed file never alters a running incident. Nil runs no playbook.
	PlaybookDef *playbooks.Playbook `json:"playbook_def,omitempty"`
	// MaxHistoryEvents: continue-as-new past this many events.
	MaxHistoryEvents int `json:"max_history_events,omitempty"`
	// ReopenWindow is how long a closed incident can be reopened before
	// its workflow completes.
	ReopenWindow time.Duration `json:"reopen_window,omitempty"`
	// IncidentChannel opens a chat channel for the incident.
	IncidentChannel bool `json:"incident_channel,omitempty"`
	// ReminderFraction of an approval's timeout posts a reminder in chat.
	ReminderFraction float64 `json:"reminder_fraction,omitempty"`
	// State is set only when continuing as new.
	State *IncidentState `json:"state,omitempty"`
}

// AlertSignal is one alert joining the incident.
type AlertSignal = alerts.Alert

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
	// Status is pending, running, completed, failed or stopped.
	Status string `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Lifecycle holds the timestamps that KPIs use.
type Lifecycle struct {
	FirstAlert   time.Time `json:"first_alert"`
	Acknowledged time.Time `json:"acknowledged,omitempty"`
	Contained    time.Time `json:"contained,omitempty"`
	Resolved     time.Time `json:"resolved,omitempty"`
	Closed       time.Time `json:"closed,omitempty"`
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
	Lifecycle   Lifecycle           `json:"lifecycle"`
	Alerts      AlertStats          `json:"alerts"`
	Observables []alerts.Observable `json:"observables"`
	Recent      []AlertSummary      `json:"recent_alerts"`
	Timeline    []TimelineEntry     `json:"timeline"`
	Steps       []StepState         `json:"steps"`
	Approvals   []ApprovalState     `json:"approvals"`
	Actions     []ActionRecord      `json:"actions"`
	Undos       []UndoRecord        `json:"undos"`
	Tickets     []TicketRecord      `json:"tickets"`
	Vars        map[string]any      `json:"vars"`
	// Channel is the incident's own chat channel, when one was opened.
	Channel *activities.ChatRef `json:"channel,omitempty"`
	// Thread is the chat message whose thread carries the incident's
	// timeline events (the first approval request).
	Thread *activities.ChatRef `json:"thread,omitempty"`
	// Trigger is the first alert, as playbook expressions see `alert`.
	Trigger alerts.Alert `json:"trigger"`
	// Seen maps each alert ID to its last status; it is what makes a
	// retried delivery count once.
	Seen map[string]alerts.Status `json:"seen,omitempty"`
	// Runs counts continue-as-new generations.
	Runs int `json:"runs"`

	// skipUnchanged leaves out search-attribute writes that would change
	// nothing (visibility version 2).
	skipUnchanged bool
}

// IncidentWorkflow is an incident: it records every alert of its group, runs
// the playbook phase by phase, waits for approvals (Update "decide"), and
// can be closed and reopened (Updates "close" and "reopen"); closing runs
// the pending undos. It continues as new before its history gets large.
func IncidentWorkflow(ctx workflow.Context, in IncidentInput) (IncidentState, error) {
	if in.ID == "" {
		return IncidentState{}, errors.New("incident id is required")
	}
	maxEvents := in.MaxHistoryEvents
	if maxEvents <= 0 {
		maxEvents = defaultMaxEvents
	}
	reopenWindow := in.ReopenWindow
	if reopenWindow <= 0 {
		reopenWindow = defaultReopenWindow
	}
	var st IncidentState
	if in.State != nil {
		st = *in.State
		st.Runs++
	} else {
		now := workflow.Now(ctx)
		st = IncidentState{
			ID: in.ID, Title: in.Title, Severity: in.Severity, Status: StatusOpen, Phase: playbooks.PhaseDetect,
			Playbook: PlaybookRef{Name: in.Playbook, Status: "pending"}, Route: in.Route, GroupKey: in.GroupKey, CreatedAt: now,
			Observables: []alerts.Observable{}, Vars: map[string]any{},
		}
		if in.PlaybookDef != nil {
			st.Playbook.Version, st.Playbook.SHA256 = in.PlaybookDef.Version, in.PlaybookDef.SHA256
			for _, inp := range in.PlaybookDef.Inputs {
				st.Vars[inp.Name] = inp.Default
			}
		} else {
			st.Playbook.Status = "none"
		}
		st.addTimeline(TimelineEntry{At: now, Actor: "riposte", Kind: "opened",
			Message: fmt.Sprintf("incident opened from %s by route %q", in.Source, in.Route)})
	}
	if st.Seen == nil {
		st.Seen = map[string]alerts.Status{}
	}
	if st.Vars == nil {
		st.Vars = map[string]any{}
	}
	// Search-attribute writes are visibility updates, the dearest thing an
	// incident does on the embedded server (see run). Version 1 defers the
	// writes of phase changes; version 2 also skips a write that would
	// change nothing, such as the first alert's when ingestion started the
	// incident with its attributes (StartSearchAttributes).
	visibility := workflow.GetVersion(ctx, lazyVisibilityChange, workflow.DefaultVersion, 2)
	st.skipUnchanged = visibility >= 2
	r := &runner{st: &st, pb: in.PlaybookDef, reminderFraction: in.ReminderFraction, incidentChannel: in.IncidentChannel,
		lazyVisibility: visibility >= 1}
	if err := r.registerHandlers(ctx); err != nil {
		return st, err
	}

	alertCh := workflow.GetSignalChannel(ctx, SignalAlert)
	receiveAll := func() bool {
		got := false
		for {
			var a AlertSignal
			if !alertCh.ReceiveAsync(&a) {
				return got
			}
			st.addAlert(ctx, a)
			got = true
		}
	}
	// Alerts are recorded while the playbook runs, in their own coroutine.
	// It waits on the channel's length rather than blocking in Receive: a
	// blocked receiver takes a signal out of the channel before it runs, and
	// a continue-as-new decided in that moment would lose the alert.
	workflow.Go(ctx, func(gctx workflow.Context) {
		for {
			if err := workflow.Await(gctx, func() bool { return alertCh.Len() > 0 }); err != nil {
				return
			}
			receiveAll()
			if err := st.upsertSearchAttributes(gctx); err != nil {
				workflow.GetLogger(gctx).Error("upsert search attributes", "error", err)
			}
		}
	})

	// Audit entries (a refused click, say) go to the timeline as they come.
	auditCh := workflow.GetSignalChannel(ctx, SignalAudit)
	workflow.Go(ctx, func(gctx workflow.Context) {
		for {
			var e TimelineEntry
			auditCh.Receive(gctx, &e)
			e.At = workflow.Now(gctx)
			if e.Kind == "" {
				e.Kind = "audit"
			}
			st.addTimeline(e)
		}
	})

	if in.PlaybookDef != nil && (st.Playbook.Status == "pending" || st.Playbook.Status == "running") {
		// The first alert arrives with the start; take it before the
		// playbook reads `alert`.
		_ = workflow.Await(ctx, func() bool { return st.Alerts.Count > 0 || st.Alerts.Duplicates > 0 })
		r.run(ctx)
	}

	historyLarge := func() bool {
		info := workflow.GetInfo(ctx)
		return info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() >= maxEvents
	}
	for {
		if err := workflow.Await(ctx, func() bool { return st.Status == StatusClosed || historyLarge() }); err != nil {
			return st, err
		}
		if st.Status == StatusClosed {
			reopened, err := workflow.AwaitWithTimeout(ctx, reopenWindow, func() bool { return st.Status != StatusClosed || historyLarge() })
			if err != nil {
				return st, err
			}
			if !reopened {
				// Let any update in flight finish, take the last alerts and
				// complete.
				_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
				receiveAll()
				return st, st.upsertSearchAttributes(ctx)
			}
			if st.Status == StatusClosed && !historyLarge() {
				continue
			}
		}
		if historyLarge() {
			_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
			receiveAll()
			// The next run inherits these search attributes; they must
			// count the alerts drained just now.
			if err := st.upsertSearchAttributes(ctx); err != nil {
				return st, err
			}
			next := in
			next.State = &st
			return st, workflow.NewContinueAsNewError(ctx, IncidentWorkflowName, next)
		}
	}
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
		if st.Alerts.Count == 1 {
			t := a
			t.Raw = nil
			st.Trigger = t
		}
	}
	if st.Alerts.FirstSeen.IsZero() || a.ObservedAt.Before(st.Alerts.FirstSeen) {
		st.Alerts.FirstSeen = a.ObservedAt
		st.Lifecycle.FirstAlert = a.ObservedAt
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
	if st.skipUnchanged && st.searchAttributesCurrent(ctx) {
		return nil
	}
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

func hasAnyRole(have, want []string) bool {
	for _, r := range have {
		if slices.Contains(want, r) {
			return true
		}
	}
	return false
}
