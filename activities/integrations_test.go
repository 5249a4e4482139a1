package activities

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
)

type fakeTicketing struct {
	creates  []TicketRequest
	comments [][2]string
	resolves [][2]string
	err      error
}

func (f *fakeTicketing) System() string { return "rt" }
func (f *fakeTicketing) Create(_ context.Context, t TicketRequest) (TicketRef, error) {
	f.creates = append(f.creates, t)
	if f.err != nil {
		return TicketRef{}, f.err
	}
	return TicketRef{ID: "42", URL: "https://rt/Ticket/Display.html?id=42", Created: len(f.creates) == 1}, nil
}
func (f *fakeTicketing) Comment(_ context.Context, id, body string) error {
	f.comments = append(f.comments, [2]string{id, body})
	return f.err
}
func (f *fakeTicketing) Resolve(_ context.Context, id, comment string) error {
	f.resolves = append(f.resolves, [2]string{id, comment})
	return f.err
}

func TestTicketActions(t *testing.T) {
	tk := &fakeTicketing{}
	var observed []string
	a := &Actions{Ticketing: tk, Observe: func(integration, action, outcome string, _ time.Duration) {
		observed = append(observed, integration+" "+action+" "+outcome)
	}}
	ctx := context.Background()
	res, err := a.RunAction(ctx, ActionRequest{IncidentID: "inc-1", StepID: "ticket", Name: "ticket.create",
		Args: map[string]any{"title": " SSH brute force ", "body": "b", "priority": "high"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"system": "rt", "id": "42", "url": "https://rt/Ticket/Display.html?id=42", "created": true}
	if !reflect.DeepEqual(res.Output, want) {
		t.Fatalf("output = %v, want %v", res.Output, want)
	}
	if got := tk.creates[0]; got.Key != "inc-1/ticket" || got.Title != "SSH brute force" || got.Priority != "high" || got.IncidentID != "inc-1" {
		t.Fatalf("create request = %+v", got)
	}
	if _, err := a.RunAction(ctx, ActionRequest{IncidentID: "inc-1", StepID: "note", Name: "ticket.comment",
		Args: map[string]any{"ticket": "42", "body": "blocked"}}); err != nil {
		t.Fatal(err)
	}
	res, err = a.RunAction(ctx, ActionRequest{IncidentID: "inc-1", StepID: "ticket", Name: "ticket.resolve", Undo: true,
		Args: map[string]any{"ticket": "42", "comment": "closed"}})
	if err != nil || res.Output["resolved"] != true {
		t.Fatalf("resolve = %v, %v", res.Output, err)
	}
	if tk.comments[0] != [2]string{"42", "blocked"} || tk.resolves[0] != [2]string{"42", "closed"} {
		t.Fatalf("comments %v resolves %v", tk.comments, tk.resolves)
	}
	_, err = a.RunAction(ctx, ActionRequest{IncidentID: "inc-1", StepID: "c", Name: "ticket.comment", Args: map[string]any{"body": "x"}})
	if errType(err) != ErrTypeInvalidArgs {
		t.Fatalf("comment without ticket: %v", err)
	}
	wantObs := []string{"rt ticket.create ok", "rt ticket.comment ok", "rt ticket.resolve ok"}
	if !reflect.DeepEqual(observed, wantObs) {
		t.Fatalf("observed %v, want %v", observed, wantObs)
	}
}

func TestWrappedErrorsKeepRetryClass(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		retryable bool
		delay     time.Duration
	}{
		{"non-retryable 401", temporal.NewNonRetryableApplicationError("rt: 401 Unauthorized", "HTTP401", nil), false, 0},
		{"retryable 429", temporal.NewApplicationErrorWithOptions("rt: 429", "HTTP429", temporal.ApplicationErrorOptions{NextRetryDelay: 30 * time.Second}), true, 30 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &Actions{Ticketing: &fakeTicketing{err: tc.err}}
			_, err := a.RunAction(context.Background(), ActionRequest{IncidentID: "i", StepID: "s", Name: "ticket.create", Args: map[string]any{"title": "t"}})
			// The SDK reads only the outermost error: it must be the
			// application error itself.
			app, ok := err.(*temporal.ApplicationError)
			if !ok {
				t.Fatalf("err is %T, want *temporal.ApplicationError", err)
			}
			if app.NonRetryable() == tc.retryable || app.NextRetryDelay() != tc.delay {
				t.Fatalf("non-retryable=%v delay=%s, want retryable=%v delay=%s", app.NonRetryable(), app.NextRetryDelay(), tc.retryable, tc.delay)
			}
			if app.Message() != "ticket.create: "+tc.err.(*temporal.ApplicationError).Message() {
				t.Fatalf("message %q", app.Message())
			}
		})
	}
}

type fakeEnricher struct {
	name  string
	types []string
	out   map[string]any
	calls int
	err   error
}

func (f *fakeEnricher) Name() string { return f.name }
func (f *fakeEnricher) Supports(typ string) bool {
	for _, t := range f.types {
		if t == typ {
			return true
		}
	}
	return false
}
func (f *fakeEnricher) Enrich(_ context.Context, typ, value string) (map[string]any, error) {
	f.calls++
	return f.out, f.err
}

