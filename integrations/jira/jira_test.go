package jira

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest/observer"

	"github.com/riposte-soar/riposte/internal/contracttest"
)

const (
	email = "soc-bot@example.com"
	token = "ATATT3xFfGF0-s3cr3t/t0ken+value="
)

// fakeIssue is the state the fake Jira keeps per issue.
type fakeIssue struct {
	Key      string
	Project  string
	Fields   map[string]any
	Property map[string]any
	Category string // statusCategory key: new, indeterminate, done
	Status   string
	Comments []map[string]any
}

// fakeJira follows the documented Jira Cloud REST v3 endpoints Riposte uses.
type fakeJira struct {
	mu          sync.Mutex
	issues      []*fakeIssue
	transitions []map[string]any
	// override answers every request when set (status, headers, body).
	override func(w http.ResponseWriter, r *http.Request) bool
}

var labelRe = regexp.MustCompile(`^project = "([^"]+)" AND labels = "([^"]+)" ORDER BY created ASC$`)

func unauthorized(w http.ResponseWriter) {
	contracttest.WriteJSON(w, 401, `{"errorMessages":["Client must be authenticated to access this resource."],"errors":{}}`)
}

func (f *fakeJira) handler(t *testing.T) http.HandlerFunc {
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte(email+":"+token))
	return func(w http.ResponseWriter, r *http.Request) {
		if f.override != nil && f.override(w, r) {
			return
		}
		if r.Header.Get("Authorization") != wantAuth {
			unauthorized(w)
			return
		}
		if r.Header.Get("Accept") != "application/json" {
			t.Errorf("%s %s: Accept = %q", r.Method, r.URL.Path, r.Header.Get("Accept"))
		}
		if r.Method == http.MethodPost && r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: Content-Type = %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		p := r.URL.Path
		switch {
		case r.Method == http.MethodGet && p == "/rest/api/3/myself":
			contracttest.WriteJSON(w, 200, `{"accountId":"5b10ac8d82e05b22cc7d4ef5","emailAddress":"soc-bot@example.com","active":true}`)
		case r.Method == http.MethodGet && p == "/rest/api/3/project/SEC":
			contracttest.WriteJSON(w, 200, `{"id":"10000","key":"SEC","name":"Security"}`)
		case r.Method == http.MethodGet && strings.HasPrefix(p, "/rest/api/3/project/"):
			contracttest.WriteJSON(w, 404, `{"errorMessages":["No project could be found with key 'NOPE'."],"errors":{}}`)
		case r.Method == http.MethodGet && p == "/rest/api/3/search/jql":
			m := labelRe.FindStringSubmatch(r.URL.Query().Get("jql"))
			if m == nil {
				contracttest.WriteJSON(w, 400, `{"errorMessages":["Error in the JQL Query"],"errors":{}}`)
				return
			}
			var out []map[string]any
			for _, is := range f.issues {
				labels, _ := is.Fields["labels"].([]any)
				for _, l := range labels {
					if l == m[2] && is.Project == m[1] {
						item := map[string]any{"id": "1", "key": is.Key, "fields": map[string]any{"status": map[string]any{"name": is.Status}}}
						if r.URL.Query().Get("properties") == "riposte" && is.Property != nil {
							item["properties"] = map[string]any{"riposte": is.Property}
						}
						out = append(out, item)
					}
				}
			}
			b, _ := json.Marshal(map[string]any{"issues": out, "isLast": true})
			contracttest.WriteJSON(w, 200, string(b))
		case r.Method == http.MethodPost && p == "/rest/api/3/issue":
			var body struct {
				Fields     map[string]any   `json:"fields"`
				Properties []map[string]any `json:"properties"`
			}
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				contracttest.WriteJSON(w, 400, `{"errorMessages":["Unexpected character"],"errors":{}}`)
				return
			}
			proj := body.Fields["project"].(map[string]any)["key"].(string)
			is := &fakeIssue{Key: fmt.Sprintf("%s-%d", proj, len(f.issues)+1), Project: proj, Fields: body.Fields, Category: "new", Status: "To Do"}
			for _, pr := range body.Properties {
				if pr["key"] == "riposte" {
					is.Property, _ = pr["value"].(map[string]any)
				}
			}
			f.issues = append(f.issues, is)
			contracttest.WriteJSON(w, 201, fmt.Sprintf(`{"id":"%d","key":%q,"self":"https://x/rest/api/3/issue/%d"}`, 10000+len(f.issues), is.Key, 10000+len(f.issues)))
		case strings.HasPrefix(p, "/rest/api/3/issue/"):
			rest := strings.Split(strings.TrimPrefix(p, "/rest/api/3/issue/"), "/")
			is := f.issue(rest[0])
			if is == nil {
				contracttest.WriteJSON(w, 404, `{"errorMessages":["Issue does not exist or you do not have permission to see it."],"errors":{}}`)
				return
			}
			switch {
			case len(rest) == 1 && r.Method == http.MethodGet:
				b, _ := json.Marshal(map[string]any{"id": "10001", "key": is.Key, "fields": map[string]any{
					"status": map[string]any{"name": is.Status, "statusCategory": map[string]any{"id": 2, "key": is.Category}}}})
				contracttest.WriteJSON(w, 200, string(b))
			case len(rest) == 2 && rest[1] == "comment" && r.Method == http.MethodPost:
				var c map[string]any
				_ = json.NewDecoder(r.Body).Decode(&c)
				is.Comments = append(is.Comments, c)
				contracttest.WriteJSON(w, 201, `{"id":"10010","body":{}}`)
			case len(rest) == 2 && rest[1] == "transitions" && r.Method == http.MethodGet:
				b, _ := json.Marshal(map[string]any{"expand": "transitions", "transitions": f.transitions})
				contracttest.WriteJSON(w, 200, string(b))
			case len(rest) == 2 && rest[1] == "transitions" && r.Method == http.MethodPost:
				var in struct {
					Transition struct {
						ID string `json:"id"`
					} `json:"transition"`
				}
				_ = json.NewDecoder(r.Body).Decode(&in)
				for _, tr := range f.transitions {
					if tr["id"] == in.Transition.ID {
						to := tr["to"].(map[string]any)
						is.Status = to["name"].(string)
						is.Category = to["statusCategory"].(map[string]any)["key"].(string)
						w.WriteHeader(204)
						return
					}
				}
				contracttest.WriteJSON(w, 400, `{"errorMessages":["Transition id '`+in.Transition.ID+`' is not valid for this issue."],"errors":{}}`)
			default:
				http.NotFound(w, r)
			}
		default:
			http.NotFound(w, r)
		}
	}
}

