package config

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// sourceName is a source's name: it is the {source} segment of
// /v1/alerts/{source}.
var sourceName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// headerName is an HTTP header name (an RFC 9110 token).
var headerName = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

func (v *validator) ingest(in *IngestConfig) {
	switch {
	case in.MaxBodyBytes <= 0:
		v.add("ingest.max_body_bytes", "must be positive")
	case in.MaxBodyBytes > maxBodyBytes:
		v.add("ingest.max_body_bytes", fmt.Sprintf("must be at most %d (64 MiB)", maxBodyBytes))
	}

	names := map[string]int{}
	for i, s := range in.Sources {
		at := fmt.Sprintf("ingest.sources[%d]", i)
		if v.required(at+".name", s.Name) {
			if !sourceName.MatchString(s.Name) {
				v.add(at+".name", fmt.Sprintf(`must be 1 to 63 lower-case letters, digits, "_" or "-", starting with a letter or digit (it is the URL path segment /v1/alerts/{name}); got %s`, quote(s.Name)))
			}
			if j, dup := names[s.Name]; dup {
				v.add(at+".name", fmt.Sprintf("duplicate name %s (also ingest.sources[%d])", quote(s.Name), j))
			} else {
				names[s.Name] = i
			}
		}
		v.source(at, s)
	}

	routes := map[string]string{}
	defName := in.DefaultRoute.Name
	if defName == "" {
		defName = "default"
	}
	routes[defName] = "ingest.default_route"
	for i, r := range in.Routes {
		at := fmt.Sprintf("ingest.routes[%d]", i)
		if v.required(at+".name", r.Name) {
			if other, dup := routes[r.Name]; dup {
				v.add(at+".name", fmt.Sprintf("duplicate name %s (also %s)", quote(r.Name), other))
			} else {
				routes[r.Name] = at
			}
		}
		v.route(at, r)
	}

	d := &in.DefaultRoute
	const at = "ingest.default_route"
	if d.Suppress {
		v.add(at+".suppress", "the default route must not drop alerts")
	}
	def := *d
	def.Suppress = false // reported above; check the rest as a running route
	v.route(at, def)
	if d.Match != "" {
		v.add(at+".match", "must be empty: the default route takes every alert that no route matches")
	}
	v.required(at+".group_by", d.GroupBy)
}

func (v *validator) source(at string, s SourceConfig) {
	format := s.EffectiveFormat()
	switch {
	case s.Format == "" && s.Name == "":
		// name: required says it; the format would come from the name.
	case s.Format == "" && !slices.Contains(Formats, s.Name):
		v.add(at+".format", fmt.Sprintf("required (the name %s is not a format)", quote(s.Name)))
	case !slices.Contains(Formats, format):
		v.add(at+".format", fmt.Sprintf("unknown format %s; one of %s", quote(s.Format), strings.Join(Formats, ", ")))
	}
	v.oneOf(at+".default_severity", s.DefaultSeverity, Severities, true)

	h := s.HMAC
	if !h.Secret.IsSet() && (h.Header != "" || h.TimestampHeader != "" || h.MaxSkew != 0 || h.NoTimestamp) {
		v.add(at+".hmac.secret", "required when hmac is configured")
	}
	v.header(at+".hmac.header", h.Header)
	v.header(at+".hmac.timestamp_header", h.TimestampHeader)
	if h.MaxSkew < 0 {
		v.add(at+".hmac.max_skew", "must not be negative")
	}
	if h.NoTimestamp {
		if h.TimestampHeader != "" {
			v.add(at+".hmac.timestamp_header", "must be empty when no_timestamp is true")
		}
		if h.MaxSkew != 0 {
			v.add(at+".hmac.max_skew", "must be empty when no_timestamp is true")
		}
	}

	// The hash is never repeated: it fingerprints a credential.
	switch p := s.PathSecretSHA256; {
	case p == "":
	case !isHex64(strings.ToLower(p)):
		v.add(at+".path_secret_sha256", "must be 64 hex characters (the SHA-256 of the path secret)")
	case p != strings.ToLower(p):
		v.add(at+".path_secret_sha256", "must be lower case (the SHA-256 of the path secret)")
	}

	if format == FormatGeneric {
		v.generic(at+".generic", s.Generic)
	} else if !genericEmpty(s.Generic) {
		v.add(at+".generic", "only for format generic")
	}
}

func (v *validator) header(key, val string) {
	if val != "" && !headerName.MatchString(val) {
		v.add(key, "must be an HTTP header name; got "+quote(val))
	}
}

func (v *validator) generic(at string, g GenericConfig) {
	v.required(at+".id", g.ID)
	v.required(at+".title", g.Title)
	if len(g.SeverityMap) > 0 && g.Severity == "" {
		v.add(at+".severity", "required when severity_map is set")
	}
	for _, k := range slices.Sorted(maps.Keys(g.SeverityMap)) {
		// The path is written as mapstructure writes it in Load's messages.
		v.oneOf(fmt.Sprintf("%s.severity_map[%s]", at, k), g.SeverityMap[k], Severities, false)
	}
	for i, o := range g.Observables {
		oat := fmt.Sprintf("%s.observables[%d]", at, i)
		if v.required(oat+".type", o.Type) {
			v.oneOf(oat+".type", o.Type, ObservableTypes, false)
		}
		v.required(oat+".value", o.Value)
	}
	for _, k := range slices.Sorted(maps.Keys(g.Labels)) {
		if strings.TrimSpace(k) == "" {
			v.add(at+".labels", "a label name must not be empty")
		}
	}
}

func genericEmpty(g GenericConfig) bool {
	return g.Items == "" && g.ID == "" && g.Title == "" && g.Severity == "" &&
		len(g.SeverityMap) == 0 && g.Time == "" && g.Status == "" &&
		len(g.Observables) == 0 && len(g.Labels) == 0
}

func (v *validator) route(at string, r RouteConfig) {
	switch {
	case r.Suppress && r.Playbook != "":
		v.add(at+".playbook", "a suppressing route runs no playbook")
	case !r.Suppress && strings.TrimSpace(r.Playbook) == "":
		v.add(at+".playbook", "required (unless suppress is true)")
	}
	if r.GroupWindow < 0 {
		v.add(at+".group_window", "must not be negative")
	}
}

// tokenSources checks the sources that ingest tokens are bound to: each is
// a configured source or a built-in format (a source of the same name).
func (v *validator) tokenSources(tokens []TokenConfig, sources []SourceConfig) {
	known := map[string]bool{}
	for _, f := range Formats {
		if f != FormatGeneric {
			known[f] = true
		}
	}
	for _, s := range sources {
		if s.Name != "" {
			known[s.Name] = true
		}
	}
	for i, t := range tokens {
		if len(t.Sources) == 0 {
			continue
		}
		at := fmt.Sprintf("auth.tokens[%d].sources", i)
		if t.Role != "ingest" {
			v.add(at, "only ingest tokens can be bound to sources")
		}
		for j, name := range t.Sources {
			if !known[name] {
				v.add(fmt.Sprintf("%s[%d]", at, j), "unknown source "+quote(name))
			}
		}
	}
}
