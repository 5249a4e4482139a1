package httpapi

// The web console: server-rendered pages (html/template, embedded assets)
// for responders and compliance officers. A user logs in with an API token,
// which is exchanged for a session cookie; the token itself is never stored
// in the browser. Every POST form carries a CSRF token bound to the session,
// and the same role checks as the JSON API decide what the server accepts.

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/riposte-soar/riposte/internal/auth"
)

// ConsoleConfig configures the console's sessions.
type ConsoleConfig struct {
	// PublicURL is the console's external URL. When it is https, cookies
	// are marked Secure even if TLS ends at a proxy in front of Riposte.
	PublicURL string
	// SessionTTL is how long a login lasts; zero is DefaultSessionTTL.
	SessionTTL time.Duration
}

// DefaultSessionTTL is how long a console login lasts by default.
const DefaultSessionTTL = 8 * time.Hour

const (
	sessionCookie = "riposte_session"
	// loginCookie carries the login form's CSRF token before a session
	// exists (double submit).
	loginCookie = "riposte_login"
	csrfField   = "csrf"
	// maxSessions bounds the store; the oldest session goes first.
	maxSessions  = 10000
	maxFormBytes = 64 << 10
)

// session is one logged-in browser.
type session struct {
	id      string
	p       auth.Principal
	csrf    string
	created time.Time
	expires time.Time
}

// sessionStore keeps sessions in memory: a restart logs everyone out, and
// several `riposte serve` replicas need sticky sessions.
type sessionStore struct {
	mu  sync.Mutex
	m   map[string]session
	ttl time.Duration
	now func() time.Time
}

func newSessionStore(ttl time.Duration, now func() time.Time) *sessionStore {
	if ttl <= 0 {
		ttl = DefaultSessionTTL
	}
	if now == nil {
		now = time.Now
	}
	return &sessionStore{m: map[string]session{}, ttl: ttl, now: now}
}

// randomToken is 256 bits from crypto/rand, URL-safe.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("console: random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (s *sessionStore) create(p auth.Principal) (session, error) {
	id, err := randomToken()
	if err != nil {
		return session{}, err
	}
	csrf, err := randomToken()
	if err != nil {
		return session{}, err
	}
	now := s.now()
	ss := session{id: id, p: p, csrf: csrf, created: now, expires: now.Add(s.ttl)}
	s.mu.Lock()
	defer s.mu.Unlock()
	var oldest string
	for k, v := range s.m {
		if !now.Before(v.expires) {
			delete(s.m, k)
		} else if oldest == "" || v.created.Before(s.m[oldest].created) {
			oldest = k
		}
	}
	if len(s.m) >= maxSessions {
		delete(s.m, oldest)
	}
	s.m[id] = ss
	return ss, nil
}

func (s *sessionStore) get(id string) (session, bool) {
	if id == "" {
		return session{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.m[id]
	if !ok {
		return session{}, false
	}
	if !s.now().Before(ss.expires) {
		delete(s.m, id)
		return session{}, false
	}
	return ss, true
}

func (s *sessionStore) delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

// secure tells whether cookies must be marked Secure.
func (h *handler) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(strings.ToLower(h.d.Console.PublicURL), "https://")
}

// currentSession returns the request's valid session, if any.
func (h *handler) currentSession(r *http.Request) (session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, false
	}
	return h.sessions.get(c.Value)
}

// requireRoleOrSession is requireRole that also accepts the console's
// session cookie, for read-only GETs the console links to (exports).
func (h *handler) requireRoleOrSession(w http.ResponseWriter, r *http.Request, roles ...string) (auth.Principal, bool) {
	if r.Header.Get("Authorization") == "" && r.Method == http.MethodGet {
		if ss, ok := h.currentSession(r); ok {
			if len(roles) > 0 && !ss.p.HasRole(roles...) {
				writeError(w, http.StatusForbidden, "role "+ss.p.Role+" may not do this; needs one of "+strings.Join(roles, ", "))
				return auth.Principal{}, false
			}
			return ss.p, true
		}
	}
	return h.requireRole(w, r, roles...)
}

// consoleRoles may log in to the console; ingest tokens are for machines.
var consoleRoles = []string{auth.RoleAdmin, auth.RoleResponder, auth.RoleCompliance}