func (f *fakeJira) issue(key string) *fakeIssue {
	for _, is := range f.issues {
		if is.Key == key {
			return is
		}
	}
	return nil
}

func tr(id, name, to, cat string) map[string]any {
	return map[string]any{"id": id, "name": name, "hasScreen": false,
		"to": map[string]any{"name": to, "statusCategory": map[string]any{"key": cat}}}
}

func setup(t *testing.T, mod func(*Config)) (*Client, *fakeJira, *contracttest.Server, *observer.ObservedLogs) {
	t.Helper()
	f := &fakeJira{transitions: []map[string]any{
		tr("11", "Start Progress", "In Progress", "indeterminate"),
		tr("31", "Done", "Done", "done"),
	}}
	srv := contracttest.NewServer(t, f.handler(t))
	log, logs := contracttest.Logger(t)
	cfg := Config{URL: srv.URL + "/", Email: email, APIToken: token, Project: "SEC", Timeout: 20 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { contracttest.NoSecrets(t, logs, nil, token, email+":"+token) })
	return c, f, srv, logs
}

var nt = NewTicket{
	Key: "inc-7f3a/open-ticket", IncidentID: "inc-7f3a", Title: "Brute force on\nvpn-gw-1",
	Body: "Source 203.0.113.7\r\n\nTarget vpn-gw-1\n", Priority: "critical",
}

