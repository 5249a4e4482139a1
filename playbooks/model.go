package playbooks

import (
	"encoding/json"
	"fmt"
	"time"
)

// Phases in lifecycle order.
const (
	PhaseDetect   = "detect"
	PhaseContain  = "contain"
	PhaseAnalyse  = "analyse"
	PhaseRestore  = "restore"
	PhaseFollowUp = "follow_up"
)

// PhaseOrder lists the phases in the order they run.
var PhaseOrder = []string{PhaseDetect, PhaseContain, PhaseAnalyse, PhaseRestore, PhaseFollowUp}

// Playbook is a parsed, validated playbook. It is plain data (JSON-tagged)
// because it travels into the incident workflow as input and is recorded in
// history: a changed file never alters a running incident.
type Playbook struct {
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Version     string  `json:"version"`
	Inputs      []Input `json:"inputs,omitempty"`
	// Phases maps a phase name to its ordered steps.
	Phases map[string][]Step `json:"phases"`
	// SHA256 is the hex SHA-256 of the file's bytes.
	SHA256 string `json:"sha256"`
	// File is where it was loaded from (for messages only).
	File string `json:"file,omitempty"`
}

// Input is an optional playbook parameter; its value is in vars.<name>.
type Input struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Default is a literal.
	Default any `json:"default,omitempty"`
}

// Step kinds.
const (
	KindAction   = "action"
	KindApproval = "approval"
	KindParallel = "parallel"
	KindWait     = "wait"
	KindSet      = "set"
	KindNotify   = "notify"
)

// On-error policies.
const (
	OnErrorFail       = "fail"
	OnErrorContinue   = "continue"
	OnErrorCompensate = "compensate"
)

// Step is one step; exactly one of Action, Approval, Parallel, Wait, Set and
// Notify is set, and Kind names it.
type Step struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// If is a CEL condition; the step is skipped when false.
	If      string   `json:"if,omitempty"`
	Timeout Duration `json:"timeout,omitempty"`
	Retry   *Retry   `json:"retry,omitempty"`
	// OnError is fail (default), continue or compensate.
	OnError string `json:"on_error,omitempty"`
	// Undo reverses an action step; it is recorded when the step succeeds
	// and run, newest first, on compensation or close.
	Undo *ActionCall `json:"undo,omitempty"`

	Action   *ActionCall       `json:"action,omitempty"`
	Approval *Approval         `json:"approval,omitempty"`
	Parallel []Step            `json:"parallel,omitempty"`
	Wait     *Wait             `json:"wait,omitempty"`
	Set      map[string]string `json:"set,omitempty"`
	Notify   *Notify           `json:"notify,omitempty"`
}

// ActionCall names an integration action and its arguments. A string
// argument may hold ${{ expr }}: the whole string being one expression gives
// the expression's value; otherwise each is interpolated as text.
type ActionCall struct {
	Name string         `json:"name"`
	Args map[string]any `json:"args,omitempty"`
}

// Approval waits for human decisions.
type Approval struct {
	// Approvers are roles (admin, responder, compliance, ...).
	Approvers []string `json:"approvers"`
	Prompt    string   `json:"prompt"`
	Timeout   Duration `json:"timeout"`
	// OnTimeout is deny or escalate.
	OnTimeout         string   `json:"on_timeout"`
	EscalateTo        []string `json:"escalate_to,omitempty"`
	EscalationTimeout Duration `json:"escalation_timeout,omitempty"`
	// Required is how many distinct people must approve (four eyes: 2).
	Required int `json:"required"`
}

// Wait pauses for a duration or until an event.
type Wait struct {
	Duration Duration `json:"duration,omitempty"`
	// Until is an event: alert_resolved.
	Until string `json:"until,omitempty"`
}

// Wait events.
const WaitAlertResolved = "alert_resolved"

// Notify sends a message to the incident's chat thread.
type Notify struct {
	Channel string `json:"channel,omitempty"`
	Message string `json:"message"`
}

// Retry is a step's retry policy (Temporal's RetryPolicy owns retries).
type Retry struct {
	MaxAttempts        int      `json:"max_attempts,omitempty"`
	InitialInterval    Duration `json:"initial_interval,omitempty"`
	MaxInterval        Duration `json:"max_interval,omitempty"`
	BackoffCoefficient float64  `json:"backoff_coefficient,omitempty"`
}

// Duration is a time.Duration written as "30s", "24h" in YAML and JSON.
type Duration time.Duration

// D is the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes "24h0m0s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "24h" or nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("invalid duration %q", s)
		}
		*d = Duration(v)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("invalid duration %s", b)
	}
	*d = Duration(n)
	return nil
}

// Steps returns every step in phase order, parallel branches included,
// depth first.
func (p *Playbook) Steps() []Step {
	var out []Step
	var walk func([]Step)
	walk = func(ss []Step) {
		for _, s := range ss {
			out = append(out, s)
			walk(s.Parallel)
		}
	}
	for _, ph := range PhaseOrder {
		walk(p.Phases[ph])
	}
	return out
}
