package virustotal

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/riposte-soar/riposte/internal/contracttest"
)

// apiKey has the shape of a VirusTotal key (64 hex characters).
const apiKey = "4e3202fdbe953d628f650229af5b3eb49cd46b2d3bfe5546ae3c5fa48b554e0c"

const (
	fileSHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
	urlID      = "aHR0cHM6Ly9ldmlsLmV4YW1wbGUvbG9naW4_bmV4dD0-Pn5-JmlkPT8-Pw"
	urlSHA256  = "1d5d8a1f0e4f6b3e5a2c9a0b6f0c2a7d1e3b5c7d9f1a3b5c7d9e1f3a5b7c9d1e"
)

// Object answers shaped like the documented v3 IP address, domain, file and
// URL objects (trimmed: last_analysis_results keeps one engine).
var objects = map[string]string{
	"/api/v3/ip_addresses/8.8.8.8": `{"data":{"id":"8.8.8.8","type":"ip_address",
		"links":{"self":"https://www.virustotal.com/api/v3/ip_addresses/8.8.8.8"},
		"attributes":{"as_owner":"GOOGLE","asn":15169,"continent":"NA","country":"US","network":"8.8.8.0/24",
		"regional_internet_registry":"ARIN","jarm":"29d3fd00029d29d00042d43d00041d598ac0c1012db967bb1ad0ff2491b3ae",
		"last_analysis_date":1700000000,
		"last_analysis_stats":{"harmless":62,"malicious":1,"suspicious":0,"undetected":26,"timeout":0},
		"last_analysis_results":{"CRDF":{"category":"malicious","engine_name":"CRDF","method":"blacklist","result":"malicious"}},
		"reputation":524,"tags":[],"total_votes":{"harmless":226,"malicious":41},
		"whois":"NetRange: 8.8.8.0 - 8.8.8.255\nOrgName: Google LLC\n","whois_date":1699000000}}}`,
	"/api/v3/domains/example.com": `{"data":{"id":"example.com","type":"domain",
		"links":{"self":"https://www.virustotal.com/api/v3/domains/example.com"},
		"attributes":{"categories":{"Forcepoint ThreatSeeker":"information technology"},"creation_date":808372800,
		"last_analysis_date":1700003600,
		"last_analysis_stats":{"harmless":66,"malicious":0,"suspicious":0,"undetected":23,"timeout":0},
		"registrar":"RESERVED-Internet Assigned Numbers Authority","reputation":1,"tags":[],"tld":"com",
		"total_votes":{"harmless":3,"malicious":0}}}}`,
	"/api/v3/files/" + fileSHA256: `{"data":{"id":"` + fileSHA256 + `","type":"file",
		"links":{"self":"https://www.virustotal.com/api/v3/files/` + fileSHA256 + `"},
		"attributes":{"md5":"44d88612fea8a8f36de82e1278abb02f","sha1":"3395856ce81f2b7382dee72602f798b642f14140",
		"sha256":"` + fileSHA256 + `","size":68,"type_description":"Text","type_tag":"text",
		"meaningful_name":"eicar.com","names":["eicar.com","eicar.txt"],"last_analysis_date":1700007200,
		"last_analysis_stats":{"harmless":0,"type-unsupported":9,"suspicious":0,"confirmed-timeout":0,"timeout":0,
		"failure":0,"malicious":62,"undetected":5},"reputation":3480,"times_submitted":1000000,
		"total_votes":{"harmless":100,"malicious":50}}}}`,
	"/api/v3/urls/" + urlID: `{"data":{"id":"` + urlSHA256 + `","type":"url",
		"links":{"self":"https://www.virustotal.com/api/v3/urls/` + urlSHA256 + `"},
		"attributes":{"url":"https://evil.example/login?next=>>~~&id=?>?","last_final_url":"https://evil.example/signin",
		"title":"Sign in","last_http_response_code":200,"last_analysis_date":1700010800,
		"last_analysis_stats":{"harmless":50,"malicious":9,"suspicious":2,"undetected":20,"timeout":0},
		"reputation":-12,"times_submitted":4,"total_votes":{"harmless":0,"malicious":2}}}}`,
}

