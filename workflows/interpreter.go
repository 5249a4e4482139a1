package workflows

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/riposte-soar/riposte/activities"
	"github.com/riposte-soar/riposte/playbooks"
)

// Step statuses.
const (
	StepRunning       = "running"
	StepSucceeded     = "succeeded"
	StepFailed        = "failed"
	StepSkipped       = "skipped"
	StepNotConfigured = "not_configured"
	StepApproved      = "approved"
	StepRejected      = "rejected"
	StepExpired       = "expired"
	StepCancelled     = "cancelled"
)

// Approval statuses.
const (
	ApprovalPending   = "pending"
	ApprovalApproved  = "approved"
	ApprovalRejected  = "rejected"
	ApprovalExpired   = "expired"
	ApprovalEscalated = "escalated"
)

// StepState is one step's record.
type StepState struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	Phase      string    `json:"phase"`
	Status     string    `json:"status"`
	Output     any       `json:"output,omitempty"`
	Error      string    `json:"error,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitempty"`
}

// Decision is one person's vote on an approval.
type Decision struct {
	By       string    `json:"by"`
	Decision string    `json:"decision"`
	At       time.Time `json:"at"`
	Comment  string    `json:"comment,omitempty"`
}

// ApprovalState is a pending or decided approval.
type ApprovalState struct {
	Step      string    `json:"step"`
	Status    string    `json:"status"`
	Prompt    string    `json:"prompt"`
	Approvers []string  `json:"approvers"`
	Required  int       `json:"required"`
	Deadline  time.Time `json:"deadline"`
	// RequestedAt is when the approval was asked for (KPIs: response time).
	RequestedAt time.Time  `json:"requested_at"`
	Escalated   bool       `json:"escalated,omitempty"`
	Decisions   []Decision `json:"decisions"`
	// Chat is where the request was posted, once it was.
	Chat *activities.ChatRef `json:"chat,omitempty"`
}

// ActionRecord is an action taken (or refused) and its outcome.
type ActionRecord struct {
	Step   string         `json:"step"`
	Action string         `json:"action"`
	Args   map[string]any `json:"args,omitempty"`
	Status string         `json:"status"`
	Output map[string]any `json:"output,omitempty"`
	Error  string         `json:"error,omitempty"`
	At     time.Time      `json:"at"`
	Undo   bool           `json:"undo,omitempty"`
}

// TicketRecord is a ticket the incident opened.
type TicketRecord struct {
	Step   string    `json:"step"`
	System string    `json:"system"`
	ID     string    `json:"id"`
	Number string    `json:"number,omitempty"`
	URL    string    `json:"url,omitempty"`
	At     time.Time `json:"at"`
	// Resolved is set once ticket.resolve succeeded on it.
	Resolved bool `json:"resolved,omitempty"`
}

// UndoRecord is a recorded reversal, run newest first on compensation or
// close.
type UndoRecord struct {
	Step   string         `json:"step"`
	Action string         `json:"action"`
	Args   map[string]any `json:"args,omitempty"`
	Done   bool           `json:"done"`
}

// DecideRequest is the "decide" Update: an approval vote.
type DecideRequest struct {
	Step string `json:"step"`
	// Decision is approve or reject.
	Decision string `json:"decision"`
	// By identifies the person (token name, Slack user ID).
	By string `json:"by"`
	// Roles are the person's Riposte roles, checked against the approvers.
	Roles   []string `json:"roles"`
	Comment string   `json:"comment,omitempty"`
}

// LifecycleRequest is the "close" and "reopen" Updates.
type LifecycleRequest struct {
	By     string   `json:"by"`
	Roles  []string `json:"roles"`
	Reason string   `json:"reason"`
}

// runner interprets a playbook for one incident.
type runner struct {
	st *IncidentState
	pb *playbooks.Playbook
	// cancel stops the playbook when the incident is closed.
	cancel workflow.CancelFunc
	// compensating guards against running the undos twice at once.
	compensating bool
	// reminderFraction of an approval's timeout posts a reminder.
	reminderFraction       float64
	chatNotConfiguredNoted bool
	incidentChannel        bool
	// channelReady is set once the incident channel is open (or failed).
	channelReady workflow.Future
	// lazyVisibility defers the search-attribute write of a phase change
	// (see run); visibilityStale says one is owed.
	lazyVisibility  bool
	visibilityStale bool
}

var closeRoles = []string{"admin", "responder"}

