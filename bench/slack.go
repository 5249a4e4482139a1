package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/slack-go/slack/slacktest"
)

// fakeSlack is slacktest with a chat.postMessage handler that notes when
// each approval request arrives, by the alert's marker in its text.
type fakeSlack struct {
	srv     *slacktest.Server
	mu      sync.Mutex
	waiting map[string]chan time.Time
	seq     int
}

var markerRE = regexp.MustCompile(`bench-approval-lat-[0-9a-f]+-[0-9]+`)

func newFakeSlack() *fakeSlack {
	f := &fakeSlack{waiting: map[string]chan time.Time{}}
	reply := func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.seq++
		ts := fmt.Sprintf("1700000000.%06d", f.seq)
		// The request's form is URL-encoded; the marker has no characters
		// that encoding changes.
		if m := markerRE.Find(body); m != nil {
			if ch, ok := f.waiting[string(m)]; ok {
				delete(f.waiting, string(m))
				ch <- at
			}
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": "C0BENCH", "ts": ts})
	}
	f.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", reply)
		c.Handle("/chat.update", reply)
	})
	f.srv.Start()
	return f
}

// URL is the Web API base URL for slack.api_url.
func (f *fakeSlack) URL() string { return f.srv.GetAPIURL() }

// expect returns a channel that receives the arrival time of the first
// message carrying marker.
func (f *fakeSlack) expect(marker string) <-chan time.Time {
	ch := make(chan time.Time, 1)
	f.mu.Lock()
	f.waiting[marker] = ch
	f.mu.Unlock()
	return ch
}

func (f *fakeSlack) Close() { f.srv.Stop() }
