package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack/slacktest"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/riposte-soar/riposte/config"
	"github.com/riposte-soar/riposte/integrations/slack"
	"github.com/riposte-soar/riposte/internal/tclient"
)

// fakeSlack is slacktest with recording handlers for what Riposte calls,
// chat.update included (slacktest lacks it), and a response_url endpoint.
type fakeSlack struct {
	mu         sync.Mutex
	posts      []url.Values
	updates    []url.Values
	threads    []url.Values
	ephemerals []string
	srv        *slacktest.Server
	seq        int
	respURL    string
}

func newFakeSlack(t *testing.T) *fakeSlack {
	return newFakeSlackWith(t, &fakeSlack{}, nil)
}

// newFakeSlackWith adds handlers (Socket Mode) to the fake.
func newFakeSlackWith(t *testing.T, f *fakeSlack, extra func(slacktest.Customize)) *fakeSlack {
	reply := func(w http.ResponseWriter, form url.Values) {
		f.seq++
		ts := fmt.Sprintf("1700000000.%06d", f.seq)
		if form.Get("ts") != "" {
			ts = form.Get("ts")
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": "C0SOC", "ts": ts})
	}
	record := func(list *[]url.Values) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			form, _ := url.ParseQuery(string(b))
			f.mu.Lock()
			defer f.mu.Unlock()
			if form.Get("thread_ts") != "" {
				f.threads = append(f.threads, form)
			} else {
				*list = append(*list, form)
			}
			reply(w, form)
		}
	}
	f.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		// The first handler for a path wins: extras go first.
		if extra != nil {
			extra(c)
		}
		c.Handle("/chat.postMessage", record(&f.posts))
		c.Handle("/chat.update", record(&f.updates))
		c.Handle("/response", func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			f.mu.Lock()
			f.ephemerals = append(f.ephemerals, string(b))
			f.mu.Unlock()
			w.WriteHeader(200)
		})
	})
	f.srv.Start()
	t.Cleanup(f.srv.Stop)
	f.respURL = strings.TrimSuffix(f.srv.GetAPIURL(), "/") + "/response"
	return f
}

func (f *fakeSlack) snapshot() (posts, updates []url.Values, ephemerals []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.posts...), append([]url.Values(nil), f.updates...), append([]string(nil), f.ephemerals...)
}

const signingSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// click builds a block_actions request as Slack sends it, signed.
func click(t *testing.T, f *fakeSlack, r *running, user string, v slack.ButtonValue, at time.Time) (int, string) {
	t.Helper()
	action := slack.ActionApprove
	if v.Decision == slack.DecisionReject {
		action = slack.ActionReject
	}
	val, _ := json.Marshal(v)
	payload, _ := json.Marshal(map[string]any{
		"type":         "block_actions",
		"user":         map[string]any{"id": user, "username": strings.ToLower(user), "team_id": "T0001"},
		"team":         map[string]any{"id": "T0001", "domain": "example"},
		"channel":      map[string]any{"id": "C0SOC", "name": "soc"},
		"message":      map[string]any{"ts": "1700000000.000001", "type": "message"},
		"response_url": f.respURL,
		"trigger_id":   "123.456.abc",
		"actions": []map[string]any{{"action_id": action, "block_id": "riposte_buttons", "type": "button", "value": string(val),
			"action_ts": "1700000001.000100"}},
	})
	body := []byte("payload=" + url.QueryEscape(string(payload)))
	req, _ := http.NewRequest("POST", "http://"+r.http+"/v1/slack/interactions", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range slack.SignatureHeaders(signingSecret, body, at) {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func slackConfig(t *testing.T, f *fakeSlack, route string) *config.Config {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Dev.InMemory = true
	cfg.Dev.TemporalListen = freeAddr(t)
	cfg.Slack.BotToken = "xoxb-riposte-test"
	cfg.Slack.SigningSecret = signingSecret
	cfg.Slack.APIURL = f.srv.GetAPIURL()
	cfg.Slack.Channel = "C0SOC"
	cfg.Slack.Users = map[string][]string{"u0responder": {"responder"}, "u0second": {"responder"}, "u0ingest": {"ingest"}}
	cfg.Ingest.Routes = []config.RouteConfig{{Name: "ssh", Match: `alert.source == "wazuh"`, Playbook: route, GroupBy: `"ssh/" + host`}}
	return &cfg
}

func postWazuh(t *testing.T, r *running) string {
	body, err := os.ReadFile("../../alerts/testdata/fixtures/wazuh/dashboard_sample_5716_ssh_auth_failed.json")
	if err != nil {
		t.Fatal(err)
	}
	code, b := r.do(t, "POST", "/v1/alerts/wazuh", body)
	var acc struct {
		Accepted []struct {
			IncidentID string `json:"incident_id"`
		} `json:"accepted"`
	}
	if code != 202 || json.Unmarshal(b, &acc) != nil || len(acc.Accepted) != 1 {
		t.Fatalf("post: %d %s", code, b)
	}
	return acc.Accepted[0].IncidentID
}

func waitFor(t *testing.T, what string, d time.Duration, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSlackApprovalEndToEnd: Wazuh alert → ssh-brute-force → approval
// message in Slack within 2 s; refused, forged and stale clicks change
// nothing; a valid click blocks the IP and updates the message in place.
func TestSlackApprovalEndToEnd(t *testing.T) {
	f := newFakeSlack(t)
	r := runApp(t, ModeDev, slackConfig(t, f, "ssh-brute-force"))
	sent := time.Now()
	id := postWazuh(t, r)
	waitFor(t, "approval message", 10*time.Second, func() bool { p, _, _ := f.snapshot(); return len(p) > 0 })
	took := time.Since(sent)
	t.Logf("approval message posted %v after the webhook", took.Round(time.Millisecond))
	if took > 2*time.Second {
		t.Errorf("approval message took %v, want under 2 s", took)
	}
	posts, _, _ := f.snapshot()
	var blocks []map[string]any
	if err := json.Unmarshal([]byte(posts[0].Get("blocks")), &blocks); err != nil {
		t.Fatalf("blocks: %v", err)
	}
	raw := posts[0].Get("blocks")
	for _, want := range []string{"riposte_approve", "riposte_reject", "firewall.block_ip", "49.88.112.73", "ssh-brute-force", "approve_block"} {
		if !strings.Contains(raw, want) {
			t.Errorf("approval blocks lack %q", want)
		}
	}
	v := slack.ButtonValue{Incident: id, Step: "approve_block", Request: id + "/approve_block", Decision: slack.DecisionApprove}
	now := time.Now()

	if code, _ := click(t, f, r, "U0RESPONDER", v, now.Add(-6*time.Minute)); code != 401 {
		t.Fatalf("6-minute-old click: %d, want 401", code)
	}
	// A forged signature: signed with another secret.
	{
		saved := signingSecretForge(t, f, r, v)
		if saved != 401 {
			t.Fatalf("bad signature: %d, want 401", saved)
		}
	}
	if code, _ := click(t, f, r, "U0INGEST", v, now); code != 200 {
		t.Fatalf("click without the role: %d", code)
	}
	waitFor(t, "ephemeral refusal", 5*time.Second, func() bool { _, _, e := f.snapshot(); return len(e) == 1 })
	_, _, eph := f.snapshot()
	if !strings.Contains(eph[0], "not allowed to approve") || !strings.Contains(eph[0], `"ephemeral"`) {
		t.Fatalf("ephemeral %s", eph[0])
	}

	// The valid click, twice (a double click): one decision.
	if code, _ := click(t, f, r, "U0RESPONDER", v, now); code != 200 {
		t.Fatalf("approve: %d", code)
	}
	if code, _ := click(t, f, r, "U0RESPONDER", v, now); code != 200 {
		t.Fatalf("double click: %d", code)
	}
	waitFor(t, "IP on the EDL", 20*time.Second, func() bool {
		_, b := r.do(t, "GET", "/v1/blocklist/ip.txt", nil)
		return strings.Contains(string(b), "49.88.112.73\n")
	})
	waitFor(t, "message updated", 10*time.Second, func() bool { _, u, _ := f.snapshot(); return len(u) > 0 })
	_, updates, _ := f.snapshot()
	last := updates[len(updates)-1]
	if strings.Contains(last.Get("blocks"), "riposte_approve") || !strings.Contains(last.Get("blocks"), "U0RESPONDER") {
		t.Fatalf("updated message still has buttons or lacks the decider: %s", last.Get("blocks"))
	}

	// Timeline events go to the request's thread.
	waitFor(t, "block in the thread", 10*time.Second, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, m := range f.threads {
			if m.Get("thread_ts") == posts[0].Get("ts") || strings.Contains(m.Get("text"), "firewall.block_ip done: ip=49.88.112.73") {
				return strings.Contains(m.Get("text"), "firewall.block_ip done")
			}
		}
		return false
	})

	st := getIncident(t, r, id)
	if len(st.Approvals) != 1 || len(st.Approvals[0].Decisions) != 1 || st.Approvals[0].Decisions[0].By != "slack:U0RESPONDER" {
		t.Fatalf("decisions %+v", st.Approvals)
	}
	audited := false
	for _, e := range st.Timeline {
		audited = audited || (e.Kind == "audit" && strings.Contains(e.Message, "U0INGEST tried to approve"))
	}
	if !audited {
		t.Fatalf("no audit entry for the refused click: %+v", st.Timeline)
	}
	// Only the one accepted decision reached the history.
	c, err := client.Dial(client.Options{HostPort: r.temporal, Logger: tclient.NewLogger(nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n := 0
	it := c.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d updates in history, want 1", n)
	}

	// /riposte incident ID, signed like the buttons.
	slash := func(user, text string, at time.Time) (int, string) {
		form := url.Values{"command": {"/riposte"}, "text": {text}, "user_id": {user}, "user_name": {"x"}, "team_id": {"T0001"},
			"channel_id": {"C0SOC"}, "response_url": {f.respURL}, "token": {"legacy"}, "trigger_id": {"1.2.3"}}
		body := []byte(form.Encode())
		req, _ := http.NewRequest("POST", "http://"+r.http+"/v1/slack/commands", bytes.NewReader(body))
		for k, vs := range slack.SignatureHeaders(signingSecret, body, at) {
			req.Header[k] = vs
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, b := slash("U0RESPONDER", "incident "+id, time.Now()); code != 200 || !strings.Contains(b, `"ephemeral"`) ||
		!strings.Contains(b, "sshd: authentication failed.") || !strings.Contains(b, "approval approve_block: approved") {
		t.Fatalf("slash command: %d %s", code, b)
	}
	if code, _ := slash("U0RESPONDER", "incident "+id, time.Now().Add(-6*time.Minute)); code != 401 {
		t.Fatalf("stale slash command: %d", code)
	}
	if _, b := slash("U0NOBODY", "incident "+id, time.Now()); strings.Contains(b, "sshd") {
		t.Fatalf("a user without a role saw the incident: %s", b)
	}
}

func signingSecretForge(t *testing.T, f *fakeSlack, r *running, v slack.ButtonValue) int {
	val, _ := json.Marshal(v)
	payload := `{"type":"block_actions","user":{"id":"U0RESPONDER"},"actions":[{"action_id":"riposte_approve","value":` + fmt.Sprintf("%q", val) + `}]}`
	body := []byte("payload=" + url.QueryEscape(payload))
	req, _ := http.NewRequest("POST", "http://"+r.http+"/v1/slack/interactions", bytes.NewReader(body))
	for k, vs := range slack.SignatureHeaders("not-the-signing-secret", body, time.Now()) {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestSlackFourEyesAndReject: malware-on-host needs two distinct
// approvers; one person clicking twice is not enough. A reject ends it.
func TestSlackFourEyesAndReject(t *testing.T) {
	f := newFakeSlack(t)
	cfg := slackConfig(t, f, "malware-on-host")
	cfg.Slack.Users["u0admin"] = []string{"admin"}
	cfg.Ingest.Routes[0].Match = `alert.source == "crowdstrike"`
	r := runApp(t, ModeDev, cfg)
	body, _ := os.ReadFile("../../alerts/testdata/fixtures/crowdstrike/elastic_integrations_epp_detection_summary_ngav_blocked.json")
	code, b := r.do(t, "POST", "/v1/alerts/crowdstrike", body)
	var acc struct {
		Accepted []struct {
			IncidentID string `json:"incident_id"`
		} `json:"accepted"`
	}
	if code != 202 || json.Unmarshal(b, &acc) != nil {
		t.Fatalf("post: %d %s", code, b)
	}
	id := acc.Accepted[0].IncidentID
	waitFor(t, "approval message", 10*time.Second, func() bool { p, _, _ := f.snapshot(); return len(p) > 0 })
	v := slack.ButtonValue{Incident: id, Step: "approve_containment", Request: id + "/approve_containment", Decision: slack.DecisionApprove}
	now := time.Now()
	click(t, f, r, "U0RESPONDER", v, now)
	click(t, f, r, "U0RESPONDER", v, now) // the same person again
	waitFor(t, "first vote", 10*time.Second, func() bool {
		st := getIncident(t, r, id)
		return len(st.Approvals) == 1 && len(st.Approvals[0].Decisions) == 1
	})
	if st := getIncident(t, r, id); st.Approvals[0].Status != "pending" {
		t.Fatalf("approved after one person: %+v", st.Approvals[0])
	}
	click(t, f, r, "U0ADMIN", v, now)
	waitFor(t, "approved by two", 10*time.Second, func() bool {
		st := getIncident(t, r, id)
		return st.Approvals[0].Status == "approved" && len(st.Approvals[0].Decisions) == 2
	})

	// A second incident, rejected.
	f2 := newFakeSlack(t)
	cfg2 := slackConfig(t, f2, "ssh-brute-force")
	r2 := runApp(t, ModeDev, cfg2)
	id2 := postWazuh(t, r2)
	waitFor(t, "approval message", 10*time.Second, func() bool { p, _, _ := f2.snapshot(); return len(p) > 0 })
	rej := slack.ButtonValue{Incident: id2, Step: "approve_block", Request: id2 + "/approve_block", Decision: slack.DecisionReject}
	if code, _ := click(t, f2, r2, "U0RESPONDER", rej, time.Now()); code != 200 {
		t.Fatalf("reject: %d", code)
	}
	waitFor(t, "rejected", 10*time.Second, func() bool { return getIncident(t, r2, id2).Approvals[0].Status == "rejected" })
	_, b2 := r2.do(t, "GET", "/v1/blocklist/ip.txt", nil)
	if strings.Contains(string(b2), "49.88.112.73") {
		t.Fatal("rejected block reached the EDL")
	}
}

// TestSlackSocketMode: with slack.app_token, clicks arrive over Slack's
// Socket Mode websocket (apps.connections.open, hello, an interactive
// envelope, an ack) and go through the same handler as the HTTP endpoint.
func TestSlackSocketMode(t *testing.T) {
	envelopes := make(chan []byte, 1)
	acks := make(chan string, 4)
	var opened sync.WaitGroup
	opened.Add(1)
	f := &fakeSlack{}
	upgrader := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	var once sync.Once
	f2 := newFakeSlackWith(t, f, func(c slacktest.Customize) {
		c.Handle("/apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer xapp-riposte-test" {
				http.Error(w, `{"ok":false,"error":"invalid_auth"}`, 200)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "url": strings.Replace(f.srv.GetAPIURL(), "http://", "ws://", 1) + "ws"})
		})
		c.Handle("/ws", func(w http.ResponseWriter, r *http.Request) {
			conn, err := upgrader.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer conn.Close()
			_ = conn.WriteJSON(map[string]any{"type": "hello", "num_connections": 1, "connection_info": map[string]any{"app_id": "A0RIPOSTE"},
				"debug_info": map[string]any{"host": "test", "approximate_connection_time": 3600}})
			once.Do(opened.Done)
			go func() {
				for {
					var m map[string]any
					if err := conn.ReadJSON(&m); err != nil {
						return
					}
					if id, ok := m["envelope_id"].(string); ok {
						acks <- id
					}
				}
			}()
			for env := range envelopes {
				if err := conn.WriteMessage(websocket.TextMessage, env); err != nil {
					return
				}
			}
		})
	})
	cfg := slackConfig(t, f2, "ssh-brute-force")
	cfg.Slack.AppToken = "xapp-riposte-test"
	r := runApp(t, ModeDev, cfg)
	opened.Wait()
	id := postWazuh(t, r)
	waitFor(t, "approval message", 10*time.Second, func() bool { p, _, _ := f2.snapshot(); return len(p) > 0 })
	val, _ := json.Marshal(slack.ButtonValue{Incident: id, Step: "approve_block", Request: id + "/approve_block", Decision: slack.DecisionApprove})
	payload, _ := json.Marshal(map[string]any{
		"type": "block_actions", "user": map[string]any{"id": "U0RESPONDER", "username": "responder"}, "team": map[string]any{"id": "T0001"},
		"channel": map[string]any{"id": "C0SOC"}, "message": map[string]any{"ts": "1700000000.000001"}, "response_url": f2.respURL,
		"actions": []map[string]any{{"action_id": slack.ActionApprove, "block_id": "riposte_buttons", "type": "button", "value": string(val)}},
	})
	env, _ := json.Marshal(map[string]any{"envelope_id": "env-1", "type": "interactive", "accepts_response_payload": false, "payload": json.RawMessage(payload)})
	envelopes <- env
	select {
	case got := <-acks:
		if got != "env-1" {
			t.Fatalf("ack for %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no ack for the envelope")
	}
	waitFor(t, "approved over socket mode", 10*time.Second, func() bool {
		st := getIncident(t, r, id)
		return len(st.Approvals) == 1 && st.Approvals[0].Status == "approved" && st.Approvals[0].Decisions[0].By == "slack:U0RESPONDER"
	})
	close(envelopes)
}

// TestSlackPostIsNotDuplicatedOnRetry: Slack stores the approval request
// but the answer is lost (a 500 after the write); Temporal retries the
// activity, which finds the message by its metadata instead of posting it
// again.
func TestSlackPostIsNotDuplicatedOnRetry(t *testing.T) {
	var (
		mu      sync.Mutex
		stored  []url.Values
		history int
	)
	f := newFakeSlackWith(t, &fakeSlack{}, func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			form, _ := url.ParseQuery(string(b))
			mu.Lock()
			defer mu.Unlock()
			if form.Get("thread_ts") != "" {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"ok":true,"channel":"C0SOC","ts":"1700000001.000001"}`))
				return
			}
			stored = append(stored, form)
			if len(stored) == 1 {
				http.Error(w, "upstream timeout", http.StatusInternalServerError) // written, but the answer is lost
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"ok":true,"channel":"C0SOC","ts":"1700000000.000099"}`))
		})
		c.Handle("/conversations.history", func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			history++
			var msgs []map[string]any
			for i, m := range stored {
				var meta map[string]any
				_ = json.Unmarshal([]byte(m.Get("metadata")), &meta)
				msgs = append(msgs, map[string]any{"type": "message", "ts": fmt.Sprintf("1700000000.%06d", i+1), "text": m.Get("text"), "metadata": meta})
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "messages": msgs, "has_more": false})
		})
	})
	r := runApp(t, ModeDev, slackConfig(t, f, "ssh-brute-force"))
	id := postWazuh(t, r)
	waitFor(t, "the retried post finds the stored message", 30*time.Second, func() bool {
		st := getIncident(t, r, id)
		return len(st.Approvals) == 1 && st.Approvals[0].Chat != nil
	})
	st := getIncident(t, r, id)
	mu.Lock()
	defer mu.Unlock()
	if len(stored) != 1 || history == 0 || st.Approvals[0].Chat.TS != "1700000000.000001" {
		t.Fatalf("%d approval posts (want 1), %d history lookups, chat %+v", len(stored), history, st.Approvals[0].Chat)
	}
}

// TestSlackIncidentChannel: with slack.incident_channels, the incident gets
// its own channel with the responders invited and a summary, and its
// approval request is posted there.
func TestSlackIncidentChannel(t *testing.T) {
	var (
		mu      sync.Mutex
		created []url.Values
		invited []url.Values
	)
	rec := func(list *[]url.Values, reply string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			form, _ := url.ParseQuery(string(b))
			mu.Lock()
			*list = append(*list, form)
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(reply))
		}
	}
	f := newFakeSlackWith(t, &fakeSlack{}, func(c slacktest.Customize) {
		c.Handle("/conversations.create", rec(&created, `{"ok":true,"channel":{"id":"C0INCIDENT","name":"inc"}}`))
		c.Handle("/conversations.invite", rec(&invited, `{"ok":true,"channel":{"id":"C0INCIDENT"}}`))
	})
	cfg := slackConfig(t, f, "ssh-brute-force")
	cfg.Slack.IncidentChannels = true
	r := runApp(t, ModeDev, cfg)
	id := postWazuh(t, r)
	waitFor(t, "approval request in the incident channel", 10*time.Second, func() bool {
		st := getIncident(t, r, id)
		return len(st.Approvals) == 1 && st.Approvals[0].Chat != nil
	})
	mu.Lock()
	defer mu.Unlock()
	if len(created) != 1 || created[0].Get("name") != id {
		t.Fatalf("conversations.create %v, want one named %s", created, id)
	}
	if len(invited) != 1 || !strings.Contains(invited[0].Get("users"), "U0RESPONDER") || strings.Contains(invited[0].Get("users"), "U0INGEST") {
		t.Fatalf("conversations.invite %v, want the responders only", invited)
	}
	posts, _, _ := f.snapshot()
	var summary, request bool
	for _, p := range posts {
		summary = summary || (p.Get("channel") == "C0INCIDENT" && strings.Contains(p.Get("text"), "Incident "+id))
		request = request || (p.Get("channel") == "C0INCIDENT" && strings.Contains(p.Get("blocks"), "riposte_approve"))
	}
	if !summary || !request {
		t.Fatalf("summary %v, request in the channel %v: %v", summary, request, posts)
	}
}
