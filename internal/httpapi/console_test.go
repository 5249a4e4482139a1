package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riposte-soar/riposte/alerts"
	"github.com/riposte-soar/riposte/internal/auth"
	"github.com/riposte-soar/riposte/internal/deadlines"
	"github.com/riposte-soar/riposte/internal/incidents"
	"github.com/riposte-soar/riposte/internal/kpi"
	"github.com/riposte-soar/riposte/playbooks"
	"github.com/riposte-soar/riposte/workflows"
)

const (
	xssScript = `<script>alert(1)</script>`
	xssImg    = `<img src=x onerror=alert(document.cookie)>`
)

// consoleReader serves one incident whose alert data carries HTML.
type consoleReader struct{ st workflows.IncidentState }

func (f *consoleReader) List(_ context.Context, flt incidents.Filter) ([]incidents.Summary, error) {
	s := incidents.Summary{ID: f.st.ID, Title: f.st.Title, Severity: f.st.Severity, Status: f.st.Status, Phase: f.st.Phase,
		Playbook: f.st.Playbook.Name, AlertCount: 3, LastSeen: f.st.Alerts.LastSeen, UpdatedAt: f.st.CreatedAt}
	if flt.Severity != "" && flt.Severity != s.Severity {
		return []incidents.Summary{}, nil
	}
	return []incidents.Summary{s}, nil
}

func (f *consoleReader) Get(_ context.Context, id string) (*workflows.IncidentState, error) {
	if id != f.st.ID {
		return nil, incidents.ErrNotFound
	}
	st := f.st
	return &st, nil
}

// recordingWriter counts what reaches the incident workflow.
type recordingWriter struct {
	mu    sync.Mutex
	calls []workflows.DecideRequest
}

func (w *recordingWriter) Decide(_ context.Context, id string, req workflows.DecideRequest) (*workflows.ApprovalState, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, req)
	return &workflows.ApprovalState{Step: req.Step, Status: workflows.ApprovalApproved}, nil
}

func (w *recordingWriter) Close(context.Context, string, workflows.LifecycleRequest) (*workflows.IncidentState, error) {
	panic("not used")
}

func (w *recordingWriter) Reopen(context.Context, string, workflows.LifecycleRequest) (*workflows.IncidentState, error) {
	panic("not used")
}

func (w *recordingWriter) n() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.calls)
}

// recordingDeadlines lists fixed obligations and counts submissions.
type recordingDeadlines struct {
	mu      sync.Mutex
	list    []deadlines.Obligation
	submits []workflows.SubmitRequest
}

func (d *recordingDeadlines) Start(context.Context, deadlines.StartRequest) ([]string, error) {
	panic("not used")
}

func (d *recordingDeadlines) List(_ context.Context, f deadlines.Filter, now time.Time) ([]deadlines.Obligation, error) {
	var out []deadlines.Obligation
	for _, o := range d.list {
		if (f.IncidentID == "" || o.IncidentID == f.IncidentID) && (f.Regime == "" || o.Regime == f.Regime) {
			if o.DueAt != nil && !o.Final() {
				r := int64(o.DueAt.Sub(now).Seconds())
				o.RemainingSeconds = &r
			}
			out = append(out, o)
		}
	}
	return out, nil
}

func (d *recordingDeadlines) Submit(_ context.Context, id string, req workflows.SubmitRequest) (*workflows.DeadlineState, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.submits = append(d.submits, req)
	return &workflows.DeadlineState{ID: id, Status: workflows.ObligationSubmitted}, nil
}

func (d *recordingDeadlines) Defer(context.Context, string, workflows.DeferRequest) (*workflows.DeadlineState, error) {
	panic("not used")
}

func (d *recordingDeadlines) Cancel(context.Context, string, workflows.CancelRequest) (*workflows.DeadlineState, error) {
	panic("not used")
}

func (d *recordingDeadlines) n() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.submits)
}

type consoleEnv struct {
	t      *testing.T
	h      http.Handler
	now    time.Time
	tokens map[string]string // role → token
	writer *recordingWriter
	dl     *recordingDeadlines
	store  *auth.Store
}

