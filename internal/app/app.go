// Package app is Riposte's composition root: it builds the logger, the
// Temporal client and worker, the embedded server in dev mode and the HTTP
// server from a Config, and runs them until the context ends.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/riposte-soar/riposte/activities"
	"github.com/riposte-soar/riposte/compliance"
	"github.com/riposte-soar/riposte/config"
	"github.com/riposte-soar/riposte/internal/auth"
	"github.com/riposte-soar/riposte/internal/deadlines"
	"github.com/riposte-soar/riposte/internal/devserver"
	"github.com/riposte-soar/riposte/internal/edl"
	"github.com/riposte-soar/riposte/internal/httpapi"
	"github.com/riposte-soar/riposte/internal/incidents"
	"github.com/riposte-soar/riposte/internal/ingest"
	"github.com/riposte-soar/riposte/internal/kpi"
	"github.com/riposte-soar/riposte/internal/tclient"
	"github.com/riposte-soar/riposte/workflows"
)

// Mode is how the process runs.
type Mode string

// Modes.
const (
	// ModeDev runs the embedded Temporal server, the worker and the HTTP
	// server in one process.
	ModeDev Mode = "dev"
	// ModeServe runs the HTTP server and the worker against external Temporal.
	ModeServe Mode = "serve"
	// ModeWorker runs only the worker (and health endpoints).
	ModeWorker Mode = "worker"
)

// DatabaseFile is the embedded Temporal database under the data directory.
const DatabaseFile = "temporal.db"

// Options are what Run needs.
type Options struct {
	Mode   Mode
	Config *config.Config
	Logger *zap.Logger
	// Out receives the start-up banner (URLs, addresses, the dev token).
	Out io.Writer
}

