package slack

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"
)

// Action IDs of the approval buttons.
const (
	ActionApprove = "riposte_approve"
	ActionReject  = "riposte_reject"
)

// Decisions carried in ButtonValue.Decision.
const (
	DecisionApprove = "approve"
	DecisionReject  = "reject"
)

// Decision statuses shown once an approval is settled (DecisionInfo.Status).
const (
	StatusApproved  = "approved"
	StatusRejected  = "rejected"
	StatusExpired   = "expired"
	StatusEscalated = "escalated"
)

// Block IDs of the approval message.
const (
	blockHeader   = "riposte_header"
	blockSummary  = "riposte_summary"
	blockAction   = "riposte_action"
	blockObs      = "riposte_observables"
	blockPrompt   = "riposte_prompt"
	blockButtons  = "riposte_buttons"
	blockDecision = "riposte_decision"
)

// Slack limits.
const (
	maxHeader      = 150
	maxSectionText = 3000
	maxField       = 2000
	maxObservables = 20
)

// ApprovalMessage is everything an approval request shows.
type ApprovalMessage struct {
	IncidentID    string
	IncidentTitle string
	Severity      string
	Phase         string
	Observables   []string // e.g. "ip 203.0.113.7"
	Action        string   // the exact action, e.g. "firewall.block_ip ip=203.0.113.7 ttl=24h"
	Prompt        string   // the playbook's question to the approvers
	Playbook      string   // requester: the playbook ...
	Step          string   // ... and its step
	Deadline      time.Time
	Required      int      // approvals needed (four eyes: 2)
	Approvers     []string // who has approved so far (Slack user IDs or names)
	RequestID     string
	Decision      *DecisionInfo // non-nil once settled: buttons are removed
}

// DecisionInfo describes how an approval was settled.
type DecisionInfo struct {
	Status  string    // approved|rejected|expired|escalated
	By      []string  // Slack user IDs (shown as mentions) or other names
	At      time.Time // shown in UTC
	Comment string
}

// ButtonValue is the JSON value of the Approve and Reject buttons.
type ButtonValue struct {
	Incident string `json:"incident"`
	Step     string `json:"step"`
	Request  string `json:"request"`
	Decision string `json:"decision"`
}

// ApprovalBlocks renders m as Block Kit. All text from m is escaped, so an
// alert field such as "<!channel>" cannot ping anyone.
func ApprovalBlocks(m ApprovalMessage) []slackapi.Block {
	title := m.IncidentTitle
	if title == "" {
		title = m.IncidentID
	}
	headerText := "Approval needed: " + title
	if m.Decision != nil {
		headerText = statusLabel(m.Decision.Status) + ": " + title
	}
	blocks := []slackapi.Block{
		slackapi.NewHeaderBlock(plain(truncate(headerText, maxHeader)), slackapi.HeaderBlockOptionBlockID(blockHeader)),
	}

	fields := []*slackapi.TextBlockObject{
		mrkdwn(truncate("*Incident*\n"+EscapeText(m.IncidentID)+" "+EscapeText(m.IncidentTitle), maxField)),
		mrkdwn("*Severity*\n" + EscapeText(orDash(m.Severity))),
		mrkdwn("*Phase*\n" + EscapeText(orDash(m.Phase))),
		mrkdwn(truncate("*Requested by*\nplaybook `"+EscapeText(m.Playbook)+"` step `"+EscapeText(m.Step)+"`", maxField)),
		mrkdwn("*Deadline*\n" + deadlineText(m.Deadline)),
	}
	if m.Required > 1 || len(m.Approvers) > 0 {
		req := max(m.Required, 1)
		t := fmt.Sprintf("*Approvals*\n%d of %d", len(m.Approvers), req)
		if len(m.Approvers) > 0 {
			t += ": " + people(m.Approvers)
		}
		fields = append(fields, mrkdwn(truncate(t, maxField)))
	}
	blocks = append(blocks, slackapi.NewSectionBlock(nil, fields, nil, slackapi.SectionBlockOptionBlockID(blockSummary)))

	blocks = append(blocks, slackapi.NewSectionBlock(
		mrkdwn(truncate("*Proposed action*\n```"+EscapeText(m.Action)+"```", maxSectionText)),
		nil, nil, slackapi.SectionBlockOptionBlockID(blockAction)))

	if len(m.Observables) > 0 {
		var b strings.Builder
		b.WriteString("*Observables*")
		for i, o := range m.Observables {
			if i == maxObservables {
				fmt.Fprintf(&b, "\n… and %d more", len(m.Observables)-maxObservables)
				break
			}
			b.WriteString("\n• `" + EscapeText(o) + "`")
		}
		blocks = append(blocks, slackapi.NewSectionBlock(mrkdwn(truncate(b.String(), maxSectionText)), nil, nil,
			slackapi.SectionBlockOptionBlockID(blockObs)))
	}

	if m.Prompt != "" {
		blocks = append(blocks, slackapi.NewSectionBlock(mrkdwn(truncate(EscapeText(m.Prompt), maxSectionText)), nil, nil,
			slackapi.SectionBlockOptionBlockID(blockPrompt)))
	}

	if m.Decision == nil {
		approve := slackapi.NewButtonBlockElement(ActionApprove, buttonValue(m, DecisionApprove), plain("Approve")).
			WithStyle(slackapi.StylePrimary)
		reject := slackapi.NewButtonBlockElement(ActionReject, buttonValue(m, DecisionReject), plain("Reject")).
			WithStyle(slackapi.StyleDanger)
		blocks = append(blocks, slackapi.NewActionBlock(blockButtons, approve, reject))
	} else {
		blocks = append(blocks, slackapi.NewContextBlock(blockDecision, mrkdwn(truncate(decisionText(*m.Decision), maxSectionText))))
	}
	return blocks
}

