// Package abuseipdb enriches IP addresses with AbuseIPDB's API v2 CHECK
// endpoint (GET /api/v2/check). Enrich returns a flat map of JSON-friendly
// values (abuse_confidence, total_reports, is_tor, ...) that playbooks branch
// on with CEL; every key is always present, with its zero value when the
// vendor sends null.
//
// Errors are classified for Temporal with httpx.Temporal: the daily quota
// (429) is retryable after Retry-After (or X-RateLimit-Reset), 5xx and
// transport failures are retryable, other 4xx (bad key, invalid address) and
// unusable 200 answers are non-retryable and name AbuseIPDB's own message.
package abuseipdb
