package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/riposte-soar/riposte/integrations/httpx"
)

// Header names set on every delivery.
const (
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderTimestamp      = "X-Riposte-Timestamp"
	HeaderSignature      = "X-Riposte-Signature"
	// SignaturePrefix precedes the hex HMAC in HeaderSignature.
	SignaturePrefix = "sha256="
	// DefaultReplayWindow is the age (either way) beyond which Verify
	// rejects a delivery's timestamp.
	DefaultReplayWindow = 5 * time.Minute
	// MinSecretLen keeps signing keys out of guessing range, and long
	// enough for the log redactor to recognise.
	MinSecretLen = 16
)

// reserved headers are set by the package; configuring them is an error.
var reserved = map[string]bool{
	"Content-Type": true, "Content-Length": true, "Host": true, "Transfer-Encoding": true, "Connection": true,
	HeaderIdempotencyKey: true, HeaderTimestamp: true, HeaderSignature: true,
}

// Config configures one outbound webhook. Every header value and Secret are
// secrets.
type Config struct {
	Name      string            // names the webhook in logs and errors
	URL       string            // required, http or https
	Headers   map[string]string // extra request headers, e.g. Authorization
	Secret    string            // optional HMAC-SHA256 key, at least MinSecretLen bytes
	Timeout   time.Duration     // per call, default httpx.DefaultTimeout
	CAFile    string            // PEM bundle for a receiver behind an internal CA
	Transport http.RoundTripper // for tests; overrides CAFile
}

// Client posts to one webhook receiver.
type Client struct {
	name    string
	url     *url.URL
	headers http.Header
	secret  []byte
	timeout time.Duration
	http    *httpx.Client
	log     *zap.Logger
	now     func() time.Time
}

// New validates cfg and builds a Client.
func New(cfg Config, log *zap.Logger) (*Client, error) {
	if log == nil {
		log = zap.NewNop()
	}
	name := "webhook"
	if cfg.Name != "" {
		name += "/" + cfg.Name
	}
	var errs []error
	u, err := url.Parse(cfg.URL)
	switch {
	case cfg.URL == "":
		errs = append(errs, errors.New("url: required"))
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		errs = append(errs, errors.New("url: must be an absolute http(s) URL"))
	}
	secrets := []string{cfg.Secret}
	if u != nil && u.User != nil {
		p, _ := u.User.Password()
		secrets = append(secrets, p, u.User.String())
	}
	if cfg.Secret != "" && len(cfg.Secret) < MinSecretLen {
		errs = append(errs, fmt.Errorf("secret: at least %d characters", MinSecretLen))
	}
	hdr := http.Header{}
	var redact []string
	names := make([]string, 0, len(cfg.Headers))
	for k := range cfg.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := cfg.Headers[k]
		ck := http.CanonicalHeaderKey(k)
		switch {
		case !isToken(k):
			errs = append(errs, fmt.Errorf("headers.%s: not a valid header name", k))
		case reserved[ck]:
			errs = append(errs, fmt.Errorf("headers.%s: set by riposte, cannot be configured", k))
		case strings.ContainsAny(v, "\r\n\x00"):
			errs = append(errs, fmt.Errorf("headers.%s: value has a line break or NUL", k))
		default:
			hdr.Set(ck, v)
			redact = append(redact, ck)
			secrets = append(secrets, v)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	tr := cfg.Transport
	if tr == nil {
		t, err := httpx.Transport(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		tr = t
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = httpx.DefaultTimeout
	}
	return &Client{
		name:    name,
		url:     u,
		headers: hdr,
		secret:  []byte(cfg.Secret),
		timeout: timeout,
		log:     log.With(zap.String("integration", name)),
		now:     time.Now,
		http: httpx.New(httpx.Options{
			Name:          name,
			Timeout:       timeout,
			Logger:        log,
			Secrets:       secrets,
			RedactHeaders: redact,
			Transport:     noRedirect{tr},
		}),
	}, nil
}

// isToken reports whether s is an RFC 9110 token (a valid header name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("!#$%&'*+-.^_`|~", r):
		default:
			return false
		}
	}
	return true
}

// Sign returns the X-Riposte-Signature value for body sent at timestamp ts
// (Unix seconds): "sha256=" and the hex HMAC-SHA256 of "<ts>.<body>".
func Sign(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return SignaturePrefix + hex.EncodeToString(m.Sum(nil))
}

