package alerts_test

import (
	"slices"
	"testing"

	"github.com/riposte-soar/riposte/alerts"
	"github.com/riposte-soar/riposte/config"
)

// config validates format names without importing alerts; the two lists
// must agree.
func TestConfigKnowsEveryFormat(t *testing.T) {
	got, want := slices.Sorted(slices.Values(config.Formats)), alerts.Formats()
	if !slices.Equal(got, want) {
		t.Fatalf("config.Formats = %v, alerts.Formats() = %v", got, want)
	}
	for _, f := range alerts.BuiltinFormats() {
		if _, err := alerts.NewNormalizer(f, f, nil); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := alerts.NewNormalizer("generic", "x", nil); err == nil {
		t.Error("generic without a mapping accepted")
	}
	if _, err := alerts.NewNormalizer("splunkk", "x", nil); err == nil {
		t.Error("unknown format accepted")
	}
}
