package abuseipdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/riposte-soar/riposte/integrations/httpx"
)

const (
	// DefaultURL is AbuseIPDB's public API v2 base.
	DefaultURL = "https://api.abuseipdb.com/api/v2"
	// DefaultMaxAgeDays is how far back reports count (the vendor allows 1-365).
	DefaultMaxAgeDays = 90
	// maxBody bounds a CHECK answer; verbose answers carry up to 10,000 reports.
	maxBody = 16 << 20
	name    = "abuseipdb"
)

// Config configures the client. APIKey is a secret.
type Config struct {
	URL        string        // API v2 base, default DefaultURL
	APIKey     string        // required; sent in the Key header
	MaxAgeDays int           // 1-365, default 90
	Timeout    time.Duration // per call, default httpx.DefaultTimeout
	Transport  http.RoundTripper
}

// Client calls the AbuseIPDB API.
type Client struct {
	base   *url.URL
	key    string
	maxAge int
	http   *httpx.Client
	quota  *quotaTransport
	log    *zap.Logger
}

// New validates cfg and builds a Client.
func New(cfg Config, log *zap.Logger) (*Client, error) {
	if log == nil {
		log = zap.NewNop()
	}
	var errs []error
	if cfg.URL == "" {
		cfg.URL = DefaultURL
	}
	base, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		errs = append(errs, errors.New("url: must be an absolute http(s) URL"))
	}
	if strings.TrimSpace(cfg.APIKey) == "" {
		errs = append(errs, errors.New("api_key: required"))
	}
	switch {
	case cfg.MaxAgeDays == 0:
		cfg.MaxAgeDays = DefaultMaxAgeDays
	case cfg.MaxAgeDays < 1 || cfg.MaxAgeDays > 365:
		errs = append(errs, fmt.Errorf("max_age_days: %d is outside 1-365", cfg.MaxAgeDays))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("abuseipdb: %w", err)
	}
	tr := cfg.Transport
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	qt := &quotaTransport{next: tr, now: time.Now}
	return &Client{
		base:   base,
		quota:  qt,
		key:    cfg.APIKey,
		maxAge: cfg.MaxAgeDays,
		log:    log.With(zap.String("integration", name)),
		http: httpx.New(httpx.Options{
			Name:          name,
			Timeout:       cfg.Timeout,
			Logger:        log,
			Secrets:       []string{cfg.APIKey},
			RedactHeaders: []string{"Key"},
			Transport:     qt,
			VendorMessage: errorDetail,
		}),
	}, nil
}

// Supports reports whether Enrich handles observables of type typ: only ip.
func (c *Client) Supports(typ string) bool { return typ == "ip" }

// Enrich looks up an IP address. Keys (all always present):
// abuse_confidence, total_reports, distinct_users (int64); country,
// country_name, isp, domain, usage_type, last_reported_at (string, "" when
// unknown); is_whitelisted, is_tor, is_public (bool).
func (c *Client) Enrich(ctx context.Context, typ, value string) (map[string]any, error) {
	if !c.Supports(typ) {
		return nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("abuseipdb: observable type %q not supported (ip only)", typ), "UnsupportedType", nil)
	}
	addr, err := netip.ParseAddr(strings.TrimSpace(value))
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("abuseipdb: %q is not an IP address", value), "BadInput", nil)
	}
	data, err := c.check(ctx, addr.Unmap().String(), c.maxAge, true)
	if err != nil {
		return nil, err
	}
	out := data.output()
	c.log.Debug("enriched", zap.String("type", typ), zap.String("value", addr.String()),
		zap.Int64("abuse_confidence", out["abuse_confidence"].(int64)))
	return out, nil
}

// Check proves the key is accepted with one CHECK of 127.0.0.1 (it counts
// against the daily CHECK quota like any lookup).
func (c *Client) Check(ctx context.Context) error {
	_, err := c.check(ctx, "127.0.0.1", 1, false)
	return err
}

