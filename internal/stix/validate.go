package stix

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Validate checks an object against STIX 2.1: the common properties, the
// required properties and formats of each type Bulwark meets, and the
// reserved TLP marking definitions. It returns a *PropertyError naming the
// first property at fault. Types it does not know (custom x-… types, newer
// SDOs) get the common checks only, so they still round-trip.
func Validate(o *Object) error {
	o.materialize()
	if err := validateCommon(o); err != nil {
		return err
	}
	if check, ok := typeChecks[o.Type]; ok {
		return check(o)
	}
	return nil
}

func validateCommon(o *Object) error {
	if o.Type == "" {
		return propErr("type", "required")
	}
	if !validTypeName(o.Type) {
		return propErr("type", "%q is not a valid STIX type name", trunc(o.Type, 80))
	}
	if o.ID == "" {
		return propErr("id", "required")
	}
	typ, _, err := ParseID(o.ID)
	if err != nil {
		return propErr("id", "%v", err)
	}
	if typ != o.Type {
		return propErr("id", "type part %q does not match type %q", typ, o.Type)
	}
	sco := IsSCO(o.Type)
	switch {
	case o.SpecVersion == "" && !sco:
		return propErr("spec_version", "required")
	case o.SpecVersion != "" && o.SpecVersion != "2.1":
		return propErr("spec_version", "must be \"2.1\", got %q (2.0 content is upgraded on import)", trunc(o.SpecVersion, 20))
	}
	if !sco {
		if !o.Has("created") {
			return propErr("created", "required")
		}
		// Marking definitions are never versioned, so they have no modified.
		if o.Type != "marking-definition" && !o.Has("modified") {
			return propErr("modified", "required")
		}
		if !o.Modified.IsZero() && o.Modified.Before(o.Created) {
			return propErr("modified", "is before created")
		}
	}
	for name := range o.props {
		if !validPropName(name) {
			return propErr(trunc(name, 80), "property names must be 3–250 characters of a–z, 0–9 and _")
		}
	}
	if o.CreatedByRef != "" {
		if err := checkRef(o.CreatedByRef, "identity"); err != nil {
			return propErr("created_by_ref", "%v", err)
		}
	}
	if o.Confidence != nil && (*o.Confidence < 0 || *o.Confidence > 100) {
		return propErr("confidence", "must be 0–100, got %d", *o.Confidence)
	}
	for i, r := range o.ExternalReferences {
		if r.SourceName == "" {
			return propErr(fmt.Sprintf("external_references[%d].source_name", i), "required")
		}
		if err := checkHashes(r.Hashes); err != nil {
			return propErr(fmt.Sprintf("external_references[%d].hashes", i), "%v", err)
		}
	}
	for i, ref := range o.ObjectMarkingRefs {
		if err := checkRef(ref, "marking-definition"); err != nil {
			return propErr(fmt.Sprintf("object_marking_refs[%d]", i), "%v", err)
		}
	}
	for i, g := range o.GranularMarkings {
		if len(g.Selectors) == 0 {
			return propErr(fmt.Sprintf("granular_markings[%d].selectors", i), "required")
		}
		if g.MarkingRef == "" && g.Lang == "" {
			return propErr(fmt.Sprintf("granular_markings[%d]", i), "needs marking_ref or lang")
		}
		if g.MarkingRef != "" {
			if err := checkRef(g.MarkingRef, "marking-definition"); err != nil {
				return propErr(fmt.Sprintf("granular_markings[%d].marking_ref", i), "%v", err)
			}
		}
	}
	for name := range o.Extensions {
		if strings.HasPrefix(name, "extension-definition--") {
			if _, _, err := ParseID(name); err != nil {
				return propErr("extensions", "key %v", err)
			}
		}
	}
	return nil
}

type checkFunc func(*Object) error

var typeChecks map[string]checkFunc

