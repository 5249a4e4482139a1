// Package library holds the playbooks that ship with Riposte, embedded in
// the binary. playbooks.LoadLibrary parses and validates them.
package library

import "embed"

// Library holds the shipped playbook files (*.yaml).
//
//go:embed *.yaml
var Library embed.FS
