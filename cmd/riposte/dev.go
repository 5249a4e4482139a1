package main

import (
	"github.com/spf13/cobra"

	"github.com/riposte-soar/riposte/config"
	"github.com/riposte-soar/riposte/internal/app"
)

func newDevCmd(g *globalFlags) *cobra.Command {
	var (
		dataDir, httpAddr, temporalAddr, uiAddr string
		ui, inMemory                            bool
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run everything in one process on an embedded Temporal server",
		Long: `dev starts an embedded Temporal server (SQLite under the data directory), the
worker and the HTTP server in one process, with working defaults and no set-up.
Restarted on the same data directory, it resumes every incident. With no API
token configured, it creates an admin token in <data-dir>/admin.token.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(g, func(c *config.Config) {
				f := cmd.Flags()
				if f.Changed("data-dir") {
					c.DataDir = dataDir
				}
				if f.Changed("http") {
					c.HTTP.Listen = httpAddr
				}
				if f.Changed("temporal") {
					c.Dev.TemporalListen = temporalAddr
				}
				if f.Changed("ui") {
					c.Dev.UI = ui
				}
				if f.Changed("ui-addr") {
					c.Dev.UIListen = uiAddr
				}
				if f.Changed("in-memory") {
					c.Dev.InMemory = inMemory
				}
			})
			if err != nil {
				return err
			}
			return runMode(cmd, app.ModeDev, cfg)
		},
	}
	d := config.Default()
	f := cmd.Flags()
	f.StringVar(&dataDir, "data-dir", d.DataDir, "directory for the embedded Temporal database and the admin token (data_dir)")
	f.StringVar(&httpAddr, "http", d.HTTP.Listen, "HTTP listen address for the API, webhooks and console (http.listen)")
	f.StringVar(&temporalAddr, "temporal", d.Dev.TemporalListen, "gRPC listen address of the embedded Temporal server (dev.temporal_listen)")
	f.BoolVar(&ui, "ui", d.Dev.UI, "serve the Temporal Web UI (dev.ui)")
	f.StringVar(&uiAddr, "ui-addr", d.Dev.UIListen, "listen address of the Temporal Web UI (dev.ui_listen)")
	f.BoolVar(&inMemory, "in-memory", d.Dev.InMemory, "keep Temporal's database in memory; nothing survives exit (dev.in_memory)")
	return cmd
}
