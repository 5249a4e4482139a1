package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// minRetention is Temporal's minimum namespace retention.
const minRetention = 24 * time.Hour

// maxBodyBytes caps ingest.max_body_bytes: a webhook body is held in memory.
const maxBodyBytes = 64 << 20

// minHistoryEvents is the least incident.max_history_events: below it an
// incident would continue-as-new all the time.
const minHistoryEvents = 100

// Validate checks the whole configuration and reports every problem at once,
// joined with errors.Join, each as "key.path: message". Messages never
// contain secret values, token hashes or file contents.
func (c *Config) Validate() error {
	var v validator

	v.required("data_dir", c.DataDir)
	v.oneOf("log.level", c.Log.Level, []string{"debug", "info", "warn", "error"}, false)
	v.oneOf("log.format", c.Log.Format, []string{"console", "json"}, true)

	v.address("http.listen", c.HTTP.Listen)
	v.positive("http.read_header_timeout", c.HTTP.ReadHeaderTimeout)
	v.positive("http.shutdown_timeout", c.HTTP.ShutdownTimeout)
	if c.HTTP.PublicURL != "" {
		v.httpURL("http.public_url", c.HTTP.PublicURL)
	}
	if c.HTTP.SessionTTL < time.Minute || c.HTTP.SessionTTL > 7*24*time.Hour {
		v.add("http.session_ttl", "must be between 1m and 168h")
	}

	t := &c.Temporal
	v.address("temporal.address", t.Address)
	v.required("temporal.namespace", t.Namespace)
	v.required("temporal.task_queue", t.TaskQueue)
	v.positive("temporal.connect_timeout", t.ConnectTimeout)
	v.positive("temporal.retry_max_interval", t.RetryMaxInterval)
	v.pair("temporal.tls.cert_file", t.TLS.CertFile, "temporal.tls.key_file", t.TLS.KeyFile)
	v.readable("temporal.tls.ca_file", t.TLS.CAFile)
	v.readable("temporal.tls.cert_file", t.TLS.CertFile)
	v.readable("temporal.tls.key_file", t.TLS.KeyFile)

	v.address("dev.temporal_listen", c.Dev.TemporalListen)
	v.address("dev.ui_listen", c.Dev.UIListen)
	if c.Dev.Retention < minRetention {
		v.add("dev.retention", "must be at least 24h (Temporal's minimum)")
	}

	v.notNegative("worker.max_concurrent_activities", c.Worker.MaxConcurrentActivities)
	v.notNegative("worker.max_concurrent_workflow_tasks", c.Worker.MaxConcurrentWorkflowTasks)

	v.tokens(c.Auth.Tokens)
	v.tokenSources(c.Auth.Tokens, c.Ingest.Sources)
	v.ingest(&c.Ingest)
	if c.Incident.MaxHistoryEvents < minHistoryEvents {
		v.add("incident.max_history_events", fmt.Sprintf("must be at least %d", minHistoryEvents))
	}
	if c.Incident.ReopenWindow < time.Minute {
		v.add("incident.reopen_window", "must be at least 1m")
	}
	v.slack(&c.Slack)
	v.integrations(c)
	if c.Bench.NullIntegration && (c.Ticketing.System != "" || len(c.Firewall.Vendors) > 0 || len(c.ThreatIntel.Providers) > 0) {
		v.add("bench.null_integration", "replaces every firewall, ticketing and threat-intel integration; it cannot be combined with ticketing.system, firewall.vendors or threat_intel.providers")
	}
	keys := make([]string, 0, len(c.Compliance.PolicyTargets))
	for k := range c.Compliance.PolicyTargets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if d, err := time.ParseDuration(c.Compliance.PolicyTargets[k]); err != nil || d <= 0 {
			v.add("compliance.policy_targets["+k+"]", fmt.Sprintf("invalid duration %q (use e.g. 24h)", c.Compliance.PolicyTargets[k]))
		}
	}
	for i, st := range c.Compliance.Enable {
		if st == "" || strings.ContainsAny(st, " \t") {
			v.add(fmt.Sprintf("compliance.enable[%d]", i), "must be a catalogue status such as proposed")
		}
	}
	for i, p := range c.Playbooks.Paths {
		if strings.TrimSpace(p) == "" {
			v.add(fmt.Sprintf("playbooks.paths[%d]", i), "required")
		} else if _, err := os.Stat(p); err != nil {
			v.add(fmt.Sprintf("playbooks.paths[%d]", i), err.Error())
		}
	}
	return errors.Join(v.errs...)
}

type validator struct{ errs []error }

func (v *validator) add(key, msg string) {
	v.errs = append(v.errs, errors.New(key+": "+msg))
}

func (v *validator) required(key, val string) bool {
	if strings.TrimSpace(val) == "" {
		v.add(key, "required")
		return false
	}
	return true
}