// Post delivers body (a JSON document) with key as its Idempotency-Key; a
// retry of the same delivery must reuse the key. It returns the receiver's
// status when one answered. Errors are Temporal application errors.
func (c *Client) Post(ctx context.Context, key string, body []byte) (int, error) {
	if key == "" || strings.ContainsAny(key, "\r\n\x00") {
		return 0, temporal.NewNonRetryableApplicationError(c.name+": idempotency key: required, on one line", "BadInput", nil)
	}
	if !json.Valid(body) {
		return 0, temporal.NewNonRetryableApplicationError(c.name+": body is not valid JSON", "BadInput", nil)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url.String(), bytes.NewReader(body))
	if err != nil {
		return 0, temporal.NewNonRetryableApplicationError(c.name+": build request: "+c.http.Redact(err.Error()), "BadInput", nil)
	}
	for k, v := range c.headers {
		req.Header[k] = append([]string(nil), v...)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "riposte-webhook")
	req.Header.Set(HeaderIdempotencyKey, key)
	if len(c.secret) > 0 {
		// Signed once per call: transport-level resends carry the same
		// timestamp, Temporal's retries a fresh one.
		ts := strconv.FormatInt(c.now().Unix(), 10)
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, Sign(c.secret, ts, body))
	}
	resp, err := c.http.Do(ctx, req)
	if err != nil {
		var rd *redirectError
		if errors.As(err, &rd) {
			return rd.status, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
				"%s: POST %s: receiver answered %d redirecting to %s; redirects are not followed, configure the final URL",
				c.name, c.http.RedactURL(c.url), rd.status, c.http.Redact(rd.location)), "Redirect", nil)
		}
		var se *httpx.StatusError
		status := 0
		if errors.As(err, &se) {
			status = se.Status
		}
		return status, httpx.Temporal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // reuse the connection
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: POST %s: unexpected status %d",
			c.name, c.http.RedactURL(c.url), resp.StatusCode), "HTTP"+strconv.Itoa(resp.StatusCode), nil)
	}
	c.log.Debug("delivered", zap.String("idempotency_key", key), zap.Int("status", resp.StatusCode), zap.Int("bytes", len(body)))
	return resp.StatusCode, nil
}

// Check dials the receiver's host and port with TCP and hangs up: it proves
// reachability without sending a request the receiver would have to handle.
func (c *Client) Check(ctx context.Context) error {
	port := c.url.Port()
	if port == "" {
		port = "443"
		if c.url.Scheme == "http" {
			port = "80"
		}
	}
	addr := net.JoinHostPort(c.url.Hostname(), port)
	d := net.Dialer{Timeout: c.timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return httpx.Temporal(fmt.Errorf("%s: check: %w", c.name, err))
	}
	return conn.Close()
}

// Verify checks a delivery the way a receiver must: the timestamp header is
// within window of now (DefaultReplayWindow when window <= 0), and the
// signature header equals Sign(secret, timestamp, body) for the raw body
// bytes as received, compared in constant time. Receivers should also drop a
// repeated Idempotency-Key seen within the window.
func Verify(secret []byte, h http.Header, body []byte, now time.Time, window time.Duration) error {
	if window <= 0 {
		window = DefaultReplayWindow
	}
	ts := h.Get(HeaderTimestamp)
	sig := h.Get(HeaderSignature)
	if ts == "" || sig == "" {
		return errors.New("webhook: missing signature or timestamp header")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook: bad timestamp %q", ts)
	}
	if age := now.Sub(time.Unix(sec, 0)); age > window || age < -window {
		return fmt.Errorf("webhook: timestamp %s is %s away from now, outside the %s window", ts, age.Round(time.Second), window)
	}
	if !hmac.Equal([]byte(sig), []byte(Sign(secret, ts, body))) {
		return errors.New("webhook: signature mismatch")
	}
	return nil
}

// redirectError stops http.Client from following a redirect.
type redirectError struct {
	status   int
	location string
}

func (e *redirectError) Error() string {
	return fmt.Sprintf("redirect %d to %s not followed", e.status, e.location)
}

// noRedirect refuses the follow-up request that http.Client builds for a 3xx
// answer (it sets req.Response only then).
type noRedirect struct{ next http.RoundTripper }

func (t noRedirect) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Response != nil {
		return nil, &redirectError{status: req.Response.StatusCode, location: req.URL.String()}
	}
	return t.next.RoundTrip(req)
}
