package config

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"gopkg.in/yaml.v3"
)

func TestSecretFormatting(t *testing.T) {
	t.Parallel()
	s := Secret("hunter2")
	tests := []struct {
		format string
		want   string
	}{
		{"%v", "<secret>"},
		{"%s", "<secret>"},
		{"%q", `"<secret>"`},
		{"%x", "<secret>"},
		{"%X", "<secret>"},
		{"%#v", "<secret>"},
		{"%+v", "<secret>"},
		{"%d", "<secret>"},
		{"%10s|", "  <secret>|"},
		{"%-10s|", "<secret>  |"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			t.Parallel()
			if got := fmt.Sprintf(tt.format, s); got != tt.want {
				t.Errorf("Sprintf(%q) = %q, want %q", tt.format, got, tt.want)
			}
		})
	}
	if got := fmt.Sprint(s); got != "<secret>" {
		t.Errorf("Sprint = %q", got)
	}
	if got := s.Reveal(); got != "hunter2" {
		t.Errorf("Reveal = %q", got)
	}
	if !s.IsSet() || Secret("").IsSet() {
		t.Error("IsSet is wrong")
	}
	var empty Secret
	if got := fmt.Sprintf("%v|%s|%q", empty, empty, empty); got != `||""` {
		t.Errorf("empty secret prints %q", got)
	}
}

// TestSecretsNeverPrint sets every secret in a Config to a distinctive value
// and pushes the Config through everything that might print it.
func TestSecretsNeverPrint(t *testing.T) {
	t.Parallel()
	const value = "sk-zebra-7Q4x-distinctive"
	c := Default()
	c.Temporal.APIKey = value
	c.Slack.BotToken, c.Slack.SigningSecret, c.Slack.AppToken = value, value, value

	outputs := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		outputs["fmt "+verb] = fmt.Sprintf(verb, c)
		outputs["fmt pointer "+verb] = fmt.Sprintf(verb, &c)
		outputs["fmt field "+verb] = fmt.Sprintf(verb, c.Temporal)
	}
	outputs["fmt Println"] = fmt.Sprintln(c, c.Temporal.APIKey)

	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs["json"] = string(js)
	ys, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs["yaml"] = string(ys)
	// encoding/xml cannot encode maps (slack.users); the sections that hold
	// secrets are encoded one by one.
	type xmlSecrets struct {
		XMLName                           xml.Name `xml:"secrets"`
		Temporal                          TemporalConfig
		BotToken, SigningSecret, AppToken Secret
	}
	xs, err := xml.Marshal(xmlSecrets{Temporal: c.Temporal, BotToken: c.Slack.BotToken, SigningSecret: c.Slack.SigningSecret, AppToken: c.Slack.AppToken})
	if err != nil {
		t.Fatal(err)
	}
	outputs["xml"] = string(xs)

	// zap, as the services log: a JSON core over a buffer, and the observer.
	var buf bytes.Buffer
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	logger := zap.New(zapcore.NewCore(enc, zapcore.AddSync(&buf), zapcore.DebugLevel))
	logger.Info("config", zap.Any("config", c), zap.Any("ptr", &c), zap.Any("key", c.Temporal.APIKey),
		zap.Stringer("stringer", c.Temporal.APIKey), zap.Reflect("reflect", c))
	_ = logger.Sync()
	outputs["zap json"] = buf.String()

	obsCore, logs := observer.New(zapcore.DebugLevel)
	zap.New(obsCore).Info("config", zap.Any("config", c), zap.Any("key", c.Temporal.APIKey))
	for _, e := range logs.All() {
		outputs["zap observer"] += fmt.Sprint(e.ContextMap())
	}

	var sb strings.Builder
	slog.New(slog.NewTextHandler(&sb, nil)).Info("config", "config", c, "key", c.Temporal.APIKey)
	slog.New(slog.NewJSONHandler(&sb, nil)).Info("config", "config", c, "key", c.Temporal.APIKey)
	outputs["slog"] = sb.String()

	for name, out := range outputs {
		if strings.Contains(out, value) || strings.Contains(out, "zebra") {
			t.Errorf("%s prints the secret: %s", name, out)
		}
		// encoding/json and encoding/xml escape the angle brackets.
		if !strings.Contains(out, "<secret>") && !strings.Contains(out, `\u003csecret\u003e`) && !strings.Contains(out, "&lt;secret&gt;") {
			t.Errorf("%s does not show <secret>: %s", name, out)
		}
	}
	if c.Temporal.APIKey.Reveal() != value {
		t.Error("Reveal lost the value")
	}
}

func TestSecretMarshalers(t *testing.T) {
	t.Parallel()
	s := Secret("hunter2")
	if b, _ := s.MarshalJSON(); string(b) != `"<secret>"` {
		t.Errorf("MarshalJSON = %s", b)
	}
	var back string
	if b, _ := json.Marshal(s); json.Unmarshal(b, &back) != nil || back != "<secret>" {
		t.Errorf("json round trip = %q", back)
	}
	if b, _ := s.MarshalText(); string(b) != "<secret>" {
		t.Errorf("text = %s", b)
	}
	if b, _ := yaml.Marshal(map[string]Secret{"k": s}); string(b) != "k: <secret>\n" {
		t.Errorf("yaml = %q", b)
	}
	if b, _ := json.Marshal(Secret("")); string(b) != `""` {
		t.Errorf("empty json = %s", b)
	}
}
