package rt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest/observer"

	"github.com/riposte-soar/riposte/internal/contracttest"
	"github.com/riposte-soar/riposte/internal/testrt"
)

// The live tests share one real RT per test binary (about 10 s to start).

func TestMain(m *testing.M) {
	code := m.Run()
	testrt.CloseShared()
	os.Exit(code)
}

var logStart sync.Once

func liveRT(t *testing.T) *testrt.Server {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: needs a real RT")
	}
	s := testrt.Shared(t)
	logStart.Do(func() { t.Logf("RT %s started in %s", s.URL, s.StartTime.Round(time.Millisecond)) })
	return s
}

// liveClient returns a token-auth client whose logs are recorded, and
// checks at the end of the test that no secret reached them.
func liveClient(t *testing.T, s *testrt.Server, mod func(*Config)) (*Client, *observer.ObservedLogs) {
	t.Helper()
	log, logs := contracttest.Logger(t)
	cfg := Config{URL: s.URL, Token: s.Token, Timeout: time.Minute}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { contracttest.NoSecrets(t, logs, nil, s.Token, s.RootPassword, "root:"+s.RootPassword) })
	return c, logs
}

type liveTicket struct {
	ID       int `json:"id"`
	Subject  string
	Status   string
	Priority string
	Queue    struct {
		ID string `json:"id"`
	}
}

func readTicket(t *testing.T, s *testrt.Server, id string) liveTicket {
	t.Helper()
	var tk liveTicket
	s.GetJSON(t, "ticket/"+id, &tk)
	return tk
}

// comments returns the plain-text contents of the ticket's comments, oldest
// first, read back through REST2.
func comments(t *testing.T, s *testrt.Server, id string) []string {
	t.Helper()
	// Items as maps: each has both "Type" (Comment) and "type"
	// (transaction), which encoding/json would not tell apart in a struct.
	var hist struct {
		Items []map[string]any `json:"items"`
	}
	s.GetJSON(t, "ticket/"+id+"/history?fields=Type&per_page=100", &hist)
	var out []string
	for _, tx := range hist.Items {
		if tx["Type"] != "Comment" {
			continue
		}
		var atts struct {
			Items []struct {
				Content     string
				ContentType string
			} `json:"items"`
		}
		s.GetJSON(t, fmt.Sprintf("transaction/%v/attachments", tx["id"])+"?fields=Content,ContentType&per_page=100", &atts)
		for _, a := range atts.Items {
			if a.ContentType == "text/plain" {
				out = append(out, strings.TrimSpace(a.Content))
			}
		}
	}
	return out
}

// countTag counts tickets whose subject holds key's tag exactly; a LIKE
// count alone would also count look-alike keys.
func countTag(t *testing.T, s *testrt.Server, key string) int {
	t.Helper()
	var res struct {
		Items []struct{ Subject string } `json:"items"`
	}
	s.GetJSON(t, "tickets?fields=Subject&per_page=100&query="+urlQuery("Subject LIKE "+quote(Tag(key))), &res)
	n := 0
	for _, it := range res.Items {
		if strings.Contains(it.Subject, Tag(key)) {
			n++
		}
	}
	return n
}

