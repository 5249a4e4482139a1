package testrt

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func TestStart(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a real RT")
	}
	s := Start(t)
	t.Logf("RT started in %s (database %s, token %s, server until REST2 answered %s)",
		s.StartTime.Round(time.Millisecond), s.SetupTime.Round(time.Millisecond),
		s.TokenTime.Round(time.Millisecond), s.ReadyTime.Round(time.Millisecond))

	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Errorf("URL = %q, want http://127.0.0.1:PORT", s.URL)
	}
	var rt struct{ Version string }
	s.GetJSON(t, "rt", &rt)
	if !strings.HasPrefix(rt.Version, "5.") {
		t.Errorf("RT version = %q, want 5.x", rt.Version)
	}

	// Basic auth with the generated password works; a wrong one is 401.
	for _, tc := range []struct {
		pass string
		want int
	}{{s.RootPassword, 200}, {s.RootPassword + "x", 401}} {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/REST/2.0/user/root", nil)
		req.SetBasicAuth("root", tc.pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("basic auth status = %d, want %d", resp.StatusCode, tc.want)
		}
	}

	if n := s.CountTickets(t, "id > 0"); n != 0 {
		t.Errorf("fresh RT has %d tickets, want 0", n)
	}
	if _, err := os.Stat(s.LogFile); err != nil {
		t.Errorf("RT log file: %v", err)
	}

	out := s.Perl(t, `use RT; RT::LoadConfig(); RT::Init(); print RT->Config->Get('WebBaseURL');`)
	if out != s.URL {
		t.Errorf("WebBaseURL from the site config = %q, want %q", out, s.URL)
	}

	s.Close()
	select {
	case <-s.exited:
	default:
		t.Error("rt-server still running after Close")
	}
	if _, err := http.Get(s.URL + "/REST/2.0/rt"); err == nil {
		t.Error("RT still answers after Close")
	}
}
