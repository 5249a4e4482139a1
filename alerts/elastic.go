package alerts

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Elastic normalises Elastic Security detection alert documents in every
// envelope they reach a webhook in: a bare document, a JSON array of
// documents (the Kibana connector's {{context.alerts}}), an Elasticsearch
// hit ({"_index","_id","_source":{...}}), an array of hits, or a search
// response ({"hits":{"hits":[...]}}). Keys may be dotted
// ("kibana.alert.severity") or nested, at any level.
//
//   - ID: MakeID("elastic", kibana.alert.uuid), else MakeID("elastic", _id),
//     else a hash of the whole document.
//   - Severity: kibana.alert.severity by name, else kibana.alert.risk_score
//     in Elastic's bands (0–21 low, 22–47 medium, 48–73 high, 74–100
//     critical), else the default.
//   - Title: kibana.alert.rule.name.
//   - Status: kibana.alert.status "recovered" → resolved, else firing.
//   - ObservedAt: @timestamp, else kibana.alert.original_time.
type Elastic struct{}

const aElasticExpect = `an Elastic Security alert document with kibana.alert.* fields (bare, an array of them, search hits with "_source", or a search response with "hits.hits")`

// Normalize implements Normalizer.
func (e Elastic) Normalize(body []byte, opts Options) ([]Alert, error) {
	v, err := aDecodeJSON(body)
	if err != nil {
		return nil, fmt.Errorf("elastic: expected %s, got %v", aElasticExpect, err)
	}
	switch x := v.(type) {
	case []any:
		if len(x) == 0 {
			return nil, fmt.Errorf("elastic: expected %s, got an empty JSON array", aElasticExpect)
		}
		return e.list(x, aRawTopArray(body, x), "", opts)
	case map[string]any:
		if hits, ok := aObj(x["hits"]); ok {
			if list, ok := hits["hits"].([]any); ok {
				if len(list) == 0 {
					return nil, fmt.Errorf("elastic: expected %s, got a search response with no hits", aElasticExpect)
				}
				var raws []json.RawMessage
				if hr, ok := aRawField(body, "hits"); ok {
					raws = aRawElems(hr, "hits", list)
				} else {
					raws = aReencode(list)
				}
				return e.list(list, raws, "hits.hits", opts)
			}
		}
		a, err := e.one(x, body, opts)
		if err != nil {
			return nil, fmt.Errorf("elastic: %w", err)
		}
		return []Alert{a}, nil
	}
	return nil, fmt.Errorf("elastic: expected %s, got %s", aElasticExpect, aDescribe(v))
}

