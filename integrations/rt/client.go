package rt

import (
	"context"
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

// DefaultQueue is the queue used when Config.Queue is empty.
const DefaultQueue = "General"

// maxBody bounds how much of a successful answer is read.
const maxBody = 8 << 20

// DefaultPriorities maps Riposte priorities onto RT's default
// PriorityAsString scale (Low=0, Medium=50, High=100).
var DefaultPriorities = map[string]int{"low": 0, "medium": 50, "high": 100, "critical": 100}

// Config configures a Client. Either Token or Username and Password must be
// set; Token wins when both are.
type Config struct {
	URL            string         // RT's base URL (its WebBaseURL plus WebPath), e.g. https://rt.example.com/rt
	Token          string         // REST2 auth token (RT 5 Settings > Auth Tokens), sent as "Authorization: token ..."
	Username       string         // for basic auth
	Password       string         // for basic auth
	Queue          string         // default queue; DefaultQueue when empty
	KeyCustomField string         // optional ticket custom field that also holds the idempotency key
	Priorities     map[string]int // overrides DefaultPriorities per name
	CAFile         string         // PEM file of an internal CA to trust besides the system roots
	Timeout        time.Duration  // per HTTP call; httpx.DefaultTimeout when zero
}

// NewTicket is what ticket.create asks for.
type NewTicket struct {
	Key        string // idempotency key "<incident_id>/<step_id>"
	IncidentID string
	Title      string
	Body       string // plain text
	Priority   string // "", low, medium, high, critical
	Queue      string // overrides Config.Queue
}

// Ticket is a ticket found or created.
type Ticket struct {
	ID      string // RT ticket number, e.g. "123"
	Number  string // = ID for RT
	URL     string // <base>/Ticket/Display.html?id=123
	Created bool   // false when a ticket with the same Key already existed
}

// Client talks to one RT instance. It is safe for concurrent use.
type Client struct {
	base       string // without trailing slash
	api        string // base + /REST/2.0
	token      string
	user, pass string
	queue      string
	keyCF      string
	prio       map[string]int
	h          *httpx.Client
	log        *zap.Logger
}

// New validates cfg and returns a Client. Errors name the field ("url: required").
func New(cfg Config, log *zap.Logger) (*Client, error) {
	if log == nil {
		log = zap.NewNop()
	}
	var errs []error
	base := strings.TrimRight(strings.TrimSpace(cfg.URL), "/")
	base = strings.TrimSuffix(base, "/REST/2.0")
	if base == "" {
		errs = append(errs, errors.New("url: required"))
	} else if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, errors.New("url: must be an absolute http or https URL"))
	} else if u.User != nil {
		errs = append(errs, errors.New("url: must not carry credentials; use username and password"))
	}
	switch {
	case cfg.Token != "":
	case cfg.Username == "" && cfg.Password == "":
		errs = append(errs, errors.New("token: required (or username and password)"))
	case cfg.Username == "":
		errs = append(errs, errors.New("username: required with password"))
	case cfg.Password == "":
		errs = append(errs, errors.New("password: required with username"))
	}
	if strings.ContainsAny(cfg.KeyCustomField, "{}'\"\\\n") {
		errs = append(errs, errors.New("key_custom_field: must not contain braces, quotes, backslashes or newlines"))
	}
	prio := map[string]int{}
	for k, v := range DefaultPriorities {
		prio[k] = v
	}
	for k, v := range cfg.Priorities {
		if _, ok := DefaultPriorities[k]; !ok {
			errs = append(errs, fmt.Errorf("priorities: unknown priority %q (want low, medium, high or critical)", k))
			continue
		}
		prio[k] = v
	}
	tr, err := httpx.Transport(cfg.CAFile)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err // the caller prefixes its config path (ticketing.rt)
	}
	queue := cfg.Queue
	if queue == "" {
		queue = DefaultQueue
	}
	secrets := []string{cfg.Token, cfg.Password}
	if cfg.Password != "" {
		secrets = append(secrets, cfg.Username+":"+cfg.Password)
	}
	c := &Client{
		base:  base,
		api:   base + "/REST/2.0",
		token: cfg.Token,
		user:  cfg.Username,
		pass:  cfg.Password,
		queue: queue,
		keyCF: cfg.KeyCustomField,
		prio:  prio,
		log:   log.With(zap.String("integration", "rt")),
	}
	c.h = httpx.New(httpx.Options{
		Name:      "rt",
		Timeout:   cfg.Timeout,
		Logger:    log,
		Secrets:   secrets,
		Transport: tr,
	})
	return c, nil
}

// TicketURL is the web page of ticket id.
func (c *Client) TicketURL(id string) string {
	return c.base + "/Ticket/Display.html?id=" + url.QueryEscape(id)
}

// Check proves reachability and credentials (GET /REST/2.0/rt answers only
// an authenticated user) and that the configured queue is visible.
func (c *Client) Check(ctx context.Context) error {
	var info struct{ Version string }
	if _, _, err := c.call(ctx, http.MethodGet, "/rt", nil, &info); err != nil {
		return httpx.Temporal(fmt.Errorf("rt: check: %w", err))
	}
	if info.Version == "" {
		return httpx.Temporal(c.h.NewBadResponse("check: no RT version in the answer of /REST/2.0/rt"))
	}
	var q struct {
		ID   json.RawMessage `json:"id"`
		Name string
	}
	if _, _, err := c.call(ctx, http.MethodGet, "/queue/"+url.PathEscape(c.queue), nil, &q); err != nil {
		var se *httpx.StatusError
		if errors.As(err, &se) && se.Status == http.StatusNotFound {
			return temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("rt: check: queue %q does not exist or is not visible to this user (404)", c.queue), "HTTP404", nil)
		}
		return httpx.Temporal(fmt.Errorf("rt: check queue %q: %w", c.queue, err))
	}
	if len(q.ID) == 0 {
		return httpx.Temporal(c.h.NewBadResponse("check: queue %q not visible", c.queue))
	}
	c.log.Debug("rt check ok", zap.String("rt_version", info.Version), zap.String("queue", c.queue))
	return nil
}

// call sends a JSON request to the REST2 path and returns the status and
// raw body of a 1xx-3xx answer; when out is not nil the body is decoded into
// it, and a body that does not decode is a BadResponse carrying RT's text.
func (c *Client) call(ctx context.Context, method, path string, in, out any) (int, []byte, error) {
	req, err := httpx.JSONRequest(ctx, method, c.api+path, in)
	if err != nil {
		return 0, nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "token "+c.token)
	} else {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.h.Do(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp.StatusCode, nil, c.h.NewBadResponse("%s %s: read body: %v", method, path, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, raw, c.h.NewBadResponse("%s %s: status %d: %s", method, path, resp.StatusCode, describe(raw))
		}
	}
	return resp.StatusCode, raw, nil
}

// badInput is a non-retryable error for a request Riposte itself got wrong.
func badInput(op, msg string) error {
	return temporal.NewNonRetryableApplicationError("rt: "+op+": "+msg, "InvalidArgument", nil)
}