func TestEnrichMergesAndCaches(t *testing.T) {
	abuse := &fakeEnricher{name: "abuseipdb", types: []string{"ip"}, out: map[string]any{"abuse_confidence": int64(100)}}
	vt := &fakeEnricher{name: "virustotal", types: []string{"ip", "hash"}, out: map[string]any{"vt_malicious": int64(7)}}
	cache := NewEnrichCache(time.Hour)
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	cache.now = func() time.Time { return now }
	a := &Actions{Enrichers: []Enricher{abuse, vt}, EnrichCache: cache}
	ctx := context.Background()
	req := ActionRequest{IncidentID: "i", StepID: "enrich", Name: "enrich.ip", Args: map[string]any{"ip": "49.88.112.73"}}
	res, err := a.RunAction(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"type": "ip", "value": "49.88.112.73", "abuse_confidence": int64(100), "vt_malicious": int64(7), "providers": []any{"abuseipdb", "virustotal"}}
	if !reflect.DeepEqual(res.Output, want) {
		t.Fatalf("output = %v, want %v", res.Output, want)
	}
	if _, err := a.RunAction(ctx, req); err != nil {
		t.Fatal(err)
	}
	if abuse.calls != 1 || vt.calls != 1 {
		t.Fatalf("calls within the TTL: abuseipdb %d virustotal %d, want 1 each", abuse.calls, vt.calls)
	}
	now = now.Add(time.Hour)
	if _, err := a.RunAction(ctx, req); err != nil {
		t.Fatal(err)
	}
	if abuse.calls != 2 {
		t.Fatalf("after the TTL: %d calls, want 2", abuse.calls)
	}
	res, err = a.RunAction(ctx, ActionRequest{Name: "enrich.hash", Args: map[string]any{"hash": "44D88612FEA8A8F36DE82E1278ABB02F"}})
	if err != nil || !reflect.DeepEqual(res.Output["providers"], []any{"virustotal"}) || res.Output["value"] != "44d88612fea8a8f36de82e1278abb02f" {
		t.Fatalf("hash: %v %v", res.Output, err)
	}
	_, err = a.RunAction(ctx, ActionRequest{Name: "enrich.domain", Args: map[string]any{"domain": "evil.example"}})
	if errType(err) != ErrTypeNotConfigured {
		t.Fatalf("domain with no provider: %v", err)
	}
	_, err = a.RunAction(ctx, ActionRequest{Name: "enrich.hash", Args: map[string]any{"hash": "xyz"}})
	if errType(err) != ErrTypeInvalidArgs {
		t.Fatalf("bad hash: %v", err)
	}
	// Results are JSON-friendly, as the workflow records them.
	if _, err := json.Marshal(res.Output); err != nil {
		t.Fatal(err)
	}
}

type namedFirewall struct {
	fakeFirewall
	name        string
	unsupported string
	err         error
}

func (f *namedFirewall) Name() string { return f.name }
func (f *namedFirewall) Block(ctx context.Context, b Block) error {
	if b.Type == f.unsupported {
		return temporal.NewNonRetryableApplicationError(f.name+": not supported", ErrTypeUnsupported, nil)
	}
	if f.err != nil {
		return f.err
	}
	return f.fakeFirewall.Block(ctx, b)
}

func TestVendorFirewalls(t *testing.T) {
	edl := &fakeFirewall{}
	nft := &namedFirewall{name: "nftables", unsupported: "domain"}
	pan := &namedFirewall{name: "panos"}
	a := &Actions{Firewall: edl, Vendors: []VendorFirewall{nft, pan}}
	ctx := context.Background()
	res, err := a.RunAction(ctx, ActionRequest{IncidentID: "i", StepID: "b", Name: "firewall.block_ip", Args: map[string]any{"ip": "203.0.113.7", "ttl": "1h"}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Output["firewalls"], []any{"edl", "nftables", "panos"}) || len(nft.blocks) != 1 || nft.blocks[0].TTL != time.Hour || nft.blocks[0].IdempotencyKey != "i/b" {
		t.Fatalf("output %v nft %+v", res.Output, nft.blocks)
	}
	res, err = a.RunAction(ctx, ActionRequest{IncidentID: "i", StepID: "d", Name: "firewall.block_domain", Args: map[string]any{"domain": "evil.example"}})
	if err != nil || !reflect.DeepEqual(res.Output["skipped"], []any{"nftables"}) || !reflect.DeepEqual(res.Output["firewalls"], []any{"edl", "panos"}) {
		t.Fatalf("domain: %v %v", res.Output, err)
	}
	pan.err = temporal.NewApplicationError("panos: 503", "HTTP503")
	_, err = a.RunAction(ctx, ActionRequest{IncidentID: "i", StepID: "b2", Name: "firewall.block_ip", Args: map[string]any{"ip": "203.0.113.8"}})
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.NonRetryable() || app.Type() != "HTTP503" {
		t.Fatalf("vendor failure: %v", err)
	}
}

type fakeWebhooks struct {
	name, key string
	body      []byte
}

func (f *fakeWebhooks) Post(_ context.Context, name, key string, body []byte) (int, error) {
	f.name, f.key, f.body = name, key, body
	return 202, nil
}

func TestWebhookPost(t *testing.T) {
	wh := &fakeWebhooks{}
	a := &Actions{Webhooks: wh}
	res, err := a.RunAction(context.Background(), ActionRequest{IncidentID: "inc-9", StepID: "notify", Name: "webhook.post",
		Args: map[string]any{"webhook": "soc-bus", "body": map[string]any{"incident": "inc-9", "score": int64(80)}}})
	if err != nil {
		t.Fatal(err)
	}
	if wh.name != "soc-bus" || wh.key != "inc-9/notify" || string(wh.body) != `{"incident":"inc-9","score":80}` || res.Output["status"] != int64(202) {
		t.Fatalf("posted %q %q %s → %v", wh.name, wh.key, wh.body, res.Output)
	}
	if _, err := (&Actions{}).RunAction(context.Background(), ActionRequest{Name: "webhook.post"}); errType(err) != ErrTypeNotConfigured {
		t.Fatalf("unconfigured: %v", err)
	}
}
