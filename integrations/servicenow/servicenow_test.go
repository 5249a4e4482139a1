package servicenow

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest/observer"

	"github.com/riposte-soar/riposte/internal/contracttest"
)

const (
	user   = "riposte.integration"
	pass   = "Pa55/w0rd+sn=ow"
	bearer = "oauth-Acc3ss-t0ken.xyz"
)

// fakeSN follows the documented Table API for the calls Riposte makes.
type fakeSN struct {
	mu       sync.Mutex
	table    string
	records  []map[string]string
	patches  []map[string]string
	refuse   bool // a business rule silently keeps the state
	override func(w http.ResponseWriter, r *http.Request) bool
}

// conditions splits an encoded query on "^", reading "^^" as a literal caret.
func conditions(q string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(q); i++ {
		if q[i] == '^' {
			if i+1 < len(q) && q[i+1] == '^' {
				cur.WriteByte('^')
				i++
				continue
			}
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(q[i])
	}
	return append(out, cur.String())
}

func result(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(map[string]any{"result": v})
	contracttest.WriteJSON(w, status, string(b))
}

func snError(w http.ResponseWriter, status int, msg, detail string) {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"message": msg, "detail": detail}, "status": "failure"})
	contracttest.WriteJSON(w, status, string(b))
}

func pick(rec map[string]string, fields string) map[string]string {
	out := map[string]string{}
	for _, f := range strings.Split(fields, ",") {
		out[f] = rec[f]
	}
	return out
}

func (f *fakeSN) handler(t *testing.T, wantAuth string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if f.override != nil && f.override(w, r) {
			return
		}
		if r.Header.Get("Authorization") != wantAuth {
			snError(w, 401, "User Not Authenticated", "Required to provide Auth information")
			return
		}
		if r.Header.Get("Accept") != "application/json" {
			t.Errorf("Accept = %q", r.Header.Get("Accept"))
		}
		if (r.Method == http.MethodPost || r.Method == http.MethodPatch) && r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("Content-Type = %q", r.Header.Get("Content-Type"))
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		prefix := "/api/now/table/" + f.table
		if !strings.HasPrefix(r.URL.Path, prefix) {
			snError(w, 400, "Invalid table "+strings.TrimPrefix(r.URL.Path, "/api/now/table/"), "")
			return
		}
		id := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, prefix), "/")
		q := r.URL.Query()
		fields := q.Get("sysparm_fields")
		switch {
		case id == "" && r.Method == http.MethodGet:
			var out []map[string]string
			for _, rec := range f.records {
				match := true
				for _, c := range conditions(q.Get("sysparm_query")) {
					if c == "" {
						continue
					}
					k, v, ok := strings.Cut(c, "=")
					if !ok || rec[k] != v {
						match = false
					}
				}
				if match {
					out = append(out, pick(rec, fields))
				}
			}
			if lim := q.Get("sysparm_limit"); lim == "1" && len(out) > 1 {
				out = out[:1]
			}
			if out == nil {
				out = []map[string]string{}
			}
			result(w, 200, out)
		case id == "" && r.Method == http.MethodPost:
			var in map[string]string
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
				snError(w, 400, "Exception while reading request", "The payload is not valid JSON.")
				return
			}
			n := len(f.records) + 1
			in["sys_id"] = fmt.Sprintf("%032x", n)
			in["number"] = fmt.Sprintf("INC%07d", 10000+n)
			in["state"], in["active"] = "1", "true"
			f.records = append(f.records, in)
			result(w, 201, pick(in, fields))
		case id != "":
			var rec map[string]string
			for _, r := range f.records {
				if r["sys_id"] == id {
					rec = r
				}
			}
			if rec == nil {
				snError(w, 404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")
				return
			}
			if r.Method == http.MethodPatch {
				var in map[string]string
				_ = json.NewDecoder(r.Body).Decode(&in)
				f.patches = append(f.patches, in)
				for k, v := range in {
					if k == "state" && f.refuse {
						continue
					}
					rec[k] = v
				}
				if s := in["state"]; (s == "6" || s == "7") && !f.refuse {
					rec["active"] = map[bool]string{true: "false", false: "true"}[s == "7"]
				}
			}
			result(w, 200, pick(rec, fields))
		default:
			snError(w, 405, "Method not supported", "")
		}
	}
}

