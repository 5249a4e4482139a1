package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/riposte-soar/riposte/alerts"
	"github.com/riposte-soar/riposte/internal/app"
)

func newAlertCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "alert", Short: "Normalise or send SIEM alerts"}
	cmd.AddCommand(newAlertNormalizeCmd(g), newAlertSendCmd())
	return cmd
}

func newAlertNormalizeCmd(g *globalFlags) *cobra.Command {
	var source string
	cmd := &cobra.Command{
		Use:   "normalize --source S FILE",
		Short: "Print the normalised alerts of a webhook body as a JSON array; starts nothing",
		Long: `normalize runs the source's normaliser (built-in formats are sources of the same
name; configured sources come from the config file) on FILE ("-" for stdin)
and prints the alerts as a JSON array. It exits 1 when the body is not of the
source's format.`,
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
			src, ok := ing.Sources[source]
			if !ok {
				return usageError{fmt.Errorf("--source: unknown source %q", source)}
			}
			body, err := readInput(args[0], cmd.InOrStdin())
			if err != nil {
				return err
			}
			opts := src.Source.Options
			opts.ReceivedAt = time.Now()
			list, err := src.Source.Normalizer.Normalize(body, opts)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if list == nil {
				list = []alerts.Alert{}
			}
			return printJSON(cmd.OutOrStdout(), list)
		},
	}
	cmd.Flags().StringVar(&source, "source", "", "source name, e.g. alertmanager, wazuh or a configured source (required)")
	_ = cmd.MarkFlagRequired("source")
	return cmd
}

func newAlertSendCmd() *cobra.Command {
	var (
		source string
		api    apiFlags
	)
	cmd := &cobra.Command{
		Use:   "send --source S FILE",
		Short: "POST a webhook body to a running Riposte, as the SIEM would",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := readInput(args[0], cmd.InOrStdin())
			if err != nil {
				return err
			}
			var out json.RawMessage
			if _, err := api.call("POST", "/v1/alerts/"+url.PathEscape(source), body, &out); err != nil {
				return err
			}
			var v any
			_ = json.Unmarshal(out, &v)
			return printJSON(cmd.OutOrStdout(), v)
		},
	}
	cmd.Flags().StringVar(&source, "source", "", "source name (required)")
	_ = cmd.MarkFlagRequired("source")
	api.register(cmd)
	return cmd
}
