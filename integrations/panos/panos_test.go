package panos

import (
	"context"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riposte-soar/riposte/internal/contracttest"
	"go.uber.org/zap/zaptest/observer"
)

// apiKey contains characters that URL and base64 encodings change, so a
// leak in any encoded form is caught.
const apiKey = "LUFRPT1pan+Key/with=Chars"

// request is what the fake firewall saw, with its form parsed.
type request struct {
	contracttest.Request
	Form url.Values
}

// fakePANOS follows the PAN-OS XML API: the key in X-PAN-KEY (a wrong one is
// an HTTP 403 with an XML body), type=user-id register/unregister answered
// per entry (duplicates and absent entries as status="error" messages), and
// type=op show system info.
type fakePANOS struct {
	*contracttest.Server
	mu         sync.Mutex
	registered map[string]map[string]string // ip -> tag -> timeout
	override   func(w http.ResponseWriter, r *http.Request) bool
}

func newFake(t *testing.T) *fakePANOS {
	f := &fakePANOS{registered: map[string]map[string]string{}}
	f.Server = contracttest.NewServer(t, f.serve)
	return f
}

func (f *fakePANOS) requests() []request {
	var out []request
	for _, r := range f.Requests() {
		out = append(out, request{Request: r, Form: form(r.Method, r.Query, r.Body)})
	}
	return out
}

// form is the query of a GET, else the urlencoded body.
func form(method string, query url.Values, body []byte) url.Values {
	if method == http.MethodGet {
		return query
	}
	f, _ := url.ParseQuery(string(body))
	return f
}

func writeXML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/xml; charset=UTF-8")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func (f *fakePANOS) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form := form(r.Method, r.URL.Query(), body)
	f.mu.Lock()
	override := f.override
	f.mu.Unlock()
	if override != nil && override(w, r) {
		return
	}
	if r.URL.Path != "/api/" {
		writeXML(w, http.StatusNotFound, `<response status="error"><msg>not found</msg></response>`)
		return
	}
	if r.Header.Get("X-PAN-KEY") != apiKey {
		writeXML(w, http.StatusForbidden, `<response status = 'error' code = '403'><result><msg>Invalid Credential</msg></result></response>`)
		return
	}
	switch form.Get("type") {
	case "op":
		if form.Get("cmd") != "<show><system><info></info></system></show>" {
			writeXML(w, http.StatusOK, `<response status="error" code="17"><msg><line>invalid command</line></msg></response>`)
			return
		}
		writeXML(w, http.StatusOK, `<response status="success"><result><system><hostname>fw1</hostname><sw-version>11.1.2</sw-version></system></result></response>`)
	case "user-id":
		f.userID(w, form.Get("cmd"))
	default:
		writeXML(w, http.StatusOK, `<response status="error" code="400"><msg><line>Missing or invalid type</line></msg></response>`)
	}
}

func (f *fakePANOS) userID(w http.ResponseWriter, cmd string) {
	var m uidMessage
	if err := xml.Unmarshal([]byte(cmd), &m); err != nil || m.Type != "update" {
		writeXML(w, http.StatusOK, `<response status="error" code="18"><msg><line>malformed uid-message</line></msg></response>`)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var op string
	var results []string
	switch {
	case m.Payload.Register != nil:
		op = "register"
		for _, e := range m.Payload.Register.Entries {
			for _, mem := range e.Members {
				if e.IP == "192.0.2.66" {
					results = append(results, fmt.Sprintf(`<entry ip=%q message="Failed to register ip: internal limit reached"/>`, e.IP))
					continue
				}
				if _, ok := f.registered[e.IP][mem.Tag]; ok {
					results = append(results, fmt.Sprintf(`<entry ip=%q message="tag %s already exists, ignore"/>`, e.IP, mem.Tag))
					continue
				}
				if f.registered[e.IP] == nil {
					f.registered[e.IP] = map[string]string{}
				}
				f.registered[e.IP][mem.Tag] = mem.Timeout
			}
		}
	case m.Payload.Unregister != nil:
		op = "unregister"
		for _, e := range m.Payload.Unregister.Entries {
			for _, mem := range e.Members {
				if _, ok := f.registered[e.IP][mem.Tag]; !ok {
					results = append(results, fmt.Sprintf(`<entry ip=%q message="ip %s does not exist, ignore unreg"/>`, e.IP, e.IP))
					continue
				}
				delete(f.registered[e.IP], mem.Tag)
				if len(f.registered[e.IP]) == 0 {
					delete(f.registered, e.IP)
				}
			}
		}
	}
	if len(results) == 0 {
		writeXML(w, http.StatusOK, `<response status="success"><result><uid-response><version>2.0</version><payload><`+op+`/></payload></uid-response></result></response>`)
		return
	}
	writeXML(w, http.StatusOK, `<response status="error"><msg><line><uid-response><version>2.0</version><payload><`+op+`>`+
		strings.Join(results, "")+`</`+op+`></payload></uid-response></line></msg></response>`)
}

func (f *fakePANOS) state() map[string]map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]map[string]string{}
	for ip, tags := range f.registered {
		out[ip] = map[string]string{}
		for t, to := range tags {
			out[ip][t] = to
		}
	}
	return out
}

