// Package playbooks is the playbook DSL: its model, the YAML parser and the
// validator that reports problems as file:line:col. Playbooks are parsed and
// validated outside workflows and passed in as data, so a changed file never
// breaks a running incident. Shipped playbooks live in playbooks/library.
package playbooks
