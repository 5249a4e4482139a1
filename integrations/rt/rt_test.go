package rt

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/riposte-soar/riposte/internal/contracttest"
)

func TestMessages(t *testing.T) {
	for _, tc := range []struct {
		body string
		want []string
	}{
		{`{"message":"No permission to create tickets in the queue 'X'"}`, []string{"No permission to create tickets in the queue 'X'"}},
		{`["Ticket 3: That ticket has unresolved dependencies"]`, []string{"Ticket 3: That ticket has unresolved dependencies"}},
		{"[\n \"Comments added\",\n \"\", 7\n]", []string{"Comments added"}},
		{`[]`, nil},
		{``, nil},
		{`{"id":"1","type":"ticket"}`, nil},
		{"Authorization required", []string{"Authorization required"}},
		{`{"message": `, nil}, // malformed JSON: nothing to quote
	} {
		got := messages([]byte(tc.body))
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("messages(%q) = %q, want %q", tc.body, got, tc.want)
		}
	}
	if got := describe([]byte(`["a","b"]`)); got != "a; b" {
		t.Errorf("describe = %q", got)
	}
	if got := describe([]byte(`{"x":1}`)); got != `unexpected body: {"x":1}` {
		t.Errorf("describe = %q", got)
	}
}

func TestQuoteAndSubject(t *testing.T) {
	if got, want := quote(`it's "q" \ 100%_`), `'it\'s \"q\" \\ 100%_'`; got != want {
		t.Errorf("quote = %s, want %s", got, want)
	}
	long := strings.Repeat("é", 150)
	s := subject("inc-1/s", long, "")
	if len(s) > maxSubject || !strings.HasPrefix(s, "[riposte:inc-1/s] é") || !strings.HasSuffix(s, "é") {
		t.Errorf("subject cut badly: %d bytes %q", len(s), s)
	}
	if got := subject("k", " two\nlines\t here ", ""); got != "[riposte:k] two lines here" {
		t.Errorf("subject = %q", got)
	}
	if got := subject("k", "", "inc-9"); got != "[riposte:k] Riposte incident inc-9" {
		t.Errorf("subject = %q", got)
	}
}

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Token: "t"}, "url: required"},
		{Config{URL: "rt.example.com", Token: "t"}, "url: must be an absolute http or https URL"},
		{Config{URL: "https://u:p@rt.example.com", Token: "t"}, "url: must not carry credentials"},
		{Config{URL: "https://rt.example.com"}, "token: required (or username and password)"},
		{Config{URL: "https://rt.example.com", Password: "p"}, "username: required with password"},
		{Config{URL: "https://rt.example.com", Username: "u"}, "password: required with username"},
		{Config{URL: "https://rt.example.com", Token: "t", KeyCustomField: "a}b"}, "key_custom_field:"},
		{Config{URL: "https://rt.example.com", Token: "t", Priorities: map[string]int{"urgent": 1}}, `priorities: unknown priority "urgent"`},
		{Config{URL: "https://rt.example.com", Token: "t", CAFile: "/nonexistent.pem"}, "ca_file:"},
	} {
		_, err := New(tc.cfg, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want error containing %q", tc.cfg, err, tc.want)
		}
	}
	c, err := New(Config{URL: "https://rt.example.com/rt/REST/2.0/", Username: "u", Password: "p"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.api != "https://rt.example.com/rt/REST/2.0" || c.queue != "General" {
		t.Errorf("api %q queue %q", c.api, c.queue)
	}
	if got := c.TicketURL("42"); got != "https://rt.example.com/rt/Ticket/Display.html?id=42" {
		t.Errorf("TicketURL = %q", got)
	}
}

// fakeRT follows REST2's shapes for the calls the client makes.
type fakeRT struct {
	status     string // ticket status GET returns
	putAnswer  string // body of PUT /ticket/N (200)
	createCode int
	createBody string
	comment    func(w http.ResponseWriter)
	search     string // body of GET /tickets
}

const secretToken = "1-14-0123456789abcdef0123456789abcdef"

func (f *fakeRT) handler(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "token "+secretToken {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"Unauthorized"}`)
			return
		}
		if r.Method != http.MethodGet && r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: Content-Type %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/REST/2.0/tickets":
			fmt.Fprint(w, f.search)
		case r.Method == http.MethodPost && r.URL.Path == "/REST/2.0/ticket":
			w.WriteHeader(f.createCode)
			fmt.Fprint(w, f.createBody)
		case r.Method == http.MethodGet && r.URL.Path == "/REST/2.0/ticket/7":
			fmt.Fprintf(w, `{"id":7,"type":"ticket","Status":%q}`, f.status)
		case r.Method == http.MethodPut && r.URL.Path == "/REST/2.0/ticket/7":
			fmt.Fprint(w, f.putAnswer)
		case r.Method == http.MethodPost && r.URL.Path == "/REST/2.0/ticket/7/comment":
			f.comment(w)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message":"Not Found"}`)
		}
	}
}

