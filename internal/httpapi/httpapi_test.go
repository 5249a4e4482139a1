package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

type readyFunc func(context.Context) error

func (f readyFunc) Ready(ctx context.Context) error { return f(ctx) }

func TestHealthAndReadiness(t *testing.T) {
	var readyErr error
	h := NewHandler(Deps{Ready: readyFunc(func(context.Context) error { return readyErr })})
	get := func(path string) (int, map[string]string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		var body map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: body %q is not JSON: %v", path, rec.Body.String(), err)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s: content type %q", path, ct)
		}
		return rec.Code, body
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz = %d", code)
	}
	if code, body := get("/readyz"); code != http.StatusOK || body["status"] != "ready" {
		t.Fatalf("/readyz = %d %v", code, body)
	}
	readyErr = errors.New("cannot reach temporal at 127.0.0.1:7233: connection refused")
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || body["error"] != readyErr.Error() {
		t.Fatalf("/readyz when not ready = %d %v", code, body)
	}
	// Health does not depend on Temporal.
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz when not ready = %d", code)
	}
	if code, body := get("/nope"); code != http.StatusNotFound || body["error"] == "" {
		t.Fatalf("/nope = %d %v", code, body)
	}
}
