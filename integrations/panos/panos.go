// Package panos blocks IP addresses on a Palo Alto Networks firewall through
// the PAN-OS XML API's User-ID interface (type=user-id). A block registers
// the address with a tag; a dynamic address group that matches the tag sits
// in a deny rule, so blocks take effect without a configuration commit.
// Tags carry a timeout, so a block with a TTL expires on the firewall even
// if Riposte never comes back to unblock it.
package panos

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
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
	// DefaultTag is registered on blocked addresses when Config.Tag is empty.
	DefaultTag = "riposte-block"
	// MaxTagTimeout is the longest tag timeout PAN-OS accepts (2,592,000 s).
	MaxTagTimeout = 30 * 24 * time.Hour
	// maxTagLen is PAN-OS's limit on a tag name.
	maxTagLen = 127
	// maxBody bounds how much of a success response is read.
	maxBody = 1 << 20
)

// The User-ID API answers a register of an existing address/tag pair and an
// unregister of an absent one with status="error" and these endings; both
// mean the firewall is already in the wanted state.
const (
	alreadyRegistered = "already exists, ignore"
	notRegistered     = "does not exist, ignore unreg"
)

// Config configures a Client.
type Config struct {
	// URL is the firewall's management address, e.g. https://fw.example.org;
	// the XML API lives under /api/.
	URL string
	// APIKey is sent in the X-PAN-KEY header, never in a URL.
	APIKey string
	// Tag is registered on blocked addresses; empty means DefaultTag.
	Tag string
	// CAFile is a PEM bundle trusted besides the system roots.
	CAFile string
	// Timeout bounds one call, retries included; 0 means httpx's default.
	Timeout time.Duration
}

// Block is one block or unblock request.
type Block struct {
	Type   string        // only "ip" is supported
	Value  string        // IP address or CIDR prefix
	TTL    time.Duration // 0 = until unblocked
	Reason string
	Key    string // idempotency key "<incident>/<step>"
}

// Client registers and unregisters tagged addresses. It is safe for
// concurrent use.
type Client struct {
	http     *httpx.Client
	endpoint string // https://fw/api/
	key      string
	tag      string
	log      *zap.Logger
}

// New validates cfg and returns a Client. Validation errors name the
// offending field (url, api_key, tag, timeout, ca_file).
func New(cfg Config, log *zap.Logger) (*Client, error) {
	var errs []error
	endpoint, err := apiEndpoint(cfg.URL)
	if err != nil {
		errs = append(errs, err)
	}
	if cfg.APIKey == "" {
		errs = append(errs, errors.New("api_key: required"))
	}
	tag := cfg.Tag
	if tag == "" {
		tag = DefaultTag
	}
	if len(tag) > maxTagLen {
		errs = append(errs, fmt.Errorf("tag: longer than %d characters", maxTagLen))
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
			Name:          "panos",
			Timeout:       cfg.Timeout,
			Logger:        log,
			Secrets:       []string{cfg.APIKey},
			RedactHeaders: []string{"X-PAN-KEY"},
			Transport:     tr,
		}),
		endpoint: endpoint,
		key:      cfg.APIKey,
		tag:      tag,
		log:      log.With(zap.String("integration", "panos")),
	}, nil
}