// Run starts everything for the mode and blocks until ctx is done or a
// component fails. Shutdown runs in order: HTTP, worker, client, embedded
// server.
func Run(ctx context.Context, o Options) error {
	cfg, log := o.Config, o.Logger
	if o.Out == nil {
		o.Out = io.Discard
	}
	host, _ := os.Hostname()
	identity := fmt.Sprintf("riposte-%s@%s:%d", o.Mode, host, os.Getpid())

	var (
		dev        *devserver.Server
		devToken   string
		tokenIsNew bool
	)
	tcfg := cfg.Temporal
	if o.Mode == ModeDev {
		var err error
		if len(cfg.Auth.Tokens) == 0 {
			devToken, tokenIsNew, err = auth.EnsureDevAdminToken(cfg.DataDir)
			if err != nil {
				return fmt.Errorf("dev admin token: %w", err)
			}
			cfg.Auth.Tokens = append(cfg.Auth.Tokens, config.TokenConfig{Name: "dev-admin", Role: auth.RoleAdmin, SHA256: auth.Hash(devToken)})
		}
		dbFile := ""
		if !cfg.Dev.InMemory {
			dbFile = filepath.Join(cfg.DataDir, DatabaseFile)
		}
		uiAddr := ""
		if cfg.Dev.UI {
			uiAddr = cfg.Dev.UIListen
		}
		start := time.Now()
		dev, err = devserver.Start(ctx, devserver.Options{
			FrontendAddr:     cfg.Dev.TemporalListen,
			DatabaseFile:     dbFile,
			Namespace:        cfg.Temporal.Namespace,
			Retention:        cfg.Dev.Retention,
			SearchAttributes: workflows.SearchAttributes(),
			UIAddr:           uiAddr,
			Logger:           log.With(zap.String("component", "temporal")),
			LogLevel:         serverLogLevel(log),
		})
		if err != nil {
			return fmt.Errorf("embedded temporal: %w", err)
		}
		defer func() {
			dev.Stop()
			log.Info("embedded temporal stopped")
		}()
		log.Info("embedded temporal started", zap.String("address", dev.FrontendAddress()),
			zap.String("database", dbFileOrMemory(dbFile)), zap.Duration("took", time.Since(start)))
		// In dev the client always talks to the embedded server, in plain text.
		tcfg = config.TemporalConfig{
			Address:          dev.FrontendAddress(),
			Namespace:        cfg.Temporal.Namespace,
			TaskQueue:        cfg.Temporal.TaskQueue,
			ConnectTimeout:   cfg.Temporal.ConnectTimeout,
			RetryMaxInterval: cfg.Temporal.RetryMaxInterval,
		}
	}

	tokens := make([]auth.Token, 0, len(cfg.Auth.Tokens))
	for _, t := range cfg.Auth.Tokens {
		tokens = append(tokens, auth.Token{Name: t.Name, Role: t.Role, SHA256: t.SHA256, Sources: t.Sources})
	}
	store, err := auth.NewStore(tokens)
	if err != nil {
		return fmt.Errorf("auth.tokens: %w", err)
	}
	if store.Len() == 0 && o.Mode == ModeServe {
		log.Warn("no API tokens configured (auth.tokens); every authenticated request will be refused; create one with `riposte token new`")
	}

	clientOpts, err := tclient.Options(tcfg, identity, log.With(zap.String("component", "sdk")))
	if err != nil {
		return err
	}
	if dev != nil {
		// The embedded frontend is on loopback: gzip there only burns CPU
		// (make bench: a few percent of an incident's cost).
		clientOpts.ConnectionOptions.GrpcCompression = &client.GrpcCompressionNone{}
	}
	ing, err := BuildIngestion(cfg.Ingest, cfg.Playbooks)
	if err != nil {
		return err
	}

	ready := &readiness{address: tcfg.Address, taskQueue: tcfg.TaskQueue, identity: identity}
	holder := &clientHolder{}
	blocklist := &edl.Blocklist{Client: holder.get, TaskQueue: tcfg.TaskQueue}
	cat, err := compliance.Load()
	if err != nil {
		return fmt.Errorf("regulatory catalogue: %w", err)
	}
	policy := compliance.PolicyTargets{}
	for k, v := range cfg.Compliance.PolicyTargets {
		d, _ := time.ParseDuration(v) // Validate checked it
		policy[k] = d
	}
	dl := &deadlines.Service{Client: holder.get, Namespace: tcfg.Namespace, TaskQueue: tcfg.TaskQueue,
		Catalogue: cat.Enable(cfg.Compliance.Enable...), Policy: policy}
	acts := &activities.Actions{Firewall: blocklist, Compliance: dl}
	built, err := Integrations(cfg, log.With(zap.String("component", "integrations")))
	if err != nil {
		return fmt.Errorf("integrations: %w", err)
	}
	built.Wire(acts, cfg.ThreatIntel.CacheTTL)
	if cfg.Bench.NullIntegration {
		if err := useNullIntegration(acts, log.With(zap.String("component", "activities"))); err != nil {
			return fmt.Errorf("bench.null_integration: %w", err)
		}
	}
	var slackDeps *httpapi.SlackDeps
	if cfg.Slack.BotToken.IsSet() {
		chat := newSlackChat(cfg.Slack)
		acts.Chat = chat
		slackDeps = httpapi.NewSlackDeps(chat.c, cfg.Slack.SigningSecret.Reveal(), cfg.Slack.Users, cfg.Slack.Usergroups)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	wm := newMetrics(reg)
	acts.Observe = wm.observeIntegration
	if clientOpts.MetricsHandler, err = sdkMetricsHandler(reg, wm, log.With(zap.String("component", "metrics"))); err != nil {
		return err
	}
	deps := httpapi.Deps{
		Logger:       log.With(zap.String("component", "http")),
		Ready:        ready,
		Tokens:       store,
		MaxBodyBytes: cfg.Ingest.MaxBodyBytes,
		Metrics:      httpapi.NewMetrics(reg),
		Gatherer:     reg,
	}
	if o.Mode != ModeWorker {
		deps.Sources = ing.Sources
		deps.Playbooks = ing.Playbooks
		deps.Console = httpapi.ConsoleConfig{PublicURL: cfg.HTTP.PublicURL, SessionTTL: cfg.HTTP.SessionTTL}
		deps.Recorder = ingest.New(ingest.Options{
			Client: holder.get, Namespace: tcfg.Namespace, TaskQueue: tcfg.TaskQueue, Router: ing.Router,
			Playbooks: ing.Playbooks, ReopenWindow: cfg.Incident.ReopenWindow, ReminderFraction: cfg.Slack.ReminderFraction,
			IncidentChannels: cfg.Slack.BotToken.IsSet() && cfg.Slack.IncidentChannels,
			MaxHistoryEvents: cfg.Incident.MaxHistoryEvents, Identity: identity, Logger: log.With(zap.String("component", "ingest")),
		})
		reader := &incidents.Reader{Client: holder.get, Namespace: tcfg.Namespace}
		deps.Incidents, deps.Writer, deps.Auditor = reader, reader, reader
		deps.Blocklist = blocklist
		deps.Slack = slackDeps
		deps.Deadlines = dl
		reg.MustRegister(&deadlines.Collector{S: dl})
		reg.MustRegister(&incidents.Collector{Client: holder.get, Namespace: tcfg.Namespace})
		deps.KPI = &kpi.Service{Incidents: reader, Deadlines: dl}
	}

	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http.listen: %w", err)
	}
	if o.Mode != ModeWorker && deps.Slack != nil && cfg.Slack.AppToken.IsSet() {
		runSocketMode(ctx, cfg.Slack, httpapi.NewInteractionHandler(deps), log.With(zap.String("component", "slack")))
	}
	srv := &http.Server{
		Handler:           httpapi.NewHandler(deps),
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ErrorLog:          zap.NewStdLog(log.With(zap.String("component", "http"))),
	}
	fatal := make(chan error, 2)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fatal <- fmt.Errorf("http server: %w", err)
		}
	}()
	httpAddr := ln.Addr().String()
	log.Info("http server listening", zap.String("address", httpAddr))
	printBanner(o.Out, o.Mode, cfg, httpAddr, tcfg, dev, devToken, tokenIsNew)

	// Connecting runs in the background so that /healthz and /readyz answer
	// while Temporal is unreachable.
	var (
		mu sync.Mutex
		c  client.Client
		w  worker.Worker
	)
	connCtx, cancelConn := context.WithCancel(ctx)
	connDone := make(chan struct{})
	go func() {
		defer close(connDone)
		cc, ww, err := connect(connCtx, o.Mode, clientOpts, tcfg, cfg.Worker, log, ready, fatal, acts)
		if err != nil {
			return
		}
		mu.Lock()
		c, w = cc, ww
		mu.Unlock()
		holder.set(cc)
		ready.setWorker(cc)
		log.Info("worker polling", zap.String("task_queue", tcfg.TaskQueue), zap.String("namespace", tcfg.Namespace))
	}()

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case runErr = <-fatal:
		log.Error("shutting down after a failure", zap.Error(runErr))
	}

	// 1. HTTP: stop taking requests, finish those in flight.
	shCtx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout)
	if err := srv.Shutdown(shCtx); err != nil {
		log.Warn("http shutdown", zap.Error(err))
	}
	cancel()
	// 2-3. Worker, then client.
	cancelConn()
	<-connDone
	mu.Lock()
	if w != nil {
		w.Stop()
		log.Info("worker stopped")
	}
	if c != nil {
		c.Close()
	}
	mu.Unlock()
	// 4. The embedded server stops in the deferred call above.
	return runErr
}

