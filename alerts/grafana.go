package alerts

// Grafana normalises a Grafana unified-alerting webhook (version "1"). It
// is an Alertmanager webhook with extra fields (orgId, title, state,
// values, valueString), so the rules are Alertmanager's with the format
// name "grafana":
//
//   - ID: MakeID("grafana", fingerprint, startsAt) when the alert has a
//     fingerprint, else MakeID("grafana", HashFields(labels), startsAt).
//   - Severity: the "severity" label through SeverityFromLabel.
//   - Title: annotations.summary, else labels.alertname, else the group title.
//   - Status: the alert's status, else the group's status, else the group
//     state (ok → resolved, alerting → firing).
type Grafana struct{}

// Normalize implements Normalizer.
func (Grafana) Normalize(body []byte, opts Options) ([]Alert, error) {
	return amNormalizeGroup(amFlavourGrafana, body, opts)
}
