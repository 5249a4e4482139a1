package alerts

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ParseTime accepts RFC 3339 (with or without fraction), offsets without a
// colon (+0000, as Wazuh and Suricata write them), epoch seconds and epoch
// milliseconds as numbers or numeric strings. The result is always UTC.
func ParseTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case nil:
		return time.Time{}, fmt.Errorf("missing time")
	case json.Number:
		return parseEpochString(string(x))
	case float64:
		return epoch(x)
	case int64:
		return epoch(float64(x))
	case int:
		return epoch(float64(x))
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return time.Time{}, fmt.Errorf("empty time")
		}
		if t, err := parseEpochString(s); err == nil {
			return t, nil
		}
		for _, layout := range timeLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, fmt.Errorf("unrecognised time %q (want RFC 3339 or epoch seconds/milliseconds)", truncate(s, 64))
	}
	return time.Time{}, fmt.Errorf("unrecognised time of type %T", v)
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z0700",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02T15:04:05.999999999", // no zone: taken as UTC
	"2006-01-02 15:04:05.999999999",
}

func parseEpochString(s string) (time.Time, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return time.Time{}, err
	}
	return epoch(f)
}

// epoch takes values above 1e11 as milliseconds: 1e11 seconds is the year
// 5138, 1e11 milliseconds is 1973.
func epoch(f float64) (time.Time, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e14 {
		return time.Time{}, fmt.Errorf("epoch time %v out of range", f)
	}
	if f > 1e11 {
		ms := int64(f)
		return time.UnixMilli(ms).UTC(), nil
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// MakeID builds the stable dedup key from a format name and the vendor's
// identifying fields. Short, plain vendor IDs stay readable
// ("wazuh:1581349753.123", "alertmanager:<fingerprint>/<startsAt>");
// anything else is hashed.
func MakeID(format string, parts ...string) string {
	// Parts are joined with "/", which plainID refuses inside a part, so
	// ("a/b","c") and ("a","b/c") cannot collide.
	joined := strings.Join(parts, "/")
	plain := len(joined) > 0 && len(joined) <= 128
	for _, p := range parts {
		plain = plain && p != "" && plainID(p)
	}
	if plain {
		return format + ":" + joined
	}
	h := sha256.New()
	for _, p := range parts {
		// Length-prefixed so that ("ab","c") and ("a","bc") differ.
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return format + ":" + hex.EncodeToString(h.Sum(nil))[:32]
}

func plainID(s string) bool {
	for _, r := range s {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_.:", r)) {
			return false
		}
	}
	return true
}

// HashFields is a stable hash of a flat map, for formats whose alerts carry
// no ID of their own.
func HashFields(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		parts = append(parts, k, m[k])
	}
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// SeverityFromLabel maps Alertmanager and Grafana severity labels as
// DESIGN.md's table says; a missing or unknown label gives def.
func SeverityFromLabel(label string, def Severity) Severity {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "critical", "crit", "page", "emergency", "fatal":
		return SeverityCritical
	case "high", "error", "err", "major":
		return SeverityHigh
	case "warning", "warn", "medium", "minor":
		return SeverityMedium
	case "low":
		return SeverityLow
	case "info", "informational", "none":
		return SeverityInformational
	}
	return DefaultSeverity(def)
}

// ParseNamedSeverity maps a vendor's named level (Elastic, Sentinel,
// CrowdStrike: low, medium, high, critical, informational, in any case);
// ok is false for anything else.
func ParseNamedSeverity(name string) (Severity, bool) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "informational", "info":
		return SeverityInformational, true
	case "low":
		return SeverityLow, true
	case "medium", "moderate":
		return SeverityMedium, true
	case "high":
		return SeverityHigh, true
	case "critical":
		return SeverityCritical, true
	}
	return "", false
}

// DefaultSeverity is def, or medium when def is empty or invalid.
func DefaultSeverity(def Severity) Severity {
	if def.Valid() {
		return def
	}
	return SeverityMedium
}

// ObservableSet collects observables without duplicates, in first-seen
// order.
type ObservableSet struct {
	list []Observable
	seen map[Observable]bool
}

// Add adds a typed value; empty values and duplicates are ignored. IPs are
// canonicalised and host:port is reduced to the host.
func (s *ObservableSet) Add(t ObservableType, value string) {
	v := strings.TrimSpace(value)
	if v == "" || v == "-" {
		return
	}
	switch t {
	case ObsIP:
		ip, ok := ParseIP(v)
		if !ok {
			return
		}
		v = ip
	case ObsHashMD5, ObsHashSHA1, ObsHashSHA256, ObsDomain, ObsHostname, ObsEmail:
		v = strings.ToLower(v)
	}
	o := Observable{Type: t, Value: v}
	if s.seen == nil {
		s.seen = map[Observable]bool{}
	}
	if s.seen[o] {
		return
	}
	s.seen[o] = true
	s.list = append(s.list, o)
}

// AddHost adds an IP when host is an address and a hostname otherwise; a
// port (host:port, [v6]:port) is dropped.
func (s *ObservableSet) AddHost(host string) {
	h := strings.TrimSpace(host)
	if hp, _, err := net.SplitHostPort(h); err == nil {
		h = hp
	} else if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1] // a bracketed IPv6 address without a port
	}
	if h == "" {
		return
	}
	if _, ok := ParseIP(h); ok {
		s.Add(ObsIP, h)
		return
	}
	s.Add(ObsHostname, h)
}

// AddHash types a hex hash by its length; anything else is ignored.
func (s *ObservableSet) AddHash(h string) {
	h = strings.TrimSpace(h)
	if _, err := hex.DecodeString(h); err != nil {
		return
	}
	switch len(h) {
	case 32:
		s.Add(ObsHashMD5, h)
	case 40:
		s.Add(ObsHashSHA1, h)
	case 64:
		s.Add(ObsHashSHA256, h)
	}
}

// List returns the observables, never nil.
func (s *ObservableSet) List() []Observable {
	if s.list == nil {
		return []Observable{}
	}
	return s.list
}

// ParseIP returns the canonical form of an IPv4 or IPv6 address.
func ParseIP(s string) (string, bool) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return "", false
	}
	return a.Unmap().String(), true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a character boundary so messages stay valid UTF-8.
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
