package config

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const exampleFile = "riposte.example.yaml"

// TestExampleLoads: the documented example is a valid configuration whose
// values are exactly the defaults.
func TestExampleLoads(t *testing.T) {
	t.Parallel()
	cfg, err := Load(LoadOptions{File: exampleFile, FileRequired: true})
	if err != nil {
		t.Fatalf("Load(%s): %v", exampleFile, err)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	// "tokens: []" and the like document the default, nil.
	if len(cfg.Auth.Tokens) == 0 {
		cfg.Auth.Tokens = nil
	}
	if len(cfg.Ingest.Sources) == 0 {
		cfg.Ingest.Sources = nil
	}
	if len(cfg.Ingest.Routes) == 0 {
		cfg.Ingest.Routes = nil
	}
	if len(cfg.Playbooks.Paths) == 0 {
		cfg.Playbooks.Paths = nil
	}
	if len(cfg.Compliance.Enable) == 0 {
		cfg.Compliance.Enable = nil
	}
	if len(cfg.Compliance.PolicyTargets) == 0 {
		cfg.Compliance.PolicyTargets = nil
	}
	if len(cfg.Slack.Users) == 0 {
		cfg.Slack.Users = nil
	}
	if len(cfg.Slack.Usergroups) == 0 {
		cfg.Slack.Usergroups = nil
	}
	if len(cfg.Firewall.Vendors) == 0 {
		cfg.Firewall.Vendors = nil
	}
	if len(cfg.ThreatIntel.Providers) == 0 {
		cfg.ThreatIntel.Providers = nil
	}
	if len(cfg.Webhooks) == 0 {
		cfg.Webhooks = nil
	}
	if want := Default(); !reflect.DeepEqual(*cfg, want) {
		t.Errorf("the example's values are not the defaults:\n got %+v\nwant %+v", *cfg, want)
	}
}

// TestExampleDocumentsEveryKey keeps the example from drifting: every key
// of Config appears in it, each with a comment.
func TestExampleDocumentsEveryKey(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	found := map[string]*yaml.Node{}
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			path := joinKey(prefix, k.Value)
			found[path] = k
			walk(v, path)
		}
	}
	walk(doc.Content[0], "")

	for _, key := range KeyPaths() {
		k, ok := found[key]
		if !ok {
			t.Errorf("%s: %s is not in the example", exampleFile, key)
			continue
		}
		if k.HeadComment == "" && k.LineComment == "" {
			t.Errorf("%s:%d: %s has no comment", exampleFile, k.Line, key)
		}
	}
	for path, k := range found {
		if !slices.Contains(KeyPaths(), path) && k.HeadComment == "" {
			t.Errorf("%s:%d: section %s has no comment", exampleFile, k.Line, path)
		}
	}
}

// TestExampleCommentedListsAreValid: the commented examples of the lists
// (auth.tokens, ingest.sources, ingest.routes), uncommented in place of
// their "key: []", load and validate, so that they cannot drift either.
func TestExampleCommentedListsAreValid(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	emptyList := regexp.MustCompile(`^( *)([a-z_]+): \[\]$`)
	lines := strings.Split(string(data), "\n")
	var out, replaced []string
	for i, line := range lines {
		m := emptyList.FindStringSubmatch(line)
		if m == nil {
			out = append(out, line)
			continue
		}
		indent, key := m[1], m[2]
		from := -1
		for j := i - 1; j >= 0 && strings.HasPrefix(lines[j], indent+"#"); j-- {
			if lines[j] == indent+"# "+key+":" {
				from = j
				break
			}
		}
		if from < 0 {
			out = append(out, line)
			continue
		}
		for _, l := range lines[from:i] {
			out = append(out, indent+strings.TrimPrefix(strings.TrimPrefix(l, indent+"#"), " "))
		}
		replaced = append(replaced, key)
	}
	if want := []string{"tokens", "sources", "routes"}; !slices.Equal(replaced, want) {
		t.Fatalf("uncommented examples of %q, want %q", replaced, want)
	}
	path := writeConfig(t, strings.Join(out, "\n"))
	cfg, err := Load(LoadOptions{File: path, FileRequired: true})
	if err != nil {
		t.Fatalf("Load (the uncommented examples): %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate (the uncommented examples): %v", err)
	}
	if len(cfg.Auth.Tokens) != 2 || len(cfg.Ingest.Sources) != 4 || len(cfg.Ingest.Routes) != 2 {
		t.Errorf("got %d tokens, %d sources and %d routes; want 2, 4 and 2",
			len(cfg.Auth.Tokens), len(cfg.Ingest.Sources), len(cfg.Ingest.Routes))
	}
}
