package fortigate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riposte-soar/riposte/internal/contracttest"
	"go.uber.org/zap/zaptest/observer"
)

const token = "fgt+Tok3n/abc=xyz9"

const unauthorizedPage = `<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html><head>
<title>401 Unauthorized</title>
</head><body>
<h1>Unauthorized</h1>
<p>This server could not verify that you
are authorized to access the document
requested.</p>
</body></html>`

// fakeFortiOS follows the FortiOS REST API v2 CMDB: bearer token (a wrong
// one gets httpd's HTML 401 page), JSON envelopes with status and
// http_status, a duplicate name answered with HTTP 500 and error -5, a
// missing entry with 404 and error -3, and an object still referenced by a
// group refused with 500 and error -23.
type fakeFortiOS struct {
	*contracttest.Server
	mu       sync.Mutex
	objects  map[string]map[string]address  // table -> name -> object
	groups   map[string]map[string][]string // grouptable -> group -> members
	override func(w http.ResponseWriter, r *http.Request) bool
}

func newFake(t *testing.T) *fakeFortiOS {
	f := &fakeFortiOS{
		objects: map[string]map[string]address{"address": {}, "address6": {}},
		groups:  map[string]map[string][]string{"addrgrp": {"riposte-deny": nil}, "addrgrp6": {"riposte-deny6": nil}},
	}
	f.Server = contracttest.NewServer(t, f.serve)
	return f
}

func envelope(w http.ResponseWriter, r *http.Request, status int, extra map[string]any) {
	m := map[string]any{"http_method": r.Method, "revision": "c2f9a0e3d1b84f6a9e7d5c3b1a0f9e8d",
		"vdom": "root", "path": "firewall", "serial": "FGVM02TM24000000", "version": "v7.4.3", "build": 2573,
		"http_status": status, "status": "success"}
	if status != http.StatusOK {
		m["status"] = "error"
	}
	for k, v := range extra {
		m[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(m)
}

func (f *fakeFortiOS) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.override != nil && f.override(w, r) {
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+token {
		w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, unauthorizedPage)
		return
	}
	p := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/v2/cmdb/"), "/")
	if len(p) < 2 || p[0] != "firewall" {
		envelope(w, r, http.StatusNotFound, nil)
		return
	}
	notFound := func() { envelope(w, r, http.StatusNotFound, map[string]any{"error": -3}) }
	switch table := p[1]; {
	case table == "address" || table == "address6":
		objs := f.objects[table]
		switch {
		case len(p) == 2 && r.Method == http.MethodPost:
			var a address
			if json.Unmarshal(body, &a) != nil || a.Name == "" {
				envelope(w, r, http.StatusBadRequest, map[string]any{"error": -651})
				return
			}
			if _, ok := objs[a.Name]; ok {
				envelope(w, r, http.StatusInternalServerError, map[string]any{"error": -5, "name": table})
				return
			}
			objs[a.Name] = a
			envelope(w, r, http.StatusOK, map[string]any{"mkey": a.Name, "name": table})
		case len(p) == 3 && r.Method == http.MethodGet:
			if a, ok := objs[p[2]]; ok {
				envelope(w, r, http.StatusOK, map[string]any{"results": []address{a}})
				return
			}
			notFound()
		case len(p) == 3 && r.Method == http.MethodDelete:
			if _, ok := objs[p[2]]; !ok {
				notFound()
				return
			}
			for _, groups := range f.groups {
				for _, members := range groups {
					for _, m := range members {
						if m == p[2] {
							envelope(w, r, http.StatusInternalServerError, map[string]any{"error": -23})
							return
						}
					}
				}
			}
			delete(objs, p[2])
			envelope(w, r, http.StatusOK, map[string]any{"mkey": p[2]})
		default:
			envelope(w, r, http.StatusMethodNotAllowed, nil)
		}
	case table == "addrgrp" || table == "addrgrp6":
		if len(p) < 3 {
			envelope(w, r, http.StatusMethodNotAllowed, nil)
			return
		}
		members, ok := f.groups[table][p[2]]
		if !ok {
			notFound()
			return
		}
		index := func(name string) int {
			for i, m := range members {
				if m == name {
					return i
				}
			}
			return -1
		}
		switch {
		case len(p) == 3 && r.Method == http.MethodGet:
			var ms []map[string]string
			for _, m := range members {
				ms = append(ms, map[string]string{"name": m})
			}
			envelope(w, r, http.StatusOK, map[string]any{"results": []any{map[string]any{"name": p[2], "member": ms}}})
		case len(p) == 4 && p[3] == "member" && r.Method == http.MethodPost:
			var m struct{ Name string }
			json.Unmarshal(body, &m)
			objTable := strings.Replace(table, "addrgrp", "address", 1)
			if _, ok := f.objects[objTable][m.Name]; !ok {
				envelope(w, r, http.StatusInternalServerError, map[string]any{"error": -3})
				return
			}
			if index(m.Name) >= 0 {
				envelope(w, r, http.StatusInternalServerError, map[string]any{"error": -5})
				return
			}
			f.groups[table][p[2]] = append(members, m.Name)
			envelope(w, r, http.StatusOK, map[string]any{"mkey": m.Name})
		case len(p) == 5 && p[3] == "member" && r.Method == http.MethodGet:
			if index(p[4]) < 0 {
				notFound()
				return
			}
			envelope(w, r, http.StatusOK, map[string]any{"results": []map[string]string{{"name": p[4]}}})
		case len(p) == 5 && p[3] == "member" && r.Method == http.MethodDelete:
			i := index(p[4])
			if i < 0 {
				notFound()
				return
			}
			f.groups[table][p[2]] = append(members[:i:i], members[i+1:]...)
			envelope(w, r, http.StatusOK, map[string]any{"mkey": p[4]})
		default:
			envelope(w, r, http.StatusMethodNotAllowed, nil)
		}
	default:
		notFound()
	}
}

// state lists objects as "table/name" and members as "group:name".
func (f *fakeFortiOS) state() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for table, objs := range f.objects {
		for n := range objs {
			out = append(out, table+"/"+n)
		}
	}
	for _, groups := range f.groups {
		for g, ms := range groups {
			for _, m := range ms {
				out = append(out, g+":"+m)
			}
		}
	}
	sort.Strings(out)
	return out
}