func setup(t *testing.T, mod func(*Config)) (*Client, *fakeSN, *contracttest.Server, *observer.ObservedLogs) {
	t.Helper()
	cfg := Config{Username: user, Password: pass, Timeout: 20 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	table := cfg.Table
	if table == "" {
		table = TableIncident
	}
	f := &fakeSN{table: table}
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	if cfg.Token != "" {
		auth = "Bearer " + bearer
	}
	srv := contracttest.NewServer(t, f.handler(t, auth))
	cfg.URL = srv.URL + "/"
	log, logs := contracttest.Logger(t)
	c, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { contracttest.NoSecrets(t, logs, nil, pass, user+":"+pass, bearer) })
	return c, f, srv, logs
}

var nt = NewTicket{
	Key: "inc-7f3a/open-ticket", IncidentID: "inc-7f3a", Title: "Brute force on\nvpn-gw-1",
	Body: "Source 203.0.113.7\nTarget vpn-gw-1", Priority: "high",
}

func TestCreateRequestShape(t *testing.T) {
	c, f, srv, _ := setup(t, func(c *Config) { c.AssignmentGroup = "287ebd7da9fe198100f92cc8d1d2154e" })
	got, err := c.Create(context.Background(), nt)
	if err != nil {
		t.Fatal(err)
	}
	sysID := fmt.Sprintf("%032x", 1)
	want := Ticket{ID: sysID, Number: "INC0010001", URL: srv.URL + "/nav_to.do?uri=incident.do?sys_id=" + sysID, Created: true}
	if got != want {
		t.Fatalf("ticket = %+v, want %+v", got, want)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Method != "GET" || reqs[1].Method != "POST" || reqs[0].Path != "/api/now/table/incident" || reqs[1].Path != "/api/now/table/incident" {
		t.Fatalf("requests = %+v", reqs)
	}
	if q := reqs[0].Query; q.Get("sysparm_query") != "correlation_id=inc-7f3a/open-ticket" || q.Get("sysparm_limit") != "1" {
		t.Errorf("search query = %v", q)
	}
	var body map[string]string
	if err := json.Unmarshal(reqs[1].Body, &body); err != nil {
		t.Fatal(err)
	}
	wantBody := map[string]string{
		"short_description": "Brute force on vpn-gw-1", "description": "Source 203.0.113.7\nTarget vpn-gw-1",
		"correlation_id": nt.Key, "correlation_display": "riposte", "urgency": "1", "impact": "2",
		"assignment_group": "287ebd7da9fe198100f92cc8d1d2154e",
	}
	if !reflect.DeepEqual(body, wantBody) {
		t.Errorf("create body = %v", body)
	}
	if len(f.records) != 1 {
		t.Fatal("record not stored")
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
	if again.Created || again.ID != first.ID || again.Number != "INC0010001" {
		t.Fatalf("second create = %+v", again)
	}
	if n := srv.Total() - before; n != 1 {
		t.Fatalf("second create sent %d requests, want 1", n)
	}
	if srv.CountMethod("POST", "/api/now/table/incident") != 1 {
		t.Fatal("a second record was posted")
	}
}

func TestCreateEscapesCaretAndHashesLongKeys(t *testing.T) {
	c, f, srv, _ := setup(t, nil)
	// A record whose correlation_id is the part before the caret must not
	// be taken for ours.
	f.records = append(f.records, map[string]string{"sys_id": "aaa", "number": "INC0000001", "correlation_id": "inc"})
	key := "inc^ORcorrelation_id=x/step"
	tk, err := c.Create(context.Background(), NewTicket{Key: key, Title: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if !tk.Created || f.records[1]["correlation_id"] != key {
		t.Fatalf("ticket %+v, records %v", tk, f.records)
	}
	if q := srv.Requests()[0].Query.Get("sysparm_query"); q != "correlation_id=inc^^ORcorrelation_id=x/step" {
		t.Errorf("sysparm_query = %q", q)
	}
	again, err := c.Create(context.Background(), NewTicket{Key: key, Title: "t"})
	if err != nil || again.Created || again.ID != tk.ID {
		t.Fatalf("second create = %+v, %v", again, err)
	}

	long := strings.Repeat("x", 101)
	tk, err = c.Create(context.Background(), NewTicket{Key: long, Title: "t"})
	if err != nil {
		t.Fatal(err)
	}
	stored := f.records[len(f.records)-1]["correlation_id"]
	if len(stored) > 100 || !strings.HasPrefix(stored, "riposte:sha256:") || stored != CorrelationID(long) {
		t.Fatalf("long key stored as %q", stored)
	}
	if again, _ := c.Create(context.Background(), NewTicket{Key: long, Title: "t"}); again.Created || again.ID != tk.ID {
		t.Fatalf("long key not found again: %+v", again)
	}
}

func TestTokenAuthSecurityIncidentTable(t *testing.T) {
	c, f, srv, _ := setup(t, func(c *Config) {
		c.Username, c.Password, c.Token, c.Table = "", "", bearer, TableSecurityIncident
		c.AssignmentGroup = "default-group"
	})
	tk, err := c.Create(context.Background(), NewTicket{Key: "k", Title: "t", Priority: "critical", Queue: "override-group"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tk.URL, "/nav_to.do?uri=sn_si_incident.do?sys_id=") {
		t.Errorf("url = %s", tk.URL)
	}
	rec := f.records[0]
	if rec["assignment_group"] != "override-group" || rec["urgency"] != "1" || rec["impact"] != "1" {
		t.Errorf("record = %v", rec)
	}
	if srv.Count("/api/now/table/sn_si_incident") != 2 {
		t.Fatalf("requests = %+v", srv.Requests())
	}
	if err := c.Resolve(context.Background(), tk.ID, "Contained and eradicated"); err != nil {
		t.Fatal(err)
	}
	if want := (map[string]string{"state": "3", "close_code": "Solved (Permanently)", "close_notes": "Contained and eradicated"}); !reflect.DeepEqual(f.patches[0], want) {
		t.Errorf("resolve patch = %v", f.patches[0])
	}
}

func TestComment(t *testing.T) {
	for _, field := range []string{"", "comments"} {
		t.Run("field="+field, func(t *testing.T) {
			c, f, srv, _ := setup(t, func(c *Config) { c.CommentField = field })
			tk, _ := c.Create(context.Background(), nt)
			if err := c.Comment(context.Background(), tk.ID, "Blocked 203.0.113.7"); err != nil {
				t.Fatal(err)
			}
			want := field
			if want == "" {
				want = "work_notes"
			}
			if !reflect.DeepEqual(f.patches, []map[string]string{{want: "Blocked 203.0.113.7"}}) {
				t.Errorf("patches = %v", f.patches)
			}
			if srv.CountMethod("PATCH", "/api/now/table/incident/"+tk.ID) != 1 {
				t.Errorf("requests = %+v", srv.Requests())
			}
		})
	}
}

func TestResolve(t *testing.T) {
	c, f, srv, _ := setup(t, nil)
	tk, _ := c.Create(context.Background(), nt)
	if err := c.Resolve(context.Background(), tk.ID, ""); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"state": "6", "close_code": "Solved (Permanently)", "close_notes": "Resolved by Riposte."}
	if !reflect.DeepEqual(f.patches, []map[string]string{want}) {
		t.Fatalf("patches = %v", f.patches)
	}
	before := srv.Total()
	if err := c.Resolve(context.Background(), tk.ID, "again"); err != nil {
		t.Fatal(err)
	}
	if n := srv.Total() - before; n != 1 || len(f.patches) != 1 {
		t.Fatalf("resolving a resolved record sent %d requests, %d patches", n, len(f.patches))
	}
	// Closed (7) counts as resolved too.
	f.records[0]["state"], f.records[0]["active"] = "7", "false"
	if err := c.Resolve(context.Background(), tk.ID, ""); err != nil || len(f.patches) != 1 {
		t.Fatalf("closed record: %v, %d patches", err, len(f.patches))
	}
}

func TestResolveRefusedByBusinessRule(t *testing.T) {
	c, f, _, _ := setup(t, func(c *Config) { c.CloseCode = "Solution provided" })
	tk, _ := c.Create(context.Background(), nt)
	f.refuse = true
	err := c.Resolve(context.Background(), tk.ID, "x")
	contracttest.AssertNonRetryable(t, err, `state is "1" after update, want "6"`)
	if f.patches[0]["close_code"] != "Solution provided" {
		t.Errorf("close_code = %q", f.patches[0]["close_code"])
	}
}

func TestResolveMissingRecord(t *testing.T) {
	c, _, _, _ := setup(t, nil)
	err := c.Resolve(context.Background(), "0123", "x")
	contracttest.AssertNonRetryable(t, err, "No Record found: Record doesn't exist or ACL restricts the record retrieval")
}

func TestCheck(t *testing.T) {
	c, _, srv, _ := setup(t, nil)
	if err := c.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()
	if len(r) != 1 || r[0].Path != "/api/now/table/incident" || r[0].Query.Get("sysparm_limit") != "1" {
		t.Fatalf("requests = %+v", r)
	}
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
		{"429 retry-after", 429, map[string]string{"Retry-After": "30", "X-RateLimit-Limit": "100"},
			`{"error":{"message":"Rate limit exceeded","detail":"Rate limit rule violated"},"status":"failure"}`,
			func(t *testing.T, err error) { contracttest.AssertRetryable(t, err, 30*time.Second) }, 1},
		{"503", 503, nil, `<html><body>Instance Hibernating</body></html>`,
			func(t *testing.T, err error) { contracttest.AssertRetryable(t, err, 0) }, 3},
		{"401", 401, nil, `{"error":{"message":"User Not Authenticated","detail":"Required to provide Auth information"},"status":"failure"}`,
			func(t *testing.T, err error) {
				contracttest.AssertNonRetryable(t, err, "User Not Authenticated: Required to provide Auth information")
			}, 1},
		{"403 acl", 403, nil, `{"error":{"message":"Operation Failed","detail":"ACL Exception Insert Failed due to security constraints"},"status":"failure"}`,
			func(t *testing.T, err error) {
				contracttest.AssertNonRetryable(t, err, "Operation Failed: ACL Exception Insert Failed due to security constraints")
			}, 1},
		{"malformed 200", 200, nil, `{"result":[{"sys_id":`,
			func(t *testing.T, err error) { contracttest.AssertBadResponse(t, err) }, 1},
		{"200 without result", 200, nil, `{"status":"ok"}`,
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
			if !strings.HasPrefix(err.Error(), "search record: servicenow: ") {
				t.Errorf("error %q does not name the operation", err)
			}
			if srv.Total() != tc.hits || srv.CountMethod("POST", "/api/now/table/incident") != 0 {
				t.Errorf("requests = %d (want %d), posts %d", srv.Total(), tc.hits, srv.CountMethod("POST", "/api/now/table/incident"))
			}
			contracttest.NoSecrets(t, logs, err, pass, user+":"+pass)
		})
	}
}

func TestWrongPasswordNoSecret(t *testing.T) {
	c, _, _, _ := setup(t, nil)
	log, logs := contracttest.Logger(t)
	bad := "Wr0ng/" + pass
	c2, err := New(Config{URL: c.base.String(), Username: user, Password: bad}, log)
	if err != nil {
		t.Fatal(err)
	}
	err = c2.Check(context.Background())
	contracttest.AssertNonRetryable(t, err, "User Not Authenticated")
	contracttest.NoSecrets(t, logs, err, bad, user+":"+bad)
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		cfg  Config
		want []string
	}{
		{Config{}, []string{"url: required", "username: required (or token)"}},
		{Config{URL: "instance.service-now.com", Username: "u"}, []string{"url: must be an absolute http(s) URL", "password: required with username"}},
		{Config{URL: "https://x", Password: "p"}, []string{"username: required with password"}},
		{Config{URL: "https://x", Username: "u", Password: "p", Token: "t"}, []string{"token: set either token or username/password, not both"}},
		{Config{URL: "https://x", Token: "t", Table: "problem", CommentField: "notes"}, []string{`table: must be incident or sn_si_incident, not "problem"`, `comment_field: must be work_notes or comments, not "notes"`}},
		{Config{URL: "https://x", Token: "t", CAFile: "/nonexistent/ca.pem"}, []string{"ca_file:"}},
	}
	for _, tc := range tests {
		_, err := New(tc.cfg, nil)
		if err == nil {
			t.Errorf("%+v: no error", tc.cfg)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q lacks %q", err, w)
			}
		}
	}
	c, err := New(Config{URL: "https://x.service-now.com", Token: "t"}, nil)
	if err != nil || c.cfg.Table != "incident" || c.cfg.ResolveState != "6" || c.cfg.CommentField != "work_notes" || c.cfg.CloseCode != "Solved (Permanently)" {
		t.Fatalf("defaults: %+v %v", c.cfg, err)
	}
}

func TestCreateBadInput(t *testing.T) {
	c, _, srv, _ := setup(t, nil)
	for _, in := range []NewTicket{{Title: "x"}, {Key: "k"}, {Key: "k", Title: "x", Priority: "urgent"}} {
		_, err := c.Create(context.Background(), in)
		contracttest.AssertNonRetryable(t, err, "servicenow: create record: ")
	}
	if srv.Total() != 0 {
		t.Fatalf("bad input sent %d requests", srv.Total())
	}
}
