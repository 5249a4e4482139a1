package main

import (
	"github.com/spf13/cobra"

	"github.com/riposte-soar/riposte/config"
	"github.com/riposte-soar/riposte/internal/app"
)

func newServeCmd(g *globalFlags) *cobra.Command {
	var httpAddr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the API and a worker against an external Temporal cluster",
		Long: `serve runs the HTTP API, webhooks and console together with a worker, against
the Temporal cluster or Temporal Cloud namespace named by temporal.address and
temporal.namespace. If Temporal cannot be reached it says so, keeps retrying
with backoff and reports not ready on /readyz.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(g, func(c *config.Config) {
				if cmd.Flags().Changed("http") {
					c.HTTP.Listen = httpAddr
				}
			})
			if err != nil {
				return err
			}
			return runMode(cmd, app.ModeServe, cfg)
		},
	}
	cmd.Flags().StringVar(&httpAddr, "http", config.Default().HTTP.Listen, "HTTP listen address (http.listen)")
	return cmd
}
