package playbooks

import (
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"
)

// testEnv has the shape the incident workflow passes in (JSON numbers from
// history arrive as float64).
func testEnv() map[string]any {
	return map[string]any{
		"alert": map[string]any{
			"source": "wazuh", "id": "a1", "title": "sshd: brute force", "severity": "high", "status": "firing",
			"observed_at": "2026-03-01T10:00:00Z",
			"labels":      map[string]any{"host": "web-1", "env": "prod", "agent": "007"},
			"observables": []any{
				map[string]any{"type": "ip", "value": "192.0.2.1"},
				map[string]any{"type": "hostname", "value": "web-1"},
				map[string]any{"type": "ip", "value": "198.51.100.7"},
			},
		},
		"incident": map[string]any{
			"id": "inc-1", "title": "sshd: brute force", "severity": "high", "status": "open", "phase": "contain",
			"alert_count": int64(3), "observables": []any{}, "created_at": "2026-03-01T10:00:05Z",
		},
		"steps": map[string]any{
			"approve": map[string]any{"status": "approved", "output": map[string]any{"approved": true, "decisions": float64(2)}},
			"enrich":  map[string]any{"status": "succeeded", "output": map[string]any{"risk": float64(75), "tags": []any{"scanner", "tor"}}},
			"skipped": map[string]any{"status": "skipped", "output": nil},
		},
		"vars": map[string]any{"src_ip": "192.0.2.1", "block_ttl": "24h", "n": int64(2)},
	}
}

func TestEvalBool(t *testing.T) {
	tests := []struct {
		expr    string
		want    bool
		wantErr string
	}{
		{expr: `alert.severity == "high"`, want: true},
		{expr: `steps.approve.status == "approved"`, want: true},
		{expr: `steps.skipped.status == "succeeded"`, want: false},
		{expr: `has(steps.enrich.output.score)`, want: false},
		{expr: `"risk" in steps.enrich.output`, want: true},
		// Cross-type numeric comparison: the risk is a double from JSON.
		{expr: `steps.enrich.output.risk > 50`, want: true},
		{expr: `steps.approve.output.decisions == 2`, want: true},
		{expr: `incident.alert_count >= 3 && vars.n < 2.5`, want: true},
		{expr: `alert.observables.exists(o, o.type == "ip" && o.value.startsWith("198."))`, want: true},
		{expr: `steps.enrich.output.?score.orValue(0) == 0`, want: true},
		{expr: `"tor" in steps.enrich.output.tags`, want: true},
		{expr: `alert.labels.env == "prod"`, want: true},
		{expr: `steps.enrich.output.score > 1`, wantErr: "no such key: score"},
		{expr: `alert.title`, wantErr: `expression "alert.title" gives string, not a bool`},
		{expr: `alert.title +`, wantErr: `expression "alert.title +": syntax error`},
		{expr: `now() > timestamp("2020-01-01T00:00:00Z")`, wantErr: "undeclared reference to 'now'"},
	}
	env := testEnv()
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			got, err := EvalBool(tc.expr, env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEvalValue(t *testing.T) {
	tests := []struct {
		expr string
		want any
	}{
		{`alert.observables.filter(o, o.type == "ip").map(o, o.value)`, []any{"192.0.2.1", "198.51.100.7"}},
		{`alert.observables.exists(o, o.type == "user") ? "x" : ""`, ""},
		{`size(alert.observables)`, int64(3)},
		{`steps.enrich.output.risk / 2.0`, 37.5},
		{`{"ip": vars.src_ip, "n": 1, "ok": true, "none": null}`, map[string]any{"ip": "192.0.2.1", "n": int64(1), "ok": true, "none": nil}},
		{`timestamp(alert.observed_at) + duration("72h")`, "2026-03-04T10:00:00Z"},
		{`duration(vars.block_ttl)`, "24h0m0s"},
		{`steps.enrich.output.?score`, nil},
		{`steps.skipped.output`, nil},
		{`alert.title.upperAscii().split(":")[0]`, "SSHD"},
		{`cel.bind(ips, alert.observables.filter(o, o.type == "ip"), size(ips))`, int64(2)},
		{`b"raw"`, "raw"},
		{`1u`, int64(1)},
		// Maps iterate in sorted key order, on every run.
		{`alert.labels.map(k, k)`, []any{"agent", "env", "host"}},
		{`alert.labels.filter(k, alert.labels[k] != "prod")`, []any{"agent", "host"}},
	}
	env := testEnv()
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			for range 20 {
				got, err := EvalValue(tc.expr, env)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("got %#v, want %#v", got, tc.want)
				}
			}
		})
	}
}