func (r *runner) registerHandlers(ctx workflow.Context) error {
	st := r.st
	if err := workflow.SetQueryHandler(ctx, QueryIncident, func() (IncidentState, error) {
		out := *st
		out.Seen = nil // internal; can be large
		return out, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateDecide, r.decide,
		workflow.UpdateHandlerOptions{Validator: r.validateDecide}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateClose, r.close,
		workflow.UpdateHandlerOptions{Validator: func(req LifecycleRequest) error {
			if st.Status == StatusClosed {
				return rejected(errTypeConflict, "incident is already closed")
			}
			return checkLifecycle(req)
		}}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateReopen, func(ctx workflow.Context, req LifecycleRequest) (IncidentState, error) {
		st.Status = StatusOpen
		st.Lifecycle.Closed = time.Time{}
		st.addTimeline(TimelineEntry{At: workflow.Now(ctx), Actor: req.By, Kind: "reopened", Message: req.Reason})
		return *st, st.upsertSearchAttributes(ctx)
	}, workflow.UpdateHandlerOptions{Validator: func(req LifecycleRequest) error {
		if st.Status != StatusClosed {
			return rejected(errTypeConflict, "incident is not closed")
		}
		return checkLifecycle(req)
	}})
}

// Validator error types; the API maps them to 403 and 409.
const (
	errTypeForbidden = "Forbidden"
	errTypeConflict  = "Conflict"
	errTypeInvalid   = "Invalid"
)

func rejected(typ, format string, args ...any) error {
	return temporal.NewApplicationErrorWithOptions(fmt.Sprintf(format, args...), typ, temporal.ApplicationErrorOptions{NonRetryable: true})
}

func checkLifecycle(req LifecycleRequest) error {
	if req.By == "" {
		return rejected(errTypeInvalid, "by is required")
	}
	if strings.TrimSpace(req.Reason) == "" {
		return rejected(errTypeInvalid, "reason is required")
	}
	if !hasAnyRole(req.Roles, closeRoles) {
		return rejected(errTypeForbidden, "%s may not close or reopen incidents (needs admin or responder)", req.By)
	}
	return nil
}

// validateDecide rejects a vote before anything is written to history.
func (r *runner) validateDecide(req DecideRequest) error {
	if req.Decision != "approve" && req.Decision != "reject" {
		return rejected(errTypeInvalid, "decision must be approve or reject, got %q", req.Decision)
	}
	if req.By == "" {
		return rejected(errTypeInvalid, "by is required")
	}
	a := r.approval(req.Step)
	if a == nil {
		return rejected(errTypeConflict, "step %q has no approval", req.Step)
	}
	if a.Status != ApprovalPending && a.Status != ApprovalEscalated {
		return rejected(errTypeConflict, "step %q is not pending (it is %s)", req.Step, a.Status)
	}
	if !hasAnyRole(req.Roles, a.Approvers) {
		return rejected(errTypeForbidden, "%s may not decide step %q: needs one of the roles %s", req.By, req.Step, strings.Join(a.Approvers, ", "))
	}
	for _, d := range a.Decisions {
		if d.By == req.By {
			return rejected(errTypeConflict, "%s has already voted on step %q", req.By, req.Step)
		}
	}
	return nil
}

func (r *runner) decide(ctx workflow.Context, req DecideRequest) (ApprovalState, error) {
	a := r.approval(req.Step)
	now := workflow.Now(ctx)
	a.Decisions = append(a.Decisions, Decision{By: req.By, Decision: req.Decision, At: now, Comment: req.Comment})
	if len(a.Decisions) == 1 && !a.RequestedAt.IsZero() {
		workflow.GetMetricsHandler(ctx).Timer(MetricApprovalResponse).Record(now.Sub(a.RequestedAt))
	}
	if r.st.Lifecycle.Acknowledged.IsZero() {
		r.st.Lifecycle.Acknowledged = now
	}
	approvals := 0
	for _, d := range a.Decisions {
		if d.Decision == "approve" {
			approvals++
		}
	}
	msg := fmt.Sprintf("%s voted %s on %s", req.By, req.Decision, req.Step)
	switch {
	case req.Decision == "reject":
		// One rejection is enough: four eyes guard against acting, not
		// against stopping.
		a.Status = ApprovalRejected
		msg = fmt.Sprintf("%s rejected %s", req.By, req.Step)
	case approvals >= a.Required:
		a.Status = ApprovalApproved
		msg = fmt.Sprintf("%s approved %s (%d of %d)", req.By, req.Step, approvals, a.Required)
	default:
		msg = fmt.Sprintf("%s approved %s (%d of %d needed)", req.By, req.Step, approvals, a.Required)
	}
	if req.Comment != "" {
		msg += ": " + req.Comment
	}
	r.st.addTimeline(TimelineEntry{At: now, Actor: req.By, Kind: "approval", Message: msg})
	return *a, nil
}

func (r *runner) close(ctx workflow.Context, req LifecycleRequest) (IncidentState, error) {
	st := r.st
	now := workflow.Now(ctx)
	// Closing is a person's action (the validator wants a role): it
	// acknowledges the incident if nothing did before.
	if st.Lifecycle.Acknowledged.IsZero() {
		st.Lifecycle.Acknowledged = now
	}
	st.addTimeline(TimelineEntry{At: now, Actor: req.By, Kind: "closing", Message: req.Reason})
	if r.cancel != nil {
		r.cancel()
	}
	r.compensate(ctx, "incident closed")
	st.Status = StatusClosed
	st.Lifecycle.Closed = workflow.Now(ctx)
	st.addTimeline(TimelineEntry{At: workflow.Now(ctx), Actor: req.By, Kind: "closed", Message: req.Reason})
	r.threadNote(ctx, fmt.Sprintf("Incident closed by %s: %s", req.By, req.Reason))
	return *st, st.upsertSearchAttributes(ctx)
}

func (r *runner) approval(step string) *ApprovalState {
	for i := range r.st.Approvals {
		if r.st.Approvals[i].Step == step {
			return &r.st.Approvals[i]
		}
	}
	return nil
}

func (r *runner) stepState(id string) *StepState {
	for i := range r.st.Steps {
		if r.st.Steps[i].ID == id {
			return &r.st.Steps[i]
		}
	}
	return nil
}

// errStop ends the playbook; compensation has already run if asked for.
var errStop = errors.New("playbook stopped")

// lazyVisibilityChange versions the search-attribute writes (see
// IncidentWorkflow): before it, every phase wrote them as it began.
const lazyVisibilityChange = "lazy-phase-visibility"

// run interprets the playbook phase by phase.
func (r *runner) run(ctx workflow.Context) {
	st := r.st
	// A search-attribute write is a visibility update, the dearest thing an
	// incident does on the embedded SQLite server (make bench: the writes
	// at each phase were most of what an incident cost beyond raw
	// Temporal; see the README's performance section). With lazyVisibility
	// a phase that only runs actions passes in moments, so its write waits
	// for the next point where people or time are waited for (approval,
	// wait), a failure, or the playbook's end; the incident's own view
	// (Query) is always live.
	pctx, cancel := workflow.WithCancel(ctx)
	r.cancel = cancel
	st.Playbook.Status = "running"
	st.addTimeline(TimelineEntry{At: workflow.Now(ctx), Actor: "riposte", Kind: "playbook",
		Message: fmt.Sprintf("playbook %s %s started", r.pb.Name, r.pb.Version)})
	if r.incidentChannel && st.Channel == nil {
		r.openChannel(ctx)
	}
	for _, phase := range playbooks.PhaseOrder {
		steps := r.pb.Phases[phase]
		if len(steps) == 0 {
			continue
		}
		if pctx.Err() != nil {
			break
		}
		st.Phase = phase
		st.addTimeline(TimelineEntry{At: workflow.Now(ctx), Actor: "riposte", Kind: "phase", Message: "phase " + phase})
		if r.lazyVisibility {
			r.visibilityStale = true
		} else {
			_ = st.upsertSearchAttributes(ctx)
		}
		if err := r.runSteps(pctx, steps, phase); err != nil {
			if pctx.Err() != nil {
				break
			}
			st.Playbook.Status, st.Playbook.Error = "failed", err.Error()
			st.addTimeline(TimelineEntry{At: workflow.Now(ctx), Actor: "riposte", Kind: "playbook", Message: "playbook stopped: " + err.Error()})
			_ = st.upsertSearchAttributes(ctx)
			return
		}
		now := workflow.Now(ctx)
		switch phase {
		case playbooks.PhaseContain:
			if st.Status == StatusOpen {
				st.Status, st.Lifecycle.Contained = StatusContained, now
			}
		case playbooks.PhaseRestore:
			if st.Status == StatusOpen || st.Status == StatusContained {
				st.Status, st.Lifecycle.Resolved = StatusResolved, now
			}
		}
	}
	if pctx.Err() != nil {
		st.Playbook.Status = "stopped"
		st.addTimeline(TimelineEntry{At: workflow.Now(ctx), Actor: "riposte", Kind: "playbook", Message: "playbook stopped: incident closed"})
	} else {
		st.Playbook.Status = "completed"
		st.addTimeline(TimelineEntry{At: workflow.Now(ctx), Actor: "riposte", Kind: "playbook", Message: "playbook completed"})
	}
	_ = st.upsertSearchAttributes(ctx)
}

func (r *runner) runSteps(ctx workflow.Context, steps []playbooks.Step, phase string) error {
	for _, s := range steps {
		if err := r.runStep(ctx, s, phase); err != nil {
			return err
		}
	}
	return nil
}

// runStep runs one step and applies its on_error policy. It returns an
// error only when the playbook must stop.
func (r *runner) runStep(ctx workflow.Context, s playbooks.Step, phase string) error {
	st := r.st
	now := workflow.Now(ctx)
	st.Steps = append(st.Steps, StepState{ID: s.ID, Kind: s.Kind, Phase: phase, Status: StepRunning, StartedAt: now})
	if s.If != "" {
		ok, err := playbooks.EvalBool(s.If, r.env())
		if err != nil {
			return r.fail(ctx, s, fmt.Errorf("if: %w", err))
		}
		if !ok {
			r.finish(ctx, s.ID, StepSkipped, nil, "")
			st.addTimeline(TimelineEntry{At: workflow.Now(ctx), Actor: "riposte", Kind: "step", Message: fmt.Sprintf("step %s skipped (if: %s)", s.ID, s.If)})
			return nil
		}
	}
	var (
		out any
		err error
	)
	switch s.Kind {
	case playbooks.KindAction:
		out, err = r.action(ctx, s)
		if errors.Is(err, errNotConfigured) {
			r.finish(ctx, s.ID, StepNotConfigured, nil, err.Error())
			return nil
		}
	case playbooks.KindApproval:
		return r.runApproval(ctx, s)
	case playbooks.KindParallel:
		err = r.parallel(ctx, s, phase)
	case playbooks.KindWait:
		out, err = r.wait(ctx, s)
	case playbooks.KindSet:
		out, err = r.set(s)
	case playbooks.KindNotify:
		out, err = r.notify(ctx, s)
		if errors.Is(err, errNotConfigured) {
			r.finish(ctx, s.ID, StepNotConfigured, nil, err.Error())
			return nil
		}
	default:
		err = fmt.Errorf("unknown step kind %q", s.Kind)
	}
	if err != nil {
		if ctx.Err() != nil {
			r.finish(ctx, s.ID, StepCancelled, nil, "cancelled")
			return err
		}
		return r.fail(ctx, s, err)
	}
	r.finish(ctx, s.ID, StepSucceeded, out, "")
	return nil
}

func (r *runner) finish(ctx workflow.Context, id, status string, out any, errMsg string) {
	if ss := r.stepState(id); ss != nil {
		ss.Status, ss.Output, ss.Error, ss.FinishedAt = status, out, errMsg, workflow.Now(ctx)
	}
}

// fail records a failed step and applies on_error.
func (r *runner) fail(ctx workflow.Context, s playbooks.Step, err error) error {
	r.finish(ctx, s.ID, StepFailed, nil, err.Error())
	r.st.addTimeline(TimelineEntry{At: workflow.Now(ctx), Actor: "riposte", Kind: "step_failed", Message: fmt.Sprintf("step %s failed: %v", s.ID, err)})
	switch s.OnError {
	case playbooks.OnErrorContinue:
		return nil
	case playbooks.OnErrorCompensate:
		r.compensate(ctx, "step "+s.ID+" failed")
		return fmt.Errorf("step %s: %w (compensated)", s.ID, err)
	}
	return fmt.Errorf("step %s: %w", s.ID, err)
}

var errNotConfigured = errors.New("integration not configured")

// action runs an action step through the RunAction activity and records
// its undo.
func (r *runner) action(ctx workflow.Context, s playbooks.Step) (any, error) {
	args, err := r.render(s.Action.Args)
	if err != nil {
		return nil, fmt.Errorf("args: %w", err)
	}
	if s.Action.Name == "incident.set_severity" {
		sev, _ := args["severity"].(string)
		r.st.Severity = sev
		r.st.addTimeline(TimelineEntry{At: workflow.Now(ctx), Actor: "playbook", Kind: "severity", Message: "severity set to " + sev})
		_ = r.st.upsertSearchAttributes(ctx)
		return map[string]any{"severity": sev}, nil
	}
	out, err := r.execute(ctx, s, activities.ActionRequest{IncidentID: r.st.ID, StepID: s.ID, Name: s.Action.Name, Args: args})
	if err != nil {
		return nil, err
	}
	// A step that performs a pending undo (the restore phase unblocking
	// what contain blocked) settles it, so closing does not repeat it.
	for i := range r.st.Undos {
		u := &r.st.Undos[i]
		if !u.Done && u.Action == s.Action.Name && reflect.DeepEqual(u.Args, args) {
			u.Done = true
		}
	}
	if ss := r.stepState(s.ID); ss != nil {
		ss.Output = out // the undo may refer to this step's own output
	}
	if s.Undo != nil {
		// Undo arguments are rendered now, while this step's output and the
		// values it acted on are known.
		uargs, err := r.render(s.Undo.Args)
		if err != nil {
			return out, fmt.Errorf("undo args: %w", err)
		}
		r.st.Undos = append(r.st.Undos, UndoRecord{Step: s.ID, Action: s.Undo.Name, Args: uargs})
	}
	return out, nil
}

// execute runs the activity and records the action.
func (r *runner) execute(ctx workflow.Context, s playbooks.Step, req activities.ActionRequest) (map[string]any, error) {
	timeout := s.Timeout.D()
	if timeout <= 0 {
		timeout = time.Minute
	}
	retry := &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 5}
	if s.Retry != nil {
		if s.Retry.MaxAttempts > 0 {
			retry.MaximumAttempts = int32(s.Retry.MaxAttempts)
		}
		if s.Retry.InitialInterval > 0 {
			retry.InitialInterval = s.Retry.InitialInterval.D()
		}
		if s.Retry.MaxInterval > 0 {
			retry.MaximumInterval = s.Retry.MaxInterval.D()
		}
		if s.Retry.BackoffCoefficient >= 1 {
			retry.BackoffCoefficient = s.Retry.BackoffCoefficient
		}
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: timeout, RetryPolicy: retry})
	req = r.defaultTicket(req)
	var res activities.ActionResult
	err := workflow.ExecuteActivity(actx, activities.ActivityRunAction, req).Get(ctx, &res)
	rec := ActionRecord{Step: req.StepID, Action: req.Name, Args: req.Args, At: workflow.Now(ctx), Undo: req.Undo, Output: res.Output}
	var appErr *temporal.ApplicationError
	switch {
	case err == nil:
		rec.Status = StepSucceeded
		verb := "done"
		if req.Undo {
			verb = "undone"
		}
		msg := fmt.Sprintf("%s %s: %s", req.Name, verb, describeArgs(req.Args))
		if strings.HasPrefix(req.Name, "enrich.") || req.Name == "ticket.create" {
			// What the lookup found (or which ticket) is what a responder
			// reads the timeline for.
			msg += " → " + describeArgs(res.Output)
		}
		r.st.addTimeline(TimelineEntry{At: rec.At, Actor: "playbook", Kind: "action", Message: msg})
		r.recordTicket(req, res.Output, rec.At)
		if strings.HasPrefix(req.Name, "firewall.") || req.Name == "ticket.create" || req.Name == "ticket.resolve" {
			r.threadNote(ctx, msg)
		}
	case errors.As(err, &appErr) && appErr.Type() == activities.ErrTypeNotConfigured:
		rec.Status, rec.Error = StepNotConfigured, appErr.Message()
		r.st.addTimeline(TimelineEntry{At: rec.At, Actor: "playbook", Kind: "not_configured", Message: appErr.Message()})
		r.st.Actions = append(r.st.Actions, rec)
		return nil, fmt.Errorf("%w: %s", errNotConfigured, appErr.Message())
	default:
		rec.Status, rec.Error = StepFailed, err.Error()
	}
	r.st.Actions = append(r.st.Actions, rec)
	if err != nil {
		return nil, err
	}
	return res.Output, nil
}

