package alerts

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// TheHive normalises a TheHive alert: the body that creates one
// (POST /api/alert, v3/v4 with artifacts[], v5 with observables[]), or
// TheHive's own webhook envelope {"objectType":"alert","object":{...}}.
// One body is one alert.
//
//   - ID: MakeID("thehive", type, source, sourceRef), TheHive's own
//     uniqueness key for alerts.
//   - Severity: severity 1 low, 2 medium, 3 high, 4 critical; anything
//     else the default.
//   - Time: date (epoch ms), else createdAt / _createdAt (TheHive's record
//     time). A body with none of them is an error: TheHive itself stamps
//     such an alert with its receive time, and a receive time would make
//     the alert non-deterministic.
//   - Title: title.
//   - Status: Ignored resolved; New, Updated, Imported (and anything else)
//     firing. "Imported" means a case was opened from the alert, so the
//     condition still stands.
//   - Observables: by dataType: ip, domain, fqdn and hostname (hostname),
//     url, mail/email, hash (typed by length), filename and file (the
//     attachment's name). user-agent, registry, other and the rest are
//     skipped.
//   - Labels: type, source, sourceRef, tlp, pap, status, caseTemplate,
//     tags (comma-joined).
type TheHive struct{}

const bTheHiveExpect = `expected a thehive alert object with "type", "source" and "sourceRef"`

// Normalize implements Normalizer.
func (TheHive) Normalize(body []byte, opts Options) ([]Alert, error) {
	rec, err := bDecodeOne(body)
	if err != nil {
		return nil, fmt.Errorf("thehive: %w; %s", err, bTheHiveExpect)
	}
	o := bObj(rec.val)
	if inner := bObj(o["object"]); inner != nil && strings.EqualFold(bTrim(o["objectType"]), "alert") {
		o = inner
	}
	typ, src, ref := bTrim(o["type"]), bTrim(o["source"]), bTrim(o["sourceRef"])
	if o == nil || typ == "" || src == "" || ref == "" {
		return nil, fmt.Errorf("thehive: %s, got %s", bTheHiveExpect, bDescribe(rec.val))
	}

	observed, err := bTheHiveTime(o)
	timeFromReceipt := false
	if errors.Is(err, errTheHiveNoDate) && !opts.ReceivedAt.IsZero() {
		// TheHive's API itself defaults an alert's date to its arrival,
		// and the alert's ID does not depend on it.
		observed, err, timeFromReceipt = opts.ReceivedAt.UTC(), nil, true
	}
	if err != nil {
		return nil, fmt.Errorf("thehive: %w", err)
	}

	sev := DefaultSeverity(opts.DefaultSeverity)
	if n, ok := bInt(o["severity"]); ok {
		switch n {
		case 1:
			sev = SeverityLow
		case 2:
			sev = SeverityMedium
		case 3:
			sev = SeverityHigh
		case 4:
			sev = SeverityCritical
		}
	}

	status := StatusFiring
	if strings.EqualFold(bTrim(o["status"]), "Ignored") {
		status = StatusResolved
	}

	title := bTrim(o["title"])
	if title == "" {
		title = "TheHive alert " + ref
	}

	var obs ObservableSet
	for _, key := range []string{"artifacts", "observables"} {
		list, _ := o[key].([]any)
		for _, item := range list {
			bTheHiveObservable(&obs, bObj(item))
		}
	}

	labels := map[string]string{}
	if timeFromReceipt {
		labels["riposte.time_source"] = "received"
	}
	for _, k := range []string{"type", "source", "sourceRef", "tlp", "pap", "status", "caseTemplate", "tags"} {
		bSetLabel(labels, k, o[k])
	}

	return []Alert{{
		Source:      opts.Source,
		ID:          MakeID("thehive", typ, src, ref),
		Title:       title,
		Severity:    sev,
		Status:      status,
		ObservedAt:  observed,
		Observables: obs.List(),
		Labels:      labels,
		Raw:         rec.raw,
	}}, nil
}

func bTheHiveTime(o map[string]any) (time.Time, error) {
	for _, k := range []string{"date", "createdAt", "_createdAt"} {
		v, ok := o[k]
		if !ok || v == nil {
			continue
		}
		t, err := ParseTime(v)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s: %w", k, err)
		}
		return t, nil
	}
	return time.Time{}, errTheHiveNoDate
}

var errTheHiveNoDate = errors.New(`no date (expected "date" or "createdAt", epoch milliseconds)`)

// bTheHiveObservable adds one artifact/observable by its dataType.
func bTheHiveObservable(obs *ObservableSet, item map[string]any) {
	if item == nil {
		return
	}
	dt := strings.ToLower(bTrim(item["dataType"]))
	values := bStrings(item["data"])
	switch dt {
	case "ip":
		for _, v := range values {
			obs.Add(ObsIP, v)
		}
	case "domain":
		for _, v := range values {
			obs.Add(ObsDomain, strings.TrimSuffix(v, "."))
		}
	case "fqdn", "hostname":
		for _, v := range values {
			obs.Add(ObsHostname, strings.TrimSuffix(v, "."))
		}
	case "url":
		for _, v := range values {
			obs.Add(ObsURL, v)
		}
	case "mail", "email":
		for _, v := range values {
			obs.Add(ObsEmail, v)
		}
	case "hash":
		for _, v := range values {
			bAddHash(obs, v)
		}
	case "filename":
		for _, v := range values {
			obs.Add(ObsFile, v)
		}
	case "file":
		// v5: attachment{name}; v3/v4 creation: data "name;mime;base64".
		if name := bTrim(bGet(item, "attachment", "name")); name != "" {
			obs.Add(ObsFile, name)
			return
		}
		for _, v := range values {
			name, _, _ := strings.Cut(v, ";")
			obs.Add(ObsFile, name)
		}
	}
}

var _ Normalizer = TheHive{}
