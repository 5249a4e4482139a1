package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/riposte-soar/riposte/compliance"
)

func newDeadlinesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "deadlines", Short: "Regulatory notification deadlines"}
	cmd.AddCommand(newDeadlinesPlanCmd())
	return cmd
}

func newDeadlinesPlanCmd() *cobra.Command {
	var (
		regime string
		events []string
	)
	cmd := &cobra.Command{
		Use:   "plan --regime ID --event NAME=RFC3339 ...",
		Short: "Print the due times that the catalogue and calendars give for a set of events; starts nothing",
		Long: `plan computes, from the regulatory catalogue and its holiday calendars, the
due time of every stage of the regime (or "all") that the events arm, and
prints them as a JSON array: {"id","regulation","stage","recipient","due_at",
"basis","depends_on"}, with "outer_bound" where the law gives a later limit.
due_at is null for a stage that waits on another stage's submission.
Event names: aware, classified_major, materiality_determined, discovered,
assessed_notifiable, ransom_paid, fix_available, handling_completed and
submitted:<stage id>.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ev := compliance.Events{}
			for _, e := range events {
				name, value, ok := strings.Cut(e, "=")
				if !ok || name == "" {
					return usageError{fmt.Errorf("--event %q: want NAME=RFC3339", e)}
				}
				t, err := time.Parse(time.RFC3339, value)
				if err != nil {
					return usageError{fmt.Errorf("--event %s: %q is not an RFC 3339 time (e.g. 2026-11-23T10:00:00Z)", name, value)}
				}
				ev[name] = t.UTC()
			}
			cat, err := compliance.Load()
			if err != nil {
				return err
			}
			plans, err := cat.Plan(regime, ev, nil)
			if err != nil {
				return usageError{fmt.Errorf("--regime %s: %w", regime, err)}
			}
			if plans == nil {
				plans = []compliance.Plan{}
			}
			return printJSON(cmd.OutOrStdout(), plans)
		},
	}
	cmd.Flags().StringVar(&regime, "regime", "", "regime id (e.g. gdpr, nis2, dora, sec), a stage id, or all (required)")
	cmd.Flags().StringArrayVar(&events, "event", nil, "NAME=RFC3339, repeatable")
	_ = cmd.MarkFlagRequired("regime")
	return cmd
}
