// Package fortigate blocks IP addresses and domains on a FortiGate through
// the FortiOS REST API v2. A block creates an address object named after the
// value (ipmask for IPv4, ipprefix in address6 for IPv6, fqdn for domains)
// and adds it to an address group that a deny policy uses; an unblock takes
// it out of the group and deletes it. FortiOS address objects do not expire:
// a block's TTL is enforced by the workflow's timer calling Unblock (and by
// the EDL for firewalls that poll it).
package fortigate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/riposte-soar/riposte/integrations/httpx"
)

const (
	// NamePrefix starts every address object Riposte creates.
	NamePrefix = "riposte-"
	// maxNameLen keeps names within FortiOS 6.0's 63-character limit on
	// address names (later releases allow 79).
	maxNameLen = 63
	// maxCommentLen is FortiOS's limit on an address comment.
	maxCommentLen = 255
	maxBody       = 1 << 20
)

// Config configures a Client.
type Config struct {
	// URL is the FortiGate's management address, e.g. https://fgt.example.org.
	URL string
	// Token is a REST API administrator's key, sent as a bearer token.
	Token string
	// AddressGroup receives IPv4 and domain objects (required).
	AddressGroup string
	// AddressGroup6 receives IPv6 objects; empty means IPv6 blocks are
	// unsupported.
	AddressGroup6 string
	// VDOM is sent as ?vdom= on every call; empty means the token's default.
	VDOM    string
	CAFile  string
	Timeout time.Duration
}

// Block is one block or unblock request.
type Block struct {
	Type   string        // "ip" or "domain"; "url" is unsupported
	Value  string        // IP or CIDR prefix; lower-case domain
	TTL    time.Duration // not enforced by FortiOS; see the package doc
	Reason string
	Key    string // idempotency key "<incident>/<step>", kept in the comment
}

// Client manages Riposte's address objects and group membership. It is safe
// for concurrent use.
type Client struct {
	http   *httpx.Client
	base   string // https://fgt/api/v2/cmdb/
	token  string
	group  string
	group6 string
	vdom   string
	log    *zap.Logger
}

