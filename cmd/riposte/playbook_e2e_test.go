package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot is where paths such as playbooks/library resolve.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestPlaybookValidate(t *testing.T) {
	root := repoRoot(t)
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{
			name:       "built-in library",
			args:       []string{"playbook", "validate"},
			wantStdout: "ok: 5 playbooks\n",
		},
		{
			name:       "library directory",
			args:       []string{"playbook", "validate", "playbooks/library"},
			wantStdout: "ok: 5 playbooks\n",
		},
		{
			name:     "broken file",
			args:     []string{"playbook", "validate", "playbooks/testdata/unknown_key_in_step.yaml"},
			wantCode: 1,
			wantStderr: `playbooks/testdata/unknown_key_in_step.yaml:8:5: unknown key "timout" in step "block"` + "\n" +
				"riposte: 1 problem in 1 file\n",
		},
		{
			name: "every problem in every file",
			args: []string{"playbook", "validate", "playbooks/library", "playbooks/testdata/duplicate_step_id.yaml",
				"playbooks/testdata/step_refers_to_later_step.yaml", "playbooks/testdata/escalate_without_target.yaml", "nope.yaml"},
			wantCode: 1,
			wantStderr: `playbooks/testdata/duplicate_step_id.yaml:9:9: duplicate step id "enrich" (first at line 4)` + "\n" +
				`playbooks/testdata/step_refers_to_later_step.yaml:5:9: steps.enrich refers to a step that comes later` + "\n" +
				`playbooks/testdata/escalate_without_target.yaml:8:19: approval: on_timeout escalate needs escalate_to (roles)` + "\n" +
				`playbooks/testdata/escalate_without_target.yaml:8:19: approval: on_timeout escalate needs escalation_timeout` + "\n" +
				"stat nope.yaml: no such file or directory\n" +
				"riposte: 5 problems in 4 files\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runRiposte(t, root, nil, tc.args...)
			if code != tc.wantCode {
				t.Errorf("exit status %d, want %d", code, tc.wantCode)
			}
			if stdout != tc.wantStdout {
				t.Errorf("stdout\n%q\nwant\n%q", stdout, tc.wantStdout)
			}
			if stderr != tc.wantStderr {
				t.Errorf("stderr\n%s\nwant\n%s", stderr, tc.wantStderr)
			}
		})
	}
}

func TestPlaybookValidateOwnFile(t *testing.T) {
	dir := t.TempDir()
	const pb = `name: my-playbook
version: "0.1.0"
contain:
  - id: block
    action: firewall.block_ip
    args:
      ip: "${{ vars.src_ip }}"
      ttl: soon
    undo:
      action: firewall.unblock_ip
      args: {ip: "${{ vars.src_ip }}"}
`
	if err := os.WriteFile(filepath.Join(dir, "mine.yaml"), []byte(pb), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runRiposte(t, dir, nil, "playbook", "validate", "mine.yaml")
	want := `mine.yaml:7:16: vars.src_ip is not an input and no earlier step sets it` + "\n" +
		`mine.yaml:8:12: action firewall.block_ip: argument "ttl": expected a duration (e.g. 30m, 24h), got "soon"` + "\n" +
		`mine.yaml:11:23: vars.src_ip is not an input and no earlier step sets it` + "\n" +
		"riposte: 3 problems in 1 file\n"
	if code != 1 || stdout != "" || stderr != want {
		t.Fatalf("status %d stdout %q stderr\n%s\nwant status 1 and\n%s", code, stdout, stderr, want)
	}
}

func TestPlaybookList(t *testing.T) {
	root := repoRoot(t)
	stdout, stderr, code := runRiposte(t, root, nil, "playbook", "list")
	if code != 0 || stderr != "" {
		t.Fatalf("status %d stderr %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 6 || strings.Join(strings.Fields(lines[0]), " ") != "NAME VERSION SHA256 FILE" {
		t.Fatalf("output:\n%s", stdout)
	}
	names := []string{"generic-triage", "malware-on-host", "personal-data-breach", "phishing", "ssh-brute-force"}
	for i, name := range names {
		data, err := os.ReadFile(filepath.Join(root, "playbooks", "library", name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		want := []string{name, "1.0.0", hex.EncodeToString(sum[:]), "library/" + name + ".yaml"}
		if got := strings.Fields(lines[i+1]); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("row %d: %q, want %q", i+1, got, want)
		}
	}
}
