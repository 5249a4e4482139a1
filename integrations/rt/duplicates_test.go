package rt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riposte-soar/riposte/internal/contracttest"
	"github.com/riposte-soar/riposte/internal/testrt"
)

// TestCreateRetiresLaterDuplicates: a create that an earlier attempt gave up
// on can land in RT after this attempt searched (RT serves queued requests
// whose caller has left). The search after creating finds the older ticket:
// Create returns it and retires its own.
func TestCreateRetiresLaterDuplicates(t *testing.T) {
	const key = "inc-1/ticket"
	searches := atomic.Int32{}
	var putCode atomic.Int32
	putCode.Store(http.StatusOK)
	srv := contracttest.NewServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/REST/2.0/tickets":
			if searches.Add(1) == 1 {
				contracttest.WriteJSON(w, http.StatusOK, emptySearch)
				return
			}
			// The orphan (5) landed before this attempt's ticket (12).
			contracttest.WriteJSON(w, http.StatusOK, `{"count":2,"page":1,"pages":1,"total":2,"items":[`+
				`{"id":"5","Subject":"[riposte:inc-1/ticket] T"},{"id":"12","Subject":"[riposte:inc-1/ticket] T"}]}`)
		case r.Method == http.MethodPost && r.URL.Path == "/REST/2.0/ticket":
			contracttest.WriteJSON(w, http.StatusCreated, `{"id":"12","type":"ticket"}`)
		case r.Method == http.MethodPut && r.URL.Path == "/REST/2.0/ticket/12":
			code := int(putCode.Load())
			if code == http.StatusOK {
				contracttest.WriteJSON(w, code, `["Ticket 12: Status changed from 'new' to 'rejected'"]`)
				return
			}
			contracttest.WriteJSON(w, code, `{"message":"Internal Server Error"}`)
		default:
			contracttest.WriteJSON(w, http.StatusNotFound, `{"message":"Not Found"}`)
		}
	})
	log, logs := contracttest.Logger(t)
	c, err := New(Config{URL: srv.URL, Token: secretToken, Timeout: 5 * time.Second}, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	tk, err := c.Create(ctx, NewTicket{Key: key, IncidentID: "inc-1", Title: "T"})
	if err != nil {
		t.Fatal(err)
	}
	if tk != (Ticket{ID: "5", Number: "5", URL: srv.URL + "/Ticket/Display.html?id=5", Created: false}) {
		t.Errorf("ticket = %+v, want the older ticket 5, not created", tk)
	}
	var methods []string
	for _, r := range srv.Requests() {
		methods = append(methods, r.Method+" "+r.Path)
	}
	want := "GET /REST/2.0/tickets,POST /REST/2.0/ticket,GET /REST/2.0/tickets,PUT /REST/2.0/ticket/12"
	if strings.Join(methods, ",") != want {
		t.Fatalf("requests %v, want %s", methods, want)
	}
	var body map[string]any
	if err := json.Unmarshal(srv.Requests()[3].Body, &body); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(body) != fmt.Sprint(map[string]any{"Status": "rejected", "Subject": "[riposte-duplicate:inc-1/ticket] duplicate of #5"}) {
		t.Errorf("retire body = %v", body)
	}
	if n := logs.FilterMessage("rt duplicate ticket retired").Len(); n != 1 {
		t.Errorf("%d 'retired' log lines, want 1", n)
	}

	// Later calls find both (the fake keeps answering so) and retire the
	// later one again, which is harmless; a failure that may pass fails
	// the attempt, so that its retry retires the duplicate.
	putCode.Store(http.StatusBadGateway)
	_, err = c.Create(ctx, NewTicket{Key: key, Title: "T"})
	contracttest.AssertRetryable(t, err, 0)
	if !strings.Contains(err.Error(), "retire duplicate ticket 12 of 5") {
		t.Errorf("error %q does not name the duplicate", err)
	}

	// A refusal (a 4xx) leaves the duplicate, logged; the step goes on
	// with the older ticket.
	putCode.Store(http.StatusForbidden)
	tk, err = c.Create(ctx, NewTicket{Key: key, Title: "T"})
	if err != nil || tk.ID != "5" || tk.Created {
		t.Errorf("create with the retire refused = %+v, %v; want ticket 5", tk, err)
	}
	if n := logs.FilterMessage("rt duplicate ticket left open").Len(); n != 1 {
		t.Errorf("%d 'left open' log lines, want 1", n)
	}
	contracttest.NoSecrets(t, logs, err, secretToken)
}

