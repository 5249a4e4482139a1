package slack

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/slack-go/slack/slacktest"
)

const testToken = "xoxb-test-token-0123456789-SECRET"

// recorded is one request seen by the fake Slack.
type recorded struct {
	Method string
	Path   string
	Form   url.Values
	Auth   string
}

// recorder stores every request to the routes it handles and answers like
// Slack does.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
	seq  int
	// groups answers usergroups.users.list.
	groups map[string][]string
}

func (r *recorder) record(req *http.Request) url.Values {
	body, _ := io.ReadAll(req.Body)
	form, _ := url.ParseQuery(string(body))
	r.mu.Lock()
	r.reqs = append(r.reqs, recorded{Method: req.Method, Path: req.URL.Path, Form: form, Auth: req.Header.Get("Authorization")})
	r.mu.Unlock()
	return form
}

func (r *recorder) requests(path string) []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []recorded
	for _, q := range r.reqs {
		if q.Path == path {
			out = append(out, q)
		}
	}
	return out
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (r *recorder) message(w http.ResponseWriter, req *http.Request) {
	form := r.record(req)
	r.mu.Lock()
	r.seq++
	ts := fmt.Sprintf("1700000000.%06d", r.seq)
	r.mu.Unlock()
	if form.Get("ts") != "" { // chat.update keeps the ts
		ts = form.Get("ts")
	}
	channel := form.Get("channel")
	if channel == "#soc" {
		channel = "C0SOC"
	}
	writeJSON(w, map[string]any{"ok": true, "channel": channel, "ts": ts,
		"message": map[string]any{"type": "message", "text": form.Get("text"), "ts": ts}})
}

func (r *recorder) usergroupUsers(w http.ResponseWriter, req *http.Request) {
	form := r.record(req)
	users, ok := r.groups[form.Get("usergroup")]
	if !ok {
		writeJSON(w, map[string]any{"ok": false, "error": "no_such_subteam"})
		return
	}
	writeJSON(w, map[string]any{"ok": true, "users": users})
}

// newFake starts slacktest with chat.update, a recording chat.postMessage and
// usergroups.users.list, plus extra handlers.
func newFake(t *testing.T, extra map[string]http.HandlerFunc) (*recorder, *Client) {
	t.Helper()
	rec := &recorder{groups: map[string][]string{"S0RESP": {"U1", "U2"}}}
	srv := slacktest.NewTestServer(func(c slacktest.Customize) {
		for p, h := range extra {
			c.Handle(p, h)
		}
		c.Handle("/chat.postMessage", rec.message)
		c.Handle("/chat.update", rec.message)
		c.Handle("/usergroups.users.list", rec.usergroupUsers)
	})
	srv.Start()
	t.Cleanup(srv.Stop)
	return rec, New(Config{BotToken: testToken, APIURL: srv.GetAPIURL()})
}