func fakeClient(t *testing.T, f *fakeRT) (*Client, *contracttest.Server, func(error)) {
	t.Helper()
	srv := contracttest.NewServer(t, f.handler(t))
	log, logs := contracttest.Logger(t)
	c, err := New(Config{URL: srv.URL, Token: secretToken, Timeout: 5 * time.Second}, log)
	if err != nil {
		t.Fatal(err)
	}
	return c, srv, func(err error) { t.Helper(); contracttest.NoSecrets(t, logs, err, secretToken) }
}

const emptySearch = `{"count":0,"items":[],"page":1,"pages":0.0,"per_page":100,"total":0}`

func TestResolveErrorInside200(t *testing.T) {
	f := &fakeRT{status: "open", putAnswer: `["Ticket 7: Status 'resolved' isn't a valid status for this ticket."]`}
	c, srv, noSecrets := fakeClient(t, f)
	err := c.Resolve(context.Background(), "7", "")
	contracttest.AssertBadResponse(t, err)
	contracttest.AssertNonRetryable(t, err, `Ticket 7: Status 'resolved' isn't a valid status for this ticket.`)
	if n := srv.Count("/REST/2.0/ticket/7"); n != 3 {
		t.Errorf("%d requests to the ticket, want GET, PUT, GET", n)
	}
	noSecrets(err)

	f.status = "resolved"
	if err := c.Resolve(context.Background(), "7", "again"); err != nil {
		t.Errorf("resolve an already resolved ticket: %v", err)
	}
	if n := srv.Count("/REST/2.0/ticket/7/comment"); n != 0 {
		t.Errorf("%d comments on an already resolved ticket, want 0", n)
	}
}

func TestCommentErrorInside2xx(t *testing.T) {
	f := &fakeRT{comment: func(w http.ResponseWriter) { fmt.Fprint(w, `["Permission Denied"]`) }}
	c, _, noSecrets := fakeClient(t, f)
	err := c.Comment(context.Background(), "7", "hello")
	contracttest.AssertBadResponse(t, err)
	contracttest.AssertNonRetryable(t, err, "comment on ticket 7: status 200: Permission Denied")
	noSecrets(err)

	f.comment = func(w http.ResponseWriter) { w.WriteHeader(http.StatusCreated); fmt.Fprint(w, `["Comments added"]`) }
	if err := c.Comment(context.Background(), "7", "hello"); err != nil {
		t.Errorf("comment: %v", err)
	}
}