func TestCreateRequestShape(t *testing.T) {
	c, f, srv, _ := setup(t, nil)
	got, err := c.Create(context.Background(), nt)
	if err != nil {
		t.Fatal(err)
	}
	want := Ticket{ID: "SEC-1", Number: "SEC-1", URL: srv.URL + "/browse/SEC-1", Created: true}
	if got != want {
		t.Fatalf("ticket = %+v, want %+v", got, want)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Method != "GET" || reqs[0].Path != "/rest/api/3/search/jql" || reqs[1].Method != "POST" || reqs[1].Path != "/rest/api/3/issue" {
		t.Fatalf("requests = %+v", reqs)
	}
	label := Label(nt.Key)
	if !regexp.MustCompile(`^riposte-[0-9a-f]{16}$`).MatchString(label) {
		t.Fatalf("label %q", label)
	}
	q := reqs[0].Query
	if q.Get("jql") != `project = "SEC" AND labels = "`+label+`" ORDER BY created ASC` || q.Get("properties") != "riposte" {
		t.Errorf("search query = %v", q)
	}
	var body map[string]any
	if err := json.Unmarshal(reqs[1].Body, &body); err != nil {
		t.Fatal(err)
	}
	wantBody := map[string]any{
		"fields": map[string]any{
			"project":   map[string]any{"key": "SEC"},
			"issuetype": map[string]any{"name": "Task"},
			"summary":   "Brute force on vpn-gw-1",
			"labels":    []any{"riposte", label},
			"description": map[string]any{"type": "doc", "version": float64(1), "content": []any{
				map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": "Source 203.0.113.7"}}},
				map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": "Target vpn-gw-1"}}},
			}},
		},
		"properties": []any{map[string]any{"key": "riposte", "value": map[string]any{"key": nt.Key, "incident_id": "inc-7f3a"}}},
	}
	if !reflect.DeepEqual(body, wantBody) {
		b, _ := json.MarshalIndent(body, "", " ")
		t.Errorf("create body =\n%s", b)
	}
	if len(f.issues) != 1 {
		t.Fatalf("issues = %d", len(f.issues))
	}
}

func TestCreateFindsExistingWithOneRequest(t *testing.T) {
	c, _, srv, _ := setup(t, nil)
	first, err := c.Create(context.Background(), nt)
	if err != nil {
		t.Fatal(err)
	}
	before := srv.Total()
	again, err := c.Create(context.Background(), nt)
	if err != nil {
		t.Fatal(err)
	}
	if again.Created || again.ID != first.ID || again.URL != first.URL {
		t.Fatalf("second create = %+v, first %+v", again, first)
	}
	if n := srv.Total() - before; n != 1 {
		t.Fatalf("second create sent %d requests, want 1 (search only)", n)
	}
	if n := srv.CountMethod("POST", "/rest/api/3/issue"); n != 1 {
		t.Fatalf("POST /issue count = %d, want 1", n)
	}
}

func TestCreateIgnoresLabelWithoutMatchingProperty(t *testing.T) {
	c, f, _, _ := setup(t, nil)
	// Same label, another key in the property (a hash-prefix collision or a
	// copied label): not ours.
	f.issues = append(f.issues, &fakeIssue{Key: "SEC-9", Project: "SEC", Status: "To Do", Category: "new",
		Fields: map[string]any{"labels": []any{Label(nt.Key)}}, Property: map[string]any{"key": "other/key"}})
	got, err := c.Create(context.Background(), nt)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Created || got.ID != "SEC-2" {
		t.Fatalf("ticket = %+v, want a new SEC-2", got)
	}
}

func TestCreatePriorityAndQueue(t *testing.T) {
	tests := []struct {
		name     string
		set      bool
		names    map[string]string
		priority string
		want     any // nil: no priority field
	}{
		{"off by default", false, nil, "critical", nil},
		{"critical", true, nil, "critical", map[string]any{"name": "Highest"}},
		{"low", true, nil, "low", map[string]any{"name": "Low"}},
		{"override", true, map[string]string{"high": "P2"}, "high", map[string]any{"name": "P2"}},
		{"empty keeps default", true, nil, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _, srv, _ := setup(t, func(c *Config) { c.SetPriority = tc.set; c.PriorityNames = tc.names })
			in := nt
			in.Priority = tc.priority
			in.Queue = "OPS"
			if _, err := c.Create(context.Background(), in); err != nil {
				t.Fatal(err)
			}
			reqs := srv.Requests()
			if !strings.Contains(reqs[0].Query.Get("jql"), `project = "OPS"`) {
				t.Errorf("jql %q does not use the queue override", reqs[0].Query.Get("jql"))
			}
			var body struct {
				Fields map[string]any `json:"fields"`
			}
			_ = json.Unmarshal(reqs[1].Body, &body)
			if got := body.Fields["priority"]; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("priority = %v, want %v", got, tc.want)
			}
			if got := body.Fields["project"]; !reflect.DeepEqual(got, map[string]any{"key": "OPS"}) {
				t.Errorf("project = %v", got)
			}
		})
	}
}