func newClient(t *testing.T, cfg Config) (*Client, *observer.ObservedLogs) {
	t.Helper()
	logger, logs := contracttest.Logger(t)
	if cfg.APIKey == "" {
		cfg.APIKey = apiKey
	}
	c, err := New(cfg, logger)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, logs
}

// assertNoSecret fails if the key, in any common encoding, is in a log entry
// (message or field) or in one of errs.
func assertNoSecret(t *testing.T, logs *observer.ObservedLogs, errs ...error) {
	t.Helper()
	contracttest.NoSecrets(t, logs, nil, apiKey)
	for _, err := range errs {
		contracttest.NoSecrets(t, nil, err, apiKey)
	}
}

func TestNewValidatesFields(t *testing.T) {
	_, err := New(Config{URL: "ftp://fw", Tag: strings.Repeat("t", 128), Timeout: -1}, nil)
	want := "url: \"ftp://fw\" is not an absolute http(s) URL\napi_key: required\ntag: longer than 127 characters\ntimeout: must not be negative"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if _, err := New(Config{APIKey: "k"}, nil); err == nil || err.Error() != "url: required" {
		t.Fatalf("err = %v, want url: required", err)
	}
	if _, err := New(Config{URL: "https://fw", APIKey: "k", CAFile: "/nonexistent/ca.pem"}, nil); err == nil || !strings.HasPrefix(err.Error(), "ca_file: ") {
		t.Fatalf("err = %v, want a ca_file error", err)
	}
}

func TestBlockRequestShape(t *testing.T) {
	f := newFake(t)
	c, logs := newClient(t, Config{URL: f.URL + "/api"})
	err := c.Block(context.Background(), Block{Type: "ip", Value: "203.0.113.7", TTL: 90 * time.Minute, Reason: "c2", Key: "inc-1/block"})
	if err != nil {
		t.Fatalf("Block: %v", err)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/api/" || r.RawQuery != "" {
		t.Fatalf("request %s %s?%s, want POST /api/ without a query", r.Method, r.Path, r.RawQuery)
	}
	if got := r.Header.Get("X-PAN-KEY"); got != apiKey {
		t.Fatalf("X-PAN-KEY = %q", got)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Fatalf("Content-Type = %q", ct)
	}
	if r.Form.Get("type") != "user-id" || r.Form.Has("key") {
		t.Fatalf("form = %v, want type=user-id and no key", r.Form)
	}
	wantCmd := `<uid-message><type>update</type><payload><register><entry ip="203.0.113.7"><tag><member timeout="5400">riposte-block</member></tag></entry></register></payload></uid-message>`
	if got := r.Form.Get("cmd"); got != wantCmd {
		t.Fatalf("cmd =\n%s\nwant\n%s", got, wantCmd)
	}
	if got := f.state(); got["203.0.113.7"]["riposte-block"] != "5400" || len(got) != 1 {
		t.Fatalf("registered = %v", got)
	}
	assertNoSecret(t, logs)
}

func TestUnblockRequestShape(t *testing.T) {
	f := newFake(t)
	c, _ := newClient(t, Config{URL: f.URL, Tag: "soar-deny"})
	ctx := context.Background()
	b := Block{Type: "ip", Value: "10.20.0.0/16", Key: "inc-2/contain"}
	if err := c.Block(ctx, b); err != nil {
		t.Fatalf("Block: %v", err)
	}
	if err := c.Unblock(ctx, b); err != nil {
		t.Fatalf("Unblock: %v", err)
	}
	reqs := f.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	wantReg := `<uid-message><type>update</type><payload><register><entry ip="10.20.0.0/16"><tag><member timeout="0">soar-deny</member></tag></entry></register></payload></uid-message>`
	wantUnreg := `<uid-message><type>update</type><payload><unregister><entry ip="10.20.0.0/16"><tag><member>soar-deny</member></tag></entry></unregister></payload></uid-message>`
	if got := reqs[0].Form.Get("cmd"); got != wantReg {
		t.Fatalf("register cmd = %s", got)
	}
	if got := reqs[1].Form.Get("cmd"); got != wantUnreg {
		t.Fatalf("unregister cmd = %s", got)
	}
	if got := f.state(); len(got) != 0 {
		t.Fatalf("still registered: %v", got)
	}
}

