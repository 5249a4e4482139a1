package opnsense

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riposte-soar/riposte/internal/contracttest"
	"go.uber.org/zap/zaptest/observer"
)

const (
	apiKey    = "w86XNZob/+key+OPN"
	apiSecret = "XeD26XVrJ5ilAc/s3cr3t=="
	alias     = "riposte_block"
)

var notAddress = regexp.MustCompile(`[^0-9a-f:./_]`)

// fakeOPNsense follows OPNsense's AliasUtilController: basic auth with the
// key pair (else 401 {"status":401,"message":"Authentication Failed"}), JSON
// bodies, add/delete answering {"status":"done"} (add is idempotent, delete
// of an absent address is done too), "not_an_address" for values with other
// characters than [0-9a-f:./_], "failed" with status_msg for an unknown
// alias, and list answering {"total","rowCount","current","rows"}.
type fakeOPNsense struct {
	*contracttest.Server
	mu       sync.Mutex
	entries  map[string]bool
	override func(w http.ResponseWriter, r *http.Request) bool
}

func newFake(t *testing.T) *fakeOPNsense {
	f := &fakeOPNsense{entries: map[string]bool{}}
	f.Server = contracttest.NewServer(t, f.serve)
	return f
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *fakeOPNsense) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.override != nil && f.override(w, r) {
		return
	}
	if k, s, ok := r.BasicAuth(); !ok || k != apiKey || s != apiSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"status": 401, "message": "Authentication Failed"})
		return
	}
	action, name, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/api/firewall/alias_util/"), "/")
	if action == "list" && r.Method == http.MethodGet {
		rows := []map[string]string{}
		for e := range f.entries {
			rows = append(rows, map[string]string{"ip": e})
		}
		sort.Slice(rows, func(i, j int) bool { return rows[i]["ip"] < rows[j]["ip"] })
		writeJSON(w, http.StatusOK, map[string]any{"total": len(rows), "rowCount": 9999, "current": 1, "rows": rows})
		return
	}
	var body struct{ Address *string }
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" ||
		json.NewDecoder(r.Body).Decode(&body) != nil || body.Address == nil {
		writeJSON(w, http.StatusOK, map[string]string{"status": "failed"})
		return
	}
	addr := *body.Address
	switch action {
	case "add":
		if notAddress.MatchString(addr) {
			writeJSON(w, http.StatusOK, map[string]string{"status": "not_an_address"})
			return
		}
		if name != alias {
			writeJSON(w, http.StatusOK, map[string]string{"status": "failed", "status_msg": "non existing alias " + name})
			return
		}
		f.entries[addr] = true
	case "delete":
		delete(f.entries, addr)
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"errorMessage": "Endpoint not found"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "done"})
}

