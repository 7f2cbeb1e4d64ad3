package stix

import (
	"errors"
	"strings"
	"testing"
)

// A fixed UUIDv4 keeps the fixtures readable; every id below is
// type--fixedUUID unless the case is about the id.
const fixedUUID = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"

func idOf(typ string) string { return typ + "--" + fixedUUID }

// del marks a property to remove in with.
type delT struct{}

var del = delT{}

// sdo returns a minimal STIX 2.1 domain object of typ with extra properties.
func sdo(typ string, extra map[string]any) map[string]any {
	m := map[string]any{
		"type": typ, "id": idOf(typ), "spec_version": "2.1",
		"created": "2016-05-12T08:17:27.000Z", "modified": "2016-05-12T08:17:27.000Z",
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// sco returns a minimal cyber-observable of typ.
func sco(typ string, extra map[string]any) map[string]any {
	m := map[string]any{"type": typ, "id": idOf(typ), "spec_version": "2.1"}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// with copies m and sets (or, with del, removes) properties.
func with(m map[string]any, kv ...any) map[string]any {
	c := make(map[string]any, len(m)+len(kv)/2)
	for k, v := range m {
		c[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if _, ok := kv[i+1].(delT); ok {
			delete(c, k)
			continue
		}
		c[k] = kv[i+1]
	}
	return c
}

// checkObject parses and validates m, as Decode does for 2.1 content.
func checkObject(m map[string]any) error {
	o, err := FromMap(m)
	if err != nil {
		return err
	}
	return Validate(o)
}

var (
	refs      = []any{idOf("indicator")}
	identity  = sdo("identity", map[string]any{"name": "ACME", "identity_class": "organization"})
	indicator = sdo("indicator", map[string]any{
		"pattern": "[ipv4-addr:value = '198.51.100.3']", "pattern_type": "stix",
		"valid_from": "2016-05-12T08:17:27Z", "valid_until": "2017-05-12T08:17:27.123Z",
	})
	relationship = sdo("relationship", map[string]any{
		"relationship_type": "uses", "source_ref": idOf("intrusion-set"), "target_ref": idOf("malware"),
	})
	sighting = sdo("sighting", map[string]any{
		"sighting_of_ref": idOf("indicator"), "count": 3,
		"observed_data_refs": []any{idOf("observed-data")}, "where_sighted_refs": []any{idOf("identity"), idOf("location")},
		"first_seen": "2020-01-01T00:00:00Z", "last_seen": "2020-01-02T00:00:00Z",
	})
	observedData = sdo("observed-data", map[string]any{
		"first_observed": "2020-01-01T00:00:00Z", "last_observed": "2020-01-01T00:00:00Z",
		"number_observed": 1, "object_refs": []any{idOf("ipv4-addr")},
	})
	statement = with(sdo("marking-definition", map[string]any{
		"definition_type": "statement", "definition": map[string]any{"statement": "Copyright ACME"},
	}), "modified", del)
	tlp1 = func(id, level string) map[string]any {
		return map[string]any{
			"type": "marking-definition", "spec_version": "2.1", "id": id, "created": "2017-01-20T00:00:00.000Z",
			"definition_type": "tlp", "name": "TLP:" + strings.ToUpper(level), "definition": map[string]any{"tlp": level},
		}
	}
	tlp2 = func(id, level string) map[string]any {
		return map[string]any{
			"type": "marking-definition", "spec_version": "2.1", "id": id, "created": "2022-10-01T00:00:00.000Z",
			"name":       "TLP:" + strings.ToUpper(level),
			"extensions": map[string]any{TLP2Extension: map[string]any{"extension_type": "property-extension", "tlp_2_0": level}},
		}
	}
	netTraffic = sco("network-traffic", map[string]any{
		"src_ref": idOf("ipv4-addr"), "dst_ref": "ipv4-addr--" + "b1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
		"src_port": 49152, "dst_port": 443, "protocols": []any{"ipv4", "tcp"},
	})
	md5 = "d41d8cd98f00b204e9800998ecf8427e"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		obj  map[string]any
		prop string // "" when valid
	}{
		// Common properties, on an identity.
		{"identity", identity, ""},
		{"identity without name", with(identity, "name", del), "name"},
		{"identity empty name", with(identity, "name", " "), "name"},
		{"identity name not string", with(identity, "name", 5), "name"},
		{"no type", with(identity, "type", del), "type"},
		{"bad type name", with(identity, "type", "Identity"), "type"},
		{"no id", with(identity, "id", del), "id"},
		{"id not type--uuid", with(identity, "id", "identity-"+fixedUUID), "id"},
		{"id type mismatch", with(identity, "id", idOf("malware")), "id"},
		{"id short uuid", with(identity, "id", "identity--a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5"), "id"},
		{"id uuid version 0", with(identity, "id", "identity--a1b2c3d4-e5f6-0a7b-8c9d-0e1f2a3b4c5d"), "id"},
		{"id uuid variant NCS", with(identity, "id", "identity--a1b2c3d4-e5f6-4a7b-0c9d-0e1f2a3b4c5d"), "id"},
		{"id uuid not hex", with(identity, "id", "identity--a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5g"), "id"},
		{"id uuid braces", with(identity, "id", "identity--{a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c}"), "id"},
		{"no spec_version", with(identity, "spec_version", del), "spec_version"},
		{"spec_version 2.0", with(identity, "spec_version", "2.0"), "spec_version"},
		{"no created", with(identity, "created", del), "created"},
		{"no modified", with(identity, "modified", del), "modified"},
		{"created with offset", with(identity, "created", "2016-05-12T08:17:27+00:00"), "created"},
		{"created without zone", with(identity, "created", "2016-05-12T08:17:27"), "created"},
		{"created date only", with(identity, "created", "2016-05-12"), "created"},
		{"created not a string", with(identity, "created", 1463041047), "created"},
		{"modified before created", with(identity, "modified", "2016-05-12T08:17:26.999Z"), "modified"},
		{"created_by_ref", with(identity, "created_by_ref", idOf("identity")), ""},
		{"created_by_ref to malware", with(identity, "created_by_ref", idOf("malware")), "created_by_ref"},
		{"confidence 100", with(identity, "confidence", 100), ""},
		{"confidence 101", with(identity, "confidence", 101), "confidence"},
		{"confidence -1", with(identity, "confidence", -1), "confidence"},
		{"confidence float", with(identity, "confidence", 5.5), "confidence"},
		{"labels not strings", with(identity, "labels", []any{1}), "labels"},
		{"revoked not bool", with(identity, "revoked", "no"), "revoked"},
		{"external reference", with(identity, "external_references", []any{map[string]any{"source_name": "mitre-attack", "external_id": "G0032", "hashes": map[string]any{"MD5": md5}}}), ""},
		{"external reference without source_name", with(identity, "external_references", []any{map[string]any{"url": "https://example.com"}}), "external_references[0].source_name"},
		{"external reference bad MD5", with(identity, "external_references", []any{map[string]any{"source_name": "x", "hashes": map[string]any{"MD5": "abc"}}}), "external_references[0].hashes"},
		{"marking ref", with(identity, "object_marking_refs", []any{TLP2Amber}), ""},
		{"marking ref to identity", with(identity, "object_marking_refs", []any{TLP2Amber, idOf("identity")}), "object_marking_refs[1]"},
		{"granular marking", with(identity, "granular_markings", []any{map[string]any{"marking_ref": TLP1Red, "selectors": []any{"name"}}}), ""},
		{"granular marking without selectors", with(identity, "granular_markings", []any{map[string]any{"marking_ref": TLP1Red}}), "granular_markings[0].selectors"},
		{"granular marking without ref or lang", with(identity, "granular_markings", []any{map[string]any{"selectors": []any{"name"}}}), "granular_markings[0]"},
		{"custom x_ property", with(identity, "x_acme_score", 3), ""},
		{"custom property without x_", with(identity, "acme_score", 3), ""},
		{"custom property upper case", with(identity, "x_Acme", 3), "x_Acme"},
		{"custom property with hyphen", with(identity, "x-acme", 3), "x-acme"},
		{"custom property too short", with(identity, "xa", 3), "xa"},
		{"custom property too long", with(identity, "x_"+strings.Repeat("a", 249), 3), "x_" + strings.Repeat("a", 78) + "…"},
		{"extension definition key", with(identity, "extensions", map[string]any{"extension-definition--" + fixedUUID: map[string]any{"extension_type": "property-extension"}}), ""},
		{"bad extension definition key", with(identity, "extensions", map[string]any{"extension-definition--x": map[string]any{}}), "extensions"},

		{"intrusion-set", sdo("intrusion-set", map[string]any{"name": "Lazarus Group", "first_seen": "2009-01-01T00:00:00Z", "last_seen": "2024-01-01T00:00:00Z"}), ""},
		{"intrusion-set without name", sdo("intrusion-set", nil), "name"},
		{"intrusion-set last_seen before first_seen", sdo("intrusion-set", map[string]any{"name": "x", "first_seen": "2009-01-01T00:00:00Z", "last_seen": "2008-01-01T00:00:00Z"}), "last_seen"},
		{"intrusion-set bad first_seen", sdo("intrusion-set", map[string]any{"name": "x", "first_seen": "2009-01-01 00:00:00Z"}), "first_seen"},
		{"threat-actor", sdo("threat-actor", map[string]any{"name": "Lazarus", "threat_actor_types": []any{"nation-state"}}), ""},
		{"threat-actor without name", sdo("threat-actor", nil), "name"},
		{"campaign", sdo("campaign", map[string]any{"name": "Operation Dream Job"}), ""},
		{"campaign without name", sdo("campaign", nil), "name"},
		{"campaign last_seen before first_seen", sdo("campaign", map[string]any{"name": "x", "first_seen": "2020-01-02T00:00:00Z", "last_seen": "2020-01-01T00:00:00Z"}), "last_seen"},
		{"malware family", sdo("malware", map[string]any{"name": "ROKRAT", "is_family": true}), ""},
		{"malware instance without name", sdo("malware", map[string]any{"is_family": false}), ""},
		{"malware without is_family", sdo("malware", map[string]any{"name": "ROKRAT"}), "is_family"},
		{"malware is_family not bool", sdo("malware", map[string]any{"name": "ROKRAT", "is_family": "true"}), "is_family"},
		{"malware family without name", sdo("malware", map[string]any{"is_family": true}), "name"},
		{"tool", sdo("tool", map[string]any{"name": "Mimikatz"}), ""},
		{"tool without name", sdo("tool", nil), "name"},
		{"attack-pattern", sdo("attack-pattern", map[string]any{"name": "Spearphishing Attachment"}), ""},
		{"attack-pattern without name", sdo("attack-pattern", nil), "name"},
		{"course-of-action", sdo("course-of-action", map[string]any{"name": "User Training"}), ""},
		{"course-of-action without name", sdo("course-of-action", nil), "name"},

		{"indicator", indicator, ""},
		{"indicator without pattern", with(indicator, "pattern", del), "pattern"},
		{"indicator without pattern_type", with(indicator, "pattern_type", del), "pattern_type"},
		{"indicator without valid_from", with(indicator, "valid_from", del), "valid_from"},
		{"indicator valid_from without Z", with(indicator, "valid_from", "2016-05-12T08:17:27"), "valid_from"},
		{"indicator valid_until before valid_from", with(indicator, "valid_until", "2016-05-12T08:17:26Z"), "valid_until"},
		{"indicator valid_until equal to valid_from", with(indicator, "valid_until", "2016-05-12T08:17:27.000Z"), "valid_until"},
		{"indicator unclosed observation", with(indicator, "pattern", "[ipv4-addr:value = '198.51.100.3'"), "pattern"},
		{"indicator unterminated string", with(indicator, "pattern", "[ipv4-addr:value = '198.51.100.3]"), "pattern"},
		{"indicator observation without comparison", with(indicator, "pattern", "[]"), "pattern"},
		{"indicator pattern not a pattern", with(indicator, "pattern", "198.51.100.3"), "pattern"},
		{"indicator compound pattern", with(indicator, "pattern", "([file:hashes.'SHA-256' = '"+strings.Repeat("a", 64)+"'] AND [url:value = 'http://x.test/']) WITHIN 300 SECONDS"), ""},
		{"indicator sigma pattern", with(indicator, "pattern_type", "sigma", "pattern", "title: x\ndetection: {}"), ""},

		{"report", sdo("report", map[string]any{"name": "Moldy Pisces", "published": "2018-08-06T23:25:37.107Z", "object_refs": refs}), ""},
		{"report without published", sdo("report", map[string]any{"name": "x", "object_refs": refs}), "published"},
		{"report without name", sdo("report", map[string]any{"published": "2018-08-06T23:25:37.107Z", "object_refs": refs}), "name"},
		{"report empty object_refs", sdo("report", map[string]any{"name": "x", "published": "2018-08-06T23:25:37.107Z", "object_refs": []any{}}), "object_refs"},
		{"report bad object_ref", sdo("report", map[string]any{"name": "x", "published": "2018-08-06T23:25:37.107Z", "object_refs": []any{idOf("indicator"), "indicator--1"}}), "object_refs[1]"},
		{"note", sdo("note", map[string]any{"content": "seen in phishing", "object_refs": refs}), ""},
		{"note without content", sdo("note", map[string]any{"object_refs": refs}), "content"},
		{"note without object_refs", sdo("note", map[string]any{"content": "x"}), "object_refs"},

		{"relationship", relationship, ""},
		{"relationship to SCO", with(relationship, "relationship_type", "communicates-with", "source_ref", idOf("malware"), "target_ref", idOf("domain-name")), ""},
		{"relationship without type", with(relationship, "relationship_type", del), "relationship_type"},
		{"relationship without source_ref", with(relationship, "source_ref", del), "source_ref"},
		{"relationship bad target_ref", with(relationship, "target_ref", "malware--x"), "target_ref"},
		{"relationship to a marking", with(relationship, "target_ref", TLP2Red), "target_ref"},
		{"relationship from a relationship", with(relationship, "source_ref", idOf("relationship")), "source_ref"},
		{"relationship to a sighting", with(relationship, "target_ref", idOf("sighting")), "target_ref"},
		{"relationship stop before start", with(relationship, "start_time", "2020-01-02T00:00:00Z", "stop_time", "2020-01-01T00:00:00Z"), "stop_time"},
		{"sighting", sighting, ""},
		{"sighting without sighting_of_ref", with(sighting, "sighting_of_ref", del), "sighting_of_ref"},
		{"sighting of an SCO", with(sighting, "sighting_of_ref", idOf("ipv4-addr")), "sighting_of_ref"},
		{"sighting of a relationship", with(sighting, "sighting_of_ref", idOf("relationship")), "sighting_of_ref"},
		{"sighting observed_data_refs to indicator", with(sighting, "observed_data_refs", []any{idOf("indicator")}), "observed_data_refs[0]"},
		{"sighting where_sighted_refs to malware", with(sighting, "where_sighted_refs", []any{idOf("identity"), idOf("malware")}), "where_sighted_refs[1]"},
		{"sighting negative count", with(sighting, "count", -1), "count"},
		{"sighting last_seen before first_seen", with(sighting, "last_seen", "2019-01-01T00:00:00Z"), "last_seen"},
		{"observed-data", observedData, ""},
		{"observed-data without number_observed", with(observedData, "number_observed", del), "number_observed"},
		{"observed-data number_observed 0", with(observedData, "number_observed", 0), "number_observed"},
		{"observed-data without first_observed", with(observedData, "first_observed", del), "first_observed"},
		{"observed-data last before first", with(observedData, "last_observed", "2019-12-31T23:59:59Z"), "last_observed"},
		{"observed-data without object_refs", with(observedData, "object_refs", del), "object_refs"},
		{"observed-data objects and object_refs", with(observedData, "objects", map[string]any{"0": map[string]any{"type": "ipv4-addr"}}), "objects"},

		{"statement marking", statement, ""},
		{"statement marking without statement", with(statement, "definition", map[string]any{}), "definition.statement"},
		{"marking without definition", with(statement, "definition_type", del, "definition", del), "definition_type"},
		{"marking with definition_type only", with(statement, "definition", del), "definition"},
		{"TLP 1.0 white", tlp1(TLP1White, "white"), ""},
		{"TLP 1.0 green", tlp1(TLP1Green, "green"), ""},
		{"TLP 1.0 amber", tlp1(TLP1Amber, "amber"), ""},
		{"TLP 1.0 red", tlp1(TLP1Red, "red"), ""},
		{"TLP 1.0 green id defining red", tlp1(TLP1Green, "red"), "definition"},
		{"TLP 1.0 id defining clear", tlp1(TLP1White, "clear"), "definition"},
		{"TLP 1.0 id upper-case level", tlp1(TLP1Red, "RED"), "definition"},
		{"TLP 1.0 id with TLP 2.0 extension", tlp2(TLP1Red, "red"), "definition"},
		{"TLP 1.0 id without definition", with(tlp1(TLP1Red, "red"), "definition", del), "definition"},
		{"TLP 2.0 clear", tlp2(TLP2Clear, "clear"), ""},
		{"TLP 2.0 green", tlp2(TLP2Green, "green"), ""},
		{"TLP 2.0 amber", tlp2(TLP2Amber, "amber"), ""},
		{"TLP 2.0 amber+strict", tlp2(TLP2AmberStrict, "amber+strict"), ""},
		{"TLP 2.0 red", tlp2(TLP2Red, "red"), ""},
		{"TLP 2.0 amber+strict id defining amber", tlp2(TLP2AmberStrict, "amber"), "definition"},
		{"TLP 2.0 clear id defining red", tlp2(TLP2Clear, "red"), "definition"},
		{"TLP 2.0 id with TLP 1.0 definition", tlp1(TLP2Red, "red"), "definition"},
		{"TLP 2.0 id with wrong extension_type", with(tlp2(TLP2Red, "red"), "extensions", map[string]any{TLP2Extension: map[string]any{"extension_type": "new-sdo", "tlp_2_0": "red"}}), "definition"},
		{"TLP 2.0 id without extension", with(tlp2(TLP2Red, "red"), "extensions", del), "definition"},
		{"non-reserved TLP-looking marking", tlp2("marking-definition--"+fixedUUID, "red"), ""},

		{"location region", sdo("location", map[string]any{"region": "eastern-asia"}), ""},
		{"location country", sdo("location", map[string]any{"country": "KP"}), ""},
		{"location coordinates", sdo("location", map[string]any{"latitude": 39.0392, "longitude": 125.7625}), ""},
		{"location latitude alone", sdo("location", map[string]any{"latitude": 39.0392}), "latitude"},
		{"location latitude out of range", sdo("location", map[string]any{"latitude": 91, "longitude": 0}), "latitude"},
		{"location longitude out of range", sdo("location", map[string]any{"latitude": 0, "longitude": -181}), "longitude"},
		{"location latitude not a number", sdo("location", map[string]any{"latitude": "39", "longitude": 125}), "latitude"},
		{"location nothing", sdo("location", map[string]any{"name": "somewhere"}), "region"},
		{"vulnerability", sdo("vulnerability", map[string]any{"name": "CVE-2017-0199"}), ""},
		{"vulnerability without name", sdo("vulnerability", nil), "name"},
		{"infrastructure", sdo("infrastructure", map[string]any{"name": "C2 server"}), ""},
		{"infrastructure without name", sdo("infrastructure", nil), "name"},
		{"grouping", sdo("grouping", map[string]any{"context": "suspicious-activity", "object_refs": refs}), ""},
		{"grouping without context", sdo("grouping", map[string]any{"object_refs": refs}), "context"},
		{"grouping without object_refs", sdo("grouping", map[string]any{"context": "x"}), "object_refs"},
		{"unknown custom type", sdo("x-mitre-tactic", map[string]any{"name": "Execution", "x_mitre_shortname": "execution"}), ""},

		// Cyber-observables.
		{"ipv4-addr", sco("ipv4-addr", map[string]any{"value": "198.51.100.3"}), ""},
		{"ipv4-addr CIDR", sco("ipv4-addr", map[string]any{"value": "198.51.100.0/24"}), ""},
		{"ipv4-addr without spec_version", with(sco("ipv4-addr", map[string]any{"value": "198.51.100.3"}), "spec_version", del), ""},
		{"ipv4-addr without value", sco("ipv4-addr", nil), "value"},
		{"ipv4-addr IPv6 value", sco("ipv4-addr", map[string]any{"value": "2001:db8::1"}), "value"},
		{"ipv4-addr garbage", sco("ipv4-addr", map[string]any{"value": "198.51.100.300"}), "value"},
		{"ipv4-addr value not string", sco("ipv4-addr", map[string]any{"value": 3325256707}), "value"},
		{"ipv6-addr", sco("ipv6-addr", map[string]any{"value": "2001:0db8:85a3:0000:0000:8a2e:0370:7334"}), ""},
		{"ipv6-addr CIDR", sco("ipv6-addr", map[string]any{"value": "2001:db8::/32"}), ""},
		{"ipv6-addr IPv4 value", sco("ipv6-addr", map[string]any{"value": "198.51.100.3"}), "value"},
		{"ipv6-addr without value", sco("ipv6-addr", nil), "value"},
		{"domain-name", sco("domain-name", map[string]any{"value": "example.com"}), ""},
		{"domain-name without value", sco("domain-name", nil), "value"},
		{"domain-name empty value", sco("domain-name", map[string]any{"value": ""}), "value"},
		{"url", sco("url", map[string]any{"value": "https://example.com/research/index.html"}), ""},
		{"url without value", sco("url", nil), "value"},
		{"email-addr", sco("email-addr", map[string]any{"value": "john@example.com", "display_name": "John Doe"}), ""},
		{"email-addr without @", sco("email-addr", map[string]any{"value": "john.example.com"}), "value"},
		{"email-addr with space", sco("email-addr", map[string]any{"value": "john doe@example.com"}), "value"},
		{"email-addr without value", sco("email-addr", nil), "value"},
		{"file with hashes", sco("file", map[string]any{"hashes": map[string]any{"MD5": md5, "SHA-256": strings.Repeat("0", 64), "SSDEEP": "3:a:b"}}), ""},
		{"file with name", sco("file", map[string]any{"name": "qwerty.dll"}), ""},
		{"file with neither", sco("file", map[string]any{"size": 25536}), "hashes"},
		{"file short SHA-256", sco("file", map[string]any{"hashes": map[string]any{"SHA-256": md5}}), "hashes"},
		{"file non-hex MD5", sco("file", map[string]any{"hashes": map[string]any{"MD5": strings.Repeat("z", 32)}}), "hashes"},
		{"file hashes not a dictionary", sco("file", map[string]any{"hashes": []any{md5}}), "hashes"},
		{"network-traffic", netTraffic, ""},
		{"network-traffic without protocols", with(netTraffic, "protocols", del), "protocols"},
		{"network-traffic empty protocols", with(netTraffic, "protocols", []any{}), "protocols"},
		{"network-traffic without endpoints", with(netTraffic, "src_ref", del, "dst_ref", del), "src_ref"},
		{"network-traffic port out of range", with(netTraffic, "dst_port", 65536), "dst_port"},
		{"network-traffic negative port", with(netTraffic, "src_port", -1), "src_port"},
		{"x509-certificate", sco("x509-certificate", map[string]any{"serial_number": "36:f7:d4:32:f4:ab:70:ea:d3:ce:98:6e:ea:99:93:49:32:0a:b7:06"}), ""},
		{"x509-certificate with hashes", sco("x509-certificate", map[string]any{"hashes": map[string]any{"SHA-1": strings.Repeat("a", 40)}}), ""},
		{"x509-certificate empty", sco("x509-certificate", map[string]any{"defanged": false}), "hashes"},
		{"x509-certificate bad SHA-1", sco("x509-certificate", map[string]any{"hashes": map[string]any{"SHA-1": "a"}}), "hashes"},
		{"cryptocurrency-wallet", sco("cryptocurrency-wallet", map[string]any{"value": "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"}), ""},
		{"cryptocurrency-wallet without value", sco("cryptocurrency-wallet", nil), "value"},
		{"SCO id type mismatch", with(sco("url", map[string]any{"value": "http://x.test/"}), "id", idOf("domain-name")), "id"},
		{"SCO spec_version 2.0", sco("url", map[string]any{"value": "http://x.test/", "spec_version": "2.0"}), "spec_version"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := checkObject(c.obj)
			if c.prop == "" {
				if err != nil {
					t.Fatalf("valid object refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("invalid object accepted; want an error on %q", c.prop)
			}
			var pe *PropertyError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *PropertyError", err, err)
			}
			if pe.Property != c.prop {
				t.Fatalf("error names property %q, want %q (%v)", pe.Property, c.prop, err)
			}
		})
	}
}

// The built-in TLP 2.0 definitions must pass the reserved-id check.
func TestTLPMarkingDefinitionsValidate(t *testing.T) {
	for lvl := TLPClear; lvl <= TLPRed; lvl++ {
		o := TLPMarkingDefinition(lvl)
		if err := Validate(o); err != nil {
			t.Errorf("%v: built-in definition refused: %v", lvl, err)
		}
		if got, ok := TLPOfMarking(o.ID); !ok || got != lvl {
			t.Errorf("%v: id %s maps to %v", lvl, o.ID, got)
		}
	}
}

func TestDecodeErrorNamesObject(t *testing.T) {
	raw := `{"type":"indicator","id":"` + idOf("indicator") + `","spec_version":"2.1","created":"2016-05-12T08:17:27Z","modified":"2016-05-12T08:17:27Z","pattern":"[","pattern_type":"stix","valid_from":"2016-05-12T08:17:27Z"}`
	_, err := Decode([]byte(raw))
	var oe *ObjectError
	if !errors.As(err, &oe) {
		t.Fatalf("want *ObjectError, got %v", err)
	}
	if oe.ID != idOf("indicator") || oe.Type != "indicator" || oe.Prop != "pattern" {
		t.Fatalf("ObjectError = %+v", oe)
	}
	// A broken common property is reported with the id salvaged.
	raw = `{"type":"identity","id":"` + idOf("identity") + `","created":"yesterday"}`
	_, err = Decode([]byte(raw))
	if !errors.As(err, &oe) || oe.ID != idOf("identity") || oe.Prop != "created" {
		t.Fatalf("got %v (%+v)", err, oe)
	}
	for _, bad := range []string{``, `[]`, `"x"`, `{`, `{"type":"identity"} {}`, `{"a":1 2}`, `{"type":"identity","revoked":tr ue}`} {
		if _, err := Decode([]byte(bad)); err == nil {
			t.Errorf("Decode(%q) succeeded", bad)
		}
	}
}