const (
	wrongCredentials = `{"error":{"code":"WrongCredentialsError","message":"Wrong API key"}}`
	quotaExceeded    = `{"error":{"code":"QuotaExceededError","message":"Quota exceeded"}}`
)

// fakeVT answers like www.virustotal.com/api/v3: the x-apikey header is
// required, known objects are served, any other object is NotFoundError.
// override, when set, answers instead for authenticated requests.
func fakeVT(t *testing.T, override http.HandlerFunc) *contracttest.Server {
	t.Helper()
	return contracttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch key := r.Header.Get("x-apikey"); {
		case key == "":
			contracttest.WriteJSON(w, http.StatusUnauthorized, `{"error":{"code":"AuthenticationRequiredError","message":"X-Apikey header is missing"}}`)
			return
		case key != apiKey:
			contracttest.WriteJSON(w, http.StatusUnauthorized, wrongCredentials)
			return
		}
		if override != nil {
			override(w, r)
			return
		}
		if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/api/v3/") {
			http.NotFound(w, r)
			return
		}
		if body, ok := objects[r.URL.EscapedPath()]; ok {
			contracttest.WriteJSON(w, http.StatusOK, body)
			return
		}
		id := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		contracttest.WriteJSON(w, http.StatusNotFound, `{"error":{"code":"NotFoundError","message":"Resource \"`+id+`\" not found"}}`)
	})
}

func newClient(t *testing.T, srv *contracttest.Server, key string) (*Client, func(error)) {
	t.Helper()
	log, logs := contracttest.Logger(t)
	c, err := New(Config{URL: srv.URL + "/api/v3", APIKey: key}, log)
	if err != nil {
		t.Fatal(err)
	}
	return c, func(err error) { t.Helper(); contracttest.NoSecrets(t, logs, err, key) }
}

func TestEnrichEachType(t *testing.T) {
	srv := fakeVT(t, nil)
	c, noSecrets := newClient(t, srv, apiKey)
	for _, tc := range []struct {
		typ, value, path string
		want             map[string]any
	}{
		{"ip", "8.8.8.8", "/api/v3/ip_addresses/8.8.8.8", map[string]any{
			"vt_found": true, "vt_malicious": int64(1), "vt_suspicious": int64(0), "vt_harmless": int64(62),
			"vt_undetected": int64(26), "vt_reputation": int64(524), "vt_last_analysis_at": "2023-11-14T22:13:20Z",
			"vt_link": "https://www.virustotal.com/gui/ip-address/8.8.8.8",
			"country": "US", "as_owner": "GOOGLE", "asn": int64(15169), "network": "8.8.8.0/24",
		}},
		{"domain", "Example.COM.", "/api/v3/domains/example.com", map[string]any{
			"vt_found": true, "vt_malicious": int64(0), "vt_suspicious": int64(0), "vt_harmless": int64(66),
			"vt_undetected": int64(23), "vt_reputation": int64(1), "vt_last_analysis_at": "2023-11-14T23:13:20Z",
			"vt_link":   "https://www.virustotal.com/gui/domain/example.com",
			"registrar": "RESERVED-Internet Assigned Numbers Authority",
		}},
		{"hash_sha256", strings.ToUpper(fileSHA256), "/api/v3/files/" + fileSHA256, map[string]any{
			"vt_found": true, "vt_malicious": int64(62), "vt_suspicious": int64(0), "vt_harmless": int64(0),
			"vt_undetected": int64(5), "vt_reputation": int64(3480), "vt_last_analysis_at": "2023-11-15T00:13:20Z",
			"vt_link":         "https://www.virustotal.com/gui/file/" + fileSHA256,
			"meaningful_name": "eicar.com", "type_description": "Text", "sha256": fileSHA256, "size": int64(68),
		}},
		{"url", "https://evil.example/login?next=>>~~&id=?>?", "/api/v3/urls/" + urlID, map[string]any{
			"vt_found": true, "vt_malicious": int64(9), "vt_suspicious": int64(2), "vt_harmless": int64(50),
			"vt_undetected": int64(20), "vt_reputation": int64(-12), "vt_last_analysis_at": "2023-11-15T01:13:20Z",
			"vt_link":   "https://www.virustotal.com/gui/url/" + urlSHA256,
			"final_url": "https://evil.example/signin", "title": "Sign in",
		}},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			before := srv.Total()
			out, err := c.Enrich(context.Background(), tc.typ, tc.value)
			if err != nil {
				t.Fatalf("Enrich: %v", err)
			}
			if !reflect.DeepEqual(out, tc.want) {
				t.Errorf("output\n got %#v\nwant %#v", out, tc.want)
			}
			reqs := srv.Requests()
			if len(reqs) != before+1 {
				t.Fatalf("%d requests, want 1", len(reqs)-before)
			}
			r := reqs[before]
			if r.Method != http.MethodGet || r.Path != tc.path || r.RawQuery != "" {
				t.Errorf("request %s %s?%s, want GET %s", r.Method, r.Path, r.RawQuery, tc.path)
			}
			if r.Header.Get("x-apikey") != apiKey {
				t.Error("x-apikey header not sent")
			}
			if got := r.Header.Get("Accept"); got != "application/json" {
				t.Errorf("Accept = %q", got)
			}
			noSecrets(err)
		})
	}
}

