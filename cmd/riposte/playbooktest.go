package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/riposte-soar/riposte/activities"
	"github.com/riposte-soar/riposte/alerts"
	"github.com/riposte-soar/riposte/internal/app"
	"github.com/riposte-soar/riposte/internal/tclient"
	"github.com/riposte-soar/riposte/playbooks"
	"github.com/riposte-soar/riposte/workflows"
)

// recordingActions accepts every action and remembers it: `playbook test`
// shows what a playbook would do without touching any system.
type recordingActions struct {
	mu    sync.Mutex
	calls []activities.ActionRequest
}

func (r *recordingActions) RunAction(_ context.Context, req activities.ActionRequest) (activities.ActionResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, req)
	return activities.ActionResult{Output: map[string]any{"recorded": true}}, nil
}

func newPlaybookTestCmd(g *globalFlags) *cobra.Command {
	var (
		source  string
		alert   string
		approve []string
		horizon time.Duration
	)
	cmd := &cobra.Command{
		Use:   "test PLAYBOOK --source S --alert FILE [--approve all|none|STEP...]",
		Short: "Run a playbook against an alert in Temporal's test environment and print the timeline",
		Long: `test runs PLAYBOOK (a name from the library or config, or a YAML file) against
the alerts of FILE as normalised by source S, in the Temporal SDK's test
environment: timers are skipped, so a 24 h wait takes no time, and every
action goes to recording integrations that touch nothing. Approvals are
approved by distinct testers (--approve all, the default), left to time out
(--approve none), or approved only for the named steps (others are
rejected). When the playbook ends the incident is closed, which runs its
pending undos. It prints the timeline and the actions.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(g, nil)
			if err != nil {
				return err
			}
			ing, err := app.BuildIngestion(cfg.Ingest, cfg.Playbooks)
			if err != nil {
				return usageError{err}
			}
			pb := ing.Playbooks[args[0]]
			if pb == nil {
				if _, statErr := os.Stat(args[0]); statErr != nil {
					return usageError{fmt.Errorf("playbook %q: not a known playbook name or a file", args[0])}
				}
				if pb, err = playbooks.LoadFile(args[0]); err != nil {
					return err
				}
			}
			src, ok := ing.Sources[source]
			if !ok {
				return usageError{fmt.Errorf("--source: unknown source %q", source)}
			}
			body, err := readInput(alert, cmd.InOrStdin())
			if err != nil {
				return err
			}
			opts := src.Source.Options
			opts.ReceivedAt = time.Now()
			list, err := src.Source.Normalizer.Normalize(body, opts)
			if err != nil {
				return fmt.Errorf("%s: %w", alert, err)
			}
			return runPlaybookTest(cmd.OutOrStdout(), pb, list, approve, horizon)
		},
	}
	f := cmd.Flags()
	f.StringVar(&source, "source", "", "source that normalises the alert (required)")
	f.StringVar(&alert, "alert", "", "webhook body file, - for stdin (required)")
	f.StringSliceVar(&approve, "approve", []string{"all"}, "all, none, or the approval steps to approve (others are rejected)")
	f.DurationVar(&horizon, "horizon", 72*time.Hour, "simulated time after which the incident is closed anyway")
	_ = cmd.MarkFlagRequired("source")
	_ = cmd.MarkFlagRequired("alert")
	return cmd
}

func runPlaybookTest(out io.Writer, pb *playbooks.Playbook, list []alerts.Alert, approve []string, horizon time.Duration) error {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(tclient.NewLogger(nil))
	env := s.NewTestWorkflowEnvironment()
	// CEL runs inside workflow code; a loaded machine must not turn a slow
	// compile into a "deadlock" that fails the dry run.
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: app.DeadlockDetectionTimeout})
	start := list[0].ObservedAt
	env.SetStartTime(start)
	env.RegisterWorkflowWithOptions(workflows.IncidentWorkflow, workflow.RegisterOptions{Name: workflows.IncidentWorkflowName})
	rec := &recordingActions{}
	env.RegisterActivityWithOptions(rec.RunAction, activity.RegisterOptions{Name: activities.ActivityRunAction})

	for _, a := range list {
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.SignalAlert, a) }, 0)
	}
	var (
		state   workflows.IncidentState
		closed  bool
		voted   = map[string]int{}
		updates []string
	)
	query := func() bool {
		v, err := env.QueryWorkflow(workflows.QueryIncident)
		if err != nil {
			return false
		}
		return v.Get(&state) == nil
	}
	send := func(name string, arg any) {
		env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { updates = append(updates, fmt.Sprintf("%s refused: %v", name, err)) },
			OnAccept:   func() {},
			OnComplete: func(any, error) {},
		}, arg)
	}
	closeIt := func(reason string) {
		if !closed {
			closed = true
			send(workflows.UpdateClose, workflows.LifecycleRequest{By: "playbook-test", Roles: []string{"admin"}, Reason: reason})
		}
	}
	// Every simulated minute for three hours, then every half hour: vote on
	// pending approvals, close when done. (Each callback costs real time in
	// the test environment, so there are a few hundred, not thousands.)
	var ticks []time.Duration
	for m := time.Minute; m <= horizon; {
		ticks = append(ticks, m)
		if m < 3*time.Hour {
			m += time.Minute
		} else {
			m += 30 * time.Minute
		}
	}
	for _, m := range ticks {
		env.RegisterDelayedCallback(func() {
			if closed || !query() {
				return
			}
			for _, a := range state.Approvals {
				if a.Status != workflows.ApprovalPending && a.Status != workflows.ApprovalEscalated {
					continue
				}
				if slices.Contains(approve, "none") {
					continue
				}
				decision := "reject"
				if slices.Contains(approve, "all") || slices.Contains(approve, a.Step) {
					decision = "approve"
				}
				n := voted[a.Step] + 1
				voted[a.Step] = n
				send(workflows.UpdateDecide, workflows.DecideRequest{Step: a.Step, Decision: decision,
					By: fmt.Sprintf("tester-%d", n), Roles: a.Approvers, Comment: "playbook test"})
			}
			if state.Playbook.Status == "completed" || state.Playbook.Status == "failed" || state.Playbook.Status == "none" {
				closeIt("playbook test finished")
			}
		}, m)
	}
	env.RegisterDelayedCallback(func() { closeIt("playbook test horizon reached") }, horizon+time.Minute)
	env.ExecuteWorkflow(workflows.IncidentWorkflowName, workflows.IncidentInput{
		ID: "inc-playbook-test", Title: list[0].Title, Severity: string(list[0].Severity), Source: list[0].Source,
		Playbook: pb.Name, PlaybookDef: pb, Route: "playbook-test", ReopenWindow: time.Minute,
	})
	if err := env.GetWorkflowError(); err != nil {
		return fmt.Errorf("playbook %s: %w", pb.Name, err)
	}
	if err := env.GetWorkflowResult(&state); err != nil {
		return err
	}
	fmt.Fprintf(out, "playbook %s %s (sha256 %s): %s\n", pb.Name, pb.Version, pb.SHA256, state.Playbook.Status)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, e := range state.Timeline {
		fmt.Fprintf(tw, "+%s\t%s\t%s\t%s\n", fmtOffset(e.At.Sub(start)), e.Actor, e.Kind, strings.ReplaceAll(e.Message, "\n", " "))
	}
	_ = tw.Flush()
	fmt.Fprintln(out, "actions (recorded, not performed):")
	for _, c := range rec.calls {
		undo := ""
		if c.Undo {
			undo = " (undo)"
		}
		fmt.Fprintf(out, "  %s %s%s %s\n", c.StepID, c.Name, undo, describeArgs(c.Args))
	}
	for _, u := range updates {
		fmt.Fprintln(out, "note:", u)
	}
	return nil
}

func fmtOffset(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	h := int(d.Hours())
	m := int(d.Minutes()) % 60
	s := int(d.Seconds()) % 60
	return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
}

func describeArgs(args map[string]any) string {
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := strings.ReplaceAll(fmt.Sprint(args[k]), "\n", " ")
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, " ")
}
