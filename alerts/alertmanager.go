package alerts

import (
	"fmt"
	"strings"
	"time"
)

// Alertmanager normalises a Prometheus Alertmanager webhook (version "4"):
// one alert per element of "alerts".
//
//   - ID: MakeID("alertmanager", fingerprint, startsAt) when the alert has a
//     fingerprint, else MakeID("alertmanager", HashFields(labels), startsAt),
//     with startsAt in RFC 3339 UTC.
//   - Severity: the "severity" label through SeverityFromLabel.
//   - Title: annotations.summary, else labels.alertname.
//   - Status: the alert's own status, else the group's.
//   - ObservedAt: startsAt.
type Alertmanager struct{}

// Normalize implements Normalizer.
func (Alertmanager) Normalize(body []byte, opts Options) ([]Alert, error) {
	return amNormalizeGroup(amFlavourAlertmanager, body, opts)
}

// amFlavour holds what differs between Alertmanager and Grafana webhooks.
type amFlavour struct {
	format  string
	version string
	expect  string
	grafana bool
}

var amFlavourAlertmanager = amFlavour{
	format:  "alertmanager",
	version: "4",
	expect:  `a webhook with an "alerts" array (version 4)`,
}

var amFlavourGrafana = amFlavour{
	format:  "grafana",
	version: "1",
	expect:  `a Grafana unified-alerting webhook with an "alerts" array (version 1)`,
	grafana: true,
}

// amHostLabels and friends are the labels that name an observable, in the
// order they are added.
var (
	amHostLabels = []string{"instance", "host", "hostname"}
	amIPLabels   = []string{"ip", "src_ip", "source_ip", "dst_ip", "dest_ip", "destination_ip"}
	amUserLabels = []string{"user", "username"}
)

func amNormalizeGroup(fl amFlavour, body []byte, opts Options) ([]Alert, error) {
	fail := func(got string, args ...any) error {
		return fmt.Errorf("%s: expected %s, got %s", fl.format, fl.expect, fmt.Sprintf(got, args...))
	}
	v, err := aDecodeJSON(body)
	if err != nil {
		return nil, fail("%v", err)
	}
	group, ok := aObj(v)
	if !ok {
		return nil, fail("%s", aDescribe(v))
	}
	if ver, present := group["version"]; present {
		if s := aStr(ver); s != fl.version {
			hint := ""
			switch {
			case s == "4" && fl.grafana:
				hint = " (an Alertmanager webhook: use the alertmanager format)"
			case s == "1" && !fl.grafana:
				hint = " (a Grafana webhook: use the grafana format)"
			}
			return nil, fail("version %q%s", truncate(s, 20), hint)
		}
	}
	rawAlerts, present := group["alerts"]
	if !present {
		if fl.grafana && (group["evalMatches"] != nil || group["ruleName"] != nil) {
			return nil, fail(`a legacy Grafana alerting notification ("ruleName", "evalMatches"); switch the contact point to unified alerting`)
		}
		return nil, fail(`a JSON object without "alerts"`)
	}
	list, ok := rawAlerts.([]any)
	if !ok {
		return nil, fail(`"alerts" as %s`, aDescribe(rawAlerts))
	}
	if len(list) == 0 {
		return nil, fail(`an empty "alerts" array`)
	}
	raws := aRawElems(body, "alerts", list)

	commonLabels, _ := aObj(group["commonLabels"])
	groupStatus := amStatus(group["status"])
	if groupStatus == "" && fl.grafana {
		switch strings.ToLower(aStr(group["state"])) {
		case "ok", "normal":
			groupStatus = StatusResolved
		case "alerting":
			groupStatus = StatusFiring
		}
	}

	out := make([]Alert, 0, len(list))
	for i, el := range list {
		a, err := amAlert(fl, group, commonLabels, groupStatus, el, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: alerts[%d]: %w", fl.format, i, err)
		}
		a.Raw = aCopyRaw(raws[i])
		out = append(out, a)
	}
	return out, nil
}