func TestLiveCreateCommentResolve(t *testing.T) {
	s := liveRT(t)
	c, _ := liveClient(t, s, nil)
	ctx := context.Background()

	tk, err := c.Create(ctx, NewTicket{
		Key: "inc-100/open-ticket", IncidentID: "inc-100", Title: "Brute force on vpn-1",
		Body: "Alert: 500 failed logins\nfrom 203.0.113.7", Priority: "high",
	})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if !tk.Created || tk.ID == "" || tk.Number != tk.ID {
		t.Fatalf("create = %+v, want a new ticket", tk)
	}
	if want := s.URL + "/Ticket/Display.html?id=" + tk.ID; tk.URL != want {
		t.Errorf("URL = %q, want %q", tk.URL, want)
	}
	got := readTicket(t, s, tk.ID)
	if got.Subject != "[riposte:inc-100/open-ticket] Brute force on vpn-1" {
		t.Errorf("subject = %q", got.Subject)
	}
	if got.Status != "new" || got.Priority != "100" || got.Queue.ID != "1" {
		t.Errorf("status %q priority %q queue %q, want new, 100, 1 (General)", got.Status, got.Priority, got.Queue.ID)
	}

	if err := c.Comment(ctx, tk.ID, "Blocked 203.0.113.7 on the edge firewall."); err != nil {
		t.Fatalf("comment: %v", err)
	}
	if err := c.Resolve(ctx, tk.ID, "Contained; closing."); err != nil {
		t.Fatalf("resolve: %v", err)
	}
	if st := readTicket(t, s, tk.ID).Status; st != "resolved" {
		t.Errorf("status after resolve = %q, want resolved", st)
	}
	// Resolving again succeeds and adds no second comment.
	if err := c.Resolve(ctx, tk.ID, "Contained; closing (retry)."); err != nil {
		t.Fatalf("second resolve: %v", err)
	}
	want := []string{"Blocked 203.0.113.7 on the edge firewall.", "Contained; closing."}
	if got := comments(t, s, tk.ID); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("comments = %q, want %q", got, want)
	}
}

func TestLiveCreateIsIdempotent(t *testing.T) {
	s := liveRT(t)
	c, _ := liveClient(t, s, nil)
	ctx := context.Background()
	nt := NewTicket{Key: "inc-200/ticket", IncidentID: "inc-200", Title: "Malware on host-7"}

	first, err := c.Create(ctx, nt)
	if err != nil || !first.Created {
		t.Fatalf("first create = %+v, %v", first, err)
	}
	nt.Title = "A changed title does not matter"
	second, err := c.Create(ctx, nt)
	if err != nil {
		t.Fatalf("second create: %v", err)
	}
	if second.ID != first.ID || second.Created {
		t.Errorf("second create = %+v, want ID %s and Created false", second, first.ID)
	}
	if n := countTag(t, s, nt.Key); n != 1 {
		t.Errorf("RT holds %d tickets tagged %q, want 1", n, nt.Key)
	}

	if err := c.Resolve(ctx, first.ID, ""); err != nil {
		t.Fatalf("resolve: %v", err)
	}
	third, err := c.Create(ctx, nt)
	if err != nil {
		t.Fatalf("create after resolve: %v", err)
	}
	if third.ID != first.ID || third.Created {
		t.Errorf("create after resolve = %+v, want ID %s and Created false", third, first.ID)
	}
	if n := countTag(t, s, nt.Key); n != 1 {
		t.Errorf("after resolve RT holds %d tickets tagged %q, want 1", n, nt.Key)
	}
}

func TestLiveLookAlikeKeysGetTheirOwnTicket(t *testing.T) {
	s := liveRT(t)
	c, _ := liveClient(t, s, nil)
	ctx := context.Background()
	// Each differs from another only by case, a LIKE wildcard, a quote or a
	// backslash; "inc-300/step" is a prefix of all of them.
	keys := []string{
		"inc-300/step_a", "inc-300/STEP_A", "inc-300/stepXa", "inc-300/step%a", "inc-300/step%",
		"inc-300/it's", `inc-300/it\'s`, `inc-300/"q"`, `inc-300/back\slash`, "inc-300/step",
	}
	ids := map[string]string{}
	for _, k := range keys {
		tk, err := c.Create(ctx, NewTicket{Key: k, Title: "look-alike"})
		if err != nil {
			t.Fatalf("create %q: %v", k, err)
		}
		if !tk.Created {
			t.Errorf("create %q found ticket %s of another key", k, tk.ID)
		}
		if other, dup := ids[tk.ID]; dup {
			t.Errorf("keys %q and %q share ticket %s", k, other, tk.ID)
		}
		ids[tk.ID] = k
		if got := readTicket(t, s, tk.ID).Subject; got != Tag(k)+" look-alike" {
			t.Errorf("key %q: subject = %q", k, got)
		}
	}
	for _, k := range keys {
		tk, err := c.Create(ctx, NewTicket{Key: k, Title: "look-alike"})
		if err != nil {
			t.Fatalf("second create %q: %v", k, err)
		}
		if tk.Created || ids[tk.ID] != k {
			t.Errorf("second create %q = %+v (ticket of %q), want its own ticket again", k, tk, ids[tk.ID])
		}
		if n := countTag(t, s, k); n != 1 {
			t.Errorf("RT holds %d tickets tagged %q, want 1", n, k)
		}
	}
}

