package alerts

import (
	"fmt"
	"sort"
	"strings"
)

// Graylog normalises a Graylog HTTP event notification:
// {event_definition_id, event_definition_title, event{id, timestamp,
// message, source, key, priority, fields{}}, backlog[]}. One body is one
// alert.
//
//   - ID: MakeID("graylog", event.id), the event's ULID.
//   - Severity: event.priority 1 low, 2 medium, 3 high, 4 critical;
//     anything else the default.
//   - Time: event.timestamp (event.timestamp_processing when absent).
//   - Title: event_definition_title, else event.message.
//   - Status: always firing (Graylog sends no resolution).
//   - Observables: event.source (host), and event.fields typed by their
//     well-known names (src_ip, user, hostname, domain, url, hashes, ...).
//   - Labels: event_definition_id, event_definition_type, key (event.key)
//     and every event.fields entry as "field.<name>".
type Graylog struct{}

const bGraylogExpect = `expected a graylog event notification object with "event.id"`

// Normalize implements Normalizer.
func (Graylog) Normalize(body []byte, opts Options) ([]Alert, error) {
	rec, err := bDecodeOne(body)
	if err != nil {
		return nil, fmt.Errorf("graylog: %w; %s", err, bGraylogExpect)
	}
	top := bObj(rec.val)
	ev := bObj(bGet(top, "event"))
	id := bTrim(bGet(ev, "id"))
	if top == nil || ev == nil || id == "" {
		got := bDescribe(rec.val)
		if top != nil && ev == nil {
			got += ` (no "event" object)`
		} else if ev != nil {
			got = `an "event" without an "id"`
		}
		return nil, fmt.Errorf("graylog: %s, got %s", bGraylogExpect, got)
	}

	when := bGet(ev, "timestamp")
	if bTrim(when) == "" {
		when = bGet(ev, "timestamp_processing")
	}
	observed, err := ParseTime(when)
	if err != nil {
		return nil, fmt.Errorf("graylog: event %s: event.timestamp: %w", truncate(id, 64), err)
	}

	sev := DefaultSeverity(opts.DefaultSeverity)
	if p, ok := bInt(bGet(ev, "priority")); ok {
		switch p {
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

	title := bTrim(top["event_definition_title"])
	if title == "" {
		title = bTrim(ev["message"])
	}
	if title == "" {
		title = "Graylog event " + id
	}

	var obs ObservableSet
	obs.AddHost(bTrim(ev["source"]))
	labels := map[string]string{}
	defID := top["event_definition_id"]
	if bTrim(defID) == "" {
		defID = ev["event_definition_id"]
	}
	bSetLabel(labels, "event_definition_id", defID)
	defType := top["event_definition_type"]
	if bTrim(defType) == "" {
		defType = ev["event_definition_type"]
	}
	bSetLabel(labels, "event_definition_type", defType)
	bSetLabel(labels, "key", ev["key"])

	fields := bObj(ev["fields"])
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		v := fields[name]
		bSetLabel(labels, "field."+name, v)
		for _, s := range bStrings(v) {
			bGraylogField(&obs, name, s)
		}
	}

	return []Alert{{
		Source:      opts.Source,
		ID:          MakeID("graylog", id),
		Title:       title,
		Severity:    sev,
		Status:      StatusFiring,
		ObservedAt:  observed,
		Observables: obs.List(),
		Labels:      labels,
		Raw:         rec.raw,
	}}, nil
}

// bGraylogField types a custom event field by its name. Graylog event
// fields are user-defined; these are the names Graylog's own inputs and
// common extractors use.
func bGraylogField(obs *ObservableSet, name, value string) {
	n := strings.ToLower(strings.TrimSpace(name))
	switch n {
	case "src_ip", "source_ip", "dst_ip", "dest_ip", "destination_ip", "ip", "client_ip", "remote_ip":
		obs.Add(ObsIP, value)
	case "user", "username", "user_name", "src_user", "dst_user", "target_user":
		obs.Add(ObsUser, value)
	case "hostname", "host", "src_host", "dst_host":
		obs.AddHost(value)
	case "domain", "dns_query":
		obs.Add(ObsDomain, strings.TrimSuffix(value, "."))
	case "url", "http_url", "request_url":
		obs.Add(ObsURL, value)
	case "email", "mail", "email_address":
		obs.Add(ObsEmail, value)
	case "filename", "file_name", "file_path", "filepath":
		obs.Add(ObsFile, value)
	case "process", "process_name", "command_line", "commandline":
		obs.Add(ObsProcess, value)
	case "md5", "sha1", "sha256", "hash", "file_hash", "filehash":
		bAddHash(obs, value)
	default:
		if strings.HasSuffix(n, "_md5") || strings.HasSuffix(n, "_sha1") || strings.HasSuffix(n, "_sha256") || strings.HasSuffix(n, "_hash") {
			bAddHash(obs, value)
		}
	}
}

var _ Normalizer = Graylog{}