// checkData is the documented "data" object of a CHECK answer. Pointers
// tell null or missing apart from zero.
type checkData struct {
	IPAddress            string  `json:"ipAddress"`
	IsPublic             *bool   `json:"isPublic"`
	IsWhitelisted        *bool   `json:"isWhitelisted"`
	AbuseConfidenceScore *int64  `json:"abuseConfidenceScore"`
	CountryCode          *string `json:"countryCode"`
	CountryName          *string `json:"countryName"`
	UsageType            *string `json:"usageType"`
	ISP                  *string `json:"isp"`
	Domain               *string `json:"domain"`
	IsTor                *bool   `json:"isTor"`
	TotalReports         *int64  `json:"totalReports"`
	NumDistinctUsers     *int64  `json:"numDistinctUsers"`
	LastReportedAt       *string `json:"lastReportedAt"`
}

func (d *checkData) output() map[string]any {
	s := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	b := func(p *bool) bool { return p != nil && *p }
	n := func(p *int64) int64 {
		if p == nil {
			return 0
		}
		return *p
	}
	return map[string]any{
		"abuse_confidence": n(d.AbuseConfidenceScore),
		"total_reports":    n(d.TotalReports),
		"distinct_users":   n(d.NumDistinctUsers),
		"country":          s(d.CountryCode),
		"country_name":     s(d.CountryName),
		"isp":              s(d.ISP),
		"domain":           s(d.Domain),
		"usage_type":       s(d.UsageType),
		"is_whitelisted":   b(d.IsWhitelisted),
		"is_tor":           b(d.IsTor),
		"is_public":        b(d.IsPublic),
		"last_reported_at": s(d.LastReportedAt),
	}
}

// apiErrors is AbuseIPDB's error envelope.
type apiErrors struct {
	Errors []struct {
		Detail string `json:"detail"`
		Status int    `json:"status"`
	} `json:"errors"`
}

// errorDetail is the vendor message of an error body: the first error's
// detail (httpx alone reads only "message"-style bodies).
func errorDetail(body []byte) string {
	var e apiErrors
	if json.Unmarshal(body, &e) == nil && len(e.Errors) > 0 {
		return e.Errors[0].Detail
	}
	return ""
}

func (c *Client) check(ctx context.Context, ip string, maxAge int, verbose bool) (*checkData, error) {
	// Built by hand: the documented form is a bare "verbose" flag, which
	// url.Values would render as "verbose=".
	q := "ipAddress=" + url.QueryEscape(ip) + "&maxAgeInDays=" + strconv.Itoa(maxAge)
	if verbose {
		q += "&verbose"
	}
	u := *c.base
	u.Path += "/check"
	u.RawQuery = q
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError("abuseipdb: build request: "+c.http.Redact(err.Error()), "BadInput", nil)
	}
	req.Header.Set("Key", c.key)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(ctx, req)
	if err != nil {
		return nil, httpx.Temporal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, readError(c.http.Redact(err.Error()), err)
	}
	var env struct {
		Data *checkData `json:"data"`
		apiErrors
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, httpx.Temporal(c.http.NewBadResponse("decode check answer (status %d): %v", resp.StatusCode, err))
	}
	if len(env.Errors) > 0 {
		return nil, httpx.Temporal(c.http.NewBadResponse("check answered %d with errors: %s", resp.StatusCode, env.Errors[0].Detail))
	}
	if env.Data == nil || env.Data.AbuseConfidenceScore == nil {
		return nil, httpx.Temporal(c.http.NewBadResponse("check answer has no data.abuseConfidenceScore"))
	}
	return env.Data, nil
}

// readError classifies a failure while reading a 2xx body: the answer was
// cut off, so asking again may work.
func readError(msg string, err error) error {
	typ := "Transport"
	if errors.Is(err, context.DeadlineExceeded) {
		typ = "Timeout"
	}
	return temporal.NewApplicationErrorWithOptions("abuseipdb: read check answer: "+msg, typ, temporal.ApplicationErrorOptions{})
}

// quotaTransport turns the X-RateLimit-Reset epoch that AbuseIPDB sends
// with a 429 into a Retry-After when the latter is missing, so httpx carries
// the delay to Temporal.
type quotaTransport struct {
	next http.RoundTripper
	now  func() time.Time
}

func (t *quotaTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "" {
		return resp, err
	}
	if reset, perr := strconv.ParseInt(strings.TrimSpace(resp.Header.Get("X-RateLimit-Reset")), 10, 64); perr == nil {
		if d := time.Unix(reset, 0).Sub(t.now()); d > 0 {
			resp.Header.Set("Retry-After", strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10))
		}
	}
	return resp, nil
}