func (e Elastic) list(list []any, raws []json.RawMessage, prefix string, opts Options) ([]Alert, error) {
	out := make([]Alert, 0, len(list))
	for i, el := range list {
		a, err := e.one(el, raws[i], opts)
		if err != nil {
			return nil, fmt.Errorf("elastic: %s[%d]: %w", prefix, i, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// one normalises one document or one hit; raw is its JSON.
func (e Elastic) one(el any, raw []byte, opts Options) (Alert, error) {
	obj, ok := aObj(el)
	if !ok {
		return Alert{}, fmt.Errorf("expected %s, got %s", aElasticExpect, aDescribe(el))
	}
	doc := obj
	var hitID, hitIndex string
	if src, present := obj["_source"]; present {
		sm, ok := aObj(src)
		if !ok {
			return Alert{}, fmt.Errorf(`expected a search hit whose "_source" is an alert document, got "_source" as %s`, aDescribe(src))
		}
		doc = sm
		hitID = strings.TrimSpace(aStr(obj["_id"]))
		hitIndex = strings.TrimSpace(aStr(obj["_index"]))
		if r, ok := aRawField(raw, "_source"); ok {
			raw = r
		} else {
			raw = aRawOf(sm)
		}
	}
	if aGet(doc, "kibana.alert.uuid") == nil && aGet(doc, "kibana.alert.rule.uuid") == nil && aGet(doc, "kibana.alert.rule.name") == nil {
		what := "a JSON object without kibana.alert.uuid, kibana.alert.rule.uuid or kibana.alert.rule.name"
		if len(doc) == 0 {
			what = "an empty JSON object"
		}
		return Alert{}, fmt.Errorf("expected %s, got %s", aElasticExpect, what)
	}

	ts := aGet(doc, "@timestamp")
	if ts == nil {
		ts = aGet(doc, "kibana.alert.original_time")
	}
	observed, err := ParseTime(ts)
	if err != nil {
		return Alert{}, fmt.Errorf("@timestamp: %v", err)
	}

	var id string
	switch uuid, hid := aGetStr(doc, "kibana.alert.uuid"), hitID; {
	case uuid != "":
		id = MakeID("elastic", uuid)
	case hid != "":
		id = MakeID("elastic", hid)
	default:
		id = MakeID("elastic", aCanonical(doc))
	}

	sev, ok := ParseNamedSeverity(aGetStr(doc, "kibana.alert.severity"))
	if !ok {
		sev, ok = e.riskSeverity(aGet(doc, "kibana.alert.risk_score"))
	}
	if !ok {
		sev = DefaultSeverity(opts.DefaultSeverity)
	}

	status := StatusFiring
	if strings.EqualFold(aGetStr(doc, "kibana.alert.status"), "recovered") {
		status = StatusResolved
	}

	title := aGetStr(doc, "kibana.alert.rule.name")
	if title == "" {
		title = "Elastic Security alert"
	}

	labels := map[string]string{}
	for _, k := range aElasticLabelFields {
		aSetLabel(labels, k, aGet(doc, k))
	}
	if hitID != "" {
		labels["_id"] = hitID
	}
	if hitIndex != "" {
		labels["_index"] = hitIndex
	}

	return Alert{
		Source:      opts.Source,
		ID:          id,
		Title:       title,
		Severity:    sev,
		Status:      status,
		ObservedAt:  observed,
		Observables: e.observables(doc),
		Labels:      labels,
		Raw:         aCopyRaw(raw),
	}, nil
}

// riskSeverity maps kibana.alert.risk_score with the bands of
// Elastic's rule editor: 0–21 low, 22–47 medium, 48–73 high, 74–100
// critical.
func (e Elastic) riskSeverity(v any) (Severity, bool) {
	f, ok := aNum(v)
	if !ok || f < 0 || f > 100 {
		return "", false
	}
	switch {
	case f < 22:
		return SeverityLow, true
	case f < 48:
		return SeverityMedium, true
	case f < 74:
		return SeverityHigh, true
	}
	return SeverityCritical, true
}

var aElasticLabelFields = []string{
	"kibana.alert.rule.name",
	"kibana.alert.rule.uuid",
	"kibana.alert.rule.rule_id",
	"kibana.alert.rule.type",
	"kibana.alert.rule.category",
	"kibana.alert.rule.tags",
	"kibana.alert.status",
	"kibana.alert.workflow_status",
	"kibana.alert.severity",
	"kibana.alert.risk_score",
	"kibana.alert.reason",
	"kibana.space_ids",
	"host.name",
	"user.name",
	"event.dataset",
	"event.module",
}

// observables types the ECS fields of an alert document.
func (e Elastic) observables(doc map[string]any) []Observable {
	var obs ObservableSet
	add := func(t ObservableType, path string) {
		for _, s := range aStrings(aGet(doc, path)) {
			obs.Add(t, s)
		}
	}
	addHost := func(path string) {
		for _, s := range aStrings(aGet(doc, path)) {
			obs.AddHost(s)
		}
	}
	addHost("host.name")
	addHost("host.hostname")
	add(ObsIP, "host.ip")
	add(ObsIP, "source.ip")
	add(ObsIP, "destination.ip")
	add(ObsIP, "related.ip")
	addHost("related.hosts")
	add(ObsDomain, "source.domain")
	add(ObsDomain, "destination.domain")
	add(ObsDomain, "dns.question.name")
	add(ObsUser, "user.name")
	add(ObsUser, "source.user.name")
	add(ObsUser, "destination.user.name")
	add(ObsUser, "related.user")
	add(ObsEmail, "user.email")
	add(ObsURL, "url.full")
	if aGet(doc, "url.full") == nil {
		add(ObsURL, "url.original")
	}
	add(ObsFile, "file.path")
	for _, p := range []string{"file.hash", "process.hash"} {
		add(ObsHashMD5, p+".md5")
		add(ObsHashSHA1, p+".sha1")
		add(ObsHashSHA256, p+".sha256")
	}
	if aGet(doc, "process.executable") != nil {
		add(ObsProcess, "process.executable")
	} else {
		add(ObsProcess, "process.name")
	}
	return obs.List()
}
