package httpx

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

const secret = "s3cr3t-T0ken/xyz+42"

type hitServer struct {
	*httptest.Server
	hits atomic.Int32
}

func newServer(t *testing.T, h func(n int32, w http.ResponseWriter, r *http.Request)) *hitServer {
	t.Helper()
	s := &hitServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h(s.hits.Add(1), w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func newClient(t *testing.T, o Options) (*Client, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	o.Logger = zap.New(core)
	if o.Name == "" {
		o.Name = "rt"
	}
	c := New(o)
	c.rc.RetryWaitMin = 10 * time.Millisecond
	c.rc.RetryWaitMax = 50 * time.Millisecond
	return c, logs
}

func get(t *testing.T, c *Client, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.Do(context.Background(), req)
}

func TestRetriesAtMostTwiceOn503(t *testing.T) {
	s := newServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	c, _ := newClient(t, Options{RetryMax: 10})
	_, err := get(t, c, s.URL)
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 503 || !se.Retryable() {
		t.Fatalf("err = %v", err)
	}
	if got := s.hits.Load(); got != 3 {
		t.Fatalf("hits = %d, want 3", got)
	}
}

func TestNoRetryOn400WithVendorMessage(t *testing.T) {
	s := newServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"message":"Queue 'x' not found"}`)
	})
	c, _ := newClient(t, Options{})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/REST/2.0/ticket", strings.NewReader(`{"Queue":"x"}`))
	_, err := c.Do(context.Background(), req)
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v", err)
	}
	if s.hits.Load() != 1 {
		t.Fatalf("hits = %d, want 1", s.hits.Load())
	}
	want := fmt.Sprintf("rt: POST %s/REST/2.0/ticket: 400 Bad Request: Queue 'x' not found", s.URL)
	if err.Error() != want {
		t.Fatalf("got %q\nwant %q", err.Error(), want)
	}
	if se.Retryable() {
		t.Fatal("400 must not be retryable")
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	s := newServer(t, func(n int32, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, "ok")
	})
	c, _ := newClient(t, Options{})
	start := time.Now()
	resp, err := get(t, c, s.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" {
		t.Fatalf("body = %q", b)
	}
	if s.hits.Load() != 2 {
		t.Fatalf("hits = %d, want 2", s.hits.Load())
	}
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Fatalf("elapsed %s, want >= 900ms", el)
	}
}

func TestRetryAfterBeyondCap(t *testing.T) {
	s := newServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	c, _ := newClient(t, Options{})
	start := time.Now()
	_, err := get(t, c, s.URL)
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("slept %s", el)
	}
	var se *StatusError
	if !errors.As(err, &se) || !se.Retryable() || se.RetryAfter != 120*time.Second {
		t.Fatalf("err = %#v", err)
	}
	if s.hits.Load() != 1 {
		t.Fatalf("hits = %d, want 1", s.hits.Load())
	}
	var ae *temporal.ApplicationError
	if !errors.As(Temporal(err), &ae) || ae.NonRetryable() || ae.NextRetryDelay() != 120*time.Second || ae.Type() != "HTTP429" {
		t.Fatalf("temporal = %v", Temporal(err))
	}
}

func TestPerCallTimeout(t *testing.T) {
	release := make(chan struct{})
	s := newServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	c, _ := newClient(t, Options{Timeout: 100 * time.Millisecond})
	start := time.Now()
	_, err := get(t, c, s.URL)
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("took %s", el)
	}
	var te *TransportError
	if !errors.As(err, &te) || !te.Timeout || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	var ae *temporal.ApplicationError
	if !errors.As(Temporal(err), &ae) || ae.NonRetryable() || ae.Type() != "Timeout" {
		t.Fatalf("temporal = %v", Temporal(err))
	}
}

func TestTransportError(t *testing.T) {
	s := httptest.NewServer(http.NotFoundHandler())
	addr := s.URL
	s.Close()
	c, _ := newClient(t, Options{})
	_, err := get(t, c, addr)
	var ae *temporal.ApplicationError
	if !errors.As(Temporal(err), &ae) || ae.NonRetryable() || ae.Type() != "Transport" {
		t.Fatalf("temporal = %v (%v)", Temporal(err), err)
	}
}

func TestClassification(t *testing.T) {
	cases := []struct {
		code      int
		retryable bool
	}{
		{400, false}, {401, false}, {403, false}, {404, false}, {408, true}, {409, false},
		{422, false}, {429, true}, {500, true}, {502, true}, {503, true},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			s := newServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.code)
				io.WriteString(w, `{"errors":[{"message":"nope"}]}`)
			})
			c, _ := newClient(t, Options{})
			_, err := get(t, c, s.URL)
			var se *StatusError
			if !errors.As(err, &se) || se.Status != tc.code || se.Retryable() != tc.retryable || se.VendorMessage != "nope" {
				t.Fatalf("err = %#v", err)
			}
			wantHits := int32(1)
			if tc.retryable {
				wantHits = 3
			}
			if s.hits.Load() != wantHits {
				t.Fatalf("hits = %d, want %d", s.hits.Load(), wantHits)
			}
			var ae *temporal.ApplicationError
			if !errors.As(Temporal(err), &ae) {
				t.Fatalf("not an ApplicationError: %T", Temporal(err))
			}
			if ae.NonRetryable() == tc.retryable || ae.Type() != fmt.Sprintf("HTTP%d", tc.code) {
				t.Fatalf("NonRetryable=%v Type=%q", ae.NonRetryable(), ae.Type())
			}
		})
	}
	if Temporal(nil) != nil {
		t.Fatal("Temporal(nil) != nil")
	}
}

func TestVendorMessage(t *testing.T) {
	cases := map[string]string{
		`{"error":"bad"}`:                "bad",
		`{"error":{"message":"nested"}}`: "nested",
		`{"message":"m"}`:                "m",
		`{"errors":[{"message":"e0"}]}`:  "e0",
		`{"errorMessages":["jira"]}`:     "jira",
		`{"error_description":"oauth"}`:  "oauth",
		"plain text":                     "plain text",
		strings.Repeat("a", 300):         strings.Repeat("a", 200) + "…",
		`{"unrelated":1}`:                `{"unrelated":1}`,
	}
	for in, want := range cases {
		if got := vendorMessage([]byte(in)); got != want {
			t.Errorf("vendorMessage(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedaction(t *testing.T) {
	s := newServer(t, func(n int32, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":"invalid token %s (auth %s)"}`, r.URL.Query().Get("apikey"), r.Header.Get("Authorization"))
	})
	c, logs := newClient(t, Options{Secrets: []string{secret}})
	u, _ := url.Parse(s.URL + "/api")
	u.User = url.UserPassword("user", secret)
	u.RawQuery = url.Values{"apikey": {secret}, "q": {"1"}}.Encode()
	req, err := http.NewRequest(http.MethodGet, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	_, err = c.Do(context.Background(), req)
	if err == nil {
		t.Fatal("want error")
	}
	check := func(what, s string) {
		t.Helper()
		for _, form := range []string{secret, "s3cr3t-T0ken%2Fxyz%2B42", base64.StdEncoding.EncodeToString([]byte(secret)), "user:"} {
			if strings.Contains(s, form) {
				t.Errorf("%s leaks %q: %s", what, form, s)
			}
		}
	}
	check("error", err.Error())
	check("temporal", Temporal(err).Error())
	if !strings.Contains(err.Error(), Redacted) {
		t.Errorf("error has no redaction marker: %s", err)
	}

	// A retried 503 and a transport error produce retryablehttp logs.
	s503 := newServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "down for "+secret)
	})
	req, _ = http.NewRequest(http.MethodGet, s503.URL+"/x?apikey="+url.QueryEscape(secret), nil)
	_, err = c.Do(context.Background(), req)
	check("error503", err.Error())
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	req, _ = http.NewRequest(http.MethodGet, dead.URL+"/x?apikey="+url.QueryEscape(secret), nil)
	_, err = c.Do(context.Background(), req)
	check("transport", err.Error())

	if logs.Len() == 0 {
		t.Fatal("no logs captured")
	}
	for _, e := range logs.All() {
		line := e.Message
		for k, v := range e.ContextMap() {
			line += fmt.Sprintf(" %s=%v", k, v)
		}
		check("log", line)
	}
}

