// Package rt creates, comments on and resolves tickets in Request Tracker 5
// through its REST2 API (/REST/2.0), with token or basic authentication.
//
// Idempotency: every ticket Riposte creates carries its key as a subject tag
// "[riposte:<key>]" at the start of the subject (RT cuts subjects at 200
// bytes, so the tag goes first), and optionally in a ticket custom field.
// Create searches for the key before creating. The search uses TicketSQL
// LIKE, which matches loosely (case-insensitive, and "%" and "_" in a key
// stay wildcards because RT issues LIKE without an ESCAPE clause and the
// databases disagree on a default escape), so the candidates are then
// compared exactly. Temporal runs one attempt of an activity at a time, but
// RT still serves a request whose caller gave up (queued behind busy
// workers, or past the client's timeout), so an earlier attempt's create
// can land after the next attempt searched. Create therefore searches
// again after creating: the oldest ticket with the key is kept, and later
// ones are retired (status rejected, tag changed to
// "[riposte-duplicate:<key>]", key custom field emptied), which needs only
// ModifyTicket. An abandoned create that lands after that second search
// still leaves a duplicate; RT has no unique constraint to prevent it.
//
// RT answers some failures with 200 and the error text in the body (PUT
// returns a JSON array of messages whatever happened), so Resolve reads the
// ticket back and reports RT's messages as a non-retryable error when the
// status did not change.
//
// Priority mapping onto RT's default scale (PriorityAsString Low=0,
// Medium=50, High=100): low 0, medium 50, high 100, critical 100 (RT's
// default scale has nothing above High); "" leaves the queue's default.
// Config.Priorities overrides the numbers.
package rt
