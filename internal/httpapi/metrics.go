package httpapi

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the HTTP layer's Prometheus metrics.
type Metrics struct {
	alertsReceived *prometheus.CounterVec
	ingestDuration *prometheus.HistogramVec
}

// Results of alert ingestion, the result label of riposte_alerts_received_total.
const (
	resultAccepted     = "accepted"
	resultDeduplicated = "deduplicated"
	resultSuppressed   = "suppressed"
	resultUnauthorized = "unauthorized"
	resultInvalid      = "invalid"
	resultTooLarge     = "too_large"
	resultUnavailable  = "unavailable"
	resultError        = "error"
)

// NewMetrics registers the metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		alertsReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riposte_alerts_received_total",
			Help: "Alerts received by source and result: accepted (new incident), deduplicated (joined an incident), suppressed; per request: unauthorized, invalid, too_large, unavailable, error.",
		}, []string{"source", "result"}),
		ingestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "riposte_ingest_duration_seconds",
			Help:    "Time from receiving a webhook to answering it, by source and status code.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"source", "code"}),
	}
	reg.MustRegister(m.alertsReceived, m.ingestDuration)
	return m
}