// New validates cfg and returns a Client. Validation errors name the field.
func New(cfg Config, log *zap.Logger) (*Client, error) {
	var errs []error
	base, err := apiBase(cfg.URL)
	if err != nil {
		errs = append(errs, err)
	}
	if cfg.Token == "" {
		errs = append(errs, errors.New("token: required"))
	}
	if cfg.AddressGroup == "" {
		errs = append(errs, errors.New("address_group: required"))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, errors.New("timeout: must not be negative"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	tr, err := httpx.Transport(cfg.CAFile)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	return &Client{
		http: httpx.New(httpx.Options{
			Name:      "fortigate",
			Timeout:   cfg.Timeout,
			Logger:    log,
			Secrets:   []string{cfg.Token},
			Transport: tr,
		}),
		base:   base,
		token:  cfg.Token,
		group:  cfg.AddressGroup,
		group6: cfg.AddressGroup6,
		vdom:   cfg.VDOM,
		log:    log.With(zap.String("integration", "fortigate")),
	}, nil
}

func apiBase(raw string) (string, error) {
	u, err := httpx.BaseURL(raw)
	if err != nil {
		return "", err
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v2") + "/api/v2/cmdb/"
	return u.String(), nil
}

// address is a firewall/address or firewall/address6 object.
type address struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Subnet  string `json:"subnet,omitempty"`
	FQDN    string `json:"fqdn,omitempty"`
	IP6     string `json:"ip6,omitempty"`
	Comment string `json:"comment,omitempty"`
}

// target is where one block lives.
type target struct {
	table, groupTable, group string // address/addrgrp or address6/addrgrp6
	obj                      address
}

// Block creates the address object (an existing one is reused) and adds it
// to the group (an existing member is fine).
func (c *Client) Block(ctx context.Context, b Block) error {
	t, err := c.target(b)
	if err != nil {
		return err
	}
	t.obj.Comment = comment(b)
	objPath := []string{"firewall", t.table}
	if err := c.ensure(ctx, "create address", objPath, t.obj, append(objPath, t.obj.Name)); err != nil {
		return err
	}
	memberPath := []string{"firewall", t.groupTable, t.group, "member"}
	if err := c.ensure(ctx, "add to group", memberPath, map[string]string{"name": t.obj.Name}, append(memberPath, t.obj.Name)); err != nil {
		return err
	}
	c.log.Info("blocked", zap.String("key", b.Key), zap.String("address", t.obj.Name),
		zap.String("group", t.group), zap.Duration("ttl", b.TTL), zap.String("reason", b.Reason))
	return nil
}

// Unblock removes the object from the group, then deletes it; either being
// absent is a success. The block is lifted once the membership is gone, so a
// failure to delete the object (for instance because an administrator used
// it in another policy) is logged, not returned.
func (c *Client) Unblock(ctx context.Context, b Block) error {
	t, err := c.target(b)
	if err != nil {
		return err
	}
	if _, err := c.call(ctx, http.MethodDelete, nil, "firewall", t.groupTable, t.group, "member", t.obj.Name); err != nil && !isStatus(err, http.StatusNotFound) {
		return c.fail("remove from group", err)
	}
	if _, err := c.call(ctx, http.MethodDelete, nil, "firewall", t.table, t.obj.Name); err != nil && !isStatus(err, http.StatusNotFound) {
		c.log.Warn("address object left in place; it is no longer in the group",
			zap.String("key", b.Key), zap.String("address", t.obj.Name), zap.Error(c.fail("delete address", err)))
	}
	c.log.Info("unblocked", zap.String("key", b.Key), zap.String("address", t.obj.Name), zap.String("group", t.group))
	return nil
}

// Check reads the configured address groups, which proves the token, its
// VDOM access and that the groups exist.
func (c *Client) Check(ctx context.Context) error {
	groups := [][2]string{{"addrgrp", c.group}}
	if c.group6 != "" {
		groups = append(groups, [2]string{"addrgrp6", c.group6})
	}
	for _, g := range groups {
		if _, err := c.call(ctx, http.MethodGet, nil, "firewall", g[0], g[1]); err != nil {
			return c.fail("read "+g[0]+" "+g[1], err)
		}
	}
	return nil
}

// ensure POSTs body to path. FortiOS answers a duplicate (error -5) with
// HTTP 500, so on a 500 it looks the entry up at existing and treats a hit
// as success.
func (c *Client) ensure(ctx context.Context, op string, path []string, body any, existing []string) error {
	_, err := c.call(ctx, http.MethodPost, body, path...)
	if err == nil {
		return nil
	}
	if isStatus(err, http.StatusInternalServerError) {
		if _, gerr := c.call(ctx, http.MethodGet, nil, existing...); gerr == nil {
			c.log.Debug("already present", zap.String("op", op), zap.String("path", strings.Join(existing, "/")))
			return nil
		}
	}
	return c.fail(op, err)
}

// fortiResponse is the envelope of every FortiOS answer.
type fortiResponse struct {
	Status     string          `json:"status"`
	HTTPStatus int             `json:"http_status"`
	Error      *int            `json:"error"`
	Results    json.RawMessage `json:"results"`
}

// call sends one request and returns the parsed envelope. Its errors are not
// yet classified, so callers can look at the status; pass them to fail.
func (c *Client) call(ctx context.Context, method string, body any, path ...string) (*fortiResponse, error) {
	segs := make([]string, len(path))
	for i, p := range path {
		segs[i] = url.PathEscape(p)
	}
	u := c.base + strings.Join(segs, "/")
	if c.vdom != "" {
		u += "?" + url.Values{"vdom": {c.vdom}}.Encode()
	}
	req, err := httpx.JSONRequest(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, errors.New(c.http.Redact("read response: " + err.Error()))
	}
	var r fortiResponse
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, c.http.NewBadResponse("%s %s: malformed JSON: %v", method, c.http.RedactURL(req.URL), err)
	}
	if r.Status != "success" {
		code := "none"
		if r.Error != nil {
			code = fmt.Sprint(*r.Error)
		}
		return nil, c.http.NewBadResponse("%s %s: status %q, error %s", method, c.http.RedactURL(req.URL), r.Status, code)
	}
	return &r, nil
}

// fail classifies err for Temporal, replacing FortiOS's HTML and JSON error
// bodies with their text.
func (c *Client) fail(op string, err error) error {
	var se *httpx.StatusError
	if errors.As(err, &se) {
		cp := *se
		cp.VendorMessage = vendorText(se.VendorMessage)
		return httpx.Temporal(&cp)
	}
	var ae *temporal.ApplicationError
	var br *httpx.BadResponse
	var te *httpx.TransportError
	if errors.As(err, &ae) || errors.As(err, &br) || errors.As(err, &te) {
		return httpx.Temporal(err)
	}
	return httpx.Temporal(fmt.Errorf("fortigate: %s: %w", op, err))
}

func isStatus(err error, code int) bool {
	var se *httpx.StatusError
	return errors.As(err, &se) && se.Status == code
}

var (
	tagRe      = regexp.MustCompile(`<[^>]*>`)
	spaceRe    = regexp.MustCompile(`\s+`)
	errCodeRe  = regexp.MustCompile(`"error"\s*:\s*(-?\d+)`)
	cliErrorRe = regexp.MustCompile(`"cli_error"\s*:\s*"((?:[^"\\]|\\.)*)"`)
)

// vendorText turns FortiOS's error bodies into text: the httpd's HTML page
// for 401s, or the JSON envelope's error code (and cli_error when present).
func vendorText(s string) string {
	t := strings.TrimSpace(s)
	lower := strings.ToLower(t)
	if strings.HasPrefix(lower, "<!doctype") || strings.HasPrefix(lower, "<html") {
		return strings.TrimSpace(spaceRe.ReplaceAllString(tagRe.ReplaceAllString(t, " "), " "))
	}
	// httpx keeps only the head of a body it cannot read a message from,
	// so the envelope may be cut short; match its fields as text.
	if m := errCodeRe.FindStringSubmatch(t); m != nil {
		out := "fortios error " + m[1]
		if cli := cliErrorRe.FindStringSubmatch(t); cli != nil {
			out += ": " + strings.TrimSpace(strings.ReplaceAll(cli[1], `\n`, " "))
		}
		return out
	}
	return s
}

// target validates b and works out the object and group for it.
func (c *Client) target(b Block) (target, error) {
	switch b.Type {
	case "ip":
		p, err := parseIP(b.Value)
		if err != nil {
			return target{}, err
		}
		nameValue := p.String()
		if p.IsSingleIP() {
			nameValue = p.Addr().String()
		}
		name := objectName(nameValue)
		if p.Addr().Is4() {
			return target{table: "address", groupTable: "addrgrp", group: c.group,
				obj: address{Name: name, Type: "ipmask", Subnet: p.String()}}, nil
		}
		if c.group6 == "" {
			return target{}, temporal.NewNonRetryableApplicationError(
				"fortigate: ipv6 blocks are not supported (address_group6 is not set)", "Unsupported", nil)
		}
		return target{table: "address6", groupTable: "addrgrp6", group: c.group6,
			obj: address{Name: name, Type: "ipprefix", IP6: p.String()}}, nil
	case "domain":
		d, err := parseDomain(b.Value)
		if err != nil {
			return target{}, err
		}
		return target{table: "address", groupTable: "addrgrp", group: c.group,
			obj: address{Name: objectName(d), Type: "fqdn", FQDN: d}}, nil
	case "":
		return target{}, invalid("block type is required")
	default:
		return target{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("fortigate: %s blocks are not supported", b.Type), "Unsupported", nil)
	}
}

func invalid(msg string) error {
	return temporal.NewNonRetryableApplicationError("fortigate: "+msg, "InvalidInput", nil)
}

// parseIP accepts an address (as a host prefix) or a network prefix.
func parseIP(v string) (netip.Prefix, error) {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "/") {
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, invalid(fmt.Sprintf("invalid ip %q", v))
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(v)
	if err != nil || p != p.Masked() {
		return netip.Prefix{}, invalid(fmt.Sprintf("invalid prefix %q (want a network address such as 10.0.0.0/24)", v))
	}
	return p, nil
}

var labelRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func parseDomain(v string) (string, error) {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(v)), ".")
	if d == "" || len(d) > 253 || !strings.Contains(d, ".") {
		return "", invalid(fmt.Sprintf("invalid domain %q", v))
	}
	for _, l := range strings.Split(d, ".") {
		if !labelRe.MatchString(l) {
			return "", invalid(fmt.Sprintf("invalid domain %q", v))
		}
	}
	return d, nil
}

var unsafeNameRe = regexp.MustCompile(`[^a-z0-9._-]`)

// objectName derives the address name from the canonical value: the prefix,
// then the value with characters outside [a-z0-9._-] replaced by "_"; a
// name past the length limit keeps its head and ends with a hash of the
// whole value, so it stays unique and deterministic.
func objectName(value string) string {
	name := NamePrefix + unsafeNameRe.ReplaceAllString(value, "_")
	if len(name) <= maxNameLen {
		return name
	}
	sum := sha256.Sum256([]byte(value))
	h := hex.EncodeToString(sum[:4])
	return name[:maxNameLen-len(h)-1] + "-" + h
}

// comment records the idempotency key and reason on the object.
func comment(b Block) string {
	s := "riposte"
	if b.Key != "" {
		s += " " + b.Key
	}
	if b.Reason != "" {
		s += ": " + b.Reason
	}
	if len(s) <= maxCommentLen {
		return s
	}
	s = s[:maxCommentLen]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
