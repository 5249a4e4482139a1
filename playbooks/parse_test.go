package playbooks

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Each broken playbook in testdata is named by its scenario; the test pins
// every line of the report, position and message.
func TestBrokenPlaybooks(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"approval_without_approvers.yaml", []string{
			`playbooks/testdata/approval_without_approvers.yaml:5:5: approval has no approvers`,
		}},
		{"approval_without_timeout.yaml", []string{
			`playbooks/testdata/approval_without_timeout.yaml:5:5: approval has no timeout`,
		}},
		{"arg_type_mismatch.yaml", []string{
			`playbooks/testdata/arg_type_mismatch.yaml:7:16: action compliance.start_clocks: argument "regimes": expected a list, got a string`,
			`playbooks/testdata/arg_type_mismatch.yaml:8:15: action compliance.start_clocks: argument "events": expected a mapping, got a list`,
		}},
		{"args_without_action.yaml", []string{
			`playbooks/testdata/args_without_action.yaml:7:5: args is only allowed with action`,
		}},
		{"bad_cel_syntax.yaml", []string{
			`playbooks/testdata/bad_cel_syntax.yaml:5:36: if: syntax error: mismatched input '<EOF>'`,
		}},
		{"bad_duration.yaml", []string{
			`playbooks/testdata/bad_duration.yaml:8:12: action firewall.block_ip: argument "ttl": expected a duration (e.g. 30m, 24h), got "soon"`,
			`playbooks/testdata/bad_duration.yaml:9:14: timeout: invalid duration "5 minutes" (use a number with a unit, e.g. 30s, 5m, 24h)`,
			`playbooks/testdata/bad_duration.yaml:12:17: wait.duration: must be positive`,
		}},
		{"bad_name_and_version.yaml", []string{
			`playbooks/testdata/bad_name_and_version.yaml:1:7: invalid name "SSH Brute Force": use lowercase letters, digits and dashes, starting with a letter or digit (at most 63)`,
			`playbooks/testdata/bad_name_and_version.yaml:2:10: version: expected a string, got a float (quote it: "1.2")`,
			`playbooks/testdata/bad_name_and_version.yaml:4:9: invalid step id "Note": use lowercase letters, digits and underscores, starting with a letter (at most 63)`,
		}},
		{"bad_on_error.yaml", []string{
			`playbooks/testdata/bad_on_error.yaml:8:15: on_error: must be fail, continue or compensate, got "retry"`,
		}},
		{"bad_retry.yaml", []string{
			`playbooks/testdata/bad_retry.yaml:9:21: retry.max_attempts: must be at least 1`,
			`playbooks/testdata/bad_retry.yaml:11:21: retry.max_interval: must not be less than initial_interval (1m0s)`,
			`playbooks/testdata/bad_retry.yaml:12:28: retry.backoff_coefficient: must be at least 1`,
			`playbooks/testdata/bad_retry.yaml:13:7: unknown key "jitter" in retry of step "block"`,
		}},
		{"bad_template_in_args.yaml", []string{
			`playbooks/testdata/bad_template_in_args.yaml:7:41: argument "title": syntax error: mismatched input '<EOF>'`,
			`playbooks/testdata/bad_template_in_args.yaml:8:23: argument "body": unterminated ${{ (close it with }})`,
		}},
		{"bad_wait_until.yaml", []string{
			`playbooks/testdata/bad_wait_until.yaml:6:14: wait.until: unknown event "alert_closed" (events: alert_resolved)`,
		}},
		{"cel_type_error.yaml", []string{
			`playbooks/testdata/cel_type_error.yaml:6:38: set.total: found no matching overload for '_+_' applied to '(int, string)'`,
		}},
		{"duplicate_key.yaml", []string{
			`playbooks/testdata/duplicate_key.yaml:7:7: duplicate key "message" (first at line 6)`,
		}},
		{"duplicate_step_id.yaml", []string{
			`playbooks/testdata/duplicate_step_id.yaml:9:9: duplicate step id "enrich" (first at line 4)`,
		}},
		{"empty.yaml", []string{
			`playbooks/testdata/empty.yaml:1:1: empty playbook`,
		}},
		{"escalate_without_target.yaml", []string{
			`playbooks/testdata/escalate_without_target.yaml:8:19: approval: on_timeout escalate needs escalate_to (roles)`,
			`playbooks/testdata/escalate_without_target.yaml:8:19: approval: on_timeout escalate needs escalation_timeout`,
		}},
		{"every_problem_at_once.yaml", []string{
			`playbooks/testdata/every_problem_at_once.yaml:2:10: invalid version "1.0": use MAJOR.MINOR.PATCH, e.g. 1.2.0`,
			`playbooks/testdata/every_problem_at_once.yaml:5:13: action enrich.ip: missing argument "ip"`,
			`playbooks/testdata/every_problem_at_once.yaml:7:7: action enrich.ip: unknown argument "address"`,
			`playbooks/testdata/every_problem_at_once.yaml:11:18: approval has no approvers`,
			`playbooks/testdata/every_problem_at_once.yaml:14:7: approval.escalate_to: only used with on_timeout: escalate`,
			`playbooks/testdata/every_problem_at_once.yaml:16:74: if: syntax error: mismatched input '<EOF>'`,
			`playbooks/testdata/every_problem_at_once.yaml:19:16: vars.src_ip is not an input and no earlier step sets it`,
		}},
		{"if_not_bool.yaml", []string{
			`playbooks/testdata/if_not_bool.yaml:5:10: if: must give a bool, gives string`,
		}},
		{"missing_argument.yaml", []string{
			`playbooks/testdata/missing_argument.yaml:5:13: action firewall.block_ip: missing argument "ip"`,
		}},
		{"missing_name_and_version.yaml", []string{
			`playbooks/testdata/missing_name_and_version.yaml:1:1: missing required key "name"`,
			`playbooks/testdata/missing_name_and_version.yaml:1:1: missing required key "version"`,
			`playbooks/testdata/missing_name_and_version.yaml:1:1: playbook has no steps: add some under detect, contain, analyse, restore, follow_up`,
		}},
		{"not_a_mapping.yaml", []string{
			`playbooks/testdata/not_a_mapping.yaml:1:1: a playbook must be a mapping, got a list`,
		}},
		{"parallel_refers_to_enclosing_step.yaml", []string{
			`playbooks/testdata/parallel_refers_to_enclosing_step.yaml:7:13: steps.block refers to its enclosing parallel step`,
		}},
		{"parallel_sibling_reference.yaml", []string{
			`playbooks/testdata/parallel_sibling_reference.yaml:11:13: steps.block_ip refers to a step in the same parallel block`,
		}},
		{"required_below_one.yaml", []string{
			`playbooks/testdata/required_below_one.yaml:8:17: approval.required: must be at least 1`,
		}},
		{"step_refers_to_itself.yaml", []string{
			`playbooks/testdata/step_refers_to_itself.yaml:5:15: steps.enrich refers to the step itself`,
		}},
		{"step_refers_to_later_step.yaml", []string{
			`playbooks/testdata/step_refers_to_later_step.yaml:5:9: steps.enrich refers to a step that comes later`,
		}},
		{"step_refers_to_missing_step.yaml", []string{
			`playbooks/testdata/step_refers_to_missing_step.yaml:5:9: steps.approve refers to a step that does not exist`,
		}},
		{"step_without_kind.yaml", []string{
			`playbooks/testdata/step_without_kind.yaml:4:5: step "block" has no kind: give it one of action, approval, parallel, wait, set, notify`,
		}},
		{"two_kinds_in_one_step.yaml", []string{
			`playbooks/testdata/two_kinds_in_one_step.yaml:8:5: step "block" has more than one kind: action and notify`,
		}},
		{"undo_on_irreversible_action.yaml", []string{
			`playbooks/testdata/undo_on_irreversible_action.yaml:8:5: undo: action "ticket.comment" is not reversible`,
		}},
		{"undo_on_notify.yaml", []string{
			`playbooks/testdata/undo_on_notify.yaml:7:5: undo is only allowed on action steps`,
		}},
		{"undo_unknown_action.yaml", []string{
			`playbooks/testdata/undo_unknown_action.yaml:9:15: undo: unknown action "firewall.unblok_ip"`,
		}},
		{"unknown_action.yaml", []string{
			`playbooks/testdata/unknown_action.yaml:5:13: unknown action "firewall.blok_ip"`,
		}},
		{"unknown_argument.yaml", []string{
			`playbooks/testdata/unknown_argument.yaml:8:7: action firewall.block_ip: unknown argument "ipaddr"`,
		}},
		{"unknown_field_reference.yaml", []string{
			`playbooks/testdata/unknown_field_reference.yaml:10:21: alert has no field "titel" (fields: source, id, title, severity, status, observed_at, labels, observables)`,
			`playbooks/testdata/unknown_field_reference.yaml:10:42: incident has no field "created" (fields: id, title, severity, status, phase, alert_count, observables, created_at)`,
			`playbooks/testdata/unknown_field_reference.yaml:10:68: steps.enrich has no field "outputs" (fields: status, output)`,
		}},
		{"unknown_key_in_step.yaml", []string{
			`playbooks/testdata/unknown_key_in_step.yaml:8:5: unknown key "timout" in step "block"`,
		}},
		{"unknown_role.yaml", []string{
			`playbooks/testdata/unknown_role.yaml:6:19: unknown role "responders" (roles: admin, responder, compliance, ingest)`,
		}},
		{"unknown_top_level_key.yaml", []string{
			`playbooks/testdata/unknown_top_level_key.yaml:3:1: unknown key "analyze"`,
		}},
		{"var_not_set.yaml", []string{
			`playbooks/testdata/var_not_set.yaml:7:16: vars.src_ip is not an input and no earlier step sets it`,
		}},
		{"yaml_alias.yaml", []string{
			`playbooks/testdata/yaml_alias.yaml:8:13: YAML aliases (*note) are not supported in playbooks`,
		}},
		{"yaml_syntax_error.yaml", []string{
			`playbooks/testdata/yaml_syntax_error.yaml:6:1: invalid YAML: found unexpected end of stream`,
		}},
	}
	covered := map[string]bool{}
	for _, tc := range tests {
		covered[tc.file] = true
		t.Run(strings.TrimSuffix(tc.file, ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			pb, err := Parse("playbooks/testdata/"+tc.file, data)
			if err == nil {
				t.Fatalf("no problems found; want\n%s", strings.Join(tc.want, "\n"))
			}
			if pb != nil {
				t.Errorf("Parse returned a playbook along with problems")
			}
			got := strings.Split(err.Error(), "\n")
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			// Each line is one *Problem.
			if n := len(Problems(err)); n != len(tc.want) {
				t.Errorf("Problems: %d errors, want %d", n, len(tc.want))
			}
		})
	}
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("%s has no entry in the table", f)
		}
	}
}

