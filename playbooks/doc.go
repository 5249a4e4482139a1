// Package playbooks is the playbook DSL: its model, the YAML parser and the
// validator that reports problems as file:line:col. Playbooks are parsed and
// validated outside workflows and passed in as data, so a changed file never
// breaks a running incident. Shipped playbooks live in playbooks/library.
//
// A playbook file:
//
//	name: ssh-brute-force        # required; lowercase letters, digits, dashes
//	description: ...
//	version: "1.0.0"             # required; MAJOR.MINOR.PATCH, as a string
//	inputs:                      # optional; each is vars.<name>
//	  - {name: block_ttl, description: ..., default: 24h}
//	detect:    [steps]           # the phases, run in this order; each is
//	contain:   [steps]           # optional, but a playbook has at least
//	analyse:   [steps]           # one step
//	restore:   [steps]
//	follow_up: [steps]
//
// A step has an id (lowercase letters, digits and underscores, unique in
// the playbook, so that steps.<id> works in expressions), optionally if (a
// CEL condition), timeout, retry {max_attempts, initial_interval,
// max_interval, backoff_coefficient}, on_error (fail, continue or
// compensate) and, on action steps whose action is reversible, undo
// {action, args}; and exactly one of:
//
//	action: firewall.block_ip    # with args: {ip: ..., ttl: 24h}; see Actions
//	approval: {approvers: [responder], prompt: ..., timeout: 30m,
//	           on_timeout: deny|escalate, escalate_to: [admin],
//	           escalation_timeout: 1h, required: 2}
//	parallel: [steps]            # branches run at the same time
//	wait: {duration: 10m, until: alert_resolved}   # either or both
//	set: {name: <CEL expression>}
//	notify: {message: ..., channel: "#soc"}
//
// Durations are Go durations ("30s", "5m", "24h"). Strings in args, in
// approval prompts and in notify messages and channels may hold
// ${{ expression }} templates; see Render and EvalValue for the expression
// language and what it sees.
package playbooks
