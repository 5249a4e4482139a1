package rt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/riposte-soar/riposte/integrations/httpx"
)

const (
	// maxSubject is RT's Subject column: longer subjects are cut silently.
	maxSubject = 200
	// maxKey keeps the tag well inside the subject, leaving room for a title.
	maxKey = 120
	// searchPageSize and searchMaxPages bound the candidates Create reads; a
	// key made of wildcards could match many tickets loosely.
	searchPageSize = 100
	searchMaxPages = 20
)

// Tag is the subject tag that marks the ticket created for key.
func Tag(key string) string { return "[riposte:" + key + "]" }

// Create returns the ticket tagged with t.Key, creating it when none exists.
func (c *Client) Create(ctx context.Context, t NewTicket) (Ticket, error) {
	if err := validKey(t.Key); err != "" {
		return Ticket{}, badInput("create ticket", err)
	}
	prio, setPrio := 0, false
	if t.Priority != "" {
		p, ok := c.prio[t.Priority]
		if !ok {
			return Ticket{}, badInput("create ticket", fmt.Sprintf("priority %q: want low, medium, high or critical", t.Priority))
		}
		prio, setPrio = p, true
	}
	queue := t.Queue
	if queue == "" {
		queue = c.queue
	}
	log := c.log.With(zap.String("key", t.Key), zap.String("incident_id", t.IncidentID))

	id, later, err := c.find(ctx, t.Key)
	if err != nil {
		return Ticket{}, err
	}
	if id != "" {
		if err := c.retire(ctx, log, t.Key, id, later); err != nil {
			return Ticket{}, err
		}
		log.Debug("rt ticket exists", zap.String("ticket_id", id))
		return Ticket{ID: id, Number: id, URL: c.TicketURL(id)}, nil
	}

	req := map[string]any{
		"Queue":   queue,
		"Subject": subject(t.Key, t.Title, t.IncidentID),
	}
	if body := content(t); body != "" {
		req["Content"] = body
		req["ContentType"] = "text/plain"
	}
	if setPrio {
		req["Priority"] = prio
	}
	if c.keyCF != "" {
		req["CustomFields"] = map[string]any{c.keyCF: t.Key}
	}
	var created struct {
		ID flexID `json:"id"`
	}
	_, raw, err := c.call(ctx, http.MethodPost, "/ticket", req, &created)
	if err != nil {
		return Ticket{}, httpx.Temporal(fmt.Errorf("rt: create ticket: %w", err))
	}
	if created.ID == "" {
		// RT created nothing but said so in a 2xx.
		return Ticket{}, httpx.Temporal(c.h.NewBadResponse("create ticket in queue %q: %s", queue, describe(raw)))
	}
	id = string(created.ID)
	log.Info("rt ticket created", zap.String("ticket_id", id), zap.String("queue", queue))

	// RT still serves a request whose caller gave up (it waited in RT's
	// listen queue, or ran past the client's timeout), so a create sent by
	// an earlier attempt can land after this attempt searched. Search
	// again: the oldest ticket with the key is the one, later ones are
	// retired. A failed search fails the attempt; the retry's search finds
	// this ticket.
	first, later, err := c.find(ctx, t.Key)
	if err != nil {
		return Ticket{}, err
	}
	if first == "" {
		first = id // not visible to search yet; nothing older is either
	}
	if err := c.retire(ctx, log, t.Key, first, later); err != nil {
		return Ticket{}, err
	}
	return Ticket{ID: first, Number: first, URL: c.TicketURL(first), Created: first == id}, nil
}