func (h *handler) registerConsole(mux *http.ServeMux) {
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler()))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := h.currentSession(r); ok {
			http.Redirect(w, r, "/incidents", http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /login", h.getLogin)
	mux.HandleFunc("POST /login", h.postLogin)
	mux.HandleFunc("POST /logout", h.consolePOST(nil, h.postLogout))
	mux.HandleFunc("GET /incidents", h.consolePage(h.pageIncidents))
	mux.HandleFunc("GET /incidents/{id}", h.consolePage(h.pageIncident))
	mux.HandleFunc("GET /playbooks", h.consolePage(h.pagePlaybooks))
	if h.d.Writer != nil {
		mux.HandleFunc("POST /incidents/{id}/approvals/{step}", h.consolePOST(nil, h.postConsoleDecision))
	}
	if h.d.Deadlines != nil {
		mux.HandleFunc("GET /compliance", h.consolePage(h.pageCompliance))
		mux.HandleFunc("POST /compliance/{id}/submission", h.consolePOST(submitRoles, h.postConsoleSubmission))
	}
	h.registerKPIPage(mux)
}

// consolePage wraps a GET page: no session sends the browser to the login
// page, coming back here afterwards.
func (h *handler) consolePage(page func(w http.ResponseWriter, r *http.Request, ss session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ss, ok := h.currentSession(r)
		if !ok {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		page(w, r, ss)
	}
}

// consolePOST wraps a form POST: it needs a session, the session's CSRF
// token and, when roles is set, one of roles. Anything missing is a 403 and
// the handler never runs.
func (h *handler) consolePOST(roles []string, post func(w http.ResponseWriter, r *http.Request, ss session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ss, ok := h.currentSession(r)
		if !ok {
			h.renderError(w, r, nil, http.StatusForbidden, "Your session has ended. Log in again.")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			h.renderError(w, r, &ss, http.StatusBadRequest, "The form could not be read.")
			return
		}
		got := r.PostForm.Get(csrfField)
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(ss.csrf)) != 1 {
			h.d.Logger.Warn("console: csrf token missing or wrong", zap.String("path", r.URL.Path), zap.String("user", ss.p.Name))
			h.renderError(w, r, &ss, http.StatusForbidden, "The form's security token is missing or does not match your session. Reload the page and try again.")
			return
		}
		if len(roles) > 0 && !ss.p.HasRole(roles...) {
			h.renderError(w, r, &ss, http.StatusForbidden, fmt.Sprintf("Your role (%s) may not do this; it needs one of: %s.", ss.p.Role, strings.Join(roles, ", ")))
			return
		}
		post(w, r, ss)
	}
}

func (h *handler) getLogin(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, ok := h.currentSession(r); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	h.renderLogin(w, r, http.StatusOK, next, "")
}

func (h *handler) renderLogin(w http.ResponseWriter, r *http.Request, code int, next, msg string) {
	tok, err := randomToken()
	if err != nil {
		h.renderError(w, r, nil, http.StatusInternalServerError, "Could not start a login.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: loginCookie, Value: tok, Path: "/login", MaxAge: 600,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: h.secure(r),
	})
	h.render(w, r, code, "login", pageData{Title: "Log in", Error: msg, Data: loginView{Next: next, LoginCSRF: tok}})
}

type loginView struct {
	Next      string
	LoginCSRF string
}

func (h *handler) postLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.renderError(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	c, err := r.Cookie(loginCookie)
	got := r.PostForm.Get(csrfField)
	if err != nil || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.Value)) != 1 {
		h.renderLogin(w, r, http.StatusForbidden, next, "The login form expired. Try again.")
		return
	}
	p, ok := h.d.Tokens.Lookup(strings.TrimSpace(r.PostForm.Get("token")))
	if !ok {
		h.d.Logger.Info("console: login refused", zap.String("reason", "invalid token"))
		h.renderLogin(w, r, http.StatusUnauthorized, next, "That token is not valid.")
		return
	}
	if !p.HasRole(consoleRoles...) {
		h.renderLogin(w, r, http.StatusForbidden, next, "Tokens with the "+p.Role+" role cannot use the console.")
		return
	}
	// A fresh ID at every login: a session ID planted before login is
	// worthless.
	if old, err := r.Cookie(sessionCookie); err == nil {
		h.sessions.delete(old.Value)
	}
	ss, err := h.sessions.create(p)
	if err != nil {
		h.renderError(w, r, nil, http.StatusInternalServerError, "Could not start a session.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/login", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: h.secure(r)})
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: ss.id, Path: "/", MaxAge: int(h.sessions.ttl.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: h.secure(r),
	})
	h.d.Logger.Info("console: login", zap.String("user", p.Name), zap.String("role", p.Role))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *handler) postLogout(w http.ResponseWriter, r *http.Request, ss session) {
	h.sessions.delete(ss.id)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: h.secure(r)})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a post-login redirect on this site: a local absolute path
// only, never "//host", "/\host", a scheme or control characters.
func safeNext(next string) string {
	const home = "/incidents"
	if next == "" || len(next) > 2048 || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.HasPrefix(u.Path, "//") {
		return home
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f {
			return home
		}
	}
	if u.Path == "/login" {
		return home
	}
	return next
}