func TestCreateBadInput(t *testing.T) {
	c, _, srv, _ := setup(t, func(c *Config) { c.SetPriority = true })
	for _, in := range []NewTicket{{Title: "x"}, {Key: "k"}, {Key: "k", Title: "x", Priority: "urgent"}} {
		_, err := c.Create(context.Background(), in)
		contracttest.AssertNonRetryable(t, err, "jira: create issue: ")
	}
	if srv.Total() != 0 {
		t.Fatalf("bad input sent %d requests", srv.Total())
	}
}

func TestComment(t *testing.T) {
	c, f, srv, _ := setup(t, nil)
	tk, _ := c.Create(context.Background(), nt)
	if err := c.Comment(context.Background(), tk.ID, "Blocked 203.0.113.7\nfor 24h"); err != nil {
		t.Fatal(err)
	}
	if srv.CountMethod("POST", "/rest/api/3/issue/SEC-1/comment") != 1 {
		t.Fatalf("comment requests: %+v", srv.Requests())
	}
	want := map[string]any{"body": map[string]any{"type": "doc", "version": float64(1), "content": []any{
		map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": "Blocked 203.0.113.7"}}},
		map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": "for 24h"}}},
	}}}
	if !reflect.DeepEqual(f.issues[0].Comments[0], want) {
		t.Errorf("comment body = %v", f.issues[0].Comments[0])
	}
}

func TestResolve(t *testing.T) {
	c, f, srv, _ := setup(t, nil)
	tk, _ := c.Create(context.Background(), nt)
	if err := c.Resolve(context.Background(), tk.ID, "Contained"); err != nil {
		t.Fatal(err)
	}
	is := f.issues[0]
	if is.Category != "done" || is.Status != "Done" || len(is.Comments) != 1 {
		t.Fatalf("issue after resolve: %+v", is)
	}
	var last contracttest.Request
	for _, r := range srv.Requests() {
		if r.Method == "POST" && r.Path == "/rest/api/3/issue/SEC-1/transitions" {
			last = r
		}
	}
	if string(last.Body) != `{"transition":{"id":"31"}}` {
		t.Fatalf("transition body = %s", last.Body)
	}

	// Already done: one GET, nothing else.
	before := srv.Total()
	if err := c.Resolve(context.Background(), tk.ID, "again"); err != nil {
		t.Fatal(err)
	}
	if n := srv.Total() - before; n != 1 || len(is.Comments) != 1 {
		t.Fatalf("resolving a done issue sent %d requests, comments %d", n, len(is.Comments))
	}
}

func TestResolveByTargetStatusName(t *testing.T) {
	c, f, _, _ := setup(t, func(c *Config) { c.ResolveTransition = "closed" })
	f.transitions = []map[string]any{tr("21", "Close Issue", "Closed", "done")}
	tk, _ := c.Create(context.Background(), nt)
	if err := c.Resolve(context.Background(), tk.ID, ""); err != nil {
		t.Fatal(err)
	}
	if f.issues[0].Status != "Closed" || len(f.issues[0].Comments) != 0 {
		t.Fatalf("issue = %+v", f.issues[0])
	}
}

func TestResolveNoSuchTransition(t *testing.T) {
	c, f, srv, _ := setup(t, func(c *Config) { c.ResolveTransition = "Resolve Issue" })
	tk, _ := c.Create(context.Background(), nt)
	err := c.Resolve(context.Background(), tk.ID, "x")
	contracttest.AssertNonRetryable(t, err, `no transition named "Resolve Issue" from status "To Do"; available: "Start Progress" (to "In Progress"), "Done" (to "Done")`)
	if srv.CountMethod("POST", "/rest/api/3/issue/SEC-1/transitions") != 0 || len(f.issues[0].Comments) != 0 {
		t.Fatal("nothing may be posted when no transition matches")
	}
}

