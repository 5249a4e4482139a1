// Package webhook delivers a JSON document to any HTTP receiver that has no
// integration of its own: one POST per call, with an Idempotency-Key header
// so that receivers can drop Temporal's retries, and, when a secret is set,
// an HMAC-SHA256 signature over "<timestamp>.<body>" in X-Riposte-Signature
// with the Unix timestamp in X-Riposte-Timestamp. Verify is what a receiver
// runs (or re-implements) to check a delivery.
//
// A 2xx answer is success and its body is ignored. 4xx answers are
// non-retryable except 408 and 429; 5xx, timeouts and connection failures
// are retryable. Redirects are not followed: the signed body would be
// re-sent to a URL nobody configured. Every configured header value is
// treated as a secret and never reaches logs or errors.
package webhook
