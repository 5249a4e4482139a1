package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// soakHoldPlaybook keeps every soak incident open with its playbook running
// and a timer pending, as an incident waiting on a responder would.
const soakHoldPlaybook = `name: soak-hold
description: >-
  Soak test: note the host, then wait thirty days, so that every incident
  stays open with its playbook running and a timer pending.
version: "1.0.0"

detect:
  - id: note
    set:
      host: 'alert.labels["instance"]'

analyse:
  - id: hold
    wait:
      duration: 720h
`

// soakAPI talks to riposte's HTTP API with one token over a shared,
// keep-alive client sized for the setup's concurrency.
type soakAPI struct {
	base  string
	token string
	http  *http.Client
}

func newSoakAPI(base, token string, timeout time.Duration) soakAPI {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return soakAPI{base: base, token: token, http: &http.Client{Timeout: timeout, Transport: tr}}
}

func (a soakAPI) do(method, path string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// soakAlert is one Alertmanager webhook carrying one alert of its own
// group, so that each opens its own incident.
func soakAlert(i int) map[string]any {
	id := fmt.Sprintf("soak-%05d", i)
	return map[string]any{
		"version": "4", "status": "firing", "receiver": "riposte", "groupKey": id,
		"alerts": []map[string]any{{
			"status":      "firing",
			"labels":      map[string]string{"alertname": "SoakHold", "soak": "hold", "instance": id},
			"annotations": map[string]string{"summary": "soak incident " + id},
			"startsAt":    "2026-01-01T00:00:00Z",
			"fingerprint": id,
		}},
	}
}

// soakParallel runs fn(0..n-1) on workers goroutines and returns the first
// error; after an error no new call starts.
func soakParallel(n, workers int, fn func(i int) error) error {
	var (
		next   atomic.Int64
		once   sync.Once
		first  error
		failed atomic.Bool
		wg     sync.WaitGroup
	)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err; failed.Store(true) })
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// soakObligation is the part of a GET /v1/deadlines row the soak checks.
type soakObligation struct {
	ID         string     `json:"id"`
	IncidentID string     `json:"incident_id"`
	StageID    string     `json:"stage_id"`
	Status     string     `json:"status"`
	DueAt      *time.Time `json:"due_at"`
	Unreadable string     `json:"unreadable"`
	History    []struct {
		At   time.Time `json:"at"`
		Kind string    `json:"kind"`
	} `json:"history"`
}

// lateAt is when the obligation's timer turned it late: the workflow time
// of the tick that recorded it.
func (o soakObligation) lateAt() (time.Time, bool) {
	for _, h := range o.History {
		if h.Kind == "late" {
			return h.At, true
		}
	}
	return time.Time{}, false
}

