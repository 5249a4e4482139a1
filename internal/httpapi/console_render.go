package httpapi

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/riposte-soar/riposte/internal/auth"
)

// web holds the console's templates and static assets; nothing is loaded
// from a CDN, since many SOCs run without internet access.
//
//go:embed web/templates/*.html web/static/*
var web embed.FS

// consolePages are the page templates; each is parsed with the layout.
var consolePages = []string{"login", "error", "incidents", "incident", "compliance", "playbooks", "kpi"}

var consoleTemplates = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range consolePages {
		out[name] = template.Must(template.New("layout.html").Funcs(consoleFuncs).
			ParseFS(web, "web/templates/layout.html", "web/templates/"+name+".html"))
	}
	return out
}()

var consoleFuncs = template.FuncMap{
	"utc":       fmtUTC,
	"rfc3339":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"shortHash": func(s string) string { return s[:min(len(s), 12)] },
	"join":      strings.Join,
	"title":     func(s string) string { return strings.ReplaceAll(s, "_", " ") },
}

func fmtUTC(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// countdown renders time left the way console.js does, so the first
// paint and the live updates read alike.
func countdown(d time.Duration) string {
	s := int64(d / time.Second)
	neg := d < 0
	if neg {
		s = -s
	}
	days, h, m, sec := s/86400, s%86400/3600, s%3600/60, s%60
	var out string
	switch {
	case days > 0:
		out = fmt.Sprintf("%dd %02dh %02dm %02ds", days, h, m, sec)
	case h > 0:
		out = fmt.Sprintf("%dh %02dm %02ds", h, m, sec)
	default:
		out = fmt.Sprintf("%dm %02ds", m, sec)
	}
	if neg {
		return "overdue by " + out
	}
	return out
}

// urgency is the colour class of a clock: overdue, under 4 h, under 24 h,
// later. console.js applies the same thresholds.
func urgency(d time.Duration) string {
	switch {
	case d < 0:
		return "overdue"
	case d < 4*time.Hour:
		return "under-4h"
	case d < 24*time.Hour:
		return "under-24h"
	default:
		return "later"
	}
}

// age is a coarse elapsed time for lists.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}

// pageData is what the layout renders around every page.
type pageData struct {
	Title string
	Nav   string
	User  *auth.Principal
	CSRF  string
	Error string
	Data  any
}

func newPage(ss session, nav, title string, data any) pageData {
	p := ss.p
	return pageData{Title: title, Nav: nav, User: &p, CSRF: ss.csrf, Data: data}
}

// consoleHeaders keep pages out of frames and caches, and limit scripts and
// styles to the embedded files.
func consoleHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
}

// render executes a page into a buffer first, so that a template error is
// a clean 500 and never half a page.
func (h *handler) render(w http.ResponseWriter, r *http.Request, code int, page string, data pageData) {
	var buf bytes.Buffer
	if err := consoleTemplates[page].Execute(&buf, data); err != nil {
		h.d.Logger.Error("console: render", zap.String("page", page), zap.Error(err))
		consoleHeaders(w)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	consoleHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// renderError shows a message page; ss may be nil before login.
func (h *handler) renderError(w http.ResponseWriter, r *http.Request, ss *session, code int, msg string) {
	d := pageData{Title: http.StatusText(code), Error: msg, Data: code}
	if ss != nil {
		d = newPage(*ss, "", http.StatusText(code), code)
		d.Error = msg
	}
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	h.render(w, r, code, "error", d)
}

// renderReadError shows why a read failed.
func (h *handler) renderReadError(w http.ResponseWriter, r *http.Request, ss session, err error) {
	code, msg := h.readStatus(err)
	h.renderError(w, r, &ss, code, msg)
}

func staticHandler() http.Handler {
	sub, _ := fs.Sub(web, "web/static")
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		consoleHeaders(w)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}
