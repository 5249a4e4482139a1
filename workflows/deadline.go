package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/riposte-soar/riposte/activities"
	"github.com/riposte-soar/riposte/compliance"
)

// Names that clients use to talk to a regulatory obligation.
const (
	DeadlineWorkflowName = "DeadlineWorkflow"
	QueryDeadline        = "deadline"
	UpdateSubmit         = "submit"
	UpdateDefer          = "defer"
	UpdateCancel         = "cancel"
	UpdateEvent          = "event"
)

// Obligation statuses. Submitted, submitted_late and cancelled are final.
const (
	// ObligationWaiting: not armed yet, typically because the stage is
	// chained on another stage's submission.
	ObligationWaiting       = "waiting"
	ObligationOpen          = "open"
	ObligationLate          = "late"
	ObligationSubmitted     = "submitted"
	ObligationSubmittedLate = "submitted_late"
	ObligationDeferred      = "deferred"
	ObligationCancelled     = "cancelled"
)

// DefaultReminderLeads are the lead times before the due time at which a
// reminder goes out when DeadlineInput.Reminders is empty. Clocks shorter
// than halfTimeBelow also get a reminder at half-time.
var DefaultReminderLeads = []time.Duration{24 * time.Hour, 4 * time.Hour, time.Hour}

const (
	halfTimeBelow = 48 * time.Hour
	// clockSkew tolerates a client clock slightly ahead of workflow time.
	clockSkew  = 5 * time.Minute
	maxHistory = 500
)

// deadlineRoles may submit, defer or cancel an obligation.
var deadlineRoles = []string{"compliance", "admin"}

// DeadlineInput starts one obligation: one catalogue stage for one incident.
type DeadlineInput struct {
	ID         string `json:"id"`
	IncidentID string `json:"incident_id"`
	// Stage is the catalogue entry, passed as data so that a later
	// catalogue never alters a running obligation.
	Stage            compliance.Stage         `json:"stage"`
	CatalogueVersion string                   `json:"catalogue_version"`
	Events           compliance.Events        `json:"events,omitempty"`
	Policy           compliance.PolicyTargets `json:"policy,omitempty"`
	// Reminders are lead times before the due time. Empty means
	// DefaultReminderLeads plus half-time for clocks shorter than 48 h.
	Reminders []time.Duration `json:"reminders,omitempty"`
}

// Submission records what was filed, when, and under which reference.
type Submission struct {
	SubmittedAt     time.Time `json:"submitted_at"`
	Reference       string    `json:"reference"`
	Recipient       string    `json:"recipient"`
	SubmittedBy     string    `json:"submitted_by"`
	Note            string    `json:"note,omitempty"`
	EvidenceURL     string    `json:"evidence_url,omitempty"`
	ReasonsForDelay string    `json:"reasons_for_delay,omitempty"`
	Late            bool      `json:"late"`
	RecordedAt      time.Time `json:"recorded_at"`
}

// Deferral records a request (for example from law enforcement) that moves
// the due time.
type Deferral struct {
	Until         time.Time  `json:"until"`
	LegalBasis    string     `json:"legal_basis"`
	Document      string     `json:"document,omitempty"`
	By            string     `json:"by"`
	RecordedAt    time.Time  `json:"recorded_at"`
	PreviousDueAt *time.Time `json:"previous_due_at,omitempty"`
}

