package slack

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

const signingSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// signedHeaders builds headers the way Slack does, independently of Sign.
func signedHeaders(t *testing.T, secret string, body []byte, at time.Time) http.Header {
	t.Helper()
	ts := strconv.FormatInt(at.Unix(), 10)
	sig := Sign(secret, ts, body)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(sig))
	return h
}

func TestSignKnownVector(t *testing.T) {
	// Example from Slack's "Verifying requests from Slack" documentation.
	body := []byte("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
	h := http.Header{}
	h.Set(HeaderTimestamp, "1531420618")
	h.Set(HeaderSignature, "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")
	if err := VerifyRequest(h, body, signingSecret, time.Unix(1531420618, 0)); err != nil {
		t.Fatalf("Slack's documented example rejected: %v", err)
	}
}

func TestVerifyRequest(t *testing.T) {
	now := time.Date(2025, 3, 14, 15, 0, 0, 0, time.UTC)
	body := []byte("payload=" + url.QueryEscape(`{"type":"block_actions"}`))
	tests := []struct {
		name    string
		headers func() http.Header
		body    []byte
		want    error
	}{
		{"valid", func() http.Header { return signedHeaders(t, signingSecret, body, now) }, body, nil},
		{"valid 4 minutes old", func() http.Header { return signedHeaders(t, signingSecret, body, now.Add(-4*time.Minute)) }, body, nil},
		{"bad signature", func() http.Header { return signedHeaders(t, "wrong-secret", body, now) }, body, ErrInvalidSignature},
		{"tampered body", func() http.Header { return signedHeaders(t, signingSecret, body, now) }, append([]byte(nil), append(body, 'x')...), ErrInvalidSignature},
		{"6 minutes old", func() http.Header { return signedHeaders(t, signingSecret, body, now.Add(-6*time.Minute)) }, body, ErrInvalidTimestamp},
		{"6 minutes in the future", func() http.Header { return signedHeaders(t, signingSecret, body, now.Add(6*time.Minute)) }, body, ErrInvalidTimestamp},
		{"missing headers", func() http.Header { return http.Header{} }, body, ErrMissingHeaders},
		{"missing signature", func() http.Header {
			h := signedHeaders(t, signingSecret, body, now)
			h.Del(HeaderSignature)
			return h
		}, body, ErrMissingHeaders},
		{"missing timestamp", func() http.Header {
			h := signedHeaders(t, signingSecret, body, now)
			h.Del(HeaderTimestamp)
			return h
		}, body, ErrMissingHeaders},
		{"non-numeric timestamp", func() http.Header {
			h := signedHeaders(t, signingSecret, body, now)
			h.Set(HeaderTimestamp, "yesterday")
			return h
		}, body, ErrInvalidTimestamp},
		{"wrong version", func() http.Header {
			h := signedHeaders(t, signingSecret, body, now)
			h.Set(HeaderSignature, "v1="+strings.TrimPrefix(h.Get(HeaderSignature), "v0="))
			return h
		}, body, ErrInvalidSignature},
		{"not hex", func() http.Header {
			h := signedHeaders(t, signingSecret, body, now)
			h.Set(HeaderSignature, "v0=zz")
			return h
		}, body, ErrInvalidSignature},
		{"replay of a signature for another timestamp", func() http.Header {
			h := signedHeaders(t, signingSecret, body, now.Add(-time.Minute))
			h.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
			return h
		}, body, ErrInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyRequest(tt.headers(), tt.body, signingSecret, now)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if err := VerifyRequest(signedHeaders(t, signingSecret, body, now), body, "", now); err == nil {
		t.Error("empty signing secret accepted")
	}
	h := SignatureHeaders(signingSecret, body, now)
	if err := VerifyRequest(h, body, signingSecret, now); err != nil {
		t.Errorf("SignatureHeaders: %v", err)
	}
}

// blockActionsBody builds a block_actions request body as Slack sends it.
func blockActionsBody(t *testing.T, actions []map[string]any, mutate func(map[string]any)) []byte {
	t.Helper()
	p := map[string]any{
		"type":       "block_actions",
		"user":       map[string]any{"id": "U1", "username": "alice", "name": "alice", "team_id": "T1"},
		"api_app_id": "A1",
		"token":      "verification-token",
		"container":  map[string]any{"type": "message", "message_ts": "1700000000.000100", "channel_id": "C0SOC", "is_ephemeral": false},
		"trigger_id": "123.456.abc",
		"team":       map[string]any{"id": "T1", "domain": "acme"},
		"channel":    map[string]any{"id": "C0SOC", "name": "soc"},
		"message": map[string]any{
			"type": "message", "user": "B1", "ts": "1700000000.000100", "text": "Approval needed",
			"blocks": []any{map[string]any{"type": "actions", "block_id": "riposte_buttons"}},
		},
		"state":        map[string]any{"values": map[string]any{}},
		"response_url": "https://hooks.slack.com/actions/T1/123/abc",
		"actions":      actions,
	}
	if mutate != nil {
		mutate(p)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(url.Values{"payload": {string(b)}}.Encode())
}

func button(actionID string, v any) map[string]any {
	val, _ := json.Marshal(v)
	if s, ok := v.(string); ok {
		val = []byte(s)
	}
	return map[string]any{
		"action_id": actionID, "block_id": "riposte_buttons", "type": "button",
		"value":     string(val),
		"text":      map[string]any{"type": "plain_text", "text": "Approve", "emoji": true},
		"style":     "primary",
		"action_ts": "1700000100.123456",
	}
}

func TestParseInteraction(t *testing.T) {
	approve := ButtonValue{Incident: "INC-42", Step: "approve-block", Request: "req-7", Decision: DecisionApprove}
	reject := approve
	reject.Decision = DecisionReject

	got, err := ParseInteraction(blockActionsBody(t, []map[string]any{button(ActionApprove, approve)}, nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Interaction{UserID: "U1", UserName: "alice", TeamID: "T1", ChannelID: "C0SOC", MessageTS: "1700000000.000100",
		ResponseURL: "https://hooks.slack.com/actions/T1/123/abc", Value: approve}
	if *got != want {
		t.Errorf("got %+v\nwant %+v", *got, want)
	}
	got, err = ParseInteraction(blockActionsBody(t, []map[string]any{button(ActionReject, reject)}, nil))
	if err != nil || got.Value != reject {
		t.Errorf("reject: %+v, %v", got, err)
	}

	// The button values produced by ApprovalBlocks round-trip.
	m := sampleMessage()
	raw, _ := json.Marshal(ApprovalBlocks(m))
	var blocks []map[string]any
	_ = json.Unmarshal(raw, &blocks)
	for _, el := range blockOfType(blocks, "actions")[0]["elements"].([]any) {
		b := el.(map[string]any)
		got, err := ParseInteraction(blockActionsBody(t, []map[string]any{button(b["action_id"].(string), b["value"].(string))}, nil))
		if err != nil || got.Value.Incident != "INC-42" || got.Value.Request != "req-7" {
			t.Errorf("round trip %v: %+v, %v", b["action_id"], got, err)
		}
	}

	bad := []struct {
		name        string
		body        []byte
		unsupported bool
	}{
		{"not a form", []byte("%zz"), false},
		{"no payload", []byte("foo=bar"), false},
		{"bad json", []byte("payload=%7Bnope"), false},
		{"view submission", blockActionsBody(t, []map[string]any{button(ActionApprove, approve)}, func(p map[string]any) { p["type"] = "view_submission" }), true},
		{"no actions", blockActionsBody(t, []map[string]any{}, nil), true},
		{"two actions", blockActionsBody(t, []map[string]any{button(ActionApprove, approve), button(ActionReject, reject)}, nil), true},
		{"foreign action", blockActionsBody(t, []map[string]any{button("other_app_button", approve)}, nil), true},
		{"value not json", blockActionsBody(t, []map[string]any{button(ActionApprove, "approve")}, nil), false},
		{"decision mismatch", blockActionsBody(t, []map[string]any{button(ActionApprove, reject)}, nil), false},
		{"missing request", blockActionsBody(t, []map[string]any{button(ActionApprove, ButtonValue{Incident: "INC-42", Step: "s", Decision: DecisionApprove})}, nil), false},
		{"no user", blockActionsBody(t, []map[string]any{button(ActionApprove, approve)}, func(p map[string]any) { delete(p, "user") }), false},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseInteraction(tt.body)
			if err == nil {
				t.Fatalf("accepted: %+v", got)
			}
			if errors.Is(err, ErrUnsupportedInteraction) != tt.unsupported {
				t.Errorf("err %v: unsupported = %v, want %v", err, !tt.unsupported, tt.unsupported)
			}
			if !strings.HasPrefix(err.Error(), "parse interaction: ") {
				t.Errorf("message %q", err)
			}
		})
	}
}

func TestParseSlashCommand(t *testing.T) {
	body := []byte(url.Values{
		"token": {"x"}, "team_id": {"T1"}, "channel_id": {"C0SOC"}, "user_id": {"U1"}, "user_name": {"alice"},
		"command": {"/riposte"}, "text": {"  incident   INC-42 "},
		"response_url": {"https://hooks.slack.com/commands/T1/1/abc"}, "trigger_id": {"1.2.3"},
	}.Encode())
	got, err := ParseSlashCommand(body)
	if err != nil {
		t.Fatal(err)
	}
	if got.Command != "/riposte" || strings.Join(got.Args, "|") != "incident|INC-42" || got.UserID != "U1" ||
		got.ResponseURL != "https://hooks.slack.com/commands/T1/1/abc" || got.TeamID != "T1" || got.ChannelID != "C0SOC" {
		t.Errorf("got %+v", got)
	}
	got, err = ParseSlashCommand([]byte("command=%2Friposte&user_id=U1"))
	if err != nil || len(got.Args) != 0 {
		t.Errorf("no text: %+v, %v", got, err)
	}
	for _, b := range []string{"text=incident", "command=%2Friposte", "%zz"} {
		if _, err := ParseSlashCommand([]byte(b)); err == nil {
			t.Errorf("%q accepted", b)
		}
	}
}