func TestRedactForms(t *testing.T) {
	c := New(Options{Secrets: []string{secret}})
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+secret))
	for _, in := range []string{
		secret,
		"x " + base64.StdEncoding.EncodeToString([]byte(secret)),
		"q=s3cr3t-T0ken%2Fxyz%2B42",
		"Authorization: " + basic,
		"url http://h/p?token=abc&x=1",
	} {
		out := c.Redact(in)
		if !strings.Contains(out, Redacted) || strings.Contains(out, secret) || strings.Contains(out, "abc") {
			t.Errorf("Redact(%q) = %q", in, out)
		}
	}
	if got := c.Redact("nothing here"); got != "nothing here" {
		t.Errorf("Redact changed clean text: %q", got)
	}
}

func TestOptionsDefaults(t *testing.T) {
	c := New(Options{RetryMax: 5})
	if c.rc.RetryMax != 2 || c.timeout != DefaultTimeout {
		t.Fatalf("RetryMax=%d timeout=%s", c.rc.RetryMax, c.timeout)
	}
	if New(Options{RetryMax: 1}).rc.RetryMax != 1 || New(Options{RetryMax: -1}).rc.RetryMax != 0 {
		t.Fatal("RetryMax not honoured")
	}
}

func TestPostNotResentAfter502(t *testing.T) {
	s := newServer(t, func(n int32, w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) })
	c, _ := newClient(t, Options{Name: "rt"})
	req, _ := http.NewRequest(http.MethodPost, s.URL, strings.NewReader(`{}`))
	_, err := c.Do(context.Background(), req)
	var se *StatusError
	if !errors.As(err, &se) || se.Status != http.StatusBadGateway {
		t.Fatalf("err = %v, want a 502 StatusError", err)
	}
	if got := s.hits.Load(); got != 1 {
		t.Fatalf("POST sent %d times after a 502, want 1 (the server may have acted)", got)
	}
}