// Values that are not plain maps and lists still work: structs go through
// encoding/json, typed maps iterate in order.
func TestEvalValueGoValues(t *testing.T) {
	type obs struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	}
	type alert struct {
		Title       string            `json:"title"`
		ObservedAt  time.Time         `json:"observed_at"`
		Count       int               `json:"count"`
		Labels      map[string]string `json:"labels"`
		Observables []obs             `json:"observables"`
	}
	env := map[string]any{
		"alert": alert{
			Title: "x", ObservedAt: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), Count: 2,
			Labels:      map[string]string{"b": "2", "a": "1", "c": "3"},
			Observables: []obs{{"ip", "192.0.2.1"}},
		},
		"vars": map[string]any{"tags": map[string]string{"z": "1", "y": "2"}, "ports": []int{22, 443}},
	}
	tests := []struct {
		expr string
		want any
	}{
		{`alert.title + " " + alert.observed_at`, "x 2026-03-01T10:00:00Z"},
		{`alert.count + 1`, int64(3)},
		{`alert.labels.map(k, k + "=" + alert.labels[k])`, []any{"a=1", "b=2", "c=3"}},
		{`alert.observables[0].value`, "192.0.2.1"},
		{`vars.tags.map(k, k)`, []any{"y", "z"}},
		{`vars.ports.map(p, p * 2)`, []any{int64(44), int64(886)}},
	}
	for _, tc := range tests {
		got, err := EvalValue(tc.expr, env)
		if err != nil {
			t.Errorf("%s: %v", tc.expr, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %#v, want %#v", tc.expr, got, tc.want)
		}
	}
	// A missing variable reads as an empty map.
	if got, err := EvalBool(`has(vars.x) || size(steps) == 0`, nil); err != nil || !got {
		t.Errorf("empty env: %v, %v", got, err)
	}
}

func TestEvalCostLimit(t *testing.T) {
	env := map[string]any{"vars": map[string]any{"l": anyRange(300)}}
	_, err := EvalValue(`vars.l.map(a, vars.l.map(b, vars.l.map(c, a + b + c)))`, env)
	if err == nil || !strings.Contains(err.Error(), "cost limit") {
		t.Fatalf("error %v, want the cost limit", err)
	}
}

func anyRange(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = int64(i)
	}
	return out
}

