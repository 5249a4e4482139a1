package abuseipdb

import (
	"context"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riposte-soar/riposte/internal/contracttest"
)

// apiKey has the documented shape of an APIv2 key (80 lowercase alphanumerics).
const apiKey = "c0ffee11deadbeef22a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f2a4"

// sampleCheck is the documented verbose CHECK answer for 118.25.6.39.
const sampleCheck = `{
  "data": {
    "ipAddress": "118.25.6.39",
    "isPublic": true,
    "ipVersion": 4,
    "isWhitelisted": false,
    "abuseConfidenceScore": 100,
    "countryCode": "CN",
    "countryName": "China",
    "usageType": "Data Center/Web Hosting/Transit",
    "isp": "Tencent Cloud Computing (Beijing) Co. Ltd",
    "domain": "tencent.com",
    "hostnames": [],
    "isTor": false,
    "totalReports": 1,
    "numDistinctUsers": 1,
    "lastReportedAt": "2018-12-20T20:55:14+00:00",
    "reports": [
      {
        "reportedAt": "2018-12-20T20:55:14+00:00",
        "comment": "Dec 20 20:55:14 srv206 sshd[13937]: Invalid user oracle from 118.25.6.39",
        "categories": [18, 22],
        "reporterId": 1,
        "reporterCountryCode": "US",
        "reporterCountryName": "United States"
      }
    ]
  }
}`

const authFailed = `{"errors":[{"detail":"Authentication failed. Your API key is either missing, incorrect, or revoked. Note: The APIv2 key differs from the APIv1 key.","status":401}]}`

const dailyLimit = `{"errors":[{"detail":"Daily rate limit of 1000 requests exceeded for this endpoint. See headers for additional details.","status":429}]}`

// fakeAbuseIPDB answers like api.abuseipdb.com/api/v2: it rejects requests
// without the key or the JSON Accept header the way the API does, and hands
// valid ones to answer.
func fakeAbuseIPDB(t *testing.T, answer http.HandlerFunc) *contracttest.Server {
	t.Helper()
	return contracttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Key") != apiKey {
			contracttest.WriteJSON(w, http.StatusUnauthorized, authFailed)
			return
		}
		if r.Method != http.MethodGet || r.URL.Path != "/api/v2/check" {
			contracttest.WriteJSON(w, http.StatusNotFound, `{"errors":[{"detail":"Not found.","status":404}]}`)
			return
		}
		answer(w, r)
	})
}

func newClient(t *testing.T, srv *contracttest.Server, key string) (*Client, func(error)) {
	t.Helper()
	log, logs := contracttest.Logger(t)
	c, err := New(Config{URL: srv.URL + "/api/v2", APIKey: key}, log)
	if err != nil {
		t.Fatal(err)
	}
	noSecrets := func(err error) {
		t.Helper()
		contracttest.NoSecrets(t, logs, err, key)
	}
	return c, noSecrets
}

func TestEnrichRequestAndOutput(t *testing.T) {
	srv := fakeAbuseIPDB(t, func(w http.ResponseWriter, _ *http.Request) {
		contracttest.WriteJSON(w, http.StatusOK, sampleCheck)
	})
	c, noSecrets := newClient(t, srv, apiKey)
	out, err := c.Enrich(context.Background(), "ip", "118.25.6.39")
	if err != nil {
		t.Fatalf("Enrich: %v", err)
	}
	want := map[string]any{
		"abuse_confidence": int64(100),
		"total_reports":    int64(1),
		"distinct_users":   int64(1),
		"country":          "CN",
		"country_name":     "China",
		"isp":              "Tencent Cloud Computing (Beijing) Co. Ltd",
		"domain":           "tencent.com",
		"usage_type":       "Data Center/Web Hosting/Transit",
		"is_whitelisted":   false,
		"is_tor":           false,
		"is_public":        true,
		"last_reported_at": "2018-12-20T20:55:14+00:00",
	}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("output\n got %#v\nwant %#v", out, want)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodGet || r.Path != "/api/v2/check" {
		t.Errorf("request %s %s, want GET /api/v2/check", r.Method, r.Path)
	}
	if r.RawQuery != "ipAddress=118.25.6.39&maxAgeInDays=90&verbose" {
		t.Errorf("query %q", r.RawQuery)
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		t.Errorf("Accept = %q", got)
	}
	if got := r.Header.Get("Key"); got != apiKey {
		t.Errorf("Key header not sent")
	}
	if len(r.Body) != 0 {
		t.Errorf("GET carried a body: %q", r.Body)
	}
	noSecrets(err)
}

