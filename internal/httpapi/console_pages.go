package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/riposte-soar/riposte/internal/auth"
	"github.com/riposte-soar/riposte/internal/deadlines"
	"github.com/riposte-soar/riposte/internal/incidents"
	"github.com/riposte-soar/riposte/playbooks"
	"github.com/riposte-soar/riposte/playbooks/library"
	"github.com/riposte-soar/riposte/workflows"
)

// ---- incidents list ----

type incidentsView struct {
	Filter    incidents.Filter
	Statuses  []string
	Severity  []string
	Playbooks []string
	Rows      []incidentRow
}

type incidentRow struct {
	incidents.Summary
	Age string
}

func (h *handler) pageIncidents(w http.ResponseWriter, r *http.Request, ss session) {
	q := r.URL.Query()
	f := incidents.Filter{Status: q.Get("status"), Severity: q.Get("severity"), Playbook: q.Get("playbook")}
	v := incidentsView{
		Filter:    f,
		Statuses:  []string{workflows.StatusOpen, workflows.StatusClosed},
		Severity:  []string{"critical", "high", "medium", "low", "informational"},
		Playbooks: h.playbookNames(),
	}
	page := newPage(ss, "incidents", "Incidents", &v)
	if err := incidents.ValidateFilter(f); err != nil {
		page.Error = err.Error()
		h.render(w, r, http.StatusBadRequest, "incidents", page)
		return
	}
	list, err := h.d.Incidents.List(r.Context(), f)
	if err != nil {
		h.renderReadError(w, r, ss, err)
		return
	}
	now := h.d.Now()
	for _, s := range list {
		v.Rows = append(v.Rows, incidentRow{Summary: s, Age: age(now.Sub(s.UpdatedAt))})
	}
	h.render(w, r, http.StatusOK, "incidents", page)
}

func (h *handler) playbookNames() []string {
	names := make([]string, 0, len(h.d.Playbooks))
	for n := range h.d.Playbooks {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ---- incident page ----

type incidentView struct {
	St       *workflows.IncidentState
	Age      string
	Phases   []phaseView
	Pending  []approvalView
	Decided  []workflows.ApprovalState
	Actions  []actionView
	Undos    []undoView
	Blocks   []blockView
	Tickets  []ticketView
	Clocks   []clockView
	ClockErr string
	// ShowClocks is false when the deadlines service is not configured.
	ShowClocks bool
}

type phaseView struct {
	Name  string
	State string // done, current or todo
}

type approvalView struct {
	workflows.ApprovalState
	CanDecide bool
}

type actionView struct {
	workflows.ActionRecord
	ArgText string
}

type undoView struct {
	workflows.UndoRecord
	ArgText string
}

type blockView struct {
	Type, Value, Step, TTL string
	At                     time.Time
	Lifted                 bool
}

type ticketView struct {
	System, ID, Number, URL, Step string
	Resolved                      bool
}

// clockView is one regulatory obligation with its time left.
type clockView struct {
	deadlines.Obligation
	Due       string // RFC 3339, for console.js; empty while waiting
	Remaining string
	Urgency   string
}

// mayDecide mirrors the decide Update's validator: the approval is open
// and the role is among its approvers. It decides whether the buttons
// appear; the validator still has the last word on every vote.
func mayDecide(a workflows.ApprovalState, role string) bool {
	if a.Status != workflows.ApprovalPending && a.Status != workflows.ApprovalEscalated {
		return false
	}
	return slices.Contains(a.Approvers, role)
}

func (h *handler) pageIncident(w http.ResponseWriter, r *http.Request, ss session) {
	id := r.PathValue("id")
	st, err := h.d.Incidents.Get(r.Context(), id)
	if err != nil {
		h.renderReadError(w, r, ss, err)
		return
	}
	now := h.d.Now()
	v := incidentView{St: st, Age: age(now.Sub(st.CreatedAt)), Phases: phaseBar(st)}
	for _, a := range st.Approvals {
		if a.Status == workflows.ApprovalPending || a.Status == workflows.ApprovalEscalated {
			v.Pending = append(v.Pending, approvalView{ApprovalState: a, CanDecide: mayDecide(a, ss.p.Role)})
		} else {
			v.Decided = append(v.Decided, a)
		}
	}
	for _, a := range st.Actions {
		v.Actions = append(v.Actions, actionView{ActionRecord: a, ArgText: argText(a.Args)})
	}
	for _, u := range st.Undos {
		v.Undos = append(v.Undos, undoView{UndoRecord: u, ArgText: argText(u.Args)})
	}
	v.Blocks = blocks(st)
	v.Tickets = tickets(st)
	if h.d.Deadlines != nil {
		v.ShowClocks = true
		list, err := h.d.Deadlines.List(r.Context(), deadlines.Filter{IncidentID: id}, now)
		if err != nil {
			v.ClockErr = "The regulatory clocks could not be read: " + err.Error()
		}
		for _, o := range list {
			v.Clocks = append(v.Clocks, newClockView(o, now))
		}
	}
	h.render(w, r, http.StatusOK, "incident", newPage(ss, "incidents", st.Title, &v))
}

// phaseBar marks the phases before the incident's current one as done. A
// finished playbook has every phase done.
func phaseBar(st *workflows.IncidentState) []phaseView {
	cur := slices.Index(playbooks.PhaseOrder, st.Phase)
	out := make([]phaseView, 0, len(playbooks.PhaseOrder))
	for i, ph := range playbooks.PhaseOrder {
		state := "todo"
		switch {
		case i < cur, i == cur && st.Playbook.Status == "completed":
			state = "done"
		case i == cur:
			state = "current"
		}
		out = append(out, phaseView{Name: ph, State: state})
	}
	return out
}

func argText(args map[string]any) string {
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, args[k]))
	}
	return strings.Join(parts, ", ")
}

