package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/riposte-soar/riposte/config"
	"github.com/riposte-soar/riposte/internal/app"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2 // bad flags or configuration
)

// usageError marks errors that exit with status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

type globalFlags struct {
	configFile string
}

func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "riposte: %s\n", indentJoined(ue.err))
		return exitUsage
	}
	// Cobra's own argument errors carry no type; these are the ones it makes.
	if msg := err.Error(); strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "required flag") ||
		strings.HasPrefix(msg, "accepts ") || strings.HasPrefix(msg, "unknown flag") {
		fmt.Fprintf(stderr, "riposte: %s\nRun 'riposte --help' for usage.\n", err)
		return exitUsage
	}
	fmt.Fprintf(stderr, "riposte: %s\n", err)
	return exitFailure
}

// indentJoined prints each of several joined errors on its own line.
func indentJoined(err error) string {
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) && len(j.Unwrap()) > 1 {
		var b strings.Builder
		b.WriteString("invalid configuration:")
		for _, e := range j.Unwrap() {
			b.WriteString("\n  ")
			b.WriteString(e.Error())
		}
		return b.String()
	}
	return err.Error()
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:           "riposte",
		Short:         "Riposte: durable incident-response playbooks on Temporal",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&g.configFile, "config", "", "config file (YAML); default riposte.yaml in the working directory if present, or $RIPOSTE_CONFIG")
	root.AddCommand(newDevCmd(g), newServeCmd(g), newWorkerCmd(g), newVersionCmd(), newTokenCmd(),
		newAlertCmd(g), newIncidentCmd(), newPlaybookCmd(g), newDeadlinesCmd(), newIntegrationsCmd(g))
	return root
}

// loadConfig loads the file and environment, lets the caller apply flag
// overrides, then validates. Every problem is a usage error (exit 2).
func loadConfig(g *globalFlags, override func(*config.Config)) (*config.Config, error) {
	file, required := "riposte.yaml", false
	if env := os.Getenv("RIPOSTE_CONFIG"); env != "" {
		file, required = env, true
	}
	if g.configFile != "" {
		file, required = g.configFile, true
	}
	cfg, err := config.Load(config.LoadOptions{File: file, FileRequired: required, Environ: os.Environ()})
	if err != nil {
		return nil, usageError{err}
	}
	if override != nil {
		override(cfg)
	}
	if err := cfg.Validate(); err != nil {
		return nil, usageError{err}
	}
	// Routing expressions compile here so that a bad one is a config error.
	if _, err := app.BuildIngestion(cfg.Ingest, cfg.Playbooks); err != nil {
		return nil, usageError{err}
	}
	return cfg, nil
}

// runMode is shared by dev, serve and worker.
func runMode(cmd *cobra.Command, mode app.Mode, cfg *config.Config) error {
	format := cfg.Log.Format
	if format == "" {
		format = "json"
		if mode == app.ModeDev {
			format = "console"
		}
	}
	log, err := app.NewLogger(cmd.ErrOrStderr(), cfg.Log.Level, format)
	if err != nil {
		return usageError{err}
	}
	defer func() { _ = log.Sync() }()
	log = log.With(zap.String("mode", string(mode)))

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal, a second one kills the process at once.
		<-ctx.Done()
		stop()
	}()
	if err := app.Run(ctx, app.Options{Mode: mode, Config: cfg, Logger: log, Out: cmd.OutOrStdout()}); err != nil {
		return err
	}
	log.Info("stopped cleanly")
	return nil
}
