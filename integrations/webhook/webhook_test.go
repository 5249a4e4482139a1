package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riposte-soar/riposte/internal/contracttest"
)

const (
	secret      = "whsec-9f8e7d6c5b4a39281706f5e4"
	bearer      = "Bearer tok-3c1d9a7e55b04f2e"
	teamToken   = "team-token-71b2c4d6e8"
	deliveryKey = "inc-20261123-0042/notify-bus"
)

var body = []byte(`{"incident_id":"inc-20261123-0042","severity":"high","observables":[{"type":"ip","value":"203.0.113.7"}]}`)

// fixedNow is the sender's clock in these tests.
var fixedNow = time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)

func newClient(t *testing.T, srv *contracttest.Server, cfg Config) (*Client, func(error)) {
	t.Helper()
	log, logs := contracttest.Logger(t)
	if cfg.URL == "" {
		cfg.URL = srv.URL + "/hooks/riposte?tenant=soc"
	}
	c, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return fixedNow }
	return c, func(err error) {
		t.Helper()
		contracttest.NoSecrets(t, logs, err, secret, bearer, "tok-3c1d9a7e55b04f2e", teamToken)
	}
}

var signedConfig = Config{
	Name:    "soc-bus",
	Secret:  secret,
	Headers: map[string]string{"Authorization": bearer, "x-team-token": teamToken},
}

// receiverVerify checks a delivery as a receiver written from the README
// would, without using this package: HMAC-SHA256 over "<timestamp>.<raw
// body>", hex, "sha256=" prefix, and a 5-minute window around its own clock.
func receiverVerify(key string, r *http.Request, raw []byte, now time.Time) bool {
	ts := r.Header.Get("X-Riposte-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return false
	}
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(ts + "." + string(raw)))
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	return hmac.Equal([]byte(want), []byte(r.Header.Get("X-Riposte-Signature")))
}