func apiEndpoint(raw string) (string, error) {
	u, err := httpx.BaseURL(raw)
	if err != nil {
		return "", err
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/api") + "/api/"
	return u.String(), nil
}

// Block registers b's address with the tag. Blocking an address that already
// carries the tag succeeds without changing its timeout. A TTL is rounded up
// to whole seconds; one beyond PAN-OS's 30-day maximum registers the tag
// without a timeout, so the workflow's Unblock at TTL ends the block.
func (c *Client) Block(ctx context.Context, b Block) error {
	ip, err := target(b)
	if err != nil {
		return err
	}
	timeout := tagTimeout(b.TTL)
	if b.TTL > MaxTagTimeout {
		c.log.Warn("ttl beyond the pan-os tag timeout maximum; the tag stays until unblocked",
			zap.String("key", b.Key), zap.Duration("ttl", b.TTL), zap.Duration("max", MaxTagTimeout))
	}
	msg := uidMessage{Type: "update", Payload: uidPayload{Register: &uidEntries{Entries: []uidEntry{{
		IP: ip, Members: []uidMember{{Timeout: timeout, Tag: c.tag}},
	}}}}}
	if err := c.userID(ctx, "register", ip, msg, alreadyRegistered); err != nil {
		return err
	}
	c.log.Info("blocked", zap.String("key", b.Key), zap.String("ip", ip), zap.String("tag", c.tag),
		zap.String("timeout_seconds", timeout), zap.String("reason", b.Reason))
	return nil
}

// Unblock removes the tag from b's address; an address without the tag is a
// success.
func (c *Client) Unblock(ctx context.Context, b Block) error {
	ip, err := target(b)
	if err != nil {
		return err
	}
	msg := uidMessage{Type: "update", Payload: uidPayload{Unregister: &uidEntries{Entries: []uidEntry{{
		IP: ip, Members: []uidMember{{Tag: c.tag}},
	}}}}}
	if err := c.userID(ctx, "unregister", ip, msg, notRegistered); err != nil {
		return err
	}
	c.log.Info("unblocked", zap.String("key", b.Key), zap.String("ip", ip), zap.String("tag", c.tag))
	return nil
}

// Check runs "show system info", which proves the key and reachability.
func (c *Client) Check(ctx context.Context) error {
	q := url.Values{"type": {"op"}, "cmd": {"<show><system><info></info></system></show>"}}
	req, err := http.NewRequest(http.MethodGet, c.endpoint+"?"+q.Encode(), nil)
	if err != nil {
		return httpx.Temporal(fmt.Errorf("panos: check: %w", err))
	}
	resp, err := c.send(ctx, req)
	if err != nil {
		return err
	}
	if resp.Status != "success" {
		return httpx.Temporal(c.http.NewBadResponse("show system info: %s", resp.describe()))
	}
	if resp.Result.System == nil {
		return httpx.Temporal(c.http.NewBadResponse("show system info: no <system> in the result"))
	}
	c.log.Debug("check ok", zap.String("hostname", resp.Result.System.Hostname),
		zap.String("sw_version", resp.Result.System.SWVersion))
	return nil
}

// userID posts a uid-message. An error answer whose every entry ends with
// okSuffix means the wanted state already holds.
func (c *Client) userID(ctx context.Context, op, ip string, msg uidMessage, okSuffix string) error {
	doc, err := xml.Marshal(msg)
	if err != nil {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("panos: %s %s: encode: %v", op, ip, err), "InvalidInput", nil)
	}
	form := url.Values{"type": {"user-id"}, "cmd": {string(doc)}}
	req, err := http.NewRequest(http.MethodPost, c.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return httpx.Temporal(fmt.Errorf("panos: %s: %w", op, err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.send(ctx, req)
	if err != nil {
		return err
	}
	if resp.Status == "success" {
		return nil
	}
	if entries := resp.uidEntries(); len(entries) > 0 {
		ok := true
		for _, e := range entries {
			ok = ok && strings.HasSuffix(strings.TrimSpace(e.Message), okSuffix)
		}
		if ok {
			c.log.Debug("already in the wanted state", zap.String("op", op), zap.String("ip", ip))
			return nil
		}
	}
	return httpx.Temporal(c.http.NewBadResponse("%s %s: %s", op, ip, resp.describe()))
}

// send performs req with the key header and parses the XML answer. Errors
// are already classified for Temporal.
func (c *Client) send(ctx context.Context, req *http.Request) (*apiResponse, error) {
	req.Header.Set("X-PAN-KEY", c.key)
	req.Header.Set("Accept", "application/xml")
	resp, err := c.http.Do(ctx, req)
	if err != nil {
		var se *httpx.StatusError
		if errors.As(err, &se) {
			// PAN-OS explains 403s and 400s in an XML body; show its text.
			if m := xmlMessage(se.VendorMessage); m != "" {
				cp := *se
				cp.VendorMessage = m
				return nil, httpx.Temporal(&cp)
			}
		}
		return nil, httpx.Temporal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, httpx.Temporal(errors.New(c.http.Redact("panos: read response: " + err.Error())))
	}
	var r apiResponse
	if err := xml.Unmarshal(body, &r); err != nil {
		return nil, httpx.Temporal(c.http.NewBadResponse("%s: malformed XML: %v", req.Method, err))
	}
	return &r, nil
}

// target validates b and returns the address as PAN-OS registers it.
func target(b Block) (string, error) {
	switch b.Type {
	case "ip":
	case "":
		return "", invalid("block type is required")
	default:
		return "", unsupported(b.Type)
	}
	v := strings.TrimSpace(b.Value)
	if !strings.Contains(v, "/") {
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return "", invalid(fmt.Sprintf("invalid ip %q", b.Value))
		}
		return a.Unmap().String(), nil
	}
	p, err := netip.ParsePrefix(v)
	if err != nil || p != p.Masked() {
		return "", invalid(fmt.Sprintf("invalid prefix %q (want a network address such as 10.0.0.0/24)", b.Value))
	}
	if p.IsSingleIP() {
		return p.Addr().String(), nil
	}
	// registered-ip objects take IPv4 networks (PAN-OS 10.0+) but only
	// IPv6 host addresses.
	if p.Addr().Is6() {
		return "", temporal.NewNonRetryableApplicationError("panos: ipv6 prefix blocks are not supported", "Unsupported", nil)
	}
	return p.String(), nil
}

func unsupported(typ string) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf("panos: %s blocks are not supported", typ), "Unsupported", nil)
}

func invalid(msg string) error {
	return temporal.NewNonRetryableApplicationError("panos: "+msg, "InvalidInput", nil)
}

// tagTimeout renders ttl as the member timeout attribute: whole seconds,
// rounded up; "0" (never expires) for no TTL or one beyond the maximum.
func tagTimeout(ttl time.Duration) string {
	if ttl <= 0 || ttl > MaxTagTimeout {
		return "0"
	}
	return strconv.FormatInt(int64(math.Ceil(ttl.Seconds())), 10)
}
