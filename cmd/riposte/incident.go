package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/riposte-soar/riposte/internal/incidents"
	"github.com/riposte-soar/riposte/workflows"
)

func newIncidentCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "incident", Short: "List and inspect incidents"}
	cmd.AddCommand(newIncidentListCmd(), newIncidentShowCmd(), newIncidentDecideCmd("approve"), newIncidentDecideCmd("reject"),
		newIncidentLifecycleCmd("close"), newIncidentLifecycleCmd("reopen"))
	return cmd
}

func newIncidentListCmd() *cobra.Command {
	var (
		api    apiFlags
		f      incidents.Filter
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List incidents, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := incidents.ValidateFilter(f); err != nil {
				return usageError{err}
			}
			q := url.Values{}
			for k, v := range map[string]string{"status": f.Status, "severity": f.Severity, "playbook": f.Playbook} {
				if v != "" {
					q.Set(k, v)
				}
			}
			if f.Limit > 0 {
				q.Set("limit", strconv.Itoa(f.Limit))
			}
			var out struct {
				Incidents []incidents.Summary `json:"incidents"`
			}
			if _, err := api.call("GET", "/v1/incidents?"+q.Encode(), nil, &out); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), out.Incidents)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSEVERITY\tSTATUS\tPHASE\tALERTS\tLAST SEEN\tPLAYBOOK\tTITLE")
			for _, i := range out.Incidents {
				last := "-"
				if !i.LastSeen.IsZero() {
					last = i.LastSeen.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", i.ID, i.Severity, i.Status, i.Phase, i.AlertCount, last, i.Playbook, i.Title)
			}
			return tw.Flush()
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Status, "status", "", "open or closed")
	fl.StringVar(&f.Severity, "severity", "", "informational, low, medium, high or critical")
	fl.StringVar(&f.Playbook, "playbook", "", "playbook name")
	fl.IntVar(&f.Limit, "limit", 100, "at most this many (1-1000)")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	api.register(cmd)
	return cmd
}

func newIncidentShowCmd() *cobra.Command {
	var api apiFlags
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show an incident: alerts, observables and timeline, as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var st workflows.IncidentState
			if _, err := api.call("GET", "/v1/incidents/"+url.PathEscape(args[0]), nil, &st); err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), st)
		},
	}
	api.register(cmd)
	return cmd
}

func newIncidentDecideCmd(decision string) *cobra.Command {
	var (
		api     apiFlags
		comment string
	)
	cmd := &cobra.Command{
		Use:   decision + " ID STEP",
		Short: strings.ToUpper(decision[:1]) + decision[1:] + " a pending approval step",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, _ := json.Marshal(map[string]string{"decision": decision, "comment": comment})
			var out workflows.ApprovalState
			if _, err := api.call("POST", "/v1/incidents/"+url.PathEscape(args[0])+"/approvals/"+url.PathEscape(args[1]), body, &out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s (%d of %d approvals)\n", out.Step, out.Status, countApprovals(out), out.Required)
			return nil
		},
	}
	cmd.Flags().StringVar(&comment, "comment", "", "comment recorded with the decision")
	api.register(cmd)
	return cmd
}

func countApprovals(a workflows.ApprovalState) int {
	n := 0
	for _, d := range a.Decisions {
		if d.Decision == "approve" {
			n++
		}
	}
	return n
}

func newIncidentLifecycleCmd(verb string) *cobra.Command {
	var (
		api    apiFlags
		reason string
	)
	cmd := &cobra.Command{
		Use:   verb + " ID --reason TEXT",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " an incident",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, _ := json.Marshal(map[string]string{"reason": reason})
			var st workflows.IncidentState
			if _, err := api.call("POST", "/v1/incidents/"+url.PathEscape(args[0])+"/"+verb, body, &st); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", st.ID, st.Status)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded in the timeline; required)")
	_ = cmd.MarkFlagRequired("reason")
	api.register(cmd)
	return cmd
}
