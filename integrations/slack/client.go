package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"
)

// DefaultAPIURL is Slack's Web API base URL.
const DefaultAPIURL = "https://slack.com/api/"

// UserGroupCacheTTL is how long UserGroupMembers keeps a group's members.
const UserGroupCacheTTL = 5 * time.Minute

// defaultTimeout bounds every HTTP call when Config.HTTPClient is nil, well
// inside Slack's 3 s interaction deadline budget for ephemeral replies.
const defaultTimeout = 10 * time.Second

// Config configures a Client.
type Config struct {
	// BotToken is the bot user OAuth token (xoxb-...). It is never printed.
	BotToken string
	// APIURL is the Web API base URL; empty means DefaultAPIURL. Tests and
	// proxies point it elsewhere. A trailing slash is added if missing.
	APIURL string
	// HTTPClient is used for every call, including response_url posts; nil
	// means a client with a 10 s timeout.
	HTTPClient *http.Client
}

// Client talks to the Slack Web API. It is safe for concurrent use.
type Client struct {
	api    *slackapi.Client
	http   *http.Client
	apiURL string
	token  string // only used to redact error messages
	now    func() time.Time

	mu     sync.Mutex
	groups map[string]groupEntry
}

type groupEntry struct {
	members []string
	expires time.Time
}

// New returns a Client for cfg. Slack-go's own retries stay off: callers
// (Temporal activities) own the retry policy, guided by *Error.
func New(cfg Config) *Client {
	apiURL := cfg.APIURL
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: defaultTimeout}
	}
	return &Client{
		api:    slackapi.New(cfg.BotToken, slackapi.OptionAPIURL(apiURL), slackapi.OptionHTTPClient(hc)),
		http:   hc,
		apiURL: apiURL,
		token:  cfg.BotToken,
		now:    time.Now,
		groups: map[string]groupEntry{},
	}
}

// String describes the client without its token.
func (c *Client) String() string { return fmt.Sprintf("slack.Client{api_url: %s}", c.apiURL) }

// GoString is String, so that %#v never prints the token either.
func (c *Client) GoString() string { return c.String() }

// PostApproval posts the approval request m to channel (an ID or a name) and
// returns the channel ID and the message ts, which the caller keeps so that
// later updates edit this message instead of posting a new one.
func (c *Client) PostApproval(ctx context.Context, channel string, m ApprovalMessage) (channelID, ts string, err error) {
	channelID, ts, err = c.api.PostMessageContext(ctx, channel,
		slackapi.MsgOptionBlocks(ApprovalBlocks(m)...),
		slackapi.MsgOptionText(FallbackText(m), false),
		slackapi.MsgOptionDisableLinkUnfurl(),
		slackapi.MsgOptionDisableMediaUnfurl(),
		// The request ID rides along as message metadata, so a retried post
		// can find the message a lost answer left behind.
		slackapi.MsgOptionMetadata(slackapi.SlackMetadata{EventType: approvalEventType, EventPayload: map[string]any{"request_id": m.RequestID}}),
	)
	if err != nil {
		return "", "", c.wrap("chat.postMessage", err)
	}
	return channelID, ts, nil
}

// UpdateApproval rewrites the approval message at (channel, ts) from m. With
// m.Decision set, the buttons disappear and the decision is shown. channel
// must be the channel ID returned by PostApproval (chat.update does not
// accept names).
func (c *Client) UpdateApproval(ctx context.Context, channel, ts string, m ApprovalMessage) error {
	_, _, _, err := c.api.UpdateMessageContext(ctx, channel, ts,
		slackapi.MsgOptionBlocks(ApprovalBlocks(m)...),
		slackapi.MsgOptionText(FallbackText(m), false),
	)
	if err != nil {
		return c.wrap("chat.update", err)
	}
	return nil
}

// PostThread posts text (Slack mrkdwn; escape untrusted parts with
// EscapeText) as a reply in the thread of threadTS and returns its ts.
func (c *Client) PostThread(ctx context.Context, channel, threadTS, text string) (ts string, err error) {
	if threadTS == "" {
		return "", &Error{Op: "chat.postMessage", Err: errors.New("empty thread ts")}
	}
	_, ts, err = c.api.PostMessageContext(ctx, channel,
		slackapi.MsgOptionText(text, false),
		slackapi.MsgOptionTS(threadTS),
		slackapi.MsgOptionDisableLinkUnfurl(),
	)
	if err != nil {
		return "", c.wrap("chat.postMessage", err)
	}
	return ts, nil
}

