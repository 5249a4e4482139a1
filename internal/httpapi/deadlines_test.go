package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/riposte-soar/riposte/internal/auth"
	"github.com/riposte-soar/riposte/internal/deadlines"
)

// failingVisibility answers every visibility list with err.
type failingVisibility struct {
	client.Client
	err error
}

func (f failingVisibility) ListWorkflow(context.Context, *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	return nil, f.err
}

// TestDeadlinesListErrors: the real deadlines.Service over a Temporal
// client that fails; overload and outage answer 503 with Retry-After, a
// bad filter 400, anything else 500 without the internal message.
func TestDeadlinesListErrors(t *testing.T) {
	tok, hash, _ := auth.NewToken()
	store, err := auth.NewStore([]auth.Token{{Name: "dpo", Role: auth.RoleCompliance, SHA256: hash}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		err        error
		noClient   bool
		code       int
		retryAfter string
		msg        string
	}{
		{name: "overloaded", path: "/v1/deadlines", err: serviceerror.NewResourceExhausted(enumspb.RESOURCE_EXHAUSTED_CAUSE_SYSTEM_OVERLOADED, "system overloaded"),
			code: 503, retryAfter: "5", msg: "temporal is unavailable; retry later"},
		{name: "unavailable", path: "/v1/deadlines?status=open", err: serviceerror.NewUnavailable("connection refused"),
			code: 503, retryAfter: "5", msg: "temporal is unavailable; retry later"},
		{name: "deadline exceeded", path: "/v1/deadlines/export.csv", err: serviceerror.NewDeadlineExceeded("context deadline exceeded"),
			code: 503, retryAfter: "5", msg: "temporal is unavailable; retry later"},
		{name: "not connected yet", path: "/v1/deadlines/export.json", noClient: true,
			code: 503, retryAfter: "5", msg: "temporal is unavailable; retry later"},
		{name: "bad filter", path: "/v1/deadlines?regime=gdpr%27%20OR%20%271", err: nil,
			code: 400, msg: `regime: invalid value "gdpr' OR '1"`},
		{name: "other failure", path: "/v1/deadlines", err: serviceerror.NewInternal("sql: database is locked"),
			code: 500, msg: "deadlines could not be read or started"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc := failingVisibility{err: tc.err}
			svc := &deadlines.Service{Namespace: "default", Client: func() client.Client {
				if tc.noClient {
					return nil
				}
				return fc
			}}
			h := NewHandler(Deps{Tokens: store, Deadlines: svc})
			req := httptest.NewRequest(http.MethodGet, tc.path, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var body struct {
				Error string `json:"error"`
			}
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			if rec.Code != tc.code || rec.Header().Get("Retry-After") != tc.retryAfter || body.Error != tc.msg {
				t.Fatalf("%s: %d Retry-After %q %s; want %d Retry-After %q %q",
					tc.path, rec.Code, rec.Header().Get("Retry-After"), rec.Body.String(), tc.code, tc.retryAfter, tc.msg)
			}
		})
	}
}
