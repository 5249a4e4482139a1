package deadlines

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/riposte-soar/riposte/workflows"
)

// Collector exports the obligations' clocks at scrape time, read from
// Temporal like everything else.
type Collector struct {
	S   *Service
	Now func() time.Time
}

var (
	remainingDesc = prometheus.NewDesc("riposte_deadline_seconds_remaining",
		"Seconds until an open obligation is due (negative when overdue).",
		[]string{"obligation", "incident", "regime", "stage", "status"}, nil)
	overdueDesc = prometheus.NewDesc("riposte_deadlines_overdue",
		"Obligations past their due time with nothing filed.", nil, nil)
	lateDesc = prometheus.NewDesc("riposte_deadlines_submitted_late",
		"Obligations filed after their due time.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- remainingDesc
	ch <- overdueDesc
	ch <- lateDesc
}

// Collect implements prometheus.Collector. When Temporal cannot answer it
// exports nothing rather than a stale or zero figure.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	list, err := c.S.List(ctx, Filter{}, now)
	if err != nil {
		return
	}
	overdue, late := 0, 0
	for _, o := range list {
		switch o.Status {
		case workflows.ObligationLate:
			overdue++
		case workflows.ObligationSubmittedLate:
			late++
		}
		if o.RemainingSeconds != nil {
			ch <- prometheus.MustNewConstMetric(remainingDesc, prometheus.GaugeValue, float64(*o.RemainingSeconds),
				o.ID, o.IncidentID, o.Regime, o.StageID, o.Status)
		}
	}
	ch <- prometheus.MustNewConstMetric(overdueDesc, prometheus.GaugeValue, float64(overdue))
	ch <- prometheus.MustNewConstMetric(lateDesc, prometheus.GaugeValue, float64(late))
}
