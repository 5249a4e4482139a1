package servicenow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"go.uber.org/zap"
)

// record holds the fields Riposte reads; the Table API returns every value
// as a string by default (sysparm_display_value=false).
type record struct {
	SysID         string `json:"sys_id"`
	Number        string `json:"number"`
	CorrelationID string `json:"correlation_id"`
	State         string `json:"state"`
	Active        string `json:"active"`
}

// urgency and impact per Riposte priority; the default priority lookup
// matrix turns them into 1 Critical, 2 High, 3 Moderate and 4 Low.
var urgencyImpact = map[string][2]string{
	"critical": {"1", "1"},
	"high":     {"1", "2"},
	"medium":   {"2", "2"},
	"low":      {"2", "3"},
}

// CorrelationID returns the correlation_id stored for key: the key itself,
// or "riposte:sha256:<hex>" when the key does not fit the 100-character field.
func CorrelationID(key string) string {
	if len(key) <= maxCorrelationID {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "riposte:sha256:" + hex.EncodeToString(sum[:])
}

// queryValue escapes v for an encoded query: "^" separates conditions and
// is written "^^" inside a value.
func queryValue(v string) string { return strings.ReplaceAll(v, "^", "^^") }

// Create returns the record already carrying t.Key, or creates one.
func (c *Client) Create(ctx context.Context, t NewTicket) (Ticket, error) {
	if t.Key == "" {
		return Ticket{}, badInput("create record: key: required")
	}
	if strings.TrimSpace(t.Title) == "" {
		return Ticket{}, badInput("create record: title: required")
	}
	in := map[string]string{
		"short_description":   truncate(strings.Join(strings.Fields(t.Title), " "), maxShortDesc),
		"description":         t.Body,
		"correlation_id":      CorrelationID(t.Key),
		"correlation_display": "riposte",
	}
	if t.Priority != "" {
		ui, ok := urgencyImpact[strings.ToLower(t.Priority)]
		if !ok {
			return Ticket{}, badInput("create record: priority: unknown value %q (want low, medium, high or critical)", t.Priority)
		}
		in["urgency"], in["impact"] = ui[0], ui[1]
	}
	group := c.cfg.AssignmentGroup
	if t.Queue != "" {
		group = t.Queue
	}
	if group != "" {
		in["assignment_group"] = group
	}

	corr := in["correlation_id"]
	q := url.Values{
		"sysparm_query":                  {"correlation_id=" + queryValue(corr)},
		"sysparm_limit":                  {"1"},
		"sysparm_fields":                 {"sys_id,number,correlation_id"},
		"sysparm_exclude_reference_link": {"true"},
	}
	var found struct {
		Result []record `json:"result"`
	}
	if err := c.call(ctx, "search record", http.MethodGet, c.tablePath(""), q, nil, &found); err != nil {
		return Ticket{}, err
	}
	if found.Result == nil {
		return Ticket{}, c.badResponse("search record", "no result array in table answer")
	}
	for _, r := range found.Result {
		// Exact comparison guards against a query the instance read differently.
		if r.CorrelationID == corr && r.SysID != "" {
			c.log.Debug("record exists", zap.String("ticket_key", t.Key), zap.String("number", r.Number))
			return c.ticket(r, false), nil
		}
	}

	pq := url.Values{"sysparm_fields": {"sys_id,number,correlation_id"}, "sysparm_exclude_reference_link": {"true"}}
	var created struct {
		Result record `json:"result"`
	}
	if err := c.call(ctx, "create record", http.MethodPost, c.tablePath(""), pq, in, &created); err != nil {
		return Ticket{}, err
	}
	if created.Result.SysID == "" {
		return Ticket{}, c.badResponse("create record", "no sys_id in create answer")
	}
	c.log.Info("record created", zap.String("ticket_key", t.Key), zap.String("number", created.Result.Number),
		zap.String("table", c.cfg.Table), zap.String("incident_id", t.IncidentID))
	return c.ticket(created.Result, true), nil
}

// Comment adds body to the record's work notes (or additional comments,
// per Config.CommentField).
func (c *Client) Comment(ctx context.Context, id, body string) error {
	if id == "" {
		return badInput("comment: sys_id: required")
	}
	if strings.TrimSpace(body) == "" {
		return badInput("comment %s: body: required", id)
	}
	var out struct {
		Result record `json:"result"`
	}
	q := url.Values{"sysparm_fields": {"sys_id"}}
	if err := c.call(ctx, "comment "+id, http.MethodPatch, c.tablePath(id), q, map[string]string{c.cfg.CommentField: body}, &out); err != nil {
		return err
	}
	if out.Result.SysID == "" {
		return c.badResponse("comment "+id, "no sys_id in update answer")
	}
	return nil
}

// Resolve sets the resolve state with close_code and close_notes (comment,
// or a fixed note when empty) in one PATCH. A record already resolved,
// closed, cancelled or inactive is left as it is.
func (c *Client) Resolve(ctx context.Context, id, comment string) error {
	if id == "" {
		return badInput("resolve: sys_id: required")
	}
	op := "resolve " + id
	var cur struct {
		Result record `json:"result"`
	}
	q := url.Values{"sysparm_fields": {"sys_id,number,state,active"}}
	if err := c.call(ctx, op, http.MethodGet, c.tablePath(id), q, nil, &cur); err != nil {
		return err
	}
	if cur.Result.SysID == "" {
		return c.badResponse(op, "no sys_id in record answer")
	}
	if c.resolved(cur.Result) {
		c.log.Debug("record already resolved", zap.String("number", cur.Result.Number), zap.String("state", cur.Result.State))
		return nil
	}
	notes := strings.TrimSpace(comment)
	if notes == "" {
		notes = "Resolved by Riposte."
	}
	in := map[string]string{"state": c.cfg.ResolveState, "close_code": c.cfg.CloseCode, "close_notes": notes}
	var out struct {
		Result record `json:"result"`
	}
	q = url.Values{"sysparm_fields": {"sys_id,number,state"}}
	if err := c.call(ctx, op, http.MethodPatch, c.tablePath(id), q, in, &out); err != nil {
		return err
	}
	// A business rule can abort the state change yet answer 200.
	if out.Result.State != c.cfg.ResolveState {
		return badInput("%s: state is %q after update, want %q: a business rule or the state model refused the change", op, out.Result.State, c.cfg.ResolveState)
	}
	c.log.Info("record resolved", zap.String("number", out.Result.Number), zap.String("state", out.Result.State))
	return nil
}

func (c *Client) resolved(r record) bool {
	if r.Active == "false" || r.State == c.cfg.ResolveState {
		return true
	}
	if c.cfg.Table == TableIncident {
		switch r.State {
		case "6", "7", "8": // Resolved, Closed, Canceled
			return true
		}
	}
	return false
}

func (c *Client) ticket(r record, created bool) Ticket {
	base := strings.TrimRight(c.base.String(), "/")
	number := r.Number
	if number == "" {
		number = r.SysID
	}
	return Ticket{
		ID:      r.SysID,
		Number:  number,
		URL:     base + "/nav_to.do?uri=" + c.cfg.Table + ".do?sys_id=" + url.QueryEscape(r.SysID),
		Created: created,
	}
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