func TestNotFoundIsNotAnError(t *testing.T) {
	srv := fakeVT(t, nil)
	c, noSecrets := newClient(t, srv, apiKey)
	const md5 = "d41d8cd98f00b204e9800998ecf8427e"
	out, err := c.Enrich(context.Background(), "hash", md5)
	if err != nil {
		t.Fatalf("Enrich: %v", err)
	}
	want := map[string]any{
		"vt_found": false, "vt_malicious": int64(0), "vt_suspicious": int64(0), "vt_harmless": int64(0),
		"vt_undetected": int64(0), "vt_reputation": int64(0), "vt_last_analysis_at": "",
		"vt_link":         "https://www.virustotal.com/gui/file/" + md5,
		"meaningful_name": "", "type_description": "", "sha256": "", "size": int64(0),
	}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("output\n got %#v\nwant %#v", out, want)
	}
	out, err = c.Enrich(context.Background(), "url", "http://www.google.com/")
	if err != nil {
		t.Fatalf("Enrich url: %v", err)
	}
	if out["vt_found"] != false || out["vt_link"] != "https://www.virustotal.com/gui/search/http:%2F%2Fwww.google.com%2F" {
		t.Errorf("unknown url: %#v", out)
	}
	if p := srv.Requests()[1].Path; p != "/api/v3/urls/aHR0cDovL3d3dy5nb29nbGUuY29tLw" {
		t.Errorf("url id path %s", p)
	}
	if n := srv.Total(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
	noSecrets(err)
}

func TestBare404IsAnError(t *testing.T) {
	// A wrong base URL answers 404 without VirusTotal's error code; that
	// must not read as "unknown observable".
	srv := fakeVT(t, nil)
	log, logs := contracttest.Logger(t)
	c, err := New(Config{URL: srv.URL + "/vt/api/v3", APIKey: apiKey}, log)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Enrich(context.Background(), "ip", "8.8.8.8")
	contracttest.AssertNonRetryable(t, err, "404")
	contracttest.NoSecrets(t, logs, err, apiKey)
}

func TestQuotaExceeded(t *testing.T) {
	for _, tc := range []struct {
		name, retryAfter string
		want             time.Duration
	}{
		{"Retry-After 30", "30", 30 * time.Second},
		{"no Retry-After", "", DefaultQuotaDelay},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakeVT(t, func(w http.ResponseWriter, _ *http.Request) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				contracttest.WriteJSON(w, http.StatusTooManyRequests, quotaExceeded)
			})
			c, noSecrets := newClient(t, srv, apiKey)
			_, err := c.Enrich(context.Background(), "domain", "example.com")
			contracttest.AssertRetryable(t, err, tc.want)
			if !strings.Contains(err.Error(), "QuotaExceededError: Quota exceeded") {
				t.Errorf("error %q does not carry VirusTotal's code and message", err)
			}
			if n := srv.Total(); n != 1 {
				t.Errorf("%d requests, want exactly 1", n)
			}
			noSecrets(err)
		})
	}
}