// FallbackText is the plain-text version of the approval message, used by
// notifications and clients that cannot render blocks.
func FallbackText(m ApprovalMessage) string {
	var s string
	if m.Decision != nil {
		s = fmt.Sprintf("%s: %s on incident %s (%s)", statusLabel(m.Decision.Status), m.Action, m.IncidentID, m.IncidentTitle)
	} else {
		s = fmt.Sprintf("Approval needed on incident %s (%s): %s, requested by playbook %s step %s, deadline %s",
			m.IncidentID, m.IncidentTitle, m.Action, m.Playbook, m.Step, utc(m.Deadline))
	}
	return truncate(EscapeText(s), maxSectionText)
}

// EscapeText escapes &, < and > as Slack's mrkdwn requires, so that
// untrusted text cannot inject mentions or links.
func EscapeText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func buttonValue(m ApprovalMessage, decision string) string {
	b, _ := json.Marshal(ButtonValue{Incident: m.IncidentID, Step: m.Step, Request: m.RequestID, Decision: decision})
	return string(b)
}

func decisionText(d DecisionInfo) string {
	var b strings.Builder
	b.WriteString(statusIcon(d.Status) + " *" + statusLabel(d.Status) + "*")
	if len(d.By) > 0 {
		b.WriteString(" by " + people(d.By))
	}
	if !d.At.IsZero() {
		b.WriteString(" at " + utc(d.At))
	}
	if d.Comment != "" {
		b.WriteString(": " + EscapeText(d.Comment))
	}
	return b.String()
}

func statusLabel(s string) string {
	switch s {
	case StatusApproved:
		return "Approved"
	case StatusRejected:
		return "Rejected"
	case StatusExpired:
		return "Expired"
	case StatusEscalated:
		return "Escalated"
	case "":
		return "Decided"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func statusIcon(s string) string {
	switch s {
	case StatusApproved:
		return ":white_check_mark:"
	case StatusRejected:
		return ":x:"
	case StatusExpired:
		return ":hourglass:"
	case StatusEscalated:
		return ":rotating_light:"
	}
	return ":information_source:"
}

// people renders Slack user IDs as mentions and anything else as text.
func people(ids []string) string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if isUserID(id) {
			out = append(out, "<@"+id+">")
		} else {
			out = append(out, EscapeText(id))
		}
	}
	return strings.Join(out, ", ")
}

func isUserID(s string) bool {
	if len(s) < 2 || (s[0] != 'U' && s[0] != 'W') {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

func deadlineText(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	u := utc(t)
	return fmt.Sprintf("%s (<!date^%d^{date_short_pretty} {time}|%s>)", u, t.Unix(), u)
}

func utc(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func plain(s string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.PlainTextType, s, false, false)
}

func mrkdwn(s string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.MarkdownType, s, false, false)
}

// truncate cuts s to at most n runes, ending with an ellipsis when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
