package config

import (
	"os"
	"reflect"
	"slices"
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
	if len(cfg.Auth.Tokens) == 0 {
		cfg.Auth.Tokens = nil // "tokens: []" documents the default, nil
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
