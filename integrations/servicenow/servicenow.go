// Package servicenow opens, comments on and resolves ServiceNow records
// through the Table API (/api/now/table/{table}) in the incident table or
// the Security Incident Response table sn_si_incident, authenticating with
// HTTP Basic (username and password) or an OAuth bearer token.
//
// Idempotency: every record Riposte creates carries correlation_id = the
// ticket key (correlation_display "riposte"). Create first queries
// correlation_id=<key> (with "^", the encoded-query separator, escaped as
// "^^") and accepts a record only when its correlation_id equals what was
// stored. The task table's correlation_id holds 100 characters; a longer
// key is stored as "riposte:sha256:<hex>" instead.
//
// Resolve sets incident state 6 (Resolved) with close_code and close_notes,
// which many instances require through data policies. sn_si_incident has its
// own state model (Draft, Analysis, Contain, Eradicate, Recover, Review,
// Closed); its default resolve state here is 3 (Closed), the value of the
// base-system choice as far as we know — ServiceNow's public documentation
// names the states but its value table could not be verified, so set
// resolve_state for your instance if it differs. A record whose state is
// already the resolve state, a later closed/cancelled state, or inactive
// (active=false) counts as resolved.
//
// Every exported method returns *temporal.ApplicationError values (see
// integrations/httpx.Temporal) so that activities can return them as they
// are.
package servicenow

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/riposte-soar/riposte/integrations/httpx"
)

// Tables Riposte can write to.
const (
	TableIncident         = "incident"
	TableSecurityIncident = "sn_si_incident"
)

// Config configures the ServiceNow client.
type Config struct {
	URL             string // https://instance.service-now.com
	Username        string // Basic auth, with Password
	Password        string
	Token           string // OAuth bearer token, instead of Username/Password
	Table           string // incident (default) or sn_si_incident
	AssignmentGroup string // sys_id of the assignment group; optional
	CommentField    string // work_notes (default, internal) or comments (customer visible)
	CloseCode       string // default "Solved (Permanently)"
	ResolveState    string // default "6" for incident, "3" for sn_si_incident
	CAFile          string // PEM bundle for an internal CA (on-premise proxies)
	Timeout         time.Duration
}

// NewTicket is what ticket.create asks for.
type NewTicket struct {
	Key        string // idempotency key "<incident_id>/<step_id>"
	IncidentID string
	Title      string
	Body       string // plain text
	Priority   string // "", low, medium, high, critical
	Queue      string // optional assignment group sys_id overriding Config.AssignmentGroup
}

// Ticket is a record created or found by Create.
type Ticket struct {
	ID      string // sys_id
	Number  string // e.g. INC0010001 / SIR0010001
	URL     string // <base>/nav_to.do?uri=<table>.do?sys_id=<sys_id>
	Created bool   // false when a record with the same Key already existed
}

// Client talks to one ServiceNow instance.
type Client struct {
	cfg  Config
	base *url.URL
	auth string
	http *httpx.Client
	log  *zap.Logger
}

const (
	maxCorrelationID = 100 // task.correlation_id length
	maxShortDesc     = 160 // task.short_description length
	maxBody          = 8 << 20
)