// defaultTicket points ticket.comment and ticket.resolve without a ticket
// argument at the incident's latest ticket.
func (r *runner) defaultTicket(req activities.ActionRequest) activities.ActionRequest {
	if req.Name != "ticket.comment" && req.Name != "ticket.resolve" || len(r.st.Tickets) == 0 {
		return req
	}
	if s, _ := req.Args["ticket"].(string); s != "" {
		return req
	}
	args := make(map[string]any, len(req.Args)+1)
	for k, v := range req.Args {
		args[k] = v
	}
	args["ticket"] = r.st.Tickets[len(r.st.Tickets)-1].ID
	req.Args = args
	return req
}

// recordTicket keeps the incident's tickets: opened by ticket.create,
// marked resolved by ticket.resolve.
func (r *runner) recordTicket(req activities.ActionRequest, out map[string]any, at time.Time) {
	str := func(k string) string { s, _ := out[k].(string); return s }
	switch req.Name {
	case "ticket.create":
		id := str("id")
		for _, t := range r.st.Tickets {
			if t.ID == id && t.System == str("system") {
				return
			}
		}
		r.st.Tickets = append(r.st.Tickets, TicketRecord{Step: req.StepID, System: str("system"), ID: id, Number: str("number"), URL: str("url"), At: at})
	case "ticket.resolve":
		for i := range r.st.Tickets {
			if r.st.Tickets[i].ID == str("id") {
				r.st.Tickets[i].Resolved = true
			}
		}
	}
}

