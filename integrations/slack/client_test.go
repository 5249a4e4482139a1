package slack

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

var deadline = time.Date(2025, 3, 14, 15, 30, 0, 0, time.UTC)

func sampleMessage() ApprovalMessage {
	return ApprovalMessage{
		IncidentID:    "INC-42",
		IncidentTitle: "SSH brute force from 203.0.113.7",
		Severity:      "high",
		Phase:         "containment",
		Observables:   []string{"ip 203.0.113.7", "host web-01"},
		Action:        "firewall.block_ip ip=203.0.113.7 ttl=24h",
		Prompt:        "Block 203.0.113.7 for 24 h on the EDL?",
		Playbook:      "ssh-brute-force",
		Step:          "approve-block",
		Deadline:      deadline,
		Required:      1,
		RequestID:     "req-7",
	}
}

// blocksOf decodes the blocks form field as generic JSON.
func blocksOf(t *testing.T, r recorded) []map[string]any {
	t.Helper()
	var b []map[string]any
	if err := json.Unmarshal([]byte(r.Form.Get("blocks")), &b); err != nil {
		t.Fatalf("blocks: %v (%q)", err, r.Form.Get("blocks"))
	}
	return b
}

// allText joins every string in the decoded blocks.
func allText(v any) string {
	switch x := v.(type) {
	case string:
		return x + "\n"
	case []any:
		var b strings.Builder
		for _, e := range x {
			b.WriteString(allText(e))
		}
		return b.String()
	case []map[string]any:
		var b strings.Builder
		for _, e := range x {
			b.WriteString(allText(e))
		}
		return b.String()
	case map[string]any:
		var b strings.Builder
		for _, e := range x {
			b.WriteString(allText(e))
		}
		return b.String()
	}
	return ""
}

func blockOfType(blocks []map[string]any, typ string) []map[string]any {
	var out []map[string]any
	for _, b := range blocks {
		if b["type"] == typ {
			out = append(out, b)
		}
	}
	return out
}

func TestPostApprovalBlocks(t *testing.T) {
	rec, c := newFake(t, nil)
	ch, ts, err := c.PostApproval(context.Background(), "#soc", sampleMessage())
	if err != nil {
		t.Fatal(err)
	}
	if ch != "C0SOC" || ts == "" {
		t.Fatalf("channel %q ts %q", ch, ts)
	}
	posts := rec.requests("/chat.postMessage")
	if len(posts) != 1 {
		t.Fatalf("%d posts, want 1", len(posts))
	}
	p := posts[0]
	if p.Method != http.MethodPost || p.Form.Get("channel") != "#soc" {
		t.Fatalf("request %s channel %q", p.Method, p.Form.Get("channel"))
	}
	if !strings.Contains(p.Form.Get("text"), "firewall.block_ip ip=203.0.113.7 ttl=24h") {
		t.Errorf("fallback text lacks the action: %q", p.Form.Get("text"))
	}
	blocks := blocksOf(t, p)
	raw := allText(blocks)
	for _, want := range []string{
		"SSH brute force from 203.0.113.7", "INC-42", "high", "containment",
		"ip 203.0.113.7", "host web-01",
		"firewall.block_ip ip=203.0.113.7 ttl=24h",
		"Block 203.0.113.7 for 24 h on the EDL?",
		"ssh-brute-force", "approve-block",
		"2025-03-14 15:30 UTC", "<!date^1741966200^",
	} {
		if !strings.Contains(raw, want) {
			t.Errorf("blocks lack %q", want)
		}
	}
	if h := blockOfType(blocks, "header"); len(h) != 1 {
		t.Errorf("%d header blocks", len(h))
	}
	actions := blockOfType(blocks, "actions")
	if len(actions) != 1 {
		t.Fatalf("%d actions blocks, want 1", len(actions))
	}
	els := actions[0]["elements"].([]any)
	if len(els) != 2 {
		t.Fatalf("%d buttons, want 2", len(els))
	}
	want := []struct{ id, style, decision string }{
		{ActionApprove, "primary", DecisionApprove},
		{ActionReject, "danger", DecisionReject},
	}
	for i, w := range want {
		b := els[i].(map[string]any)
		if b["type"] != "button" || b["action_id"] != w.id || b["style"] != w.style {
			t.Errorf("button %d = %v", i, b)
		}
		var v ButtonValue
		if err := json.Unmarshal([]byte(b["value"].(string)), &v); err != nil {
			t.Fatalf("button %d value: %v", i, err)
		}
		if v != (ButtonValue{Incident: "INC-42", Step: "approve-block", Request: "req-7", Decision: w.decision}) {
			t.Errorf("button %d value = %+v", i, v)
		}
	}
}

func TestApprovalBlocksEscapesUntrustedText(t *testing.T) {
	m := sampleMessage()
	m.IncidentTitle = "<!channel> pwned & <https://evil.example|click>"
	b, _ := json.Marshal(ApprovalBlocks(m))
	var blocks []map[string]any
	_ = json.Unmarshal(b, &blocks)
	s := allText(blocks)
	// The header is plain_text (no mrkdwn); everywhere else it must be escaped.
	if strings.Count(s, "<!channel>") > 1 || !strings.Contains(s, "&lt;!channel&gt;") {
		t.Errorf("title not escaped: %s", s)
	}
}