func TestCheck(t *testing.T) {
	c, _, srv, _ := setup(t, nil)
	if err := c.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if srv.Count("/rest/api/3/myself") != 1 || srv.Count("/rest/api/3/project/SEC") != 1 {
		t.Fatalf("requests = %+v", srv.Requests())
	}
	c2, _, _, _ := setup(t, func(c *Config) { c.Project = "NOPE" })
	contracttest.AssertNonRetryable(t, c2.Check(context.Background()), "No project could be found with key 'NOPE'.")
	c3, _, _, logs := setup(t, func(c *Config) { c.APIToken = "wrong-" + token })
	err := c3.Check(context.Background())
	contracttest.AssertNonRetryable(t, err, "Client must be authenticated to access this resource.")
	contracttest.NoSecrets(t, logs, err, "wrong-"+token, email+":wrong-"+token)
}

func TestVendorErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
		check  func(t *testing.T, err error)
		hits   int
	}{
		{"429 retry-after", 429, map[string]string{"Retry-After": "30"}, `{"errorMessages":["Rate limit exceeded."],"errors":{}}`,
			func(t *testing.T, err error) { contracttest.AssertRetryable(t, err, 30*time.Second) }, 1},
		{"503", 503, nil, `{"errorMessages":["Service unavailable"],"errors":{}}`,
			func(t *testing.T, err error) { contracttest.AssertRetryable(t, err, 0) }, 3},
		{"401", 401, nil, `{"errorMessages":["Client must be authenticated to access this resource."],"errors":{}}`,
			func(t *testing.T, err error) {
				contracttest.AssertNonRetryable(t, err, "Client must be authenticated to access this resource.")
			}, 1},
		{"400 field errors", 400, nil, `{"errorMessages":["Bad request"],"errors":{"summary":"You must specify a summary of the issue.","labels":"Field 'labels' cannot be set."}}`,
			func(t *testing.T, err error) {
				contracttest.AssertNonRetryable(t, err, "Bad request; labels: Field 'labels' cannot be set.; summary: You must specify a summary of the issue.")
			}, 1},
		{"malformed 200", 200, nil, `{"issues":[{"key":`,
			func(t *testing.T, err error) { contracttest.AssertBadResponse(t, err) }, 1},
		{"html 200", 200, map[string]string{"Content-Type": "text/html"}, `<html>login</html>`,
			func(t *testing.T, err error) { contracttest.AssertBadResponse(t, err) }, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, f, srv, logs := setup(t, nil)
			f.override = func(w http.ResponseWriter, r *http.Request) bool {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				if w.Header().Get("Content-Type") == "" {
					w.Header().Set("Content-Type", "application/json")
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
				return true
			}
			_, err := c.Create(context.Background(), nt)
			tc.check(t, err)
			if !strings.HasPrefix(err.Error(), "search issue: jira: ") {
				t.Errorf("error %q does not name the operation", err)
			}
			if srv.Total() != tc.hits {
				t.Errorf("requests = %d, want %d", srv.Total(), tc.hits)
			}
			if srv.CountMethod("POST", "/rest/api/3/issue") != 0 {
				t.Error("create was attempted after a failed search")
			}
			contracttest.NoSecrets(t, logs, err, token, email+":"+token)
		})
	}
}

func TestNewValidates(t *testing.T) {
	_, err := New(Config{URL: "ftp://x", PriorityNames: map[string]string{"urgent": "P1"}}, nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"url: must be an absolute http(s) URL", "email: required", "api_token: required", "project: required", `priority_names: unknown priority "urgent"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := New(Config{}, nil); err == nil || !strings.Contains(err.Error(), "url: required") {
		t.Errorf("empty config error = %v", err)
	}
	c, err := New(Config{URL: "https://acme.atlassian.net", Email: "a@b", APIToken: "t", Project: "SEC"}, nil)
	if err != nil || c.cfg.IssueType != "Task" || c.cfg.ResolveTransition != "Done" {
		t.Fatalf("defaults: %+v %v", c, err)
	}
}

func TestSummaryAndADF(t *testing.T) {
	long := strings.Repeat("é", 300)
	if s := summary(long); len([]rune(s)) != 255 || !strings.HasSuffix(s, "…") {
		t.Errorf("summary length %d", len([]rune(s)))
	}
	if got := ADF("\n \n"); !reflect.DeepEqual(got["content"], []any{map[string]any{"type": "paragraph", "content": []any{}}}) {
		t.Errorf("blank ADF = %v", got)
	}
	if jqlString(`a"b\c`) != `"a\"b\\c"` {
		t.Errorf("jqlString = %s", jqlString(`a"b\c`))
	}
}