// connect dials Temporal until it answers, then starts the worker. It retries
// with capped exponential backoff and says clearly what it cannot reach.
func connect(ctx context.Context, mode Mode, opts client.Options, tcfg config.TemporalConfig, wcfg config.WorkerConfig,
	log *zap.Logger, ready *readiness, fatal chan<- error, acts *activities.Actions) (client.Client, worker.Worker, error) {
	backoff := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		c, w, err := tryConnect(ctx, mode, opts, tcfg, wcfg, log, fatal, acts)
		if err == nil {
			if attempt > 1 {
				log.Info("reached temporal", zap.String("address", tcfg.Address), zap.Int("attempts", attempt))
			}
			return c, w, nil
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		ready.setConnErr(err)
		log.Warn("cannot reach Temporal at "+tcfg.Address+"; retrying",
			zap.String("address", tcfg.Address), zap.String("namespace", tcfg.Namespace),
			zap.Int("attempt", attempt), zap.Duration("retry_in", backoff), zap.Error(err))
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, tcfg.RetryMaxInterval)
	}
}

func tryConnect(ctx context.Context, mode Mode, opts client.Options, tcfg config.TemporalConfig, wcfg config.WorkerConfig,
	log *zap.Logger, fatal chan<- error, acts *activities.Actions) (client.Client, worker.Worker, error) {
	dctx, cancel := context.WithTimeout(ctx, tcfg.ConnectTimeout)
	defer cancel()
	c, err := client.DialContext(dctx, opts)
	if err != nil {
		return nil, nil, err
	}
	if mode != ModeDev {
		// Self-hosted clusters accept this; Temporal Cloud needs the
		// attributes created in its console, so a failure only warns.
		if n, err := tclient.EnsureSearchAttributes(dctx, c, tcfg.Namespace, workflows.SearchAttributes()); err != nil {
			log.Warn("search attributes are missing and could not be added; create them with `temporal operator search-attribute create`",
				zap.String("namespace", tcfg.Namespace), zap.Error(err))
		} else if n > 0 {
			log.Info("added search attributes", zap.Int("count", n))
		}
	}
	w := worker.New(c, tcfg.TaskQueue, worker.Options{
		DeadlockDetectionTimeout:               DeadlockDetectionTimeout,
		MaxConcurrentActivityExecutionSize:     wcfg.MaxConcurrentActivities,
		MaxConcurrentWorkflowTaskExecutionSize: wcfg.MaxConcurrentWorkflowTasks,
		OnFatalError: func(err error) {
			select {
			case fatal <- fmt.Errorf("worker: %w", err):
			default:
			}
		},
	})
	register(w, acts)
	if err := w.Start(); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("start worker: %w", err)
	}
	return c, w, nil
}

