// Package virustotal enriches IP addresses, domains, file hashes and URLs
// with the VirusTotal API v3 object endpoints (/ip_addresses/{ip},
// /domains/{domain}, /files/{hash}, /urls/{id}). Enrich returns a flat map of
// JSON-friendly values (vt_found, vt_malicious, vt_reputation, vt_link, ...)
// that playbooks branch on with CEL; every key of a type is always present,
// also when VirusTotal has never seen the observable (vt_found false).
//
// Errors are classified for Temporal with httpx.Temporal and carry
// VirusTotal's error code and message: QuotaExceededError (429) is retryable
// after Retry-After (60 s when the answer names none), 5xx and transport
// failures are retryable, WrongCredentialsError and other 4xx are not.
package virustotal
