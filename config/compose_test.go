package config

import (
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// docker-compose.yml configures Riposte only through RIPOSTE_* variables;
// each must map to a real key, or the container would refuse to start.
func TestComposeUsesOnlyRealKeys(t *testing.T) {
	b, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Environment yaml.Node `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	known := map[string]bool{}
	for _, k := range KeyPaths() {
		known[EnvVar(k)] = true
	}
	seen := 0
	for name, svc := range compose.Services {
		var vars []string
		switch svc.Environment.Kind {
		case yaml.MappingNode:
			for i := 0; i < len(svc.Environment.Content); i += 2 {
				vars = append(vars, svc.Environment.Content[i].Value)
			}
		case yaml.SequenceNode:
			for _, n := range svc.Environment.Content {
				vars = append(vars, strings.SplitN(n.Value, "=", 2)[0])
			}
		}
		for _, v := range vars {
			if !strings.HasPrefix(v, "RIPOSTE_") {
				continue
			}
			seen++
			if !known[v] {
				t.Errorf("service %s sets %s, which maps to no config key", name, v)
			}
		}
	}
	if seen == 0 {
		t.Fatal("docker-compose.yml sets no RIPOSTE_* variable; the check would prove nothing")
	}
}
