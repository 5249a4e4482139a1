package alerts

import (
	"fmt"
	"strings"
)

// Sentinel normalises a Microsoft Sentinel incident: the REST resource
// {id, name, etag, type, properties{...}}, or the Logic App incident
// trigger body that wraps it as {"object": {...}} and adds
// properties.relatedEntities (also accepted next to "properties").
//
//   - ID: MakeID("sentinel", name) (the incident GUID), else a hash of the
//     resource id.
//   - Severity: properties.severity (High/Medium/Low/Informational), else
//     the default.
//   - Title: properties.title.
//   - Status: properties.status Closed → resolved, else firing.
//   - ObservedAt: firstActivityTimeUtc, else createdTimeUtc.
type Sentinel struct{}

const aSentinelExpect = `a Sentinel incident with "properties" (the REST resource, or a Logic App trigger body with "object")`

// Normalize implements Normalizer.
func (se Sentinel) Normalize(body []byte, opts Options) ([]Alert, error) {
	fail := func(got string) error {
		return fmt.Errorf("sentinel: expected %s, got %s", aSentinelExpect, got)
	}
	v, err := aDecodeJSON(body)
	if err != nil {
		return nil, fail(err.Error())
	}
	doc, ok := aObj(v)
	if !ok {
		return nil, fail(aDescribe(v))
	}
	inc := doc
	raw := []byte(body)
	var trigger map[string]any
	if o, present := doc["object"]; present && doc["properties"] == nil {
		om, ok := aObj(o)
		if !ok {
			return nil, fail(`"object" as ` + aDescribe(o))
		}
		inc, trigger = om, doc
		if r, ok := aRawField(body, "object"); ok {
			raw = r
		} else {
			raw = aRawOf(om)
		}
	}
	props, ok := aObj(inc["properties"])
	if !ok {
		if inc["properties"] == nil {
			return nil, fail(`a JSON object without "properties"`)
		}
		return nil, fail(`"properties" as ` + aDescribe(inc["properties"]))
	}
	if props["title"] == nil && props["incidentNumber"] == nil {
		return nil, fail(`"properties" without "title" or "incidentNumber"`)
	}

	var id string
	if name := strings.TrimSpace(aStr(inc["name"])); name != "" {
		id = MakeID("sentinel", name)
	} else if rid := strings.TrimSpace(aStr(inc["id"])); rid != "" {
		id = MakeID("sentinel", rid)
	} else {
		return nil, fail(`an incident without "name" (its GUID) or "id"`)
	}

	ts := props["firstActivityTimeUtc"]
	if aStr(ts) == "" {
		ts = props["createdTimeUtc"]
	}
	observed, err := ParseTime(ts)
	if err != nil {
		return nil, fmt.Errorf("sentinel: firstActivityTimeUtc/createdTimeUtc: %v", err)
	}

	sev, ok := ParseNamedSeverity(aStr(props["severity"]))
	if !ok {
		sev = DefaultSeverity(opts.DefaultSeverity)
	}
	status := StatusFiring
	if strings.EqualFold(strings.TrimSpace(aStr(props["status"])), "closed") {
		status = StatusResolved
	}
	title := strings.TrimSpace(aStr(props["title"]))
	if title == "" {
		title = "Sentinel incident " + aStr(props["incidentNumber"])
	}

	labels := map[string]string{}
	for _, k := range []string{"incidentNumber", "status", "severity", "classification", "classificationReason",
		"incidentUrl", "providerName", "providerIncidentId"} {
		aSetLabel(labels, k, props[k])
	}
	aSetLabel(labels, "owner.assignedTo", aGet(props, "owner.assignedTo"))
	aSetLabel(labels, "owner.email", aGet(props, "owner.email"))
	aSetLabel(labels, "tactics", aGet(props, "additionalData.tactics"))
	if ls, ok := props["labels"].([]any); ok {
		for _, l := range ls {
			if name := strings.TrimSpace(aStr(aGet(l, "labelName"))); name != "" {
				labels["label."+name] = "true"
			}
		}
	}
	if trigger != nil {
		aSetLabel(labels, "objectEventType", trigger["objectEventType"])
		aSetLabel(labels, "workspaceId", trigger["workspaceId"])
	}

	var obs ObservableSet
	se.entities(&obs, props["relatedEntities"])
	se.entities(&obs, inc["relatedEntities"])

	return []Alert{{
		Source:      opts.Source,
		ID:          id,
		Title:       title,
		Severity:    sev,
		Status:      status,
		ObservedAt:  observed,
		Observables: obs.List(),
		Labels:      labels,
		Raw:         aCopyRaw(raw),
	}}, nil
}

// entities types Sentinel entities ({kind, properties{...}}) into
// observables.
func (Sentinel) entities(obs *ObservableSet, v any) {
	list, _ := v.([]any)
	for _, e := range list {
		kind := strings.ToLower(strings.TrimSpace(aStr(aGet(e, "kind"))))
		p, _ := aObj(aGet(e, "properties"))
		if p == nil {
			continue
		}
		str := func(k string) string { return strings.TrimSpace(aStr(p[k])) }
		switch kind {
		case "ip":
			obs.Add(ObsIP, str("address"))
		case "host":
			h := str("hostName")
			if d := str("dnsDomain"); h != "" && d != "" && !strings.Contains(h, ".") {
				h += "." + d
			}
			obs.AddHost(h)
		case "account":
			name := str("accountName")
			if s := str("upnSuffix"); name != "" && s != "" && !strings.Contains(name, "@") {
				name += "@" + s
			}
			obs.Add(ObsUser, name)
		case "url":
			obs.Add(ObsURL, str("url"))
		case "filehash":
			h := str("hashValue")
			switch strings.ToUpper(str("algorithm")) {
			case "MD5":
				obs.Add(ObsHashMD5, h)
			case "SHA1":
				obs.Add(ObsHashSHA1, h)
			case "SHA256":
				obs.Add(ObsHashSHA256, h)
			default:
				obs.AddHash(h)
			}
		case "file":
			name := str("fileName")
			if dir := str("directory"); name != "" && dir != "" {
				sep := "/"
				if strings.Contains(dir, `\`) {
					sep = `\`
				}
				name = strings.TrimRight(dir, `\/`) + sep + name
			}
			obs.Add(ObsFile, name)
		case "process":
			obs.Add(ObsProcess, str("commandLine"))
		case "dnsresolution", "dns":
			obs.Add(ObsDomain, str("domainName"))
		case "mailbox":
			obs.Add(ObsEmail, str("mailboxPrimaryAddress"))
		}
	}
}
