package stix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Object is one STIX object: its common properties decoded, and the whole
// object as JSON in Raw. Raw is the source of truth; the decoded fields are a
// view of it and are refreshed by Parse.
type Object struct {
	Type               string
	ID                 string
	SpecVersion        string
	Created            time.Time // zero when absent (SCOs)
	Modified           time.Time // zero when absent (SCOs, marking definitions)
	CreatedByRef       string
	Revoked            bool
	Labels             []string
	Confidence         *int
	ExternalReferences []ExternalReference
	ObjectMarkingRefs  []string
	GranularMarkings   []GranularMarking
	Extensions         map[string]json.RawMessage

	// Raw is the complete object, compacted JSON.
	Raw json.RawMessage

	props map[string]json.RawMessage
	// lazy: ExternalReferences, GranularMarkings and Extensions are not
	// decoded yet (ParseStored); ExternalRefs and Validate decode them.
	lazy bool
}

// ExternalReference is the STIX external-reference type.
type ExternalReference struct {
	SourceName  string            `json:"source_name"`
	Description string            `json:"description,omitempty"`
	URL         string            `json:"url,omitempty"`
	Hashes      map[string]string `json:"hashes,omitempty"`
	ExternalID  string            `json:"external_id,omitempty"`
}

// GranularMarking is the STIX granular-marking type.
type GranularMarking struct {
	Lang       string   `json:"lang,omitempty"`
	MarkingRef string   `json:"marking_ref,omitempty"`
	Selectors  []string `json:"selectors"`
}

// ErrNotObject is returned by Parse for JSON that is not an object.
var ErrNotObject = errors.New("not a JSON object")

// Parse decodes raw JSON into an Object. It checks only that the common
// properties have the right JSON types; Validate checks the rest. Raw is
// compacted and kept.
func Parse(raw []byte) (*Object, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, ErrNotObject
	}
	compact, err := compactJSON(raw)
	if err == nil && !json.Valid(compact) {
		err = errors.New("invalid JSON")
	}
	if err != nil {
		// Let encoding/json describe what is wrong, with its offset.
		if jerr := json.Unmarshal(raw, new(json.RawMessage)); jerr != nil {
			err = jerr
		}
		return nil, fmt.Errorf("decoding object: %w", err)
	}
	props, err := splitObject(compact)
	if err != nil {
		return nil, fmt.Errorf("decoding object: %w", err)
	}
	o := &Object{Raw: compact, props: props}
	if err := o.decodeCommon(); err != nil {
		return nil, err
	}
	return o, nil
}

// FromMap builds an Object from properties, as importers that synthesise
// objects do. Keys are emitted in sorted order.
func FromMap(m map[string]any) (*Object, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding object: %w", err)
	}
	return Parse(raw)
}

// PropertyError names the property of an object that is at fault.
type PropertyError struct {
	Property string
	Reason   string
}

func (e *PropertyError) Error() string {
	if e.Property == "" {
		return e.Reason
	}
	return "property " + e.Property + ": " + e.Reason
}

func propErr(prop, format string, args ...any) *PropertyError {
	return &PropertyError{Property: prop, Reason: fmt.Sprintf(format, args...)}
}

func (o *Object) decodeCommon() error { return o.decode(false) }

// ExternalRefs returns the external references, decoding them first for
// objects read with ParseStored.
func (o *Object) ExternalRefs() []ExternalReference {
	o.materialize()
	return o.ExternalReferences
}

// materialize decodes what ParseStored left for later.
func (o *Object) materialize() {
	if !o.lazy {
		return
	}
	o.lazy = false
	if v, ok := o.props["external_references"]; ok {
		_ = json.Unmarshal(v, &o.ExternalReferences)
	}
	if v, ok := o.props["granular_markings"]; ok {
		_ = json.Unmarshal(v, &o.GranularMarkings)
	}
	if v, ok := o.props["extensions"]; ok {
		_ = json.Unmarshal(v, &o.Extensions)
	}
}

func (o *Object) decode(lazy bool) error {
	str := func(name string, dst *string) error {
		v, ok := o.props[name]
		if !ok {
			return nil
		}
		s, err := jsonString(v)
		if err != nil {
			return propErr(name, "must be a string")
		}
		*dst = s
		return nil
	}
	ts := func(name string, dst *time.Time) error {
		var s string
		if err := str(name, &s); err != nil || s == "" {
			if err == nil && hasProp(o.props, name) {
				return propErr(name, "must be a timestamp, got empty string")
			}
			return err
		}
		t, err := ParseTimestamp(s)
		if err != nil {
			return propErr(name, "%v", err)
		}
		*dst = t
		return nil
	}
	if err := str("type", &o.Type); err != nil {
		return err
	}
	if err := str("id", &o.ID); err != nil {
		return err
	}
	if err := str("spec_version", &o.SpecVersion); err != nil {
		return err
	}
	if err := ts("created", &o.Created); err != nil {
		return err
	}
	if err := ts("modified", &o.Modified); err != nil {
		return err
	}
	if err := str("created_by_ref", &o.CreatedByRef); err != nil {
		return err
	}
	if v, ok := o.props["revoked"]; ok {
		if err := json.Unmarshal(v, &o.Revoked); err != nil {
			return propErr("revoked", "must be a boolean")
		}
	}
	if v, ok := o.props["labels"]; ok {
		var err error
		if o.Labels, err = jsonStrings(v); err != nil {
			return propErr("labels", "must be a list of strings")
		}
	}
	if v, ok := o.props["confidence"]; ok {
		var c int
		if err := json.Unmarshal(v, &c); err != nil {
			return propErr("confidence", "must be an integer")
		}
		o.Confidence = &c
	}
	if lazy {
		// Stored objects were checked on the way in; the structured
		// properties below cost more to decode than most readers need.
		o.lazy = true
		if v, ok := o.props["object_marking_refs"]; ok {
			o.ObjectMarkingRefs, _ = jsonStrings(v)
		}
		return nil
	}
	if v, ok := o.props["external_references"]; ok {
		if err := json.Unmarshal(v, &o.ExternalReferences); err != nil {
			return propErr("external_references", "must be a list of external references")
		}
	}
	if v, ok := o.props["object_marking_refs"]; ok {
		var err error
		if o.ObjectMarkingRefs, err = jsonStrings(v); err != nil {
			return propErr("object_marking_refs", "must be a list of identifiers")
		}
	}
	if v, ok := o.props["granular_markings"]; ok {
		if err := json.Unmarshal(v, &o.GranularMarkings); err != nil {
			return propErr("granular_markings", "must be a list of granular markings")
		}
	}
	if v, ok := o.props["extensions"]; ok {
		if err := json.Unmarshal(v, &o.Extensions); err != nil {
			return propErr("extensions", "must be a dictionary")
		}
	}
	return nil
}

