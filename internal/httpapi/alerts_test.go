package httpapi

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riposte-soar/riposte/alerts"
	"github.com/riposte-soar/riposte/internal/auth"
	"github.com/riposte-soar/riposte/internal/ingest"
)

// fakeRecorder stands in for Temporal and remembers what it was asked to
// record.
type fakeRecorder struct {
	mu    sync.Mutex
	calls int
	err   error
}

func (f *fakeRecorder) Record(_ context.Context, src *ingest.Source, list []alerts.Alert) ([]ingest.Accepted, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	out := make([]ingest.Accepted, 0, len(list))
	for _, a := range list {
		out = append(out, ingest.Accepted{AlertID: a.ID, IncidentID: "inc-1", Playbook: "p"})
	}
	return out, nil
}

type testEnv struct {
	h        http.Handler
	rec      *fakeRecorder
	ingest   string // ingest token
	reader   string // responder token
	bound    string // ingest token bound to wazuh
	hmacKey  []byte
	pathSecr string
	now      time.Time
}

func newTestEnv(t testing.TB) *testEnv {
	e := &testEnv{rec: &fakeRecorder{}, hmacKey: []byte("hmac-secret"), pathSecr: "s3cr3t-path", now: time.Unix(1_800_000_000, 0)}
	var hIngest, hReader, hBound string
	e.ingest, hIngest, _ = auth.NewToken()
	e.reader, hReader, _ = auth.NewToken()
	e.bound, hBound, _ = auth.NewToken()
	store, err := auth.NewStore([]auth.Token{
		{Name: "siem", Role: auth.RoleIngest, SHA256: hIngest},
		{Name: "analyst", Role: auth.RoleResponder, SHA256: hReader},
		{Name: "wazuh-only", Role: auth.RoleIngest, SHA256: hBound, Sources: []string{"wazuh"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	pathSum := sha256.Sum256([]byte(e.pathSecr))
	src := func(name string, n alerts.Normalizer) *AlertSource {
		return &AlertSource{Source: &ingest.Source{Name: name, Format: name, Normalizer: n, Options: alerts.Options{Source: name}}}
	}
	splunk := src("splunk", alerts.Splunk{})
	splunk.Auth.PathSecretSHA256 = pathSum[:]
	wazuh := src("wazuh", alerts.Wazuh{})
	wazuh.Auth = SourceAuth{HMACSecret: e.hmacKey, HMACHeader: "X-Riposte-Signature", TimestampHeader: "X-Riposte-Timestamp", MaxSkew: 5 * time.Minute}
	e.h = NewHandler(Deps{
		Ready:        readyFunc(func(context.Context) error { return nil }),
		Tokens:       store,
		Sources:      map[string]*AlertSource{"alertmanager": src("alertmanager", alerts.Alertmanager{}), "splunk": splunk, "wazuh": wazuh},
		Recorder:     e.rec,
		MaxBodyBytes: 64 << 10,
		Now:          func() time.Time { return e.now },
	})
	return e
}

func fixture(t testing.TB, path string) []byte {
	b, err := os.ReadFile("../../alerts/testdata/fixtures/" + path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (e *testEnv) sign(body []byte, ts time.Time) (sig, stamp string) {
	stamp = strconv.FormatInt(ts.Unix(), 10)
	m := hmac.New(sha256.New, e.hmacKey)
	m.Write([]byte(stamp + "."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil)), stamp
}

func (e *testEnv) post(path string, body []byte, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

func TestPostAlertsAuthentication(t *testing.T) {
	e := newTestEnv(t)
	am := fixture(t, "alertmanager/alertmonitor_firing_icmp.json")
	wz := fixture(t, "wazuh/dashboard_sample_5716_ssh_auth_failed.json")
	sp := fixture(t, "splunk/splunk_docs_webhook_example.json")
	goodSig, goodTS := e.sign(wz, e.now)
	staleSig, staleTS := e.sign(wz, e.now.Add(-10*time.Minute))
	tests := []struct {
		name   string
		path   string
		body   []byte
		hdr    map[string]string
		status int
	}{
		{"missing token", "/v1/alerts/alertmanager", am, nil, 401},
		{"wrong token", "/v1/alerts/alertmanager", am, map[string]string{"Authorization": "Bearer rpt_wrong"}, 401},
		{"basic instead of bearer", "/v1/alerts/alertmanager", am, map[string]string{"Authorization": "Basic " + e.ingest}, 401},
		{"responder may not ingest", "/v1/alerts/alertmanager", am, map[string]string{"Authorization": "Bearer " + e.reader}, 401},
		{"token bound to another source", "/v1/alerts/alertmanager", am, map[string]string{"Authorization": "Bearer " + e.bound}, 401},
		{"bad hmac", "/v1/alerts/wazuh", wz, map[string]string{"X-Riposte-Signature": "sha256=" + strings.Repeat("00", 32), "X-Riposte-Timestamp": goodTS}, 401},
		{"hmac over another body", "/v1/alerts/wazuh", append([]byte(" "), wz...), map[string]string{"X-Riposte-Signature": goodSig, "X-Riposte-Timestamp": goodTS}, 401},
		{"stale timestamp", "/v1/alerts/wazuh", wz, map[string]string{"X-Riposte-Signature": staleSig, "X-Riposte-Timestamp": staleTS}, 401},
		{"missing timestamp", "/v1/alerts/wazuh", wz, map[string]string{"X-Riposte-Signature": goodSig}, 401},
		{"wrong path secret", "/v1/alerts/splunk/not-the-secret", sp, nil, 401},
		{"path secret on a source without one", "/v1/alerts/alertmanager/anything", am, nil, 401},
		{"valid token, invalid hmac too", "/v1/alerts/wazuh", wz, map[string]string{"Authorization": "Bearer " + e.ingest, "X-Riposte-Signature": "sha256=00", "X-Riposte-Timestamp": goodTS}, 401},

		{"ingest token", "/v1/alerts/alertmanager", am, map[string]string{"Authorization": "Bearer " + e.ingest}, 202},
		{"bound token on its source", "/v1/alerts/wazuh", wz, map[string]string{"Authorization": "Bearer " + e.bound}, 202},
		{"good hmac", "/v1/alerts/wazuh", wz, map[string]string{"X-Riposte-Signature": goodSig, "X-Riposte-Timestamp": goodTS}, 202},
		{"good path secret", "/v1/alerts/splunk/" + e.pathSecr, sp, nil, 202},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.rec.calls
			rec := e.post(tc.path, tc.body, tc.hdr)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body.String())
			}
			recorded := e.rec.calls > before
			if recorded != (tc.status == 202) {
				t.Fatalf("recorder called=%v for status %d", recorded, rec.Code)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body not JSON: %s", rec.Body.String())
			}
			if tc.status == 401 {
				if body["error"] == "" || rec.Header().Get("WWW-Authenticate") == "" {
					t.Fatalf("401 without error or WWW-Authenticate: %v", body)
				}
				for _, secret := range []string{e.ingest, e.pathSecr, string(e.hmacKey)} {
					if strings.Contains(rec.Body.String(), secret) {
						t.Fatal("error body leaks a secret")
					}
				}
			}
		})
	}
}

func TestPostAlertsStatuses(t *testing.T) {
	e := newTestEnv(t)
	auth := map[string]string{"Authorization": "Bearer " + e.ingest}
	am := fixture(t, "alertmanager/alertmonitor_firing_icmp.json")

	rec := e.post("/v1/alerts/nosuch", am, auth)
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), `unknown source \"nosuch\"`) {
		t.Fatalf("unknown source: %d %s", rec.Code, rec.Body.String())
	}
	rec = e.post("/v1/alerts/alertmanager", bytes.Repeat([]byte(" "), 65<<10), auth)
	if rec.Code != 413 {
		t.Fatalf("oversized: %d %s", rec.Code, rec.Body.String())
	}
	rec = e.post("/v1/alerts/alertmanager", fixture(t, "wazuh/dashboard_sample_5716_ssh_auth_failed.json"), auth)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "alertmanager") {
		t.Fatalf("wrong format: %d %s", rec.Code, rec.Body.String())
	}
	rec = e.post("/v1/alerts/alertmanager", am, auth)
	if rec.Code != 202 {
		t.Fatalf("good post: %d %s", rec.Code, rec.Body.String())
	}
	var ok struct {
		Accepted []ingest.Accepted `json:"accepted"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &ok); err != nil || len(ok.Accepted) != 3 {
		t.Fatalf("accepted %s: want 3 entries (an Alertmanager group of 3)", rec.Body.String())
	}

	e.rec.err = ingest.ErrUnavailable
	rec = e.post("/v1/alerts/alertmanager", am, auth)
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("temporal down: %d %v", rec.Code, rec.Header())
	}
}