func TestTransientErrorRetryable(t *testing.T) {
	srv := fakeVT(t, func(w http.ResponseWriter, _ *http.Request) {
		contracttest.WriteJSON(w, http.StatusServiceUnavailable, `{"error":{"code":"TransientError","message":"Transient server error. Retry might work."}}`)
	})
	c, noSecrets := newClient(t, srv, apiKey)
	_, err := c.Enrich(context.Background(), "ip", "8.8.8.8")
	contracttest.AssertRetryable(t, err, 0)
	if !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "TransientError") {
		t.Errorf("error %q", err)
	}
	if n := srv.Total(); n != 3 {
		t.Errorf("%d requests, want 3 (one call and two transport retries)", n)
	}
	noSecrets(err)
}

func TestWrongCredentials(t *testing.T) {
	srv := fakeVT(t, nil)
	const wrong = "0000000000000000000000000000000000000000000000000000000000wrong1"
	c, noSecrets := newClient(t, srv, wrong)
	_, err := c.Enrich(context.Background(), "ip", "8.8.8.8")
	contracttest.AssertNonRetryable(t, err, "401 Unauthorized: WrongCredentialsError: Wrong API key")
	if n := srv.Total(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	noSecrets(err)
	err = c.Check(context.Background())
	contracttest.AssertNonRetryable(t, err, "WrongCredentialsError")
	noSecrets(err)
}

func TestUnusableAnswers(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"malformed JSON", `{"data":{"id":"8.8.8.8","attributes":{"reputation":`},
		{"HTML", `<!doctype html><title>VirusTotal</title>`},
		{"no attributes", `{"data":{"id":"8.8.8.8","type":"ip_address"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakeVT(t, func(w http.ResponseWriter, _ *http.Request) {
				contracttest.WriteJSON(w, http.StatusOK, tc.body)
			})
			c, noSecrets := newClient(t, srv, apiKey)
			_, err := c.Enrich(context.Background(), "ip", "8.8.8.8")
			contracttest.AssertBadResponse(t, err)
			if n := srv.Total(); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
			noSecrets(err)
		})
	}
}

func TestBadInputSendsNothing(t *testing.T) {
	srv := fakeVT(t, nil)
	c, _ := newClient(t, srv, apiKey)
	for _, tc := range []struct{ typ, value, want string }{
		{"email", "a@example.com", `observable type "email" not supported`},
		{"ip", "8.8.8", `"8.8.8" is not an IP address`},
		{"domain", "example.com/path", "is not a domain name"},
		{"domain", "", "is not a domain name"},
		{"hash", "abc123", "is not an MD5, SHA-1 or SHA-256 hash"},
		{"hash", strings.Repeat("g", 32), "is not an MD5, SHA-1 or SHA-256 hash"},
		{"url", "", "is not a URL"},
	} {
		_, err := c.Enrich(context.Background(), tc.typ, tc.value)
		contracttest.AssertNonRetryable(t, err, tc.want)
	}
	for _, typ := range []string{"ip", "domain", "hash", "url", "hash_md5", "hash_sha1", "hash_sha256"} {
		if !c.Supports(typ) {
			t.Errorf("Supports(%q) = false", typ)
		}
	}
	if c.Supports("email") || c.Supports("hostname") {
		t.Error("Supports must be false for email and hostname")
	}
	if n := srv.Total(); n != 0 {
		t.Errorf("%d requests sent for bad input, want 0", n)
	}
}

func TestCheck(t *testing.T) {
	srv := fakeVT(t, nil)
	c, noSecrets := newClient(t, srv, apiKey)
	if err := c.Check(context.Background()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if p := srv.Requests()[0].Path; p != "/api/v3/ip_addresses/8.8.8.8" {
		t.Errorf("Check path %s", p)
	}
	noSecrets(nil)
}

func TestNewValidates(t *testing.T) {
	if _, err := New(Config{}, nil); err == nil || err.Error() != "virustotal: api_key: required" {
		t.Errorf("empty config: %v", err)
	}
	if _, err := New(Config{APIKey: apiKey, URL: "www.virustotal.com", GUIURL: "/gui"}, nil); err == nil ||
		err.Error() != "virustotal: url: must be an absolute http(s) URL\ngui_url: must be an absolute http(s) URL" {
		t.Errorf("bad urls: %v", err)
	}
	c, err := New(Config{APIKey: apiKey, GUIURL: "https://vt.example/gui/"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.base.String() != DefaultURL || c.gui != "https://vt.example/gui" {
		t.Errorf("defaults: %s %s", c.base, c.gui)
	}
}
