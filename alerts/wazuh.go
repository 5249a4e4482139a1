package alerts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Wazuh normalises Wazuh manager alerts (alerts.json lines): one alert
// object, or NDJSON with one alert per line (blank lines are skipped; an
// error names the line).
//
//   - ID: MakeID("wazuh", id) with the manager's "<epoch>.<offset>" id; an
//     alert without one gets a hash of rule.id, agent.id, timestamp and the
//     whole alert.
//   - Severity: rule.level, 0–6 low, 7–11 medium, 12–14 high, 15–16
//     critical (Wazuh levels run 0–16); absent or out of range → default.
//   - Title: rule.description.
//   - Status: always firing (Wazuh has no resolve).
//   - ObservedAt: timestamp (2020-04-17T00:17:53.159+0000).
type Wazuh struct{}

const aWazuhExpect = `a Wazuh alert object with "rule" (one per line for NDJSON)`

// Normalize implements Normalizer.
func (w Wazuh) Normalize(body []byte, opts Options) ([]Alert, error) {
	type line struct {
		no   int
		text []byte
	}
	var lines []line
	for i, l := range bytes.Split(body, []byte{'\n'}) {
		if t := bytes.TrimSpace(l); len(t) > 0 {
			lines = append(lines, line{i + 1, t})
		}
	}
	// NDJSON when there are several non-blank lines and the first is a
	// JSON value by itself; anything else (one line, or one object
	// pretty-printed over many) is read as a single document.
	if len(lines) >= 2 && json.Valid(lines[0].text) {
		out := make([]Alert, 0, len(lines))
		for _, l := range lines {
			a, err := w.doc(l.text, opts)
			if err != nil {
				return nil, fmt.Errorf("wazuh: line %d: %w", l.no, err)
			}
			out = append(out, a)
		}
		return out, nil
	}
	a, err := w.doc(body, opts)
	if err != nil {
		return nil, fmt.Errorf("wazuh: %w", err)
	}
	return []Alert{a}, nil
}

func (w Wazuh) doc(raw []byte, opts Options) (Alert, error) {
	v, err := aDecodeJSON(raw)
	if err != nil {
		return Alert{}, fmt.Errorf("expected %s, got %v", aWazuhExpect, err)
	}
	doc, ok := aObj(v)
	if !ok {
		return Alert{}, fmt.Errorf("expected %s, got %s", aWazuhExpect, aDescribe(v))
	}
	rule, ok := aObj(doc["rule"])
	if !ok {
		if doc["rule"] == nil {
			return Alert{}, fmt.Errorf(`expected %s, got a JSON object without "rule"`, aWazuhExpect)
		}
		return Alert{}, fmt.Errorf(`expected %s, got "rule" as %s`, aWazuhExpect, aDescribe(doc["rule"]))
	}

	ts := doc["timestamp"]
	if ts == nil {
		ts = doc["@timestamp"]
	}
	observed, err := ParseTime(ts)
	if err != nil {
		return Alert{}, fmt.Errorf("timestamp: %v", err)
	}

	var id string
	if wid := strings.TrimSpace(aStr(doc["id"])); wid != "" {
		id = MakeID("wazuh", wid)
	} else {
		id = MakeID("wazuh", aStr(rule["id"]), aGetStr(doc, "agent.id"), aStr(ts), aCanonical(doc))
	}

	title := strings.TrimSpace(aStr(rule["description"]))
	if title == "" {
		title = "Wazuh rule " + strings.TrimSpace(aStr(rule["id"]))
	}

	labels := map[string]string{}
	aSetLabel(labels, "rule.id", rule["id"])
	aSetLabel(labels, "rule.level", rule["level"])
	aSetLabel(labels, "rule.groups", rule["groups"])
	aSetLabel(labels, "rule.mitre.id", aGet(rule, "mitre.id"))
	for _, k := range []string{"agent.id", "agent.name", "manager.name", "decoder.name", "location"} {
		aSetLabel(labels, k, aGet(doc, k))
	}

	var obs ObservableSet
	add := func(t ObservableType, path string) {
		for _, s := range aStrings(aGet(doc, path)) {
			obs.Add(t, s)
		}
	}
	add(ObsIP, "data.srcip")
	add(ObsIP, "data.dstip")
	add(ObsUser, "data.srcuser")
	add(ObsUser, "data.dstuser")
	add(ObsHostname, "agent.name")
	add(ObsIP, "agent.ip")
	add(ObsHostname, "predecoder.hostname")
	add(ObsFile, "syscheck.path")
	add(ObsHashMD5, "syscheck.md5_after")
	add(ObsHashSHA1, "syscheck.sha1_after")
	add(ObsHashSHA256, "syscheck.sha256_after")

	return Alert{
		Source:      opts.Source,
		ID:          id,
		Title:       title,
		Severity:    w.severity(rule["level"], opts.DefaultSeverity),
		Status:      StatusFiring,
		ObservedAt:  observed,
		Observables: obs.List(),
		Labels:      labels,
		Raw:         aCopyRaw(raw),
	}, nil
}

// severity maps rule.level as DESIGN.md says. Wazuh's rules syntax
// allows 0–16, so 16 is critical too; anything else is the default.
func (w Wazuh) severity(level any, def Severity) Severity {
	n, ok := aInt(level)
	switch {
	case !ok || n < 0 || n > 16:
		return DefaultSeverity(def)
	case n <= 6:
		return SeverityLow
	case n <= 11:
		return SeverityMedium
	case n <= 14:
		return SeverityHigh
	}
	return SeverityCritical
}
