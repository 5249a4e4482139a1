package devserver

import (
	"fmt"
	"net"
	"strconv"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
	"go.uber.org/zap"
)

// startUI serves the Temporal Web UI. The UI server's Start blocks, so it
// runs in the background and a failure is logged.
func startUI(addr, frontend, namespace string, log *zap.Logger) (*uiserver.Server, error) {
	host, port, err := splitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("devserver: ui address: %w", err)
	}
	// Fail early on a busy port rather than in the background goroutine.
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("devserver: ui: %w", err)
	}
	_ = l.Close()
	ui := uiserver.NewServer(uiserveroptions.WithConfigProvider(&uiconfig.Config{
		Host:                host,
		Port:                port,
		TemporalGRPCAddress: frontend,
		EnableUI:            true,
		DefaultNamespace:    namespace,
		CORS:                uiconfig.CORS{CookieInsecure: true},
		HideLogs:            true,
		DisableNewsFetch:    true,
	}))
	go func() {
		if err := ui.Start(); err != nil {
			log.Error("temporal web ui stopped", zap.String("addr", addr), zap.Error(err))
		}
	}()
	return ui, nil
}