func describeArgs(args map[string]any) string {
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, args[k]))
	}
	return strings.Join(parts, " ")
}

// compensate runs the pending undos newest first, on a context that
// survives the cancellation of the playbook.
func (r *runner) compensate(ctx workflow.Context, why string) {
	if r.compensating {
		return
	}
	r.compensating = true
	defer func() { r.compensating = false }()
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	pending := 0
	for _, u := range r.st.Undos {
		if !u.Done {
			pending++
		}
	}
	if pending == 0 {
		return
	}
	r.st.addTimeline(TimelineEntry{At: workflow.Now(ctx), Actor: "riposte", Kind: "compensation", Message: fmt.Sprintf("undoing %d actions: %s", pending, why)})
	for i := len(r.st.Undos) - 1; i >= 0; i-- {
		u := &r.st.Undos[i]
		if u.Done {
			continue
		}
		step := playbooks.Step{ID: u.Step, Timeout: playbooks.Duration(time.Minute)}
		_, err := r.execute(dctx, step, activities.ActionRequest{IncidentID: r.st.ID, StepID: u.Step, Name: u.Action, Args: u.Args, Undo: true})
		// A failed undo stays pending so that a later close retries it.
		u.Done = err == nil
		if err != nil {
			r.st.addTimeline(TimelineEntry{At: workflow.Now(ctx), Actor: "riposte", Kind: "undo_failed", Message: fmt.Sprintf("undo of %s (%s) failed: %v", u.Step, u.Action, err)})
		}
	}
}