func TestEnrichIPv6AndNulls(t *testing.T) {
	// A fresh, unreported address: the API sends nulls for unknown fields.
	srv := fakeAbuseIPDB(t, func(w http.ResponseWriter, r *http.Request) {
		contracttest.WriteJSON(w, http.StatusOK, `{"data":{"ipAddress":"2001:db8::1","isPublic":false,"ipVersion":6,
			"isWhitelisted":null,"abuseConfidenceScore":0,"countryCode":null,"usageType":"Reserved","isp":"","domain":null,
			"hostnames":[],"isTor":false,"totalReports":0,"numDistinctUsers":0,"lastReportedAt":null}}`)
	})
	c, noSecrets := newClient(t, srv, apiKey)
	c.maxAge = 30
	out, err := c.Enrich(context.Background(), "ip", " 2001:DB8::1 ")
	if err != nil {
		t.Fatalf("Enrich: %v", err)
	}
	want := map[string]any{
		"abuse_confidence": int64(0), "total_reports": int64(0), "distinct_users": int64(0),
		"country": "", "country_name": "", "isp": "", "domain": "", "usage_type": "Reserved",
		"is_whitelisted": false, "is_tor": false, "is_public": false, "last_reported_at": "",
	}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("output\n got %#v\nwant %#v", out, want)
	}
	if q := srv.Requests()[0].RawQuery; q != "ipAddress=2001%3Adb8%3A%3A1&maxAgeInDays=30&verbose" {
		t.Errorf("query %q, want the IPv6 address URL-encoded", q)
	}
	noSecrets(nil)
}

func TestBadInputSendsNothing(t *testing.T) {
	srv := fakeAbuseIPDB(t, func(w http.ResponseWriter, _ *http.Request) {
		contracttest.WriteJSON(w, http.StatusOK, sampleCheck)
	})
	c, _ := newClient(t, srv, apiKey)
	for _, tc := range []struct{ typ, value, want string }{
		{"domain", "example.com", `observable type "domain" not supported`},
		{"ip", "118.25.6", `"118.25.6" is not an IP address`},
		{"ip", "10.0.0.1/8", `is not an IP address`},
	} {
		_, err := c.Enrich(context.Background(), tc.typ, tc.value)
		contracttest.AssertNonRetryable(t, err, tc.want)
	}
	if c.Supports("domain") || c.Supports("hash") || c.Supports("url") || !c.Supports("ip") {
		t.Error("Supports must be true for ip only")
	}
	if n := srv.Total(); n != 0 {
		t.Errorf("%d requests sent for bad input, want 0", n)
	}
}

func TestDailyQuotaRetryAfter(t *testing.T) {
	srv := fakeAbuseIPDB(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.Header().Set("X-RateLimit-Limit", "1000")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(30*time.Second).Unix(), 10))
		contracttest.WriteJSON(w, http.StatusTooManyRequests, dailyLimit)
	})
	c, noSecrets := newClient(t, srv, apiKey)
	_, err := c.Enrich(context.Background(), "ip", "118.25.6.39")
	contracttest.AssertRetryable(t, err, 30*time.Second)
	if !strings.Contains(err.Error(), "Daily rate limit of 1000 requests exceeded") {
		t.Errorf("error %q does not carry AbuseIPDB's detail", err)
	}
	if n := srv.Total(); n != 1 {
		t.Errorf("%d requests, want exactly 1 (the quota answer is not retried in-process)", n)
	}
	noSecrets(err)
}

func TestDailyQuotaResetEpochWithoutRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)
	srv := fakeAbuseIPDB(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-RateLimit-Limit", "1000")
		w.Header().Set("X-RateLimit-Remaining", "0")
		// The daily quota resets at midnight UTC: six hours later.
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC).Unix(), 10))
		contracttest.WriteJSON(w, http.StatusTooManyRequests, dailyLimit)
	})
	c, noSecrets := newClient(t, srv, apiKey)
	c.quota.now = func() time.Time { return now }
	_, err := c.Enrich(context.Background(), "ip", "118.25.6.39")
	contracttest.AssertRetryable(t, err, 6*time.Hour)
	if n := srv.Total(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	noSecrets(err)
}

