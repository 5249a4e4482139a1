package alerts

import (
	"fmt"
	"sort"
)

// builtin lists the normalisers that need no configuration. The list is
// explicit (no init registration) so that it reads as the set of supported
// formats.
var builtin = map[string]Normalizer{
	"alertmanager": Alertmanager{},
	"grafana":      Grafana{},
	"elastic":      Elastic{},
	"wazuh":        Wazuh{},
	"splunk":       Splunk{},
	"sentinel":     Sentinel{},
	"graylog":      Graylog{},
	"suricata":     Suricata{},
	"crowdstrike":  CrowdStrike{},
	"qradar":       QRadar{},
	"thehive":      TheHive{},
}

// FormatGeneric is the configurable format.
const FormatGeneric = "generic"

// BuiltinFormats returns the names of the built-in formats, sorted.
func BuiltinFormats() []string {
	out := make([]string, 0, len(builtin))
	for k := range builtin {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Formats returns every format name, generic included, sorted.
func Formats() []string {
	out := append(BuiltinFormats(), FormatGeneric)
	sort.Strings(out)
	return out
}

// NewNormalizer returns the normaliser for format; generic needs mapping
// (name labels its errors).
func NewNormalizer(format, name string, mapping *GenericMapping) (Normalizer, error) {
	if format == FormatGeneric {
		if mapping == nil {
			return nil, fmt.Errorf("format generic needs a field mapping")
		}
		return NewGeneric(name, *mapping)
	}
	n, ok := builtin[format]
	if !ok {
		return nil, fmt.Errorf("unknown format %q", format)
	}
	return n, nil
}