func TestLibraryValidates(t *testing.T) {
	pbs, err := LoadLibrary()
	if err != nil {
		t.Fatalf("shipped playbooks do not validate:\n%v", err)
	}
	var names []string
	for _, pb := range pbs {
		names = append(names, pb.Name)
		if pb.File != "library/"+pb.Name+".yaml" {
			t.Errorf("%s: File %q", pb.Name, pb.File)
		}
		if len(pb.SHA256) != 64 {
			t.Errorf("%s: SHA256 %q", pb.Name, pb.SHA256)
		}
		// The playbook travels into the workflow as JSON; it must come back
		// the same.
		b, err := json.Marshal(pb)
		if err != nil {
			t.Fatalf("%s: %v", pb.Name, err)
		}
		var back Playbook
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", pb.Name, err)
		}
		if !reflect.DeepEqual(&back, pb) {
			t.Errorf("%s: JSON round trip differs:\n%s", pb.Name, b)
		}
	}
	want := []string{"generic-triage", "malware-on-host", "personal-data-breach", "phishing", "ssh-brute-force"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("library playbooks %v, want %v", names, want)
	}

	// The same files from disk give the same playbooks.
	fromDisk, err := LoadPaths("library")
	if err != nil {
		t.Fatal(err)
	}
	if len(fromDisk) != len(pbs) {
		t.Fatalf("LoadPaths(library): %d playbooks, want %d", len(fromDisk), len(pbs))
	}
	for i := range pbs {
		if fromDisk[i].SHA256 != pbs[i].SHA256 || fromDisk[i].File != filepath.Join("library", pbs[i].Name+".yaml") {
			t.Errorf("LoadPaths(library)[%d] = %s %s, want %s", i, fromDisk[i].File, fromDisk[i].SHA256, pbs[i].SHA256)
		}
	}
}