// runApproval waits for decisions, reminding, escalating or denying on
// timeout. Chat notices run beside it and never hold it up: a Slack outage
// leaves the API, CLI and console to decide.
func (r *runner) runApproval(ctx workflow.Context, s playbooks.Step) error {
	st := r.st
	ap := s.Approval
	prompt, err := playbooks.Render(ap.Prompt, r.env())
	if err != nil {
		return r.fail(ctx, s, fmt.Errorf("prompt: %w", err))
	}
	required := ap.Required
	if required < 1 {
		required = 1
	}
	st.Approvals = append(st.Approvals, ApprovalState{
		Step: s.ID, Status: ApprovalPending, Prompt: fmt.Sprint(prompt), Approvers: slices.Clone(ap.Approvers),
		Required: required, Deadline: workflow.Now(ctx).Add(ap.Timeout.D()), RequestedAt: workflow.Now(ctx), Decisions: []Decision{},
	})
	workflow.GetMetricsHandler(ctx).Counter(MetricApprovalsRequested).Inc(1)
	st.addTimeline(TimelineEntry{At: workflow.Now(ctx), Actor: "playbook", Kind: "approval_requested",
		Message: fmt.Sprintf("approval %s requested from %s: %s", s.ID, strings.Join(ap.Approvers, ", "), prompt)})
	r.flushVisibility(ctx)
	posted := r.postApproval(ctx, s)
	decided := func() bool {
		a := r.approval(s.ID)
		return a.Status == ApprovalApproved || a.Status == ApprovalRejected
	}
	// await waits d for a decision, with a reminder in the thread part way.
	await := func(d time.Duration) (bool, error) {
		if f := r.reminderFraction; f > 0 && f < 1 {
			first := time.Duration(float64(d) * f)
			ok, err := workflow.AwaitWithTimeout(ctx, first, decided)
			if ok || err != nil {
				return ok, err
			}
			r.followUp(ctx, posted, s, activities.NoticeReminder)
			d -= first
		}
		return workflow.AwaitWithTimeout(ctx, d, decided)
	}
	ok, err := await(ap.Timeout.D())
	if err != nil {
		r.finish(ctx, s.ID, StepCancelled, nil, "cancelled")
		countApproval(ctx, "cancelled")
		return err
	}
	if !ok && ap.OnTimeout == "escalate" {
		a := r.approval(s.ID)
		a.Status, a.Escalated = ApprovalEscalated, true
		a.Approvers = slices.Clone(ap.EscalateTo)
		a.Deadline = workflow.Now(ctx).Add(ap.EscalationTimeout.D())
		st.addTimeline(TimelineEntry{At: workflow.Now(ctx), Actor: "riposte", Kind: "approval_escalated",
			Message: fmt.Sprintf("approval %s not answered in %s; escalated to %s", s.ID, ap.Timeout.D(), strings.Join(ap.EscalateTo, ", "))})
		r.followUp(ctx, posted, s, activities.NoticeEscalate)
		ok, err = await(ap.EscalationTimeout.D())
		if err != nil {
			r.finish(ctx, s.ID, StepCancelled, nil, "cancelled")
			countApproval(ctx, "cancelled")
			return err
		}
	}
	a := r.approval(s.ID)
	if !ok {
		a.Status = ApprovalExpired
		st.addTimeline(TimelineEntry{At: workflow.Now(ctx), Actor: "riposte", Kind: "approval_expired", Message: fmt.Sprintf("approval %s expired: denied", s.ID)})
	}
	countApproval(ctx, a.Status)
	r.followUp(ctx, posted, s, activities.NoticeUpdate)
	out := map[string]any{"approved": a.Status == ApprovalApproved, "status": a.Status, "decisions": len(a.Decisions)}
	switch a.Status {
	case ApprovalApproved:
		r.finish(ctx, s.ID, StepApproved, out, "")
		return nil
	case ApprovalRejected:
		r.finish(ctx, s.ID, StepRejected, out, "")
	default:
		r.finish(ctx, s.ID, StepExpired, out, "")
	}
	// A denial is an outcome, not an error: later steps decide with if:.
	// Only on_error: compensate (or fail) turns it into one.
	switch s.OnError {
	case playbooks.OnErrorCompensate:
		r.compensate(ctx, "approval "+s.ID+" "+a.Status)
		return fmt.Errorf("approval %s %s (compensated)", s.ID, a.Status)
	case playbooks.OnErrorFail:
		return fmt.Errorf("approval %s %s", s.ID, a.Status)
	}
	return nil
}