func TestSignedDelivery(t *testing.T) {
	srv := contracttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
		// The recording server restored the raw body for the handler.
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		if !receiverVerify(secret, r, raw, fixedNow.Add(20*time.Second)) {
			http.Error(w, `{"error":"bad signature"}`, http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"queued":true}`))
	})
	c, noSecrets := newClient(t, srv, signedConfig)
	status, err := c.Post(context.Background(), deliveryKey, body)
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("Post = %d, %v; want 202, nil", status, err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/hooks/riposte" || r.RawQuery != "tenant=soc" {
		t.Errorf("request %s %s?%s", r.Method, r.Path, r.RawQuery)
	}
	if string(r.Body) != string(body) {
		t.Errorf("body %q, want it byte for byte", r.Body)
	}
	for h, want := range map[string]string{
		"Content-Type":        "application/json",
		"Idempotency-Key":     deliveryKey,
		"X-Riposte-Timestamp": "1795426200",
		"X-Riposte-Signature": "sha256=" + hmacHex(secret, "1795426200."+string(body)),
		"Authorization":       bearer,
		"X-Team-Token":        teamToken,
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("header %s = %q, want %q", h, got, want)
		}
	}
	// The package's own Verify agrees with the receiver, and rejects what
	// it must.
	now := fixedNow.Add(20 * time.Second)
	if err := Verify([]byte(secret), r.Header, r.Body, now, 0); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if err := Verify([]byte("another-secret-0123456789"), r.Header, r.Body, now, 0); err == nil || err.Error() != "webhook: signature mismatch" {
		t.Errorf("Verify with the wrong secret: %v", err)
	}
	tampered := []byte(strings.Replace(string(r.Body), "high", "low", 1))
	if err := Verify([]byte(secret), r.Header, tampered, now, 0); err == nil {
		t.Error("Verify accepted a tampered body")
	}
	if err := Verify([]byte(secret), r.Header, r.Body, fixedNow.Add(6*time.Minute), 0); err == nil ||
		err.Error() != "webhook: timestamp 1795426200 is 6m0s away from now, outside the 5m0s window" {
		t.Errorf("Verify of a replay 6 minutes later: %v", err)
	}
	if err := Verify([]byte(secret), http.Header{}, r.Body, now, 0); err == nil {
		t.Error("Verify accepted an unsigned delivery")
	}
	noSecrets(err)
}

func hmacHex(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func TestWrongSecretFailsAtReceiver(t *testing.T) {
	srv := contracttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		if !receiverVerify("receiver-has-another-secret", r, raw, fixedNow) {
			// A careless receiver echoes what it got; it must not leak.
			contracttest.WriteJSON(w, http.StatusUnauthorized, `{"error":"bad signature for Authorization `+r.Header.Get("Authorization")+`"}`)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	c, noSecrets := newClient(t, srv, signedConfig)
	status, err := c.Post(context.Background(), deliveryKey, body)
	if status != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", status)
	}
	contracttest.AssertNonRetryable(t, err, "401 Unauthorized: bad signature for Authorization <redacted>")
	noSecrets(err)
}

func TestUnsignedDelivery(t *testing.T) {
	srv := contracttest.NewServer(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	c, noSecrets := newClient(t, srv, Config{})
	status, err := c.Post(context.Background(), deliveryKey, []byte(`[1,2,3]`))
	if err != nil || status != http.StatusOK {
		t.Fatalf("Post = %d, %v", status, err)
	}
	h := srv.Requests()[0].Header
	if h.Get("X-Riposte-Signature") != "" || h.Get("X-Riposte-Timestamp") != "" {
		t.Error("signature headers sent without a secret")
	}
	if h.Get("Idempotency-Key") != deliveryKey || h.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", h)
	}
	noSecrets(err)
}

func TestStatusClassification(t *testing.T) {
	for _, tc := range []struct {
		status     int
		retryAfter string
		retryable  bool
		delay      time.Duration
		requests   int // POSTs are resent in-process only when the receiver certainly did not act
	}{
		{status: 200, requests: 1},
		{status: 204, requests: 1},
		{status: 400, requests: 1},
		{status: 401, requests: 1},
		{status: 404, requests: 1},
		{status: 410, requests: 1},
		{status: 422, requests: 1},
		{status: 429, retryAfter: "30", retryable: true, delay: 30 * time.Second, requests: 1},
		{status: 500, retryable: true, requests: 1},
		{status: 502, retryable: true, requests: 1},
		{status: 503, retryable: true, requests: 3},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			srv := contracttest.NewServer(t, func(w http.ResponseWriter, _ *http.Request) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				contracttest.WriteJSON(w, tc.status, `{"message":"receiver says `+http.StatusText(tc.status)+`"}`)
			})
			c, noSecrets := newClient(t, srv, signedConfig)
			status, err := c.Post(context.Background(), deliveryKey, body)
			if status != tc.status {
				t.Errorf("status %d, want %d", status, tc.status)
			}
			switch {
			case tc.status < 300:
				if err != nil {
					t.Errorf("2xx must succeed: %v", err)
				}
			case tc.retryable:
				contracttest.AssertRetryable(t, err, tc.delay)
			default:
				contracttest.AssertNonRetryable(t, err, "receiver says "+http.StatusText(tc.status))
			}
			reqs := srv.Requests()
			if len(reqs) != tc.requests {
				t.Errorf("%d requests, want %d", len(reqs), tc.requests)
			}
			for _, r := range reqs {
				if r.Header.Get("Idempotency-Key") != deliveryKey || string(r.Body) != string(body) {
					t.Errorf("resend without the same key and body: %v %q", r.Header, r.Body)
				}
			}
			noSecrets(err)
		})
	}
}

func TestBadInputSendsNothing(t *testing.T) {
	srv := contracttest.NewServer(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	c, noSecrets := newClient(t, srv, signedConfig)
	for _, tc := range []struct {
		key  string
		body []byte
		want string
	}{
		{deliveryKey, []byte(`{"incident_id":`), "webhook/soc-bus: body is not valid JSON"},
		{deliveryKey, []byte(``), "body is not valid JSON"},
		{deliveryKey, []byte(`incident 42`), "body is not valid JSON"},
		{"", body, "idempotency key: required"},
		{"a\r\nX-Evil: 1", body, "idempotency key: required, on one line"},
	} {
		_, err := c.Post(context.Background(), tc.key, tc.body)
		contracttest.AssertNonRetryable(t, err, tc.want)
		noSecrets(err)
	}
	if n := srv.Total(); n != 0 {
		t.Errorf("%d requests sent for bad input, want 0", n)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	var srv *contracttest.Server
	srv = contracttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hooks/riposte" {
			http.Redirect(w, r, srv.URL+"/elsewhere", http.StatusTemporaryRedirect)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	c, noSecrets := newClient(t, srv, signedConfig)
	status, err := c.Post(context.Background(), deliveryKey, body)
	contracttest.AssertNonRetryable(t, err, "answered 307 redirecting to "+srv.URL+"/elsewhere; redirects are not followed")
	if status != http.StatusTemporaryRedirect {
		t.Errorf("status %d, want 307", status)
	}
	if n := srv.Count("/elsewhere"); n != 0 {
		t.Errorf("the redirect target got %d requests, want 0", n)
	}
	noSecrets(err)
}

func TestCheckDialsOnly(t *testing.T) {
	srv := contracttest.NewServer(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	c, noSecrets := newClient(t, srv, signedConfig)
	if err := c.Check(context.Background()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if n := srv.Total(); n != 0 {
		t.Errorf("Check sent %d requests, want 0", n)
	}

	// A port nobody listens on: a retryable failure.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	down, err := New(Config{URL: "http://" + addr + "/hook", Secret: secret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = down.Check(context.Background())
	contracttest.AssertRetryable(t, err, 0)
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("error %q does not name the address", err)
	}
	noSecrets(err)
}

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "webhook: url: required"},
		{Config{Name: "bus", URL: "ftp://bus.example/x"}, "webhook/bus: url: must be an absolute http(s) URL"},
		{Config{URL: "https://bus.example/x", Secret: "short"}, "webhook: secret: at least 16 characters"},
		{Config{URL: "https://bus.example/x", Headers: map[string]string{
			"Idempotency-Key": "x", "bad header": "v", "X-Ok": "a\r\nb", "content-type": "text/plain",
		}}, "webhook: headers.Idempotency-Key: set by riposte, cannot be configured\n" +
			"headers.X-Ok: value has a line break or NUL\n" +
			"headers.bad header: not a valid header name\n" +
			"headers.content-type: set by riposte, cannot be configured"},
	} {
		_, err := New(tc.cfg, nil)
		if err == nil || err.Error() != tc.want {
			t.Errorf("New(%+v)\n got %v\nwant %s", tc.cfg, err, tc.want)
		}
	}
}
