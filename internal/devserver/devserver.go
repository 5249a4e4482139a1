// Package devserver runs an embedded, single-node Temporal server on SQLite
// for `riposte dev` and for integration tests, so that nothing else has to be
// installed to run Riposte.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/server/common/cluster"
	tconfig "go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	tlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/riposte-soar/riposte/internal/freeport"
	"github.com/riposte-soar/riposte/internal/tclient"
)

const (
	clusterName = "active"
	// clusterID is fixed so that cluster metadata stored in an existing
	// database matches on every restart.
	clusterID = "8c6f5a43-6a3a-4d0e-9a55-1e8a1f0d5e01"
)

// Options configures the embedded server.
type Options struct {
	// FrontendAddr is the gRPC host:port that clients and workers dial.
	FrontendAddr string
	// DatabaseFile is the SQLite file; empty runs in memory (tests only:
	// nothing survives Stop).
	DatabaseFile string
	Namespace    string
	// Retention is how long closed workflows are kept; 0 keeps 24 h.
	Retention time.Duration
	// SearchAttributes are registered on a new database and added to an
	// existing one when missing.
	SearchAttributes map[string]enumspb.IndexedValueType
	// UIAddr, when set, serves the Temporal Web UI there.
	UIAddr string
	Logger *zap.Logger
	// LogLevel is the minimum level of the server's own logs, which are very
	// chatty at info.
	LogLevel zapcore.Level
	// DynamicConfig overrides or adds dynamic config values.
	DynamicConfig map[string]any
}

// namespaceRefresh is how often each service reloads the namespace (and
// with it the search-attribute aliases) from the database.
const namespaceRefresh = time.Second

// Server is a running embedded Temporal server.
type Server struct {
	server   temporal.Server
	ui       stopper
	frontend string
	uiAddr   string
	level    zap.AtomicLevel
}

type stopper interface{ Stop() }

// Start creates the schema and namespace if needed, starts every Temporal
// service in this process and makes sure the search attributes exist. It
// returns once the frontend answers.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Namespace == "" {
		return nil, errors.New("devserver: namespace is required")
	}
	host, port, err := splitHostPort(opts.FrontendAddr)
	if err != nil {
		return nil, fmt.Errorf("devserver: frontend address: %w", err)
	}
	sqlConf, created, err := prepareDatabase(opts)
	if err != nil {
		return nil, err
	}
	conf, err := serverConfig(host, port, sqlConf)
	if err != nil {
		return nil, err
	}

	dyn := dynamicconfig.StaticClient{
		// One node: more partitions only spread tasks thin and push p99 to
		// seconds.
		dynamicconfig.MatchingNumTaskqueueReadPartitions.Key():  1,
		dynamicconfig.MatchingNumTaskqueueWritePartitions.Key(): 1,
		// Not ForceSearchAttributesCacheRefreshOnRead (a testing aid): it
		// reads the namespace and cluster metadata from SQLite, under a
		// global lock, for every visibility row and every search-attribute
		// check, so a list of 10,000 obligations hit the frontend's
		// persistence rate limit (503). A short namespace refresh instead
		// makes attributes added at start usable within a second or two.
		dynamicconfig.NamespaceCacheRefreshInterval.Key():                namespaceRefresh,
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key():                 8192,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
	}
	for k, v := range opts.DynamicConfig {
		dyn[dynamicconfig.MakeKey(k)] = v
	}

	level := zap.NewAtomicLevelAt(opts.LogLevel)
	serverLog := opts.Logger.Named("temporal").WithOptions(zap.IncreaseLevel(level))
	staticHost := func(svc primitives.ServiceName) static.Hosts {
		return static.SingleLocalHost(net.JoinHostPort(host, strconv.Itoa(conf.Services[string(svc)].RPC.GRPCPort)))
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(map[primitives.ServiceName]static.Hosts{
			primitives.FrontendService: staticHost(primitives.FrontendService),
			primitives.MatchingService: staticHost(primitives.MatchingService),
			primitives.HistoryService:  staticHost(primitives.HistoryService),
			primitives.WorkerService:   staticHost(primitives.WorkerService),
		}),
		temporal.WithLogger(tlog.NewZapLogger(serverLog)),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		return nil, fmt.Errorf("devserver: create server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("devserver: start server: %w", err)
	}
	s := &Server{server: srv, frontend: net.JoinHostPort(host, strconv.Itoa(port)), level: level}
	if err := s.prepareNamespace(ctx, opts, !created); err != nil {
		s.Stop()
		return nil, err
	}
	if opts.UIAddr != "" {
		ui, err := startUI(opts.UIAddr, s.frontend, opts.Namespace, opts.Logger)
		if err != nil {
			s.Stop()
			return nil, err
		}
		s.ui, s.uiAddr = ui, opts.UIAddr
	}
	return s, nil
}

// FrontendAddress is the gRPC address to dial.
func (s *Server) FrontendAddress() string { return s.frontend }

// UIAddress is the Web UI's address, or "" when the UI is off.
func (s *Server) UIAddress() string { return s.uiAddr }

// Stop stops the UI and every Temporal service.
func (s *Server) Stop() {
	// Services stopping one by one log connection errors to each other that
	// mean nothing during a shutdown.
	s.level.SetLevel(zapcore.ErrorLevel)
	if s.ui != nil {
		s.ui.Stop()
	}
	s.server.Stop()
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("invalid port in %q", addr)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return host, port, nil
}

