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
	// Per stage, not per obligation: incident IDs in labels would give a
	// series per incident, without bound.
	remainingDesc = prometheus.NewDesc("riposte_deadline_seconds_remaining",
		"Seconds until the soonest unfiled obligation of a regulatory stage is due (negative when overdue).",
		[]string{"regime", "stage"}, nil)
	openDesc = prometheus.NewDesc("riposte_deadlines_open",
		"Unfiled obligations per regime (open or late).", []string{"regime"}, nil)
	overdueDesc = prometheus.NewDesc("riposte_deadlines_overdue",
		"Obligations past their due time with nothing filed.", nil, nil)
	lateDesc = prometheus.NewDesc("riposte_deadlines_submitted_late",
		"Obligations filed after their due time.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- remainingDesc
	ch <- openDesc
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
	type stage struct{ regime, id string }
	soonest := map[stage]int64{}
	open := map[string]int{}
	for _, o := range list {
		switch o.Status {
		case workflows.ObligationLate:
			overdue++
		case workflows.ObligationSubmittedLate:
			late++
		}
		if o.RemainingSeconds == nil || (o.Status != workflows.ObligationOpen && o.Status != workflows.ObligationLate) {
			continue
		}
		open[o.Regime]++
		k := stage{o.Regime, o.StageID}
		if cur, ok := soonest[k]; !ok || *o.RemainingSeconds < cur {
			soonest[k] = *o.RemainingSeconds
		}
	}
	for k, v := range soonest {
		ch <- prometheus.MustNewConstMetric(remainingDesc, prometheus.GaugeValue, float64(v), k.regime, k.id)
	}
	for r, n := range open {
		ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, float64(n), r)
	}
	ch <- prometheus.MustNewConstMetric(overdueDesc, prometheus.GaugeValue, float64(overdue))
	ch <- prometheus.MustNewConstMetric(lateDesc, prometheus.GaugeValue, float64(late))
}
