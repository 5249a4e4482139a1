package alerts

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Splunk normalises the body of Splunk's webhook alert action: {sid,
// search_name (may be null), app, owner, results_link, result{first row}}.
//
//   - ID: MakeID("splunk", sid).
//   - Severity: result.severity, else result.urgency: a name (informational,
//     info, low, medium, high, critical, and Splunk's own debug, warn,
//     error, severe, fatal) or Splunk's alert.severity number 1–6
//     (savedsearches.conf: 1 debug, 2 info, 3 warn, 4 error, 5 severe,
//     6 fatal); else the default.
//   - Title: search_name, else "Splunk alert <sid>".
//   - Status: always firing.
//   - ObservedAt: result._time, else the epoch in the sid
//     ("..._at_<epoch>_..."); with neither the body is an error.
type Splunk struct{}

const aSplunkExpect = `a Splunk webhook alert action body with "sid" and "result"`

var aSplunkSIDEpoch = regexp.MustCompile(`_at_([0-9]{1,13})(?:[._]|$)`)

// Normalize implements Normalizer.
func (sp Splunk) Normalize(body []byte, opts Options) ([]Alert, error) {
	v, err := aDecodeJSON(body)
	if err != nil {
		return nil, fmt.Errorf("splunk: expected %s, got %v", aSplunkExpect, err)
	}
	doc, ok := aObj(v)
	if !ok {
		return nil, fmt.Errorf("splunk: expected %s, got %s", aSplunkExpect, aDescribe(v))
	}
	sid := strings.TrimSpace(aStr(doc["sid"]))
	if sid == "" {
		what := `a JSON object without "sid"`
		if doc["sid"] != nil {
			what = `"sid" as ` + aDescribe(doc["sid"])
		}
		return nil, fmt.Errorf("splunk: expected %s, got %s", aSplunkExpect, what)
	}
	result := map[string]any{}
	if r, present := doc["result"]; present && r != nil {
		m, ok := aObj(r)
		if !ok {
			return nil, fmt.Errorf(`splunk: expected %s, got "result" as %s`, aSplunkExpect, aDescribe(r))
		}
		result = m
	} else if !present {
		return nil, fmt.Errorf(`splunk: expected %s, got a JSON object without "result"`, aSplunkExpect)
	}

	observed, err := sp.time(result["_time"], sid)
	if err != nil {
		return nil, fmt.Errorf("splunk: %w", err)
	}

	title := strings.TrimSpace(aStr(doc["search_name"]))
	if title == "" {
		title = "Splunk alert " + sid
	}

	sev, ok := sp.severity(result["severity"])
	if !ok {
		sev, ok = sp.severity(result["urgency"])
	}
	if !ok {
		sev = DefaultSeverity(opts.DefaultSeverity)
	}

	labels := map[string]string{}
	for k, val := range result {
		if strings.HasPrefix(k, "__mv_") {
			continue // Splunk's internal multivalue encoding of another column
		}
		aSetLabel(labels, "result."+k, aScalarOnly(val))
	}
	for _, k := range []string{"sid", "search_name", "app", "owner", "results_link"} {
		aSetLabel(labels, k, doc[k])
	}

	return []Alert{{
		Source:      opts.Source,
		ID:          MakeID("splunk", sid),
		Title:       title,
		Severity:    sev,
		Status:      StatusFiring,
		ObservedAt:  observed,
		Observables: sp.observables(result),
		Labels:      labels,
		Raw:         aCopyRaw(body),
	}}, nil
}

// time is result._time, else the epoch embedded in the sid.
func (sp Splunk) time(rt any, sid string) (time.Time, error) {
	var why []string
	if rt != nil {
		t, err := ParseTime(rt)
		if err == nil {
			return t, nil
		}
		why = append(why, "result._time: "+err.Error())
	}
	if m := aSplunkSIDEpoch.FindAllStringSubmatch(sid, -1); len(m) > 0 {
		t, err := ParseTime(m[len(m)-1][1])
		if err == nil {
			return t, nil
		}
		why = append(why, "sid epoch: "+err.Error())
	}
	if len(why) > 0 {
		return time.Time{}, errors.New("no usable time: " + strings.Join(why, "; "))
	}
	return time.Time{}, errors.New("no result._time and no _at_<epoch> in sid")
}

// severity reads result.severity or result.urgency.
func (sp Splunk) severity(v any) (Severity, bool) {
	if arr, ok := v.([]any); ok && len(arr) > 0 {
		v = arr[0] // a multivalue column: its first value
	}
	s := strings.ToLower(strings.TrimSpace(aStr(v)))
	if s == "" {
		return "", false
	}
	if sev, ok := ParseNamedSeverity(s); ok {
		return sev, true
	}
	switch s {
	case "1", "2", "debug":
		return SeverityInformational, true
	case "3", "warn", "warning":
		return SeverityMedium, true
	case "4", "error":
		return SeverityHigh, true
	case "5", "6", "severe", "fatal":
		return SeverityCritical, true
	}
	return "", false
}

// aSplunkColumns maps common result columns (CIM names) to observable
// kinds: "host" is an IP or a hostname, "hash" is typed by its length.
var aSplunkColumns = []struct {
	col  string
	kind string
}{
	{"src", "host"}, {"src_ip", "ip"}, {"src_host", "host"},
	{"dest", "host"}, {"dest_ip", "ip"}, {"dest_host", "host"},
	{"clientip", "ip"}, {"host", "host"},
	{"user", "user"}, {"src_user", "user"}, {"dest_user", "user"},
	{"url", "url"}, {"domain", "domain"},
	{"file_hash", "hash"}, {"hash", "hash"},
	{"file_name", "file"}, {"file_path", "file"},
	{"process", "process"}, {"process_name", "process"},
}

func (sp Splunk) observables(result map[string]any) []Observable {
	var obs ObservableSet
	for _, c := range aSplunkColumns {
		for _, s := range aStrings(result[c.col]) {
			switch c.kind {
			case "host":
				obs.AddHost(s)
			case "ip":
				obs.Add(ObsIP, s)
			case "user":
				obs.Add(ObsUser, s)
			case "url":
				obs.Add(ObsURL, s)
			case "domain":
				obs.Add(ObsDomain, s)
			case "hash":
				obs.AddHash(s)
			case "file":
				obs.Add(ObsFile, s)
			case "process":
				obs.Add(ObsProcess, s)
			}
		}
	}
	return obs.List()
}
