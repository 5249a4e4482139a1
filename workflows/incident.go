package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/workflow"
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

// IncidentInput starts an incident.
type IncidentInput struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
	Source   string `json:"source"`
}

// AlertSignal is one alert joining the incident.
type AlertSignal struct {
	ID         string    `json:"id"`
	Source     string    `json:"source"`
	Title      string    `json:"title"`
	Severity   string    `json:"severity"`
	Status     string    `json:"status"`
	ObservedAt time.Time `json:"observed_at"`
}

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
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// IncidentState is what QueryIncident returns.
type IncidentState struct {
	ID       string          `json:"id"`
	Title    string          `json:"title"`
	Severity string          `json:"severity"`
	Status   string          `json:"status"`
	Alerts   AlertStats      `json:"alerts"`
	Timeline []TimelineEntry `json:"timeline"`
}

var severityRank = map[string]int64{"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}

// IncidentWorkflow groups alerts into one incident until it is closed. Later
// work runs the playbook here; this keeps the state, timeline and search
// attributes that the API lists from.
func IncidentWorkflow(ctx workflow.Context, in IncidentInput) (IncidentState, error) {
	if in.ID == "" {
		return IncidentState{}, errors.New("incident id is required")
	}
	st := IncidentState{ID: in.ID, Title: in.Title, Severity: in.Severity, Status: StatusOpen}
	now := workflow.Now(ctx)
	st.Timeline = append(st.Timeline, TimelineEntry{At: now, Actor: "riposte", Kind: "opened", Message: "incident opened from " + in.Source})
	if err := workflow.SetQueryHandler(ctx, QueryIncident, func() (IncidentState, error) { return st, nil }); err != nil {
		return st, err
	}
	upsert := func() error {
		return workflow.UpsertTypedSearchAttributes(ctx,
			SAStatus.ValueSet(st.Status),
			SASeverity.ValueSet(st.Severity),
			SASeverityRank.ValueSet(severityRank[st.Severity]),
			SATitle.ValueSet(st.Title),
			SAAlertCount.ValueSet(int64(st.Alerts.Count)),
			SALastSeen.ValueSet(st.Alerts.LastSeen),
		)
	}

	alerts := workflow.GetSignalChannel(ctx, SignalAlert)
	closeCh := workflow.GetSignalChannel(ctx, SignalClose)
	addAlert := func(a AlertSignal) {
		if st.Alerts.Count == 0 || a.ObservedAt.Before(st.Alerts.FirstSeen) {
			st.Alerts.FirstSeen = a.ObservedAt
		}
		if a.ObservedAt.After(st.Alerts.LastSeen) {
			st.Alerts.LastSeen = a.ObservedAt
		}
		st.Alerts.Count++
		if severityRank[a.Severity] > severityRank[st.Severity] {
			st.Severity = a.Severity
		}
	}
	closed := false
	for !closed {
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(alerts, func(c workflow.ReceiveChannel, _ bool) {
			var a AlertSignal
			c.Receive(ctx, &a)
			addAlert(a)
		})
		sel.AddReceive(closeCh, func(c workflow.ReceiveChannel, _ bool) {
			var cs CloseSignal
			c.Receive(ctx, &cs)
			closed = true
			st.Status = StatusClosed
			st.Timeline = append(st.Timeline, TimelineEntry{At: workflow.Now(ctx), Actor: cs.By, Kind: "closed", Message: cs.Reason})
		})
		sel.Select(ctx)
		if err := upsert(); err != nil {
			return st, err
		}
	}
	// Alerts that arrived with the close still count; none is dropped.
	for {
		var a AlertSignal
		if !alerts.ReceiveAsync(&a) {
			break
		}
		addAlert(a)
	}
	return st, upsert()
}