// notifyOptions: Temporal owns the lasting retry of chat calls (429s and
// 5xx included); the notice is best effort and never blocks the incident.
func notifyOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 15 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second,
			MaximumAttempts: 10, NonRetryableErrorTypes: []string{activities.ErrTypeNotConfigured, activities.ErrTypeInvalidArgs}},
	})
}

// notice describes an approval for chat.
func (r *runner) notice(s playbooks.Step, kind string) activities.ApprovalNotice {
	st := r.st
	a := r.approval(s.ID)
	obs := make([]string, 0, len(st.Observables))
	for _, o := range st.Observables {
		obs = append(obs, string(o.Type)+" "+o.Value)
	}
	n := activities.ApprovalNotice{
		Kind: kind, IncidentID: st.ID, Title: st.Title, Severity: st.Severity, Phase: st.Phase, Observables: obs,
		Action: r.proposedAction(s), Prompt: a.Prompt, Playbook: st.Playbook.Name, Step: s.ID,
		Deadline: a.Deadline.UTC().Format(time.RFC3339), Required: a.Required, Approvers: a.Approvers,
		RequestID: st.ID + "/" + s.ID, Status: a.Status,
	}
	for _, d := range a.Decisions {
		n.DecidedBy = append(n.DecidedBy, d.By+" "+d.Decision)
		if d.Comment != "" {
			n.Comment = d.Comment
		}
	}
	if a.Chat != nil {
		n.Ref = *a.Chat
	}
	return n
}

