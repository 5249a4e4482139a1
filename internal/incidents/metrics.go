package incidents

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/riposte-soar/riposte/workflows"
)

// Collector exports how many incidents are active, by status, phase and
// severity, read from visibility at scrape time. Counts are cached for TTL
// so that frequent scrapes do not page through visibility each time.
type Collector struct {
	Client    func() client.Client
	Namespace string
	// TTL of the cached counts; zero is 5 s.
	TTL time.Duration

	mu     sync.Mutex
	at     time.Time
	counts map[[3]string]int
}

var activeDesc = prometheus.NewDesc("riposte_incidents",
	"Active incidents (running and not closed) by status, phase and severity, from Temporal visibility.",
	[]string{"status", "phase", "severity"}, nil)

// ActiveQuery selects running incidents that are not closed (a closed
// incident runs on through its reopen window).
func ActiveQuery() string {
	return fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running' AND %s != '%s'",
		workflows.IncidentWorkflowName, workflows.SAStatus.GetName(), workflows.StatusClosed)
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) { ch <- activeDesc }

// Collect implements prometheus.Collector. When Temporal cannot answer it
// exports nothing rather than a stale or zero figure.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	counts, err := c.read()
	if err != nil {
		return
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(activeDesc, prometheus.GaugeValue, float64(n), k[0], k[1], k[2])
	}
}

func (c *Collector) read() (map[[3]string]int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ttl := c.TTL
	if ttl <= 0 {
		ttl = 5 * time.Second
	}
	if c.counts != nil && time.Since(c.at) < ttl {
		return c.counts, nil
	}
	tc := c.Client()
	if tc == nil {
		return nil, ErrUnavailable
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts := map[[3]string]int{}
	dc := converter.GetDefaultDataConverter()
	var token []byte
	for {
		resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: c.Namespace, Query: ActiveQuery(), PageSize: 1000, NextPageToken: token,
		})
		if err != nil {
			return nil, classify(err)
		}
		for _, e := range resp.GetExecutions() {
			fields := e.GetSearchAttributes().GetIndexedFields()
			var k [3]string
			for i, name := range []string{workflows.SAStatus.GetName(), workflows.SAPhase.GetName(), workflows.SASeverity.GetName()} {
				if p, ok := fields[name]; ok {
					_ = dc.FromPayload(p, &k[i])
				}
			}
			counts[k]++
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			break
		}
	}
	c.counts, c.at = counts, time.Now()
	return counts, nil
}