func TestBlockTwiceIsOneBlockAndUnblockAbsentSucceeds(t *testing.T) {
	f := newFake(t)
	c, _ := newClient(t, Config{URL: f.URL})
	ctx := context.Background()
	b := Block{Type: "ip", Value: "2001:db8::7", TTL: time.Hour, Key: "inc-3/block"}
	for i := 0; i < 2; i++ {
		if err := c.Block(ctx, b); err != nil {
			t.Fatalf("Block #%d: %v", i+1, err)
		}
	}
	if got := f.state(); len(got) != 1 || len(got["2001:db8::7"]) != 1 {
		t.Fatalf("registered = %v, want one entry", got)
	}
	for i := 0; i < 2; i++ {
		if err := c.Unblock(ctx, b); err != nil {
			t.Fatalf("Unblock #%d: %v", i+1, err)
		}
	}
	if err := c.Unblock(ctx, Block{Type: "ip", Value: "198.51.100.1"}); err != nil {
		t.Fatalf("Unblock of a never-blocked ip: %v", err)
	}
	if got := f.state(); len(got) != 0 {
		t.Fatalf("registered = %v, want none", got)
	}
}

func TestErrorInsideHTTP200IsNonRetryable(t *testing.T) {
	f := newFake(t)
	c, _ := newClient(t, Config{URL: f.URL})
	err := c.Block(context.Background(), Block{Type: "ip", Value: "192.0.2.66"})
	contracttest.AssertNonRetryable(t, err, "register 192.0.2.66: status error: Failed to register ip: internal limit reached")
	contracttest.AssertType(t, err, "BadResponse")
}

func TestTagTimeout(t *testing.T) {
	for _, tc := range []struct {
		ttl  time.Duration
		want string
	}{
		{0, "0"},
		{1500 * time.Millisecond, "2"},
		{time.Hour, "3600"},
		{MaxTagTimeout, "2592000"},
		{MaxTagTimeout + time.Second, "0"},
	} {
		if got := tagTimeout(tc.ttl); got != tc.want {
			t.Errorf("tagTimeout(%s) = %s, want %s", tc.ttl, got, tc.want)
		}
	}
}

