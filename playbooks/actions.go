package playbooks

import (
	"slices"
	"strings"
)

// Argument types of an ArgSpec.
const (
	ArgString = "string"
	// ArgDuration is a Go duration string ("30m", "24h").
	ArgDuration = "duration"
	ArgInt      = "int"
	ArgBool     = "bool"
	ArgList     = "list"
	ArgMap      = "map"
	ArgAny      = "any"
)

// ArgSpec describes one argument of an action. A literal argument must have
// the type; an argument that is a whole ${{ expr }} template is checked when
// it is rendered.
type ArgSpec struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Required bool   `json:"required,omitempty"`
}

// ActionSpec describes an action that playbook steps can call.
type ActionSpec struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Args        []ArgSpec `json:"args"`
	// Reversible actions may carry an undo; UndoAction is the action that
	// reverses them.
	Reversible bool   `json:"reversible,omitempty"`
	UndoAction string `json:"undo_action,omitempty"`
	// Integration is the kind of integration that runs the action ("" for
	// actions built into the workflow).
	Integration string `json:"integration,omitempty"`
}

// Arg returns the spec of the named argument.
func (a ActionSpec) Arg(name string) (ArgSpec, bool) {
	for _, s := range a.Args {
		if s.Name == name {
			return s, true
		}
	}
	return ArgSpec{}, false
}

// Integrations.
const (
	IntegrationFirewall    = "firewall"
	IntegrationTicketing   = "ticketing"
	IntegrationThreatIntel = "threat_intel"
	IntegrationChat        = "chat"
	IntegrationCompliance  = "compliance"
	IntegrationWebhook     = "webhook"
)

// Actions is the registry of actions, by name. It is data: the validator
// checks playbooks against it and the activities dispatch on the same names.
var Actions = map[string]ActionSpec{
	"firewall.block_ip": {
		Name:        "firewall.block_ip",
		Description: "block an IP address (or CIDR) at the firewall, optionally for a time",
		Args:        []ArgSpec{{Name: "ip", Type: ArgString, Required: true}, {Name: "ttl", Type: ArgDuration}, {Name: "reason", Type: ArgString}},
		Reversible:  true, UndoAction: "firewall.unblock_ip", Integration: IntegrationFirewall,
	},
	"firewall.unblock_ip": {
		Name:        "firewall.unblock_ip",
		Description: "lift a block on an IP address",
		Args:        []ArgSpec{{Name: "ip", Type: ArgString, Required: true}},
		Integration: IntegrationFirewall,
	},
	"firewall.block_domain": {
		Name:        "firewall.block_domain",
		Description: "block a domain at the firewall, optionally for a time",
		Args:        []ArgSpec{{Name: "domain", Type: ArgString, Required: true}, {Name: "ttl", Type: ArgDuration}, {Name: "reason", Type: ArgString}},
		Reversible:  true, UndoAction: "firewall.unblock_domain", Integration: IntegrationFirewall,
	},
	"firewall.unblock_domain": {
		Name:        "firewall.unblock_domain",
		Description: "lift a block on a domain",
		Args:        []ArgSpec{{Name: "domain", Type: ArgString, Required: true}},
		Integration: IntegrationFirewall,
	},
	"firewall.block_url": {
		Name:        "firewall.block_url",
		Description: "block a URL at the firewall, optionally for a time",
		Args:        []ArgSpec{{Name: "url", Type: ArgString, Required: true}, {Name: "ttl", Type: ArgDuration}, {Name: "reason", Type: ArgString}},
		Reversible:  true, UndoAction: "firewall.unblock_url", Integration: IntegrationFirewall,
	},
	"firewall.unblock_url": {
		Name:        "firewall.unblock_url",
		Description: "lift a block on a URL",
		Args:        []ArgSpec{{Name: "url", Type: ArgString, Required: true}},
		Integration: IntegrationFirewall,
	},
	"ticket.create": {
		Name:        "ticket.create",
		Description: "open a ticket for the incident",
		Args:        []ArgSpec{{Name: "title", Type: ArgString, Required: true}, {Name: "body", Type: ArgString}, {Name: "priority", Type: ArgString}, {Name: "queue", Type: ArgString}},
		Reversible:  true, UndoAction: "ticket.resolve", Integration: IntegrationTicketing,
	},
	"ticket.comment": {
		Name:        "ticket.comment",
		Description: "comment on a ticket (default: the incident's ticket)",
		Args:        []ArgSpec{{Name: "body", Type: ArgString, Required: true}, {Name: "ticket", Type: ArgString}},
		Integration: IntegrationTicketing,
	},
	"ticket.resolve": {
		Name:        "ticket.resolve",
		Description: "resolve a ticket (default: the incident's ticket)",
		Args:        []ArgSpec{{Name: "ticket", Type: ArgString}, {Name: "comment", Type: ArgString}},
		Integration: IntegrationTicketing,
	},
	"enrich.ip": {
		Name:        "enrich.ip",
		Description: "look an IP address up in threat intelligence",
		Args:        []ArgSpec{{Name: "ip", Type: ArgString, Required: true}},
		Integration: IntegrationThreatIntel,
	},
	"enrich.domain": {
		Name:        "enrich.domain",
		Description: "look a domain up in threat intelligence",
		Args:        []ArgSpec{{Name: "domain", Type: ArgString, Required: true}},
		Integration: IntegrationThreatIntel,
	},
	"enrich.hash": {
		Name:        "enrich.hash",
		Description: "look a file hash (MD5, SHA-1 or SHA-256) up in threat intelligence",
		Args:        []ArgSpec{{Name: "hash", Type: ArgString, Required: true}},
		Integration: IntegrationThreatIntel,
	},
	"enrich.url": {
		Name:        "enrich.url",
		Description: "look a URL up in threat intelligence",
		Args:        []ArgSpec{{Name: "url", Type: ArgString, Required: true}},
		Integration: IntegrationThreatIntel,
	},
	"chat.post": {
		Name:        "chat.post",
		Description: "post a message to the incident's chat thread or a channel",
		Args:        []ArgSpec{{Name: "message", Type: ArgString, Required: true}, {Name: "channel", Type: ArgString}},
		Integration: IntegrationChat,
	},
	"webhook.post": {
		Name:        "webhook.post",
		Description: "POST a JSON body (its strings may be ${{ }} templates) to a configured outbound webhook, signed when it has a secret",
		Args:        []ArgSpec{{Name: "webhook", Type: ArgString, Required: true}, {Name: "body", Type: ArgAny, Required: true}},
		Integration: IntegrationWebhook,
	},
	"compliance.start_clocks": {
		Name:        "compliance.start_clocks",
		Description: "start the regulatory notification clocks of the given regimes from the given events (name: RFC 3339 time)",
		Args:        []ArgSpec{{Name: "regimes", Type: ArgList, Required: true}, {Name: "events", Type: ArgMap}},
		Integration: IntegrationCompliance,
	},
	"incident.set_severity": {
		Name:        "incident.set_severity",
		Description: "raise or set the incident's severity",
		Args:        []ArgSpec{{Name: "severity", Type: ArgString, Required: true}},
	},
}

// LookupAction returns the spec of the named action.
func LookupAction(name string) (ActionSpec, bool) {
	s, ok := Actions[name]
	return s, ok
}

// ActionNames returns the registered action names, sorted.
func ActionNames() []string {
	names := make([]string, 0, len(Actions))
	for n := range Actions {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Roles are the roles that approvals may name.
var Roles = []string{"admin", "responder", "compliance", "ingest"}

func validRole(r string) bool { return slices.Contains(Roles, r) }

func rolesList() string { return strings.Join(Roles, ", ") }
