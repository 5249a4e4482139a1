package rt

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// messages extracts RT's human text from an answer body. REST2 uses three
// shapes: {"message": "..."} for errors it raises itself, a JSON array of
// strings for the results of an update or a message (each "Ticket N: ..."
// line may be a success or a failure), and plain text ("Authorization
// required"). It returns nil for an empty body.
func messages(body []byte) []string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	var obj struct {
		Message *string `json:"message"`
	}
	if body[0] == '{' && json.Unmarshal(body, &obj) == nil && obj.Message != nil {
		return []string{strings.TrimSpace(*obj.Message)}
	}
	var arr []any
	if body[0] == '[' && json.Unmarshal(body, &arr) == nil {
		var out []string
		for _, v := range arr {
			if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
				out = append(out, strings.TrimSpace(s))
			}
		}
		return out
	}
	if body[0] == '{' || body[0] == '[' {
		return nil // JSON without a message: nothing human to quote
	}
	return []string{truncate(string(body), 300)}
}

// describe renders a body for an error message: RT's messages when there
// are any, else the start of the body.
func describe(body []byte) string {
	if m := messages(body); len(m) > 0 {
		return truncate(strings.Join(m, "; "), 500)
	}
	b := strings.TrimSpace(string(body))
	if b == "" {
		return "empty body"
	}
	return "unexpected body: " + truncate(b, 200)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
