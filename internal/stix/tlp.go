package stix

import (
	"fmt"
	"strings"
)

// TLP is a Traffic Light Protocol 2.0 level, ordered from most open to most
// closed. TLPNone means "no TLP marking"; callers decide what that implies.
type TLP int8

// TLP levels. AMBER+STRICT is stricter than AMBER: they must never compare equal.
const (
	TLPNone TLP = iota
	TLPClear
	TLPGreen
	TLPAmber
	TLPAmberStrict
	TLPRed
)

// The STIX identifiers of the TLP 2.0 marking definitions
// (cti-stix-common-objects, extension-definition-specifications/tlp-2.0).
const (
	TLP2Clear       = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
	TLP2Green       = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
	TLP2Amber       = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
	TLP2AmberStrict = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
	TLP2Red         = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"

	// TLP2Extension is the extension definition the TLP 2.0 markings use.
	TLP2Extension = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
)

// The STIX identifiers of the TLP 1.0 marking definitions (STIX 2.1 §7.2.1.4).
const (
	TLP1White = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
	TLP1Green = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
	TLP1Amber = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
	TLP1Red   = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
)

var tlpByMarking = map[string]TLP{
	TLP2Clear: TLPClear, TLP2Green: TLPGreen, TLP2Amber: TLPAmber,
	TLP2AmberStrict: TLPAmberStrict, TLP2Red: TLPRed,
	TLP1White: TLPClear, TLP1Green: TLPGreen, TLP1Amber: TLPAmber, TLP1Red: TLPRed,
}

var tlpNames = [...]string{"", "clear", "green", "amber", "amber+strict", "red"}

var tlpMarking = [...]string{"", TLP2Clear, TLP2Green, TLP2Amber, TLP2AmberStrict, TLP2Red}

// String returns the level's name as TLP 2.0 writes it in lower case
// ("amber+strict"), or "" for TLPNone.
func (t TLP) String() string {
	if t < 0 || int(t) >= len(tlpNames) {
		return fmt.Sprintf("TLP(%d)", int8(t))
	}
	return tlpNames[t]
}

// MarkingID returns the TLP 2.0 marking-definition identifier of the level.
func (t TLP) MarkingID() string {
	if t <= TLPNone || int(t) >= len(tlpMarking) {
		return ""
	}
	return tlpMarking[t]
}

// ParseTLP reads a level name: clear, white (TLP 1.0), green, amber,
// amber+strict, red, with or without a "tlp:" prefix, in any case.
func ParseTLP(s string) (TLP, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	n = strings.TrimPrefix(n, "tlp:")
	n = strings.TrimPrefix(n, "tlp-")
	switch n {
	case "clear", "white":
		return TLPClear, nil
	case "green":
		return TLPGreen, nil
	case "amber":
		return TLPAmber, nil
	case "amber+strict", "amber-strict", "amber_strict", "amberstrict":
		return TLPAmberStrict, nil
	case "red":
		return TLPRed, nil
	}
	return TLPNone, fmt.Errorf("unknown TLP level %q (want clear, green, amber, amber+strict or red)", s)
}

// TLPOfMarking returns the level a marking-definition id stands for.
func TLPOfMarking(id string) (TLP, bool) {
	t, ok := tlpByMarking[id]
	return t, ok
}

// EffectiveTLP is the most restrictive TLP among an object's
// object_marking_refs, or TLPNone when it has none.
func (o *Object) EffectiveTLP() TLP {
	eff := TLPNone
	for _, ref := range o.ObjectMarkingRefs {
		if t, ok := tlpByMarking[ref]; ok && t > eff {
			eff = t
		}
	}
	return eff
}

// TLPMarkingDefinition returns the standard marking-definition object for a
// TLP 2.0 level, so exports can ship the definitions they reference.
func TLPMarkingDefinition(t TLP) *Object {
	if t <= TLPNone || int(t) >= len(tlpMarking) {
		return nil
	}
	name := "TLP:" + strings.ToUpper(t.String())
	raw := fmt.Sprintf(`{"type":"marking-definition","spec_version":"2.1","id":%q,"created":"2022-10-01T00:00:00.000Z","name":%q,"extensions":{%q:{"extension_type":"property-extension","tlp_2_0":%q}}}`,
		tlpMarking[t], name, TLP2Extension, t.String())
	o, err := Parse([]byte(raw))
	if err != nil {
		panic("stix: bad built-in TLP definition: " + err.Error())
	}
	return o
}
