package config

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// valueError is a value of the wrong kind or form. shape marks an error about
// a mapping or list, which for the file the walk of the YAML reports itself.
type valueError struct {
	msg   string
	shape bool
}

func (e *valueError) Error() string { return e.msg }

var (
	durationType = reflect.TypeFor[time.Duration]()
	secretType   = reflect.TypeFor[Secret]()
)

// decodeHook converts the values that YAML and the environment give (the
// environment gives only strings) to the field types, strictly: mapstructure
// alone would turn 30 into 30ns and 1.5 into 1, and its messages name Go
// types.
func decodeHook(from, to reflect.Type, data any) (any, error) {
	if from == to {
		return data, nil
	}
	switch {
	case to == durationType:
		return toDuration(data)
	case to.Kind() == reflect.Struct:
		return toMapping(data, false)
	case to.Kind() == reflect.Map:
		return toMapping(data, true)
	case to.Kind() == reflect.Slice:
		return toList(data)
	case to.Kind() == reflect.String:
		return toString(data, to == secretType)
	case to.Kind() == reflect.Bool:
		return toBool(data)
	case to.Kind() >= reflect.Int && to.Kind() <= reflect.Int64:
		return toInt(data, to)
	}
	return data, nil
}

const durationHint = " (use a number with a unit, e.g. 30s, 5m, 2h)"

func toDuration(data any) (any, error) {
	var s string
	switch x := data.(type) {
	case string:
		s = x
	case time.Duration:
		return x, nil
	default:
		if !isNumber(data) {
			return nil, &valueError{msg: "expected a duration, got " + describe(data, false) + durationHint}
		}
		s = describe(data, false)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return nil, &valueError{msg: "invalid duration " + quote(s) + durationHint}
	}
	return d, nil
}

// toMapping accepts a mapping; for map fields it also accepts a JSON object
// in a string, which is how the environment sets them.
func toMapping(data any, jsonOK bool) (any, error) {
	switch x := data.(type) {
	case map[string]any:
		return x, nil
	case map[any]any:
		// YAML gives these when a key is not a string; mapstructure
		// panics on non-string keys when reporting unused ones.
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[fmt.Sprint(k)] = v
		}
		return m, nil
	case string:
		if jsonOK {
			v, err := fromJSON(x, "a mapping", "object", map[string]any{})
			if err != nil {
				return nil, err
			}
			return toMapping(v, false)
		}
	}
	return nil, &valueError{msg: "expected a mapping, got " + describe(data, false), shape: true}
}

// toList accepts a list, or a JSON array in a string (the environment's
// form, e.g. RIPOSTE_AUTH_TOKENS='[{"name":"ci",...}]').
func toList(data any) (any, error) {
	if s, ok := data.(string); ok {
		v, err := fromJSON(s, "a list", "array", []any{})
		if err != nil {
			return nil, err
		}
		data = v
	}
	if data != nil && reflect.TypeOf(data).Kind() == reflect.Slice {
		return data, nil
	}
	return nil, &valueError{msg: "expected a list, got " + describe(data, false), shape: true}
}

// fromJSON decodes a JSON value from the environment. The string is never
// repeated in a message: it may hold token hashes or secrets.
func fromJSON(s, want, jsonKind string, empty any) (any, error) {
	trimmed := strings.TrimSpace(s)
	if trimmed == "" {
		return empty, nil // set but empty: no entries
	}
	if trimmed[0] != '[' && trimmed[0] != '{' {
		return nil, &valueError{msg: fmt.Sprintf("expected %s, got a string (in the environment, write it as a JSON %s)", want, jsonKind), shape: true}
	}
	var v any
	if err := json.Unmarshal([]byte(trimmed), &v); err != nil {
		return nil, &valueError{msg: fmt.Sprintf("invalid JSON %s: %v", jsonKind, err), shape: true}
	}
	return v, nil
}

func toString(data any, secret bool) (any, error) {
	if s, ok := data.(string); ok {
		return s, nil
	}
	msg := "expected a string, got " + describe(data, secret)
	if isNumber(data) || isBool(data) {
		msg += " (put it in quotes)"
	}
	return nil, &valueError{msg: msg}
}

func toBool(data any) (any, error) {
	switch x := data.(type) {
	case bool:
		return x, nil
	case string:
		// The environment's form; strconv also accepts 1/0 and TRUE.
		if b, err := strconv.ParseBool(x); err == nil {
			return b, nil
		}
	}
	return nil, &valueError{msg: "expected true or false, got " + describe(data, false)}
}

func toInt(data any, to reflect.Type) (any, error) {
	bad := &valueError{msg: "expected an integer, got " + describe(data, false)}
	var n int64
	switch x := data.(type) {
	case int:
		n = int64(x)
	case int8:
		n = int64(x)
	case int16:
		n = int64(x)
	case int32:
		n = int64(x)
	case int64:
		n = x
	case uint, uint8, uint16, uint32, uint64, uintptr:
		u := reflect.ValueOf(x).Uint()
		if u > math.MaxInt64 {
			return nil, &valueError{msg: "integer out of range: " + describe(data, false)}
		}
		n = int64(u)
	case string:
		var err error
		if n, err = strconv.ParseInt(x, 10, 64); err != nil {
			return nil, bad
		}
	default:
		return nil, bad
	}
	if reflect.New(to).Elem().OverflowInt(n) {
		return nil, &valueError{msg: "integer out of range: " + describe(data, false)}
	}
	return n, nil
}

func isNumber(v any) bool {
	switch v.(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, uintptr, float32, float64:
		return true
	}
	return false
}

func isBool(v any) bool { _, ok := v.(bool); return ok }

// describe names a value for a message: strings quoted, numbers and booleans
// as written, collections by kind. With redact it names only the kind.
func describe(v any, redact bool) string {
	switch x := v.(type) {
	case nil:
		return "nothing"
	case string:
		if redact {
			return "a string"
		}
		return quote(x)
	case bool:
		if redact {
			return "a boolean"
		}
		return strconv.FormatBool(x)
	case float32:
		return describe(float64(x), redact)
	case float64:
		if redact {
			return "a number"
		}
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eIN") { // keep 5.0 from reading as 5
			s += ".0"
		}
		return s
	}
	switch reflect.TypeOf(v).Kind() {
	case reflect.Map:
		return "a mapping"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	if isNumber(v) {
		if redact {
			return "a number"
		}
		return fmt.Sprint(v)
	}
	if redact {
		return "a value"
	}
	return fmt.Sprintf("%v", v)
}

// maxQuoted caps how much of a bad value a message repeats.
const maxQuoted = 64

func quote(s string) string {
	if utf8.RuneCountInString(s) > maxQuoted {
		r := []rune(s)
		return strconv.Quote(string(r[:maxQuoted])) + "…"
	}
	return strconv.Quote(s)
}
