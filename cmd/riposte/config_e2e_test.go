package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runRiposte runs the binary to completion and returns its output and exit
// status.
func runRiposte(t *testing.T, dir string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("run riposte: %v", err)
		}
	}
	return o.String(), e.String(), cmd.ProcessState.ExitCode()
}

func TestConfigErrorsExitTwoWithKeyNamed(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  []string
		want string
	}{
		{
			name: "unknown key",
			yaml: "http:\n  listn: 127.0.0.1:8080\n",
			want: "riposte: riposte.yaml:2:3: http.listn: unknown key\n",
		},
		{
			name: "bad duration",
			yaml: "http:\n  shutdown_timeout: soon\n",
			want: "riposte: riposte.yaml:2:21: http.shutdown_timeout: invalid duration \"soon\" (use a number with a unit, e.g. 30s, 5m, 2h)\n",
		},
		{
			name: "missing required value",
			yaml: "temporal:\n  namespace: \"\"\n",
			want: "riposte: temporal.namespace: required\n",
		},
		{
			name: "bad duration from the environment",
			env:  []string{"RIPOSTE_TEMPORAL_CONNECT_TIMEOUT=5"},
			want: "riposte: RIPOSTE_TEMPORAL_CONNECT_TIMEOUT: temporal.connect_timeout: invalid duration \"5\" (use a number with a unit, e.g. 30s, 5m, 2h)\n",
		},
		{
			name: "unknown environment variable",
			env:  []string{"RIPOSTE_HTTP_LISTN=127.0.0.1:1"},
			want: "riposte: RIPOSTE_HTTP_LISTN: unknown environment variable\n",
		},
		{
			name: "every problem at once",
			yaml: "http:\n  listn: x\n  shutdown_timeout: soon\n",
			want: "riposte: invalid configuration:\n" +
				"  riposte.yaml:2:3: http.listn: unknown key\n" +
				"  riposte.yaml:3:21: http.shutdown_timeout: invalid duration \"soon\" (use a number with a unit, e.g. 30s, 5m, 2h)\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.yaml != "" {
				if err := os.WriteFile(filepath.Join(dir, "riposte.yaml"), []byte(tc.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			for _, mode := range []string{"dev", "serve", "worker"} {
				stdout, stderr, code := runRiposte(t, dir, tc.env, mode)
				if code != 2 {
					t.Errorf("%s: exit status %d, want 2\nstderr: %s", mode, code, stderr)
				}
				if stderr != tc.want {
					t.Errorf("%s: stderr\n%q\nwant\n%q", mode, stderr, tc.want)
				}
				if stdout != "" {
					t.Errorf("%s: stdout %q, want nothing", mode, stdout)
				}
			}
		})
	}
}

func TestMissingConfigFileNamed(t *testing.T) {
	dir := t.TempDir()
	_, stderr, code := runRiposte(t, dir, nil, "dev", "--config", "nope.yaml")
	if code != 2 || !strings.Contains(stderr, "nope.yaml") {
		t.Fatalf("status %d stderr %q; want 2 naming the file", code, stderr)
	}
}

// Secrets must not reach logs, --help or error output, whatever path they
// take.
func TestSecretsNeverPrinted(t *testing.T) {
	const apiKey = "tmprl-apikey-SENTINEL-7f3a9c"
	const keyMaterial = "PRIVATEKEYSENTINEL0123456789abcdef"
	dir := t.TempDir()
	certFile := filepath.Join(dir, "client.pem")
	keyFile := filepath.Join(dir, "client.key")
	if err := os.WriteFile(certFile, []byte("-----BEGIN CERTIFICATE-----\nCERTSENTINEL\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte("-----BEGIN PRIVATE KEY-----\n"+keyMaterial+"\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secretEnv := []string{"RIPOSTE_TEMPORAL_API_KEY=" + apiKey, "RIPOSTE_LOG_LEVEL=debug"}
	check := func(t *testing.T, what, out string) {
		t.Helper()
		for _, s := range []string{apiKey, keyMaterial, "CERTSENTINEL"} {
			if strings.Contains(out, s) {
				t.Fatalf("%s leaks a secret (%q):\n%s", what, s, out)
			}
		}
	}

	t.Run("help", func(t *testing.T) {
		for _, args := range [][]string{{"--help"}, {"dev", "--help"}, {"serve", "--help"}, {"worker", "--help"}} {
			stdout, stderr, code := runRiposte(t, dir, secretEnv, args...)
			if code != 0 {
				t.Fatalf("%v: status %d", args, code)
			}
			check(t, strings.Join(args, " "), stdout+stderr)
		}
	})

	t.Run("unparsable key file", func(t *testing.T) {
		env := append([]string{
			"RIPOSTE_TEMPORAL_TLS_CERT_FILE=" + certFile,
			"RIPOSTE_TEMPORAL_TLS_KEY_FILE=" + keyFile,
			"RIPOSTE_TEMPORAL_ADDRESS=" + freePort(t),
		}, secretEnv...)
		stdout, stderr, code := runRiposte(t, dir, env, "serve", "--http", freePort(t))
		if code == 0 {
			t.Fatal("serve accepted an unparsable client key")
		}
		if !strings.Contains(stderr, "temporal.tls") {
			t.Fatalf("error does not name temporal.tls: %s", stderr)
		}
		check(t, "error output", stdout+stderr)
	})

	t.Run("config error next to a secret", func(t *testing.T) {
		env := append([]string{"RIPOSTE_HTTP_SHUTDOWN_TIMEOUT=soon"}, secretEnv...)
		stdout, stderr, code := runRiposte(t, dir, env, "serve")
		if code != 2 {
			t.Fatalf("status %d, want 2", code)
		}
		check(t, "config error", stdout+stderr)
	})

	t.Run("debug logs while retrying", func(t *testing.T) {
		addr := freePort(t)
		env := append([]string{"RIPOSTE_TEMPORAL_ADDRESS=" + addr, "RIPOSTE_TEMPORAL_RETRY_MAX_INTERVAL=1s"}, secretEnv...)
		p := startRiposte(t, dir, env, "serve", "--http", freePort(t))
		p.waitStderr(t, "cannot reach Temporal at "+addr, 30*time.Second)
		_ = p.cmd.Process.Kill()
		<-p.done
		check(t, "logs", p.stdout.String()+p.stderr.String())
	})
}
