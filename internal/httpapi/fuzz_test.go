package httpapi

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzPostAlerts drives the webhook handler with arbitrary sources, bodies
// and signature headers: every request gets a JSON answer with a known
// status, never a panic.
func FuzzPostAlerts(f *testing.F) {
	e := newTestEnv(f)
	files, _ := filepath.Glob("../../alerts/testdata/fixtures/*/*.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		src := filepath.Base(filepath.Dir(file))
		f.Add(src, b, true, "")
		f.Add(src, b, false, "sha256=00")
	}
	f.Add("alertmanager", []byte(`{"alerts":[{}]}`), true, "")
	f.Add("wazuh", []byte("{}\n{"), true, "")
	f.Add("../x", []byte(`null`), false, "")
	allowed := map[int]bool{202: true, 400: true, 401: true, 404: true, 413: true}
	f.Fuzz(func(t *testing.T, source string, body []byte, withToken bool, sig string) {
		hdr := map[string]string{"X-Riposte-Signature": sig, "X-Riposte-Timestamp": "1800000000"}
		if withToken {
			hdr["Authorization"] = "Bearer " + e.ingest
		}
		req := "/v1/alerts/" + source
		defer func() {
			if r := recover(); r != nil {
				// httptest.NewRequest panics on malformed target URLs;
				// that is the test's input, not the handler.
				if s, ok := r.(string); ok && strings.HasPrefix(s, "invalid NewRequest arguments") {
					return
				}
				panic(r)
			}
		}()
		rec := e.post(req, body, hdr)
		if rec.Code == http.StatusMovedPermanently || rec.Code == http.StatusTemporaryRedirect {
			return // the mux cleaning ".." out of the path
		}
		if !allowed[rec.Code] {
			t.Fatalf("status %d for source %q: %s", rec.Code, source, rec.Body.String())
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("content type %q", ct)
		}
	})
}