func TestRender(t *testing.T) {
	env := testEnv()
	tests := []struct {
		name    string
		in      any
		want    any
		wantErr string
	}{
		{name: "no template", in: "plain text", want: "plain text"},
		{name: "whole template keeps the type", in: "${{ alert.observables.map(o, o.value) }}", want: []any{"192.0.2.1", "web-1", "198.51.100.7"}},
		{name: "whole template number", in: "${{incident.alert_count}}", want: int64(3)},
		{name: "text around", in: "block ${{ vars.src_ip }} for ${{ vars.block_ttl }}", want: "block 192.0.2.1 for 24h"},
		{name: "space makes it text", in: " ${{ incident.alert_count }}", want: " 3"},
		{name: "values as text", in: "${{ steps.enrich.output.risk }}/${{ 0.5 }}/${{ true }}/${{ null }}/${{ steps.enrich.output.tags }}/${{ {'a': 1} }}",
			want: `75/0.5/true//["scanner","tor"]/{"a":1}`},
		{name: "two templates back to back", in: "${{ vars.n }}${{ vars.n }}", want: "22"},
		{name: "non-strings unchanged", in: map[string]any{"n": int64(1), "b": true, "nil": nil}, want: map[string]any{"n": int64(1), "b": true, "nil": nil}},
		{
			name: "nested",
			in:   map[string]any{"ip": "${{ vars.src_ip }}", "events": map[string]any{"aware": "${{ incident.created_at }}"}, "list": []any{"${{ vars.n }}", "x"}},
			want: map[string]any{"ip": "192.0.2.1", "events": map[string]any{"aware": "2026-03-01T10:00:05Z"}, "list": []any{int64(2), "x"}},
		},
		{name: "error names the key", in: map[string]any{"a": map[string]any{"b": []any{"ok", "${{ vars.nope }}"}}}, wantErr: `a: b: [1]: expression "vars.nope": no such key: nope`},
		{name: "unterminated", in: "x ${{ vars.n", wantErr: "unterminated ${{"},
		{name: "empty", in: "x ${{ }}", wantErr: "empty ${{ }}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Render(tc.in, env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

// Every expression and template in the shipped playbooks evaluates against
// a realistic environment (the conditions give bools, the templates render).
func TestLibraryExpressionsEvaluate(t *testing.T) {
	pbs, err := LoadLibrary()
	if err != nil {
		t.Fatal(err)
	}
	sparse := testEnv()["alert"].(map[string]any)["observables"].([]any)
	rich := []any{
		map[string]any{"type": "email", "value": "Billing@Evil.example"},
		map[string]any{"type": "url", "value": "https://evil.example/login"},
		map[string]any{"type": "url", "value": "https://evil.example/pay"},
		map[string]any{"type": "domain", "value": "evil.example"},
		map[string]any{"type": "ip", "value": "203.0.113.9"},
		map[string]any{"type": "hostname", "value": "laptop-7"},
		map[string]any{"type": "hash_sha256", "value": strings.Repeat("ab", 32)},
	}
	type run struct {
		vars     map[string]any
		rendered map[string]any
		statuses map[string]string
	}
	runs := map[string]run{}
	for name, obs := range map[string][]any{"sparse": sparse, "rich": rich, "none": {}} {
		for _, pb := range pbs {
			vars, rendered, statuses := runLibraryExpressions(t, pb, obs)
			runs[name+"/"+pb.Name] = run{vars, rendered, statuses}
		}
	}
	checks := []struct {
		run, what string
		got       func(r run) any
		want      any
	}{
		{"rich/ssh-brute-force", "src_ip", func(r run) any { return r.vars["src_ip"] }, "203.0.113.9"},
		{"none/ssh-brute-force", "block skipped", func(r run) any { return r.statuses["block"] }, "skipped"},
		{"sparse/ssh-brute-force", "block reason", func(r run) any { return r.rendered["block"].(map[string]any)["reason"] }, "ssh brute force: sshd: brute force"},
		{"rich/phishing", "sender_domain", func(r run) any { return r.vars["sender_domain"] }, "evil.example"},
		{"rich/phishing", "urls", func(r run) any { return r.vars["urls"] }, []any{"https://evil.example/login", "https://evil.example/pay"}},
		{"rich/phishing", "third URL skipped", func(r run) any { return r.statuses["block_url_3"] }, "skipped"},
		{"rich/phishing", "notify", func(r run) any { return r.rendered["notify_blocked"] },
			"Phishing (sshd: brute force): sender domain evil.example succeeded; 2 URLs found, 2 blocked."},
		{"sparse/phishing", "sender_domain", func(r run) any { return r.vars["sender_domain"] }, ""},
		{"rich/malware-on-host", "c2_ips", func(r run) any { return r.vars["c2_ips"] }, []any{"203.0.113.9"}},
		{"rich/malware-on-host", "host", func(r run) any { return r.vars["host"] }, "laptop-7"},
		{"none/malware-on-host", "approval skipped", func(r run) any { return r.statuses["approve_containment"] }, "skipped"},
		{"rich/generic-triage", "hash", func(r run) any { return r.vars["hash"] }, strings.Repeat("ab", 32)},
		{"rich/personal-data-breach", "clocks", func(r run) any { return r.rendered["start_clocks"] },
			map[string]any{"regimes": []any{"gdpr", "nis2"}, "events": map[string]any{"aware": "2026-03-01T10:00:05Z"}}},
	}
	for _, c := range checks {
		r, ok := runs[c.run]
		if !ok {
			t.Fatalf("no run %s", c.run)
		}
		if got := c.got(r); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %s = %#v, want %#v", c.run, c.what, got, c.want)
		}
	}
}

// runLibraryExpressions runs a playbook's expressions the way the
// interpreter does, every step succeeding (approvals approved), and returns
// the variables, each step's rendered arguments or message, and each step's
// status.
func runLibraryExpressions(t *testing.T, pb *Playbook, obs []any) (map[string]any, map[string]any, map[string]string) {
	t.Helper()
	env := testEnv()
	env["alert"].(map[string]any)["observables"] = obs
	env["incident"].(map[string]any)["observables"] = obs
	vars := map[string]any{}
	env["vars"] = vars
	for _, in := range pb.Inputs {
		vars[in.Name] = in.Default
	}
	steps := map[string]any{}
	env["steps"] = steps
	rendered := map[string]any{}
	statuses := map[string]string{}
	for _, s := range pb.Steps() {
		where := pb.Name + "/" + s.ID
		status := "succeeded"
		if s.Kind == KindApproval {
			status = "approved"
		}
		if s.If != "" {
			ok, err := EvalBool(s.If, env)
			if err != nil {
				t.Errorf("%s: if: %v", where, err)
			}
			if !ok {
				status = "skipped"
			}
		}
		if status != "skipped" {
			set := map[string]any{}
			for k, expr := range s.Set {
				v, err := EvalValue(expr, env)
				if err != nil {
					t.Errorf("%s: set %s: %v", where, k, err)
				}
				set[k] = v
			}
			render := func(v any) any {
				out, err := Render(v, env)
				if err != nil {
					t.Errorf("%s: render: %v", where, err)
				}
				return out
			}
			switch {
			case s.Action != nil:
				rendered[s.ID] = render(s.Action.Args)
			case s.Approval != nil:
				rendered[s.ID] = render(s.Approval.Prompt)
			case s.Notify != nil:
				rendered[s.ID] = render(s.Notify.Message)
				render(s.Notify.Channel)
			}
			if s.Undo != nil {
				render(s.Undo.Args)
			}
			maps.Copy(vars, set)
		}
		statuses[s.ID] = status
		steps[s.ID] = map[string]any{"status": status, "output": map[string]any{"id": "T-1"}}
	}
	return vars, rendered, statuses
}