func amStatus(v any) Status {
	switch strings.ToLower(strings.TrimSpace(aStr(v))) {
	case "resolved":
		return StatusResolved
	case "firing":
		return StatusFiring
	}
	return ""
}

func amAlert(fl amFlavour, group, commonLabels map[string]any, groupStatus Status, el any, opts Options) (Alert, error) {
	obj, ok := aObj(el)
	if !ok {
		return Alert{}, fmt.Errorf("expected an alert object, got %s", aDescribe(el))
	}
	ownLabels := map[string]string{}
	if lm, ok := aObj(obj["labels"]); ok {
		for k, v := range lm {
			ownLabels[k] = aStr(v)
		}
	} else if obj["labels"] != nil {
		return Alert{}, fmt.Errorf(`expected "labels" to be an object, got %s`, aDescribe(obj["labels"]))
	}
	annotations, _ := aObj(obj["annotations"])
	if len(ownLabels) == 0 && obj["startsAt"] == nil {
		return Alert{}, fmt.Errorf(`expected an alert object with "labels" and "startsAt", got %s`, aDescribe(el))
	}

	startsAt, err := ParseTime(obj["startsAt"])
	if err != nil {
		return Alert{}, fmt.Errorf("startsAt: %v", err)
	}
	if startsAt.IsZero() {
		return Alert{}, fmt.Errorf("startsAt: zero time 0001-01-01T00:00:00Z")
	}
	start := startsAt.Format(time.RFC3339Nano)

	var id string
	if fp := strings.TrimSpace(aStr(obj["fingerprint"])); fp != "" {
		id = MakeID(fl.format, fp, start)
	} else {
		id = MakeID(fl.format, HashFields(ownLabels), start)
	}

	labels := map[string]string{}
	for k, v := range commonLabels {
		labels[k] = aStr(v)
	}
	for k, v := range ownLabels {
		labels[k] = v
	}
	for k, v := range annotations {
		aSetLabel(labels, "annotation."+k, v)
	}
	aSetLabelIfAbsent(labels, "groupKey", group["groupKey"])
	aSetLabelIfAbsent(labels, "receiver", group["receiver"])
	aSetLabelIfAbsent(labels, "generatorURL", obj["generatorURL"])
	if fl.grafana {
		aSetLabelIfAbsent(labels, "orgId", group["orgId"])
		for _, k := range []string{"dashboardURL", "panelURL", "silenceURL", "valueString"} {
			aSetLabelIfAbsent(labels, k, obj[k])
		}
		if vals, ok := aObj(obj["values"]); ok {
			for k, v := range vals {
				aSetLabelIfAbsent(labels, "value."+k, v)
			}
		}
	}

	status := amStatus(obj["status"])
	if status == "" {
		status = groupStatus
	}
	if status == "" {
		status = StatusFiring
	}

	title := strings.TrimSpace(aStr(annotations["summary"]))
	if title == "" {
		title = strings.TrimSpace(labels["alertname"])
	}
	if title == "" && fl.grafana {
		title = strings.TrimSpace(aStr(group["title"]))
	}
	if title == "" {
		title = fl.format + " alert"
	}

	var obs ObservableSet
	for _, k := range amHostLabels {
		obs.AddHost(labels[k])
	}
	for _, k := range amIPLabels {
		obs.Add(ObsIP, amStripPort(labels[k]))
	}
	for _, k := range amUserLabels {
		obs.Add(ObsUser, labels[k])
	}

	return Alert{
		Source:      opts.Source,
		ID:          id,
		Title:       title,
		Severity:    SeverityFromLabel(labels["severity"], opts.DefaultSeverity),
		Status:      status,
		ObservedAt:  startsAt,
		Observables: obs.List(),
		Labels:      labels,
	}, nil
}

// amStripPort drops a port from an address label ("10.0.0.1:9100").
func amStripPort(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		if i := strings.Index(s, "]"); i > 0 {
			return s[1:i]
		}
	}
	if strings.Count(s, ":") == 1 {
		return s[:strings.IndexByte(s, ':')]
	}
	return s
}