func TestCreateShapesAndErrors(t *testing.T) {
	f := &fakeRT{search: emptySearch, createCode: http.StatusCreated, createBody: `{"id":"12","type":"ticket","_url":"x"}`}
	c, srv, noSecrets := fakeClient(t, f)
	ctx := context.Background()
	tk, err := c.Create(ctx, NewTicket{Key: `inc-1/it's \ 5%`, IncidentID: "inc-1", Title: "T", Body: "B", Priority: "critical", Queue: "SOC"})
	if err != nil {
		t.Fatal(err)
	}
	if tk != (Ticket{ID: "12", Number: "12", URL: srv.URL + "/Ticket/Display.html?id=12", Created: true}) {
		t.Errorf("ticket = %+v", tk)
	}
	reqs := srv.Requests()
	if len(reqs) != 3 || reqs[2].Path != "/REST/2.0/tickets" {
		t.Fatalf("%d requests, want search, create, search again", len(reqs))
	}
	if got, want := reqs[0].Query.Get("query"), `Subject LIKE '[riposte:inc-1/it\'s \\ 5%]'`; got != want {
		t.Errorf("search query = %s, want %s", got, want)
	}
	var body map[string]any
	if err := json.Unmarshal(reqs[1].Body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"Queue": "SOC", "Subject": `[riposte:inc-1/it's \ 5%] T`, "Content": "B\n\n-- \nRiposte incident inc-1 (key inc-1/it's \\ 5%)",
		"ContentType": "text/plain", "Priority": float64(100)}
	if fmt.Sprint(body) != fmt.Sprint(want) {
		t.Errorf("create body = %v, want %v", body, want)
	}

	// A 2xx without an id carries RT's reason.
	f.createCode, f.createBody = http.StatusOK, `{"message":"Could not create ticket. Queue not set"}`
	_, err = c.Create(ctx, NewTicket{Key: "inc-1/b"})
	contracttest.AssertBadResponse(t, err)
	contracttest.AssertNonRetryable(t, err, "Could not create ticket. Queue not set")
	noSecrets(err)

	// Malformed JSON in the search answer.
	f.search = `{"items": [`
	_, err = c.Create(ctx, NewTicket{Key: "inc-1/c"})
	contracttest.AssertBadResponse(t, err)

	// An exact match later in the result wins over a loose one; no create.
	f.search = `{"count":2,"page":1,"pages":1,"total":2,"items":[{"id":"3","Subject":"[riposte:INC-1/D] x"},{"id":"4","Subject":"[riposte:inc-1/d] y"}]}`
	before := srv.Count("/REST/2.0/ticket")
	tk, err = c.Create(ctx, NewTicket{Key: "inc-1/d"})
	if err != nil || tk.ID != "4" || tk.Created {
		t.Errorf("create = %+v, %v; want existing ticket 4", tk, err)
	}
	if srv.Count("/REST/2.0/ticket") != before {
		t.Error("created a ticket although one matched")
	}
}

func TestBadInput(t *testing.T) {
	c, srv, _ := fakeClient(t, &fakeRT{})
	ctx := context.Background()
	for _, tc := range []struct {
		err  error
		want string
	}{
		{func() error { _, err := c.Create(ctx, NewTicket{}); return err }(), "key: required"},
		{func() error { _, err := c.Create(ctx, NewTicket{Key: "a]b"}); return err }(), `must not contain "]"`},
		{func() error { _, err := c.Create(ctx, NewTicket{Key: "a\nb"}); return err }(), "control characters"},
		{func() error { _, err := c.Create(ctx, NewTicket{Key: strings.Repeat("k", 121)}); return err }(), "longer than 120"},
		{func() error { _, err := c.Create(ctx, NewTicket{Key: "k", Priority: "urgent"}); return err }(), `priority "urgent"`},
		{c.Comment(ctx, "7/../8", "x"), "want a ticket number"},
		{c.Comment(ctx, "7", " "), "body: required"},
		{c.Resolve(ctx, "", ""), "want a ticket number"},
	} {
		contracttest.AssertNonRetryable(t, tc.err, tc.want)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("bad input sent %d requests", n)
	}
}

func TestHTTPClassification(t *testing.T) {
	var code int
	var hdr http.Header
	srv := contracttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
		for k, v := range hdr {
			w.Header()[k] = v
		}
		w.WriteHeader(code)
		fmt.Fprint(w, `{"message":"Unauthorized"}`)
	})
	log, logs := contracttest.Logger(t)
	c, err := New(Config{URL: srv.URL, Username: "root", Password: "hunter2-secret", Timeout: 5 * time.Second}, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	code, hdr = http.StatusTooManyRequests, http.Header{"Retry-After": {"30"}}
	err = c.Check(ctx)
	contracttest.AssertRetryable(t, err, 30*time.Second)
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("429 with Retry-After 30: %d requests, want 1", n)
	}

	code, hdr = http.StatusUnauthorized, nil
	err = c.Check(ctx)
	contracttest.AssertNonRetryable(t, err, "401")
	contracttest.AssertNonRetryable(t, err, "Unauthorized")
	contracttest.NoSecrets(t, logs, err, "hunter2-secret", "root:hunter2-secret")
	sent := &http.Request{Header: srv.Requests()[1].Header}
	if u, p, ok := sent.BasicAuth(); !ok || u != "root" || p != "hunter2-secret" {
		t.Errorf("basic auth sent = %q, %t; want root and the password", u, ok)
	}

	code = http.StatusServiceUnavailable
	_, err = c.Create(ctx, NewTicket{Key: "k"})
	contracttest.AssertRetryable(t, err, 0)
}
