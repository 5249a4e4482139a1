package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/riposte-soar/riposte/activities"
	"github.com/riposte-soar/riposte/config"
	"github.com/riposte-soar/riposte/integrations/slack"
)

// slackChat implements activities.Chat on Slack.
type slackChat struct {
	c          *slack.Client
	channel    string
	compliance string
	escalation string
	// responders are invited to incident channels: slack.users with the
	// responder role, and the members of user groups that hold it.
	responders []string
	groups     map[string][]string
	// groupsByRole mentions the user groups that hold a role.
	groupsByRole map[string][]string
}

func newSlackChat(cfg config.SlackConfig) *slackChat {
	s := &slackChat{
		c:            slack.New(slack.Config{BotToken: cfg.BotToken.Reveal(), APIURL: cfg.APIURL}),
		channel:      cfg.Channel,
		escalation:   cfg.EscalationChannel,
		groupsByRole: map[string][]string{},
	}
	if s.escalation == "" {
		s.escalation = s.channel
	}
	s.compliance = cfg.ComplianceChannel
	if s.compliance == "" {
		s.compliance = s.channel
	}
	for id, roles := range cfg.Users {
		if slices.Contains(roles, "responder") {
			s.responders = append(s.responders, strings.ToUpper(id))
		}
	}
	sort.Strings(s.responders)
	s.groups = cfg.Usergroups
	for id, roles := range cfg.Usergroups {
		for _, r := range roles {
			s.groupsByRole[r] = append(s.groupsByRole[r], strings.ToUpper(id))
		}
	}
	for r := range s.groupsByRole {
		sort.Strings(s.groupsByRole[r])
	}
	return s
}

func message(n activities.ApprovalNotice) slack.ApprovalMessage {
	deadline, _ := time.Parse(time.RFC3339, n.Deadline)
	m := slack.ApprovalMessage{
		IncidentID: n.IncidentID, IncidentTitle: n.Title, Severity: n.Severity, Phase: n.Phase, Observables: n.Observables,
		Action: n.Action, Prompt: n.Prompt, Playbook: n.Playbook, Step: n.Step, Deadline: deadline, Required: n.Required,
		RequestID: n.RequestID,
	}
	if n.Kind == activities.NoticeUpdate || n.Kind == activities.NoticeEscalate {
		m.Decision = &slack.DecisionInfo{Status: n.Status, By: n.DecidedBy, At: time.Now().UTC(), Comment: n.Comment}
	}
	return m
}

// temporalError hands Slack's verdict to Temporal, which owns retries: a
// 429 waits as long as Slack asks.
func temporalError(err error) error {
	if err == nil {
		return nil
	}
	var se *slack.Error
	if errors.As(err, &se) {
		if !se.Retryable {
			return temporal.NewNonRetryableApplicationError(se.Error(), "SlackRejected", nil)
		}
		if se.RetryAfter > 0 {
			return temporal.NewApplicationErrorWithOptions(se.Error(), "SlackRateLimited", temporal.ApplicationErrorOptions{NextRetryDelay: se.RetryAfter})
		}
	}
	return err
}

func (s *slackChat) PostApproval(ctx context.Context, n activities.ApprovalNotice) (activities.ChatRef, error) {
	// A retry may follow a post whose answer was lost: look first.
	if activity.IsActivity(ctx) && activity.GetInfo(ctx).Attempt > 1 {
		if ch, ts, found, err := s.c.FindApproval(ctx, s.channel, n.RequestID); err == nil && found {
			return activities.ChatRef{Channel: ch, TS: ts}, nil
		}
	}
	channel := s.channel
	if n.Ref.Channel != "" {
		channel = n.Ref.Channel // the incident's own channel
	}
	ch, ts, err := s.c.PostApproval(ctx, channel, message(n))
	return activities.ChatRef{Channel: ch, TS: ts}, temporalError(err)
}

func (s *slackChat) UpdateApproval(ctx context.Context, n activities.ApprovalNotice) error {
	return temporalError(s.c.UpdateApproval(ctx, n.Ref.Channel, n.Ref.TS, message(n)))
}

func (s *slackChat) PostReminder(ctx context.Context, n activities.ApprovalNotice) error {
	_, err := s.c.PostThread(ctx, n.Ref.Channel, n.Ref.TS, fmt.Sprintf(
		"Reminder: approval *%s* on incident %s is still waiting (deadline %s).", slack.EscapeText(n.Step), slack.EscapeText(n.IncidentID), n.Deadline))
	return temporalError(err)
}

func (s *slackChat) PostEscalation(ctx context.Context, n activities.ApprovalNotice) error {
	var mentions []string
	for _, role := range n.Approvers {
		for _, g := range s.groupsByRole[role] {
			mentions = append(mentions, "<!subteam^"+g+">")
		}
	}
	if len(mentions) == 0 {
		mentions = append(mentions, strings.Join(n.Approvers, ", "))
	}
	text := fmt.Sprintf("%s: approval *%s* on incident %s (%s) was not answered in time and is escalated to you. Deadline %s.",
		strings.Join(mentions, " "), slack.EscapeText(n.Step), slack.EscapeText(n.IncidentID), slack.EscapeText(n.Title), n.Deadline)
	if _, _, err := s.c.PostMessage(ctx, s.escalation, text); err != nil {
		return temporalError(err)
	}
	_, err := s.c.PostThread(ctx, n.Ref.Channel, n.Ref.TS, "Escalated to "+strings.Join(n.Approvers, ", ")+".")
	return temporalError(err)
}

func (s *slackChat) PostMessage(ctx context.Context, channel, text string) (activities.ChatRef, error) {
	if channel == "" {
		channel = s.channel
	}
	ch, ts, err := s.c.PostMessage(ctx, channel, text)
	return activities.ChatRef{Channel: ch, TS: ts}, temporalError(err)
}

func (s *slackChat) PostThread(ctx context.Context, ref activities.ChatRef, text string) error {
	_, err := s.c.PostThread(ctx, ref.Channel, ref.TS, slack.EscapeText(text))
	return temporalError(err)
}

func (s *slackChat) OpenIncidentChannel(ctx context.Context, n activities.ApprovalNotice) (activities.ChatRef, error) {
	users := slices.Clone(s.responders)
	for id, roles := range s.groups {
		if !slices.Contains(roles, "responder") {
			continue
		}
		members, err := s.c.UserGroupMembers(ctx, strings.ToUpper(id))
		if err != nil {
			return activities.ChatRef{}, temporalError(err)
		}
		users = append(users, members...)
	}
	slices.Sort(users)
	users = slices.Compact(users)
	// Slack channel names: lower case, at most 80 characters.
	name := strings.ToLower(n.IncidentID)
	if len(name) > 80 {
		name = name[:80]
	}
	id, err := s.c.OpenChannel(ctx, name, users)
	if err != nil {
		return activities.ChatRef{}, temporalError(err)
	}
	_, ts, err := s.c.PostMessage(ctx, id, slack.EscapeText(n.Text))
	return activities.ChatRef{Channel: id, TS: ts}, temporalError(err)
}

func (s *slackChat) PostCompliance(ctx context.Context, text string) error {
	_, _, err := s.c.PostMessage(ctx, s.compliance, slack.EscapeText(text))
	return temporalError(err)
}