func hasProp(m map[string]json.RawMessage, name string) bool {
	_, ok := m[name]
	return ok
}

// Has reports whether the object carries a property.
func (o *Object) Has(name string) bool { return hasProp(o.props, name) }

// Prop returns a property's raw JSON, or nil.
func (o *Object) Prop(name string) json.RawMessage { return o.props[name] }

// String returns a string property, or "" when absent or not a string.
func (o *Object) String(name string) string {
	if v, ok := o.props[name]; ok {
		s, _ := jsonString(v)
		return s
	}
	return ""
}

// Strings returns a list-of-strings property, or nil when absent or mistyped.
func (o *Object) Strings(name string) []string {
	if v, ok := o.props[name]; ok {
		if s, err := jsonStrings(v); err == nil {
			return s
		}
	}
	return nil
}

// Decode unmarshals one property into dst. It reports false when absent.
func (o *Object) Decode(name string, dst any) (bool, error) {
	v, ok := o.props[name]
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(v, dst); err != nil {
		return true, propErr(name, "%v", err)
	}
	return true, nil
}

// PropNames lists the names of the object's properties in no set order.
func (o *Object) PropNames() []string {
	names := make([]string, 0, len(o.props))
	for k := range o.props {
		names = append(names, k)
	}
	return names
}

// Version is the instant that orders the versions of one object: modified,
// else created, else the zero instant (SCOs have a single version).
func (o *Object) Version() time.Time {
	if !o.Modified.IsZero() {
		return o.Modified
	}
	if !o.Created.IsZero() {
		return o.Created
	}
	return time.Unix(0, 0).UTC()
}

// VersionString is Version formatted as the object gives it, when it does.
func (o *Object) VersionString() string {
	if s := o.String("modified"); s != "" {
		return s
	}
	if s := o.String("created"); s != "" {
		return s
	}
	return FormatTimestamp(o.Version())
}

// Name is the object's display name: name, else value, else its id.
func (o *Object) Name() string {
	if s := o.String("name"); s != "" {
		return s
	}
	if s := o.String("value"); s != "" {
		return s
	}
	return o.ID
}

// Clone returns a deep copy that shares nothing mutable with o.
func (o *Object) Clone() *Object {
	c, err := Parse(o.Raw)
	if err != nil {
		// Raw came from Parse; it cannot fail to parse again.
		panic("stix: clone of unparsable object: " + err.Error())
	}
	return c
}

// WithProps returns a copy of o with the given properties set (a nil value
// removes one). It re-encodes the object, so key order may change.
func (o *Object) WithProps(set map[string]any) (*Object, error) {
	m := make(map[string]any, len(o.props)+len(set))
	for k, v := range o.props {
		m[k] = v
	}
	for k, v := range set {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	return FromMap(m)
}

// IsSCO reports whether the type is a STIX cyber-observable type, including
// the cryptocurrency-wallet type OpenCTI uses.
func IsSCO(typ string) bool { return scoTypes[typ] }

var scoTypes = map[string]bool{
	"artifact": true, "autonomous-system": true, "directory": true, "domain-name": true,
	"email-addr": true, "email-message": true, "file": true, "ipv4-addr": true,
	"ipv6-addr": true, "mac-addr": true, "mutex": true, "network-traffic": true,
	"process": true, "software": true, "url": true, "user-account": true,
	"windows-registry-key": true, "x509-certificate": true,
	"cryptocurrency-wallet": true,
}

// ParseStored decodes an object that Parse accepted before and that was
// kept byte for byte (the store's raw column): it skips the compaction and
// the full validity scan, which dominate reading large pages. Input that
// is not such an object may be misread; never give it untrusted bytes.
func ParseStored(raw []byte) (*Object, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, ErrNotObject
	}
	props, err := splitObject(raw)
	if err != nil {
		return nil, fmt.Errorf("decoding stored object: %w", err)
	}
	o := &Object{Raw: raw, props: props}
	if err := o.decode(true); err != nil {
		return nil, err
	}
	return o, nil
}
