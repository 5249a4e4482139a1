package activities

import (
	"context"
	"fmt"
)

// ActivityNotifyApproval posts or updates an approval request in chat.
const ActivityNotifyApproval = "NotifyApproval"

// Approval notice kinds.
const (
	NoticePost     = "post"     // the request with its buttons
	NoticeUpdate   = "update"   // the decision, in place; buttons removed
	NoticeReminder = "reminder" // a reminder in the request's thread
	NoticeEscalate = "escalate" // the escalation, to the escalation channel
	NoticeThread   = "thread"   // a timeline event in the incident's thread
	NoticeChannel  = "channel"  // open the incident's own channel and post a summary
	NoticeDeadline = "deadline" // a regulatory-clock reminder or escalation, to the compliance channel
)

// ChatRef identifies a posted message.
type ChatRef struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
}

// ApprovalNotice is what chat shows of an approval.
type ApprovalNotice struct {
	Kind        string   `json:"kind"`
	Ref         ChatRef  `json:"ref"`
	IncidentID  string   `json:"incident_id"`
	Title       string   `json:"title"`
	Severity    string   `json:"severity"`
	Phase       string   `json:"phase"`
	Observables []string `json:"observables,omitempty"`
	// Action is the exact action proposed, e.g. "firewall.block_ip ip=203.0.113.7 ttl=24h".
	Action    string   `json:"action"`
	Prompt    string   `json:"prompt"`
	Playbook  string   `json:"playbook"`
	Step      string   `json:"step"`
	Deadline  string   `json:"deadline"` // RFC 3339
	Required  int      `json:"required"`
	Approvers []string `json:"approvers"`
	// RequestID identifies this approval request in button values.
	RequestID string `json:"request_id"`
	// Status and DecidedBy describe the outcome for updates.
	Status    string   `json:"status,omitempty"`
	DecidedBy []string `json:"decided_by,omitempty"`
	Comment   string   `json:"comment,omitempty"`
	// Text is the message of a thread notice.
	Text string `json:"text,omitempty"`
}

// Chat posts approval requests and their outcomes. Slack implements it.
type Chat interface {
	PostApproval(ctx context.Context, n ApprovalNotice) (ChatRef, error)
	UpdateApproval(ctx context.Context, n ApprovalNotice) error
	PostReminder(ctx context.Context, n ApprovalNotice) error
	PostThread(ctx context.Context, ref ChatRef, text string) error
	// OpenIncidentChannel creates (or finds) the incident's channel,
	// invites the on-call responders and posts the summary in n.Text.
	OpenIncidentChannel(ctx context.Context, n ApprovalNotice) (ChatRef, error)
	// PostCompliance posts to the compliance channel.
	PostCompliance(ctx context.Context, text string) error
	PostEscalation(ctx context.Context, n ApprovalNotice) error
	// PostMessage posts a playbook's notify message; empty channel means
	// the default channel.
	PostMessage(ctx context.Context, channel, text string) (ChatRef, error)
}

// NotifyApproval sends a notice; without a chat integration it answers
// "not configured" and the approval goes on through the API.
func (a *Actions) NotifyApproval(ctx context.Context, n ApprovalNotice) (ChatRef, error) {
	if a.Chat == nil {
		return ChatRef{}, notConfigured("chat", "approval notice")
	}
	var err error
	switch n.Kind {
	case NoticePost:
		ref, err := a.Chat.PostApproval(ctx, n)
		if err != nil {
			return ChatRef{}, fmt.Errorf("post approval %s/%s: %w", n.IncidentID, n.Step, err)
		}
		return ref, nil
	case NoticeUpdate:
		err = a.Chat.UpdateApproval(ctx, n)
	case NoticeReminder:
		err = a.Chat.PostReminder(ctx, n)
	case NoticeEscalate:
		err = a.Chat.PostEscalation(ctx, n)
	case NoticeDeadline:
		err = a.Chat.PostCompliance(ctx, n.Text)
	case NoticeThread:
		err = a.Chat.PostThread(ctx, n.Ref, n.Text)
	case NoticeChannel:
		ref, err := a.Chat.OpenIncidentChannel(ctx, n)
		if err != nil {
			return ChatRef{}, fmt.Errorf("open channel for %s: %w", n.IncidentID, err)
		}
		return ref, nil
	default:
		return ChatRef{}, invalid("approval notice", "unknown kind %q", n.Kind)
	}
	if err != nil {
		return ChatRef{}, fmt.Errorf("%s approval %s/%s: %w", n.Kind, n.IncidentID, n.Step, err)
	}
	return n.Ref, nil
}
