package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNewTokenIsRandomAndHashed(t *testing.T) {
	a, ha, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	b, hb, _ := NewToken()
	if a == b || ha == hb {
		t.Fatal("two tokens are equal")
	}
	if !strings.HasPrefix(a, "rpt_") || len(a) < 50 {
		t.Fatalf("token %q: want rpt_ and 256 bits", a)
	}
	if Hash(a) != ha || len(ha) != 64 {
		t.Fatalf("hash %q does not match", ha)
	}
}

func TestStoreLookup(t *testing.T) {
	tok, h, _ := NewToken()
	other, ho, _ := NewToken()
	s, err := NewStore([]Token{{Name: "ops", Role: RoleAdmin, SHA256: h}, {Name: "siem", Role: RoleIngest, SHA256: ho}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, token, wantName string
		ok                    bool
	}{
		{"admin", tok, "ops", true},
		{"ingest", other, "siem", true},
		{"unknown", "rpt_nope", "", false},
		{"empty", "", "", false},
		{"hash instead of token", h, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := s.Lookup(tc.token)
			if ok != tc.ok || p.Name != tc.wantName {
				t.Fatalf("Lookup = %+v, %v; want %q, %v", p, ok, tc.wantName, tc.ok)
			}
		})
	}
	if _, err := NewStore([]Token{{Name: "bad", Role: RoleAdmin, SHA256: "zz"}}); err == nil || strings.Contains(err.Error(), "zz") {
		t.Fatalf("bad hash: err %v (must not echo the value)", err)
	}
}

func TestEnsureDevAdminToken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	tok, created, err := EnsureDevAdminToken(dir)
	if err != nil || !created {
		t.Fatalf("first call: %v created=%v", err, created)
	}
	fi, err := os.Stat(filepath.Join(dir, AdminTokenFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v, %v", fi.Mode().Perm(), err)
	}
	again, created, err := EnsureDevAdminToken(dir)
	if err != nil || created || again != tok {
		t.Fatalf("second call: %q created=%v err=%v; want the same token", again, created, err)
	}
	if err := os.Chmod(filepath.Join(dir, AdminTokenFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := EnsureDevAdminToken(dir); err == nil || strings.Contains(err.Error(), tok) {
		t.Fatalf("world-readable token: err %v (want a refusal that does not print the token)", err)
	}
}
