package app

import (
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	"go.temporal.io/sdk/client"

	"github.com/riposte-soar/riposte/alerts"
	"github.com/riposte-soar/riposte/config"
	"github.com/riposte-soar/riposte/internal/httpapi"
	"github.com/riposte-soar/riposte/internal/ingest"
	"github.com/riposte-soar/riposte/playbooks"
)

// Ingestion is the parts of config that are compiled before start: sources
// with their normalisers and auth, and the router.
type Ingestion struct {
	Sources   map[string]*httpapi.AlertSource
	Router    *alerts.Router
	Playbooks map[string]*playbooks.Playbook
}

// LoadPlaybooks loads the shipped library (unless turned off) and the
// configured paths; a configured playbook replaces a shipped one of the
// same name.
func LoadPlaybooks(cfg config.PlaybooksConfig) (map[string]*playbooks.Playbook, error) {
	out := map[string]*playbooks.Playbook{}
	if cfg.Library {
		lib, err := playbooks.LoadLibrary()
		if err != nil {
			return nil, fmt.Errorf("shipped playbooks: %w", err)
		}
		for _, p := range lib {
			out[p.Name] = p
		}
	}
	if len(cfg.Paths) > 0 {
		list, err := playbooks.LoadPaths(cfg.Paths...)
		if err != nil {
			return nil, err
		}
		for _, p := range list {
			out[p.Name] = p
		}
	}
	return out, nil
}

// BuildIngestion compiles sources, routing rules and playbooks. Its errors
// are configuration errors, prefixed with the key path or file:line:col.
func BuildIngestion(cfg config.IngestConfig, pcfg config.PlaybooksConfig) (*Ingestion, error) {
	var errs []error
	in := &Ingestion{Sources: map[string]*httpapi.AlertSource{}}
	pbs, err := LoadPlaybooks(pcfg)
	if err != nil {
		errs = append(errs, err)
	}
	in.Playbooks = pbs
	// Every built-in format is a source of its own name that takes bearer
	// tokens; configured sources add to or replace them.
	for _, f := range alerts.BuiltinFormats() {
		n, _ := alerts.NewNormalizer(f, f, nil)
		in.Sources[f] = &httpapi.AlertSource{Source: &ingest.Source{Name: f, Format: f, Normalizer: n, Options: alerts.Options{Source: f}}}
	}
	for i, sc := range cfg.Sources {
		key := fmt.Sprintf("ingest.sources[%d]", i)
		format := sc.EffectiveFormat()
		var mapping *alerts.GenericMapping
		if format == alerts.FormatGeneric {
			m := alerts.GenericMapping{
				Items: sc.Generic.Items, ID: sc.Generic.ID, Title: sc.Generic.Title, Severity: sc.Generic.Severity,
				SeverityMap: sc.Generic.SeverityMap, Time: sc.Generic.Time, Status: sc.Generic.Status, Labels: sc.Generic.Labels,
			}
			for _, o := range sc.Generic.Observables {
				m.Observables = append(m.Observables, alerts.GenericObservable{Type: alerts.ObservableType(o.Type), Value: o.Value})
			}
			mapping = &m
		}
		n, err := alerts.NewNormalizer(format, sc.Name, mapping)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.generic: %w", key, err))
			continue
		}
		src := &httpapi.AlertSource{Source: &ingest.Source{
			Name: sc.Name, Format: format, Normalizer: n,
			Options: alerts.Options{Source: sc.Name, DefaultSeverity: alerts.Severity(sc.DefaultSeverity)},
		}}
		if sc.HMAC.Secret.IsSet() {
			h := sc.HMAC.WithDefaults()
			src.Auth.HMACSecret = []byte(h.Secret.Reveal())
			src.Auth.HMACHeader, src.Auth.TimestampHeader, src.Auth.MaxSkew = h.Header, h.TimestampHeader, h.MaxSkew
		}
		if sc.PathSecretSHA256 != "" {
			b, err := hex.DecodeString(sc.PathSecretSHA256)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s.path_secret_sha256: must be 64 hex characters", key))
				continue
			}
			src.Auth.PathSecretSHA256 = b
		}
		in.Sources[sc.Name] = src
	}
	routes := make([]alerts.RouteSpec, 0, len(cfg.Routes))
	for _, r := range cfg.Routes {
		routes = append(routes, routeSpec(r))
	}
	router, err := alerts.NewRouter(routes, routeSpec(cfg.DefaultRoute))
	if err != nil {
		errs = append(errs, fmt.Errorf("ingest.routes: %w", err))
	}
	if pbs != nil {
		for i, r := range cfg.Routes {
			if !r.Suppress && pbs[r.Playbook] == nil {
				errs = append(errs, fmt.Errorf("ingest.routes[%d].playbook: unknown playbook %q", i, r.Playbook))
			}
		}
		if pbs[cfg.DefaultRoute.Playbook] == nil {
			errs = append(errs, fmt.Errorf("ingest.default_route.playbook: unknown playbook %q", cfg.DefaultRoute.Playbook))
		}
	}
	in.Router = router
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return in, nil
}

func routeSpec(r config.RouteConfig) alerts.RouteSpec {
	return alerts.RouteSpec{Name: r.Name, Match: r.Match, Playbook: r.Playbook, GroupBy: r.GroupBy, GroupWindow: r.GroupWindow, Suppress: r.Suppress}
}

// clientHolder hands out the Temporal client once connected.
type clientHolder struct {
	mu sync.RWMutex
	c  client.Client
}

func (h *clientHolder) set(c client.Client) {
	h.mu.Lock()
	h.c = c
	h.mu.Unlock()
}

func (h *clientHolder) get() client.Client {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.c
}