// listDeadlines runs GET /v1/deadlines?query and times it.
func (a soakAPI) listDeadlines(query string) ([]soakObligation, time.Duration, int, error) {
	start := time.Now()
	code, b, err := a.do("GET", "/v1/deadlines?"+query, nil)
	took := time.Since(start)
	if err != nil {
		return nil, took, 0, err
	}
	if code != http.StatusOK {
		return nil, took, len(b), fmt.Errorf("GET /v1/deadlines?%s: %d %s", query, code, soakHead(b))
	}
	var out struct {
		Deadlines []soakObligation `json:"deadlines"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, took, len(b), fmt.Errorf("GET /v1/deadlines?%s: decode: %w", query, err)
	}
	return out.Deadlines, took, len(b), nil
}

// checkOpenList reports the first way list differs from want (obligation
// ID → due time): missing, extra or duplicated rows, a row not open, a
// wrong due time, or the order (due time, then ID). It counts the rows
// listed as unreadable (their Query failed, so they carry what visibility
// knows, which is still checked).
func checkOpenList(list []soakObligation, want map[string]time.Time) (unreadable int, err error) {
	seen := make(map[string]bool, len(list))
	for i, o := range list {
		if seen[o.ID] {
			return unreadable, fmt.Errorf("row %d: %s listed twice", i, o.ID)
		}
		seen[o.ID] = true
		if o.Unreadable != "" {
			unreadable++
		}
		due, ok := want[o.ID]
		switch {
		case !ok:
			return unreadable, fmt.Errorf("row %d: unexpected obligation %s (%s)", i, o.ID, o.Status)
		case o.Status != "open":
			return unreadable, fmt.Errorf("row %d: %s is %q, want open", i, o.ID, o.Status)
		case o.DueAt == nil || !o.DueAt.Equal(due):
			return unreadable, fmt.Errorf("row %d: %s due %v, want %s", i, o.ID, o.DueAt, due.Format(time.RFC3339))
		}
		if i > 0 {
			p := list[i-1]
			if o.DueAt.Before(*p.DueAt) || (o.DueAt.Equal(*p.DueAt) && o.ID < p.ID) {
				return unreadable, fmt.Errorf("rows %d and %d out of order: %s due %s before %s due %s",
					i-1, i, p.ID, p.DueAt.Format(time.RFC3339), o.ID, o.DueAt.Format(time.RFC3339))
			}
		}
	}
	if len(list) != len(want) {
		return unreadable, fmt.Errorf("%d rows, want %d", len(list), len(want))
	}
	return unreadable, nil
}

// scrapeMetrics fetches /metrics, times it, and returns the sum of the
// riposte_deadlines_open series and riposte_deadlines_overdue (-1 when a
// series is absent: the collector exports nothing when visibility fails).
func (a soakAPI) scrapeMetrics() (open, overdue int, took time.Duration, err error) {
	start := time.Now()
	code, b, err := a.do("GET", "/metrics", nil)
	took = time.Since(start)
	if err != nil {
		return 0, 0, took, err
	}
	if code != http.StatusOK {
		return 0, 0, took, fmt.Errorf("GET /metrics: %d %s", code, soakHead(b))
	}
	open, overdue = -1, -1
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name, rest, _ := strings.Cut(line, " ")
		var v float64
		switch {
		case strings.HasPrefix(name, "riposte_deadlines_open{"):
			v, err = strconv.ParseFloat(rest, 64)
			if open < 0 {
				open = 0
			}
			open += int(v)
		case name == "riposte_deadlines_overdue":
			v, err = strconv.ParseFloat(rest, 64)
			overdue = int(v)
		}
		if err != nil {
			return 0, 0, took, fmt.Errorf("metrics line %q: %w", line, err)
		}
	}
	return open, overdue, took, sc.Err()
}

// countWorkflows counts executions matching a visibility query.
func countWorkflows(c client.Client, query string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: "default", Query: query})
	if err != nil {
		return 0, err
	}
	return resp.GetCount(), nil
}

// procMemory reads VmRSS and VmHWM (peak RSS) of a process, in MB.
func procMemory(pid int) (rssMB, hwmMB float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	kb := func(key string) float64 {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, key+":"); ok {
				n, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
				return n
			}
		}
		return math.NaN()
	}
	rss, hwm := kb("VmRSS"), kb("VmHWM")
	if math.IsNaN(rss) || math.IsNaN(hwm) {
		return 0, 0, fmt.Errorf("/proc/%d/status lacks VmRSS or VmHWM", pid)
	}
	return rss / 1024, hwm / 1024, nil
}

// percentile is the nearest-rank percentile of ds (p in 0..100).
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[max(rank, 1)-1]
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

// soakHead keeps an error body short in messages.
func soakHead(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// soakPoll calls f every interval until it reports done, fails, or the
// deadline passes; the last progress message goes into the timeout error.
func soakPoll(what string, timeout, interval time.Duration, f func() (done bool, progress string, err error)) error {
	deadline := time.Now().Add(timeout)
	var last string
	for {
		done, progress, err := f()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if done {
			return nil
		}
		last = progress
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %v (last: %s)", what, timeout, last)
		}
		time.Sleep(interval)
	}
}
