package stix

import (
	"bytes"
	"encoding/json"
	"sort"
)

// typesVocab maps the STIX 2.0 types whose labels carried the type
// vocabulary to the 2.1 property that now holds it.
var typesVocab = map[string]string{
	"indicator":    "indicator_types",
	"malware":      "malware_types",
	"tool":         "tool_types",
	"threat-actor": "threat_actor_types",
	"report":       "report_types",
}

// NeedsUpgrade reports whether an object is STIX 2.0 content: an SDO, SRO or
// marking definition without spec_version. (SCOs may omit it in 2.1.)
func (o *Object) NeedsUpgrade() bool {
	if o.SpecVersion == "2.0" {
		return true // some producers label 2.0 objects explicitly
	}
	return o.SpecVersion == "" && o.Type != "" && !IsSCO(o.Type)
}

// Upgrade20 rewrites a STIX 2.0 object as 2.1, in place: it adds
// spec_version, pattern_type "stix" on indicators, is_family on malware (2.0
// malware described families), and copies 2.0 labels into the *_types
// property that replaced them. Everything else is kept as it was; the added
// properties are written first, so the rest of Raw is untouched.
func (o *Object) Upgrade20() {
	if !o.NeedsUpgrade() {
		return
	}
	explicit := o.SpecVersion == "2.0"
	add := map[string]json.RawMessage{"spec_version": json.RawMessage(`"2.1"`)}
	switch o.Type {
	case "indicator":
		if !o.Has("pattern_type") {
			add["pattern_type"] = json.RawMessage(`"stix"`)
		}
	case "malware":
		if !o.Has("is_family") {
			add["is_family"] = json.RawMessage(`true`)
		}
	}
	if prop, ok := typesVocab[o.Type]; ok && !o.Has(prop) && len(o.Labels) > 0 {
		if v, ok := o.props["labels"]; ok {
			add[prop] = v
		}
	}
	if explicit {
		// The object names its version: rewrite it rather than prepend a
		// duplicate key. Re-encoding may reorder keys; the meaning is kept.
		set := make(map[string]any, len(add))
		for k, v := range add {
			set[k] = v
		}
		if up, err := o.WithProps(set); err == nil {
			*o = *up
		}
		return
	}
	keys := make([]string, 0, len(add))
	for k := range add {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	buf.Grow(len(o.Raw) + 64)
	buf.WriteByte('{')
	for _, k := range keys {
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(add[k])
		buf.WriteByte(',')
		o.props[k] = add[k]
	}
	buf.Write(o.Raw[1:])
	o.Raw = buf.Bytes()
	o.SpecVersion = "2.1"
}