func newClient(t *testing.T, f *fakeFortiOS, mod func(*Config)) (*Client, *observer.ObservedLogs) {
	t.Helper()
	logger, logs := contracttest.Logger(t)
	cfg := Config{URL: f.URL, Token: token, AddressGroup: "riposte-deny", AddressGroup6: "riposte-deny6", VDOM: "root"}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg, logger)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, logs
}

func assertNoSecret(t *testing.T, logs *observer.ObservedLogs, errs ...error) {
	t.Helper()
	contracttest.NoSecrets(t, logs, nil, token)
	for _, err := range errs {
		contracttest.NoSecrets(t, nil, err, token)
	}
}

func summary(reqs []contracttest.Request) []string {
	var out []string
	for _, r := range reqs {
		s := r.Method + " " + r.Path + "?" + r.RawQuery
		if len(r.Body) > 0 {
			s += " " + string(r.Body)
		}
		out = append(out, s)
	}
	return out
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestNewValidatesFields(t *testing.T) {
	_, err := New(Config{Timeout: -time.Second}, nil)
	want := "url: required\ntoken: required\naddress_group: required\ntimeout: must not be negative"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

func TestBlockRequestShapes(t *testing.T) {
	f := newFake(t)
	c, logs := newClient(t, f, nil)
	ctx := context.Background()
	blocks := []Block{
		{Type: "ip", Value: "203.0.113.7", TTL: time.Hour, Reason: "c2 beacon", Key: "inc-1/block"},
		{Type: "ip", Value: "198.51.100.0/24", Key: "inc-1/net"},
		{Type: "domain", Value: "Evil.Example.COM", Reason: "phishing", Key: "inc-2/dns"},
		{Type: "ip", Value: "2001:db8::/48", Key: "inc-3/v6"},
	}
	for _, b := range blocks {
		if err := c.Block(ctx, b); err != nil {
			t.Fatalf("Block(%s): %v", b.Value, err)
		}
	}
	equal(t, "requests", summary(f.Requests()), []string{
		`POST /api/v2/cmdb/firewall/address?vdom=root {"name":"riposte-203.0.113.7","type":"ipmask","subnet":"203.0.113.7/32","comment":"riposte inc-1/block: c2 beacon"}`,
		`POST /api/v2/cmdb/firewall/addrgrp/riposte-deny/member?vdom=root {"name":"riposte-203.0.113.7"}`,
		`POST /api/v2/cmdb/firewall/address?vdom=root {"name":"riposte-198.51.100.0_24","type":"ipmask","subnet":"198.51.100.0/24","comment":"riposte inc-1/net"}`,
		`POST /api/v2/cmdb/firewall/addrgrp/riposte-deny/member?vdom=root {"name":"riposte-198.51.100.0_24"}`,
		`POST /api/v2/cmdb/firewall/address?vdom=root {"name":"riposte-evil.example.com","type":"fqdn","fqdn":"evil.example.com","comment":"riposte inc-2/dns: phishing"}`,
		`POST /api/v2/cmdb/firewall/addrgrp/riposte-deny/member?vdom=root {"name":"riposte-evil.example.com"}`,
		`POST /api/v2/cmdb/firewall/address6?vdom=root {"name":"riposte-2001_db8___48","type":"ipprefix","ip6":"2001:db8::/48","comment":"riposte inc-3/v6"}`,
		`POST /api/v2/cmdb/firewall/addrgrp6/riposte-deny6/member?vdom=root {"name":"riposte-2001_db8___48"}`,
	})
	for _, r := range f.Requests() {
		if r.Header.Get("Authorization") != "Bearer "+token || r.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("headers = %v", r.Header)
		}
		if strings.Contains(r.RawQuery, "access_token") || strings.Contains(r.RawQuery, url.QueryEscape(token)) {
			t.Fatalf("token in URL: %s", r.RawQuery)
		}
	}
	assertNoSecret(t, logs)
}

func TestBlockTwiceIsOneBlockAndUnblock(t *testing.T) {
	f := newFake(t)
	c, logs := newClient(t, f, func(cfg *Config) { cfg.VDOM = "" })
	ctx := context.Background()
	b := Block{Type: "ip", Value: "203.0.113.7", Key: "inc-1/block"}
	for i := 0; i < 2; i++ {
		if err := c.Block(ctx, b); err != nil {
			t.Fatalf("Block #%d: %v", i+1, err)
		}
	}
	equal(t, "state", f.state(), []string{"address/riposte-203.0.113.7", "riposte-deny:riposte-203.0.113.7"})
	equal(t, "second block", summary(f.Requests()[2:]), []string{
		`POST /api/v2/cmdb/firewall/address? {"name":"riposte-203.0.113.7","type":"ipmask","subnet":"203.0.113.7/32","comment":"riposte inc-1/block"}`,
		`GET /api/v2/cmdb/firewall/address/riposte-203.0.113.7?`,
		`POST /api/v2/cmdb/firewall/addrgrp/riposte-deny/member? {"name":"riposte-203.0.113.7"}`,
		`GET /api/v2/cmdb/firewall/addrgrp/riposte-deny/member/riposte-203.0.113.7?`,
	})
	n := len(f.Requests())
	if err := c.Unblock(ctx, b); err != nil {
		t.Fatalf("Unblock: %v", err)
	}
	equal(t, "unblock", summary(f.Requests()[n:]), []string{
		`DELETE /api/v2/cmdb/firewall/addrgrp/riposte-deny/member/riposte-203.0.113.7?`,
		`DELETE /api/v2/cmdb/firewall/address/riposte-203.0.113.7?`,
	})
	equal(t, "state", f.state(), nil)
	if err := c.Unblock(ctx, b); err != nil {
		t.Fatalf("second Unblock: %v", err)
	}
	if err := c.Unblock(ctx, Block{Type: "domain", Value: "never.example"}); err != nil {
		t.Fatalf("Unblock of a never-blocked domain: %v", err)
	}
	assertNoSecret(t, logs)
}

func TestUnblockLeavesReferencedObject(t *testing.T) {
	f := newFake(t)
	f.groups["addrgrp"]["admin-group"] = nil
	c, logs := newClient(t, f, nil)
	ctx := context.Background()
	b := Block{Type: "ip", Value: "203.0.113.8", Key: "inc-4/block"}
	if err := c.Block(ctx, b); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.groups["addrgrp"]["admin-group"] = []string{"riposte-203.0.113.8"} // an admin reused it
	f.mu.Unlock()
	if err := c.Unblock(ctx, b); err != nil {
		t.Fatalf("Unblock: %v", err)
	}
	equal(t, "state", f.state(), []string{"address/riposte-203.0.113.8", "admin-group:riposte-203.0.113.8"})
	w := logs.FilterMessageSnippet("address object left in place").All()
	if len(w) != 1 || !strings.Contains(fmt.Sprint(w[0].ContextMap()["error"]), "fortios error -23") {
		t.Fatalf("warnings = %v", w)
	}
}

func TestUnsupportedAndInvalid(t *testing.T) {
	f := newFake(t)
	c, _ := newClient(t, f, func(cfg *Config) { cfg.AddressGroup6 = "" })
	ctx := context.Background()
	for _, tc := range []struct {
		b         Block
		typ, text string
	}{
		{Block{Type: "url", Value: "evil.example/login"}, "Unsupported", "fortigate: url blocks are not supported"},
		{Block{Type: "ip", Value: "2001:db8::1"}, "Unsupported", "fortigate: ipv6 blocks are not supported (address_group6 is not set)"},
		{Block{Type: "ip", Value: "10.0.0.1/8"}, "InvalidInput", `fortigate: invalid prefix "10.0.0.1/8" (want a network address such as 10.0.0.0/24)`},
		{Block{Type: "domain", Value: "bad_domain.example"}, "InvalidInput", `fortigate: invalid domain "bad_domain.example"`},
		{Block{Type: "domain", Value: "localhost"}, "InvalidInput", `fortigate: invalid domain "localhost"`},
	} {
		for _, err := range []error{c.Block(ctx, tc.b), c.Unblock(ctx, tc.b)} {
			contracttest.AssertNonRetryable(t, err, tc.text)
			contracttest.AssertType(t, err, tc.typ)
			if ae := contracttest.AppError(t, err); ae != nil && ae.Message() != tc.text {
				t.Errorf("message = %q, want %q", ae.Message(), tc.text)
			}
		}
	}
	if n := len(f.Requests()); n != 0 {
		t.Fatalf("%d requests for rejected input", n)
	}
}

func TestObjectName(t *testing.T) {
	long := strings.Repeat("a", 60) + ".example.com"
	got := objectName(long)
	if len(got) != maxNameLen || !strings.HasPrefix(got, "riposte-aaaa") || got != objectName(long) {
		t.Fatalf("objectName(long) = %q (%d chars)", got, len(got))
	}
	if other := objectName(strings.Repeat("a", 60) + ".example.org"); other == got {
		t.Fatalf("two long names collide: %q", got)
	}
	if got := objectName("2001:db8::1"); got != "riposte-2001_db8__1" {
		t.Fatalf("objectName(ipv6) = %q", got)
	}
	c := comment(Block{Key: "k/1", Reason: strings.Repeat("é", 200)})
	if len(c) > maxCommentLen || !strings.HasPrefix(c, "riposte k/1: é") {
		t.Fatalf("comment = %q (%d bytes)", c, len(c))
	}
}

func TestRateLimitedIsRetryableWithServerDelay(t *testing.T) {
	f := newFake(t)
	f.override = func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Retry-After", "30")
		envelope(w, r, http.StatusTooManyRequests, nil)
		return true
	}
	c, logs := newClient(t, f, nil)
	err := c.Block(context.Background(), Block{Type: "ip", Value: "203.0.113.7"})
	contracttest.AssertRetryable(t, err, 30*time.Second)
	contracttest.AssertType(t, err, "HTTP429")
	if n := len(f.Requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	assertNoSecret(t, logs, err)
}

func TestUnavailableIsRetryable(t *testing.T) {
	f := newFake(t)
	f.override = func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	}
	c, logs := newClient(t, f, nil)
	err := c.Unblock(context.Background(), Block{Type: "ip", Value: "203.0.113.7"})
	contracttest.AssertRetryable(t, err, 0)
	contracttest.AssertType(t, err, "HTTP503")
	assertNoSecret(t, logs, err)
}