func newConsoleEnv(t *testing.T, cc ConsoleConfig) *consoleEnv {
	t.Helper()
	e := &consoleEnv{t: t, now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), tokens: map[string]string{}, writer: &recordingWriter{}}
	var list []auth.Token
	for _, role := range []string{auth.RoleAdmin, auth.RoleResponder, auth.RoleCompliance, auth.RoleIngest} {
		tok, hash, err := auth.NewToken()
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[role] = tok
		list = append(list, auth.Token{Name: role + "-user", Role: role, SHA256: hash})
	}
	store, err := auth.NewStore(list)
	if err != nil {
		t.Fatal(err)
	}
	e.store = store
	due := func(d time.Duration) *time.Time { x := e.now.Add(d); return &x }
	ob := func(id, regime, stage, status string, dueAt *time.Time) deadlines.Obligation {
		return deadlines.Obligation{DeadlineState: workflows.DeadlineState{ID: id, IncidentID: "inc-1", StageID: stage, Regime: regime,
			Recipient: "authority " + xssScript, Status: status, DueAt: dueAt}}
	}
	filed := ob("dl-inc-1-gdpr-art34", "gdpr", "gdpr-art34-data-subjects", workflows.ObligationSubmitted, due(-time.Hour))
	filed.Submission = &workflows.Submission{Reference: "REF-" + xssImg, SubmittedAt: e.now.Add(-2 * time.Hour), SubmittedBy: "token:compliance-user"}
	// Listed soonest first, as the service does.
	e.dl = &recordingDeadlines{list: []deadlines.Obligation{
		ob("dl-inc-1-gdpr-late", "gdpr", "gdpr-art33-phased", workflows.ObligationLate, due(-90*time.Minute)),
		ob("dl-inc-1-nis2-early-warning", "nis2", "nis2-early-warning", workflows.ObligationOpen, due(3*time.Hour)),
		ob("dl-inc-1-nis2-incident-notification", "nis2", "nis2-incident-notification", workflows.ObligationOpen, due(20*time.Hour)),
		ob("dl-inc-1-gdpr-art33-initial", "gdpr", "gdpr-art33-initial", workflows.ObligationOpen, due(71*time.Hour+59*time.Minute+30*time.Second)),
		filed,
	}}
	st := workflows.IncidentState{
		ID: "inc-1", Title: "SSH brute force " + xssScript, Severity: "high", Status: workflows.StatusOpen, Phase: playbooks.PhaseContain,
		Playbook:  workflows.PlaybookRef{Name: "ssh-brute-force", Version: "1.0.0", SHA256: strings.Repeat("ab", 32), Status: "running"},
		CreatedAt: e.now.Add(-10 * time.Minute),
		Alerts:    workflows.AlertStats{Count: 3, Firing: 3, FirstSeen: e.now.Add(-11 * time.Minute), LastSeen: e.now.Add(-time.Minute)},
		Observables: []alerts.Observable{
			{Type: alerts.ObsIP, Value: "49.88.112.73"},
			{Type: "hostname", Value: xssImg},
		},
		Recent:   []workflows.AlertSummary{{ID: "a1", Source: "wazuh", Title: xssScript, Severity: "high", Status: "firing", ObservedAt: e.now.Add(-11 * time.Minute)}},
		Timeline: []workflows.TimelineEntry{{At: e.now.Add(-10 * time.Minute), Actor: "wazuh", Kind: "opened", Message: "opened by " + xssScript + xssImg}},
		Approvals: []workflows.ApprovalState{{Step: "approve_block", Status: workflows.ApprovalPending, Prompt: "Block 49.88.112.73? (" + xssScript + ")",
			Approvers: []string{auth.RoleResponder}, Required: 1, Deadline: e.now.Add(20 * time.Minute)}},
		Actions: []workflows.ActionRecord{{Step: "enrich", Action: "enrich.ip", Args: map[string]any{"ip": xssImg}, Status: workflows.StepSucceeded, At: e.now}},
		Undos:   []workflows.UndoRecord{{Step: "block", Action: "firewall.unblock_ip", Args: map[string]any{"ip": "49.88.112.73"}}},
	}
	pb := playbooks.MustParse("library/ssh-brute-force.yaml", mustLibrary(t, "ssh-brute-force.yaml"))
	e.h = NewHandler(Deps{
		Tokens: store, Incidents: &consoleReader{st: st}, Writer: e.writer, Deadlines: e.dl,
		Playbooks: map[string]*playbooks.Playbook{pb.Name: pb}, Console: cc,
		Now: func() time.Time { return e.now },
	})
	return e
}

