// Package contracttest holds the assertions shared by vendor contract tests:
// integrations that cannot run here are tested against an httptest server
// that follows the vendor's documented API. The helpers check what every
// integration must guarantee: errors classified for Temporal the way
// integrations/httpx.Temporal classifies them, no secret in any log line or
// error text, and how many requests reached each path.
package contracttest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// Logger returns a debug-level zap logger whose entries are recorded in the
// returned observer, for NoSecrets and for asserting log lines.
func Logger(t testing.TB) (*zap.Logger, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	return zap.New(core), logs
}

// encodings returns s and the encoded forms a secret can leak in: URL query
// and path escaping and the four base64 alphabets. For Basic auth pass the
// "user:password" pair as a secret too: its base64 form does not contain the
// password's own base64 form.
func encodings(s string) []string {
	out := []string{s, url.QueryEscape(s), url.PathEscape(s)}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		out = append(out, enc.EncodeToString([]byte(s)))
	}
	return out
}

// NoSecrets fails t if any secret, or one of its URL-encoded or base64
// forms, appears in a recorded log entry (message, logger name or any field)
// or in err's text (nil err is allowed). Empty secrets are ignored.
func NoSecrets(t testing.TB, logs *observer.ObservedLogs, err error, secrets ...string) {
	t.Helper()
	var texts []string
	if logs != nil {
		for i, e := range logs.All() {
			texts = append(texts, fmt.Sprintf("log entry %d message: %s", i, e.Message))
			texts = append(texts, fmt.Sprintf("log entry %d logger: %s", i, e.LoggerName))
			for k, v := range e.ContextMap() {
				texts = append(texts, fmt.Sprintf("log entry %d field %s=%v", i, k, v))
			}
		}
	}
	if err != nil {
		texts = append(texts, "error: "+err.Error())
		for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
			texts = append(texts, "wrapped error: "+u.Error())
		}
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, form := range encodings(s) {
			for _, txt := range texts {
				if strings.Contains(txt, form) {
					t.Errorf("secret (or an encoded form of it) leaked in %s", redactFor(txt, form))
				}
			}
		}
	}
}

// redactFor shows where a leak happened without printing the secret itself
// into the test output.
func redactFor(txt, form string) string {
	return strings.ReplaceAll(txt, form, "<SECRET>")
}

// AppError fails t unless err is (or wraps) a Temporal application error,
// and returns it for further checks (nil after a failure).
func AppError(t testing.TB, err error) *temporal.ApplicationError {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want a Temporal application error")
		return nil
	}
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) {
		t.Fatalf("error %q (%T) is not a Temporal application error", err, err)
		return nil
	}
	return ae
}

// AssertRetryable fails t unless err is a retryable Temporal application
// error whose NextRetryDelay equals wantDelay (0 means "no delay set").
func AssertRetryable(t testing.TB, err error, wantDelay time.Duration) {
	t.Helper()
	ae := AppError(t, err)
	if ae == nil {
		return
	}
	if ae.NonRetryable() {
		t.Errorf("error %q (type %s) is non-retryable, want retryable", ae.Error(), ae.Type())
	}
	if got := ae.NextRetryDelay(); got != wantDelay {
		t.Errorf("NextRetryDelay = %s, want %s (error %q)", got, wantDelay, ae.Error())
	}
}

// AssertNonRetryable fails t unless err is a non-retryable Temporal
// application error whose message contains wantSubstring.
func AssertNonRetryable(t testing.TB, err error, wantSubstring string) {
	t.Helper()
	ae := AppError(t, err)
	if ae == nil {
		return
	}
	if !ae.NonRetryable() {
		t.Errorf("error %q (type %s) is retryable, want non-retryable", ae.Error(), ae.Type())
	}
	if !strings.Contains(ae.Error(), wantSubstring) {
		t.Errorf("error %q does not contain %q", ae.Error(), wantSubstring)
	}
}

// AssertBadResponse fails t unless err is the non-retryable "BadResponse"
// application error httpx.Temporal makes of an unusable 2xx answer.
func AssertBadResponse(t testing.TB, err error) {
	t.Helper()
	ae := AppError(t, err)
	if ae == nil {
		return
	}
	if ae.Type() != "BadResponse" {
		t.Errorf("error type = %q, want BadResponse (error %q)", ae.Type(), ae.Error())
	}
	if !ae.NonRetryable() {
		t.Errorf("BadResponse error %q is retryable, want non-retryable", ae.Error())
	}
}

// AssertType fails t unless err is a Temporal application error of type
// want (e.g. "HTTP429", "BadResponse", "InvalidInput").
func AssertType(t testing.TB, err error, want string) {
	t.Helper()
	ae := AppError(t, err)
	if ae == nil {
		return
	}
	if ae.Type() != want {
		t.Errorf("error type = %q, want %q (error %q)", ae.Type(), want, ae.Error())
	}
}

// Request is one request a Server received, its body already read.
type Request struct {
	Method   string
	Path     string // r.URL.Path (decoded)
	RawQuery string
	Query    url.Values
	Header   http.Header
	Body     []byte
}

// Server is an httptest server that records every request and counts them
// per path. The handler sees the request with its body intact.
type Server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []Request
}

// NewServer starts a recording server around h; it is closed when the test
// ends.
func NewServer(t testing.TB, h http.HandlerFunc) *Server {
	t.Helper()
	s := &Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mu.Lock()
		s.reqs = append(s.reqs, Request{
			Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Query: r.URL.Query(),
			Header: r.Header.Clone(), Body: body,
		})
		s.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// Requests returns a copy of every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Count returns how many requests reached path (any method).
func (s *Server) Count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.reqs {
		if r.Path == path {
			n++
		}
	}
	return n
}

// CountMethod returns how many requests with method reached path.
func (s *Server) CountMethod(method, path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.reqs {
		if r.Path == path && r.Method == method {
			n++
		}
	}
	return n
}

// Total returns how many requests were received.
func (s *Server) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// WriteJSON writes body with status and a JSON content type.
func WriteJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}
