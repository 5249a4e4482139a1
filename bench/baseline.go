package main

import (
	"context"
	"time"

	"go.temporal.io/sdk/workflow"
)

// BaselineWorkflowName is the raw-Temporal workflow the baseline runs.
const BaselineWorkflowName = "BenchBaselineWorkflow"

// baselineTaskQueue keeps the harness's worker apart from Riposte's.
const baselineTaskQueue = "bench-baseline"

// BaselineWorkflow runs k no-op activities one after another: the shape of
// the bench playbook (k actions in sequence) with nothing of Riposte's.
func BaselineWorkflow(ctx workflow.Context, k int) error {
	// The same timeout and retry policy as a playbook action step.
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	for i := range k {
		if err := workflow.ExecuteActivity(ctx, NoopActivity, i).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// NoopActivity does nothing.
func NoopActivity(context.Context, int) error { return nil }