func TestLiveAuth(t *testing.T) {
	s := liveRT(t)
	ctx := context.Background()

	tokenClient, _ := liveClient(t, s, nil)
	if err := tokenClient.Check(ctx); err != nil {
		t.Errorf("check with token: %v", err)
	}
	basic, _ := liveClient(t, s, func(c *Config) { c.Token, c.Username, c.Password = "", "root", s.RootPassword })
	if err := basic.Check(ctx); err != nil {
		t.Errorf("check with basic auth: %v", err)
	}
	tk, err := basic.Create(ctx, NewTicket{Key: "inc-400/basic", Title: "basic auth"})
	if err != nil || !tk.Created {
		t.Fatalf("create with basic auth = %+v, %v", tk, err)
	}
	if err := basic.Comment(ctx, tk.ID, "by basic auth"); err != nil {
		t.Errorf("comment with basic auth: %v", err)
	}

	for name, mod := range map[string]func(*Config){
		"wrong password": func(c *Config) { c.Token, c.Username, c.Password = "", "root", s.RootPassword+"-wrong" },
		"wrong token":    func(c *Config) { c.Token = s.Token + "0" },
	} {
		t.Run(name, func(t *testing.T) {
			c, logs := liveClient(t, s, mod)
			err := c.Check(ctx)
			contracttest.AssertNonRetryable(t, err, "401")
			contracttest.AssertNonRetryable(t, err, "Unauthorized")
			_, cerr := c.Create(ctx, NewTicket{Key: "inc-400/denied", Title: "x"})
			contracttest.AssertNonRetryable(t, cerr, "401")
			for _, e := range []error{err, cerr} {
				contracttest.NoSecrets(t, logs, e, s.Token, s.RootPassword, s.Token+"0", s.RootPassword+"-wrong",
					"root:"+s.RootPassword, "root:"+s.RootPassword+"-wrong")
			}
		})
	}
	if n := countTag(t, s, "inc-400/denied"); n != 0 {
		t.Errorf("denied create left %d tickets", n)
	}
}

// RT answers PUT Status=resolved on a ticket with an open dependency with
// 200 and ["Ticket N: That ticket has unresolved dependencies"].
func TestLiveResolveRefusedInside200(t *testing.T) {
	s := liveRT(t)
	c, _ := liveClient(t, s, nil)
	ctx := context.Background()
	parent, err := c.Create(ctx, NewTicket{Key: "inc-500/parent", Title: "parent"})
	if err != nil {
		t.Fatal(err)
	}
	child, err := c.Create(ctx, NewTicket{Key: "inc-500/child", Title: "child"})
	if err != nil {
		t.Fatal(err)
	}
	putJSON(t, s, "ticket/"+parent.ID, map[string]any{"DependsOn": []string{child.ID}})

	err = c.Resolve(ctx, parent.ID, "")
	contracttest.AssertBadResponse(t, err)
	contracttest.AssertNonRetryable(t, err, "Ticket "+parent.ID+": That ticket has unresolved dependencies")
	if st := readTicket(t, s, parent.ID).Status; st != "new" {
		t.Errorf("status = %q, want new", st)
	}

	// Once the dependency is resolved, so is the parent.
	if err := c.Resolve(ctx, child.ID, ""); err != nil {
		t.Fatal(err)
	}
	if err := c.Resolve(ctx, parent.ID, ""); err != nil {
		t.Errorf("resolve after the dependency: %v", err)
	}
}

