package main

import (
	"github.com/spf13/cobra"

	"github.com/riposte-soar/riposte/config"
	"github.com/riposte-soar/riposte/internal/app"
)

func newWorkerCmd(g *globalFlags) *cobra.Command {
	var httpAddr string
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run only a worker against an external Temporal cluster",
		Long: `worker runs workflows and activities only, so that workers can scale out
beside one or more 'riposte serve'. It serves /healthz and /readyz on
http.listen for the orchestrator's probes.`,
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
			return runMode(cmd, app.ModeWorker, cfg)
		},
	}
	cmd.Flags().StringVar(&httpAddr, "http", config.Default().HTTP.Listen, "listen address for health and metrics (http.listen)")
	return cmd
}
