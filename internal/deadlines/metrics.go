package deadlines

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/riposte-soar/riposte/workflows"
)

// Collector exports the obligations' clocks at scrape time from Temporal
// visibility alone (the search attributes DeadlineWorkflow upserts), so a
// scrape costs a few visibility pages and no workflow Query, however many
// clocks are open.
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

// metricStatuses are the only statuses the series count.
var metricStatuses = []string{workflows.ObligationOpen, workflows.ObligationLate, workflows.ObligationSubmittedLate}

// Collect implements prometheus.Collector. When Temporal cannot answer it
// exports nothing rather than a stale or zero figure.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	cl := c.S.Client()
	if cl == nil {
		return
	}
	query, _ := visibilityQuery(Filter{}, fmt.Sprintf("%s IN ('%s')", workflows.SAStatus.GetName(), strings.Join(metricStatuses, "', '")))
	overdue, late := 0, 0
	type stage struct{ regime, id string }
	soonest := map[stage]int64{}
	open := map[string]int{}
	err := c.S.scan(ctx, cl, query, func(r row) {
		switch r.status {
		case workflows.ObligationSubmittedLate:
			late++
			return
		case workflows.ObligationOpen, workflows.ObligationLate:
		default:
			return
		}
		if r.due == nil {
			return
		}
		left := int64(r.due.Sub(now).Seconds())
		// An open row past its due time is late whose timer has not
		// fired yet (a busy or stopped worker): count it as overdue.
		if r.status == workflows.ObligationLate || !now.Before(*r.due) {
			overdue++
		}
		open[r.regime]++
		k := stage{r.regime, r.stage}
		if cur, ok := soonest[k]; !ok || left < cur {
			soonest[k] = left
		}
	})
	if err != nil {
		return
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