// proposedAction names the action the approval guards: the next action
// step of the same phase, with its arguments rendered.
func (r *runner) proposedAction(s playbooks.Step) string {
	if r.pb == nil {
		return ""
	}
	for _, phase := range playbooks.PhaseOrder {
		steps := r.pb.Phases[phase]
		for i, x := range steps {
			if x.ID != s.ID {
				continue
			}
			for _, next := range steps[i+1:] {
				if next.Kind == playbooks.KindAction && next.Action != nil {
					args, err := r.render(next.Action.Args)
					if err != nil {
						return next.Action.Name
					}
					return next.Action.Name + " " + describeArgs(args)
				}
			}
		}
	}
	return ""
}

// openChannel opens the incident's channel in the background; approval
// requests wait for it so that they land there.
func (r *runner) openChannel(ctx workflow.Context) {
	f, set := workflow.NewFuture(ctx)
	r.channelReady = f
	st := r.st
	obs := make([]string, 0, len(st.Observables))
	for _, o := range st.Observables {
		obs = append(obs, string(o.Type)+" "+o.Value)
	}
	n := activities.ApprovalNotice{Kind: activities.NoticeChannel, IncidentID: st.ID, Title: st.Title, Severity: st.Severity,
		Playbook: st.Playbook.Name, Text: fmt.Sprintf("Incident %s: %s\nseverity %s, playbook %s, %d alerts\nobservables: %s",
			st.ID, st.Title, st.Severity, st.Playbook.Name, st.Alerts.Count, strings.Join(obs, ", "))}
	workflow.Go(ctx, func(gctx workflow.Context) {
		var ref activities.ChatRef
		err := workflow.ExecuteActivity(notifyOptions(gctx), activities.ActivityNotifyApproval, n).Get(gctx, &ref)
		if err == nil {
			st.Channel = &ref
			st.addTimeline(TimelineEntry{At: workflow.Now(gctx), Actor: "riposte", Kind: "channel", Message: "incident channel opened: " + ref.Channel})
		} else {
			r.chatFailed(gctx, "channel", err)
		}
		set.Set(nil, nil)
	})
}

// postApproval posts the request in the background and records where.
func (r *runner) postApproval(ctx workflow.Context, s playbooks.Step) workflow.Future {
	f, set := workflow.NewFuture(ctx)
	workflow.Go(ctx, func(gctx workflow.Context) {
		if r.channelReady != nil {
			_ = r.channelReady.Get(gctx, nil)
		}
		n := r.notice(s, activities.NoticePost)
		if r.st.Channel != nil {
			n.Ref = activities.ChatRef{Channel: r.st.Channel.Channel}
		}
		var ref activities.ChatRef
		err := workflow.ExecuteActivity(notifyOptions(gctx), activities.ActivityNotifyApproval, n).Get(gctx, &ref)
		if err == nil {
			r.approval(s.ID).Chat = &ref
			if r.st.Thread == nil {
				r.st.Thread = &ref
			}
		} else {
			r.chatFailed(gctx, s.ID, err)
		}
		set.Set(ref, err)
	})
	return f
}

// followUp sends a reminder, escalation or update once the request is
// posted; it does not wait.
func (r *runner) followUp(ctx workflow.Context, posted workflow.Future, s playbooks.Step, kind string) {
	workflow.Go(ctx, func(gctx workflow.Context) {
		var ref activities.ChatRef
		if err := posted.Get(gctx, &ref); err != nil {
			return // already recorded; the API still decides
		}
		n := r.notice(s, kind)
		n.Ref = ref
		if err := workflow.ExecuteActivity(notifyOptions(gctx), activities.ActivityNotifyApproval, n).Get(gctx, nil); err != nil {
			r.chatFailed(gctx, s.ID, err)
		}
	})
}

// chatFailed records a chat failure once per kind of failure.
func (r *runner) chatFailed(ctx workflow.Context, step string, err error) {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == activities.ErrTypeNotConfigured {
		if !r.chatNotConfiguredNoted {
			r.chatNotConfiguredNoted = true
			r.st.addTimeline(TimelineEntry{At: workflow.Now(ctx), Actor: "riposte", Kind: "not_configured",
				Message: "chat integration not configured: approvals go through the API, CLI and console"})
		}
		return
	}
	r.st.addTimeline(TimelineEntry{At: workflow.Now(ctx), Actor: "riposte", Kind: "chat_failed",
		Message: fmt.Sprintf("chat notice for %s failed: %v", step, err)})
}