// retire takes the key off duplicate tickets of keep and rejects them:
// their subject tag becomes "[riposte-duplicate:<key>]" (and the key
// custom field is emptied), so no search finds them again. This needs only
// ModifyTicket, which resolving needs too; deleting would need DeleteTicket,
// and RT answers a refused DELETE with a bare 500. A refusal leaves the
// duplicate, logged; a failure that may pass fails the attempt, so the
// retry retires it.
func (c *Client) retire(ctx context.Context, log *zap.Logger, key, keep string, dups []string) error {
	for _, dup := range dups {
		body := map[string]any{"Subject": "[riposte-duplicate:" + key + "] duplicate of #" + keep, "Status": "rejected"}
		if c.keyCF != "" {
			body["CustomFields"] = map[string]any{c.keyCF: ""}
		}
		if _, _, err := c.call(ctx, http.MethodPut, "/ticket/"+url.PathEscape(dup), body, nil); err != nil {
			err = httpx.TemporalOp(fmt.Sprintf("retire duplicate ticket %s of %s", dup, keep), err)
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) || !appErr.NonRetryable() {
				return err
			}
			log.Warn("rt duplicate ticket left open", zap.String("ticket_id", dup), zap.String("kept", keep), zap.Error(err))
			continue
		}
		log.Warn("rt duplicate ticket retired", zap.String("ticket_id", dup), zap.String("kept", keep))
	}
	return nil
}

// Comment adds a private comment (not sent to requestors) to ticket id.
func (c *Client) Comment(ctx context.Context, id, body string) error {
	if !validID(id) {
		return badInput("comment", fmt.Sprintf("ticket id %q: want a ticket number", id))
	}
	if strings.TrimSpace(body) == "" {
		return badInput("comment", "body: required")
	}
	return c.comment(ctx, id, body)
}

func (c *Client) comment(ctx context.Context, id, body string) error {
	status, raw, err := c.call(ctx, http.MethodPost, "/ticket/"+id+"/comment",
		map[string]any{"Content": body, "ContentType": "text/plain"}, nil)
	if err != nil {
		return httpx.Temporal(fmt.Errorf("rt: comment on ticket %s: %w", id, err))
	}
	// REST2 answers 201 when the comment was recorded; anything else in 2xx
	// carries its reason in the body.
	if status != http.StatusCreated {
		return httpx.Temporal(c.h.NewBadResponse("comment on ticket %s: status %d: %s", id, status, describe(raw)))
	}
	c.log.Debug("rt comment added", zap.String("ticket_id", id))
	return nil
}

// Resolve sets ticket id to resolved, commenting first when comment is not
// empty. A ticket already resolved is left alone (no second comment on a
// retry) and is a success.
func (c *Client) Resolve(ctx context.Context, id, comment string) error {
	if !validID(id) {
		return badInput("resolve ticket", fmt.Sprintf("ticket id %q: want a ticket number", id))
	}
	st, err := c.status(ctx, id)
	if err != nil {
		return err
	}
	if st == "resolved" {
		c.log.Debug("rt ticket already resolved", zap.String("ticket_id", id))
		return nil
	}
	if strings.TrimSpace(comment) != "" {
		if err := c.comment(ctx, id, comment); err != nil {
			return err
		}
	}
	_, raw, err := c.call(ctx, http.MethodPut, "/ticket/"+id, map[string]any{"Status": "resolved"}, nil)
	if err != nil {
		return httpx.Temporal(fmt.Errorf("rt: resolve ticket %s: %w", id, err))
	}
	// PUT answers 200 with a list of messages whether or not each change
	// was made ("Ticket 3: That ticket has unresolved dependencies"), so the
	// ticket itself says whether it worked.
	if st, err = c.status(ctx, id); err != nil {
		return err
	}
	if st != "resolved" {
		return httpx.Temporal(c.h.NewBadResponse("resolve ticket %s: status is still %q: %s", id, st, describe(raw)))
	}
	c.log.Info("rt ticket resolved", zap.String("ticket_id", id))
	return nil
}

func (c *Client) status(ctx context.Context, id string) (string, error) {
	var tk struct {
		Status *string
	}
	_, raw, err := c.call(ctx, http.MethodGet, "/ticket/"+id, nil, &tk)
	if err != nil {
		return "", httpx.Temporal(fmt.Errorf("rt: read ticket %s: %w", id, err))
	}
	if tk.Status == nil {
		return "", httpx.Temporal(c.h.NewBadResponse("read ticket %s: no status: %s", id, describe(raw)))
	}
	return *tk.Status, nil
}

