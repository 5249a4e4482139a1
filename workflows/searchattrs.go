package workflows

import (
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/riposte-soar/riposte/alerts"
	"github.com/riposte-soar/riposte/playbooks"
)

// Custom search attributes. Lists of incidents and deadlines come from
// visibility queries over these, so Temporal stays the only source of truth.
// SQL visibility allows 10 Keyword attributes and 3 of each other type; keep
// a spare of each for later.
var (
	SAStatus     = temporal.NewSearchAttributeKeyKeyword("RiposteStatus")
	SAPhase      = temporal.NewSearchAttributeKeyKeyword("RipostePhase")
	SASeverity   = temporal.NewSearchAttributeKeyKeyword("RiposteSeverity")
	SAPlaybook   = temporal.NewSearchAttributeKeyKeyword("RipostePlaybook")
	SASource     = temporal.NewSearchAttributeKeyKeyword("RiposteSource")
	SAIncidentID = temporal.NewSearchAttributeKeyKeyword("RiposteIncidentID")
	SARegime     = temporal.NewSearchAttributeKeyKeyword("RiposteRegime")
	SAStage      = temporal.NewSearchAttributeKeyKeyword("RiposteStage")

	SAAlertCount   = temporal.NewSearchAttributeKeyInt64("RiposteAlertCount")
	SASeverityRank = temporal.NewSearchAttributeKeyInt64("RiposteSeverityRank")

	SADueAt    = temporal.NewSearchAttributeKeyTime("RiposteDueAt")
	SALastSeen = temporal.NewSearchAttributeKeyTime("RiposteLastSeen")

	SATitle = temporal.NewSearchAttributeKeyString("RiposteTitle")
)

type searchAttributeKey interface {
	GetName() string
	GetValueType() enumspb.IndexedValueType
}

var allSearchAttributes = []searchAttributeKey{
	SAStatus, SAPhase, SASeverity, SAPlaybook, SASource, SAIncidentID, SARegime, SAStage,
	SAAlertCount, SASeverityRank,
	SADueAt, SALastSeen,
	SATitle,
}

// SearchAttributes returns every custom search attribute Riposte needs, by
// name and type, for registration on a namespace.
func SearchAttributes() map[string]enumspb.IndexedValueType {
	m := make(map[string]enumspb.IndexedValueType, len(allSearchAttributes))
	for _, k := range allSearchAttributes {
		m[k.GetName()] = k.GetValueType()
	}
	return m
}

// searchAttributesCurrent reports whether the workflow's search attributes
// already hold st's values, from the start request or the last write.
func (st *IncidentState) searchAttributesCurrent(ctx workflow.Context) bool {
	sa := workflow.GetTypedSearchAttributes(ctx)
	kw := func(k temporal.SearchAttributeKeyKeyword, v string) bool {
		got, ok := sa.GetKeyword(k)
		return ok && got == v
	}
	num := func(k temporal.SearchAttributeKeyInt64, v int) bool {
		got, ok := sa.GetInt64(k)
		return ok && got == int64(v)
	}
	title, okTitle := sa.GetString(SATitle)
	last, okLast := sa.GetTime(SALastSeen)
	return kw(SAIncidentID, st.ID) && kw(SAStatus, st.Status) && kw(SAPhase, st.Phase) && kw(SASeverity, st.Severity) &&
		num(SASeverityRank, alerts.Severity(st.Severity).Rank()) && kw(SAPlaybook, st.Playbook.Name) &&
		okTitle && title == st.Title && num(SAAlertCount, st.Alerts.Count) && okLast && last.Equal(st.Alerts.LastSeen)
}

// StartSearchAttributes are the search attributes an incident holds once
// its first alert a is recorded. Ingestion starts the workflow with them:
// the incident is listed in full from its first moment, and its own first
// write is then skipped as unchanged.
func StartSearchAttributes(in IncidentInput, a alerts.Alert) (*commonpb.SearchAttributes, error) {
	sev := in.Severity
	if a.Severity.Rank() > alerts.Severity(sev).Rank() {
		sev = string(a.Severity)
	}
	title := in.Title
	if title == "" {
		title = a.Title
	}
	last := a.ObservedAt
	values := []struct {
		key searchAttributeKey
		v   any
	}{
		{SAIncidentID, in.ID}, {SAStatus, StatusOpen}, {SAPhase, playbooks.PhaseDetect}, {SASeverity, sev},
		{SASeverityRank, int64(alerts.Severity(sev).Rank())}, {SAPlaybook, in.Playbook}, {SATitle, title},
		{SAAlertCount, int64(1)}, {SALastSeen, last},
	}
	fields := make(map[string]*commonpb.Payload, len(values))
	for _, kv := range values {
		p, err := converter.GetDefaultDataConverter().ToPayload(kv.v)
		if err != nil {
			return nil, fmt.Errorf("search attribute %s: %w", kv.key.GetName(), err)
		}
		// As the SDK does: a typed payload is never taken for a removal.
		p.Metadata["type"] = []byte(kv.key.GetValueType().String())
		fields[kv.key.GetName()] = p
	}
	return &commonpb.SearchAttributes{IndexedFields: fields}, nil
}