// parallel runs the branches at once; a failing branch cancels the rest.
func (r *runner) parallel(ctx workflow.Context, s playbooks.Step, phase string) error {
	pctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(s.Parallel))
	wg := workflow.NewWaitGroup(ctx)
	for i, child := range s.Parallel {
		wg.Add(1)
		workflow.Go(pctx, func(gctx workflow.Context) {
			defer wg.Done()
			if err := r.runStep(gctx, child, phase); err != nil {
				errs[i] = err
				cancel()
			}
		})
	}
	wg.Wait(ctx)
	for _, err := range errs {
		// The first real failure, not a sibling's cancellation.
		var ce *temporal.CanceledError
		if err != nil && !errors.As(err, &ce) && !errors.Is(err, workflow.ErrCanceled) {
			return err
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// flushVisibility writes a deferred phase change before the playbook waits.
func (r *runner) flushVisibility(ctx workflow.Context) {
	if r.visibilityStale {
		r.visibilityStale = false
		_ = r.st.upsertSearchAttributes(ctx)
	}
}

func (r *runner) wait(ctx workflow.Context, s playbooks.Step) (any, error) {
	r.flushVisibility(ctx)
	resolved := func() bool { return r.st.Alerts.Count > 0 && r.st.Alerts.Firing == 0 }
	switch {
	case s.Wait.Until == playbooks.WaitAlertResolved && s.Wait.Duration > 0:
		ok, err := workflow.AwaitWithTimeout(ctx, s.Wait.Duration.D(), resolved)
		return map[string]any{"resolved": ok}, err
	case s.Wait.Until == playbooks.WaitAlertResolved:
		err := workflow.Await(ctx, resolved)
		return map[string]any{"resolved": err == nil}, err
	default:
		err := workflow.Sleep(ctx, s.Wait.Duration.D())
		return map[string]any{"waited": s.Wait.Duration.D().String()}, err
	}
}

func (r *runner) set(s playbooks.Step) (any, error) {
	keys := make([]string, 0, len(s.Set))
	for k := range s.Set {
		keys = append(keys, k)
	}
	sort.Strings(keys) // map order must not leak into history
	out := map[string]any{}
	for _, k := range keys {
		v, err := playbooks.EvalValue(s.Set[k], r.env())
		if err != nil {
			return nil, fmt.Errorf("set %s: %w", k, err)
		}
		r.st.Vars[k] = v
		out[k] = v
	}
	return out, nil
}

func (r *runner) notify(ctx workflow.Context, s playbooks.Step) (any, error) {
	msg, err := playbooks.Render(s.Notify.Message, r.env())
	if err != nil {
		return nil, fmt.Errorf("message: %w", err)
	}
	args := map[string]any{"message": fmt.Sprint(msg)}
	if s.Notify.Channel != "" {
		args["channel"] = s.Notify.Channel
	}
	return r.execute(ctx, s, activities.ActionRequest{IncidentID: r.st.ID, StepID: s.ID, Name: "chat.post", Args: args})
}

func (r *runner) render(args map[string]any) (map[string]any, error) {
	if len(args) == 0 {
		return map[string]any{}, nil
	}
	v, err := playbooks.Render(args, r.env())
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	return m, nil
}

// env is what playbook expressions see: alert, incident, steps and vars.
func (r *runner) env() map[string]any {
	st := r.st
	obs := make([]any, 0, len(st.Observables))
	for _, o := range st.Observables {
		obs = append(obs, map[string]any{"type": string(o.Type), "value": o.Value})
	}
	tobs := make([]any, 0, len(st.Trigger.Observables))
	for _, o := range st.Trigger.Observables {
		tobs = append(tobs, map[string]any{"type": string(o.Type), "value": o.Value})
	}
	labels := map[string]any{}
	for k, v := range st.Trigger.Labels {
		labels[k] = v
	}
	steps := map[string]any{}
	for _, s := range st.Steps {
		steps[s.ID] = map[string]any{"status": s.Status, "output": s.Output}
	}
	vars := map[string]any{}
	for k, v := range st.Vars {
		vars[k] = v
	}
	return map[string]any{
		"alert": map[string]any{
			"source": st.Trigger.Source, "id": st.Trigger.ID, "title": st.Trigger.Title,
			"severity": string(st.Trigger.Severity), "status": string(st.Trigger.Status),
			"observed_at": st.Trigger.ObservedAt.UTC().Format(time.RFC3339Nano),
			"labels":      labels, "observables": tobs,
		},
		"incident": map[string]any{
			"id": st.ID, "title": st.Title, "severity": st.Severity, "status": st.Status, "phase": st.Phase,
			"alert_count": int64(st.Alerts.Count), "observables": obs,
			"created_at": st.CreatedAt.UTC().Format(time.RFC3339Nano),
		},
		"steps": steps,
		"vars":  vars,
	}
}

// threadNote posts a timeline event to the incident's chat thread, when
// there is one; it never waits.
func (r *runner) threadNote(ctx workflow.Context, text string) {
	if r.st.Thread == nil {
		return
	}
	n := activities.ApprovalNotice{Kind: activities.NoticeThread, Ref: *r.st.Thread, IncidentID: r.st.ID, Text: text}
	workflow.Go(ctx, func(gctx workflow.Context) {
		if err := workflow.ExecuteActivity(notifyOptions(gctx), activities.ActivityNotifyApproval, n).Get(gctx, nil); err != nil {
			r.chatFailed(gctx, "thread", err)
		}
	})
}

// Metrics the incident workflow emits through the SDK's metrics handler,
// which stays silent during replay; internal/app exports them to
// Prometheus.
const (
	// MetricApprovalsRequested counts approvals asked for.
	MetricApprovalsRequested = "riposte_approvals_requested"
	// MetricApprovalsDecided counts settled approvals by their "outcome"
	// tag: approved, rejected, expired or cancelled.
	MetricApprovalsDecided = "riposte_approvals_decided"
	// MetricApprovalResponse times an approval's request to its first
	// decision.
	MetricApprovalResponse = "riposte_approval_response"
)

func countApproval(ctx workflow.Context, outcome string) {
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"outcome": outcome}).Counter(MetricApprovalsDecided).Inc(1)
}