func TestBlockTTLBeyondMaximumRegistersWithoutTimeout(t *testing.T) {
	f := newFake(t)
	c, logs := newClient(t, Config{URL: f.URL})
	if err := c.Block(context.Background(), Block{Type: "ip", Value: "203.0.113.9", TTL: 45 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	if got := f.state()["203.0.113.9"]["riposte-block"]; got != "0" {
		t.Fatalf("timeout = %q, want 0", got)
	}
	if n := logs.FilterMessageSnippet("ttl beyond").Len(); n != 1 {
		t.Fatalf("%d warnings about the ttl, want 1", n)
	}
}

func TestInputValidation(t *testing.T) {
	f := newFake(t)
	c, _ := newClient(t, Config{URL: f.URL})
	ctx := context.Background()
	for _, tc := range []struct {
		b         Block
		typ, text string
	}{
		{Block{Type: "domain", Value: "evil.example"}, "Unsupported", "panos: domain blocks are not supported"},
		{Block{Type: "url", Value: "evil.example/x"}, "Unsupported", "panos: url blocks are not supported"},
		{Block{Type: "ip", Value: "2001:db8::/48"}, "Unsupported", "panos: ipv6 prefix blocks are not supported"},
		{Block{Type: "ip", Value: "10.0.0.1/24"}, "InvalidInput", `panos: invalid prefix "10.0.0.1/24" (want a network address such as 10.0.0.0/24)`},
		{Block{Type: "ip", Value: "not-an-ip"}, "InvalidInput", `panos: invalid ip "not-an-ip"`},
		{Block{Value: "10.0.0.1"}, "InvalidInput", "panos: block type is required"},
	} {
		for _, err := range []error{c.Block(ctx, tc.b), c.Unblock(ctx, tc.b)} {
			contracttest.AssertNonRetryable(t, err, tc.text)
			contracttest.AssertType(t, err, tc.typ)
			if ae := contracttest.AppError(t, err); ae != nil && ae.Message() != tc.text {
				t.Errorf("message = %q, want %q", ae.Message(), tc.text)
			}
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Fatalf("%d requests sent for invalid input", n)
	}
	// A /32 is the host itself.
	if err := c.Block(ctx, Block{Type: "ip", Value: "198.51.100.4/32"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.state()["198.51.100.4"]; !ok {
		t.Fatalf("registered = %v, want 198.51.100.4", f.state())
	}
}

func TestRateLimitedIsRetryableWithServerDelay(t *testing.T) {
	f := newFake(t)
	f.override = func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Retry-After", "30")
		writeXML(w, http.StatusTooManyRequests, `<response status="error"><msg>Too many requests</msg></response>`)
		return true
	}
	c, logs := newClient(t, Config{URL: f.URL})
	err := c.Block(context.Background(), Block{Type: "ip", Value: "203.0.113.7"})
	contracttest.AssertRetryable(t, err, 30*time.Second)
	if n := len(f.requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	assertNoSecret(t, logs, err)
}

func TestUnavailableIsRetryable(t *testing.T) {
	f := newFake(t)
	f.override = func(w http.ResponseWriter, r *http.Request) bool {
		writeXML(w, http.StatusServiceUnavailable, "")
		return true
	}
	c, logs := newClient(t, Config{URL: f.URL})
	err := c.Unblock(context.Background(), Block{Type: "ip", Value: "203.0.113.7"})
	contracttest.AssertRetryable(t, err, 0)
	contracttest.AssertType(t, err, "HTTP503")
	assertNoSecret(t, logs, err)
}

func TestBadKeyIsNonRetryableWithVendorText(t *testing.T) {
	f := newFake(t)
	c, logs := newClient(t, Config{URL: f.URL, APIKey: "wrong-key-value"})
	err := c.Check(context.Background())
	contracttest.AssertNonRetryable(t, err, "403 Forbidden: Invalid Credential")
	contracttest.AssertType(t, err, "HTTP403")
	err2 := c.Block(context.Background(), Block{Type: "ip", Value: "203.0.113.7"})
	contracttest.AssertNonRetryable(t, err2, "Invalid Credential")
	contracttest.AssertType(t, err2, "HTTP403")
	assertNoSecret(t, logs, err, err2)
	for _, e := range logs.All() {
		if strings.Contains(fmt.Sprint(e.ContextMap()), "wrong-key-value") {
			t.Fatalf("key leaked in log: %v", e.ContextMap())
		}
	}
}

func TestUnauthorizedProxyIsNonRetryable(t *testing.T) {
	f := newFake(t)
	f.override = func(w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, "proxy says: authentication required", http.StatusUnauthorized)
		return true
	}
	c, _ := newClient(t, Config{URL: f.URL})
	err := c.Check(context.Background())
	contracttest.AssertNonRetryable(t, err, "proxy says: authentication required")
	contracttest.AssertType(t, err, "HTTP401")
}

func TestMalformedXMLIsBadResponse(t *testing.T) {
	for name, body := range map[string]string{
		"truncated": `<response status="success"><result>`,
		"html":      `<html><body>Login</body></html>`,
		"empty":     ``,
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake(t)
			f.override = func(w http.ResponseWriter, r *http.Request) bool {
				writeXML(w, http.StatusOK, body)
				return true
			}
			c, logs := newClient(t, Config{URL: f.URL})
			err := c.Block(context.Background(), Block{Type: "ip", Value: "203.0.113.7"})
			contracttest.AssertBadResponse(t, err)
			contracttest.AssertNonRetryable(t, err, "panos: unusable response: POST: malformed XML")
			err2 := c.Check(context.Background())
			contracttest.AssertBadResponse(t, err2)
			contracttest.AssertNonRetryable(t, err2, "malformed XML")
			assertNoSecret(t, logs, err)
		})
	}
}

func TestCheck(t *testing.T) {
	f := newFake(t)
	c, logs := newClient(t, Config{URL: f.URL + "/"})
	if err := c.Check(context.Background()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	r := f.requests()[0]
	if r.Method != http.MethodGet || r.Path != "/api/" {
		t.Fatalf("%s %s", r.Method, r.Path)
	}
	q, _ := url.ParseQuery(r.RawQuery)
	if q.Get("type") != "op" || q.Get("cmd") != "<show><system><info></info></system></show>" || q.Has("key") {
		t.Fatalf("query = %v", q)
	}
	if strings.Contains(r.RawQuery, url.QueryEscape(apiKey)) {
		t.Fatal("key in URL")
	}
	if got := logs.FilterMessage("check ok").All(); len(got) != 1 || got[0].ContextMap()["sw_version"] != "11.1.2" {
		t.Fatalf("check log = %v", got)
	}
	assertNoSecret(t, logs)
}

func TestInternalCAIsTrustedAndVerificationStaysOn(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeXML(w, http.StatusOK, `<response status="success"><result><system><hostname>fw1</hostname></system></result></response>`)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the rejected handshake is expected
	srv.StartTLS()
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, cert, 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := newClient(t, Config{URL: srv.URL, CAFile: caFile})
	if err := c.Check(context.Background()); err != nil {
		t.Fatalf("Check with ca_file: %v", err)
	}
	c2, _ := newClient(t, Config{URL: srv.URL, Timeout: 5 * time.Second})
	err := c2.Check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("Check without ca_file: %v, want a certificate error", err)
	}
}
