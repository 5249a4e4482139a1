package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/riposte-soar/riposte/internal/auth"
	"github.com/riposte-soar/riposte/internal/incidents"
	"github.com/riposte-soar/riposte/internal/kpi"
)

type kpiCall struct {
	from, to time.Time
	after    time.Duration
}

type fakeKPI struct {
	calls []kpiCall
	err   error
}

func (f *fakeKPI) Compute(ctx context.Context, from, to time.Time, after time.Duration) (kpi.Report, error) {
	f.calls = append(f.calls, kpiCall{from, to, after})
	if f.err != nil {
		return kpi.Report{}, f.err
	}
	if err := kpi.CheckRange(from, to); err != nil {
		return kpi.Report{}, err
	}
	return kpi.Report{From: from, To: to, Incidents: 3, MTTR: kpi.Stat{Count: 2, MeanSeconds: 90}}, nil
}

func TestKPIEndpoint(t *testing.T) {
	tokens := map[string]string{}
	var list []auth.Token
	for _, role := range []string{auth.RoleAdmin, auth.RoleResponder, auth.RoleCompliance, auth.RoleIngest} {
		tok, hash, _ := auth.NewToken()
		tokens[role] = tok
		list = append(list, auth.Token{Name: role, Role: role, SHA256: hash})
	}
	store, err := auth.NewStore(list)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	f := &fakeKPI{}
	h := NewHandler(Deps{Tokens: store, KPI: f, Now: func() time.Time { return now }})
	get := func(role, query string) (int, map[string]any) {
		req := httptest.NewRequest(http.MethodGet, "/v1/kpi"+query, nil)
		if role != "" {
			req.Header.Set("Authorization", "Bearer "+tokens[role])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: %q is not JSON", query, rec.Body.String())
		}
		return rec.Code, body
	}

	if code, _ := get("", ""); code != http.StatusUnauthorized {
		t.Fatalf("no token: %d", code)
	}
	if code, body := get(auth.RoleIngest, ""); code != http.StatusForbidden {
		t.Fatalf("ingest token: %d %v", code, body)
	}
	if len(f.calls) != 0 {
		t.Fatalf("refused requests computed: %+v", f.calls)
	}
	for _, role := range []string{auth.RoleAdmin, auth.RoleResponder, auth.RoleCompliance} {
		code, body := get(role, "")
		if code != http.StatusOK || body["incidents"] != 3.0 || body["mttr"].(map[string]any)["mean_seconds"] != 90.0 {
			t.Fatalf("%s: %d %v", role, code, body)
		}
	}
	// Defaults: the last 30 days, N = 15 minutes.
	if c := f.calls[0]; !c.to.Equal(now) || !c.from.Equal(now.Add(-30*24*time.Hour)) || c.after != 15*time.Minute {
		t.Fatalf("defaults: %+v", c)
	}
	f.calls = nil
	if code, _ := get(auth.RoleResponder, "?from=2026-11-01T00:00:00Z&to=2026-11-08T00:00:00%2B01:00&n=60"); code != http.StatusOK {
		t.Fatalf("explicit: %d", code)
	}
	want := kpiCall{time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 7, 23, 0, 0, 0, time.UTC), time.Hour}
	if len(f.calls) != 1 || !f.calls[0].from.Equal(want.from) || !f.calls[0].to.Equal(want.to) || f.calls[0].after != want.after {
		t.Fatalf("explicit: %+v, want %+v", f.calls, want)
	}

	for _, c := range []struct{ query, want string }{
		{"?from=yesterday", "from: must be an RFC 3339 time such as 2026-10-24T00:00:00Z"},
		{"?to=2026-11-23", "to: must be an RFC 3339 time such as 2026-11-23T00:00:00Z"},
		{"?n=abc", "n: must be a whole number of minutes between 1 and 10080"},
		{"?n=0", "n: must be a whole number of minutes between 1 and 10080"},
		{"?n=10081", "n: must be a whole number of minutes between 1 and 10080"},
		{"?from=2026-11-10T00:00:00Z&to=2026-11-01T00:00:00Z", "from: invalid range: to must be after from"},
		{"?from=2024-01-01T00:00:00Z&to=2026-11-01T00:00:00Z", "from: invalid range: the window must not exceed 366 days"},
	} {
		code, body := get(auth.RoleAdmin, c.query)
		if code != http.StatusBadRequest || body["error"] != c.want {
			t.Errorf("%s: %d %v, want 400 %q", c.query, code, body, c.want)
		}
	}

	f.err = fmt.Errorf("kpi: list incidents: %w", incidents.ErrUnavailable)
	if code, body := get(auth.RoleAdmin, ""); code != http.StatusServiceUnavailable || body["error"] != "temporal is unavailable; retry later" {
		t.Fatalf("unavailable: %d %v", code, body)
	}
	f.err = fmt.Errorf("kpi: query incident x: boom")
	if code, body := get(auth.RoleAdmin, ""); code != http.StatusInternalServerError || body["error"] != "compute kpi failed" {
		t.Fatalf("failure: %d %v", code, body)
	}
}
