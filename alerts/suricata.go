package alerts

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// Suricata normalises Suricata EVE JSON: one record, or NDJSON lines as
// eve.json holds them (blank lines skipped). Records whose event_type is
// not "alert" (flow, dns, stats, ...) are skipped; a body with no alert
// record at all is an error. Each alert record is one alert.
//
//   - ID: MakeID("suricata", flow_id, tx_id (when present),
//     alert.signature_id, timestamp). flow_id alone is not unique: one
//     flow can raise several alerts.
//   - Severity: alert.severity 1 high, 2 medium, 3 low, 4 informational
//     (1 is the most severe); anything else the default.
//   - Time: timestamp (2018-10-03T14:42:44.836744+0000).
//   - Title: alert.signature.
//   - Status: always firing.
//   - Observables: src_ip, dest_ip; http.hostname (domain or ip) and
//     http.url joined into a URL; dns query names; tls.sni; fileinfo
//     filename and hashes.
//   - Labels: signature_id, gid, rev, category, action, proto, src_port,
//     dest_port, app_proto, in_iface.
type Suricata struct{}

const bSuricataExpect = `expected an EVE JSON record (an object with "event_type")`

// Normalize implements Normalizer.
func (Suricata) Normalize(body []byte, opts Options) ([]Alert, error) {
	recs, err := bDecodeAll(body)
	if err != nil {
		return nil, fmt.Errorf("suricata: %w; %s", err, bSuricataExpect)
	}
	multi := len(recs) > 1
	var out []Alert
	for _, rec := range recs {
		ev := bObj(rec.val)
		et, isStr := bGet(ev, "event_type").(string)
		if ev == nil || !isStr || strings.TrimSpace(et) == "" {
			return nil, fmt.Errorf("suricata: %w", bWithLine(multi, rec.line,
				fmt.Errorf("%s, got %s", bSuricataExpect, bDescribe(rec.val))))
		}
		if et != "alert" {
			continue
		}
		a, err := bSuricataAlert(ev, rec, opts)
		if err != nil {
			return nil, fmt.Errorf("suricata: %w", bWithLine(multi, rec.line, err))
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, errors.New(`suricata: no event_type "alert" records in body`)
	}
	return out, nil
}

func bSuricataAlert(ev map[string]any, rec bRecord, opts Options) (Alert, error) {
	al := bObj(ev["alert"])
	sid := bTrim(bGet(al, "signature_id"))
	if al == nil || sid == "" {
		return Alert{}, errors.New(`expected an alert record with an "alert" object carrying "signature_id"`)
	}
	ts := bTrim(ev["timestamp"])
	observed, err := ParseTime(ev["timestamp"])
	if err != nil {
		return Alert{}, fmt.Errorf("timestamp: %w", err)
	}
	parts := []string{bTrim(ev["flow_id"])}
	if tx := bTrim(ev["tx_id"]); tx != "" {
		parts = append(parts, tx)
	}
	parts = append(parts, sid, ts)

	sev := DefaultSeverity(opts.DefaultSeverity)
	if n, ok := bInt(al["severity"]); ok {
		switch n {
		case 1:
			sev = SeverityHigh
		case 2:
			sev = SeverityMedium
		case 3:
			sev = SeverityLow
		case 4:
			sev = SeverityInformational
		}
	}

	title := bTrim(al["signature"])
	if title == "" {
		title = "Suricata signature " + sid
	}

	var obs ObservableSet
	obs.Add(ObsIP, bTrim(ev["src_ip"]))
	obs.Add(ObsIP, bTrim(ev["dest_ip"]))
	if http := bObj(ev["http"]); http != nil {
		host := bTrim(http["hostname"])
		bAddDomainOrIP(&obs, host)
		if u := bSuricataURL(host, bTrim(http["http_port"]), bTrim(http["url"])); u != "" {
			obs.Add(ObsURL, u)
		}
	}
	if dns := bObj(ev["dns"]); dns != nil {
		bAddDomainOrIP(&obs, bTrim(dns["rrname"]))
		for _, key := range []string{"query", "queries"} {
			if qs, ok := dns[key].([]any); ok {
				for _, q := range qs {
					bAddDomainOrIP(&obs, bTrim(bGet(q, "rrname")))
				}
			}
		}
	}
	bAddDomainOrIP(&obs, bTrim(bGet(ev, "tls", "sni")))
	if fi := bObj(ev["fileinfo"]); fi != nil {
		obs.Add(ObsFile, bTrim(fi["filename"]))
		for _, k := range []string{"sha256", "sha1", "md5"} {
			bAddHash(&obs, bTrim(fi[k]))
		}
	}

	labels := map[string]string{}
	bSetLabel(labels, "signature_id", al["signature_id"])
	bSetLabel(labels, "gid", al["gid"])
	bSetLabel(labels, "rev", al["rev"])
	bSetLabel(labels, "category", al["category"])
	bSetLabel(labels, "action", al["action"])
	for _, k := range []string{"proto", "src_port", "dest_port", "app_proto", "in_iface"} {
		bSetLabel(labels, k, ev[k])
	}

	return Alert{
		Source:      opts.Source,
		ID:          MakeID("suricata", parts...),
		Title:       title,
		Severity:    sev,
		Status:      StatusFiring,
		ObservedAt:  observed,
		Observables: obs.List(),
		Labels:      labels,
		Raw:         rec.raw,
	}, nil
}

// bSuricataURL joins http.hostname and http.url (a path) into a URL; an
// absolute http.url is kept as it is. Without a host there is no URL.
// EVE's http records are cleartext HTTP, hence the http scheme.
func bSuricataURL(host, port, path string) string {
	if path == "" {
		return ""
	}
	low := strings.ToLower(path)
	if strings.HasPrefix(low, "http://") || strings.HasPrefix(low, "https://") {
		return path
	}
	if host == "" || strings.ContainsAny(host, "/?#@ ") {
		return ""
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if ip, ok := ParseIP(host); ok && strings.Contains(ip, ":") {
		host = "[" + ip + "]"
	}
	if port != "" && port != "80" {
		host = net.JoinHostPort(strings.Trim(host, "[]"), port)
	}
	return "http://" + host + path
}

var _ Normalizer = Suricata{}