func mustLibrary(t *testing.T, name string) []byte {
	t.Helper()
	b, err := libraryFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// do sends a request with the given cookies and returns the response.
func (e *consoleEnv) do(method, target string, form url.Values, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	e.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	r := httptest.NewRequest(method, target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range cookies {
		if c != nil {
			r.AddCookie(c)
		}
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, r)
	return rec
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func cookieNamed(rec *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// login runs the login form for a role and returns the session cookie.
func (e *consoleEnv) login(role, next string) (*http.Cookie, *httptest.ResponseRecorder) {
	e.t.Helper()
	page := e.do("GET", "/login", nil)
	m := csrfInput.FindStringSubmatch(page.Body.String())
	lc := cookieNamed(page, loginCookie)
	if m == nil || lc == nil || m[1] != lc.Value {
		e.t.Fatalf("login page lacks its CSRF token or cookie:\n%s", page.Body.String())
	}
	rec := e.do("POST", "/login", url.Values{"token": {e.tokens[role]}, "csrf": {m[1]}, "next": {next}}, lc)
	return cookieNamed(rec, sessionCookie), rec
}

func (e *consoleEnv) mustLogin(role string) *http.Cookie {
	e.t.Helper()
	c, rec := e.login(role, "")
	if rec.Code != http.StatusSeeOther || c == nil || c.Value == "" {
		e.t.Fatalf("login as %s: %d %s", role, rec.Code, rec.Body.String())
	}
	return c
}

// csrf reads the session's CSRF token from a page.
func (e *consoleEnv) csrf(c *http.Cookie) string {
	e.t.Helper()
	rec := e.do("GET", "/incidents", nil, c)
	m := csrfInput.FindStringSubmatch(rec.Body.String())
	if rec.Code != 200 || m == nil {
		e.t.Fatalf("GET /incidents: %d, no csrf token:\n%s", rec.Code, rec.Body.String())
	}
	return m[1]
}

func TestConsoleCSRF(t *testing.T) {
	e := newConsoleEnv(t, ConsoleConfig{})
	mine := e.mustLogin(auth.RoleResponder)
	other := e.mustLogin(auth.RoleResponder)
	myToken, otherToken := e.csrf(mine), e.csrf(other)
	if myToken == otherToken {
		t.Fatal("two sessions share a CSRF token")
	}
	approve := "/incidents/inc-1/approvals/approve_block"
	for name, form := range map[string]url.Values{
		"no token":              {"decision": {"approve"}},
		"empty token":           {"decision": {"approve"}, "csrf": {""}},
		"wrong token":           {"decision": {"approve"}, "csrf": {"x" + myToken[1:]}},
		"another session's":     {"decision": {"approve"}, "csrf": {otherToken}},
		"token in query string": nil,
	} {
		t.Run(name, func(t *testing.T) {
			target := approve
			if form == nil {
				target += "?csrf=" + url.QueryEscape(myToken)
				form = url.Values{"decision": {"approve"}}
			}
			rec := e.do("POST", target, form, mine)
			if rec.Code != http.StatusForbidden {
				t.Fatalf("status %d, want 403: %s", rec.Code, rec.Body.String())
			}
			if n := e.writer.n(); n != 0 {
				t.Fatalf("%d votes reached the writer", n)
			}
		})
	}
	// Submissions and logout are guarded the same way.
	comp := e.mustLogin(auth.RoleCompliance)
	if rec := e.do("POST", "/compliance/dl-inc-1-nis2-early-warning/submission", url.Values{"reference": {"R-1"}, "csrf": {myToken}}, comp); rec.Code != http.StatusForbidden {
		t.Fatalf("submission with another session's token: %d", rec.Code)
	}
	if n := e.dl.n(); n != 0 {
		t.Fatalf("%d submissions reached the service", n)
	}
	if rec := e.do("POST", "/logout", url.Values{}, mine); rec.Code != http.StatusForbidden {
		t.Fatalf("logout without token: %d", rec.Code)
	}
	if rec := e.do("GET", "/incidents", nil, mine); rec.Code != http.StatusOK {
		t.Fatalf("the refused logout ended the session: %d", rec.Code)
	}
	// With its own token the vote goes through, as the responder.
	rec := e.do("POST", approve, url.Values{"decision": {"approve"}, "comment": {"seen in auth.log"}, "csrf": {myToken}}, mine)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/incidents/inc-1" {
		t.Fatalf("vote: %d %q %s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	want := workflows.DecideRequest{Step: "approve_block", Decision: "approve", By: "token:responder-user", Roles: []string{"responder"}, Comment: "seen in auth.log"}
	if len(e.writer.calls) != 1 || !slices.Equal(e.writer.calls[0].Roles, want.Roles) || e.writer.calls[0].By != want.By ||
		e.writer.calls[0].Step != want.Step || e.writer.calls[0].Decision != want.Decision || e.writer.calls[0].Comment != want.Comment {
		t.Fatalf("writer got %+v, want %+v", e.writer.calls, want)
	}
	// A session cookie does not stand in for a token on the JSON API.
	if rec := e.do("POST", "/v1/incidents/inc-1/approvals/approve_block", nil, mine); rec.Code != http.StatusUnauthorized {
		t.Fatalf("JSON API with a session cookie: %d", rec.Code)
	}
}

func TestConsoleResponderCannotSubmitReport(t *testing.T) {
	e := newConsoleEnv(t, ConsoleConfig{})
	submit := "/compliance/dl-inc-1-nis2-early-warning/submission"
	resp := e.mustLogin(auth.RoleResponder)
	board := e.do("GET", "/compliance", nil, resp)
	if board.Code != 200 {
		t.Fatalf("board: %d", board.Code)
	}
	if strings.Contains(board.Body.String(), "/submission") || strings.Contains(board.Body.String(), `name="reference"`) {
		t.Fatal("the submission form is shown to a responder")
	}
	if strings.Contains(board.Body.String(), "export.csv") {
		t.Fatal("the export link is shown to a responder")
	}
	rec := e.do("POST", submit, url.Values{"reference": {"CSIRT-1"}, "csrf": {e.csrf(resp)}}, resp)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "Your role (responder) may not do this") {
		t.Fatalf("responder submission: %d %s", rec.Code, rec.Body.String())
	}
	if n := e.dl.n(); n != 0 {
		t.Fatalf("%d submissions reached the service", n)
	}

	comp := e.mustLogin(auth.RoleCompliance)
	board = e.do("GET", "/compliance", nil, comp)
	if !strings.Contains(board.Body.String(), `action="/compliance/dl-inc-1-nis2-early-warning/submission"`) {
		t.Fatal("no submission form for the compliance officer")
	}
	rec = e.do("POST", submit, url.Values{"reference": {"CSIRT-1"}, "submitted_at": {"2026-11-23T11:30"}, "note": {"by portal"}, "csrf": {e.csrf(comp)}}, comp)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("compliance submission: %d %s", rec.Code, rec.Body.String())
	}
	got := e.dl.submits[0]
	if got.Reference != "CSIRT-1" || got.SubmittedBy != "token:compliance-user" || !slices.Equal(got.Roles, []string{"compliance"}) ||
		!got.SubmittedAt.Equal(time.Date(2026, 11, 23, 11, 30, 0, 0, time.UTC)) || got.Note != "by portal" {
		t.Fatalf("service got %+v", got)
	}
	// An empty time is now, as in the JSON API.
	e.do("POST", submit, url.Values{"reference": {"CSIRT-2"}, "csrf": {e.csrf(comp)}}, comp)
	if at := e.dl.submits[1].SubmittedAt; !at.Equal(e.now) {
		t.Fatalf("default submitted_at %s, want %s", at, e.now)
	}
}

func TestConsoleComplianceCannotApprove(t *testing.T) {
	e := newConsoleEnv(t, ConsoleConfig{})
	comp := e.mustLogin(auth.RoleCompliance)
	page := e.do("GET", "/incidents/inc-1", nil, comp).Body.String()
	if strings.Contains(page, `value="approve"`) || strings.Contains(page, "/approvals/approve_block") {
		t.Fatal("approve button shown to a compliance officer")
	}
	if !strings.Contains(page, "Your role (compliance) cannot decide this step.") {
		t.Fatal("the page does not say why there is no button")
	}
	rec := e.do("POST", "/incidents/inc-1/approvals/approve_block", url.Values{"decision": {"approve"}, "csrf": {e.csrf(comp)}}, comp)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "it needs one of: responder") {
		t.Fatalf("compliance vote: %d %s", rec.Code, rec.Body.String())
	}
	if n := e.writer.n(); n != 0 {
		t.Fatalf("%d votes reached the writer", n)
	}
	resp := e.mustLogin(auth.RoleResponder)
	page = e.do("GET", "/incidents/inc-1", nil, resp).Body.String()
	for _, want := range []string{`action="/incidents/inc-1/approvals/approve_block"`, `value="approve"`, `value="reject"`} {
		if !strings.Contains(page, want) {
			t.Fatalf("responder's page lacks %s", want)
		}
	}
}

func TestConsoleEscapesHTML(t *testing.T) {
	e := newConsoleEnv(t, ConsoleConfig{})
	resp := e.mustLogin(auth.RoleResponder)
	comp := e.mustLogin(auth.RoleCompliance)
	type page struct {
		method, path string
		c            *http.Cookie
		form         url.Values
	}
	pages := []page{
		{"GET", "/login?next=" + url.QueryEscape("/incidents/\"><script>alert(1)</script>"), nil, nil},
		{"GET", "/incidents", resp, nil},
		{"GET", "/incidents?severity=high", resp, nil},
		{"GET", "/incidents?severity=" + url.QueryEscape(xssScript), resp, nil},
		{"GET", "/incidents/inc-1", resp, nil},
		{"GET", "/incidents/inc-1", comp, nil},
		{"GET", "/incidents/" + url.PathEscape(xssScript), resp, nil},
		{"GET", "/compliance", comp, nil},
		{"GET", "/compliance?regime=" + url.QueryEscape(xssScript), comp, nil},
		{"GET", "/compliance", resp, nil},
		{"GET", "/playbooks", resp, nil},
		{"GET", "/kpi", resp, nil},
		{"POST", "/incidents/inc-1/approvals/" + url.PathEscape(xssImg), resp, url.Values{"decision": {"approve"}, "csrf": {e.csrf(resp)}}},
		{"POST", "/compliance/x/submission", comp, url.Values{"submitted_at": {xssScript}, "csrf": {e.csrf(comp)}}},
	}
	sawEscaped := false
	for _, p := range pages {
		rec := e.do(p.method, p.path, p.form, p.c)
		body := rec.Body.String()
		if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			t.Fatalf("%s %s: content type %q (%d)", p.method, p.path, rec.Header().Get("Content-Type"), rec.Code)
		}
		for _, raw := range []string{"<script>alert", "<img"} {
			if strings.Contains(body, raw) {
				t.Fatalf("%s %s (%d): raw %q in the page", p.method, p.path, rec.Code, raw)
			}
		}
		// The only script is the embedded one.
		if n, m := strings.Count(body, "<script"), strings.Count(body, `<script src="/static/console.js" defer></script>`); n != m || n != 1 {
			t.Fatalf("%s %s: %d script tags, %d of them console.js", p.method, p.path, n, m)
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Fatalf("%s %s: CSP %q", p.method, p.path, csp)
		}
		sawEscaped = sawEscaped || strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;")
	}
	if !sawEscaped {
		t.Fatal("the hostile title was never rendered (escaped), so the test proves nothing")
	}
	inc := e.do("GET", "/incidents/inc-1", nil, resp).Body.String()
	for _, want := range []string{"SSH brute force &lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(document.cookie)&gt;"} {
		if !strings.Contains(inc, want) {
			t.Fatalf("incident page lacks the escaped %q", want)
		}
	}
}

func TestConsoleCookieFlags(t *testing.T) {
	check := func(t *testing.T, c *http.Cookie, secure bool) {
		t.Helper()
		if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure != secure || c.Path != "/" {
			t.Fatalf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/, Secure=%v", c, secure)
		}
		if c.MaxAge != int(DefaultSessionTTL.Seconds()) {
			t.Fatalf("max age %d", c.MaxAge)
		}
		if len(c.Value) < 43 {
			t.Fatalf("session id %q is shorter than 256 bits", c.Value)
		}
	}
	t.Run("plain http", func(t *testing.T) {
		e := newConsoleEnv(t, ConsoleConfig{})
		a, b := e.mustLogin(auth.RoleResponder), e.mustLogin(auth.RoleResponder)
		check(t, a, false)
		if a.Value == b.Value {
			t.Fatal("two logins got the same session id")
		}
		if strings.Contains(a.Value, e.tokens[auth.RoleResponder]) {
			t.Fatal("the cookie carries the API token")
		}
	})
	t.Run("tls", func(t *testing.T) {
		e := newConsoleEnv(t, ConsoleConfig{})
		page := e.do("GET", "https://riposte.example/login", nil)
		lc := cookieNamed(page, loginCookie)
		if lc == nil || !lc.Secure || !lc.HttpOnly || lc.SameSite != http.SameSiteStrictMode {
			t.Fatalf("login cookie %+v", lc)
		}
		rec := e.do("POST", "https://riposte.example/login", url.Values{"token": {e.tokens["admin"]}, "csrf": {lc.Value}}, lc)
		check(t, cookieNamed(rec, sessionCookie), true)
	})
	t.Run("behind an https proxy", func(t *testing.T) {
		e := newConsoleEnv(t, ConsoleConfig{PublicURL: "https://soc.example/"})
		c, _ := e.login(auth.RoleAdmin, "")
		check(t, c, true)
	})
}

func TestConsoleLoginLogout(t *testing.T) {
	e := newConsoleEnv(t, ConsoleConfig{SessionTTL: time.Hour})
	// No session: pages send the browser to the login page and back.
	for path, want := range map[string]string{"/": "/login", "/incidents?status=open": "/login?next=%2Fincidents%3Fstatus%3Dopen", "/compliance": "/login?next=%2Fcompliance"} {
		rec := e.do("GET", path, nil)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != want {
			t.Fatalf("GET %s: %d %q, want %q", path, rec.Code, rec.Header().Get("Location"), want)
		}
	}
	if rec := e.do("POST", "/incidents/inc-1/approvals/approve_block", url.Values{"decision": {"approve"}}); rec.Code != http.StatusForbidden {
		t.Fatalf("POST without a session: %d", rec.Code)
	}
	// Bad token, ingest token, no login CSRF.
	page := e.do("GET", "/login", nil)
	lc := cookieNamed(page, loginCookie)
	for name, tc := range map[string]struct {
		form url.Values
		c    *http.Cookie
		code int
	}{
		"bad token":      {url.Values{"token": {"rpt_nope"}, "csrf": {lc.Value}}, lc, http.StatusUnauthorized},
		"ingest token":   {url.Values{"token": {e.tokens[auth.RoleIngest]}, "csrf": {lc.Value}}, lc, http.StatusForbidden},
		"no login csrf":  {url.Values{"token": {e.tokens[auth.RoleAdmin]}}, lc, http.StatusForbidden},
		"no csrf cookie": {url.Values{"token": {e.tokens[auth.RoleAdmin]}, "csrf": {lc.Value}}, nil, http.StatusForbidden},
	} {
		rec := e.do("POST", "/login", tc.form, tc.c)
		if rec.Code != tc.code || cookieNamed(rec, sessionCookie) != nil {
			t.Fatalf("%s: %d (session cookie %v), want %d", name, rec.Code, cookieNamed(rec, sessionCookie), tc.code)
		}
	}

	c := e.mustLogin(auth.RoleResponder)
	if rec := e.do("GET", "/", nil, c); rec.Header().Get("Location") != "/incidents" {
		t.Fatalf("/ with a session: %q", rec.Header().Get("Location"))
	}
	tok := e.csrf(c)
	rec := e.do("POST", "/logout", url.Values{"csrf": {tok}}, c)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
		t.Fatalf("logout: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if gone := cookieNamed(rec, sessionCookie); gone == nil || gone.MaxAge >= 0 || gone.Value != "" {
		t.Fatalf("logout does not clear the cookie: %+v", gone)
	}
	// The old cookie is dead on the server, not only in the browser.
	if rec := e.do("GET", "/incidents", nil, c); rec.Code != http.StatusSeeOther {
		t.Fatalf("old cookie after logout: %d", rec.Code)
	}
	if rec := e.do("POST", "/incidents/inc-1/approvals/approve_block", url.Values{"decision": {"approve"}, "csrf": {tok}}, c); rec.Code != http.StatusForbidden {
		t.Fatalf("old cookie and token after logout: %d", rec.Code)
	}
	if n := e.writer.n(); n != 0 {
		t.Fatalf("%d votes reached the writer", n)
	}

	// Sessions expire.
	c = e.mustLogin(auth.RoleResponder)
	e.now = e.now.Add(time.Hour - time.Second)
	if rec := e.do("GET", "/incidents", nil, c); rec.Code != http.StatusOK {
		t.Fatalf("before expiry: %d", rec.Code)
	}
	e.now = e.now.Add(time.Second)
	if rec := e.do("GET", "/incidents", nil, c); rec.Code != http.StatusSeeOther {
		t.Fatalf("after expiry: %d", rec.Code)
	}
}

func TestConsoleNoOpenRedirect(t *testing.T) {
	for next, want := range map[string]string{
		"":                          "/incidents",
		"/compliance?regime=gdpr":   "/compliance?regime=gdpr",
		"/incidents/inc-1":          "/incidents/inc-1",
		"//evil.example/":           "/incidents",
		"///evil.example/":          "/incidents",
		"/\\evil.example/":          "/incidents",
		"\\\\evil.example":          "/incidents",
		"https://evil.example/":     "/incidents",
		"http:evil.example":         "/incidents",
		"javascript:alert(1)":       "/incidents",
		"evil.example":              "/incidents",
		"/%2f%2fevil.example":       "/incidents", // decodes to //evil.example
		"/\tevil":                   "/incidents",
		"/login":                    "/incidents",
		" //evil.example":           "/incidents",
		"/incidents\r\nSet-Cookie:": "/incidents",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
	e := newConsoleEnv(t, ConsoleConfig{})
	for next, want := range map[string]string{"//evil.example/x": "/incidents", "https://evil.example": "/incidents", "/compliance": "/compliance"} {
		_, rec := e.login(auth.RoleResponder, next)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != want {
			t.Fatalf("login with next=%q: %d %q, want %q", next, rec.Code, rec.Header().Get("Location"), want)
		}
	}
}

func TestConsoleExportAcceptsSession(t *testing.T) {
	e := newConsoleEnv(t, ConsoleConfig{})
	comp, resp := e.mustLogin(auth.RoleCompliance), e.mustLogin(auth.RoleResponder)
	rec := e.do("GET", "/v1/deadlines/export.csv?regime=nis2", nil, comp)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "dl-inc-1-nis2-early-warning") || strings.Contains(rec.Body.String(), "gdpr-art33-initial") {
		t.Fatalf("csv export with a compliance session: %d %s", rec.Code, rec.Body.String())
	}
	if rec := e.do("GET", "/v1/deadlines/export.json", nil, comp); rec.Code != 200 {
		t.Fatalf("json export: %d", rec.Code)
	}
	if rec := e.do("GET", "/v1/deadlines/export.csv", nil, resp); rec.Code != http.StatusForbidden {
		t.Fatalf("export with a responder session: %d", rec.Code)
	}
	if rec := e.do("GET", "/v1/deadlines/export.csv", nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("export without credentials: %d", rec.Code)
	}
	// Only the read-only exports take the cookie.
	if rec := e.do("GET", "/v1/deadlines", nil, comp); rec.Code != http.StatusUnauthorized {
		t.Fatalf("GET /v1/deadlines with a session: %d", rec.Code)
	}
}

func TestConsoleComplianceBoard(t *testing.T) {
	e := newConsoleEnv(t, ConsoleConfig{})
	comp := e.mustLogin(auth.RoleCompliance)
	body := e.do("GET", "/compliance", nil, comp).Body.String()
	open := body[strings.Index(body, `id="open"`):strings.Index(body, `id="filed"`)]
	cards := regexp.MustCompile(`<article class="card obligation urgency-([a-z0-9-]+)" id="ob-([^"]+)" data-id="[^"]+" data-due="([^"]+)">`).FindAllStringSubmatch(open, -1)
	remaining := regexp.MustCompile(`<div class="countdown remaining" aria-live="off">([^<]+)</div>`).FindAllStringSubmatch(open, -1)
	type row struct{ urgency, id, due, left string }
	var got []row
	for i, c := range cards {
		got = append(got, row{c[1], c[2], c[3], remaining[i][1]})
	}
	want := []row{
		{"overdue", "dl-inc-1-gdpr-late", "2026-11-23T10:30:00Z", "overdue by 1h 30m 00s"},
		{"under-4h", "dl-inc-1-nis2-early-warning", "2026-11-23T15:00:00Z", "3h 00m 00s"},
		{"under-24h", "dl-inc-1-nis2-incident-notification", "2026-11-24T08:00:00Z", "20h 00m 00s"},
		{"later", "dl-inc-1-gdpr-art33-initial", "2026-11-26T11:59:30Z", "2d 23h 59m 30s"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("open obligations:\n got %v\nwant %v", got, want)
	}
	filed := body[strings.Index(body, `id="filed"`):]
	if !strings.Contains(filed, `data-id="dl-inc-1-gdpr-art34"`) || strings.Contains(open, "dl-inc-1-gdpr-art34") {
		t.Fatal("the filed report is not (only) in the filed list")
	}
	// The late one asks for reasons.
	if !strings.Contains(open, "(required: this report is late)") {
		t.Fatal("no reasons prompt on the late obligation")
	}
	for _, link := range []string{`href="/v1/deadlines/export.csv"`, `href="/v1/deadlines/export.json"`} {
		if !strings.Contains(body, link) {
			t.Fatalf("no export link %s", link)
		}
	}
	body = e.do("GET", "/compliance?regime=nis2", nil, comp).Body.String()
	if strings.Contains(body, "ob-dl-inc-1-gdpr") || !strings.Contains(body, "ob-dl-inc-1-nis2-early-warning") ||
		!strings.Contains(body, `href="/v1/deadlines/export.csv?regime=nis2"`) || !strings.Contains(body, `<option value="nis2" selected>`) {
		t.Fatal("regime filter does not filter")
	}
}

func TestConsoleIncidentPage(t *testing.T) {
	e := newConsoleEnv(t, ConsoleConfig{})
	resp := e.mustLogin(auth.RoleResponder)
	body := e.do("GET", "/incidents/inc-1", nil, resp).Body.String()
	bar := regexp.MustCompile(`<li class="(done|current|todo)"[^>]*data-phase="([a-z_]+)"`).FindAllStringSubmatch(body, -1)
	var phases []string
	for _, m := range bar {
		phases = append(phases, m[2]+":"+m[1])
	}
	if want := []string{"detect:done", "contain:current", "analyse:todo", "restore:todo", "follow_up:todo"}; !slices.Equal(phases, want) {
		t.Fatalf("phase bar %v, want %v", phases, want)
	}
	for _, want := range []string{"49.88.112.73", "firewall.unblock_ip", "pending (runs on compensation or close)", `id="clocks"`, "nis2-early-warning"} {
		if !strings.Contains(body, want) {
			t.Fatalf("incident page lacks %q", want)
		}
	}
	list := e.do("GET", "/incidents?status=bogus", nil, resp)
	if list.Code != http.StatusBadRequest || !strings.Contains(list.Body.String(), "status: must be open or closed") {
		t.Fatalf("bad filter: %d", list.Code)
	}
	if rec := e.do("GET", "/incidents/nope", nil, resp); rec.Code != http.StatusNotFound {
		t.Fatalf("unknown incident: %d", rec.Code)
	}
	pb := e.do("GET", "/playbooks", nil, resp).Body.String()
	for _, want := range []string{"ssh-brute-force", "v1.0.0", `<span class="badge pb-valid">valid</span>`, "id: approve_block"} {
		if !strings.Contains(pb, want) {
			t.Fatalf("playbooks page lacks %q", want)
		}
	}
}

func TestCountdownAndUrgency(t *testing.T) {
	for _, tc := range []struct {
		d       time.Duration
		text, u string
	}{
		{-90 * time.Minute, "overdue by 1h 30m 00s", "overdue"},
		{-time.Second / 2, "overdue by 0m 00s", "overdue"},
		{59 * time.Second, "0m 59s", "under-4h"},
		{4*time.Hour - time.Second, "3h 59m 59s", "under-4h"},
		{4 * time.Hour, "4h 00m 00s", "under-24h"},
		{24 * time.Hour, "1d 00h 00m 00s", "later"},
		{72*time.Hour + 5*time.Second, "3d 00h 00m 05s", "later"},
	} {
		if got := countdown(tc.d); got != tc.text {
			t.Errorf("countdown(%v) = %q, want %q", tc.d, got, tc.text)
		}
		if got := urgency(tc.d); got != tc.u {
			t.Errorf("urgency(%v) = %q, want %q", tc.d, got, tc.u)
		}
	}
}

type fixedKPI struct {
	rep      kpi.Report
	from, to time.Time
	after    time.Duration
}

func (f *fixedKPI) Compute(_ context.Context, from, to time.Time, after time.Duration) (kpi.Report, error) {
	f.from, f.to, f.after = from, to, after
	return f.rep, nil
}

func TestConsoleKPIPage(t *testing.T) {
	e := newConsoleEnv(t, ConsoleConfig{})
	k := &fixedKPI{rep: kpi.Report{
		Incidents: 4,
		MTTD:      kpi.Stat{Count: 4, MeanSeconds: 90, P50Seconds: 60, P90Seconds: 180},
		MTTR:      kpi.Stat{Count: 2, MeanSeconds: 2 * 3600, P50Seconds: 3600, P90Seconds: 3 * 3600},
		Critical:  kpi.CriticalStat{Total: 4, Unactioned: 1, Share: 0.25, AfterMinutes: 15},
		Daily:     []kpi.Day{{Date: "2026-11-21", Incidents: 1}, {Date: "2026-11-22", Incidents: 3}},
	}}
	e.h = NewHandler(Deps{Tokens: e.store, Incidents: &consoleReader{}, KPI: k, Now: func() time.Time { return e.now }})
	c := e.mustLogin(auth.RoleResponder)
	body := e.do("GET", "/kpi?from=2026-11-20&to=2026-11-22&n=30", nil, c).Body.String()
	if !k.from.Equal(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)) || !k.to.Equal(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)) || k.after != 30*time.Minute {
		t.Fatalf("computed for %s..%s after %s", k.from, k.to, k.after)
	}
	for _, want := range []string{"1m 30s", "2h 00m", "25 %", "1 of 4", `<title>2026-11-22: 3</title>`, `height="110.0"`, `height="36.7"`} {
		if !strings.Contains(body, want) {
			t.Fatalf("KPI page lacks %q:\n%s", want, body)
		}
	}
	if rec := e.do("GET", "/kpi?from=yesterday", nil, c); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "from: must be an RFC 3339 time") {
		t.Fatalf("bad from: %d", rec.Code)
	}
}