// prepareDatabase builds the SQLite config and, for a new database, creates
// the schema and registers the namespace with its search attributes.
func prepareDatabase(opts Options) (sqlConf *tconfig.SQL, created bool, err error) {
	sqlConf = &tconfig.SQL{PluginName: sqliteplugin.PluginName, MaxConns: 1, MaxIdleConns: 1}
	if opts.DatabaseFile == "" {
		sqlConf.ConnectAttributes = map[string]string{"mode": "memory", "cache": "shared"}
		// A unique name keeps two in-memory servers in one process apart.
		sqlConf.DatabaseName = "riposte-" + strconv.FormatUint(rand.Uint64(), 36)
		created = true
	} else {
		// WAL with synchronous=normal and a single connection measured 3x the
		// default journal here; more connections cause SQLITE_BUSY.
		sqlConf.ConnectAttributes = map[string]string{
			"mode":         "rwc",
			"journal_mode": "wal",
			"synchronous":  "normal",
			"busy_timeout": "10000",
		}
		sqlConf.DatabaseName = opts.DatabaseFile
		if err := os.MkdirAll(filepath.Dir(opts.DatabaseFile), 0o700); err != nil {
			return nil, false, fmt.Errorf("devserver: create data directory: %w", err)
		}
		if _, err := os.Stat(opts.DatabaseFile); errors.Is(err, os.ErrNotExist) {
			if err := sqliteschema.SetupSchema(sqlConf); err != nil {
				_ = os.Remove(opts.DatabaseFile)
				return nil, false, fmt.Errorf("devserver: create schema in %s: %w", opts.DatabaseFile, err)
			}
			created = true
		} else if err != nil {
			return nil, false, fmt.Errorf("devserver: database file: %w", err)
		}
	}
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, opts.Namespace, false, opts.SearchAttributes)
	if err != nil {
		return nil, false, fmt.Errorf("devserver: namespace %q: %w", opts.Namespace, err)
	}
	// A no-op when the namespace exists; missing search attributes are then
	// added through the operator service once the server runs.
	if err := sqliteschema.CreateNamespaces(sqlConf, ns); err != nil {
		return nil, false, fmt.Errorf("devserver: register namespace %q: %w", opts.Namespace, err)
	}
	return sqlConf, created, nil
}

func serverConfig(host string, port int, sqlConf *tconfig.SQL) (*tconfig.Config, error) {
	freePort := func() (int, error) {
		p, err := freeport.Pick(host)
		if err != nil {
			return 0, fmt.Errorf("devserver: %w", err)
		}
		return p, nil
	}
	ports := make([]int, 4)
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	hp := func(p int) string { return net.JoinHostPort(host, strconv.Itoa(p)) }

	var conf tconfig.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = host
	conf.Persistence.DefaultStore = "sqlite"
	conf.Persistence.VisibilityStore = "sqlite"
	conf.Persistence.NumHistoryShards = 1
	conf.Persistence.DataStores = map[string]tconfig.DataStore{"sqlite": {SQL: sqlConf}}
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             hp(port),
				HTTPAddress:            hp(ports[0]),
				ClusterID:              clusterID,
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	svc := func(grpc, http int) tconfig.Service {
		var s tconfig.Service
		s.RPC.GRPCPort = grpc
		s.RPC.HTTPPort = http
		s.RPC.BindOnIP = host
		return s
	}
	conf.Services = map[string]tconfig.Service{
		"frontend": svc(port, ports[0]),
		"history":  svc(ports[1], 0),
		"matching": svc(ports[2], 0),
		"worker":   svc(ports[3], 0),
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = hp(port)
	return &conf, nil
}

// prepareNamespace adds missing search attributes and sets the retention.
// A new database already has the attributes from CreateNamespaces.
func (s *Server) prepareNamespace(ctx context.Context, opts Options, ensureAttrs bool) error {
	c, err := client.DialContext(ctx, client.Options{
		HostPort:  s.frontend,
		Namespace: opts.Namespace,
		Logger:    nopLogger{},
	})
	if err != nil {
		return fmt.Errorf("devserver: connect to embedded frontend %s: %w", s.frontend, err)
	}
	defer c.Close()

	if ensureAttrs {
		added, err := tclient.EnsureSearchAttributes(ctx, c, opts.Namespace, opts.SearchAttributes)
		if err != nil {
			return fmt.Errorf("devserver: %w", err)
		}
		if added > 0 {
			opts.Logger.Info("added search attributes", zap.Int("count", added))
			// Every service's namespace cache learns the new attributes at
			// its next refresh; wait for it so the worker can use them.
			select {
			case <-time.After(2 * namespaceRefresh):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}

	if opts.Retention > 0 {
		desc, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: opts.Namespace})
		if err != nil {
			return fmt.Errorf("devserver: describe namespace: %w", err)
		}
		if desc.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration() != opts.Retention {
			// Only the retention: sending back the whole config would echo
			// the search-attribute aliases, which the server re-adds and
			// warns about, one line per attribute.
			cfg := &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: durationpb.New(opts.Retention)}
			if _, err := c.WorkflowService().UpdateNamespace(ctx, &workflowservice.UpdateNamespaceRequest{
				Namespace: opts.Namespace,
				Config:    cfg,
			}); err != nil {
				return fmt.Errorf("devserver: set retention: %w", err)
			}
		}
	}
	return nil
}

// nopLogger silences the SDK client used for set-up.
type nopLogger struct{}

func (nopLogger) Debug(string, ...any) {}
func (nopLogger) Info(string, ...any)  {}
func (nopLogger) Warn(string, ...any)  {}
func (nopLogger) Error(string, ...any) {}