// find returns the id of the oldest ticket holding key, or "", and the ids
// of later ones holding it too.
func (c *Client) find(ctx context.Context, key string) (first string, later []string, err error) {
	tag := Tag(key)
	query := "Subject LIKE " + quote(tag)
	if c.keyCF != "" {
		query += " OR CF.{" + c.keyCF + "} = " + quote(key)
	}
	for page := 1; page <= searchMaxPages; page++ {
		q := url.Values{
			"query":    {query},
			"fields":   {"Subject"},
			"orderby":  {"id"},
			"order":    {"ASC"},
			"per_page": {strconv.Itoa(searchPageSize)},
			"page":     {strconv.Itoa(page)},
		}
		var res struct {
			Pages *float64 `json:"pages"` // RT 5.0 sends 0.0 for an empty result
			Items []struct {
				ID      flexID `json:"id"`
				Subject string `json:"Subject"`
			} `json:"items"`
		}
		_, raw, err := c.call(ctx, http.MethodGet, "/tickets?"+q.Encode(), nil, &res)
		if err != nil {
			return "", nil, httpx.Temporal(fmt.Errorf("rt: search ticket by key: %w", err))
		}
		if res.Items == nil && res.Pages == nil {
			return "", nil, httpx.Temporal(c.h.NewBadResponse("search ticket by key: %s", describe(raw)))
		}
		for _, it := range res.Items {
			match := strings.Contains(it.Subject, tag)
			if !match && c.keyCF != "" {
				if match, err = c.hasKeyCF(ctx, string(it.ID), key); err != nil {
					return "", nil, err
				}
			}
			switch {
			case !match:
			case first == "":
				first = string(it.ID)
			default:
				later = append(later, string(it.ID))
			}
		}
		if res.Pages == nil || float64(page) >= *res.Pages {
			return first, later, nil
		}
	}
	// Never create when a match may be on a page not read.
	return "", nil, badInput("search ticket by key", fmt.Sprintf("more than %d tickets match key %q loosely", searchPageSize*searchMaxPages, key))
}

// hasKeyCF reports whether ticket id's key custom field holds key exactly.
func (c *Client) hasKeyCF(ctx context.Context, id, key string) (bool, error) {
	var tk struct {
		CustomFields []struct {
			Name   string   `json:"name"`
			Values []string `json:"values"`
		}
	}
	if _, _, err := c.call(ctx, http.MethodGet, "/ticket/"+url.PathEscape(id), nil, &tk); err != nil {
		return false, httpx.Temporal(fmt.Errorf("rt: read ticket %s: %w", id, err))
	}
	for _, cf := range tk.CustomFields {
		if cf.Name != c.keyCF {
			continue
		}
		for _, v := range cf.Values {
			if v == key {
				return true, nil
			}
		}
	}
	return false, nil
}

// quote renders s as a TicketSQL string literal. RT's parser removes one
// backslash before any character, so backslashes and quotes are escaped;
// "%" and "_" cannot be escaped portably (see the package doc) and are
// left as wildcards that also match themselves.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, `"`, `\"`).Replace(s) + "'"
}

// subject is the tag followed by the title, on one line, cut to RT's limit.
func subject(key, title, incidentID string) string {
	title = strings.Join(strings.Fields(title), " ")
	if title == "" && incidentID != "" {
		title = "Riposte incident " + incidentID
	}
	s := Tag(key)
	if title != "" {
		s += " " + title
	}
	if len(s) > maxSubject {
		s = s[:maxSubject]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}

func content(t NewTicket) string {
	body := strings.TrimRight(t.Body, "\n")
	if t.IncidentID != "" {
		if body != "" {
			body += "\n\n-- \n"
		}
		body += "Riposte incident " + t.IncidentID + " (key " + t.Key + ")"
	}
	return body
}

// validKey returns why key cannot be a tag, or "".
func validKey(key string) string {
	switch {
	case key == "":
		return "key: required"
	case len(key) > maxKey:
		return fmt.Sprintf("key: longer than %d bytes", maxKey)
	case !utf8.ValidString(key):
		return "key: not valid UTF-8"
	case strings.Contains(key, "]"):
		return `key: must not contain "]"`
	}
	for _, r := range key {
		if unicode.IsControl(r) {
			return "key: must not contain control characters"
		}
	}
	return ""
}

func validID(id string) bool {
	if id == "" || len(id) > 18 {
		return false
	}
	for _, r := range id {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// flexID decodes an id RT sends as a string in some answers and as a
// number in others.
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*f = flexID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flexID(n.String())
	return nil
}