// The parsed model of ssh-brute-force, as the interpreter sees it.
func TestParsedModel(t *testing.T) {
	pbs, err := LoadLibrary()
	if err != nil {
		t.Fatal(err)
	}
	var pb *Playbook
	for _, p := range pbs {
		if p.Name == "ssh-brute-force" {
			pb = p
		}
	}
	if pb == nil {
		t.Fatal("ssh-brute-force not in the library")
	}
	var ids []string
	byID := map[string]Step{}
	for _, s := range pb.Steps() {
		ids = append(ids, s.ID+":"+s.Kind)
		byID[s.ID] = s
	}
	wantIDs := []string{"source:set", "enrich:action", "approve_block:approval", "block:action", "ticket:action",
		"wait_resolved:wait", "unblock:action", "ticket_note:action", "notify_done:notify"}
	if !reflect.DeepEqual(ids, wantIDs) {
		t.Errorf("steps %v, want %v", ids, wantIDs)
	}
	if want := []Input{{Name: "block_ttl", Description: "how long the source address stays blocked", Default: "24h"}}; !reflect.DeepEqual(pb.Inputs, want) {
		t.Errorf("inputs %+v", pb.Inputs)
	}
	if got, want := byID["approve_block"].Approval, (&Approval{
		Approvers: []string{"responder"}, Prompt: "Block ${{ vars.src_ip }} for ${{ vars.block_ttl }}? (${{ alert.title }})",
		Timeout: Duration(30 * 60e9), OnTimeout: "escalate", EscalateTo: []string{"admin"}, EscalationTimeout: Duration(3600e9), Required: 1,
	}); !reflect.DeepEqual(got, want) {
		t.Errorf("approval %+v\nwant %+v", got, want)
	}
	block := byID["block"]
	if want := (&ActionCall{Name: "firewall.block_ip", Args: map[string]any{
		"ip": "${{ vars.src_ip }}", "ttl": "${{ vars.block_ttl }}", "reason": "ssh brute force: ${{ alert.title }}",
	}}); !reflect.DeepEqual(block.Action, want) {
		t.Errorf("action %+v", block.Action)
	}
	if want := (&ActionCall{Name: "firewall.unblock_ip", Args: map[string]any{"ip": "${{ vars.src_ip }}"}}); !reflect.DeepEqual(block.Undo, want) {
		t.Errorf("undo %+v", block.Undo)
	}
	if want := (&Retry{MaxAttempts: 5, InitialInterval: Duration(5e9), MaxInterval: Duration(60e9)}); !reflect.DeepEqual(block.Retry, want) {
		t.Errorf("retry %+v", block.Retry)
	}
	if block.If != `steps.approve_block.status == "approved"` || block.OnError != OnErrorCompensate {
		t.Errorf("if %q on_error %q", block.If, block.OnError)
	}
	// on_error is left empty when not written: the interpreter decides.
	if s := byID["approve_block"]; s.OnError != "" {
		t.Errorf("approve_block on_error %q, want empty", s.OnError)
	}
	if want := (&Wait{Duration: Duration(24 * 3600e9), Until: WaitAlertResolved}); !reflect.DeepEqual(byID["wait_resolved"].Wait, want) {
		t.Errorf("wait %+v", byID["wait_resolved"].Wait)
	}
	if got := byID["source"].Set["src_ip"]; !strings.HasPrefix(got, `alert.observables.exists(o, o.type == "ip") ?`) {
		t.Errorf("set src_ip %q", got)
	}
}

