package playbooks

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/riposte-soar/riposte/playbooks/library"
)

var problemLineRE = regexp.MustCompile(`^fuzz\.yaml:[1-9][0-9]*:[1-9][0-9]*: \S`)

// FuzzParse: any input gives a playbook or problems, never a panic, and
// every problem is one line that starts with file:line:col.
func FuzzParse(f *testing.F) {
	seeds, err := fs.Glob(library.Library, "*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range seeds {
		data, err := fs.ReadFile(library.Library, name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	broken, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range broken {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("name: x\nversion: \"1.0.0\"\ndetect:\n  - id: a\n    notify: {message: \"${{ \\\"\\n\\\" + }}\"}\n"))
	env := testEnv()
	f.Fuzz(func(t *testing.T, data []byte) {
		pb, err := Parse("fuzz.yaml", data)
		if err != nil {
			if pb != nil {
				t.Fatal("a playbook along with problems")
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !problemLineRE.MatchString(line) {
					t.Fatalf("problem line %q does not start with fuzz.yaml:line:col: ", line)
				}
			}
			return
		}
		if pb == nil {
			t.Fatal("no playbook and no problems")
		}
		if _, err := json.Marshal(pb); err != nil {
			t.Fatalf("playbook does not encode: %v", err)
		}
		// What validated also evaluates without panicking (errors are fine:
		// the environment has no such data).
		for _, s := range pb.Steps() {
			if s.If != "" {
				_, _ = EvalBool(s.If, env)
			}
			for _, expr := range s.Set {
				_, _ = EvalValue(expr, env)
			}
			if s.Action != nil {
				_, _ = Render(s.Action.Args, env)
			}
		}
	})
}