func TestPostResentAfter503(t *testing.T) {
	s := newServer(t, func(n int32, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	c, _ := newClient(t, Options{Name: "rt"})
	req, _ := http.NewRequest(http.MethodPost, s.URL, strings.NewReader(`{}`))
	resp, err := c.Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := s.hits.Load(); got != 2 {
		t.Fatalf("hits = %d, want 2", got)
	}
}

func TestBadResponseIsNonRetryable(t *testing.T) {
	c, _ := newClient(t, Options{Name: "rt", Secrets: []string{"s3cr3t"}})
	err := Temporal(c.NewBadResponse("body %q is not JSON", "<html>login s3cr3t</html>"))
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() || appErr.Type() != "BadResponse" {
		t.Fatalf("err = %#v, want non-retryable BadResponse", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("secret in %q", err)
	}
}

func TestVendorMessageOption(t *testing.T) {
	s := newServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, r.URL.Query().Get("body"))
	})
	var seen []string
	c, logs := newClient(t, Options{Secrets: []string{secret}, VendorMessage: func(body []byte) string {
		seen = append(seen, string(body))
		if m, ok := strings.CutPrefix(string(body), "vendor:"); ok {
			return m
		}
		return ""
	}})
	for _, tc := range []struct{ body, want string }{
		{"vendor:field x is wrong", "field x is wrong"},
		{`{"message":"generic"}`, "generic"}, // "" falls back to the generic extraction
		{"vendor:token " + secret, "token " + Redacted},
		{"vendor:" + strings.Repeat("é", 300), strings.Repeat("é", 250) + "…"},
	} {
		_, err := get(t, c, s.URL+"?"+url.Values{"body": {tc.body}}.Encode())
		var se *StatusError
		if !errors.As(err, &se) || se.VendorMessage != tc.want {
			t.Errorf("body %q: err = %v, want vendor message %q", tc.body, err, tc.want)
		}
	}
	if len(seen) != 4 || seen[0] != "vendor:field x is wrong" {
		t.Errorf("extractor saw %q", seen)
	}
	if got := logs.FilterMessage("http error response").All(); len(got) != 4 || got[0].ContextMap()["vendor_message"] != "field x is wrong" {
		t.Errorf("log = %v", got)
	}
}

