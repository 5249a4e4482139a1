// Package slack is Riposte's Slack integration: it posts approval requests
// as Block Kit messages with Approve and Reject buttons, updates them in
// place once a decision is made, posts timeline events to the incident's
// thread, resolves Slack user groups (cached), and verifies and parses the
// signed interaction and slash-command requests that Slack sends back.
//
// The package imports only the standard library and slack-go. Errors
// returned by Client methods are *Error values that say whether the call is
// worth retrying (rate limits, 5xx, network failures) so that callers such as
// Temporal activities can classify them without this package importing
// Temporal. The bot token never appears in an error message.
package slack
