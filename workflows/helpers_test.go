package workflows_test

import (
	"go.temporal.io/sdk/workflow"

	"github.com/riposte-soar/riposte/workflows"
)

func workflowOpts() workflow.RegisterOptions {
	return workflow.RegisterOptions{Name: workflows.IncidentWorkflowName}
}