func TestTemporalOp(t *testing.T) {
	se := &StatusError{Integration: "jira", Method: "GET", URL: "https://x/rest", Status: 429, VendorMessage: "slow down", RetryAfter: 30 * time.Second}
	var ae *temporal.ApplicationError
	err := TemporalOp("search issue", se)
	if !errors.As(err, &ae) || ae.NonRetryable() || ae.NextRetryDelay() != 30*time.Second || ae.Type() != "HTTP429" {
		t.Fatalf("429: %#v", err)
	}
	if want := "search issue: " + se.Error(); ae.Message() != want {
		t.Fatalf("message %q, want %q", ae.Message(), want)
	}
	if _, ok := err.(*temporal.ApplicationError); !ok {
		t.Fatalf("%T is not the application error itself", err)
	}
	err = TemporalOp("check", &BadResponse{Integration: "jira", Msg: "no accountId"})
	if !errors.As(err, &ae) || !ae.NonRetryable() || ae.Type() != "BadResponse" || ae.Message() != "check: jira: unusable response: no accountId" {
		t.Fatalf("bad response: %#v", err)
	}
	if TemporalOp("x", nil) != nil {
		t.Fatal("TemporalOp(nil) != nil")
	}
}

func TestBaseURL(t *testing.T) {
	for raw, want := range map[string]string{
		"":                        "url: required",
		"  ":                      "url: required",
		"fw.example.org":          `url: "fw.example.org" is not an absolute http(s) URL`,
		"ftp://fw":                `url: "ftp://fw" is not an absolute http(s) URL`,
		"https://admin:pw@fw":     "url: must not carry credentials or a query",
		"https://fw/api?key=abc":  "url: must not carry credentials or a query",
		"https://fw.example.org/": "",
	} {
		u, err := BaseURL(raw)
		switch {
		case want == "" && (err != nil || u.String() != raw):
			t.Errorf("BaseURL(%q) = %v, %v", raw, u, err)
		case want != "" && (err == nil || err.Error() != want):
			t.Errorf("BaseURL(%q) error = %v, want %q", raw, err, want)
		}
	}
}

func TestJSONRequest(t *testing.T) {
	req, err := JSONRequest(context.Background(), http.MethodPost, "https://x/api", map[string]string{"a": "b"})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(req.Body)
	if string(body) != `{"a":"b"}` || req.Header.Get("Content-Type") != "application/json" || req.Header.Get("Accept") != "application/json" {
		t.Fatalf("body %s, header %v", body, req.Header)
	}
	req, err = JSONRequest(context.Background(), http.MethodGet, "https://x/api", nil)
	if err != nil || req.Body != nil || req.Header.Get("Content-Type") != "" || req.Header.Get("Accept") != "application/json" {
		t.Fatalf("GET: %v, body %v, header %v", err, req.Body, req.Header)
	}
	if _, err := JSONRequest(context.Background(), http.MethodPost, "https://x", func() {}); err == nil || !strings.HasPrefix(err.Error(), "encode request: json: unsupported type") {
		t.Fatalf("encode error = %v", err)
	}
	if _, err := JSONRequest(context.Background(), "BAD METHOD", "https://x", nil); err == nil {
		t.Fatal("no error for an invalid method")
	}
}

func TestBaseURLNeverPrintsCredentials(t *testing.T) {
	for _, raw := range []string{"ftp://admin:hunter2@fw.example.com/", "admin:hunter2@fw.example.com", "https://admin:hunter2@fw.example.com"} {
		_, err := BaseURL(raw)
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("BaseURL(%q) = %v; want an error without the password", raw, err)
		}
	}
	if _, err := BaseURL("ftp://fw.example.com/a@b"); err == nil || !strings.Contains(err.Error(), "ftp://fw.example.com/a@b") {
		t.Errorf("an @ in the path is not a credential: %v", err)
	}
}