// TestLiveCreateRetiresLaterDuplicate: with two tickets tagged with one key
// in a real RT (an abandoned create landed late), Create keeps the older
// and retires the later: rejected, its tag replaced, found by no search.
func TestLiveCreateRetiresLaterDuplicate(t *testing.T) {
	s := liveRT(t)
	c, _ := liveClient(t, s, nil)
	ctx := context.Background()
	key := "inc-800/ticket"
	var ids []string
	for i := 0; i < 2; i++ {
		ids = append(ids, postTicket(t, s, map[string]any{"Queue": "General", "Subject": Tag(key) + " abandoned create"}))
	}
	tk, err := c.Create(ctx, NewTicket{Key: key, Title: "Malware on host-8"})
	if err != nil {
		t.Fatal(err)
	}
	if tk.ID != ids[0] || tk.Created {
		t.Fatalf("create = %+v, want the older ticket %s", tk, ids[0])
	}
	if n := countTag(t, s, key); n != 1 {
		t.Errorf("RT holds %d tickets tagged %q, want 1", n, key)
	}
	dup := readTicket(t, s, ids[1])
	if dup.Status != "rejected" || dup.Subject != "[riposte-duplicate:"+key+"] duplicate of #"+ids[0] {
		t.Errorf("duplicate = %q %q, want rejected and retagged", dup.Status, dup.Subject)
	}

	// With the key custom field, the duplicate's field is emptied too, so
	// that no later search takes it for the key.
	s.Perl(t, `use RT; RT::LoadConfig(); RT::Init();
my $cf = RT::CustomField->new(RT->SystemUser);
$cf->LoadByName(Name => 'Riposte Key', LookupType => 'RT::Queue-RT::Ticket');
unless ($cf->id) {
	my ($id, $msg) = $cf->Create(Name => 'Riposte Key', Type => 'FreeformSingle', LookupType => 'RT::Queue-RT::Ticket');
	die "create: $msg\n" unless $id;
	my ($ok, $m) = $cf->AddToObject(RT::Queue->new(RT->SystemUser)); # global
	die "apply: $m\n" unless $ok;
}`)
	cfc, _ := liveClient(t, s, func(c *Config) { c.KeyCustomField = "Riposte Key" })
	key = "inc-801/ticket"
	ids = ids[:0]
	for i := 0; i < 2; i++ {
		ids = append(ids, postTicket(t, s, map[string]any{"Queue": "General", "Subject": "renamed by a responder",
			"CustomFields": map[string]any{"Riposte Key": key}}))
	}
	if tk, err = cfc.Create(ctx, NewTicket{Key: key, Title: "x"}); err != nil || tk.ID != ids[0] {
		t.Fatalf("create with the key field = %+v, %v; want ticket %s", tk, err, ids[0])
	}
	var got struct {
		Status       string
		CustomFields []struct {
			Name   string   `json:"name"`
			Values []string `json:"values"`
		}
	}
	s.GetJSON(t, "ticket/"+ids[1], &got)
	if got.Status != "rejected" || fmt.Sprint(got.CustomFields) != "[{Riposte Key []}]" {
		t.Errorf("duplicate by key field = %+v, want rejected with the field empty", got)
	}
}

// postTicket creates a ticket straight through REST2 and returns its id.
func postTicket(t *testing.T, s *testrt.Server, body map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/REST/2.0/ticket", bytes.NewReader(b))
	req.Header.Set("Authorization", "token "+s.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		ID flexID `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated || out.ID == "" {
		t.Fatalf("create ticket: %d %v", resp.StatusCode, err)
	}
	return string(out.ID)
}