// Small playbooks written inline: what parses, into what, and what does not.
func TestParseInline(t *testing.T) {
	const head = "name: inline\nversion: \"1.0.0\"\n"
	tests := []struct {
		name  string
		yaml  string
		check func(t *testing.T, pb *Playbook)
		want  []string
	}{
		{
			name: "approval defaults",
			yaml: head + "contain:\n  - id: ok\n    approval: {approvers: [responder], timeout: 10m}\n",
			check: func(t *testing.T, pb *Playbook) {
				a := pb.Phases[PhaseContain][0].Approval
				if a.Required != 1 || a.OnTimeout != "deny" {
					t.Errorf("required %d on_timeout %q", a.Required, a.OnTimeout)
				}
			},
		},
		{
			name: "literal argument values",
			yaml: head + "analyse:\n  - id: clocks\n    action: compliance.start_clocks\n    args:\n" +
				"      regimes: [gdpr, nis2]\n      events: {aware: \"2026-01-02T03:04:05Z\", count: 3, ratio: 0.5, final: true, none: null}\n",
			check: func(t *testing.T, pb *Playbook) {
				want := map[string]any{
					"regimes": []any{"gdpr", "nis2"},
					"events":  map[string]any{"aware": "2026-01-02T03:04:05Z", "count": int64(3), "ratio": 0.5, "final": true, "none": nil},
				}
				if got := pb.Phases[PhaseAnalyse][0].Action.Args; !reflect.DeepEqual(got, want) {
					t.Errorf("args %#v", got)
				}
			},
		},
		{
			name: "a bool or number is an expression",
			yaml: head + "detect:\n  - id: off\n    if: false\n    set: {n: 3, ok: true}\n",
			check: func(t *testing.T, pb *Playbook) {
				s := pb.Phases[PhaseDetect][0]
				if s.If != "false" || s.Set["n"] != "3" || s.Set["ok"] != "true" {
					t.Errorf("if %q set %v", s.If, s.Set)
				}
			},
		},
		{
			name: "later phases see earlier ones whatever the order in the file",
			yaml: head + "restore:\n  - id: late\n    if: steps.early.status == \"succeeded\"\n    notify: {message: x}\n" +
				"detect:\n  - id: early\n    notify: {message: \"${{ steps.late.status }}\"}\n",
			want: []string{`inline.yaml:9:28: steps.late refers to a step that comes later`},
		},
		{
			name: "steps after a parallel block see its branches",
			yaml: head + "contain:\n  - id: p\n    parallel:\n      - id: a\n        notify: {message: x}\n      - id: b\n        parallel:\n" +
				"          - id: c\n            if: steps.a.status == \"succeeded\"\n            notify: {message: x}\n" +
				"  - id: after\n    if: steps.a.status == steps.c.status && steps.p.status == \"succeeded\"\n    notify: {message: x}\n",
			want: []string{`inline.yaml:11:17: steps.a refers to a step in the same parallel block`},
		},
		{
			name: "a parallel step's if cannot see its branches",
			yaml: head + "contain:\n  - id: p\n    if: steps.a.status == \"succeeded\"\n    parallel:\n      - id: a\n        notify: {message: x}\n",
			want: []string{`inline.yaml:5:9: steps.a refers to a step inside it`},
		},
		{
			name: "undo arguments may use the step's own output",
			yaml: head + "analyse:\n  - id: t\n    action: ticket.create\n    args: {title: x}\n    undo:\n      action: ticket.resolve\n      args: {ticket: \"${{ steps.t.output.id }}\"}\n",
		},
		{
			name: "set variables are visible to later steps only",
			yaml: head + "detect:\n  - id: a\n    set: {x: '1', y: vars.x + 1}\n  - id: b\n    set: {z: vars.x + 1}\n",
			want: []string{`inline.yaml:5:22: vars.x is not an input and no earlier step sets it`},
		},
		{
			name: "index, optional and in forms are references too",
			yaml: head + "detect:\n  - id: a\n    if: 'steps[\"nope\"].status == \"x\" || \"gone\" in steps || steps.?other.hasValue()'\n    notify: {message: x}\n",
			want: []string{
				`inline.yaml:5:10: steps.nope refers to a step that does not exist`,
				`inline.yaml:5:51: steps.gone refers to a step that does not exist`,
				`inline.yaml:5:60: steps.other refers to a step that does not exist`,
			},
		},
		{
			name: "two documents",
			yaml: head + "detect:\n  - id: a\n    notify: {message: x}\n---\nname: other\n",
			want: []string{`inline.yaml:6:1: more than one YAML document: one playbook per file`},
		},
		{
			name: "template with only text around a list argument",
			yaml: head + "analyse:\n  - id: clocks\n    action: compliance.start_clocks\n    args: {regimes: \"gdpr ${{ vars.x }}\"}\n",
			want: []string{
				`inline.yaml:6:21: action compliance.start_clocks: argument "regimes": expected a list, got text with a template (only a whole ${{ expr }} can give a list)`,
			},
		},
		{
			name: "wrong kinds of values",
			yaml: head + "inputs: {a: b}\ndetect:\n  - id: a\n    if: [x]\n    timeout: 30\n    approval: [x]\n    set: yes\n",
			want: []string{
				`inline.yaml:3:9: inputs: expected a list, got a mapping`,
				`inline.yaml:6:9: if: expected a CEL expression, got a list`,
				`inline.yaml:7:14: timeout: invalid duration "30" (use a number with a unit, e.g. 30s, 5m, 24h)`,
				`inline.yaml:8:15: approval: expected a mapping, got a list`,
				`inline.yaml:9:5: step "a" has more than one kind: approval and set`,
				`inline.yaml:9:10: set: expected a mapping of variable: expression, got a string`,
			},
		},
		{
			name: "inputs",
			yaml: head + "inputs:\n  - name: ttl\n    default: 1h\n  - name: ttl\n  - description: no name\n  - name: Bad\n    typo: 1\n" +
				"detect:\n  - id: a\n    notify: {message: \"${{ vars.ttl }}\"}\n",
			want: []string{
				`inline.yaml:6:11: duplicate input "ttl" (first at line 4)`,
				`inline.yaml:7:5: input has no name`,
				`inline.yaml:8:11: invalid input name "Bad": use lowercase letters, digits and underscores, starting with a letter (at most 63)`,
				`inline.yaml:9:5: unknown key "typo" in input "Bad"`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pb, err := Parse("inline.yaml", []byte(tc.yaml))
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if tc.check != nil {
				tc.check(t, pb)
			}
		})
	}
}

