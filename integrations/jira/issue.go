package jira

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"go.uber.org/zap"
)

// Label returns the idempotency label for key: "riposte-" and the first 16
// hex digits of its SHA-256.
func Label(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "riposte-" + hex.EncodeToString(sum[:8])
}

type issueRef struct {
	ID         string                     `json:"id"`
	Key        string                     `json:"key"`
	Properties map[string]riposteProperty `json:"properties"`
	Fields     struct {
		Status *status `json:"status"`
	} `json:"fields"`
}

type riposteProperty struct {
	Key        string `json:"key"`
	IncidentID string `json:"incident_id,omitempty"`
}

type status struct {
	Name           string `json:"name"`
	StatusCategory struct {
		Key string `json:"key"`
	} `json:"statusCategory"`
}

// Create returns the issue already carrying t.Key, or creates one.
func (c *Client) Create(ctx context.Context, t NewTicket) (Ticket, error) {
	if t.Key == "" {
		return Ticket{}, badInput("create issue: key: required")
	}
	if strings.TrimSpace(t.Title) == "" {
		return Ticket{}, badInput("create issue: title: required")
	}
	project := c.cfg.Project
	if t.Queue != "" {
		project = t.Queue
	}
	fields := map[string]any{
		"project":   map[string]string{"key": project},
		"issuetype": map[string]string{"name": c.cfg.IssueType},
		"summary":   summary(t.Title),
		"labels":    []string{"riposte", Label(t.Key)},
	}
	if strings.TrimSpace(t.Body) != "" {
		fields["description"] = ADF(truncate(t.Body, maxDescription))
	}
	if c.cfg.SetPriority && t.Priority != "" {
		name, err := c.priorityName(t.Priority)
		if err != nil {
			return Ticket{}, err
		}
		fields["priority"] = map[string]string{"name": name}
	}

	if found, ok, err := c.find(ctx, project, t.Key); err != nil {
		return Ticket{}, err
	} else if ok {
		c.log.Debug("issue exists", zap.String("ticket_key", t.Key), zap.String("issue", found.Key))
		return c.ticket(found.Key, false), nil
	}

	body := map[string]any{
		"fields": fields,
		"properties": []map[string]any{{
			"key":   propertyKey,
			"value": riposteProperty{Key: t.Key, IncidentID: t.IncidentID},
		}},
	}
	var created struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	if err := c.call(ctx, "create issue", http.MethodPost, "/rest/api/3/issue", nil, body, &created); err != nil {
		return Ticket{}, err
	}
	if created.Key == "" {
		return Ticket{}, c.badResponse("create issue", "no issue key in create answer")
	}
	c.log.Info("issue created", zap.String("ticket_key", t.Key), zap.String("issue", created.Key), zap.String("incident_id", t.IncidentID))
	return c.ticket(created.Key, true), nil
}

// find searches the project for the issue whose riposte property holds key.
func (c *Client) find(ctx context.Context, project, key string) (issueRef, bool, error) {
	q := url.Values{}
	q.Set("jql", fmt.Sprintf("project = %s AND labels = %s ORDER BY created ASC", jqlString(project), jqlString(Label(key))))
	q.Set("fields", "status")
	q.Set("properties", propertyKey)
	q.Set("maxResults", "20")
	var res struct {
		Issues []issueRef `json:"issues"`
	}
	if err := c.call(ctx, "search issue", http.MethodGet, "/rest/api/3/search/jql", q, nil, &res); err != nil {
		return issueRef{}, false, err
	}
	for _, is := range res.Issues {
		// The label is a hash prefix; only the property proves the key.
		if p, ok := is.Properties[propertyKey]; ok && p.Key == key && is.Key != "" {
			return is, true, nil
		}
	}
	return issueRef{}, false, nil
}

