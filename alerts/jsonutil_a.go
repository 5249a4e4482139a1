package alerts

// Small JSON helpers for the Alertmanager, Grafana, Elastic, Wazuh, Splunk
// and Sentinel normalisers. Every name starts with "a" so that it cannot
// clash with the helpers of the other normalisers in this package.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// aDecodeJSON parses one JSON value with json.Number numbers. Its error is
// phrased to follow "got ...": "an empty body", "invalid JSON at offset 12
// (line 1, column 13): ...".
func aDecodeJSON(body []byte) (any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errors.New("an empty body")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, aJSONError(body, err)
	}
	off := dec.InputOffset()
	if off < 0 || off > int64(len(body)) {
		off = int64(len(body))
	}
	rest := body[off:]
	if trimmed := bytes.TrimLeft(rest, " \t\r\n"); len(trimmed) > 0 {
		at := off + int64(len(rest)-len(trimmed))
		return nil, fmt.Errorf("invalid JSON at %s: unexpected data after the first JSON value", aPosition(body, at))
	}
	return v, nil
}

// aJSONError rewords a decoding error with its position in body.
func aJSONError(body []byte, err error) error {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		// Offset counts the offending byte; name the byte itself.
		off := syn.Offset
		if off > 0 && strings.HasPrefix(syn.Error(), "invalid character") {
			off--
		}
		return fmt.Errorf("invalid JSON at %s: %s", aPosition(body, off), syn.Error())
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("invalid JSON at %s: unexpected end of input", aPosition(body, int64(len(body))))
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

// aPosition names a 0-based byte offset with its 1-based line and column.
func aPosition(body []byte, off int64) string {
	if off < 0 {
		off = 0
	}
	if off > int64(len(body)) {
		off = int64(len(body))
	}
	line := 1 + bytes.Count(body[:off], []byte{'\n'})
	col := off - int64(bytes.LastIndexByte(body[:off], '\n'))
	return fmt.Sprintf("offset %d (line %d, column %d)", off, line, col)
}

// aDescribe names the kind of a decoded JSON value, to follow "got ...".
func aDescribe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("a JSON string (%q)", truncate(x, 40))
	case json.Number:
		return fmt.Sprintf("a JSON number (%s)", truncate(string(x), 40))
	case float64:
		return "a JSON number"
	case bool:
		return "a JSON boolean"
	case []any:
		if len(x) == 0 {
			return "an empty JSON array"
		}
		if len(x) == 1 {
			return "a JSON array of 1 element"
		}
		return fmt.Sprintf("a JSON array of %d elements", len(x))
	case map[string]any:
		if len(x) == 0 {
			return "an empty JSON object"
		}
		return "a JSON object with keys " + aKeyList(x, 6)
	}
	return fmt.Sprintf("a value of type %T", v)
}

// aKeyList lists up to n keys of m, sorted and quoted.
func aKeyList(m map[string]any, n int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i == n {
			fmt.Fprintf(&b, ", ... (%d in all)", len(keys))
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", truncate(k, 40))
	}
	return b.String()
}

// aGet looks up a dotted path in decoded JSON where each level may be
// nested ({"kibana":{"alert":{...}}}), dotted ({"kibana.alert.uuid":...})
// or any mix ({"kibana.alert":{"rule.name":...}}). A full dotted key wins
// over a nested one, longer prefixes over shorter ones; JSON null counts as
// absent.
func aGet(v any, path string) any {
	m, ok := v.(map[string]any)
	if !ok || path == "" {
		return nil
	}
	if x, ok := m[path]; ok && x != nil {
		return x
	}
	for i := strings.LastIndexByte(path, '.'); i > 0; i = strings.LastIndexByte(path[:i], '.') {
		sub, ok := m[path[:i]]
		if !ok || sub == nil {
			continue
		}
		if x := aGet(sub, path[i+1:]); x != nil {
			return x
		}
	}
	return nil
}

// aObj returns v as a JSON object.
func aObj(v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	return m, ok
}

// aStr is a scalar as text: strings as they are, numbers as written,
// booleans as true/false; arrays, objects and null give "".
func aStr(v any) string { return bString(v) }

