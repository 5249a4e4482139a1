package slack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"
)

// Error is the error returned by Client methods. Retryable says whether the
// same call may succeed later (rate limit, Slack 5xx, network failure);
// RetryAfter is Slack's Retry-After when it sent one. Callers map it onto
// their retry policy (for example a Temporal non-retryable application error
// when Retryable is false).
type Error struct {
	Retryable  bool
	RetryAfter time.Duration
	Op         string // Slack method, e.g. "chat.postMessage"
	Err        error
}

func (e *Error) Error() string {
	msg := "slack " + e.Op
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// IsRetryable reports whether err (or an error it wraps) is a retryable *Error.
func IsRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable
}

// retryableCodes are Slack API error codes that describe a transient state.
var retryableCodes = map[string]bool{
	"ratelimited":         true,
	"rate_limited":        true,
	"internal_error":      true,
	"fatal_error":         true,
	"service_unavailable": true,
	"request_timeout":     true,
}

// wrap classifies err from Slack method op and makes sure the token never
// appears in its message.
func (c *Client) wrap(op string, err error) error {
	e := classify(op, err)
	if c.token != "" && strings.Contains(e.Err.Error(), c.token) {
		e.Err = errors.New(strings.ReplaceAll(e.Err.Error(), c.token, "<redacted>"))
	}
	return e
}

func classify(op string, err error) *Error {
	e := &Error{Op: op, Err: err}
	var rl *slackapi.RateLimitedError
	var sc slackapi.StatusCodeError
	var api slackapi.SlackErrorResponse
	var ne net.Error
	switch {
	case errors.As(err, &rl):
		e.Retryable, e.RetryAfter = true, rl.RetryAfter
		e.Err = errors.New("rate limited")
	case errors.As(err, &sc):
		e.Retryable = sc.Retryable()
		e.Err = fmt.Errorf("http status %d", sc.Code)
	case errors.As(err, &api):
		e.Retryable = retryableCodes[api.Err]
		e.Err = api // its message is the Slack error code, e.g. channel_not_found
	case errors.Is(err, context.Canceled):
		e.Retryable = false
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		e.Retryable = true
	case errors.As(err, &ne):
		e.Retryable = true
	default:
		var ue *url.Error
		e.Retryable = errors.As(err, &ue)
	}
	return e
}

func retryAfter(h http.Header) time.Duration {
	s := strings.TrimSpace(h.Get("Retry-After"))
	if s == "" {
		return 0
	}
	if sec, err := strconv.Atoi(s); err == nil && sec > 0 {
		return time.Duration(sec) * time.Second
	}
	return 0
}
