package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riposte-soar/riposte/internal/auth"
	"github.com/riposte-soar/riposte/internal/testrt"
)

// holdingProxy stands between Riposte and RT. The first ticket create goes
// through to RT, which creates the ticket; its answer is then held until
// the caller is gone, as when the worker dies after the vendor acted but
// before the activity completed.
type holdingProxy struct {
	creates, searches atomic.Int32
	created           chan struct{}
	once              sync.Once
	hold              atomic.Bool
}

func newHoldingProxy(t *testing.T, target string) (*holdingProxy, *httptest.Server) {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	hp := &holdingProxy{created: make(chan struct{})}
	hp.hold.Store(true)
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimSuffix(r.URL.Path, "/")
		switch {
		case r.Method == http.MethodPost && path == "/REST/2.0/ticket":
			hp.creates.Add(1)
			if hp.hold.Load() {
				rec := httptest.NewRecorder()
				rp.ServeHTTP(rec, r)
				if rec.Code != http.StatusCreated {
					t.Errorf("RT answered the held create with %d: %s", rec.Code, rec.Body)
				}
				hp.once.Do(func() { close(hp.created) })
				<-r.Context().Done() // the answer never reaches Riposte
				return
			}
		case r.Method == http.MethodGet && strings.HasPrefix(path, "/REST/2.0/tickets"):
			hp.searches.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return hp, srv
}

// TestCrashAfterTicketCreatedBeforeActivityCompleted: kill -9 riposte dev
// after RT created the ticket but before the activity learnt of it. After
// the restart the retried activity finds the ticket by its key: exactly one
// ticket in RT and one block on the EDL.
func TestCrashAfterTicketCreatedBeforeActivityCompleted(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped with -short: end-to-end run of riposte dev with a real Request Tracker")
	}
	rtsrv := testrt.Start(t)
	proxy, proxySrv := newHoldingProxy(t, rtsrv.URL)

	dir := t.TempDir()
	admin, adminHash, _ := auth.NewToken()
	pbDir := filepath.Join(dir, "playbooks")
	if err := os.MkdirAll(pbDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The ticket step times out after 5 s, so the retry after the crash
	// comes quickly; the block follows it.
	playbook := `name: crash-ticket
version: "1.0.0"
description: ticket then block, for the crash test
detect:
  - id: source
    set:
      src_ip: 'alert.observables.filter(o, o.type == "ip")[0].value'
analyse:
  - id: ticket
    action: ticket.create
    timeout: 5s
    args:
      title: "SSH brute force from ${{ vars.src_ip }}"
      body: "incident ${{ incident.id }}"
  - id: block
    action: firewall.block_ip
    args:
      ip: "${{ vars.src_ip }}"
`
	if err := os.WriteFile(filepath.Join(pbDir, "crash-ticket.yaml"), []byte(playbook), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`auth:
  tokens:
    - {name: admin, role: admin, sha256: %s}
playbooks:
  paths: [%s]
ingest:
  default_route:
    name: default
    playbook: crash-ticket
    group_by: '"crash"'
ticketing:
  system: rt
  rt:
    url: %s
    token: %s
    timeout: 3s
`, adminHash, pbDir, proxySrv.URL, rtsrv.Token)
	if err := os.WriteFile(filepath.Join(dir, "riposte.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	httpAddr, temporalAddr := freePort(t), freePort(t)
	args := []string{"dev", "--data-dir", filepath.Join(dir, "data"), "--http", httpAddr, "--temporal", temporalAddr}
	p := startRiposte(t, dir, nil, args...)
	waitReady(t, p, httpAddr, 60*time.Second)
	api := apiUser{t, "http://" + httpAddr, admin}

	body, err := os.ReadFile("../../alerts/testdata/fixtures/wazuh/dashboard_sample_5716_ssh_auth_failed.json")
	if err != nil {
		t.Fatal(err)
	}
	code, b := api.do("POST", "/v1/alerts/wazuh", body)
	if code != 202 {
		t.Fatalf("post: %d %s", code, b)
	}
	var acc struct {
		Accepted []struct {
			IncidentID string `json:"incident_id"`
		} `json:"accepted"`
	}
	if err := json.Unmarshal(b, &acc); err != nil || len(acc.Accepted) != 1 {
		t.Fatalf("accepted %s", b)
	}
	id := acc.Accepted[0].IncidentID

	select {
	case <-proxy.created:
	case <-time.After(60 * time.Second):
		t.Fatalf("no ticket create reached RT; stderr:\n%s", p.stderr.String())
	}
	p.killHard(t)
	proxy.hold.Store(false)
	tag := "[riposte:" + id + "/ticket]"
	if n := countTagged(t, rtsrv, tag); n != 1 {
		t.Fatalf("RT holds %d tickets tagged %s after the held create, want 1", n, tag)
	}

	p = startRiposte(t, dir, nil, args...)
	waitReady(t, p, httpAddr, 60*time.Second)

	var inc struct {
		Tickets []struct {
			ID     string `json:"id"`
			System string `json:"system"`
			URL    string `json:"url"`
		} `json:"tickets"`
		Actions []struct {
			Step   string `json:"step"`
			Status string `json:"status"`
			Output map[string]any
		} `json:"actions"`
	}
	eventually(t, "ticket and block recorded after the restart", 90*time.Second, func() bool {
		code, b := api.do("GET", "/v1/incidents/"+id, nil)
		if code != 200 {
			return false
		}
		inc.Tickets, inc.Actions = nil, nil
		_ = json.Unmarshal(b, &inc)
		for _, a := range inc.Actions {
			if a.Step == "block" && a.Status == "succeeded" {
				return true
			}
		}
		return false
	})
	if n := countTagged(t, rtsrv, tag); n != 1 {
		t.Fatalf("RT holds %d tickets for the incident, want exactly 1", n)
	}
	if len(inc.Tickets) != 1 || inc.Tickets[0].System != "rt" || !strings.Contains(inc.Tickets[0].URL, "/Ticket/Display.html?id="+inc.Tickets[0].ID) {
		t.Fatalf("incident tickets %+v, want the one RT ticket with its link", inc.Tickets)
	}
	blocks, tickets := 0, 0
	for _, a := range inc.Actions {
		if a.Status != "succeeded" {
			continue
		}
		switch a.Step {
		case "block":
			blocks++
		case "ticket":
			tickets++
			if a.Output["created"] != false {
				t.Errorf("the retried create says created=%v; it should have found the ticket", a.Output["created"])
			}
		}
	}
	if blocks != 1 || tickets != 1 {
		t.Fatalf("succeeded actions: %d blocks, %d tickets; want 1 and 1: %+v", blocks, tickets, inc.Actions)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+httpAddr+"/v1/blocklist/ip.txt", nil)
	req.SetBasicAuth("fw", admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	list, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := strings.Count(string(list), "49.88.112.73\n"); got != 1 {
		t.Fatalf("EDL lists 49.88.112.73 %d times:\n%s", got, list)
	}
	t.Logf("RT saw %d creates and %d searches; 1 ticket, 1 block", proxy.creates.Load(), proxy.searches.Load())
	if proxy.creates.Load() != 1 {
		t.Fatalf("%d creates reached RT; the retry must find the ticket instead of creating", proxy.creates.Load())
	}
}

// countTagged counts RT tickets whose subject carries tag.
func countTagged(t *testing.T, s *testrt.Server, tag string) int {
	t.Helper()
	return s.CountTickets(t, fmt.Sprintf("Subject LIKE '%s'", tag))
}
