package virustotal

import (
	"bytes"
	"context"
	"encoding/base64"
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
	// DefaultURL is VirusTotal's public API v3 base.
	DefaultURL = "https://www.virustotal.com/api/v3"
	// DefaultGUIURL is where vt_link points.
	DefaultGUIURL = "https://www.virustotal.com/gui"
	// DefaultQuotaDelay is the retry delay for a 429 without Retry-After:
	// the public API's tightest quota is per minute.
	DefaultQuotaDelay = 60 * time.Second
	// maxBody bounds an object answer (file objects can be large).
	maxBody = 16 << 20
	name    = "virustotal"
)

// Config configures the client. APIKey is a secret.
type Config struct {
	URL       string        // API v3 base, default DefaultURL
	GUIURL    string        // base of vt_link, default DefaultGUIURL
	APIKey    string        // required; sent in the x-apikey header
	Timeout   time.Duration // per call, default httpx.DefaultTimeout
	Transport http.RoundTripper
}

// Client calls the VirusTotal API.
type Client struct {
	base *url.URL
	gui  string
	key  string
	http *httpx.Client
	log  *zap.Logger
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
	if cfg.GUIURL == "" {
		cfg.GUIURL = DefaultGUIURL
	}
	base, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		errs = append(errs, errors.New("url: must be an absolute http(s) URL"))
	}
	if g, err := url.Parse(cfg.GUIURL); err != nil || (g.Scheme != "https" && g.Scheme != "http") || g.Host == "" {
		errs = append(errs, errors.New("gui_url: must be an absolute http(s) URL"))
	}
	if strings.TrimSpace(cfg.APIKey) == "" {
		errs = append(errs, errors.New("api_key: required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("virustotal: %w", err)
	}
	tr := cfg.Transport
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	return &Client{
		base: base,
		gui:  strings.TrimRight(cfg.GUIURL, "/"),
		key:  cfg.APIKey,
		log:  log.With(zap.String("integration", name)),
		http: httpx.New(httpx.Options{
			Name:          name,
			Timeout:       cfg.Timeout,
			Logger:        log,
			Secrets:       []string{cfg.APIKey},
			RedactHeaders: []string{"x-apikey"},
			Transport:     &errTransport{next: tr},
			VendorMessage: errorText,
		}),
	}, nil
}

// kinds maps an observable type to the VirusTotal collection. The hash_*
// names are the normalised alert's observable types.
var kinds = map[string]string{
	"ip": "ip", "domain": "domain", "url": "url",
	"hash": "hash", "hash_md5": "hash", "hash_sha1": "hash", "hash_sha256": "hash",
}

// Supports reports whether Enrich handles observables of type typ: ip,
// domain, hash (and hash_md5, hash_sha1, hash_sha256) and url.
func (c *Client) Supports(typ string) bool { _, ok := kinds[typ]; return ok }

// lookup is one resolved request: the API path and the GUI link.
type lookup struct {
	kind, path, link string
}

func (c *Client) resolve(typ, value string) (lookup, error) {
	bad := func(format string, args ...any) (lookup, error) {
		return lookup{}, temporal.NewNonRetryableApplicationError("virustotal: "+fmt.Sprintf(format, args...), "BadInput", nil)
	}
	kind, ok := kinds[typ]
	if !ok {
		return bad("observable type %q not supported (ip, domain, hash, url)", typ)
	}
	v := strings.TrimSpace(value)
	switch kind {
	case "ip":
		a, err := netip.ParseAddr(v)
		if err != nil {
			return bad("%q is not an IP address", value)
		}
		s := a.Unmap().String()
		return lookup{kind, "/ip_addresses/" + url.PathEscape(s), c.gui + "/ip-address/" + url.PathEscape(s)}, nil
	case "domain":
		d := strings.ToLower(strings.TrimSuffix(v, "."))
		if d == "" || len(d) > 253 || strings.ContainsAny(d, "/?#%@: \t\r\n") {
			return bad("%q is not a domain name", value)
		}
		return lookup{kind, "/domains/" + url.PathEscape(d), c.gui + "/domain/" + url.PathEscape(d)}, nil
	case "hash":
		h := strings.ToLower(v)
		if !isHex(h) || (len(h) != 32 && len(h) != 40 && len(h) != 64) {
			return bad("%q is not an MD5, SHA-1 or SHA-256 hash", value)
		}
		return lookup{kind, "/files/" + h, c.gui + "/file/" + h}, nil
	default: // url
		if v == "" || strings.ContainsAny(v, " \t\r\n") {
			return bad("%q is not a URL", value)
		}
		// VirusTotal takes the unpadded base64url form of the URL as its id
		// and canonicalises it server-side. The GUI link of a URL needs the
		// SHA-256 id from the answer; until then it points to a search.
		id := base64.RawURLEncoding.EncodeToString([]byte(v))
		return lookup{kind, "/urls/" + id, c.gui + "/search/" + url.PathEscape(v)}, nil
	}
}

func isHex(s string) bool {
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return s != ""
}

// Enrich looks up one observable. Keys present for every type: vt_found
// (bool), vt_malicious, vt_suspicious, vt_harmless, vt_undetected,
// vt_reputation (int64), vt_link, vt_last_analysis_at (RFC 3339 UTC, "" when
// never analysed). Per type: ip adds country, as_owner, network (string) and
// asn (int64); domain adds registrar; hash adds meaningful_name,
// type_description, sha256 (string) and size (int64); url adds final_url and
// title. An observable VirusTotal does not know is not an error: vt_found is
// false and the other values are zero.
func (c *Client) Enrich(ctx context.Context, typ, value string) (map[string]any, error) {
	lk, err := c.resolve(typ, value)
	if err != nil {
		return nil, err
	}
	obj, found, err := c.get(ctx, lk.path)
	if err != nil {
		return nil, err
	}
	out := obj.output(lk, found, c.gui)
	c.log.Debug("enriched", zap.String("type", typ), zap.String("value", value),
		zap.Bool("vt_found", found), zap.Int64("vt_malicious", out["vt_malicious"].(int64)))
	return out, nil
}

// Check proves the key is accepted with one IP address lookup (8.8.8.8); it
// counts against the lookup quota like any other.
func (c *Client) Check(ctx context.Context) error {
	_, _, err := c.get(ctx, "/ip_addresses/8.8.8.8")
	return err
}

// object is the part of a v3 object answer that Enrich reads.
type object struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Attributes *struct {
		LastAnalysisStats struct {
			Malicious  int64 `json:"malicious"`
			Suspicious int64 `json:"suspicious"`
			Harmless   int64 `json:"harmless"`
			Undetected int64 `json:"undetected"`
		} `json:"last_analysis_stats"`
		LastAnalysisDate int64  `json:"last_analysis_date"`
		Reputation       int64  `json:"reputation"`
		Country          string `json:"country"`
		ASOwner          string `json:"as_owner"`
		ASN              int64  `json:"asn"`
		Network          string `json:"network"`
		Registrar        string `json:"registrar"`
		MeaningfulName   string `json:"meaningful_name"`
		TypeDescription  string `json:"type_description"`
		SHA256           string `json:"sha256"`
		Size             int64  `json:"size"`
		LastFinalURL     string `json:"last_final_url"`
		Title            string `json:"title"`
	} `json:"attributes"`
}