func init() {
	named := func(o *Object) error { return requireString(o, "name") }
	typeChecks = map[string]checkFunc{
		"attack-pattern":     named,
		"campaign":           all(named, timeOrder("first_seen", "last_seen")),
		"course-of-action":   named,
		"grouping":           all(func(o *Object) error { return requireString(o, "context") }, requireRefs("object_refs")),
		"identity":           named,
		"incident":           named,
		"indicator":          checkIndicator,
		"infrastructure":     all(named, timeOrder("first_seen", "last_seen")),
		"intrusion-set":      all(named, timeOrder("first_seen", "last_seen")),
		"location":           checkLocation,
		"malware":            checkMalware,
		"malware-analysis":   func(o *Object) error { return requireString(o, "product") },
		"note":               all(func(o *Object) error { return requireString(o, "content") }, requireRefs("object_refs")),
		"observed-data":      checkObservedData,
		"opinion":            all(func(o *Object) error { return requireString(o, "opinion") }, requireRefs("object_refs")),
		"report":             all(named, requireTimestamp("published"), requireRefs("object_refs")),
		"threat-actor":       all(named, timeOrder("first_seen", "last_seen")),
		"tool":               named,
		"vulnerability":      named,
		"relationship":       checkRelationship,
		"sighting":           checkSighting,
		"marking-definition": checkMarkingDefinition,

		"ipv4-addr":             checkIPValue(true),
		"ipv6-addr":             checkIPValue(false),
		"domain-name":           requireValue,
		"url":                   requireValue,
		"email-addr":            checkEmail,
		"mac-addr":              requireValue,
		"cryptocurrency-wallet": requireValue,
		"file":                  checkFile,
		"network-traffic":       checkNetworkTraffic,
		"x509-certificate":      checkX509,
		"autonomous-system":     func(o *Object) error { return requireNumber(o, "number") },
		"directory":             func(o *Object) error { return requireString(o, "path") },
		"mutex":                 named,
		"software":              named,
	}
}

func all(checks ...checkFunc) checkFunc {
	return func(o *Object) error {
		for _, c := range checks {
			if err := c(o); err != nil {
				return err
			}
		}
		return nil
	}
}

func requireString(o *Object, name string) error {
	v := o.Prop(name)
	if v == nil {
		return propErr(name, "required")
	}
	s, err := jsonString(v)
	if err != nil || v[0] != '"' {
		return propErr(name, "must be a string")
	}
	if strings.TrimSpace(s) == "" {
		return propErr(name, "must not be empty")
	}
	return nil
}