func TestLoadPaths(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const ok = "version: \"1.0.0\"\ndetect:\n  - id: a\n    notify: {message: x}\n"
	write("pbs/b.yml", "name: b\n"+ok)
	write("pbs/a.yaml", "name: a\n"+ok)
	write("pbs/notes.txt", "not a playbook")
	write("pbs/sub/c.yaml", "name: c\n"+ok)
	dup := write("dup.yaml", "name: a\n"+ok)
	bad := write("bad.yaml", "name: bad\nversion: \"1.0.0\"\ndetect:\n  - id: a\n    notify: {mesage: x}\n")
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}

	pbs, err := LoadPaths(filepath.Join(dir, "pbs"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pbs) != 2 || pbs[0].Name != "a" || pbs[1].Name != "b" {
		t.Fatalf("got %d playbooks, want a and b in order", len(pbs))
	}

	pbs, err = LoadPaths(filepath.Join(dir, "pbs"), bad, dup, filepath.Join(dir, "missing.yaml"), empty)
	if len(pbs) != 2 {
		t.Errorf("got %d valid playbooks, want 2", len(pbs))
	}
	probs := Problems(err)
	var lines []string
	for _, e := range probs {
		lines = append(lines, e.Error())
	}
	want := []string{
		bad + `:5:5: notify has no message`,
		bad + `:5:14: unknown key "mesage" in notify of step "a"`,
		dup + `:1:7: duplicate playbook name "a" (also in ` + filepath.Join(dir, "pbs", "a.yaml") + `)`,
		"stat " + filepath.Join(dir, "missing.yaml") + ": no such file or directory",
		empty + ": no playbooks (*.yaml, *.yml) in the directory",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	var pe *os.PathError
	if !errors.As(probs[3], &pe) {
		t.Errorf("missing file: %T, want *fs.PathError", probs[3])
	}
}