func (v *validator) oneOf(key, val string, allowed []string, emptyOK bool) {
	if (emptyOK && val == "") || slices.Contains(allowed, val) {
		return
	}
	list := strings.Join(allowed, ", ")
	if emptyOK {
		list += " (or empty)"
	}
	v.add(key, fmt.Sprintf("must be one of %s; got %s", list, quote(val)))
}

// address checks a host:port with a numeric port; port 0 (any free port) is
// allowed for listeners in tests.
func (v *validator) address(key, val string) {
	if !v.required(key, val) {
		return
	}
	_, port, err := net.SplitHostPort(val)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			err = errors.New(ae.Err) // AddrError repeats the address
		}
		v.add(key, fmt.Sprintf("invalid address %s: %v", quote(val), err))
		return
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		v.add(key, fmt.Sprintf("invalid address %s: the port must be a number from 0 to 65535", quote(val)))
	}
}

func (v *validator) positive(key string, d time.Duration) {
	if d <= 0 {
		v.add(key, "must be positive")
	}
}

func (v *validator) notNegative(key string, n int) {
	if n < 0 {
		v.add(key, "must not be negative")
	}
}

// pair requires both values or neither.
func (v *validator) pair(keyA, a, keyB, b string) {
	switch {
	case a != "" && b == "":
		v.add(keyB, "required when "+keyA+" is set")
	case a == "" && b != "":
		v.add(keyA, "required when "+keyB+" is set")
	}
}

// readable checks that a named file can be opened. It reads nothing, so no
// message can carry the file's contents.
func (v *validator) readable(key, path string) {
	if path == "" {
		return
	}
	f, err := os.Open(path)
	if err != nil {
		v.add(key, err.Error())
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		v.add(key, err.Error())
	} else if fi.IsDir() {
		v.add(key, path+" is a directory")
	}
}

// tokens checks the API tokens. The hash is never repeated in a message: it
// is a credential's fingerprint, and config errors end up in logs.
func (v *validator) tokens(tokens []TokenConfig) {
	names := map[string]int{}
	hashes := map[string]int{}
	for i, t := range tokens {
		at := fmt.Sprintf("auth.tokens[%d]", i)
		if v.required(at+".name", t.Name) {
			if j, dup := names[t.Name]; dup {
				v.add(at+".name", fmt.Sprintf("duplicate name %s (also auth.tokens[%d])", quote(t.Name), j))
			} else {
				names[t.Name] = i
			}
		}
		switch {
		case t.Role == "":
			v.add(at+".role", "required")
		case !ValidRole(t.Role):
			v.add(at+".role", fmt.Sprintf("must be one of %s; got %s", strings.Join(Roles, ", "), quote(t.Role)))
		}
		switch {
		case t.SHA256 == "":
			v.add(at+".sha256", "required")
		case !isHex64(strings.ToLower(t.SHA256)):
			v.add(at+".sha256", "must be 64 hex characters (the SHA-256 of the token, from riposte token new)")
		case t.SHA256 != strings.ToLower(t.SHA256):
			v.add(at+".sha256", "must be lower case (the SHA-256 of the token, from riposte token new)")
		default:
			if j, dup := hashes[t.SHA256]; dup {
				v.add(at+".sha256", fmt.Sprintf("same hash as auth.tokens[%d]", j))
			} else {
				hashes[t.SHA256] = i
			}
		}
	}
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func (v *validator) slack(s *SlackConfig) {
	if u, err := url.Parse(s.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		v.add("slack.api_url", fmt.Sprintf("must be an http(s) URL, got %q", s.APIURL))
	}
	if s.ReminderFraction < 0 || s.ReminderFraction >= 1 {
		v.add("slack.reminder_fraction", "must be at least 0 and below 1")
	}
	if s.BotToken.IsSet() {
		if s.Channel == "" {
			v.add("slack.channel", "required when slack.bot_token is set")
		}
		if !s.SigningSecret.IsSet() {
			v.add("slack.signing_secret", "required when slack.bot_token is set (it verifies button clicks)")
		}
	}
	if s.AppToken.IsSet() && !s.BotToken.IsSet() {
		v.add("slack.bot_token", "required when slack.app_token is set")
	}
	for _, m := range []struct {
		key string
		m   map[string][]string
	}{{"slack.users", s.Users}, {"slack.usergroups", s.Usergroups}} {
		ids := make([]string, 0, len(m.m))
		for id := range m.m {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			for _, role := range m.m[id] {
				if !ValidRole(role) {
					v.add(fmt.Sprintf("%s[%s]", m.key, id), fmt.Sprintf("must be one of %s; got %q", strings.Join(Roles, ", "), role))
				}
			}
		}
	}
}