func requireNumber(o *Object, name string) error {
	v := o.Prop(name)
	if v == nil {
		return propErr(name, "required")
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err != nil {
		return propErr(name, "must be a number")
	}
	return nil
}

func requireValue(o *Object) error { return requireString(o, "value") }

func requireTimestamp(name string) checkFunc {
	return func(o *Object) error {
		if o.Prop(name) == nil {
			return propErr(name, "required")
		}
		_, err := timestampProp(o, name)
		return err
	}
}

// timestampProp parses an optional timestamp property; zero when absent.
func timestampProp(o *Object, name string) (time.Time, error) {
	v := o.Prop(name)
	if v == nil {
		return time.Time{}, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return time.Time{}, propErr(name, "must be a timestamp string")
	}
	t, err := ParseTimestamp(s)
	if err != nil {
		return time.Time{}, propErr(name, "%v", err)
	}
	return t, nil
}

func timeOrder(first, last string) checkFunc {
	return func(o *Object) error {
		f, err := timestampProp(o, first)
		if err != nil {
			return err
		}
		l, err := timestampProp(o, last)
		if err != nil {
			return err
		}
		if !f.IsZero() && !l.IsZero() && l.Before(f) {
			return propErr(last, "is before %s", first)
		}
		return nil
	}
}

func requireRefs(name string) checkFunc {
	return func(o *Object) error {
		v := o.Prop(name)
		if v == nil {
			return propErr(name, "required")
		}
		var refs []string
		if err := json.Unmarshal(v, &refs); err != nil {
			return propErr(name, "must be a list of identifiers")
		}
		if len(refs) == 0 {
			return propErr(name, "must not be empty")
		}
		for i, r := range refs {
			if err := checkRef(r, ""); err != nil {
				return propErr(fmt.Sprintf("%s[%d]", name, i), "%v", err)
			}
		}
		return nil
	}
}

// checkRef checks an identifier reference; wantType "" accepts any type.
func checkRef(ref, wantType string) error {
	typ, _, err := ParseID(ref)
	if err != nil {
		return err
	}
	if wantType != "" && typ != wantType {
		return fmt.Errorf("must reference a %s, got %s", wantType, typ)
	}
	return nil
}

func checkIndicator(o *Object) error {
	if err := requireString(o, "pattern"); err != nil {
		return err
	}
	if err := requireString(o, "pattern_type"); err != nil {
		return err
	}
	from, err := timestampProp(o, "valid_from")
	if err != nil {
		return err
	}
	if from.IsZero() {
		return propErr("valid_from", "required")
	}
	until, err := timestampProp(o, "valid_until")
	if err != nil {
		return err
	}
	if !until.IsZero() && !until.After(from) {
		return propErr("valid_until", "must be later than valid_from")
	}
	if o.String("pattern_type") == "stix" {
		if err := CheckPatternSyntax(o.String("pattern")); err != nil {
			return propErr("pattern", "%v", err)
		}
	}
	return nil
}

func checkMalware(o *Object) error {
	v := o.Prop("is_family")
	if v == nil {
		return propErr("is_family", "required")
	}
	var fam bool
	if err := json.Unmarshal(v, &fam); err != nil {
		return propErr("is_family", "must be a boolean")
	}
	if fam {
		if err := requireString(o, "name"); err != nil {
			return err
		}
	}
	return timeOrder("first_seen", "last_seen")(o)
}

func checkLocation(o *Object) error {
	var lat, lon *float64
	if _, err := o.Decode("latitude", &lat); err != nil {
		return err
	}
	if _, err := o.Decode("longitude", &lon); err != nil {
		return err
	}
	if (lat == nil) != (lon == nil) {
		return propErr("latitude", "latitude and longitude must be given together")
	}
	if lat != nil && (*lat < -90 || *lat > 90) {
		return propErr("latitude", "must be within -90..90")
	}
	if lon != nil && (*lon < -180 || *lon > 180) {
		return propErr("longitude", "must be within -180..180")
	}
	if lat == nil && o.String("region") == "" && o.String("country") == "" {
		return propErr("region", "a location needs region, country, or latitude and longitude")
	}
	return nil
}

func checkObservedData(o *Object) error {
	f, err := timestampProp(o, "first_observed")
	if err != nil {
		return err
	}
	if f.IsZero() {
		return propErr("first_observed", "required")
	}
	l, err := timestampProp(o, "last_observed")
	if err != nil {
		return err
	}
	if l.IsZero() {
		return propErr("last_observed", "required")
	}
	if l.Before(f) {
		return propErr("last_observed", "is before first_observed")
	}
	var n int64
	if ok, err := o.Decode("number_observed", &n); err != nil {
		return err
	} else if !ok {
		return propErr("number_observed", "required")
	}
	if n < 1 || n > 999999999 {
		return propErr("number_observed", "must be 1–999999999, got %d", n)
	}
	hasRefs, hasObjects := o.Has("object_refs"), o.Has("objects")
	switch {
	case hasRefs && hasObjects:
		return propErr("objects", "object_refs and objects are mutually exclusive")
	case hasRefs:
		return requireRefs("object_refs")(o)
	case !hasObjects:
		return propErr("object_refs", "required")
	}
	return nil
}

// notEndpoint lists the types a relationship may not point at: STIX 2.1
// allows only SDOs and SCOs as source_ref and target_ref.
var notEndpoint = map[string]bool{
	"relationship": true, "sighting": true, "bundle": true, "language-content": true,
	"marking-definition": true, "extension-definition": true,
}

func checkRelationship(o *Object) error {
	if err := requireString(o, "relationship_type"); err != nil {
		return err
	}
	for _, p := range []string{"source_ref", "target_ref"} {
		if err := requireString(o, p); err != nil {
			return err
		}
		typ, _, err := ParseID(o.String(p))
		if err != nil {
			return propErr(p, "%v", err)
		}
		if notEndpoint[typ] {
			return propErr(p, "must reference an SDO or SCO, got %s", typ)
		}
	}
	return timeOrder("start_time", "stop_time")(o)
}

func checkSighting(o *Object) error {
	if err := requireString(o, "sighting_of_ref"); err != nil {
		return err
	}
	typ, _, err := ParseID(o.String("sighting_of_ref"))
	if err != nil {
		return propErr("sighting_of_ref", "%v", err)
	}
	// What is sighted is an SDO (an indicator, malware, …), never an SCO,
	// an SRO or a marking.
	if IsSCO(typ) || notEndpoint[typ] {
		return propErr("sighting_of_ref", "must reference an SDO, got %s", typ)
	}
	var n int64
	if ok, err := o.Decode("count", &n); err != nil {
		return err
	} else if ok && (n < 0 || n > 999999999) {
		return propErr("count", "must be 0–999999999, got %d", n)
	}
	if err := refsOfType(o, "observed_data_refs", "observed-data"); err != nil {
		return err
	}
	if err := refsOfType(o, "where_sighted_refs", "identity", "location"); err != nil {
		return err
	}
	return timeOrder("first_seen", "last_seen")(o)
}

// refsOfType checks an optional list of references whose targets must be of
// one of the given types.
func refsOfType(o *Object, name string, types ...string) error {
	if !o.Has(name) {
		return nil
	}
	if err := requireRefs(name)(o); err != nil {
		return err
	}
	for i, r := range o.Strings(name) {
		typ, _, _ := ParseID(r)
		ok := false
		for _, t := range types {
			ok = ok || typ == t
		}
		if !ok {
			return propErr(fmt.Sprintf("%s[%d]", name, i), "must reference %s, got %s", strings.Join(types, " or "), typ)
		}
	}
	return nil
}

// checkMarkingDefinition validates a marking definition and refuses any
// object that claims one of the reserved TLP identifiers with a different
// level: such a forgery would relabel everything marked with it.
func checkMarkingDefinition(o *Object) error {
	if lvl, ok := TLPOfMarking(o.ID); ok {
		// TLP 1.0 ids carry definition_type "tlp"; TLP 2.0 ids the extension.
		if got, v1 := declaredTLP(o); got != lvl || v1 != isTLP1(o.ID) {
			return propErr("definition", "reserved TLP identifier %s must define TLP:%s", o.ID, strings.ToUpper(lvl.String()))
		}
		return nil
	}
	dt := o.String("definition_type")
	switch {
	case dt != "":
		if !o.Has("definition") {
			return propErr("definition", "required with definition_type")
		}
		if dt == "statement" {
			var d struct {
				Statement string `json:"statement"`
			}
			if _, err := o.Decode("definition", &d); err != nil || d.Statement == "" {
				return propErr("definition.statement", "required for a statement marking")
			}
		}
	case len(o.Extensions) == 0:
		return propErr("definition_type", "a marking definition needs definition_type and definition, or extensions")
	}
	return nil
}

// declaredTLP reads the TLP level a marking definition states, from the TLP
// 1.0 definition (v1 true) or the TLP 2.0 extension.
func declaredTLP(o *Object) (lvl TLP, v1 bool) {
	if o.String("definition_type") == "tlp" {
		var d struct {
			TLP string `json:"tlp"`
		}
		if _, err := o.Decode("definition", &d); err == nil {
			// TLP 1.0 knows white, green, amber and red only, in lower case.
			switch d.TLP {
			case "white":
				return TLPClear, true
			case "green":
				return TLPGreen, true
			case "amber":
				return TLPAmber, true
			case "red":
				return TLPRed, true
			}
		}
		return TLPNone, true
	}
	if ext, ok := o.Extensions[TLP2Extension]; ok {
		var e struct {
			Type string `json:"extension_type"`
			TLP  string `json:"tlp_2_0"`
		}
		if err := json.Unmarshal(ext, &e); err == nil && e.Type == "property-extension" {
			switch e.TLP {
			case "clear":
				return TLPClear, false
			case "green":
				return TLPGreen, false
			case "amber":
				return TLPAmber, false
			case "amber+strict":
				return TLPAmberStrict, false
			case "red":
				return TLPRed, false
			}
		}
	}
	return TLPNone, false
}

func isTLP1(id string) bool {
	switch id {
	case TLP1White, TLP1Green, TLP1Amber, TLP1Red:
		return true
	}
	return false
}

// validPropName checks a top-level property name as the STIX 2.1 schemas
// do: 3–250 characters of a–z, 0–9 and underscore ("id" is the one shorter
// name the specification defines). Custom properties SHOULD start with x_;
// that is not enforced, as producers such as ATT&CK namespace theirs.
func validPropName(s string) bool {
	if s == "id" {
		return true
	}
	if len(s) < 3 || len(s) > 250 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func checkIPValue(v4 bool) checkFunc {
	return func(o *Object) error {
		if err := requireValue(o); err != nil {
			return err
		}
		s := o.String("value")
		var ok bool
		if p, err := netip.ParsePrefix(s); err == nil {
			ok = p.Addr().Is4() == v4
		} else if a, err := netip.ParseAddr(s); err == nil {
			ok = a.Is4() == v4 || (!v4 && a.Is6())
		}
		if !ok {
			kind := "IPv6"
			if v4 {
				kind = "IPv4"
			}
			return propErr("value", "%q is not an %s address or CIDR block", trunc(s, 80), kind)
		}
		return nil
	}
}

func checkEmail(o *Object) error {
	if err := requireValue(o); err != nil {
		return err
	}
	s := o.String("value")
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(s, " \t\r\n") {
		return propErr("value", "%q is not an email address", trunc(s, 80))
	}
	return nil
}

func checkFile(o *Object) error {
	var hashes map[string]string
	if _, err := o.Decode("hashes", &hashes); err != nil {
		return err
	}
	if err := checkHashes(hashes); err != nil {
		return propErr("hashes", "%v", err)
	}
	if len(hashes) == 0 && o.String("name") == "" {
		return propErr("hashes", "a file needs hashes or name")
	}
	return nil
}

func checkNetworkTraffic(o *Object) error {
	var protos []string
	if ok, err := o.Decode("protocols", &protos); err != nil {
		return err
	} else if !ok || len(protos) == 0 {
		return propErr("protocols", "required")
	}
	if !o.Has("src_ref") && !o.Has("dst_ref") {
		return propErr("src_ref", "network-traffic needs src_ref or dst_ref")
	}
	for _, p := range []string{"src_port", "dst_port"} {
		var port int64
		if ok, err := o.Decode(p, &port); err != nil {
			return err
		} else if ok && (port < 0 || port > 65535) {
			return propErr(p, "must be 0–65535, got %d", port)
		}
	}
	return nil
}

func checkX509(o *Object) error {
	n := 0
	for _, p := range o.PropNames() {
		switch p {
		case "type", "id", "spec_version", "object_marking_refs", "granular_markings", "defanged", "extensions":
		default:
			n++
		}
	}
	if n == 0 {
		return propErr("hashes", "an x509-certificate needs at least one property of its own")
	}
	var hashes map[string]string
	if _, err := o.Decode("hashes", &hashes); err != nil {
		return err
	}
	if err := checkHashes(hashes); err != nil {
		return propErr("hashes", "%v", err)
	}
	return nil
}

// hashLengths gives the hex length of the hash algorithms STIX names.
var hashLengths = map[string]int{
	"MD5": 32, "SHA-1": 40, "SHA-256": 64, "SHA-512": 128,
	"SHA3-256": 64, "SHA3-512": 128,
}

func checkHashes(h map[string]string) error {
	for alg, v := range h {
		n, known := hashLengths[alg]
		if !known {
			continue // SSDEEP, TLSH and custom algorithms are free-form
		}
		if len(v) != n {
			return fmt.Errorf("%s must be %d hex digits, got %d characters", alg, n, len(v))
		}
		if _, err := hex.DecodeString(v); err != nil {
			return fmt.Errorf("%s is not hexadecimal", alg)
		}
	}
	return nil
}
