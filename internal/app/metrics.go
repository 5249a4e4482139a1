package app

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	sdkotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.uber.org/zap"

	"github.com/riposte-soar/riposte/workflows"
)

// Histogram buckets (seconds): integration calls take milliseconds to a
// minute; people answer approvals in minutes to hours.
var (
	callBuckets     = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
	approvalBuckets = []float64{30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400}
	// sdkBuckets are for the Temporal SDK's own latencies.
	sdkBuckets = []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
)

// metrics are the worker side's Prometheus metrics: integration calls, and
// the approval figures the incident workflow emits.
type metrics struct {
	integrationCalls   *prometheus.HistogramVec
	approvalsRequested prometheus.Counter
	approvalsDecided   *prometheus.CounterVec
	approvalResponse   prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		integrationCalls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "riposte_integration_call_duration_seconds",
			Help:    "Duration of calls to integrations by integration, action and outcome (ok, error, not_configured); the count by outcome counts errors.",
			Buckets: callBuckets,
		}, []string{"integration", "action", "outcome"}),
		approvalsRequested: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "riposte_approvals_requested_total",
			Help: "Approvals asked for by playbooks.",
		}),
		approvalsDecided: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "riposte_approvals_decided_total",
			Help: "Approvals settled, by outcome: approved, rejected, expired (denied on timeout), cancelled (incident closed).",
		}, []string{"outcome"}),
		approvalResponse: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "riposte_approval_response_seconds",
			Help:    "Time from an approval's request to its first decision.",
			Buckets: approvalBuckets,
		}),
	}
	reg.MustRegister(m.integrationCalls, m.approvalsRequested, m.approvalsDecided, m.approvalResponse)
	// Outcomes are known up front, so each series exists from the start.
	for _, o := range []string{workflows.ApprovalApproved, workflows.ApprovalRejected, workflows.ApprovalExpired, "cancelled"} {
		m.approvalsDecided.WithLabelValues(o)
	}
	return m
}

// observeIntegration is activities.Actions.Observe.
func (m *metrics) observeIntegration(integration, action, outcome string, d time.Duration) {
	m.integrationCalls.WithLabelValues(integration, action, outcome).Observe(d.Seconds())
}

// sdkMetricsHandler exports the Temporal SDK's metrics into reg through
// OpenTelemetry, and routes the metrics the workflows emit (names starting
// riposte_) to m.
func sdkMetricsHandler(reg prometheus.Registerer, m *metrics, log *zap.Logger) (client.MetricsHandler, error) {
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		return nil, fmt.Errorf("temporal sdk metrics: %w", err)
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithView(sdkmetric.NewView(
		sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: sdkBuckets}},
	)))
	inner := sdkotel.NewMetricsHandler(sdkotel.MetricsHandlerOptions{
		Meter:                provider.Meter("temporal-sdk-go"),
		UseMonotonicCounters: true,
		OnError:              func(err error) { log.Warn("temporal sdk metric", zap.Error(err)) },
	})
	return routingHandler{inner: inner, m: m}, nil
}

// routingHandler sends the workflows' own metrics to Riposte's collectors
// and everything else to the SDK's handler.
type routingHandler struct {
	inner client.MetricsHandler
	m     *metrics
	tags  map[string]string
}

func (h routingHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := make(map[string]string, len(h.tags)+len(tags))
	for k, v := range h.tags {
		merged[k] = v
	}
	for k, v := range tags {
		merged[k] = v
	}
	return routingHandler{inner: h.inner.WithTags(tags), m: h.m, tags: merged}
}

func (h routingHandler) Counter(name string) client.MetricsCounter {
	switch name {
	case workflows.MetricApprovalsRequested:
		return counterFunc(func(d int64) { h.m.approvalsRequested.Add(float64(d)) })
	case workflows.MetricApprovalsDecided:
		c := h.m.approvalsDecided.WithLabelValues(h.tags["outcome"])
		return counterFunc(func(d int64) { c.Add(float64(d)) })
	}
	return h.inner.Counter(name)
}

func (h routingHandler) Gauge(name string) client.MetricsGauge { return h.inner.Gauge(name) }

func (h routingHandler) Timer(name string) client.MetricsTimer {
	if name == workflows.MetricApprovalResponse {
		return timerFunc(func(d time.Duration) { h.m.approvalResponse.Observe(d.Seconds()) })
	}
	return h.inner.Timer(name)
}

type counterFunc func(int64)

func (f counterFunc) Inc(d int64) { f(d) }

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }
