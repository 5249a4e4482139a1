// Package httpx is the one factory for every integration's HTTP client. It is
// built on github.com/hashicorp/go-retryablehttp with at most two
// transport-level retries (Temporal owns the lasting retry), honours
// Retry-After up to a cap, applies per-call timeouts, logs through zap, and
// redacts secrets from every log line and error. Errors from Do are
// classified (see StatusError, TransportError and Temporal).
package httpx

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"go.uber.org/zap"
)

const (
	// DefaultTimeout bounds one call to Do, retries included.
	DefaultTimeout = 30 * time.Second
	// MaxRetries is the most transport-level retries one call makes.
	MaxRetries = 2
	// MaxRetryWait caps a single backoff; a Retry-After beyond it stops
	// retrying and surfaces a retryable error carrying the delay.
	MaxRetryWait = 10 * time.Second
	// maxErrorBody is how much of an error response body is read.
	maxErrorBody = 64 << 10
)

// Options configures New.
type Options struct {
	Name          string        // integration name for logs and errors
	Timeout       time.Duration // per call, default 30s
	RetryMax      int           // capped at 2, default 2 (negative means no retry)
	Logger        *zap.Logger
	Secrets       []string          // values to redact wherever they appear
	RedactHeaders []string          // extra header names; Authorization, X-Api-Key, Cookie, Proxy-Authorization, X-Auth-Token always redacted
	Transport     http.RoundTripper // for tests
	// VendorMessage extracts the human text from an error body in the
	// vendor's own shape (Jira's field errors, ServiceNow's detail). When it
	// returns "" the generic extraction applies. Its result is truncated and
	// redacted like any StatusError.VendorMessage.
	VendorMessage func(body []byte) string
}

// Client is a retrying, redacting HTTP client for one integration.
type Client struct {
	name      string
	timeout   time.Duration
	log       *zap.Logger
	red       *redactor
	rc        *retryablehttp.Client
	vendorMsg func([]byte) string
}

// New builds a Client from o.
func New(o Options) *Client {
	if o.Name == "" {
		o.Name = "http"
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	switch {
	case o.RetryMax == 0 || o.RetryMax > MaxRetries:
		o.RetryMax = MaxRetries
	case o.RetryMax < 0:
		o.RetryMax = 0
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	tr := o.Transport
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	c := &Client{
		name:      o.Name,
		timeout:   o.Timeout,
		log:       o.Logger.With(zap.String("integration", o.Name)),
		red:       newRedactor(o.Secrets, o.RedactHeaders),
		vendorMsg: o.VendorMessage,
	}
	rc := retryablehttp.NewClient()
	rc.HTTPClient = &http.Client{Transport: tr}
	rc.RetryMax = o.RetryMax
	rc.RetryWaitMin = 500 * time.Millisecond
	rc.RetryWaitMax = 5 * time.Second
	rc.CheckRetry = checkRetry
	rc.Backoff = backoff
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	rc.Logger = &zapLogger{l: c.log, r: c.red}
	c.rc = rc
	return c
}

// Name returns the integration name.
func (c *Client) Name() string { return c.name }

// Redact replaces every configured secret, and its URL-encoded and base64
// forms (including Basic/Bearer credentials), with "<redacted>".
func (c *Client) Redact(s string) string { return c.red.String(s) }

// RedactURL renders u without userinfo and with secret query values redacted.
func (c *Client) RedactURL(u *url.URL) string { return c.red.URL(u) }

// unsafeKey marks a call whose method is not idempotent (POST, PATCH).
type unsafeKey struct{}

// checkRetry decides transport-level retries. A POST or PATCH is resent only
// when the server certainly did not act on it: no connection was made, or it
// answered 408, 429 or 503. After a 502 or a reset the vendor may already
// have created the ticket; Temporal's retry, which searches first, owns that.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	unsafe, _ := ctx.Value(unsafeKey{}).(bool)
	if err != nil {
		if unsafe && !notSent(err) {
			return false, nil
		}
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	if resp == nil || !retryableStatus(resp.StatusCode) {
		return false, nil
	}
	if unsafe {
		switch resp.StatusCode {
		case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusServiceUnavailable:
		default:
			return false, nil
		}
	}
	if ra, ok := retryAfter(resp.Header); ok && ra > MaxRetryWait {
		return false, nil // surfaced as a retryable StatusError with RetryAfter
	}
	return true, nil
}

func backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if ra, ok := retryAfter(resp.Header); ok {
			if ra > MaxRetryWait {
				ra = MaxRetryWait
			}
			return ra
		}
	}
	return retryablehttp.DefaultBackoff(min, max, attempt, nil)
}

// notSent reports whether err happened before the request could reach the
// server (the connection was never made).
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// BaseURL validates an appliance's url setting: required, an absolute
// http(s) URL with a host, without credentials or a query. Errors name the
// field ("url: required"); the caller appends its API path.
func BaseURL(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, errors.New("url: required")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("url: %q is not an absolute http(s) URL", withoutUserinfo(raw))
	}
	if u.User != nil || u.RawQuery != "" {
		return nil, errors.New("url: must not carry credentials or a query")
	}
	return u, nil
}

// withoutUserinfo hides "user:password@" in a URL that may not parse, so
// a bad setting never prints its credentials.
func withoutUserinfo(raw string) string {
	at := strings.LastIndex(raw, "@")
	if at < 0 {
		return raw
	}
	start := strings.Index(raw, "://")
	if start < 0 || start > at {
		start = -3
	}
	if slash := strings.IndexAny(raw[start+3:], "/?#"); slash >= 0 && start+3+slash < at {
		return raw // the @ is in the path or query, not in the authority
	}
	return raw[:start+3] + "<redacted>" + raw[at:]
}

// Transport returns an http.Transport that trusts the PEM certificates in
// caFile besides the system roots ("" means the system roots only), so an
// internal CA never needs verification turned off.
func Transport(caFile string) (*http.Transport, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caFile == "" {
		return tr, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %s: no PEM certificate found", caFile)
	}
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return tr, nil
}

// retryAfter parses a Retry-After header given in seconds or as an HTTP date.
func retryAfter(h http.Header) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := time.Until(t)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// JSONRequest builds a request to u whose body is in encoded as JSON (nil:
// no body), asking for a JSON answer. An encoding failure is reported as
// "encode request: ...".
func JSONRequest(ctx context.Context, method, u string, in any) (*http.Request, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// Do sends req with the per-call timeout and transport-level retries. It
// returns the response for 1xx-3xx statuses; the caller closes its body.
// Other statuses yield a *StatusError (body read up to 64 KiB and closed);
// failures without a response yield a *TransportError.
func (c *Client) Do(ctx context.Context, req *http.Request) (*http.Response, error) {
	if ctx == nil {
		ctx = req.Context()
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	if method == http.MethodPost || method == http.MethodPatch {
		ctx = context.WithValue(ctx, unsafeKey{}, true)
	}
	rurl := c.red.URL(req.URL)
	rreq, err := retryablehttp.FromRequest(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, c.transportErr(method, rurl, err, false)
	}
	resp, err := c.rc.Do(rreq)
	if err != nil {
		timeout := isTimeout(err) || errors.Is(ctx.Err(), context.DeadlineExceeded)
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		cancel()
		return nil, c.transportErr(method, rurl, err, timeout)
	}
	if resp.StatusCode < 400 {
		resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
		return resp, nil
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	cancel()
	if rerr != nil && len(body) == 0 {
		body = nil
	}
	se := &StatusError{
		Integration:   c.name,
		Method:        method,
		URL:           rurl,
		Status:        resp.StatusCode,
		VendorMessage: c.red.String(c.errorMessage(body, rerr == nil)),
	}
	if ra, ok := retryAfter(resp.Header); ok {
		se.RetryAfter = ra
	}
	c.log.Debug("http error response",
		zap.String("method", method), zap.String("url", rurl),
		zap.Int("status", se.Status), zap.String("vendor_message", se.VendorMessage),
		zap.Duration("retry_after", se.RetryAfter))
	return nil, se
}

// errorMessage extracts the vendor message from an error body: the
// integration's own extractor first (only on a body read whole), then the
// generic one.
func (c *Client) errorMessage(body []byte, whole bool) string {
	if c.vendorMsg != nil && whole {
		if s := c.vendorMsg(body); s != "" {
			return truncate(s, 500)
		}
	}
	return vendorMessage(bytes.TrimSpace(body))
}

func (c *Client) transportErr(method, rurl string, err error, timeout bool) error {
	return &TransportError{
		Integration: c.name,
		Method:      method,
		URL:         rurl,
		Timeout:     timeout,
		msg:         c.red.String(err.Error()),
		err:         err,
	}
}

// cancelBody releases the per-call context when the caller closes the body.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// zapLogger adapts zap to retryablehttp.LeveledLogger, redacting every value.
type zapLogger struct {
	l *zap.Logger
	r *redactor
}

var _ retryablehttp.LeveledLogger = (*zapLogger)(nil)

func (z *zapLogger) fields(kv []interface{}) []zap.Field {
	fs := make([]zap.Field, 0, len(kv)/2+1)
	for i := 0; i < len(kv); i += 2 {
		key := fmt.Sprint(kv[i])
		if i+1 >= len(kv) {
			fs = append(fs, zap.String("extra", z.r.String(key)))
			break
		}
		var s string
		switch v := kv[i+1].(type) {
		case *url.URL:
			s = z.r.URL(v)
		case http.Header:
			s = fmt.Sprint(z.r.Header(v))
		case time.Duration:
			fs = append(fs, zap.Duration(key, v))
			continue
		case int:
			fs = append(fs, zap.Int(key, v))
			continue
		case error:
			s = v.Error()
		default:
			s = fmt.Sprint(v)
		}
		fs = append(fs, zap.String(z.r.String(key), z.r.String(s)))
	}
	return fs
}

func (z *zapLogger) Error(msg string, kv ...interface{}) {
	z.l.Warn(z.r.String(msg), z.fields(kv)...) // transient; Temporal decides if it is final
}
func (z *zapLogger) Info(msg string, kv ...interface{})  { z.l.Info(z.r.String(msg), z.fields(kv)...) }
func (z *zapLogger) Debug(msg string, kv ...interface{}) { z.l.Debug(z.r.String(msg), z.fields(kv)...) }
func (z *zapLogger) Warn(msg string, kv ...interface{})  { z.l.Warn(z.r.String(msg), z.fields(kv)...) }