// blocks are the firewall blocks the playbook placed; a block is lifted
// once an unblock of the same value succeeded.
func blocks(st *workflows.IncidentState) []blockView {
	var out []blockView
	for _, a := range st.Actions {
		typ, isBlock := strings.CutPrefix(a.Action, "firewall.block_")
		typ2, isUnblock := strings.CutPrefix(a.Action, "firewall.unblock_")
		if a.Status != workflows.StepSucceeded {
			continue
		}
		switch {
		case isBlock:
			out = append(out, blockView{Type: typ, Value: fmt.Sprint(a.Args[typ]), Step: a.Step, TTL: fmt.Sprint(a.Args["ttl"]), At: a.At})
		case isUnblock:
			for i := range out {
				if out[i].Type == typ2 && out[i].Value == fmt.Sprint(a.Args[typ2]) {
					out[i].Lifted = true
				}
			}
		}
	}
	for i := range out {
		if out[i].TTL == "<nil>" {
			out[i].TTL = ""
		}
	}
	return out
}

// tickets reads the state's tickets through JSON, so the page renders them
// whichever shape of state the running workflows report.
func tickets(st *workflows.IncidentState) []ticketView {
	b, err := json.Marshal(st)
	if err != nil {
		return nil
	}
	var doc struct {
		Tickets []map[string]any `json:"tickets"`
	}
	if json.Unmarshal(b, &doc) != nil {
		return nil
	}
	var out []ticketView
	for _, t := range doc.Tickets {
		s := func(k string) string {
			if v, ok := t[k].(string); ok {
				return v
			}
			return ""
		}
		resolved, _ := t["resolved"].(bool)
		out = append(out, ticketView{System: s("system"), ID: s("id"), Number: s("number"), URL: s("url"), Step: s("step"), Resolved: resolved})
	}
	return out
}

func newClockView(o deadlines.Obligation, now time.Time) clockView {
	c := clockView{Obligation: o, Urgency: "waiting", Remaining: "no fixed deadline"}
	if len(o.DependsOn) > 0 {
		c.Remaining = "waits for " + strings.Join(o.DependsOn, ", ")
	}
	if o.DueAt != nil {
		d := o.DueAt.Sub(now)
		c.Due = o.DueAt.UTC().Format(time.RFC3339)
		c.Remaining, c.Urgency = countdown(d), urgency(d)
	}
	if o.Final() {
		c.Urgency, c.Remaining = "final", o.Status
	}
	return c
}

func (h *handler) postConsoleDecision(w http.ResponseWriter, r *http.Request, ss session) {
	id, step := r.PathValue("id"), r.PathValue("step")
	st, err := h.d.Incidents.Get(r.Context(), id)
	if err != nil {
		h.renderReadError(w, r, ss, err)
		return
	}
	var a *workflows.ApprovalState
	for i := range st.Approvals {
		if st.Approvals[i].Step == step {
			a = &st.Approvals[i]
		}
	}
	if a == nil {
		h.renderError(w, r, &ss, http.StatusNotFound, fmt.Sprintf("Step %q has no approval.", step))
		return
	}
	// The button is not shown to this role; refuse before the workflow
	// is asked.
	if !slices.Contains(a.Approvers, ss.p.Role) {
		h.renderError(w, r, &ss, http.StatusForbidden, fmt.Sprintf("Your role (%s) may not decide step %q; it needs one of: %s.", ss.p.Role, step, strings.Join(a.Approvers, ", ")))
		return
	}
	if _, err := h.decide(r.Context(), ss.p, id, step, r.PostForm.Get("decision"), r.PostForm.Get("comment")); err != nil {
		h.renderUpdateError(w, r, ss, err)
		return
	}
	http.Redirect(w, r, "/incidents/"+url.PathEscape(id), http.StatusSeeOther)
}

func (h *handler) renderUpdateError(w http.ResponseWriter, r *http.Request, ss session, err error) {
	if code, msg, ok := updateStatus(err); ok {
		h.renderError(w, r, &ss, code, msg)
		return
	}
	h.renderReadError(w, r, ss, err)
}

// ---- compliance board ----

