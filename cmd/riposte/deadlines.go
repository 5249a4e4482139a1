package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/riposte-soar/riposte/compliance"
	"github.com/riposte-soar/riposte/internal/deadlines"
	"github.com/riposte-soar/riposte/workflows"
)

func newDeadlinesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "deadlines", Short: "Regulatory notification deadlines"}
	cmd.AddCommand(newDeadlinesPlanCmd(), newDeadlinesListCmd(), newDeadlinesSubmitCmd())
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

func newDeadlinesListCmd() *cobra.Command {
	var (
		api                      apiFlags
		status, regime, incident string
		asJSON                   bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List regulatory obligations, soonest due first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"status": status, "regime": regime, "incident": incident} {
				if v != "" {
					q.Set(k, v)
				}
			}
			var out struct {
				Deadlines []deadlines.Obligation `json:"deadlines"`
			}
			if _, err := api.call("GET", "/v1/deadlines?"+q.Encode(), nil, &out); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), out.Deadlines)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tINCIDENT\tSTAGE\tSTATUS\tDUE (UTC)\tREMAINING")
			for _, o := range out.Deadlines {
				due, left := "-", "-"
				if o.DueAt != nil {
					due = o.DueAt.UTC().Format(time.RFC3339)
				}
				if o.RemainingSeconds != nil {
					left = (time.Duration(*o.RemainingSeconds) * time.Second).String()
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", o.ID, o.IncidentID, o.StageID, o.Status, due, left)
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&status, "status", "", "waiting, open, late, submitted, submitted_late, deferred or cancelled")
	f.StringVar(&regime, "regime", "", "regime id, e.g. gdpr")
	f.StringVar(&incident, "incident", "", "incident ID")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	api.register(cmd)
	return cmd
}

func newDeadlinesSubmitCmd() *cobra.Command {
	var (
		api                          apiFlags
		reference, submittedAt, note string
		reasons                      string
	)
	cmd := &cobra.Command{
		Use:   "submit ID --reference R [--submitted-at T]",
		Short: "Record that a report was filed (compliance or admin role)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]any{"reference": reference, "note": note, "reasons_for_delay": reasons}
			if submittedAt != "" {
				t, err := time.Parse(time.RFC3339, submittedAt)
				if err != nil {
					return usageError{fmt.Errorf("--submitted-at: %q is not an RFC 3339 time", submittedAt)}
				}
				body["submitted_at"] = t.UTC()
			}
			b, _ := json.Marshal(body)
			var st workflows.DeadlineState
			if _, err := api.call("POST", "/v1/deadlines/"+url.PathEscape(args[0])+"/submissions", b, &st); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", st.ID, st.Status)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&reference, "reference", "", "the authority's reference number (required)")
	f.StringVar(&submittedAt, "submitted-at", "", "when it was filed, RFC 3339 (default now)")
	f.StringVar(&note, "note", "", "note kept with the record")
	f.StringVar(&reasons, "reasons", "", "reasons for delay (required when filed after the due time, as GDPR Art. 33(1) asks)")
	_ = cmd.MarkFlagRequired("reference")
	api.register(cmd)
	return cmd
}