func TestBadTokenIsNonRetryableWithVendorText(t *testing.T) {
	f := newFake(t)
	c, logs := newClient(t, f, func(cfg *Config) { cfg.Token = "wrong-token-123" })
	for _, err := range []error{
		c.Check(context.Background()),
		c.Block(context.Background(), Block{Type: "ip", Value: "203.0.113.7"}),
	} {
		contracttest.AssertNonRetryable(t, err, "401 Unauthorized: 401 Unauthorized Unauthorized This server could not verify that you are authorized")
		contracttest.AssertType(t, err, "HTTP401")
		assertNoSecret(t, logs, err)
		if strings.Contains(err.Error(), "wrong-token-123") {
			t.Fatal("token in error")
		}
	}
	for _, e := range logs.All() {
		if strings.Contains(fmt.Sprint(e.ContextMap())+e.Message, "wrong-token-123") {
			t.Fatalf("token in log: %v", e.ContextMap())
		}
	}
}

func TestMalformedJSONIsBadResponse(t *testing.T) {
	f := newFake(t)
	f.override = func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"http_method":"POST","status":"succ`)
		return true
	}
	c, logs := newClient(t, f, nil)
	err := c.Block(context.Background(), Block{Type: "ip", Value: "203.0.113.7"})
	contracttest.AssertBadResponse(t, err)
	contracttest.AssertNonRetryable(t, err, "fortigate: unusable response: POST")
	contracttest.AssertNonRetryable(t, err, "malformed JSON")
	err2 := c.Check(context.Background())
	contracttest.AssertBadResponse(t, err2)
	contracttest.AssertNonRetryable(t, err2, "malformed JSON")
	assertNoSecret(t, logs, err)
}

func TestErrorStatusInHTTP200IsBadResponse(t *testing.T) {
	f := newFake(t)
	f.override = func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"http_method":"GET","status":"error","http_status":200,"error":-37}`)
		return true
	}
	c, _ := newClient(t, f, nil)
	err := c.Check(context.Background())
	contracttest.AssertBadResponse(t, err)
	contracttest.AssertNonRetryable(t, err, `status "error", error -37`)
}

func TestCheck(t *testing.T) {
	f := newFake(t)
	c, _ := newClient(t, f, nil)
	if err := c.Check(context.Background()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	equal(t, "requests", summary(f.Requests()), []string{
		"GET /api/v2/cmdb/firewall/addrgrp/riposte-deny?vdom=root",
		"GET /api/v2/cmdb/firewall/addrgrp6/riposte-deny6?vdom=root",
	})
	c2, _ := newClient(t, f, func(cfg *Config) { cfg.AddressGroup = "missing-group" })
	err := c2.Check(context.Background())
	contracttest.AssertNonRetryable(t, err, "/firewall/addrgrp/missing-group")
	contracttest.AssertType(t, err, "HTTP404")
}
