// Package jira opens, comments on and resolves Jira Cloud issues through the
// REST API v3 (https://<site>.atlassian.net/rest/api/3), authenticating with
// HTTP Basic (account email and API token).
//
// Idempotency: every issue Riposte creates carries the label
// riposte-<first 16 hex digits of sha256(key)> (labels cannot hold spaces or
// the "/" of a key) and an issue entity property "riposte" whose value holds
// the full key. Create first searches with JQL on the label through the
// enhanced search endpoint (GET /rest/api/3/search/jql, asking for the
// property) and accepts only an issue whose property holds exactly the key.
// Entity properties are not searchable in JQL unless an app indexes them,
// hence the label. Jira's search is eventually consistent: an issue created
// a moment before may not be found yet, so a retry seconds after a create
// whose answer was lost can still open a second issue; Temporal's retry
// backoff makes that window small.
//
// Descriptions and comments are Atlassian Document Format: one paragraph
// per non-empty line of the plain-text body.
//
// Every exported method returns *temporal.ApplicationError values (see
// integrations/httpx.Temporal) so that activities can return them as they
// are.
package jira

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/riposte-soar/riposte/integrations/httpx"
)

// Config configures the Jira Cloud client.
type Config struct {
	URL               string // https://your-domain.atlassian.net
	Email             string // Atlassian account email (Basic auth user)
	APIToken          string // API token (Basic auth password)
	Project           string // project key, e.g. "SEC"
	IssueType         string // default "Task"
	ResolveTransition string // transition name or target status name, default "Done"
	// SetPriority sends the priority field on create. Off by default: many
	// projects have no priority on their create screen and Jira then
	// rejects the whole request.
	SetPriority bool
	// PriorityNames overrides the Jira priority name for Riposte priorities
	// low, medium, high, critical (default Low, Medium, High, Highest).
	PriorityNames map[string]string
	Timeout       time.Duration // per call, default 30s
}

// NewTicket is what ticket.create asks for.
type NewTicket struct {
	Key        string // idempotency key "<incident_id>/<step_id>"
	IncidentID string
	Title      string
	Body       string // plain text
	Priority   string // "", low, medium, high, critical
	Queue      string // optional project key overriding Config.Project
}

// Ticket is an issue created or found by Create.
type Ticket struct {
	ID      string // issue key, e.g. "SEC-42"
	Number  string // same as ID
	URL     string // https://<site>/browse/SEC-42
	Created bool   // false when an issue with the same Key already existed
}

// Client talks to one Jira Cloud site.
type Client struct {
	cfg  Config
	base *url.URL
	auth string
	http *httpx.Client
	log  *zap.Logger
}

const (
	// propertyKey is the issue entity property holding the idempotency key.
	propertyKey = "riposte"
	// maxSummary is Jira's summary length limit.
	maxSummary = 255
	// maxDescription stays below Jira's 32767-character limit for text fields.
	maxDescription = 32000
	maxBody        = 8 << 20
)

var defaultPriorities = map[string]string{"low": "Low", "medium": "Medium", "high": "High", "critical": "Highest"}

// New validates cfg and builds a client.
func New(cfg Config, log *zap.Logger) (*Client, error) {
	var errs []error
	u, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	switch {
	case cfg.URL == "":
		errs = append(errs, errors.New("url: required"))
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		errs = append(errs, errors.New("url: must be an absolute http(s) URL such as https://your-domain.atlassian.net"))
	case u.User != nil:
		errs = append(errs, errors.New("url: must not carry credentials; use email and api_token"))
	}
	if cfg.Email == "" {
		errs = append(errs, errors.New("email: required"))
	}
	if cfg.APIToken == "" {
		errs = append(errs, errors.New("api_token: required"))
	}
	if cfg.Project == "" {
		errs = append(errs, errors.New("project: required"))
	}
	for k := range cfg.PriorityNames {
		if _, ok := defaultPriorities[k]; !ok {
			errs = append(errs, fmt.Errorf("priority_names: unknown priority %q (want low, medium, high or critical)", k))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("jira: %w", errors.Join(errs...))
	}
	if cfg.IssueType == "" {
		cfg.IssueType = "Task"
	}
	if cfg.ResolveTransition == "" {
		cfg.ResolveTransition = "Done"
	}
	if log == nil {
		log = zap.NewNop()
	}
	pair := cfg.Email + ":" + cfg.APIToken
	c := &Client{
		cfg:  cfg,
		base: u,
		auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(pair)),
		log:  log.With(zap.String("integration", "jira")),
	}
	c.http = httpx.New(httpx.Options{
		Name:          "jira",
		Timeout:       cfg.Timeout,
		Logger:        log,
		Secrets:       []string{cfg.APIToken, pair},
		VendorMessage: errorText,
	})
	return c, nil
}

// Check proves the credentials (GET /myself) and that the configured
// project is visible (GET /project/{key}).
func (c *Client) Check(ctx context.Context) error {
	var me struct {
		AccountID string `json:"accountId"`
	}
	if err := c.call(ctx, "check credentials", http.MethodGet, "/rest/api/3/myself", nil, nil, &me); err != nil {
		return err
	}
	if me.AccountID == "" {
		return c.badResponse("check credentials", "no accountId in /myself answer")
	}
	var p struct {
		Key string `json:"key"`
	}
	if err := c.call(ctx, "check project", http.MethodGet, "/rest/api/3/project/"+url.PathEscape(c.cfg.Project), nil, nil, &p); err != nil {
		return err
	}
	return nil
}

// call sends one request with a JSON body (in may be nil) and decodes a JSON
// answer into out (nil: the body is discarded). Errors are Temporal
// application errors whose message starts with op.
func (c *Client) call(ctx context.Context, op, method, path string, query url.Values, in, out any) error {
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + path
	u.RawPath = ""
	if query != nil {
		u.RawQuery = query.Encode()
	}
	req, err := httpx.JSONRequest(ctx, method, u.String(), in)
	if err != nil {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("jira: %s: %s", op, c.http.Redact(err.Error())), "BadRequest", nil)
	}
	req.Header.Set("Authorization", c.auth)
	resp, err := c.http.Do(ctx, req)
	if err != nil {
		return httpx.TemporalOp(op, err)
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(out); err != nil {
		return httpx.TemporalOp(op, c.http.NewBadResponse("%s %s: %d answer is not the expected JSON: %v", method, path, resp.StatusCode, err))
	}
	return nil
}

func (c *Client) badResponse(op, format string, args ...any) error {
	return httpx.TemporalOp(op, c.http.NewBadResponse(format, args...))
}

// badInput is a non-retryable error for requests that can never succeed.
func badInput(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError("jira: "+fmt.Sprintf(format, args...), "BadInput", nil)
}

// errorText joins Jira's error body,
// {"errorMessages":[...],"errors":{"field":"msg"}}, into one vendor message:
// errorMessages, then the field errors ("field: msg", sorted by field); ""
// when the body has neither. httpx alone keeps only the first of
// errorMessages.
func errorText(body []byte) string {
	var e struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	parts := append([]string(nil), e.ErrorMessages...)
	fields := make([]string, 0, len(e.Errors))
	for f := range e.Errors {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		parts = append(parts, f+": "+e.Errors[f])
	}
	return strings.Join(parts, "; ")
}
