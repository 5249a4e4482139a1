// Package workflows holds Riposte's Temporal workflows. An incident is a
// workflow: its state comes from Query and lists come from visibility over
// the search attributes declared here. Workflow code is deterministic; every
// workflow has a replay test over a recorded history in testdata/.
package workflows
