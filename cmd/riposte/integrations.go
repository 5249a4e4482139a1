package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/riposte-soar/riposte/internal/app"
)

// errChecksFailed makes `integrations check` exit 1 after its report.
var errChecksFailed = errors.New("integration checks failed")

func newIntegrationsCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "integrations", Short: "Inspect the configured integrations"}
	var timeout time.Duration
	check := &cobra.Command{
		Use:   "check",
		Short: "Try each configured integration's credentials and reachability, one line each",
		Long: "Check tries every configured ticketing system, vendor firewall, threat-intel provider and outbound webhook " +
			"with a cheap read-only call (webhooks: a TCP connection only; nothing is posted) and prints one line per integration. " +
			"Exit status 1 when any fails.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(g, nil)
			if err != nil {
				return err
			}
			built, err := app.Integrations(cfg, zap.NewNop())
			if err != nil {
				return usageError{err}
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "ok    edl: built in, served at /v1/blocklist/{ip,domain,url}.txt\n")
			list := built.List()
			failed := 0
			for _, in := range list {
				ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
				err := in.Check(ctx)
				cancel()
				if err != nil {
					failed++
					fmt.Fprintf(out, "FAIL  %s: %v\n", in.Name, err)
					continue
				}
				fmt.Fprintf(out, "ok    %s: %s\n", in.Name, in.Detail)
			}
			switch {
			case len(list) == 0:
				fmt.Fprintln(out, "no other integrations configured (see ticketing, firewall, threat_intel and webhooks in the config)")
			case failed > 0:
				fmt.Fprintf(out, "%d of %d configured integrations failed\n", failed, len(list))
				return errChecksFailed
			default:
				fmt.Fprintf(out, "all %d configured integrations ok\n", len(list))
			}
			return nil
		},
	}
	check.Flags().DurationVar(&timeout, "timeout", 15*time.Second, "time allowed for each check")
	cmd.AddCommand(check)
	return cmd
}