type complianceView struct {
	Regime    string
	Regimes   []string
	Open      []clockView
	Filed     []clockView
	Cancelled []clockView
	CanSubmit bool
	CanExport bool
	Now       string
	ExportQS  string
}

// open obligations are every one not settled: waiting, open, late,
// deferred.
func (h *handler) pageCompliance(w http.ResponseWriter, r *http.Request, ss session) {
	regime := r.URL.Query().Get("regime")
	now := h.d.Now()
	all, err := h.d.Deadlines.List(r.Context(), deadlines.Filter{}, now)
	if err != nil {
		if code, msg := h.readStatus(err); code == http.StatusServiceUnavailable {
			h.renderError(w, r, &ss, code, msg)
			return
		}
		h.renderError(w, r, &ss, http.StatusBadRequest, err.Error())
		return
	}
	v := complianceView{
		Regime:    regime,
		CanSubmit: ss.p.HasRole(submitRoles...),
		CanExport: ss.p.HasRole(auth.RoleAdmin, auth.RoleCompliance),
		Now:       now.UTC().Format(time.RFC3339),
	}
	if regime != "" {
		v.ExportQS = "?regime=" + url.QueryEscape(regime)
	}
	seen := map[string]bool{}
	for _, o := range all {
		if !seen[o.Regime] {
			seen[o.Regime] = true
			v.Regimes = append(v.Regimes, o.Regime)
		}
		if regime != "" && o.Regime != regime {
			continue
		}
		c := newClockView(o, now)
		switch o.Status {
		case workflows.ObligationSubmitted, workflows.ObligationSubmittedLate:
			v.Filed = append(v.Filed, c)
		case workflows.ObligationCancelled:
			v.Cancelled = append(v.Cancelled, c)
		default:
			v.Open = append(v.Open, c)
		}
	}
	sort.Strings(v.Regimes)
	// The service lists soonest due first; filed reports read newest first.
	sort.SliceStable(v.Filed, func(i, j int) bool {
		return v.Filed[i].Submission.SubmittedAt.After(v.Filed[j].Submission.SubmittedAt)
	})
	h.render(w, r, http.StatusOK, "compliance", newPage(ss, "compliance", "Compliance", &v))
}

// formTime reads a submission time: RFC 3339, or the browser's
// datetime-local form (taken as UTC); empty is now.
func formTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("submitted_at: %q is not a time like 2026-05-04T13:45:00Z", s)
}

func (h *handler) postConsoleSubmission(w http.ResponseWriter, r *http.Request, ss session) {
	at, err := formTime(r.PostForm.Get("submitted_at"))
	if err != nil {
		h.renderError(w, r, &ss, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	_, err = h.submit(ctx, ss.p, r.PathValue("id"), workflows.SubmitRequest{
		SubmittedAt: at, Reference: strings.TrimSpace(r.PostForm.Get("reference")), Recipient: r.PostForm.Get("recipient"),
		Note: r.PostForm.Get("note"), ReasonsForDelay: r.PostForm.Get("reasons_for_delay"),
	})
	if err != nil {
		h.renderUpdateError(w, r, ss, err)
		return
	}
	http.Redirect(w, r, "/compliance#filed", http.StatusSeeOther)
}

// ---- playbooks ----

type playbookView struct {
	*playbooks.Playbook
	YAML   string
	Status string // valid, changed, invalid, unreadable
	Detail string
	Steps  int
}

func (h *handler) pagePlaybooks(w http.ResponseWriter, r *http.Request, ss session) {
	var list []playbookView
	for _, name := range h.playbookNames() {
		list = append(list, describePlaybook(h.d.Playbooks[name]))
	}
	h.render(w, r, http.StatusOK, "playbooks", newPage(ss, "playbooks", "Playbooks", list))
}

// describePlaybook reads the playbook's file again: the running service
// uses the version validated at start, and the page says whether the file
// still matches it and still validates.
func describePlaybook(p *playbooks.Playbook) playbookView {
	v := playbookView{Playbook: p, Status: "valid", Detail: "validated when loaded", Steps: len(p.Steps())}
	var (
		data []byte
		err  error
	)
	if name, ok := strings.CutPrefix(p.File, "library/"); ok {
		data, err = libraryFile(name)
	} else {
		data, err = os.ReadFile(p.File)
	}
	if err != nil {
		v.Status, v.Detail = "unreadable", "the file cannot be read now: "+err.Error()
		return v
	}
	v.YAML = string(data)
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) == p.SHA256 {
		return v
	}
	if _, err := playbooks.Parse(p.File, data); err != nil {
		v.Status, v.Detail = "invalid", "the file changed on disk and no longer validates; the loaded version still runs:\n"+err.Error()
		return v
	}
	v.Status, v.Detail = "changed", "the file changed on disk since start; restart to load it (the file shown is the new one)"
	return v
}

// libraryFile reads a shipped playbook file.
func libraryFile(name string) ([]byte, error) { return fs.ReadFile(library.Library, name) }