func TestLiveRTErrors(t *testing.T) {
	s := liveRT(t)
	c, _ := liveClient(t, s, nil)
	ctx := context.Background()

	_, err := c.Create(ctx, NewTicket{Key: "inc-600/bad-queue", Title: "x", Queue: "No Such Queue"})
	contracttest.AssertNonRetryable(t, err, "No permission to create tickets in the queue 'No Such Queue'")
	if n := countTag(t, s, "inc-600/bad-queue"); n != 0 {
		t.Errorf("failed create left %d tickets", n)
	}
	err = c.Comment(ctx, "999999", "nobody home")
	contracttest.AssertNonRetryable(t, err, "Message could not be recorded")
	err = c.Resolve(ctx, "999999", "")
	contracttest.AssertNonRetryable(t, err, "404")

	bad, _ := liveClient(t, s, func(c *Config) { c.Queue = "No Such Queue" })
	contracttest.AssertNonRetryable(t, bad.Check(ctx), "No Such Queue")
}

func putJSON(t *testing.T, s *testrt.Server, path string, body any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPut, s.URL+"/REST/2.0/"+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "token "+s.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT %s: status %d", path, resp.StatusCode)
	}
}

func urlQuery(s string) string { return url.QueryEscape(s) }

// With KeyCustomField the key is also stored in a custom field, so a ticket
// whose subject a human edited is still found.
func TestLiveKeyCustomField(t *testing.T) {
	s := liveRT(t)
	s.Perl(t, `use RT; RT::LoadConfig(); RT::Init();
my $cf = RT::CustomField->new(RT->SystemUser);
$cf->LoadByName(Name => 'Riposte Key', LookupType => 'RT::Queue-RT::Ticket');
unless ($cf->id) {
	my ($id, $msg) = $cf->Create(Name => 'Riposte Key', Type => 'FreeformSingle', LookupType => 'RT::Queue-RT::Ticket');
	die "create: $msg\n" unless $id;
	my ($ok, $m) = $cf->AddToObject(RT::Queue->new(RT->SystemUser)); # global
	die "apply: $m\n" unless $ok;
}`)
	c, _ := liveClient(t, s, func(c *Config) { c.KeyCustomField = "Riposte Key" })
	ctx := context.Background()
	key := "inc-700/cf_key"
	first, err := c.Create(ctx, NewTicket{Key: key, Title: "with a custom field"})
	if err != nil || !first.Created {
		t.Fatalf("create = %+v, %v", first, err)
	}
	var tk struct {
		CustomFields []struct {
			Name   string   `json:"name"`
			Values []string `json:"values"`
		}
	}
	s.GetJSON(t, "ticket/"+first.ID, &tk)
	if fmt.Sprint(tk.CustomFields) != fmt.Sprint([]struct {
		Name   string
		Values []string
	}{{"Riposte Key", []string{key}}}) {
		t.Errorf("custom fields = %+v, want Riposte Key = %q", tk.CustomFields, key)
	}

	putJSON(t, s, "ticket/"+first.ID, map[string]any{"Subject": "renamed by a responder"})
	again, err := c.Create(ctx, NewTicket{Key: key, Title: "with a custom field"})
	if err != nil || again.ID != first.ID || again.Created {
		t.Errorf("create after the subject changed = %+v, %v; want ticket %s, not created", again, err, first.ID)
	}
	// A look-alike key in the custom field is not taken for this one.
	other, err := c.Create(ctx, NewTicket{Key: "inc-700/CF_KEY", Title: "look-alike"})
	if err != nil || !other.Created || other.ID == first.ID {
		t.Errorf("look-alike key = %+v, %v; want a new ticket", other, err)
	}
}
