package alerts

// JSON helpers shared by the Graylog, Suricata, CrowdStrike, QRadar, TheHive
// and generic normalisers. Bodies are decoded with UseNumber, so numbers
// arrive as json.Number and large ids stay exact.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// bRecord is one top-level JSON value of a body.
type bRecord struct {
	raw  json.RawMessage // the value's bytes, as received
	val  any             // decoded, numbers as json.Number
	line int             // 1-based line on which the value starts
}

// bDecodeAll decodes every top-level JSON value of body: one document
// (pretty-printed or not), or several values one after another (NDJSON).
// Invalid JSON is an error naming the line and byte offset.
func bDecodeAll(body []byte) ([]bRecord, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errors.New("empty body")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var recs []bRecord
	for {
		start := dec.InputOffset()
		for start < int64(len(body)) && bIsJSONSpace(body[start]) {
			start++
		}
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			break
		}
		if err != nil {
			// A syntax error is placed where it is; a value cut short
			// is placed on the line where it starts.
			off, line := int64(len(body)), bLineAt(body, start)
			var se *json.SyntaxError
			if errors.As(err, &se) && se.Offset > 0 && se.Offset <= int64(len(body)) {
				off = se.Offset - 1
				line = bLineAt(body, off)
			}
			msg := err.Error()
			if errors.Is(err, io.ErrUnexpectedEOF) {
				msg = "unexpected end of input"
			}
			return nil, fmt.Errorf("line %d: invalid JSON at offset %d: %s", line, off, msg)
		}
		v, err := bDecodeValue(raw)
		if err != nil { // cannot happen: raw was just validated
			return nil, fmt.Errorf("line %d: invalid JSON: %v", bLineAt(body, start), err)
		}
		recs = append(recs, bRecord{raw: raw, val: v, line: bLineAt(body, start)})
	}
	if len(recs) == 0 {
		return nil, errors.New("empty body")
	}
	return recs, nil
}

// bDecodeOne decodes a body that must hold exactly one JSON value.
func bDecodeOne(body []byte) (bRecord, error) {
	recs, err := bDecodeAll(body)
	if err != nil {
		return bRecord{}, err
	}
	if len(recs) > 1 {
		return bRecord{}, fmt.Errorf("line %d: unexpected data after the JSON value (want a single JSON document)", recs[1].line)
	}
	return recs[0], nil
}

func bDecodeValue(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func bIsJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func bLineAt(body []byte, off int64) int {
	if off > int64(len(body)) {
		off = int64(len(body))
	}
	return 1 + bytes.Count(body[:off], []byte{'\n'})
}

// bRawOf returns the JSON encoding of a decoded value, for alerts whose raw
// part is not a top-level value of the body.
func bRawOf(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// bRawElements splits a JSON array's bytes into its elements' bytes, as
// received; arr is the array as decoded from raw.
func bRawElements(raw []byte, arr []any) []json.RawMessage {
	var els []json.RawMessage
	if err := json.Unmarshal(raw, &els); err != nil || len(els) != len(arr) {
		els = make([]json.RawMessage, len(arr))
		for i, v := range arr {
			els[i] = bRawOf(v)
		}
	}
	return els
}

// bDescribe says what a decoded value is, for "expected X, got Y" errors.
func bDescribe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case map[string]any:
		if len(x) == 0 {
			return "an empty object"
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		more := ""
		if len(keys) > 6 {
			keys, more = keys[:6], ", ..."
		}
		q := make([]string, len(keys))
		for i, k := range keys {
			q[i] = strconv.Quote(truncate(k, 40))
		}
		return "an object with keys " + strings.Join(q, ", ") + more
	case []any:
		if len(x) == 0 {
			return "an empty array"
		}
		return fmt.Sprintf("an array of %d values", len(x))
	case string:
		return "a string"
	case json.Number, float64, int64, int, uint64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("a value of type %T", v)
}

// bObj returns v as an object, or nil.
func bObj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// bGet walks nested objects: bGet(v, "event", "id").
func bGet(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// bString is a scalar's text: strings as they are, numbers as written,
// booleans as true/false; "" for null, objects and arrays.
func bString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

// bTrim is bString trimmed of surrounding white space.
func bTrim(v any) string { return strings.TrimSpace(bString(v)) }

// bInt reads an integral number, or a string holding one.
func bInt(v any) (int64, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case string:
		s = strings.TrimSpace(x)
	case int64:
		return x, true
	case int:
		return int64(x), true
	case float64:
		if x == float64(int64(x)) && x > -1e18 && x < 1e18 {
			return int64(x), true
		}
		return 0, false
	default:
		return 0, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == float64(int64(f)) && f > -1e18 && f < 1e18 {
		return int64(f), true
	}
	return 0, false
}

// bStrings reads a scalar or an array of scalars as strings; empty values
// are left out.
func bStrings(v any) []string {
	if a, ok := v.([]any); ok {
		out := make([]string, 0, len(a))
		for _, e := range a {
			if s := bTrim(e); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	if s := bTrim(v); s != "" {
		return []string{s}
	}
	return nil
}

// bLabelValue renders a value as a label: scalars as text, arrays of
// scalars comma-joined, anything else as compact JSON; "" for null.
func bLabelValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case map[string]any:
		if len(x) == 0 {
			return ""
		}
		return string(bRawOf(x))
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				return string(bRawOf(x))
			}
			if s := bTrim(e); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ",")
	}
	return strings.TrimSpace(bString(v))
}

// bSetLabel sets labels[name] when the value renders non-empty.
func bSetLabel(labels map[string]string, name string, v any) {
	if s := bLabelValue(v); s != "" {
		labels[name] = s
	}
}

// bAddHash adds a hash typed by its length, skipping placeholder hashes
// made only of zeros (CrowdStrike sends SHA1String "000...0").
func bAddHash(obs *ObservableSet, h string) {
	h = strings.TrimSpace(h)
	if strings.Trim(h, "0") == "" {
		return
	}
	obs.AddHash(h)
}

// bAddDomainOrIP adds an IP when s is an address and a domain otherwise
// (DNS names seen on the wire: SNI, HTTP Host, DNS queries). A trailing
// root dot is dropped.
func bAddDomainOrIP(obs *ObservableSet, s string) {
	s = strings.TrimSpace(s)
	if _, ok := ParseIP(s); ok {
		obs.Add(ObsIP, s)
		return
	}
	obs.Add(ObsDomain, strings.TrimSuffix(s, "."))
}

// bWithLine prefixes an error with the record's line when the body holds
// several records.
func bWithLine(multi bool, line int, err error) error {
	if multi {
		return fmt.Errorf("line %d: %w", line, err)
	}
	return err
}
