// Package tclient builds Temporal client options from Riposte's config (TLS,
// mTLS, API keys) and holds small helpers shared by the dev server and the
// production modes.
package tclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/riposte-soar/riposte/activities"
	"github.com/riposte-soar/riposte/config"
)

// Options builds client options for cfg. Certificate files are read here so
// that a bad file fails at start; the client certificate is read again on
// every handshake, so a rotated certificate needs no restart.
func Options(cfg config.TemporalConfig, identity string, log *zap.Logger) (client.Options, error) {
	opts := client.Options{
		HostPort:  cfg.Address,
		Namespace: cfg.Namespace,
		Identity:  identity,
		Logger:    NewLogger(log),
	}
	useTLS := cfg.TLS.Enabled || cfg.APIKey.IsSet() || cfg.TLS.CertFile != "" || cfg.TLS.CAFile != ""
	if useTLS {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.TLS.ServerName}
		if cfg.TLS.CAFile != "" {
			pem, err := os.ReadFile(cfg.TLS.CAFile)
			if err != nil {
				return opts, fmt.Errorf("temporal.tls.ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return opts, fmt.Errorf("temporal.tls.ca_file: %s: no PEM certificate found", cfg.TLS.CAFile)
			}
			tc.RootCAs = pool
		}
		if cfg.TLS.CertFile != "" || cfg.TLS.KeyFile != "" {
			certFile, keyFile := cfg.TLS.CertFile, cfg.TLS.KeyFile
			if _, err := loadKeyPair(certFile, keyFile); err != nil {
				return opts, err
			}
			tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				return loadKeyPair(certFile, keyFile)
			}
		}
		opts.ConnectionOptions.TLS = tc
	}
	if cfg.APIKey.IsSet() {
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.APIKey.Reveal())
	}
	return opts, nil
}

// loadKeyPair never puts file contents into its error: crypto/tls errors
// describe the PEM structure only.
func loadKeyPair(certFile, keyFile string) (*tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("temporal.tls: %w", pe)
		}
		return nil, fmt.Errorf("temporal.tls: load client certificate %s and key %s: %w", certFile, keyFile, err)
	}
	return &c, nil
}

// EnsureSearchAttributes adds those of attrs that the namespace lacks and
// returns how many it added.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string, attrs map[string]enumspb.IndexedValueType) (int, error) {
	existing, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return 0, fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range attrs {
		if got, ok := existing.GetCustomAttributes()[name]; !ok {
			missing[name] = typ
		} else if got != typ {
			return 0, fmt.Errorf("search attribute %s has type %s, riposte needs %s", name, got, typ)
		}
	}
	if len(missing) == 0 {
		return 0, nil
	}
	if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace:        namespace,
		SearchAttributes: missing,
	}); err != nil {
		return 0, fmt.Errorf("add search attributes: %w", err)
	}
	return len(missing), nil
}

// Logger adapts zap to the SDK's key-value logger.
type Logger struct{ s *zap.SugaredLogger }

// NewLogger wraps l for the Temporal SDK.
func NewLogger(l *zap.Logger) *Logger {
	if l == nil {
		l = zap.NewNop()
	}
	return &Logger{s: l.WithOptions(zap.AddCallerSkip(1)).Sugar()}
}

func (l *Logger) Debug(msg string, kv ...any) { l.s.Debugw(msg, kv...) }
func (l *Logger) Info(msg string, kv ...any)  { l.s.Infow(msg, kv...) }
func (l *Logger) Warn(msg string, kv ...any)  { l.s.Warnw(msg, kv...) }

// Error logs at error level, except an activity failure whose error is an
// expected outcome (an action whose integration is not configured): the
// playbook records it and goes on, so it is logged at info, without the
// SDK's stack trace.
func (l *Logger) Error(msg string, kv ...any) {
	if expectedFailure(kv) {
		l.s.Infow(msg, withoutStack(kv)...)
		return
	}
	l.s.Errorw(msg, kv...)
}

// ExpectedErrorTypes are the application error types that are outcomes,
// not faults.
var ExpectedErrorTypes = map[string]bool{activities.ErrTypeNotConfigured: true}

func expectedFailure(kv []any) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		if k, _ := kv[i].(string); k != "Error" {
			continue
		}
		err, ok := kv[i+1].(error)
		var appErr *temporal.ApplicationError
		if ok && errors.As(err, &appErr) && ExpectedErrorTypes[appErr.Type()] {
			return true
		}
	}
	return false
}

func withoutStack(kv []any) []any {
	out := make([]any, 0, len(kv))
	for i := 0; i+1 < len(kv); i += 2 {
		if k, _ := kv[i].(string); k == "StackTrace" {
			continue
		}
		out = append(out, kv[i], kv[i+1])
	}
	return out
}

// With returns a logger with the key-values attached.
func (l *Logger) With(kv ...any) sdklog.Logger { return &Logger{s: l.s.With(kv...)} }
