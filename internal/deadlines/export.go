package deadlines

import (
	"encoding/csv"
	"io"
	"sort"
	"strings"
	"time"
)

// csvHeader is the audit export's columns.
var csvHeader = []string{
	"id", "incident_id", "stage_id", "regime", "recipient", "status", "basis", "due_at", "trigger_events",
	"reminders_sent", "submitted_at", "reference", "submitted_by", "late", "reasons_for_delay",
	"deferred_until", "deferral_legal_basis", "cancelled_reason", "cancelled_by", "history", "catalogue_version",
	// Set when the state could not be read: the row then holds only what
	// visibility knows, and blank columns mean unknown, not absent.
	"unreadable",
}

func ts(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// WriteCSV writes the obligations as the audit export.
func WriteCSV(w io.Writer, list []Obligation) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, o := range list {
		var events, reminders, history []string
		for name, at := range o.Events {
			events = append(events, name+"="+at.UTC().Format(time.RFC3339))
		}
		sort.Strings(events)
		for _, r := range o.RemindersSent {
			reminders = append(reminders, r.UTC().Format(time.RFC3339))
		}
		for _, h := range o.History {
			history = append(history, h.At.UTC().Format(time.RFC3339)+" "+h.Actor+" "+h.Kind+": "+h.Message)
		}
		row := []string{o.ID, o.IncidentID, o.StageID, o.Regime, o.Recipient, o.Status, o.Basis, ts(o.DueAt),
			strings.Join(events, "; "), strings.Join(reminders, "; ")}
		if s := o.Submission; s != nil {
			late := "false"
			if s.Late {
				late = "true"
			}
			row = append(row, ts(&s.SubmittedAt), s.Reference, s.SubmittedBy, late, s.ReasonsForDelay)
		} else {
			row = append(row, "", "", "", "", "")
		}
		if d := o.Deferral; d != nil {
			row = append(row, ts(&d.Until), d.LegalBasis)
		} else {
			row = append(row, "", "")
		}
		if c := o.Cancellation; c != nil {
			row = append(row, c.Reason, c.By)
		} else {
			row = append(row, "", "")
		}
		row = append(row, strings.Join(history, " | "), o.CatalogueVersion, o.Unreadable)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
