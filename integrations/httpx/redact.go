package httpx

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Redacted replaces every secret in logs and errors.
const Redacted = "<redacted>"

// alwaysRedactedHeaders are credential headers whose values never appear in
// logs or errors, whatever Options.RedactHeaders says.
var alwaysRedactedHeaders = []string{
	"Authorization", "X-Api-Key", "Cookie", "Set-Cookie", "Proxy-Authorization", "X-Auth-Token",
}

// sensitiveQueryKeys are query parameter names whose values are always
// redacted from URLs, even when the value is not a registered secret.
var sensitiveQueryKeys = map[string]bool{
	"apikey": true, "api_key": true, "api-key": true, "key": true, "token": true,
	"access_token": true, "refresh_token": true, "password": true, "passwd": true,
	"secret": true, "client_secret": true, "signature": true, "sig": true, "auth": true,
}

// authSchemeRe finds credentials carried in Authorization-like strings, such as
// "Basic dXNlcjpzZWNyZXQ=" or "Bearer abc".
var authSchemeRe = regexp.MustCompile(`(?i)\b(basic|bearer|token)\s+([A-Za-z0-9+/=._~-]+)`)

// sensitiveParamRe finds sensitive query parameters inside free text, such as
// a URL quoted in a transport error.
var sensitiveParamRe = regexp.MustCompile(`(?i)([?&](?:apikey|api_key|api-key|key|token|access_token|refresh_token|password|passwd|secret|client_secret|signature|sig|auth)=)[^&\s"']*`)

// userinfoRe finds credentials embedded in URLs inside free text.
var userinfoRe = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)[^/?#@\s"']+@`)

// redactor replaces secret values and their encoded forms.
type redactor struct {
	needles []string // longest first
	secrets []string
	headers map[string]bool
}

func newRedactor(secrets, extraHeaders []string) *redactor {
	r := &redactor{headers: map[string]bool{}}
	seen := map[string]bool{}
	add := func(s string) {
		// Very short values would redact unrelated text; skip them.
		if len(s) < 4 || seen[s] {
			return
		}
		seen[s] = true
		r.needles = append(r.needles, s)
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		r.secrets = append(r.secrets, s)
		add(s)
		add(url.QueryEscape(s))
		add(url.PathEscape(s))
		add(base64.StdEncoding.EncodeToString([]byte(s)))
		add(base64.RawStdEncoding.EncodeToString([]byte(s)))
		add(base64.URLEncoding.EncodeToString([]byte(s)))
		add(base64.RawURLEncoding.EncodeToString([]byte(s)))
	}
	// Longest first so that an encoded form containing a shorter one is
	// replaced whole.
	for i := 1; i < len(r.needles); i++ {
		for j := i; j > 0 && len(r.needles[j]) > len(r.needles[j-1]); j-- {
			r.needles[j], r.needles[j-1] = r.needles[j-1], r.needles[j]
		}
	}
	for _, h := range alwaysRedactedHeaders {
		r.headers[http.CanonicalHeaderKey(h)] = true
	}
	for _, h := range extraHeaders {
		r.headers[http.CanonicalHeaderKey(h)] = true
	}
	return r
}

// String redacts every secret, its URL-encoded and base64 forms, and
// credentials of Basic/Bearer schemes that decode to a secret.
func (r *redactor) String(s string) string {
	if r == nil || s == "" {
		return s
	}
	if len(r.secrets) > 0 {
		s = authSchemeRe.ReplaceAllStringFunc(s, func(m string) string {
			sub := authSchemeRe.FindStringSubmatch(m)
			if r.containsSecret(sub[2]) {
				return sub[1] + " " + Redacted
			}
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
				if dec, err := enc.DecodeString(sub[2]); err == nil && r.containsSecret(string(dec)) {
					return sub[1] + " " + Redacted
				}
			}
			return m
		})
	}
	s = userinfoRe.ReplaceAllString(s, "${1}")
	s = sensitiveParamRe.ReplaceAllString(s, "${1}"+Redacted)
	for _, n := range r.needles {
		if strings.Contains(s, n) {
			s = strings.ReplaceAll(s, n, Redacted)
		}
	}
	return s
}

func (r *redactor) containsSecret(s string) bool {
	for _, sec := range r.secrets {
		if strings.Contains(s, sec) {
			return true
		}
	}
	return false
}

// URL renders u without userinfo, with sensitive or secret-bearing query
// values replaced, and with any remaining secret redacted.
func (r *redactor) URL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		parts := strings.Split(c.RawQuery, "&")
		for i, p := range parts {
			k, v, ok := strings.Cut(p, "=")
			if !ok {
				continue
			}
			key, err := url.QueryUnescape(k)
			if err != nil {
				key = k
			}
			val, err := url.QueryUnescape(v)
			if err != nil {
				val = v
			}
			if sensitiveQueryKeys[strings.ToLower(key)] || r.containsSecret(val) || r.containsSecret(v) {
				parts[i] = k + "=" + Redacted
			}
		}
		c.RawQuery = strings.Join(parts, "&")
	}
	c.Fragment, c.RawFragment = "", ""
	return r.String(c.String())
}

// Header returns a copy of h with credential headers redacted.
func (r *redactor) Header(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		cp := make([]string, len(vs))
		for i, v := range vs {
			if r.headers[http.CanonicalHeaderKey(k)] {
				cp[i] = Redacted
			} else {
				cp[i] = r.String(v)
			}
		}
		out[k] = cp
	}
	return out
}