func TestUpdateApprovalAfterDecision(t *testing.T) {
	rec, c := newFake(t, nil)
	ch, ts, err := c.PostApproval(context.Background(), "C0SOC", sampleMessage())
	if err != nil {
		t.Fatal(err)
	}
	m := sampleMessage()
	m.Approvers = []string{"U1"}
	m.Decision = &DecisionInfo{Status: StatusApproved, By: []string{"U1"}, At: deadline.Add(-10 * time.Minute), Comment: "go"}
	if err := c.UpdateApproval(context.Background(), ch, ts, m); err != nil {
		t.Fatal(err)
	}
	ups := rec.requests("/chat.update")
	if len(ups) != 1 {
		t.Fatalf("%d updates, want 1", len(ups))
	}
	u := ups[0]
	if u.Form.Get("ts") != ts || u.Form.Get("channel") != ch {
		t.Errorf("update ts %q channel %q, want %q %q", u.Form.Get("ts"), u.Form.Get("channel"), ts, ch)
	}
	blocks := blocksOf(t, u)
	if a := blockOfType(blocks, "actions"); len(a) != 0 {
		t.Errorf("buttons still present: %v", a)
	}
	ctxs := blockOfType(blocks, "context")
	if len(ctxs) != 1 {
		t.Fatalf("%d context blocks, want 1", len(ctxs))
	}
	text := ctxs[0]["elements"].([]any)[0].(map[string]any)["text"].(string)
	for _, want := range []string{"Approved", "<@U1>", "2025-03-14 15:20 UTC", "go"} {
		if !strings.Contains(text, want) {
			t.Errorf("decision context %q lacks %q", text, want)
		}
	}
	if !strings.Contains(allText(blocks), "firewall.block_ip ip=203.0.113.7 ttl=24h") {
		t.Error("updated message lost the action")
	}
	if n := len(rec.requests("/chat.postMessage")); n != 1 {
		t.Errorf("%d posts, want 1 (update must not post)", n)
	}
}

func TestPostThread(t *testing.T) {
	rec, c := newFake(t, nil)
	ts, err := c.PostThread(context.Background(), "C0SOC", "1700000000.000001", "containment done: 203.0.113.7 blocked")
	if err != nil {
		t.Fatal(err)
	}
	posts := rec.requests("/chat.postMessage")
	if len(posts) != 1 || ts == "" {
		t.Fatalf("%d posts, ts %q", len(posts), ts)
	}
	if got := posts[0].Form.Get("thread_ts"); got != "1700000000.000001" {
		t.Errorf("thread_ts = %q", got)
	}
	if got := posts[0].Form.Get("text"); got != "containment done: 203.0.113.7 blocked" {
		t.Errorf("text = %q", got)
	}
	if _, err := c.PostThread(context.Background(), "C0SOC", "", "x"); err == nil {
		t.Error("empty thread ts accepted")
	}
}

func TestUserGroupMembersCached(t *testing.T) {
	rec, c := newFake(t, nil)
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ctx := context.Background()
	got, err := c.UserGroupMembers(ctx, "S0RESP")
	if err != nil || strings.Join(got, ",") != "U1,U2" {
		t.Fatalf("members %v, %v", got, err)
	}
	got[0] = "MUTATED"
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			g, err := c.UserGroupMembers(ctx, "S0RESP")
			if err != nil || strings.Join(g, ",") != "U1,U2" {
				t.Errorf("cached members %v, %v", g, err)
			}
		})
	}
	wg.Wait()
	if n := len(rec.requests("/usergroups.users.list")); n != 1 {
		t.Fatalf("%d server calls, want 1", n)
	}
	mu.Lock()
	now = now.Add(UserGroupCacheTTL + time.Second)
	mu.Unlock()
	if _, err := c.UserGroupMembers(ctx, "S0RESP"); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.requests("/usergroups.users.list")); n != 2 {
		t.Fatalf("%d server calls after expiry, want 2", n)
	}
	_, err = c.UserGroupMembers(ctx, "S0NOPE")
	var se *Error
	if !errors.As(err, &se) || se.Retryable || !strings.Contains(err.Error(), "no_such_subteam") {
		t.Errorf("unknown group: %v", err)
	}
}