// aGetStr is aStr(aGet(v, path)) trimmed.
func aGetStr(v any, path string) string {
	return strings.TrimSpace(aStr(aGet(v, path)))
}

// aStrings is a scalar or an array of scalars (arrays nested up to three
// deep are flattened) as non-empty texts.
func aStrings(v any) []string {
	var out []string
	var walk func(any, int)
	walk = func(x any, depth int) {
		if arr, ok := x.([]any); ok {
			if depth >= 3 {
				return
			}
			for _, e := range arr {
				walk(e, depth+1)
			}
			return
		}
		if s := strings.TrimSpace(aStr(x)); s != "" {
			out = append(out, s)
		}
	}
	walk(v, 0)
	return out
}

// aJoin is aStrings joined with commas.
func aJoin(v any) string { return strings.Join(aStrings(v), ",") }

// aNum is a number, or a string holding one, as a finite float64.
func aNum(v any) (float64, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case string:
		s = strings.TrimSpace(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, false
		}
		return x, true
	default:
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// aInt is a whole number (or a string holding one) that fits in an int64.
func aInt(v any) (int64, bool) {
	f, ok := aNum(v)
	if !ok || f != math.Trunc(f) || f < -1e15 || f > 1e15 {
		return 0, false
	}
	return int64(f), true
}

// aSetLabel sets labels[key] to v as text when that text is not empty;
// arrays of scalars are comma-joined.
func aSetLabel(labels map[string]string, key string, v any) {
	s := aStr(v)
	if _, isArr := v.([]any); isArr {
		s = aJoin(v)
	}
	if s = strings.TrimSpace(s); s != "" {
		labels[key] = s
	}
}

// aSetLabelIfAbsent is aSetLabel that keeps a value already there.
func aSetLabelIfAbsent(labels map[string]string, key string, v any) {
	if _, ok := labels[key]; !ok {
		aSetLabel(labels, key, v)
	}
}

// aCanonical is the decoded value re-encoded with sorted keys, so that the
// same document hashes the same whatever its spacing or key order.
func aCanonical(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

// aRawField returns the raw bytes of a top-level key of a JSON object.
func aRawField(raw []byte, key string) (json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, false
	}
	r, ok := m[key]
	return r, ok
}

// aRawArray splits a JSON array into its elements' raw bytes.
func aRawArray(raw []byte) ([]json.RawMessage, bool) {
	var arr []json.RawMessage
	if err := json.Unmarshal(raw, &arr); err != nil {
		return nil, false
	}
	return arr, true
}

// aRawElems returns the raw bytes of each element of the array at key in
// the object raw; decoded is that array already decoded, and a length
// mismatch (which valid JSON cannot give) yields re-encoded elements.
func aRawElems(raw []byte, key string, decoded []any) []json.RawMessage {
	if f, ok := aRawField(raw, key); ok {
		if arr, ok := aRawArray(f); ok && len(arr) == len(decoded) {
			return arr
		}
	}
	return aReencode(decoded)
}

// aRawTopArray splits a body that is a JSON array into its elements' raw
// bytes, as aRawElems does for an array under a key.
func aRawTopArray(body []byte, decoded []any) []json.RawMessage {
	if arr, ok := aRawArray(body); ok && len(arr) == len(decoded) {
		return arr
	}
	return aReencode(decoded)
}

// aReencode encodes each element on its own; a fallback for Raw.
func aReencode(decoded []any) []json.RawMessage {
	out := make([]json.RawMessage, len(decoded))
	for i, e := range decoded {
		out[i] = aRawOf(e)
	}
	return out
}

// aRawOf encodes a decoded value.
func aRawOf(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// aCopyRaw copies raw JSON, trimmed, so an alert never aliases the
// caller's request buffer.
func aCopyRaw(b []byte) json.RawMessage {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	return append(json.RawMessage(nil), b...)
}

// aScalarOnly drops arrays and objects.
func aScalarOnly(v any) any {
	switch v.(type) {
	case []any, map[string]any:
		return nil
	}
	return v
}
