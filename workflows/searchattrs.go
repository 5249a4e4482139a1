package workflows

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
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
