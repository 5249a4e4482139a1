package main

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// faultKind is what the fault proxy does to one request.
type faultKind int

const (
	faultNone       faultKind = iota
	fault429                  // Too Many Requests, Retry-After: 1, not forwarded (a burst)
	fault5xxBefore            // 500/502/503 without forwarding: RT never saw it
	fault5xxAfter             // forwarded, RT acted, then 500/502/504: the answer is lost
	faultHangBefore           // held for the hang time, then forwarded if the caller still waits
	faultHangAfter            // forwarded, the answer held for the hang time
)

// faultConfig sets the shares of injected faults.
type faultConfig struct {
	// P5xx is the share of requests answered 5xx, half before and half
	// after forwarding.
	P5xx float64
	// PBurst is the chance that a request starts a burst of 429s lasting
	// BurstLen; every request in a burst gets 429 with Retry-After: 1.
	PBurst   float64
	BurstLen time.Duration
	// PHang is the share of requests held for Hang (half before, half
	// after forwarding).
	PHang float64
	Hang  time.Duration
}

// faultProxy stands between Riposte and Request Tracker and injects faults.
// A 503 or 429 is only ever sent for a request RT did not see: by HTTP's
// rules those mean "not processed", and Riposte's HTTP client resends a
// POST after them. After forwarding, the lost answer is a 500, 502 or 504,
// as a gateway reports a failed upstream.
//
// Riposte authenticates to the proxy with a token of the test's own; the
// proxy swaps in RT's, so Riposte can start while RT is still starting (the
// proxy answers 503 until SetTarget).
type faultProxy struct {
	cfg       faultConfig
	fakeToken string

	target    atomic.Pointer[httputil.ReverseProxy]
	realToken atomic.Pointer[string]

	mu         sync.Mutex
	rng        *rand.Rand
	burstUntil time.Time

	requests, forwarded, notReady, badAuth   atomic.Int64
	fault5xxBefore, fault5xxAfter            atomic.Int64
	fault429, bursts                         atomic.Int64
	hangBefore, hangAfter, droppedAfterHang  atomic.Int64
	createsForwarded, createsCreated, search atomic.Int64

	// trace records every forwarded ticket create and search, for failure
	// reports.
	traceMu sync.Mutex
	trace   []string
}

// Trace returns the lines recorded for creates and searches whose body or
// query mentions substr (all of them when substr is empty).
func (p *faultProxy) Trace(substr string) []string {
	p.traceMu.Lock()
	defer p.traceMu.Unlock()
	var out []string
	for _, l := range p.trace {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}

func newFaultProxy(cfg faultConfig, seed uint64, fakeToken string) (*faultProxy, *httptest.Server) {
	p := &faultProxy{cfg: cfg, fakeToken: fakeToken, rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))}
	return p, httptest.NewServer(p)
}

// SetTarget starts forwarding to RT at base with its token.
func (p *faultProxy) SetTarget(base, token string) error {
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = log.New(io.Discard, "", 0)
	p.realToken.Store(&token)
	p.target.Store(rp)
	return nil
}

func (p *faultProxy) decide() faultKind {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Before(p.burstUntil) {
		return fault429
	}
	c := p.cfg
	x := p.rng.Float64()
	switch {
	case x < c.PBurst:
		p.burstUntil = now.Add(c.BurstLen)
		p.bursts.Add(1)
		return fault429
	case x < c.PBurst+c.P5xx/2:
		return fault5xxBefore
	case x < c.PBurst+c.P5xx:
		return fault5xxAfter
	case x < c.PBurst+c.P5xx+c.PHang/2:
		return faultHangBefore
	case x < c.PBurst+c.P5xx+c.PHang:
		return faultHangAfter
	}
	return faultNone
}

func (p *faultProxy) pick(codes ...int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return codes[p.rng.IntN(len(codes))]
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	rp := p.target.Load()
	if rp == nil {
		p.notReady.Add(1)
		http.Error(w, `{"message":"rt starting"}`, http.StatusServiceUnavailable)
		return
	}
	if r.Header.Get("Authorization") != "token "+p.fakeToken {
		p.badAuth.Add(1)
		http.Error(w, `{"message":"Unauthorized"}`, http.StatusUnauthorized)
		return
	}
	r.Header.Set("Authorization", "token "+*p.realToken.Load())

	fault := p.decide()
	switch fault {
	case fault429:
		p.fault429.Add(1)
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"message":"Too Many Requests"}`)
		return
	case fault5xxBefore:
		p.fault5xxBefore.Add(1)
		http.Error(w, "injected fault", p.pick(http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable))
		return
	case faultHangBefore:
		p.hangBefore.Add(1)
		select {
		case <-time.After(p.cfg.Hang):
		case <-r.Context().Done():
			// The caller gave up; a black hole forwards nothing.
			p.droppedAfterHang.Add(1)
			return
		}
	}

	rec := httptest.NewRecorder()
	p.forward(rp, rec, r, fault)
	switch fault {
	case fault5xxAfter:
		p.fault5xxAfter.Add(1)
		http.Error(w, "injected fault after forwarding", p.pick(http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout))
		return
	case faultHangAfter:
		p.hangAfter.Add(1)
		select {
		case <-time.After(p.cfg.Hang):
		case <-r.Context().Done():
			return
		}
	}
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// forward sends r to RT and counts ticket creates and searches.
func (p *faultProxy) forward(rp *httputil.ReverseProxy, rec *httptest.ResponseRecorder, r *http.Request, fault faultKind) {
	p.forwarded.Add(1)
	path := strings.TrimSuffix(r.URL.Path, "/")
	create := r.Method == http.MethodPost && path == "/REST/2.0/ticket"
	search := r.Method == http.MethodGet && path == "/REST/2.0/tickets"
	what := ""
	switch {
	case create:
		p.createsForwarded.Add(1)
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		what = "create " + tagIn(string(body))
	case search:
		p.search.Add(1)
		what = "search " + tagIn(r.URL.Query().Get("query"))
	}
	t0 := time.Now()
	rp.ServeHTTP(rec, r)
	if create && rec.Code == http.StatusCreated {
		p.createsCreated.Add(1)
	}
	if what != "" {
		answer := rec.Body.String()
		if len(answer) > 120 {
			answer = answer[:120]
		}
		line := fmt.Sprintf("%s %s fault=%d rt=%d in %v caller_gone=%v: %s", t0.Format("15:04:05.000"), what, fault, rec.Code,
			time.Since(t0).Round(time.Millisecond), r.Context().Err() != nil, strings.Join(strings.Fields(answer), " "))
		p.traceMu.Lock()
		p.trace = append(p.trace, line)
		p.traceMu.Unlock()
	}
}

// tagIn returns the first [riposte:...] tag in s.
func tagIn(s string) string {
	i := strings.Index(s, "[riposte:")
	if i < 0 {
		return "(no tag)"
	}
	j := strings.IndexByte(s[i:], ']')
	if j < 0 {
		return s[i:]
	}
	return s[i : i+j+1]
}