func TestServiceUnavailableRetryable(t *testing.T) {
	srv := fakeAbuseIPDB(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("<html><body>503 Service Temporarily Unavailable</body></html>"))
	})
	c, noSecrets := newClient(t, srv, apiKey)
	_, err := c.Enrich(context.Background(), "ip", "118.25.6.39")
	contracttest.AssertRetryable(t, err, 0)
	if !strings.Contains(err.Error(), "503") {
		t.Errorf("error %q does not name the status", err)
	}
	// httpx retries a GET at most twice for transport blips; Temporal owns the rest.
	if n := srv.Total(); n != 3 {
		t.Errorf("%d requests, want 3 (one call and two transport retries)", n)
	}
	noSecrets(err)
}

func TestWrongKeyNonRetryable(t *testing.T) {
	srv := fakeAbuseIPDB(t, func(w http.ResponseWriter, _ *http.Request) {
		contracttest.WriteJSON(w, http.StatusOK, sampleCheck)
	})
	const wrong = "wrongwrongwrong0123456789abcdefwrongwrongwrong0123456789abcdefwrongwrong01234567"
	c, noSecrets := newClient(t, srv, wrong)
	_, err := c.Enrich(context.Background(), "ip", "118.25.6.39")
	contracttest.AssertNonRetryable(t, err, "Authentication failed. Your API key is either missing, incorrect, or revoked.")
	// The vendor message is the detail itself, not the start of the JSON body.
	if !strings.HasSuffix(strings.TrimSuffix(err.Error(), " (type: HTTP401, retryable: false)"),
		": 401 Unauthorized: Authentication failed. Your API key is either missing, incorrect, or revoked. Note: The APIv2 key differs from the APIv1 key.") {
		t.Errorf("error %q does not end with AbuseIPDB's detail", err)
	}
	if n := srv.Total(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	noSecrets(err)

	err = c.Check(context.Background())
	contracttest.AssertNonRetryable(t, err, "401")
	noSecrets(err)
}

func TestUnusableAnswers(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"malformed JSON", `{"data":{"ipAddress":"118.25.6.39","abuseConfidenceScore":`},
		{"HTML from a proxy", `<html><body>Please log in</body></html>`},
		{"no data", `{"meta":{}}`},
		{"no score", `{"data":{"ipAddress":"118.25.6.39"}}`},
		{"errors in a 200", `{"errors":[{"detail":"The ip address must be a valid IPv4 or IPv6 address (e.g. 8.8.8.8 or 2001:4860:4860::8888).","status":422}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakeAbuseIPDB(t, func(w http.ResponseWriter, _ *http.Request) {
				contracttest.WriteJSON(w, http.StatusOK, tc.body)
			})
			c, noSecrets := newClient(t, srv, apiKey)
			_, err := c.Enrich(context.Background(), "ip", "118.25.6.39")
			contracttest.AssertBadResponse(t, err)
			if n := srv.Total(); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
			noSecrets(err)
		})
	}
}

func TestCheck(t *testing.T) {
	srv := fakeAbuseIPDB(t, func(w http.ResponseWriter, _ *http.Request) {
		contracttest.WriteJSON(w, http.StatusOK, `{"data":{"ipAddress":"127.0.0.1","isPublic":false,"ipVersion":4,
			"isWhitelisted":false,"abuseConfidenceScore":0,"countryCode":null,"usageType":"Reserved","isp":"Loopback",
			"domain":null,"hostnames":["localhost"],"isTor":false,"totalReports":0,"numDistinctUsers":0,"lastReportedAt":null}}`)
	})
	c, noSecrets := newClient(t, srv, apiKey)
	if err := c.Check(context.Background()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if q := srv.Requests()[0].RawQuery; q != "ipAddress=127.0.0.1&maxAgeInDays=1" {
		t.Errorf("Check query %q", q)
	}
	noSecrets(nil)
}

func TestNewValidates(t *testing.T) {
	if _, err := New(Config{}, nil); err == nil || err.Error() != "abuseipdb: api_key: required" {
		t.Errorf("empty config: %v", err)
	}
	if _, err := New(Config{APIKey: apiKey, URL: "api.abuseipdb.com", MaxAgeDays: 366}, nil); err == nil ||
		err.Error() != "abuseipdb: url: must be an absolute http(s) URL\nmax_age_days: 366 is outside 1-365" {
		t.Errorf("bad url and age: %v", err)
	}
	c, err := New(Config{APIKey: apiKey}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.base.String() != DefaultURL || c.maxAge != 90 {
		t.Errorf("defaults: url %s, max age %d", c.base, c.maxAge)
	}
}
