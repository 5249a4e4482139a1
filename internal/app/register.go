package app

import "go.temporal.io/sdk/workflow"

func workflowOptions(name string) workflow.RegisterOptions {
	return workflow.RegisterOptions{Name: name}
}