func (f *fakeOPNsense) state() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for e := range f.entries {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

func newClient(t *testing.T, f *fakeOPNsense, mod func(*Config)) (*Client, *observer.ObservedLogs) {
	t.Helper()
	log, logs := contracttest.Logger(t)
	cfg := Config{URL: f.URL, Key: apiKey, Secret: apiSecret, Alias: alias}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg, log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, logs
}

func noSecrets(t *testing.T, logs *observer.ObservedLogs, err error) {
	t.Helper()
	contracttest.NoSecrets(t, logs, err, apiKey, apiSecret, apiKey+":"+apiSecret)
}

func TestNewValidatesFields(t *testing.T) {
	_, err := New(Config{URL: "opnsense.local", Timeout: -1}, nil)
	want := "url: \"opnsense.local\" is not an absolute http(s) URL\nkey: required\nsecret: required\nalias: required\ntimeout: must not be negative"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

func TestBlockAndUnblockRequestShapes(t *testing.T) {
	f := newFake(t)
	c, logs := newClient(t, f, func(cfg *Config) { cfg.URL += "/api/" })
	ctx := context.Background()
	for _, b := range []Block{
		{Type: "ip", Value: "203.0.113.7", TTL: time.Hour, Key: "inc-1/block", Reason: "c2"},
		{Type: "ip", Value: "2001:DB8::/32", Key: "inc-1/v6"},
		{Type: "ip", Value: "198.51.100.9/32", Key: "inc-1/host"},
	} {
		if err := c.Block(ctx, b); err != nil {
			t.Fatalf("Block(%s): %v", b.Value, err)
		}
	}
	if err := c.Unblock(ctx, Block{Type: "ip", Value: "203.0.113.7"}); err != nil {
		t.Fatalf("Unblock: %v", err)
	}
	var got []string
	for _, r := range f.Requests() {
		got = append(got, r.Method+" "+r.Path+" "+string(r.Body))
		if k, s, ok := (&http.Request{Header: r.Header}).BasicAuth(); !ok || k != apiKey || s != apiSecret {
			t.Fatalf("basic auth = %q %q %v", k, s, ok)
		}
		if r.Header.Get("Content-Type") != "application/json" || r.RawQuery != "" {
			t.Fatalf("Content-Type %q, query %q", r.Header.Get("Content-Type"), r.RawQuery)
		}
	}
	want := []string{
		`POST /api/firewall/alias_util/add/riposte_block {"address":"203.0.113.7"}`,
		`POST /api/firewall/alias_util/add/riposte_block {"address":"2001:db8::/32"}`,
		`POST /api/firewall/alias_util/add/riposte_block {"address":"198.51.100.9"}`,
		`POST /api/firewall/alias_util/delete/riposte_block {"address":"203.0.113.7"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s := f.state(); strings.Join(s, ",") != "198.51.100.9,2001:db8::/32" {
		t.Fatalf("alias = %v", s)
	}
	noSecrets(t, logs, nil)
}

func TestBlockTwiceIsOneBlockAndUnblockAbsentSucceeds(t *testing.T) {
	f := newFake(t)
	c, _ := newClient(t, f, nil)
	ctx := context.Background()
	b := Block{Type: "ip", Value: "203.0.113.7", Key: "inc-2/block"}
	for i := 0; i < 2; i++ {
		if err := c.Block(ctx, b); err != nil {
			t.Fatalf("Block #%d: %v", i+1, err)
		}
	}
	if s := f.state(); len(s) != 1 {
		t.Fatalf("alias = %v, want one entry", s)
	}
	for i := 0; i < 2; i++ {
		if err := c.Unblock(ctx, b); err != nil {
			t.Fatalf("Unblock #%d: %v", i+1, err)
		}
	}
	if s := f.state(); len(s) != 0 {
		t.Fatalf("alias = %v, want empty", s)
	}
}

func TestFailedStatusIsBadResponseWithText(t *testing.T) {
	f := newFake(t)
	c, logs := newClient(t, f, func(cfg *Config) { cfg.Alias = "no_such_alias" })
	err := c.Block(context.Background(), Block{Type: "ip", Value: "203.0.113.7"})
	contracttest.AssertBadResponse(t, err)
	contracttest.AssertNonRetryable(t, err, `add 203.0.113.7 to alias no_such_alias: status "failed": non existing alias no_such_alias`)
	noSecrets(t, logs, err)
}

func TestUnsupportedAndInvalid(t *testing.T) {
	f := newFake(t)
	c, _ := newClient(t, f, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		b         Block
		typ, text string
	}{
		{Block{Type: "domain", Value: "evil.example"}, "Unsupported", "opnsense: domain blocks are not supported"},
		{Block{Type: "url", Value: "evil.example/x"}, "Unsupported", "opnsense: url blocks are not supported"},
		{Block{Type: "ip", Value: "evil.example"}, "InvalidInput", `opnsense: invalid ip "evil.example"`},
		{Block{Type: "ip", Value: "10.1.2.3/8"}, "InvalidInput", `opnsense: invalid prefix "10.1.2.3/8" (want a network address such as 10.0.0.0/24)`},
	} {
		for _, err := range []error{c.Block(ctx, tc.b), c.Unblock(ctx, tc.b)} {
			contracttest.AssertNonRetryable(t, err, tc.text)
			contracttest.AssertType(t, err, tc.typ)
			if ae := contracttest.AppError(t, err); ae != nil && ae.Message() != tc.text {
				t.Errorf("message = %q, want %q", ae.Message(), tc.text)
			}
		}
	}
	if n := len(f.Requests()); n != 0 {
		t.Fatalf("%d requests for rejected input", n)
	}
}

func TestRateLimitedIsRetryableWithServerDelay(t *testing.T) {
	f := newFake(t)
	f.override = func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Retry-After", "30")
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"status": 429, "message": "Too Many Requests"})
		return true
	}
	c, logs := newClient(t, f, nil)
	err := c.Block(context.Background(), Block{Type: "ip", Value: "203.0.113.7"})
	contracttest.AssertRetryable(t, err, 30*time.Second)
	if n := len(f.Requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	noSecrets(t, logs, err)
}

func TestUnavailableIsRetryable(t *testing.T) {
	f := newFake(t)
	f.override = func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	}
	c, logs := newClient(t, f, nil)
	err := c.Unblock(context.Background(), Block{Type: "ip", Value: "203.0.113.7"})
	contracttest.AssertRetryable(t, err, 0)
	noSecrets(t, logs, err)
}

func TestBadCredentialsAreNonRetryableWithVendorText(t *testing.T) {
	f := newFake(t)
	c, logs := newClient(t, f, func(cfg *Config) { cfg.Secret = "not-the-secret" })
	err := c.Block(context.Background(), Block{Type: "ip", Value: "203.0.113.7"})
	contracttest.AssertNonRetryable(t, err, "401 Unauthorized: Authentication Failed")
	noSecrets(t, logs, err)
	contracttest.NoSecrets(t, logs, err, "not-the-secret")
	err = c.Check(context.Background())
	contracttest.AssertNonRetryable(t, err, "Authentication Failed")
}

func TestMalformedJSONIsBadResponse(t *testing.T) {
	f := newFake(t)
	f.override = func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<html><body>Login</body></html>`))
		return true
	}
	c, logs := newClient(t, f, nil)
	err := c.Block(context.Background(), Block{Type: "ip", Value: "203.0.113.7"})
	contracttest.AssertBadResponse(t, err)
	contracttest.AssertNonRetryable(t, err, "add 203.0.113.7: malformed JSON")
	err2 := c.Check(context.Background())
	contracttest.AssertBadResponse(t, err2)
	contracttest.AssertNonRetryable(t, err2, "list riposte_block: not an alias listing: <html>")
	noSecrets(t, logs, err)
}

func TestCheck(t *testing.T) {
	f := newFake(t)
	c, logs := newClient(t, f, nil)
	if err := c.Block(context.Background(), Block{Type: "ip", Value: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Check(context.Background()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	r := f.Requests()[1]
	if r.Method != http.MethodGet || r.Path != "/api/firewall/alias_util/list/riposte_block" {
		t.Fatalf("%s %s", r.Method, r.Path)
	}
	if e := logs.FilterMessage("check ok").All(); len(e) != 1 || e[0].ContextMap()["entries"] != int64(1) {
		t.Fatalf("check log = %v", e)
	}
	// Older releases answer a bare array of entries.
	f.override = func(w http.ResponseWriter, r *http.Request) bool {
		writeJSON(w, http.StatusOK, []string{"192.0.2.1"})
		return true
	}
	if err := c.Check(context.Background()); err != nil {
		t.Fatalf("Check with an array listing: %v", err)
	}
	noSecrets(t, logs, nil)
}
