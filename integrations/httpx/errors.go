package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"
)

// StatusError is returned by Client.Do for responses outside 2xx/3xx.
// Every string field is already redacted.
type StatusError struct {
	Integration   string
	Method        string
	URL           string // redacted: no userinfo, no secret query values
	Status        int
	VendorMessage string // extracted from the body, redacted
	RetryAfter    time.Duration
}

func (e *StatusError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s %s: %d %s", e.Integration, e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.VendorMessage != "" {
		b.WriteString(": ")
		b.WriteString(e.VendorMessage)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Retryable reports whether the status is worth retrying later: 408, 429 and 5xx.
func (e *StatusError) Retryable() bool { return retryableStatus(e.Status) }

func retryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || (code >= 500 && code <= 599)
}

// TransportError is returned by Client.Do when no HTTP response was obtained:
// connection failures and timeouts. Its message is redacted; it is always
// retryable.
type TransportError struct {
	Integration string
	Method      string
	URL         string // redacted
	Timeout     bool
	msg         string // redacted cause
	err         error
}

func (e *TransportError) Error() string {
	kind := "transport error"
	if e.Timeout {
		kind = "timeout"
	}
	return fmt.Sprintf("%s: %s %s: %s: %s", e.Integration, e.Method, e.URL, kind, e.msg)
}

// Unwrap exposes the cause for errors.Is (e.g. context.DeadlineExceeded).
// Use Error(), not the cause's text, for anything logged.
func (e *TransportError) Unwrap() error { return e.err }

// Retryable is always true for transport errors.
func (e *TransportError) Retryable() bool { return true }

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// BadResponse is a 2xx answer that cannot be used: malformed JSON or XML, an
// HTML login page from a proxy, or an error the vendor put inside a 200 (RT
// does). Retrying the same call would get the same answer, so it is
// non-retryable. The message must already be redacted.
type BadResponse struct {
	Integration string
	Msg         string
}

func (e *BadResponse) Error() string { return e.Integration + ": unusable response: " + e.Msg }

// NewBadResponse builds a *BadResponse, redacting msg with c's secrets.
func (c *Client) NewBadResponse(format string, args ...any) error {
	return &BadResponse{Integration: c.name, Msg: truncate(c.red.String(fmt.Sprintf(format, args...)), 500)}
}

// Temporal converts an error from Client.Do into a Temporal application
// error: non-retryable for 4xx other than 408/429 (type "HTTP<code>"),
// retryable for 408/429/5xx with NextRetryDelay from Retry-After, and
// retryable "Timeout"/"Transport" for failures without a response;
// a *BadResponse is non-retryable ("BadResponse"). Messages are the (already redacted) error strings; causes are not attached
// so that unredacted text never reaches Temporal history. nil maps to nil.
func Temporal(err error) error {
	if err == nil {
		return nil
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return err
	}
	var br *BadResponse
	if errors.As(err, &br) {
		return temporal.NewNonRetryableApplicationError(br.Error(), "BadResponse", nil)
	}
	var se *StatusError
	if errors.As(err, &se) {
		typ := "HTTP" + strconv.Itoa(se.Status)
		if !se.Retryable() {
			return temporal.NewNonRetryableApplicationError(se.Error(), typ, nil)
		}
		return temporal.NewApplicationErrorWithOptions(se.Error(), typ, temporal.ApplicationErrorOptions{NextRetryDelay: se.RetryAfter})
	}
	var te *TransportError
	if errors.As(err, &te) {
		typ := "Transport"
		if te.Timeout {
			typ = "Timeout"
		}
		return temporal.NewApplicationErrorWithOptions(te.Error(), typ, temporal.ApplicationErrorOptions{})
	}
	if isTimeout(err) || errors.Is(err, context.Canceled) {
		return temporal.NewApplicationErrorWithOptions(err.Error(), "Timeout", temporal.ApplicationErrorOptions{})
	}
	return temporal.NewApplicationErrorWithOptions(err.Error(), "Transport", temporal.ApplicationErrorOptions{})
}

// TemporalOp is Temporal with op prepended to the message ("search issue:
// jira: GET ...: 401 Unauthorized: ..."), keeping the type, retryability and
// NextRetryDelay. The result is the *temporal.ApplicationError itself, not a
// wrapper: the SDK does not unwrap errors when deciding retryability.
func TemporalOp(op string, err error) error {
	var ae *temporal.ApplicationError
	if !errors.As(Temporal(err), &ae) {
		return err
	}
	return temporal.NewApplicationErrorWithOptions(op+": "+ae.Message(), ae.Type(), temporal.ApplicationErrorOptions{
		NonRetryable:   ae.NonRetryable(),
		NextRetryDelay: ae.NextRetryDelay(),
	})
}

// vendorMessage extracts a human message from an error body.
func vendorMessage(body []byte) string {
	body = []byte(strings.TrimSpace(string(body)))
	if len(body) == 0 {
		return ""
	}
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		if s := firstMessage(m); s != "" {
			return truncate(s, 500)
		}
	}
	return truncate(string(body), 200)
}

func firstMessage(m map[string]any) string {
	str := func(v any) string {
		switch t := v.(type) {
		case string:
			return t
		case map[string]any:
			if s, ok := t["message"].(string); ok {
				return s
			}
		}
		return ""
	}
	if s := str(m["error"]); s != "" {
		return s
	}
	if s := str(m["message"]); s != "" {
		return s
	}
	if arr, ok := m["errors"].([]any); ok && len(arr) > 0 {
		if s := str(arr[0]); s != "" {
			return s
		}
	}
	if arr, ok := m["errorMessages"].([]any); ok && len(arr) > 0 {
		if s := str(arr[0]); s != "" {
			return s
		}
	}
	if s := str(m["error_description"]); s != "" {
		return s
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) && len(s) > 0 {
		s = s[:len(s)-1]
	}
	return s + "…"
}