func TestErrorClassification(t *testing.T) {
	fail := func(status int, header map[string]string, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			for k, v := range header {
				w.Header().Set(k, v)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}
	}
	tests := []struct {
		name       string
		h          http.HandlerFunc
		retryable  bool
		retryAfter time.Duration
		contains   string
	}{
		{"rate limited", fail(429, map[string]string{"Retry-After": "30"}, `{"ok":false,"error":"ratelimited"}`), true, 30 * time.Second, "rate limited"},
		{"429 without retry-after", fail(429, nil, ``), true, 0, "429"},
		{"server error", fail(500, nil, `<html>oops</html>`), true, 0, "500"},
		{"bad gateway", fail(502, nil, ``), true, 0, "502"},
		{"channel not found", fail(200, nil, `{"ok":false,"error":"channel_not_found"}`), false, 0, "channel_not_found"},
		{"invalid auth", fail(200, nil, `{"ok":false,"error":"invalid_auth"}`), false, 0, "invalid_auth"},
		{"not in channel", fail(200, nil, `{"ok":false,"error":"not_in_channel"}`), false, 0, "not_in_channel"},
		{"slack internal error", fail(200, nil, `{"ok":false,"error":"internal_error"}`), true, 0, "internal_error"},
		{"token echoed", fail(200, nil, `{"ok":false,"error":"bad token `+testToken+`"}`), false, 0, "<redacted>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := newFake(t, map[string]http.HandlerFunc{"/chat.postMessage": tt.h, "/chat.update": tt.h})
			_, _, err := c.PostApproval(context.Background(), "C0SOC", sampleMessage())
			checkErr(t, err, "chat.postMessage", tt.retryable, tt.retryAfter, tt.contains)
			err = c.UpdateApproval(context.Background(), "C0SOC", "1.2", sampleMessage())
			checkErr(t, err, "chat.update", tt.retryable, tt.retryAfter, tt.contains)
			_, err = c.PostThread(context.Background(), "C0SOC", "1.2", "x")
			checkErr(t, err, "chat.postMessage", tt.retryable, tt.retryAfter, tt.contains)
		})
	}
	t.Run("network error", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		c := New(Config{BotToken: testToken, APIURL: srv.URL})
		_, _, err := c.PostApproval(context.Background(), "C0SOC", sampleMessage())
		checkErr(t, err, "chat.postMessage", true, 0, "")
	})
	t.Run("canceled", func(t *testing.T) {
		_, c := newFake(t, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, _, err := c.PostApproval(ctx, "C0SOC", sampleMessage())
		checkErr(t, err, "chat.postMessage", false, 0, "canceled")
	})
}

func checkErr(t *testing.T, err error, op string, retryable bool, retryAfter time.Duration, contains string) {
	t.Helper()
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not *Error", err, err)
	}
	if se.Op != op || se.Retryable != retryable || se.RetryAfter != retryAfter || IsRetryable(err) != retryable {
		t.Errorf("%v: op %q retryable %v retryAfter %v, want %q %v %v", err, se.Op, se.Retryable, se.RetryAfter, op, retryable, retryAfter)
	}
	msg := err.Error()
	if !strings.Contains(msg, op) || !strings.Contains(msg, contains) {
		t.Errorf("message %q lacks %q or %q", msg, op, contains)
	}
	if strings.Contains(msg, testToken) {
		t.Errorf("message %q contains the bot token", msg)
	}
}

func TestPostEphemeral(t *testing.T) {
	var mu sync.Mutex
	var got map[string]any
	var ctype string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		ctype = r.Header.Get("Content-Type")
		_ = json.NewDecoder(r.Body).Decode(&got)
		switch r.URL.Path {
		case "/actions/T1/busy":
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
		case "/actions/T1/down":
			w.WriteHeader(503)
		case "/actions/T1/gone":
			w.WriteHeader(404)
		default:
			_, _ = w.Write([]byte("ok"))
		}
	}))
	defer srv.Close()
	c := New(Config{BotToken: testToken, HTTPClient: srv.Client()})
	if err := c.PostEphemeral(context.Background(), srv.URL+"/actions/T1/secret", "you are not allowed to approve this"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if ctype != "application/json" || got["response_type"] != "ephemeral" || got["replace_original"] != false ||
		got["text"] != "you are not allowed to approve this" {
		t.Errorf("posted %s %v", ctype, got)
	}
	mu.Unlock()

	err := c.PostEphemeral(context.Background(), srv.URL+"/actions/T1/busy", "x")
	var se *Error
	if !errors.As(err, &se) || !se.Retryable || se.RetryAfter != 7*time.Second {
		t.Errorf("429: %v", err)
	}
	if err := c.PostEphemeral(context.Background(), srv.URL+"/actions/T1/down", "x"); !IsRetryable(err) {
		t.Errorf("503: %v", err)
	}
	if err := c.PostEphemeral(context.Background(), srv.URL+"/actions/T1/gone", "x"); err == nil || IsRetryable(err) {
		t.Errorf("404: %v", err)
	}
	if err := c.PostEphemeral(context.Background(), "not a url", "x"); err == nil {
		t.Error("bad url accepted")
	}
	srv.Close()
	err = c.PostEphemeral(context.Background(), srv.URL+"/actions/T1/secret", "x")
	if !IsRetryable(err) || strings.Contains(err.Error(), "secret") {
		t.Errorf("closed server: %v (must be retryable and must not print the url path)", err)
	}
}

func TestTokenNeverPrinted(t *testing.T) {
	c := New(Config{BotToken: testToken})
	for _, s := range []string{c.String(), c.GoString()} {
		if strings.Contains(s, testToken) {
			t.Errorf("%q contains the token", s)
		}
	}
}
