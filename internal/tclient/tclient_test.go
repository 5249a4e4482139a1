package tclient

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/riposte-soar/riposte/config"
)

func TestOptions(t *testing.T) {
	dir := t.TempDir()
	badCA := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(badCA, []byte("not a certificate SENTINEL"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := config.Default().Temporal

	plain, err := Options(base, "id", nil)
	if err != nil || plain.ConnectionOptions.TLS != nil || plain.Credentials != nil {
		t.Fatalf("plain: %+v %v", plain.ConnectionOptions.TLS, err)
	}

	cloud := base
	cloud.APIKey = "key"
	o, err := Options(cloud, "id", nil)
	if err != nil || o.ConnectionOptions.TLS == nil || o.Credentials == nil {
		t.Fatalf("api key must imply TLS and credentials: %v", err)
	}

	withCA := base
	withCA.TLS.CAFile = badCA
	_, err = Options(withCA, "id", nil)
	if err == nil || !strings.HasPrefix(err.Error(), "temporal.tls.ca_file: ") || strings.Contains(err.Error(), "SENTINEL") {
		t.Fatalf("bad CA: %v", err)
	}

	missing := base
	missing.TLS.CertFile, missing.TLS.KeyFile = filepath.Join(dir, "no.pem"), filepath.Join(dir, "no.key")
	if _, err := Options(missing, "id", nil); err == nil || !strings.Contains(err.Error(), "no.pem") {
		t.Fatalf("missing cert: %v", err)
	}
}