// DeadlockDetectionTimeout is how long a workflow task may run without
// yielding before the SDK calls it a deadlock. Playbook expressions (CEL)
// are evaluated in workflow code, and on a small, busy machine the SDK's 1 s
// default fails healthy tasks.
const DeadlockDetectionTimeout = 10 * time.Second

// register is the one place that lists what the worker runs.
func register(w worker.Registry, acts *activities.Actions) {
	w.RegisterWorkflowWithOptions(workflows.IncidentWorkflow, workflowOptions(workflows.IncidentWorkflowName))
	w.RegisterWorkflowWithOptions(workflows.BlocklistWorkflow, workflowOptions(workflows.BlocklistWorkflowName))
	w.RegisterWorkflowWithOptions(workflows.DeadlineWorkflow, workflowOptions(workflows.DeadlineWorkflowName))
	w.RegisterActivityWithOptions(acts.RunAction, activity.RegisterOptions{Name: activities.ActivityRunAction})
	w.RegisterActivityWithOptions(acts.NotifyApproval, activity.RegisterOptions{Name: activities.ActivityNotifyApproval})
	w.RegisterActivityWithOptions(acts.ExpireBlocks, activity.RegisterOptions{Name: activities.ActivityExpireBlocks})
}

func serverLogLevel(l *zap.Logger) zapcore.Level {
	if l.Core().Enabled(zapcore.DebugLevel) {
		return zapcore.InfoLevel
	}
	return zapcore.WarnLevel
}

func dbFileOrMemory(f string) string {
	if f == "" {
		return "memory"
	}
	return f
}

func printBanner(out io.Writer, mode Mode, cfg *config.Config, httpAddr string, tcfg config.TemporalConfig,
	dev *devserver.Server, token string, tokenIsNew bool) {
	fmt.Fprintf(out, "Riposte %s\n", mode)
	if mode != ModeWorker {
		fmt.Fprintf(out, "  Console:     http://%s/\n", httpAddr)
		fmt.Fprintf(out, "  API:         http://%s/v1/\n", httpAddr)
	}
	fmt.Fprintf(out, "  Health:      http://%s/readyz\n", httpAddr)
	fmt.Fprintf(out, "  Temporal:    %s (namespace %s, task queue %s)\n", tcfg.Address, tcfg.Namespace, tcfg.TaskQueue)
	if dev != nil {
		if dev.UIAddress() != "" {
			fmt.Fprintf(out, "  Temporal UI: http://%s/\n", dev.UIAddress())
		}
		if cfg.Dev.InMemory {
			fmt.Fprintf(out, "  Data:        in memory (lost on exit)\n")
		} else {
			fmt.Fprintf(out, "  Data:        %s\n", cfg.DataDir)
		}
		if token != "" {
			state := "stored in"
			if tokenIsNew {
				state = "new, saved to"
			}
			fmt.Fprintf(out, "  Admin token: %s (%s %s)\n", token, state, filepath.Join(cfg.DataDir, auth.AdminTokenFile))
		}
	}
}