func (o *object) output(lk lookup, found bool, gui string) map[string]any {
	out := map[string]any{
		"vt_found": found, "vt_malicious": int64(0), "vt_suspicious": int64(0), "vt_harmless": int64(0),
		"vt_undetected": int64(0), "vt_reputation": int64(0), "vt_link": lk.link, "vt_last_analysis_at": "",
	}
	switch lk.kind {
	case "ip":
		out["country"], out["as_owner"], out["network"], out["asn"] = "", "", "", int64(0)
	case "domain":
		out["registrar"] = ""
	case "hash":
		out["meaningful_name"], out["type_description"], out["sha256"], out["size"] = "", "", "", int64(0)
	case "url":
		out["final_url"], out["title"] = "", ""
	}
	if !found {
		return out
	}
	a := o.Attributes
	out["vt_malicious"] = a.LastAnalysisStats.Malicious
	out["vt_suspicious"] = a.LastAnalysisStats.Suspicious
	out["vt_harmless"] = a.LastAnalysisStats.Harmless
	out["vt_undetected"] = a.LastAnalysisStats.Undetected
	out["vt_reputation"] = a.Reputation
	if a.LastAnalysisDate > 0 {
		out["vt_last_analysis_at"] = time.Unix(a.LastAnalysisDate, 0).UTC().Format(time.RFC3339)
	}
	switch lk.kind {
	case "ip":
		out["country"], out["as_owner"], out["network"], out["asn"] = a.Country, a.ASOwner, a.Network, a.ASN
	case "domain":
		out["registrar"] = a.Registrar
	case "hash":
		out["meaningful_name"], out["type_description"], out["sha256"], out["size"] = a.MeaningfulName, a.TypeDescription, a.SHA256, a.Size
	case "url":
		out["final_url"], out["title"] = a.LastFinalURL, a.Title
		if o.ID != "" {
			out["vt_link"] = gui + "/url/" + url.PathEscape(o.ID)
		}
	}
	return out
}

