package config

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
)

// redacted is what a set Secret prints instead of its value.
const redacted = "<secret>"

// Secret is a string that never prints its value: fmt (every verb),
// encoding/json, YAML, text encoders, slog and zap all see "<secret>". An
// empty Secret prints as "" so that "not set" stays visible. Use Reveal where
// the real value is needed.
type Secret string

// Reveal returns the real value. Call it only where the value is handed to
// the thing it authenticates to, never for output.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s != "" }

// String returns "<secret>", or "" when the secret is empty.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v redacted.
func (s Secret) GoString() string { return s.String() }

// Format makes every fmt verb (including %x, %q and %#v, which would otherwise
// bypass String) print the redacted form. Width and the '-' flag are honoured.
func (s Secret) Format(f fmt.State, verb rune) {
	out := s.String()
	if verb == 'q' {
		out = strconv.Quote(out)
	}
	if w, ok := f.Width(); ok {
		if f.Flag('-') {
			fmt.Fprintf(f, "%-*s", w, out)
		} else {
			fmt.Fprintf(f, "%*s", w, out)
		}
		return
	}
	_, _ = io.WriteString(f, out)
}

// MarshalJSON encodes the redacted form, so dumping a Config (or logging it
// with zap.Any, which uses encoding/json for structs) is safe.
func (s Secret) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(s.String())), nil
}

// MarshalYAML encodes the redacted form.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalText encodes the redacted form (encoding/xml, map keys, slog text).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue keeps slog output redacted whatever the handler.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
