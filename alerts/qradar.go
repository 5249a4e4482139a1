package alerts

import (
	"fmt"
	"strconv"
	"strings"
)

// QRadar normalises IBM QRadar offenses as GET /api/siem/offenses returns
// them: one offense object, or a JSON array of offenses (one alert each).
//
//   - ID: MakeID("qradar", <id>), the offense's integer id.
//   - Severity: severity 1–3 low, 4–6 medium, 7–8 high, 9–10 critical;
//     0, missing or out of range the default.
//   - Time: start_time (epoch ms); last_updated_time when absent.
//   - Title: description with its white space collapsed (QRadar ends it
//     with a newline and breaks long ones).
//   - Status: CLOSED resolved; OPEN, HIDDEN and anything else firing.
//   - Observables: offense_source, typed by offense_type (see
//     bQRadarSource). source_address_ids and local_destination_address_ids
//     are ids of address records, not addresses, and are not used.
//   - Labels: magnitude, credibility, relevance, severity, offense_type,
//     offense_source, categories (comma-joined), domain_id, follow_up,
//     status, event_count.
type QRadar struct{}

const bQRadarExpect = `expected an offense object with an integer "id"`

// Normalize implements Normalizer.
func (QRadar) Normalize(body []byte, opts Options) ([]Alert, error) {
	rec, err := bDecodeOne(body)
	if err != nil {
		return nil, fmt.Errorf("qradar: %w; %s", err, bQRadarExpect)
	}
	if arr, ok := rec.val.([]any); ok {
		if len(arr) == 0 {
			return nil, fmt.Errorf("qradar: %s (or an array of them), got an empty array", bQRadarExpect)
		}
		raws := bRawElements(rec.raw, arr)
		out := make([]Alert, 0, len(arr))
		for i, el := range arr {
			a, err := bQRadarAlert(el, raws[i], opts)
			if err != nil {
				return nil, fmt.Errorf("qradar: element %d: %w", i, err)
			}
			out = append(out, a)
		}
		return out, nil
	}
	a, err := bQRadarAlert(rec.val, rec.raw, opts)
	if err != nil {
		return nil, fmt.Errorf("qradar: %w", err)
	}
	return []Alert{a}, nil
}

func bQRadarAlert(v any, raw []byte, opts Options) (Alert, error) {
	o := bObj(v)
	id, ok := bQRadarID(o["id"])
	if o == nil || !ok {
		got := bDescribe(v)
		if o != nil && o["id"] != nil {
			got = fmt.Sprintf("an object whose id is %s", bDescribe(o["id"]))
		}
		return Alert{}, fmt.Errorf("%s, got %s", bQRadarExpect, got)
	}
	ids := strconv.FormatInt(id, 10)

	when, field := o["start_time"], "start_time"
	if when == nil {
		when, field = o["last_updated_time"], "last_updated_time"
	}
	observed, err := ParseTime(when)
	if err != nil {
		return Alert{}, fmt.Errorf("offense %s: %s: %w", ids, field, err)
	}

	sev := DefaultSeverity(opts.DefaultSeverity)
	if n, ok := bInt(o["severity"]); ok {
		switch {
		case n >= 1 && n <= 3:
			sev = SeverityLow
		case n >= 4 && n <= 6:
			sev = SeverityMedium
		case n == 7 || n == 8:
			sev = SeverityHigh
		case n == 9 || n == 10:
			sev = SeverityCritical
		}
	}

	status := StatusFiring
	if strings.EqualFold(bTrim(o["status"]), "CLOSED") {
		status = StatusResolved
	}

	title := strings.Join(strings.Fields(bString(o["description"])), " ")
	if title == "" {
		title = "QRadar offense " + ids
	}

	var obs ObservableSet
	typ, hasType := bInt(o["offense_type"])
	bQRadarSource(&obs, typ, hasType, bTrim(o["offense_source"]))

	labels := map[string]string{}
	for _, k := range []string{"magnitude", "credibility", "relevance", "severity", "offense_type", "offense_source",
		"categories", "domain_id", "follow_up", "status", "event_count"} {
		bSetLabel(labels, k, o[k])
	}

	return Alert{
		Source:      opts.Source,
		ID:          MakeID("qradar", ids),
		Title:       title,
		Severity:    sev,
		Status:      status,
		ObservedAt:  observed,
		Observables: obs.List(),
		Labels:      labels,
		Raw:         raw,
	}, nil
}

// bQRadarID reads the offense id: an integral JSON number only.
func bQRadarID(v any) (int64, bool) {
	if _, isNum := v.(interface{ Int64() (int64, error) }); !isNum {
		return 0, false
	}
	return bInt(v)
}

// bQRadarSource types offense_source by offense_type, using the ids of
// QRadar's offense types (GET /api/siem/offense_types): 0 source IP,
// 1 destination IP, 2 event name, 3 username, 4 source MAC, 5 destination
// MAC, 6 log source, 7 hostname, 8 source port, 9 destination port,
// 10 source IPv6, 11 destination IPv6, 12 source ASN, 13 destination ASN,
// 14 rule, 15 app id, 16 scheduled search. Types without an observable
// kind are skipped; an unknown type (a custom property) is taken as an IP
// only when the value is one.
func bQRadarSource(obs *ObservableSet, typ int64, known bool, src string) {
	if src == "" {
		return
	}
	if !known {
		typ = -1
	}
	switch typ {
	case 0, 1, 10, 11:
		obs.Add(ObsIP, src)
	case 3:
		obs.Add(ObsUser, src)
	case 7:
		obs.AddHost(src)
	case 2, 4, 5, 6, 8, 9, 12, 13, 14, 15, 16:
	default:
		if _, ok := ParseIP(src); ok {
			obs.Add(ObsIP, src)
		}
	}
}

var _ Normalizer = QRadar{}
