package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/riposte-soar/riposte/internal/auth"
)

// chromiumPath finds the browser; without it the test fails under CI and
// is skipped elsewhere.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("missing tool chromium (Debian package chromium); make test-deps installs it")
	}
	t.Skip("missing tool chromium: install the Debian package chromium (make test-deps does)")
	return ""
}

// artifactsDir is where the screenshots go: $RIPOSTE_ARTIFACTS/console, or
// test-artifacts/console/ at the repository root (git-ignored).
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "test-artifacts", "console")
	if a := os.Getenv("RIPOSTE_ARTIFACTS"); a != "" {
		dir = filepath.Join(a, "console")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

// TestConsoleInBrowser drives the web console in headless Chromium against
// riposte dev: the Wazuh SSH fixture opens an incident waiting for
// approval; a responder logs in, finds it, approves the block, sees the IP
// on the EDL and the phase move on; GDPR and NIS2 clocks start; a
// compliance officer sees them sorted with live countdowns and records a
// report, which leaves the open list.
func TestConsoleInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped with -short: headless Chromium against riposte dev")
	}
	chrome := chromiumPath(t)
	shots := artifactsDir(t)

	dir := t.TempDir()
	tokens := map[string]string{}
	var lines []string
	for _, role := range []string{"responder", "compliance", "ingest"} {
		tok, hash, _ := auth.NewToken()
		tokens[role] = tok
		lines = append(lines, fmt.Sprintf("    - {name: %s-user, role: %s, sha256: %s}", role, role, hash))
	}
	cfg := "auth:\n  tokens:\n" + strings.Join(lines, "\n") + `
ingest:
  routes:
    - name: ssh
      match: 'alert.source == "wazuh" && alert.labels["rule.id"] == "5716"'
      playbook: ssh-brute-force
      group_by: '"ssh/" + host'
`
	if err := os.WriteFile(filepath.Join(dir, "riposte.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	httpAddr := freePort(t)
	p := startRiposte(t, dir, nil, "dev", "--data-dir", filepath.Join(dir, "data"), "--http", httpAddr, "--temporal", freePort(t))
	waitReady(t, p, httpAddr, 30*time.Second)
	base := "http://" + httpAddr
	responder := apiUser{t, base, tokens["responder"]}
	compliance := apiUser{t, base, tokens["compliance"]}

	body, err := os.ReadFile("../../alerts/testdata/fixtures/wazuh/dashboard_sample_5716_ssh_auth_failed.json")
	if err != nil {
		t.Fatal(err)
	}
	code, b := apiUser{t, base, tokens["ingest"]}.do("POST", "/v1/alerts/wazuh", body)
	var acc struct {
		Accepted []struct {
			IncidentID string `json:"incident_id"`
		} `json:"accepted"`
	}
	if code != 202 || json.Unmarshal(b, &acc) != nil || len(acc.Accepted) != 1 {
		t.Fatalf("post alert: %d %s", code, b)
	}
	id := acc.Accepted[0].IncidentID
	eventually(t, "approval pending", 30*time.Second, func() bool {
		v := responder.incident(id)
		return len(v.Approvals) == 1 && v.Approvals[0].Status == "pending"
	})

	// chromedp's children may still write in the profile directory as the
	// browser stops, so it is removed by hand, with retries.
	profile, err := os.MkdirTemp("", "riposte-chromium")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chrome),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 1000),
	)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	// The first run starts the browser; it must not carry a timeout, which
	// would stop the browser with it. Later steps each get one.
	if err := chromedp.Do(browser, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	const stepTimeout = 60 * time.Second
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browser, stepTimeout)
		defer cancel()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name), buf, 0o644)
		})
	}
	t.Cleanup(func() {
		if t.Failed() {
			ctx, cancel := context.WithTimeout(browser, 10*time.Second)
			defer cancel()
			_ = chromedp.Do(ctx, shot("failure.png"))
		}
	})
	// reloadUntil loads a page until a JavaScript condition holds.
	reloadUntil := func(what, url, cond string) {
		t.Helper()
		eventually(t, what, stepTimeout, func() bool {
			ctx, cancel := context.WithTimeout(browser, 10*time.Second)
			defer cancel()
			if chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body"))) != nil {
				return false
			}
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
			return err == nil && ok
		})
	}
	login := func(role string) {
		t.Helper()
		do("open the console as "+role, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#token")))
		if loc := browserEval[string](t, browser, `location.pathname`); loc != "/login" {
			t.Fatalf("/ without a session landed on %q, want /login", loc)
		}
		do("log in as "+role,
			chromedp.SendKeys(chromedp.CSS("#token"), tokens[role]),
			chromedp.Submit(chromedp.CSS("#token")),
			chromedp.WaitVisible(chromedp.CSS("#filters")),
		)
	}

	// 1. The responder logs in and sees the incident in the list.
	login("responder")
	do("list", chromedp.WaitVisible(chromedp.CSS("#incidents")), shot("01-incidents.png"))
	listText := browserEval[string](t, browser, `document.querySelector("#incidents").innerText`)
	if !strings.Contains(listText, id) || !strings.Contains(listText, "ssh-brute-force") || !strings.Contains(listText, "contain") {
		t.Fatalf("incident list lacks %s (ssh-brute-force, contain):\n%s", id, listText)
	}

	// 2. Opens it: phase bar on contain, the timeline, the pending step.
	do("open the incident",
		chromedp.Click(chromedp.CSS("a.incident-link")),
		chromedp.WaitVisible(chromedp.CSS("#phase-bar")),
		chromedp.WaitVisible(chromedp.CSS(`#approvals article[data-step="approve_block"] button[value="approve"]`)),
		shot("02-incident-approval-pending.png"),
	)
	current := browserEval[string](t, browser, `document.querySelector("#phase-bar li.current").dataset.phase`)
	timeline := browserEval[string](t, browser, `document.querySelector("#timeline").innerText`)
	items := browserEval[int](t, browser, `document.querySelectorAll("#timeline li").length`)
	if current != "contain" || items < 3 || !strings.Contains(timeline, "approval_requested") || !strings.Contains(timeline, "opened") {
		t.Fatalf("phase %q, %d timeline entries:\n%s", current, items, timeline)
	}

	// 3. Approves: the page comes back without the button; the IP reaches
	// the EDL; the playbook moves on to restore (it waits there for the
	// alert to resolve).
	do("approve",
		chromedp.SendKeys(chromedp.CSS(`#approvals article[data-step="approve_block"] input[name="comment"]`), "seen in auth.log"),
		chromedp.Click(chromedp.CSS(`#approvals article[data-step="approve_block"] button[value="approve"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#approvals button[value="approve"]`)),
		chromedp.WaitVisible(chromedp.CSS("#phase-bar")),
	)
	const ip = "49.88.112.73"
	eventually(t, ip+" on the EDL", 30*time.Second, func() bool { return strings.Contains(edlText(t, base, tokens["responder"]), ip+"\n") })
	reloadUntil("phase bar on restore and the block listed", base+"/incidents/"+id,
		`document.querySelector("#phase-bar li.current")?.dataset.phase === "restore" && document.querySelector("#blocks").innerText.includes("`+ip+`")`)
	do("screenshot", shot("03-incident-restore.png"))
	decided := browserEval[string](t, browser, `document.querySelector("#approvals").innerText`)
	if !strings.Contains(decided, "token:responder-user: approve") || !strings.Contains(decided, "seen in auth.log") {
		t.Fatalf("decided approvals do not show the vote:\n%s", decided)
	}

	// 4. GDPR and NIS2 clocks start for the incident, as a DPO would ask.
	aware := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	code, b = compliance.do("POST", "/v1/deadlines", map[string]any{
		"incident_id": id, "regimes": []string{"gdpr", "nis2"}, "events": map[string]string{"aware": aware.Format(time.RFC3339)},
	})
	var started struct {
		Started []string `json:"started"`
	}
	if code != http.StatusCreated || json.Unmarshal(b, &started) != nil || len(started.Started) < 3 {
		t.Fatalf("start clocks: %d %s", code, b)
	}
	eventually(t, "clocks listed", 30*time.Second, func() bool {
		code, b := compliance.do("GET", "/v1/deadlines?incident="+id, nil)
		var out struct {
			Deadlines []json.RawMessage `json:"deadlines"`
		}
		return code == 200 && json.Unmarshal(b, &out) == nil && len(out.Deadlines) == len(started.Started)
	})

	// 5. The responder logs out; the compliance officer logs in and opens
	// the board: the clocks sorted by due time, counting down.
	do("log out", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#token")))
	login("compliance")
	do("compliance board", chromedp.Click(chromedp.CSS(`nav a[href="/compliance"]`)), chromedp.WaitVisible(chromedp.CSS("#open article.obligation")))
	type card struct {
		ID    string `json:"id"`
		Due   string `json:"due"`
		Left  string `json:"left"`
		Class string `json:"class"`
	}
	readCards := `Array.from(document.querySelectorAll("#open article.obligation")).map(e => ({
		id: e.dataset.id, due: e.dataset.due || "", left: e.querySelector(".remaining").textContent.trim(), class: e.className}))`
	cards := browserEval[[]card](t, browser, readCards)
	if len(cards) != len(started.Started) {
		t.Fatalf("board shows %d open obligations, %d were started: %+v", len(cards), len(started.Started), cards)
	}
	var dues []string
	countdown := regexp.MustCompile(`^(overdue by )?(\d+d \d\dh \d\dm \d\ds|\d+h \d\dm \d\ds|\d+m \d\ds)$`)
	byID := map[string]card{}
	for _, c := range cards {
		byID[c.ID] = c
		if c.Due == "" {
			continue // no fixed period, or waits on another stage's submission
		}
		dues = append(dues, c.Due)
		if !countdown.MatchString(c.Left) {
			t.Fatalf("%s: countdown %q", c.ID, c.Left)
		}
	}
	if !sort.StringsAreSorted(dues) || len(dues) < 3 {
		t.Fatalf("open obligations not sorted by due time: %v", dues)
	}
	early, gdpr := byID["dl-"+id+"-nis2-early-warning"], byID["dl-"+id+"-gdpr-art33-initial"]
	if cards[0].ID != early.ID || !strings.Contains(early.Class, "urgency-under-24h") || !strings.Contains(gdpr.Class, "urgency-later") {
		t.Fatalf("want the NIS2 early warning (24 h, under-24h) first and GDPR art. 33 later: %+v", cards)
	}
	// The countdown is live: console.js rewrites it every second.
	eventually(t, "countdown ticks", 10*time.Second, func() bool {
		left := browserEval[string](t, browser, `document.querySelector("#open article.obligation .remaining").textContent.trim()`)
		return left != cards[0].Left && countdown.MatchString(left)
	})
	do("screenshot", shot("04-compliance-board.png"))

	// 6. Records the NIS2 early warning; it leaves the open list.
	const ref = "CSIRT-2026-0042"
	sel := "#ob-" + early.ID
	do("submit the report",
		chromedp.Click(chromedp.CSS(sel+" details.submit summary")),
		chromedp.WaitVisible(chromedp.CSS(sel+` input[name="reference"]`)),
		chromedp.SendKeys(chromedp.CSS(sel+` input[name="reference"]`), ref),
		chromedp.SendKeys(chromedp.CSS(sel+` textarea[name="note"]`), "early warning sent through the CSIRT portal"),
		chromedp.Click(chromedp.CSS(sel+` form.submission button[type="submit"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(sel)),
	)
	reloadUntil("report filed", base+"/compliance",
		`!document.querySelector("`+sel+`") && (document.querySelector('#filed tr[data-id="`+early.ID+`"]')?.innerText || "").includes("`+ref+`")`)
	do("screenshot", shot("05-compliance-filed.png"))
	if open := browserEval[[]card](t, browser, readCards); len(open) != len(cards)-1 {
		t.Fatalf("open list after submission: %+v (before: %d)", open, len(cards))
	}
	code, b = compliance.do("GET", "/v1/deadlines?incident="+id, nil)
	if code != 200 || !strings.Contains(string(b), `"reference":"`+ref+`"`) || !strings.Contains(string(b), `"submitted_by":"token:compliance-user"`) {
		t.Fatalf("the API does not show the submission: %d %s", code, b)
	}
	t.Logf("screenshots in %s", shots)
}

// browserEval evaluates JavaScript in the page and returns its value.
func browserEval[T any](t *testing.T, browser context.Context, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(browser, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// edlText reads the IP blocklist as a firewall does (basic auth, token as
// password).
func edlText(t *testing.T, base, token string) string {
	req, _ := http.NewRequest("GET", base+"/v1/blocklist/ip.txt", nil)
	req.SetBasicAuth("firewall", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("ip.txt: %d %s", resp.StatusCode, b)
	}
	return string(b)
}