// Cancellation records why an obligation is not owed. The record is kept.
type Cancellation struct {
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// DeadlineState is what QueryDeadline returns and the workflow's result.
type DeadlineState struct {
	ID               string     `json:"id"`
	IncidentID       string     `json:"incident_id"`
	StageID          string     `json:"stage_id"`
	Regime           string     `json:"regime"`
	Recipient        string     `json:"recipient"`
	DependsOn        []string   `json:"depends_on,omitempty"`
	OnLate           string     `json:"on_late"`
	CatalogueVersion string     `json:"catalogue_version"`
	Status           string     `json:"status"`
	DueAt            *time.Time `json:"due_at"`
	// Basis is "law" or "policy" (a company target for stages without a
	// fixed period).
	Basis         string            `json:"basis,omitempty"`
	Events        compliance.Events `json:"events"`
	CreatedAt     time.Time         `json:"created_at"`
	RemindersSent []time.Time       `json:"reminders_sent"`
	History       []TimelineEntry   `json:"history"`
	Submission    *Submission       `json:"submission,omitempty"`
	Deferral      *Deferral         `json:"deferral,omitempty"`
	Cancellation  *Cancellation     `json:"cancellation,omitempty"`
}

// Final reports whether the obligation is settled.
func (s *DeadlineState) Final() bool {
	switch s.Status {
	case ObligationSubmitted, ObligationSubmittedLate, ObligationCancelled:
		return true
	}
	return false
}

// SubmitRequest is the Update UpdateSubmit. SubmittedAt defaults to now.
type SubmitRequest struct {
	SubmittedAt     time.Time `json:"submitted_at"`
	Reference       string    `json:"reference"`
	Recipient       string    `json:"recipient"`
	SubmittedBy     string    `json:"submitted_by"`
	Roles           []string  `json:"roles"`
	Note            string    `json:"note,omitempty"`
	EvidenceURL     string    `json:"evidence_url,omitempty"`
	ReasonsForDelay string    `json:"reasons_for_delay,omitempty"`
}

// DeferRequest is the Update UpdateDefer.
type DeferRequest struct {
	Until      time.Time `json:"until"`
	LegalBasis string    `json:"legal_basis"`
	Document   string    `json:"document,omitempty"`
	By         string    `json:"by"`
	Roles      []string  `json:"roles"`
}

// CancelRequest is the Update UpdateCancel.
type CancelRequest struct {
	Reason string   `json:"reason"`
	By     string   `json:"by"`
	Roles  []string `json:"roles"`
}

// EventRequest is the Update UpdateEvent: a trigger event ("aware",
// "classified_major", ..., or "submitted:<stage id>") and when it happened.
type EventRequest struct {
	Name string    `json:"name"`
	At   time.Time `json:"at"`
	By   string    `json:"by,omitempty"`
}

type pendingReminder struct {
	at   time.Time
	lead time.Duration
}

type deadlineRun struct {
	st      *DeadlineState
	stage   compliance.Stage
	policy  compliance.PolicyTargets
	leads   []time.Duration
	custom  bool
	pending []pendingReminder
	changes int
}

// DeadlineWorkflow is one regulatory obligation (incident × catalogue
// stage). It keeps a durable timer to the due time and to each reminder,
// turns late (not closed) when the due time passes with nothing submitted,
// and takes the Updates submit, defer, cancel and event. It completes when
// the obligation is submitted or cancelled, returning the final state.
func DeadlineWorkflow(ctx workflow.Context, in DeadlineInput) (DeadlineState, error) {
	if in.ID == "" {
		return DeadlineState{}, errors.New("deadline id is required")
	}
	if in.Stage.ID == "" {
		return DeadlineState{}, errors.New("deadline stage is required")
	}
	now := workflow.Now(ctx)
	st := &DeadlineState{
		ID: in.ID, IncidentID: in.IncidentID, StageID: in.Stage.ID, Regime: in.Stage.Regime,
		Recipient: in.Stage.Recipient, DependsOn: append([]string{}, in.Stage.DependsOn...), OnLate: in.Stage.OnLate,
		CatalogueVersion: in.CatalogueVersion, Status: ObligationWaiting, Events: compliance.Events{},
		CreatedAt: now, RemindersSent: []time.Time{}, History: []TimelineEntry{},
	}
	for k, v := range in.Events {
		st.Events[k] = v.UTC()
	}
	d := &deadlineRun{st: st, stage: in.Stage, policy: in.Policy, leads: in.Reminders, custom: len(in.Reminders) > 0}
	if !d.custom {
		d.leads = DefaultReminderLeads
	}
	st.addHistory(TimelineEntry{At: now, Actor: "riposte", Kind: "started",
		Message: fmt.Sprintf("obligation %s (%s) started with catalogue %s", in.Stage.ID, in.Stage.Regime, in.CatalogueVersion)})
	if err := d.recompute(ctx); err != nil {
		return *st, err
	}
	if err := workflow.SetQueryHandler(ctx, QueryDeadline, func() (DeadlineState, error) { return *st, nil }); err != nil {
		return *st, err
	}
	if err := d.registerUpdates(ctx); err != nil {
		return *st, err
	}

	for !st.Final() {
		gen := d.changes
		changed := func() bool { return d.changes != gen }
		if next, ok := d.nextWake(); ok {
			if wait := next.Sub(workflow.Now(ctx)); wait > 0 {
				if _, err := workflow.AwaitWithTimeout(ctx, wait, changed); err != nil {
					return *st, err
				}
			}
		} else if err := workflow.Await(ctx, changed); err != nil {
			return *st, err
		}
		if err := d.tick(ctx); err != nil {
			return *st, err
		}
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return *st, err
	}
	return *st, nil
}

func (s *DeadlineState) addHistory(e TimelineEntry) {
	s.History = append(s.History, e)
	if len(s.History) > maxHistory {
		s.History = slices.Delete(s.History, 1, len(s.History)-maxHistory+1)
	}
}

// clockStart is the instant the current clock runs from, for half-time
// reminders: the trigger event, the latest submission a chained stage
// depends on, or the backstop trigger when the backstop gives the due time.
func (d *deadlineRun) clockStart(due time.Time) (time.Time, bool) {
	s, ev := d.stage, d.st.Events
	if b := s.Backstop; b != nil {
		if bt, ok := ev[b.Trigger]; ok && bt.Add(time.Duration(b.Amount)*time.Hour).Equal(due) {
			return bt, true
		}
	}
	if dep, ok := strings.CutPrefix(s.Trigger, compliance.SubmittedPrefix); ok {
		var latest time.Time
		for _, dd := range append([]string{dep}, s.DependsOn...) {
			if t, ok := ev[compliance.SubmittedPrefix+dd]; ok && t.After(latest) {
				latest = t
			}
		}
		return latest, !latest.IsZero()
	}
	t, ok := ev[s.Trigger]
	return t, ok && !t.IsZero()
}

// recompute derives the due time from the events (and a recorded
// deferral), plans the reminders still ahead, and refreshes the status.
func (d *deadlineRun) recompute(ctx workflow.Context) error {
	st := d.st
	if st.Final() {
		return nil
	}
	now := workflow.Now(ctx)
	due, basis, err := compliance.DueAt(d.stage, st.Events, d.policy)
	switch {
	case errors.Is(err, compliance.ErrNotArmed):
		due, basis = nil, ""
	case err != nil:
		return err
	}
	if st.Deferral != nil && (due == nil || st.Deferral.Until.After(*due)) {
		u := st.Deferral.Until
		due = &u
	}
	if !sameDue(st.DueAt, due) {
		st.DueAt = due
		st.Basis = basis
		if due != nil {
			st.addHistory(TimelineEntry{At: now, Actor: "riposte", Kind: "due_at",
				Message: fmt.Sprintf("due at %s (%s)", due.UTC().Format(time.RFC3339), basis)})
		}
	}
	d.pending = nil
	if due != nil {
		leads := slices.Clone(d.leads)
		if !d.custom {
			if start, ok := d.clockStart(*due); ok {
				if clock := due.Sub(start); clock > 0 && clock < halfTimeBelow {
					leads = append(leads, clock/2)
				}
			}
		}
		for _, l := range leads {
			at := due.Add(-l)
			if l <= 0 || !at.After(now) || slices.ContainsFunc(d.pending, func(p pendingReminder) bool { return p.at.Equal(at) }) {
				continue
			}
			d.pending = append(d.pending, pendingReminder{at: at, lead: l})
		}
		slices.SortFunc(d.pending, func(a, b pendingReminder) int { return a.at.Compare(b.at) })
	}
	d.refreshStatus(now)
	return d.upsert(ctx)
}

func sameDue(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// refreshStatus sets the open status from the due time and records the
// turn to late.
func (d *deadlineRun) refreshStatus(now time.Time) {
	st := d.st
	if st.Final() {
		return
	}
	var status string
	switch {
	case st.DueAt == nil:
		status = ObligationWaiting
	case !now.Before(*st.DueAt):
		status = ObligationLate
	case st.Deferral != nil && st.DueAt.Equal(st.Deferral.Until):
		status = ObligationDeferred
	default:
		status = ObligationOpen
	}
	if status == st.Status {
		return
	}
	if status == ObligationLate {
		msg := fmt.Sprintf("due time %s passed with nothing submitted; the report is still owed", st.DueAt.UTC().Format(time.RFC3339))
		if d.stage.OnLate == "reasons_required" {
			msg += " with reasons for the delay"
		}
		st.addHistory(TimelineEntry{At: now, Actor: "riposte", Kind: "late", Message: msg})
	}
	st.Status = status
}

func (d *deadlineRun) nextWake() (time.Time, bool) {
	st := d.st
	if st.Final() {
		return time.Time{}, false
	}
	if len(d.pending) > 0 {
		return d.pending[0].at, true
	}
	if st.DueAt != nil && st.Status != ObligationLate {
		return *st.DueAt, true
	}
	return time.Time{}, false
}

// tick sends the reminders that fell due and turns the obligation late at
// its due time.
func (d *deadlineRun) tick(ctx workflow.Context) error {
	st := d.st
	if st.Final() {
		return nil
	}
	now := workflow.Now(ctx)
	log := workflow.GetLogger(ctx)
	for len(d.pending) > 0 && !d.pending[0].at.After(now) {
		r := d.pending[0]
		d.pending = d.pending[1:]
		// A log line always; the compliance channel when chat is set up.
		log.Info("deadline reminder", "obligation", st.ID, "incident", st.IncidentID, "stage", st.StageID,
			"due_at", st.DueAt, "lead", r.lead.String())
		st.RemindersSent = append(st.RemindersSent, now)
		msg := fmt.Sprintf("reminder: %s due in %s", st.StageID, r.lead)
		st.addHistory(TimelineEntry{At: now, Actor: "riposte", Kind: "reminder", Message: msg})
		d.notify(ctx, fmt.Sprintf("Regulatory clock %s (incident %s, %s): due %s, in %s. Recipient: %s.",
			st.StageID, st.IncidentID, st.Regime, st.DueAt.UTC().Format(time.RFC3339), r.lead, st.Recipient))
	}
	before := st.Status
	d.refreshStatus(now)
	if st.Status == before {
		return nil
	}
	if st.Status == ObligationLate {
		log.Warn("deadline late", "obligation", st.ID, "incident", st.IncidentID, "stage", st.StageID, "due_at", st.DueAt)
		d.notify(ctx, fmt.Sprintf("LATE: regulatory clock %s (incident %s, %s) was due %s and nothing is recorded as filed. "+
			"File it, with the reasons for the delay.", st.StageID, st.IncidentID, st.Regime, st.DueAt.UTC().Format(time.RFC3339)))
	}
	return d.upsert(ctx)
}

func (d *deadlineRun) upsert(ctx workflow.Context) error {
	st := d.st
	updates := []temporal.SearchAttributeUpdate{
		SAIncidentID.ValueSet(st.IncidentID),
		SARegime.ValueSet(st.Regime),
		SAStage.ValueSet(st.StageID),
		SAStatus.ValueSet(st.Status),
	}
	if st.DueAt != nil {
		updates = append(updates, SADueAt.ValueSet(*st.DueAt))
	} else {
		updates = append(updates, SADueAt.ValueUnset())
	}
	return workflow.UpsertTypedSearchAttributes(ctx, updates...)
}

func (d *deadlineRun) checkOpen() error {
	if d.st.Final() {
		return rejected(errTypeConflict, "obligation is already %s", d.st.Status)
	}
	return nil
}

func checkActor(by string, roles []string, what string) error {
	if strings.TrimSpace(by) == "" {
		return rejected(errTypeInvalid, "%s is required", what)
	}
	if !hasAnyRole(roles, deadlineRoles) {
		return rejected(errTypeForbidden, "%s may not act on regulatory obligations (needs compliance or admin)", by)
	}
	return nil
}

func (d *deadlineRun) validateSubmit(ctx workflow.Context, req SubmitRequest) error {
	if err := d.checkOpen(); err != nil {
		return err
	}
	if err := checkActor(req.SubmittedBy, req.Roles, "submitted_by"); err != nil {
		return err
	}
	if strings.TrimSpace(req.Reference) == "" {
		return rejected(errTypeInvalid, "reference is required")
	}
	now := workflow.Now(ctx)
	at := req.SubmittedAt
	if at.IsZero() {
		at = now
	}
	if at.After(now.Add(clockSkew)) {
		return rejected(errTypeInvalid, "submitted_at %s is in the future", at.UTC().Format(time.RFC3339))
	}
	if due := d.st.DueAt; due != nil && at.After(*due) && d.stage.OnLate == "reasons_required" && strings.TrimSpace(req.ReasonsForDelay) == "" {
		return rejected(errTypeInvalid, "submitted after the due time %s: reasons_for_delay is required", due.UTC().Format(time.RFC3339))
	}
	return nil
}

func (d *deadlineRun) submit(ctx workflow.Context, req SubmitRequest) (DeadlineState, error) {
	st := d.st
	now := workflow.Now(ctx)
	at := req.SubmittedAt
	if at.IsZero() {
		at = now
	}
	at = at.UTC()
	recipient := req.Recipient
	if recipient == "" {
		recipient = d.stage.Recipient
	}
	late := st.DueAt != nil && at.After(*st.DueAt)
	st.Submission = &Submission{SubmittedAt: at, Reference: req.Reference, Recipient: recipient, SubmittedBy: req.SubmittedBy,
		Note: req.Note, EvidenceURL: req.EvidenceURL, ReasonsForDelay: req.ReasonsForDelay, Late: late, RecordedAt: now}
	st.Status = ObligationSubmitted
	if late {
		st.Status = ObligationSubmittedLate
	}
	msg := fmt.Sprintf("submitted at %s to %s, reference %s", at.Format(time.RFC3339), recipient, req.Reference)
	if late {
		msg += "; reasons for delay: " + req.ReasonsForDelay
	}
	st.addHistory(TimelineEntry{At: now, Actor: req.SubmittedBy, Kind: st.Status, Message: msg})
	d.pending = nil
	d.changes++
	return *st, d.upsert(ctx)
}

func (d *deadlineRun) validateDefer(ctx workflow.Context, req DeferRequest) error {
	if err := d.checkOpen(); err != nil {
		return err
	}
	if err := checkActor(req.By, req.Roles, "by"); err != nil {
		return err
	}
	// Only where the law provides for it, as the catalogue records.
	if d.stage.Deferral == "" {
		return rejected(errTypeConflict, "the law allows no deferral of %s", d.st.StageID)
	}
	if strings.TrimSpace(req.LegalBasis) == "" {
		return rejected(errTypeInvalid, "legal_basis is required")
	}
	if d.st.DueAt == nil {
		return rejected(errTypeConflict, "obligation is not armed yet")
	}
	if !req.Until.After(workflow.Now(ctx)) {
		return rejected(errTypeInvalid, "until must be in the future")
	}
	if !req.Until.After(*d.st.DueAt) {
		return rejected(errTypeInvalid, "until %s is not after the due time %s",
			req.Until.UTC().Format(time.RFC3339), d.st.DueAt.UTC().Format(time.RFC3339))
	}
	return nil
}

func (d *deadlineRun) deferral(ctx workflow.Context, req DeferRequest) (DeadlineState, error) {
	st := d.st
	now := workflow.Now(ctx)
	prev := *st.DueAt
	st.Deferral = &Deferral{Until: req.Until.UTC(), LegalBasis: req.LegalBasis, Document: req.Document, By: req.By, RecordedAt: now, PreviousDueAt: &prev}
	msg := fmt.Sprintf("deferred from %s to %s under %s", prev.UTC().Format(time.RFC3339), req.Until.UTC().Format(time.RFC3339), req.LegalBasis)
	if req.Document != "" {
		msg += " (" + req.Document + ")"
	}
	st.addHistory(TimelineEntry{At: now, Actor: req.By, Kind: "deferred", Message: msg})
	d.changes++
	if err := d.recompute(ctx); err != nil {
		return *st, err
	}
	return *st, nil
}

func (d *deadlineRun) validateCancel(req CancelRequest) error {
	if err := d.checkOpen(); err != nil {
		return err
	}
	if err := checkActor(req.By, req.Roles, "by"); err != nil {
		return err
	}
	if strings.TrimSpace(req.Reason) == "" {
		return rejected(errTypeInvalid, "reason is required")
	}
	return nil
}

func (d *deadlineRun) cancel(ctx workflow.Context, req CancelRequest) (DeadlineState, error) {
	st := d.st
	now := workflow.Now(ctx)
	st.Cancellation = &Cancellation{Reason: req.Reason, By: req.By, At: now}
	st.Status = ObligationCancelled
	st.addHistory(TimelineEntry{At: now, Actor: req.By, Kind: "cancelled", Message: req.Reason})
	d.pending = nil
	d.changes++
	return *st, d.upsert(ctx)
}

func (d *deadlineRun) validateEvent(ctx workflow.Context, req EventRequest) error {
	if err := d.checkOpen(); err != nil {
		return err
	}
	if strings.TrimSpace(req.Name) == "" {
		return rejected(errTypeInvalid, "event name is required")
	}
	if req.At.IsZero() {
		return rejected(errTypeInvalid, "event %q: at is required", req.Name)
	}
	if req.At.After(workflow.Now(ctx).Add(clockSkew)) {
		return rejected(errTypeInvalid, "event %q: at %s is in the future", req.Name, req.At.UTC().Format(time.RFC3339))
	}
	return nil
}

func (d *deadlineRun) event(ctx workflow.Context, req EventRequest) (DeadlineState, error) {
	st := d.st
	now := workflow.Now(ctx)
	actor := req.By
	if actor == "" {
		actor = "riposte"
	}
	st.Events[req.Name] = req.At.UTC()
	st.addHistory(TimelineEntry{At: now, Actor: actor, Kind: "event",
		Message: fmt.Sprintf("event %s at %s", req.Name, req.At.UTC().Format(time.RFC3339))})
	d.changes++
	if err := d.recompute(ctx); err != nil {
		return *st, err
	}
	return *st, nil
}

func (d *deadlineRun) registerUpdates(ctx workflow.Context) error {
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateSubmit, d.submit,
		workflow.UpdateHandlerOptions{Validator: func(req SubmitRequest) error { return d.validateSubmit(ctx, req) }}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateDefer, d.deferral,
		workflow.UpdateHandlerOptions{Validator: func(req DeferRequest) error { return d.validateDefer(ctx, req) }}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateCancel, d.cancel,
		workflow.UpdateHandlerOptions{Validator: d.validateCancel}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateEvent, d.event,
		workflow.UpdateHandlerOptions{Validator: func(req EventRequest) error { return d.validateEvent(ctx, req) }})
}

// notify posts to the compliance channel without waiting; without chat the
// log line stands alone.
func (d *deadlineRun) notify(ctx workflow.Context, text string) {
	n := activities.ApprovalNotice{Kind: activities.NoticeDeadline, IncidentID: d.st.IncidentID, Step: d.st.StageID, Text: text}
	workflow.Go(ctx, func(gctx workflow.Context) {
		_ = workflow.ExecuteActivity(notifyOptions(gctx), activities.ActivityNotifyApproval, n).Get(gctx, nil)
	})
}
