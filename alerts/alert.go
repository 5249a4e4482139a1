// Package alerts turns SIEM webhook bodies into normalised alerts: one
// normaliser per format, the stable dedup key, timestamp and severity
// parsing shared by all of them, and the routing rules that group alerts
// into incidents and choose a playbook.
package alerts

import (
	"encoding/json"
	"time"
)

// Severity is the normalised severity.
type Severity string

// Severities, lowest first.
const (
	SeverityInformational Severity = "informational"
	SeverityLow           Severity = "low"
	SeverityMedium        Severity = "medium"
	SeverityHigh          Severity = "high"
	SeverityCritical      Severity = "critical"
)

// Rank orders severities: informational 1 ... critical 5; unknown 0.
func (s Severity) Rank() int {
	switch s {
	case SeverityInformational:
		return 1
	case SeverityLow:
		return 2
	case SeverityMedium:
		return 3
	case SeverityHigh:
		return 4
	case SeverityCritical:
		return 5
	}
	return 0
}

// Valid reports whether s is one of the five severities.
func (s Severity) Valid() bool { return s.Rank() > 0 }

// Status is whether the condition is still present.
type Status string

// Statuses.
const (
	StatusFiring   Status = "firing"
	StatusResolved Status = "resolved"
)

// ObservableType is the kind of an observable.
type ObservableType string

// Observable types.
const (
	ObsIP         ObservableType = "ip"
	ObsDomain     ObservableType = "domain"
	ObsURL        ObservableType = "url"
	ObsHostname   ObservableType = "hostname"
	ObsUser       ObservableType = "user"
	ObsEmail      ObservableType = "email"
	ObsHashMD5    ObservableType = "hash_md5"
	ObsHashSHA1   ObservableType = "hash_sha1"
	ObsHashSHA256 ObservableType = "hash_sha256"
	ObsFile       ObservableType = "file"
	ObsProcess    ObservableType = "process"
)

// ObservableTypes lists every type, for validation and docs.
var ObservableTypes = []ObservableType{ObsIP, ObsDomain, ObsURL, ObsHostname, ObsUser, ObsEmail,
	ObsHashMD5, ObsHashSHA1, ObsHashSHA256, ObsFile, ObsProcess}

// Observable is a typed indicator carried by an alert.
type Observable struct {
	Type  ObservableType `json:"type"`
	Value string         `json:"value"`
}

// Alert is the normalised alert of DESIGN.md.
type Alert struct {
	// Source is the configured source name (the {source} path segment).
	Source string `json:"source"`
	// ID is the stable dedup key: the same alert gives the same ID every
	// time, different alerts give different IDs.
	ID          string            `json:"id"`
	Title       string            `json:"title"`
	Severity    Severity          `json:"severity"`
	Status      Status            `json:"status"`
	ObservedAt  time.Time         `json:"observed_at"`
	Observables []Observable      `json:"observables"`
	Labels      map[string]string `json:"labels"`
	// Raw is this alert's part of the payload, as received.
	Raw json.RawMessage `json:"raw,omitempty"`
}

// Options are the per-source settings a normaliser needs.
type Options struct {
	// Source is the configured source name, copied into every alert.
	Source string
	// DefaultSeverity is used when the payload carries none; empty means
	// medium.
	DefaultSeverity Severity
	// ReceivedAt is when the webhook arrived. Only formats whose vendor
	// itself defaults a missing time to the arrival time use it (TheHive).
	ReceivedAt time.Time
}

// Normalizer turns one webhook body into one or more alerts. A body that is
// not of the normaliser's format is an error that says what was expected;
// it never yields an empty alert.
type Normalizer interface {
	Normalize(body []byte, opts Options) ([]Alert, error)
}
