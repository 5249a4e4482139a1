package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/riposte-soar/riposte/internal/incidents"
	"github.com/riposte-soar/riposte/internal/kpi"
)

func (h *handler) registerKPIPage(mux *http.ServeMux) {
	mux.HandleFunc("GET /kpi", h.consolePage(h.pageKPI))
}

type kpiView struct {
	Available bool
	From, To  string // YYYY-MM-DD for the form
	N         int
	Report    kpi.Report
	Times     []kpiTime
	Rates     []kpiRate
	Durations barChart
	Daily     barChart
	DailyMTTR barChart
}

type kpiTime struct {
	Name, Help      string
	Count           int
	Mean, P50, P90  string
	MeanSecondsRaw  float64
	HasObservations bool
}

type kpiRate struct {
	Name, Help string
	Value      string
	Detail     string
	Gauge      gauge
}

// barChart is a small vertical bar chart drawn server-side as inline SVG:
// the template only places rectangles at the coordinates computed here.
type barChart struct {
	Title  string
	W, H   int
	Bars   []bar
	Max    string
	Base   int // y of the axis
	Labels bool
}

type bar struct {
	X, Y, W, H float64
	Label      string
	Tip        string
	LabelX     float64
}

// gauge is a horizontal bar filled to a share between 0 and 1.
type gauge struct {
	Fill float64 // width of the filled part, of 100
}

// kpiDate turns the form's YYYY-MM-DD into the RFC 3339 that KPIParams
// takes; "to" covers its whole day.
func kpiDate(q url.Values, key string) {
	v := q.Get(key)
	if len(v) != len("2006-01-02") {
		return
	}
	d, err := time.Parse("2006-01-02", v)
	if err != nil {
		return
	}
	if key == "to" {
		d = d.Add(24 * time.Hour)
	}
	q.Set(key, d.Format(time.RFC3339))
}

func (h *handler) pageKPI(w http.ResponseWriter, r *http.Request, ss session) {
	v := kpiView{Available: h.d.KPI != nil}
	page := newPage(ss, "kpi", "KPIs", &v)
	if !v.Available {
		h.render(w, r, http.StatusOK, "kpi", page)
		return
	}
	q := r.URL.Query()
	kpiDate(q, "from")
	kpiDate(q, "to")
	from, to, n, err := KPIParams(q, h.d.Now())
	if err != nil {
		page.Error = err.Error()
		v.Available = false
		h.render(w, r, http.StatusBadRequest, "kpi", page)
		return
	}
	rep, err := h.d.KPI.Compute(r.Context(), from, to, time.Duration(n)*time.Minute)
	switch {
	case err == nil:
	case errors.Is(err, kpi.ErrRange):
		page.Error, v.Available = err.Error(), false
		h.render(w, r, http.StatusBadRequest, "kpi", page)
		return
	case errors.Is(err, incidents.ErrUnavailable):
		h.renderError(w, r, &ss, http.StatusServiceUnavailable, "temporal is unavailable; retry later")
		return
	default:
		h.renderError(w, r, &ss, http.StatusInternalServerError, "compute kpi failed")
		return
	}
	v.Report, v.N = rep, n
	v.From = from.Format("2006-01-02")
	v.To = to.Add(-time.Nanosecond).Format("2006-01-02")
	v.Times = []kpiTime{
		kpiTimeOf("MTTD", "first alert observed → incident created", rep.MTTD),
		kpiTimeOf("MTTA", "created → first human action", rep.MTTA),
		kpiTimeOf("MTTC", "created → contained", rep.MTTC),
		kpiTimeOf("MTTR", "created → resolved", rep.MTTR),
		kpiTimeOf("Approval response", "approval requested → first decision", rep.ApprovalResponse),
	}
	v.Rates = []kpiRate{
		{Name: "Critical left unactioned", Help: fmt.Sprintf("critical incidents with no action after %d min", rep.Critical.AfterMinutes),
			Value: pct(rep.Critical.Share, rep.Critical.Total), Detail: fmt.Sprintf("%d of %d", rep.Critical.Unactioned, rep.Critical.Total), Gauge: gauge{Fill: 100 * rep.Critical.Share}},
		{Name: "Recovery success", Help: "undos and restores that succeeded",
			Value: pct(rep.Recovery.Rate, rep.Recovery.Attempted), Detail: fmt.Sprintf("%d of %d", rep.Recovery.Succeeded, rep.Recovery.Attempted), Gauge: gauge{Fill: 100 * rep.Recovery.Rate}},
		{Name: "Reports filed on time", Help: "regulatory reports filed by their due time",
			Value: pct(rep.ReportsOnTime.Rate, rep.ReportsOnTime.Filed), Detail: fmt.Sprintf("%d of %d (%d overdue, unfiled)", rep.ReportsOnTime.OnTime, rep.ReportsOnTime.Filed, rep.ReportsOnTime.Overdue), Gauge: gauge{Fill: 100 * rep.ReportsOnTime.Rate}},
	}
	var durs []float64
	var names []string
	for _, t := range v.Times {
		durs = append(durs, t.MeanSecondsRaw)
		names = append(names, t.Name)
	}
	v.Durations = bars("Mean times", names, durs, func(x float64) string { return humanDuration(x) }, true)
	var days []string
	var counts, mttr []float64
	for _, d := range rep.Daily {
		days = append(days, d.Date)
		counts = append(counts, float64(d.Incidents))
		mttr = append(mttr, d.MTTRMeanSeconds)
	}
	v.Daily = bars("Incidents per day", days, counts, func(x float64) string { return fmt.Sprintf("%.0f", x) }, false)
	v.DailyMTTR = bars("Mean time to resolve, by day opened", days, mttr, humanDuration, false)
	h.render(w, r, http.StatusOK, "kpi", page)
}

func kpiTimeOf(name, help string, s kpi.Stat) kpiTime {
	return kpiTime{Name: name, Help: help, Count: s.Count, Mean: humanDuration(s.MeanSeconds), P50: humanDuration(s.P50Seconds),
		P90: humanDuration(s.P90Seconds), MeanSecondsRaw: s.MeanSeconds, HasObservations: s.Count > 0}
}

func pct(share float64, of int) string {
	if of == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f %%", 100*share)
}

func humanDuration(sec float64) string {
	d := time.Duration(sec * float64(time.Second)).Round(time.Second)
	switch {
	case d <= 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%.1fd", d.Hours()/24)
	}
}

// bars lays out one bar per value, scaled to the largest.
func bars(title string, labels []string, values []float64, format func(float64) string, showLabels bool) barChart {
	const w, h, top, bottom = 320, 140, 8, 22
	c := barChart{Title: title, W: w, H: h, Base: h - bottom, Labels: showLabels}
	if len(values) == 0 {
		return c
	}
	maxV := 0.0
	for _, v := range values {
		maxV = max(maxV, v)
	}
	c.Max = format(maxV)
	slot := float64(w) / float64(len(values))
	bw := max(slot*0.7, 1)
	for i, v := range values {
		bh := 0.0
		if maxV > 0 {
			bh = v / maxV * float64(h-top-bottom)
		}
		x := float64(i)*slot + (slot-bw)/2
		c.Bars = append(c.Bars, bar{X: x, Y: float64(c.Base) - bh, W: bw, H: bh, Label: labels[i], Tip: labels[i] + ": " + format(v), LabelX: x + bw/2})
	}
	return c
}
