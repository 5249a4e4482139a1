package slack

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	slackapi "github.com/slack-go/slack"
)

// ErrUnsupportedInteraction is wrapped by ParseInteraction when the payload
// is well formed but is not a click on a Riposte approval button.
var ErrUnsupportedInteraction = errors.New("unsupported slack interaction")

// Interaction is a verified click on an approval button.
type Interaction struct {
	UserID      string
	UserName    string
	TeamID      string
	ChannelID   string
	MessageTS   string
	ResponseURL string
	Value       ButtonValue
}

// ParseInteraction parses an interaction request body (form-encoded
// payload=<json>). Only block_actions with exactly one action whose
// action_id is riposte_approve or riposte_reject are accepted, and the
// button value must agree with the action_id. Verify the signature first.
func ParseInteraction(body []byte) (*Interaction, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("parse interaction: bad form body: %w", err)
	}
	payload := form.Get("payload")
	if payload == "" {
		return nil, errors.New("parse interaction: no payload field")
	}
	var cb slackapi.InteractionCallback
	if err := json.Unmarshal([]byte(payload), &cb); err != nil {
		return nil, fmt.Errorf("parse interaction: bad payload json: %w", err)
	}
	if cb.Type != slackapi.InteractionTypeBlockActions {
		return nil, fmt.Errorf("parse interaction: %w: type %q", ErrUnsupportedInteraction, cb.Type)
	}
	acts := cb.ActionCallback.BlockActions
	if len(acts) != 1 || acts[0] == nil {
		return nil, fmt.Errorf("parse interaction: %w: %d actions, want 1", ErrUnsupportedInteraction, len(acts))
	}
	a := acts[0]
	var want string
	switch a.ActionID {
	case ActionApprove:
		want = DecisionApprove
	case ActionReject:
		want = DecisionReject
	default:
		return nil, fmt.Errorf("parse interaction: %w: action_id %q", ErrUnsupportedInteraction, a.ActionID)
	}
	var v ButtonValue
	if err := json.Unmarshal([]byte(a.Value), &v); err != nil {
		return nil, fmt.Errorf("parse interaction: action %s: bad button value: %w", a.ActionID, err)
	}
	if v.Decision != want {
		return nil, fmt.Errorf("parse interaction: action %s: button value decision %q does not match", a.ActionID, v.Decision)
	}
	if v.Incident == "" || v.Step == "" || v.Request == "" {
		return nil, fmt.Errorf("parse interaction: action %s: button value lacks incident, step or request", a.ActionID)
	}
	if cb.User.ID == "" {
		return nil, errors.New("parse interaction: no user id")
	}
	name := cb.User.Username
	if name == "" {
		name = cb.User.Name
	}
	channel := cb.Channel.ID
	if channel == "" {
		channel = cb.Container.ChannelID
	}
	ts := cb.Message.Timestamp
	if ts == "" {
		ts = cb.Container.MessageTs
	}
	return &Interaction{
		UserID:      cb.User.ID,
		UserName:    name,
		TeamID:      cb.Team.ID,
		ChannelID:   channel,
		MessageTS:   ts,
		ResponseURL: cb.ResponseURL,
		Value:       v,
	}, nil
}

// SlashCommand is a parsed slash command such as "/riposte incident INC-1".
type SlashCommand struct {
	Command     string   // "/riposte"
	Args        []string // ["incident", "INC-1"]
	UserID      string
	UserName    string
	TeamID      string
	ChannelID   string
	ResponseURL string
}

// ParseSlashCommand parses a slash-command request body (form-encoded
// command, text, user_id, response_url, ...). Verify the signature first.
func ParseSlashCommand(body []byte) (*SlashCommand, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("parse slash command: bad form body: %w", err)
	}
	cmd := &SlashCommand{
		Command:     form.Get("command"),
		Args:        strings.Fields(form.Get("text")),
		UserID:      form.Get("user_id"),
		UserName:    form.Get("user_name"),
		TeamID:      form.Get("team_id"),
		ChannelID:   form.Get("channel_id"),
		ResponseURL: form.Get("response_url"),
	}
	if cmd.Command == "" {
		return nil, errors.New("parse slash command: no command field")
	}
	if cmd.UserID == "" {
		return nil, errors.New("parse slash command: no user_id field")
	}
	return cmd, nil
}