// PostMessage posts text (Slack mrkdwn) as a new top-level message, for
// example the escalation notice, and returns the channel ID and ts.
func (c *Client) PostMessage(ctx context.Context, channel, text string) (channelID, ts string, err error) {
	channelID, ts, err = c.api.PostMessageContext(ctx, channel,
		slackapi.MsgOptionText(text, false),
		slackapi.MsgOptionDisableLinkUnfurl(),
	)
	if err != nil {
		return "", "", c.wrap("chat.postMessage", err)
	}
	return channelID, ts, nil
}

// UserGroupMembers returns the user IDs of the user group groupID
// (usergroups.users.list). Results are cached for UserGroupCacheTTL; errors
// are not cached. The returned slice is the caller's to keep.
func (c *Client) UserGroupMembers(ctx context.Context, groupID string) ([]string, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.groups[groupID]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return append([]string(nil), e.members...), nil
	}
	members, err := c.api.GetUserGroupMembersContext(ctx, groupID)
	if err != nil {
		return nil, c.wrap("usergroups.users.list", err)
	}
	members = append([]string(nil), members...)
	c.mu.Lock()
	c.groups[groupID] = groupEntry{members: members, expires: now.Add(UserGroupCacheTTL)}
	c.mu.Unlock()
	return append([]string(nil), members...), nil
}

// PostEphemeral answers an interaction through its response_url with a
// message only the clicking user sees, leaving the original message as is.
// Errors name the response_url's host only: the full URL is a credential.
func (c *Client) PostEphemeral(ctx context.Context, responseURL, text string) error {
	const op = "response_url"
	u, err := url.Parse(responseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return &Error{Op: op, Err: errors.New("invalid response_url")}
	}
	op2 := op + " " + u.Host
	body, err := json.Marshal(map[string]any{
		"response_type":    "ephemeral",
		"replace_original": false,
		"text":             text,
	})
	if err != nil {
		return &Error{Op: op2, Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, responseURL, bytes.NewReader(body))
	if err != nil {
		return &Error{Op: op2, Err: errors.New("cannot build request")}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		// *url.Error carries the full URL; keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return c.wrap(op2, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return &Error{Op: op2, Retryable: true, RetryAfter: retryAfter(resp.Header), Err: errors.New("rate limited")}
	case resp.StatusCode >= 500:
		return &Error{Op: op2, Retryable: true, Err: fmt.Errorf("server error: %s", resp.Status)}
	case resp.StatusCode >= 300:
		return &Error{Op: op2, Err: fmt.Errorf("unexpected status: %s", resp.Status)}
	}
	return nil
}

const approvalEventType = "riposte_approval"

// FindApproval looks among the channel's recent messages for the approval
// request with requestID, so that a retried post does not post it twice.
func (c *Client) FindApproval(ctx context.Context, channel, requestID string) (channelID, ts string, found bool, err error) {
	resp, err := c.api.GetConversationHistoryContext(ctx, &slackapi.GetConversationHistoryParameters{
		ChannelID: channel, Limit: 100, IncludeAllMetadata: true,
	})
	if err != nil {
		return "", "", false, c.wrap("conversations.history", err)
	}
	for _, m := range resp.Messages {
		if m.Metadata.EventType == approvalEventType && m.Metadata.EventPayload["request_id"] == requestID {
			return channel, m.Timestamp, true, nil
		}
	}
	return "", "", false, nil
}

// OpenChannel creates the public channel name, or finds it when a
// previous attempt already created it, and invites users (already-present
// members are fine).
func (c *Client) OpenChannel(ctx context.Context, name string, users []string) (channelID string, err error) {
	ch, err := c.api.CreateConversationContext(ctx, slackapi.CreateConversationParams{ChannelName: name})
	switch {
	case err == nil:
		channelID = ch.ID
	case strings.Contains(err.Error(), "name_taken"):
		channelID, err = c.findChannel(ctx, name)
		if err != nil {
			return "", err
		}
	default:
		return "", c.wrap("conversations.create", err)
	}
	if len(users) > 0 {
		if _, err := c.api.InviteUsersToConversationContext(ctx, channelID, users...); err != nil && !strings.Contains(err.Error(), "already_in_channel") {
			return channelID, c.wrap("conversations.invite", err)
		}
	}
	return channelID, nil
}

func (c *Client) findChannel(ctx context.Context, name string) (string, error) {
	cursor := ""
	for {
		chans, next, err := c.api.GetConversationsContext(ctx, &slackapi.GetConversationsParameters{
			Cursor: cursor, ExcludeArchived: true, Limit: 200, Types: []string{"public_channel"},
		})
		if err != nil {
			return "", c.wrap("conversations.list", err)
		}
		for _, ch := range chans {
			if ch.Name == name {
				return ch.ID, nil
			}
		}
		if next == "" {
			return "", &Error{Op: "conversations.list", Err: fmt.Errorf("channel %q is taken but not found", name)}
		}
		cursor = next
	}
}
