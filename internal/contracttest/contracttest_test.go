package contracttest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/riposte-soar/riposte/integrations/httpx"
)

// fakeT records failures instead of failing the real test, so the helpers
// can be shown to fail.
type fakeT struct {
	testing.TB
	errs  []string
	fatal bool
}

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
	f.fatal = true
}

const secret = "tok/en+s3cret"

func TestNoSecrets(t *testing.T) {
	tests := []struct {
		name string
		log  func(*zap.Logger)
		err  error
		fail bool
	}{
		{"clean", func(l *zap.Logger) { l.Info("created", zap.String("id", "SEC-1")) }, errors.New("rt: 401"), false},
		{"in message", func(l *zap.Logger) { l.Debug("token " + secret) }, nil, true},
		{"in field", func(l *zap.Logger) { l.Info("x", zap.String("auth", secret)) }, nil, true},
		{"url-encoded field", func(l *zap.Logger) { l.Info("x", zap.String("url", "/?t="+url.QueryEscape(secret))) }, nil, true},
		{"base64 field", func(l *zap.Logger) {
			l.Info("x", zap.Any("h", map[string]string{"a": base64.StdEncoding.EncodeToString([]byte(secret))}))
		}, nil, true},
		{"in error", func(*zap.Logger) {}, fmt.Errorf("jira: %w", errors.New("bad "+secret)), true},
		{"named logger", func(l *zap.Logger) { l.Named(secret).Info("x") }, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, logs := Logger(t)
			tc.log(l)
			f := &fakeT{TB: t}
			NoSecrets(f, logs, tc.err, secret, "")
			if got := len(f.errs) > 0; got != tc.fail {
				t.Fatalf("failed = %v, want %v (%v)", got, tc.fail, f.errs)
			}
			for _, e := range f.errs {
				if strings.Contains(e, secret) {
					t.Errorf("failure message prints the secret: %s", e)
				}
			}
		})
	}
}

func TestLoggerRecordsDebug(t *testing.T) {
	l, logs := Logger(t)
	l.Debug("d", zap.Int("n", 1))
	if logs.Len() != 1 || logs.All()[0].ContextMap()["n"] != int64(1) {
		t.Fatalf("debug entry not recorded: %+v", logs.All())
	}
}

// httpxError returns what httpx.Temporal makes of a server answering status
// with body and header.
func httpxError(t *testing.T, status int, hdr map[string]string, body string) error {
	t.Helper()
	s := NewServer(t, func(w http.ResponseWriter, r *http.Request) {
		for k, v := range hdr {
			w.Header().Set(k, v)
		}
		WriteJSON(w, status, body)
	})
	c := httpx.New(httpx.Options{Name: "vendor", RetryMax: -1})
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/x", nil)
	resp, err := c.Do(context.Background(), req)
	if err != nil {
		return httpx.Temporal(err)
	}
	resp.Body.Close()
	return httpx.Temporal(c.NewBadResponse("malformed json"))
}

func TestAssertions(t *testing.T) {
	e429 := httpxError(t, 429, map[string]string{"Retry-After": "30"}, `{"message":"slow down"}`)
	e503 := httpxError(t, 503, nil, `{"message":"maintenance"}`)
	e401 := httpxError(t, 401, nil, `{"message":"Client must be authenticated"}`)
	bad := httpxError(t, 200, nil, `{`)
	plain := errors.New("plain")

	check := func(name string, fn func(testing.TB), wantFail bool) {
		t.Run(name, func(t *testing.T) {
			f := &fakeT{TB: t}
			fn(f)
			if got := len(f.errs) > 0; got != wantFail {
				t.Fatalf("failed = %v, want %v (%v)", got, wantFail, f.errs)
			}
		})
	}
	check("429 retryable 30s", func(tb testing.TB) { AssertRetryable(tb, e429, 30*time.Second) }, false)
	check("429 wrong delay", func(tb testing.TB) { AssertRetryable(tb, e429, 10*time.Second) }, true)
	check("503 retryable", func(tb testing.TB) { AssertRetryable(tb, e503, 0) }, false)
	check("401 not retryable", func(tb testing.TB) { AssertRetryable(tb, e401, 0) }, true)
	check("401 non-retryable with text", func(tb testing.TB) { AssertNonRetryable(tb, e401, "Client must be authenticated") }, false)
	check("401 wrong text", func(tb testing.TB) { AssertNonRetryable(tb, e401, "forbidden") }, true)
	check("503 is not non-retryable", func(tb testing.TB) { AssertNonRetryable(tb, e503, "") }, true)
	check("bad response", func(tb testing.TB) { AssertBadResponse(tb, bad) }, false)
	check("401 is no bad response", func(tb testing.TB) { AssertBadResponse(tb, e401) }, true)
	check("retryable BadResponse type", func(tb testing.TB) {
		AssertBadResponse(tb, temporal.NewApplicationError("x", "BadResponse"))
	}, true)
	check("429 type", func(tb testing.TB) { AssertType(tb, e429, "HTTP429") }, false)
	check("401 is not HTTP403", func(tb testing.TB) { AssertType(tb, e401, "HTTP403") }, true)
	check("plain error has no type", func(tb testing.TB) { AssertType(tb, plain, "Transport") }, true)
	check("plain error", func(tb testing.TB) { AssertNonRetryable(tb, plain, "") }, true)
	check("nil error", func(tb testing.TB) { AssertRetryable(tb, nil, 0) }, true)
}

func TestServerCounts(t *testing.T) {
	s := NewServer(t, func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		buf := make([]byte, 64)
		n, _ := r.Body.Read(buf)
		b.Write(buf[:n])
		WriteJSON(w, 200, `{"echo":"`+b.String()+`"}`)
	})
	for _, p := range []string{"/a", "/a", "/b?q=1"} {
		resp, err := http.Post(s.URL+p, "text/plain", strings.NewReader("hi"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if s.Count("/a") != 2 || s.Count("/b") != 1 || s.Count("/c") != 0 || s.Total() != 3 {
		t.Fatalf("counts a=%d b=%d total=%d", s.Count("/a"), s.Count("/b"), s.Total())
	}
	if s.CountMethod(http.MethodGet, "/a") != 0 || s.CountMethod(http.MethodPost, "/a") != 2 {
		t.Fatalf("method counts wrong")
	}
	reqs := s.Requests()
	if string(reqs[2].Body) != "hi" || reqs[2].Query.Get("q") != "1" || reqs[2].Method != http.MethodPost {
		t.Fatalf("recorded %+v", reqs[2])
	}
}
