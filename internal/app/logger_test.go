package app

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"go.uber.org/zap"
)

func TestNewLogger(t *testing.T) {
	var buf bytes.Buffer
	l, err := NewLogger(&buf, "info", "json")
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("hidden")
	l.Info("shown", zap.String("incident_id", "inc-1"))
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("json format: %q: %v", buf.String(), err)
	}
	if line["msg"] != "shown" || line["incident_id"] != "inc-1" || line["level"] != "info" {
		t.Fatalf("line %v", line)
	}

	buf.Reset()
	l, err = NewLogger(&buf, "debug", "console")
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("visible")
	if !strings.Contains(buf.String(), "DEBUG") || !strings.Contains(buf.String(), "visible") {
		t.Fatalf("console: %q", buf.String())
	}

	if _, err := NewLogger(&buf, "loud", "json"); err == nil {
		t.Fatal("bad level accepted")
	}
	if _, err := NewLogger(&buf, "info", "xml"); err == nil {
		t.Fatal("bad format accepted")
	}
}
