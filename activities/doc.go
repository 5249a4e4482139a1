// Package activities holds Riposte's Temporal activity structs. Each struct
// holds the small interfaces it needs (Chat, Ticketing, Firewall, Enricher),
// defined here where they are used and implemented by the packages under
// integrations/. Every side effect carries an idempotency key (incident ID +
// step ID) so that a retry or a crash never repeats it.
package activities