// New validates cfg and builds a client.
func New(cfg Config, log *zap.Logger) (*Client, error) {
	var errs []error
	u, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	switch {
	case cfg.URL == "":
		errs = append(errs, errors.New("url: required"))
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		errs = append(errs, errors.New("url: must be an absolute http(s) URL such as https://instance.service-now.com"))
	case u.User != nil:
		errs = append(errs, errors.New("url: must not carry credentials; use username/password or token"))
	}
	switch {
	case cfg.Token != "" && (cfg.Username != "" || cfg.Password != ""):
		errs = append(errs, errors.New("token: set either token or username/password, not both"))
	case cfg.Token == "" && cfg.Username == "" && cfg.Password == "":
		errs = append(errs, errors.New("username: required (or token)"))
	case cfg.Token == "" && cfg.Username == "":
		errs = append(errs, errors.New("username: required with password"))
	case cfg.Token == "" && cfg.Password == "":
		errs = append(errs, errors.New("password: required with username"))
	}
	if cfg.Table == "" {
		cfg.Table = TableIncident
	}
	if cfg.Table != TableIncident && cfg.Table != TableSecurityIncident {
		errs = append(errs, fmt.Errorf("table: must be %s or %s, not %q", TableIncident, TableSecurityIncident, cfg.Table))
	}
	if cfg.CommentField == "" {
		cfg.CommentField = "work_notes"
	}
	if cfg.CommentField != "work_notes" && cfg.CommentField != "comments" {
		errs = append(errs, fmt.Errorf("comment_field: must be work_notes or comments, not %q", cfg.CommentField))
	}
	tr, err := httpx.Transport(cfg.CAFile)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("servicenow: %w", errors.Join(errs...))
	}
	if cfg.CloseCode == "" {
		cfg.CloseCode = "Solved (Permanently)"
	}
	if cfg.ResolveState == "" {
		cfg.ResolveState = "6"
		if cfg.Table == TableSecurityIncident {
			cfg.ResolveState = "3"
		}
	}
	if log == nil {
		log = zap.NewNop()
	}
	c := &Client{cfg: cfg, base: u, log: log.With(zap.String("integration", "servicenow"))}
	secrets := []string{cfg.Token}
	if cfg.Token != "" {
		c.auth = "Bearer " + cfg.Token
	} else {
		pair := cfg.Username + ":" + cfg.Password
		c.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(pair))
		secrets = []string{cfg.Password, pair}
	}
	c.http = httpx.New(httpx.Options{Name: "servicenow", Timeout: cfg.Timeout, Logger: log, Secrets: secrets, Transport: tr, VendorMessage: errorText})
	return c, nil
}

// Check proves credentials, reachability and read access to the table with
// one single-row query.
func (c *Client) Check(ctx context.Context) error {
	q := url.Values{"sysparm_limit": {"1"}, "sysparm_fields": {"sys_id"}}
	var res struct {
		Result []record `json:"result"`
	}
	if err := c.call(ctx, "check", http.MethodGet, c.tablePath(""), q, nil, &res); err != nil {
		return err
	}
	if res.Result == nil {
		return c.badResponse("check", "no result array in table answer")
	}
	return nil
}

func (c *Client) tablePath(sysID string) string {
	p := "/api/now/table/" + c.cfg.Table
	if sysID != "" {
		p += "/" + url.PathEscape(sysID)
	}
	return p
}

// call sends one request with a JSON body (in may be nil) and decodes the
// JSON answer into out. Errors are Temporal application errors whose message
// starts with op.
func (c *Client) call(ctx context.Context, op, method, path string, query url.Values, in, out any) error {
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + path
	u.RawPath = ""
	if query != nil {
		u.RawQuery = query.Encode()
	}
	req, err := httpx.JSONRequest(ctx, method, u.String(), in)
	if err != nil {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("servicenow: %s: %s", op, c.http.Redact(err.Error())), "BadInput", nil)
	}
	req.Header.Set("Authorization", c.auth)
	resp, err := c.http.Do(ctx, req)
	if err != nil {
		return httpx.TemporalOp(op, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(out); err != nil {
		return httpx.TemporalOp(op, c.http.NewBadResponse("%s %s: %d answer is not the expected JSON: %v", method, path, resp.StatusCode, err))
	}
	return nil
}

func (c *Client) badResponse(op, format string, args ...any) error {
	return httpx.TemporalOp(op, c.http.NewBadResponse(format, args...))
}

func badInput(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError("servicenow: "+fmt.Sprintf(format, args...), "BadInput", nil)
}

// errorText turns ServiceNow's error body,
// {"error":{"message":..,"detail":..},"status":"failure"}, into
// "<message>: <detail>": the detail is often the useful part ("ACL restricts
// ...") and httpx alone would keep only the message.
func errorText(body []byte) string {
	var e struct {
		Error struct {
			Message string `json:"message"`
			Detail  string `json:"detail"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	m, d := strings.TrimSpace(e.Error.Message), strings.TrimSpace(e.Error.Detail)
	switch {
	case m != "" && d != "" && m != d:
		return m + ": " + d
	case m != "":
		return m
	default:
		return d
	}
}