// Comment adds body as a comment to issue id.
func (c *Client) Comment(ctx context.Context, id, body string) error {
	if id == "" {
		return badInput("comment: issue id: required")
	}
	if strings.TrimSpace(body) == "" {
		return badInput("comment %s: body: required", id)
	}
	in := map[string]any{"body": ADF(truncate(body, maxDescription))}
	var out struct {
		ID string `json:"id"`
	}
	return c.call(ctx, "comment "+id, http.MethodPost, "/rest/api/3/issue/"+url.PathEscape(id)+"/comment", nil, in, &out)
}

type transition struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	To   status `json:"to"`
}

// Resolve moves issue id through the configured transition (matched by
// transition name or target status name, case-insensitively) after adding
// comment. An issue already in the "done" status category is left as it is.
// The comment goes first: if the transition then fails, the retry may add
// the comment twice, which is better than losing it.
func (c *Client) Resolve(ctx context.Context, id, comment string) error {
	if id == "" {
		return badInput("resolve: issue id: required")
	}
	op := "resolve " + id
	path := "/rest/api/3/issue/" + url.PathEscape(id)
	var is issueRef
	if err := c.call(ctx, op, http.MethodGet, path, url.Values{"fields": {"status"}}, nil, &is); err != nil {
		return err
	}
	if is.Fields.Status == nil {
		return c.badResponse(op, "no status in issue answer")
	}
	if is.Fields.Status.StatusCategory.Key == "done" {
		c.log.Debug("issue already done", zap.String("issue", id), zap.String("status", is.Fields.Status.Name))
		return nil
	}
	var ts struct {
		Transitions []transition `json:"transitions"`
	}
	if err := c.call(ctx, op, http.MethodGet, path+"/transitions", nil, nil, &ts); err != nil {
		return err
	}
	want := c.cfg.ResolveTransition
	var pick *transition
	for i, tr := range ts.Transitions {
		if strings.EqualFold(tr.Name, want) || strings.EqualFold(tr.To.Name, want) {
			pick = &ts.Transitions[i]
			break
		}
	}
	if pick == nil {
		avail := make([]string, 0, len(ts.Transitions))
		for _, tr := range ts.Transitions {
			avail = append(avail, fmt.Sprintf("%q (to %q)", tr.Name, tr.To.Name))
		}
		list := strings.Join(avail, ", ")
		if list == "" {
			list = "none"
		}
		return badInput("%s: no transition named %q from status %q; available: %s", op, want, is.Fields.Status.Name, list)
	}
	if strings.TrimSpace(comment) != "" {
		if err := c.Comment(ctx, id, comment); err != nil {
			return err
		}
	}
	in := map[string]any{"transition": map[string]string{"id": pick.ID}}
	if err := c.call(ctx, op, http.MethodPost, path+"/transitions", nil, in, nil); err != nil {
		return err
	}
	c.log.Info("issue resolved", zap.String("issue", id), zap.String("transition", pick.Name))
	return nil
}

func (c *Client) ticket(key string, created bool) Ticket {
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + "/browse/" + key
	return Ticket{ID: key, Number: key, URL: u.String(), Created: created}
}

func (c *Client) priorityName(p string) (string, error) {
	p = strings.ToLower(p)
	if n, ok := c.cfg.PriorityNames[p]; ok && n != "" {
		return n, nil
	}
	if n, ok := defaultPriorities[p]; ok {
		return n, nil
	}
	return "", badInput("create issue: priority: unknown value %q (want low, medium, high or critical)", p)
}

// jqlString quotes s as a JQL string literal.
func jqlString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// summary makes a valid Jira summary: one line, at most 255 characters.
func summary(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return truncate(s, maxSummary)
}

// truncate cuts s to at most n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// ADF renders plain text as an Atlassian Document Format document: one
// paragraph per non-empty line. Empty text nodes are invalid ADF, so blank
// lines only separate paragraphs.
func ADF(text string) map[string]any {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	content := []any{}
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		content = append(content, map[string]any{
			"type":    "paragraph",
			"content": []any{map[string]any{"type": "text", "text": line}},
		})
	}
	if len(content) == 0 {
		content = append(content, map[string]any{"type": "paragraph", "content": []any{}})
	}
	return map[string]any{"type": "doc", "version": 1, "content": content}
}
