// Package opnsense blocks IP addresses on OPNsense by adding them to a
// firewall alias through the alias_util API (POST
// /api/firewall/alias_util/add|delete/{alias}); a block rule uses the alias.
// OPNsense aliases do not expire entries: a block's TTL is enforced by the
// workflow's timer calling Unblock.
//
// The alias must exist. For "Host(s)" and "Network(s)" aliases OPNsense also
// writes the address into the saved configuration, so blocks survive a
// reboot; for "External (advanced)" aliases it only changes the live pf
// table. alias_util accepts addresses and prefixes only (it answers
// "not_an_address" to anything with other characters), so domain and URL
// blocks are unsupported.
package opnsense

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/riposte-soar/riposte/integrations/httpx"
)

const maxBody = 8 << 20 // an alias listing can be long

// Config configures a Client.
type Config struct {
	// URL is the OPNsense web address, e.g. https://opnsense.example.org.
	URL string
	// Key and Secret are an API key pair (System > Access > Users), sent
	// with HTTP basic authentication.
	Key    string
	Secret string
	// Alias is the firewall alias that holds blocked addresses.
	Alias   string
	CAFile  string
	Timeout time.Duration
}

// Block is one block or unblock request.
type Block struct {
	Type   string        // only "ip" is supported
	Value  string        // IP address or CIDR prefix
	TTL    time.Duration // not enforced by OPNsense; see the package doc
	Reason string
	Key    string // idempotency key "<incident>/<step>"
}

// Client adds and removes alias entries. It is safe for concurrent use.
type Client struct {
	http        *httpx.Client
	base        string // https://opnsense/api/firewall/alias_util/
	key, secret string
	alias       string
	log         *zap.Logger
}

// New validates cfg and returns a Client. Validation errors name the field.
func New(cfg Config, log *zap.Logger) (*Client, error) {
	var errs []error
	base, err := apiBase(cfg.URL)
	if err != nil {
		errs = append(errs, err)
	}
	if cfg.Key == "" {
		errs = append(errs, errors.New("key: required"))
	}
	if cfg.Secret == "" {
		errs = append(errs, errors.New("secret: required"))
	}
	if cfg.Alias == "" {
		errs = append(errs, errors.New("alias: required"))
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
			Name:    "opnsense",
			Timeout: cfg.Timeout,
			Logger:  log,
			// The pair is redacted too: basic auth encodes "key:secret".
			Secrets:   []string{cfg.Key, cfg.Secret, cfg.Key + ":" + cfg.Secret},
			Transport: tr,
		}),
		base:   base,
		key:    cfg.Key,
		secret: cfg.Secret,
		alias:  cfg.Alias,
		log:    log.With(zap.String("integration", "opnsense")),
	}, nil
}

func apiBase(raw string) (string, error) {
	u, err := httpx.BaseURL(raw)
	if err != nil {
		return "", err
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/api") + "/api/firewall/alias_util/"
	return u.String(), nil
}

// Block adds the address to the alias; OPNsense ignores an address that is
// already there, so blocking twice is one block.
func (c *Client) Block(ctx context.Context, b Block) error {
	addr, err := target(b)
	if err != nil {
		return err
	}
	if err := c.change(ctx, "add", addr); err != nil {
		return err
	}
	c.log.Info("blocked", zap.String("key", b.Key), zap.String("address", addr), zap.String("alias", c.alias),
		zap.Duration("ttl", b.TTL), zap.String("reason", b.Reason))
	return nil
}

// Unblock removes the address from the alias; OPNsense answers "done" for
// an address that was not there.
func (c *Client) Unblock(ctx context.Context, b Block) error {
	addr, err := target(b)
	if err != nil {
		return err
	}
	if err := c.change(ctx, "delete", addr); err != nil {
		return err
	}
	c.log.Info("unblocked", zap.String("key", b.Key), zap.String("address", addr), zap.String("alias", c.alias))
	return nil
}

// Check lists the alias, which proves the key pair, its privileges and
// reachability.
func (c *Client) Check(ctx context.Context) error {
	req, err := http.NewRequest(http.MethodGet, c.base+"list/"+url.PathEscape(c.alias), nil)
	if err != nil {
		return httpx.Temporal(fmt.Errorf("opnsense: check: %w", err))
	}
	data, err := c.send(ctx, req)
	if err != nil {
		return err
	}
	// Current releases answer {"total":N,"rows":[...]}; older ones a bare
	// array of entries.
	var page struct {
		Total *int            `json:"total"`
		Rows  json.RawMessage `json:"rows"`
	}
	var entries []json.RawMessage
	switch {
	case json.Unmarshal(data, &page) == nil && page.Total != nil:
		c.log.Debug("check ok", zap.String("alias", c.alias), zap.Int("entries", *page.Total))
	case json.Unmarshal(data, &entries) == nil:
		c.log.Debug("check ok", zap.String("alias", c.alias), zap.Int("entries", len(entries)))
	default:
		return httpx.Temporal(c.http.NewBadResponse("list %s: not an alias listing: %.100s", c.alias, data))
	}
	return nil
}

// change posts {"address": addr} to add or delete and requires "done".
func (c *Client) change(ctx context.Context, action, addr string) error {
	body, _ := json.Marshal(map[string]string{"address": addr})
	req, err := http.NewRequest(http.MethodPost, c.base+action+"/"+url.PathEscape(c.alias), bytes.NewReader(body))
	if err != nil {
		return httpx.Temporal(fmt.Errorf("opnsense: %s: %w", action, err))
	}
	req.Header.Set("Content-Type", "application/json")
	data, err := c.send(ctx, req)
	if err != nil {
		return err
	}
	var r struct {
		Status    string `json:"status"`
		StatusMsg string `json:"status_msg"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return httpx.Temporal(c.http.NewBadResponse("%s %s: malformed JSON: %v", action, addr, err))
	}
	if r.Status != "done" {
		msg := fmt.Sprintf("status %q", r.Status)
		if r.StatusMsg != "" {
			msg += ": " + r.StatusMsg
		}
		return httpx.Temporal(c.http.NewBadResponse("%s %s to alias %s: %s", action, addr, c.alias, msg))
	}
	return nil
}

// send performs req with basic auth and returns the body of a 2xx answer;
// errors are classified for Temporal.
func (c *Client) send(ctx context.Context, req *http.Request) ([]byte, error) {
	req.SetBasicAuth(c.key, c.secret)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(ctx, req)
	if err != nil {
		return nil, httpx.Temporal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, httpx.Temporal(errors.New(c.http.Redact("opnsense: read response: " + err.Error())))
	}
	return data, nil
}

// target validates b and returns the address as OPNsense stores it: a
// host without a mask (OPNsense adds /32 or /128 in network aliases) or a
// network prefix.
func target(b Block) (string, error) {
	switch b.Type {
	case "ip":
	case "":
		return "", invalid("block type is required")
	default:
		return "", temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("opnsense: %s blocks are not supported", b.Type), "Unsupported", nil)
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
	return p.String(), nil
}

func invalid(msg string) error {
	return temporal.NewNonRetryableApplicationError("opnsense: "+msg, "InvalidInput", nil)
}