// parseError reads VirusTotal's error envelope,
// {"error":{"code":"...","message":"..."}}; code is "" for any other body.
func parseError(body []byte) (code, msg string) {
	var e struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == nil {
		return "", ""
	}
	return e.Error.Code, e.Error.Message
}

// errorText is the vendor message of an error body, "<code>: <message>"
// (httpx alone would keep only the message).
func errorText(body []byte) string {
	if code, msg := parseError(body); code != "" {
		return code + ": " + msg
	}
	return ""
}

// get fetches one object. found is false for VirusTotal's NotFoundError.
func (c *Client) get(ctx context.Context, path string) (*object, bool, error) {
	// path is already escaped by resolve.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base.String()+path, nil)
	if err != nil {
		return nil, false, temporal.NewNonRetryableApplicationError("virustotal: build request: "+c.http.Redact(err.Error()), "BadInput", nil)
	}
	req.Header.Set("x-apikey", c.key)
	req.Header.Set("Accept", "application/json")
	capt := &captured{}
	resp, err := c.http.Do(context.WithValue(ctx, captureKey{}, capt), req)
	if err != nil {
		// Only VirusTotal's own NotFoundError means "unknown observable"; a
		// bare 404 is a wrong URL.
		var se *httpx.StatusError
		if errors.As(err, &se) && se.Status == http.StatusNotFound {
			if code, _ := parseError(capt.body); code == "NotFoundError" {
				return &object{}, false, nil
			}
		}
		return nil, false, httpx.Temporal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		typ := "Transport"
		if errors.Is(err, context.DeadlineExceeded) {
			typ = "Timeout"
		}
		return nil, false, temporal.NewApplicationErrorWithOptions("virustotal: read answer: "+c.http.Redact(err.Error()), typ, temporal.ApplicationErrorOptions{})
	}
	var env struct {
		Data *object `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, false, httpx.Temporal(c.http.NewBadResponse("decode %s answer (status %d): %v", path, resp.StatusCode, err))
	}
	if env.Data == nil || env.Data.Attributes == nil {
		return nil, false, httpx.Temporal(c.http.NewBadResponse("%s answer has no data.attributes", path))
	}
	return env.Data, true, nil
}

// captureKey carries a *captured through the request context so the
// transport can hand a 404's body back to get.
type captureKey struct{}

type captured struct{ body []byte }

// errTransport keeps a copy of 404 bodies for get, and gives a 429 without
// Retry-After a DefaultQuotaDelay one, so httpx neither hammers the quota
// with quick retries nor leaves Temporal without a delay.
type errTransport struct{ next http.RoundTripper }

func (t *errTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode < 400 {
		return resp, err
	}
	if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
		resp.Header.Set("Retry-After", strconv.Itoa(int(DefaultQuotaDelay/time.Second)))
	}
	if capt, ok := req.Context().Value(captureKey{}).(*captured); ok && resp.StatusCode == http.StatusNotFound {
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if rerr != nil {
			body = nil
		}
		capt.body = body
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	return resp, nil
}
