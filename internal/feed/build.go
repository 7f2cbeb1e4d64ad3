package feed

import (
	"fmt"
	"strings"
	"time"

	"github.com/bulwark-intel/bulwark/internal/stix"
)

// Kind is the kind of an observable value found in a feed.
type Kind string

// Observable kinds importers produce.
const (
	KindIPv4     Kind = "ipv4-addr" // an address or CIDR block
	KindIPv6     Kind = "ipv6-addr"
	KindDomain   Kind = "domain-name"
	KindURL      Kind = "url"
	KindEmail    Kind = "email-addr"
	KindMD5      Kind = "md5"
	KindSHA1     Kind = "sha1"
	KindSHA256   Kind = "sha256"
	KindSHA512   Kind = "sha512"
	KindFileName Kind = "file-name"
	KindWallet   Kind = "cryptocurrency-wallet"
)

// hashAlgo maps hash kinds to STIX hash algorithm names.
var hashAlgo = map[Kind]string{KindMD5: "MD5", KindSHA1: "SHA-1", KindSHA256: "SHA-256", KindSHA512: "SHA-512"}

// QuoteLiteral quotes a string for a STIX pattern.
func QuoteLiteral(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// Pattern returns the STIX pattern that matches one observable value.
func Pattern(kind Kind, value string) (string, error) {
	q := QuoteLiteral(value)
	switch kind {
	case KindIPv4, KindIPv6, KindDomain, KindURL, KindEmail, KindWallet:
		return "[" + string(kind) + ":value = " + q + "]", nil
	case KindMD5:
		return "[file:hashes.MD5 = " + q + "]", nil
	case KindSHA1, KindSHA256, KindSHA512:
		return "[file:hashes.'" + hashAlgo[kind] + "' = " + q + "]", nil
	case KindFileName:
		return "[file:name = " + q + "]", nil
	}
	return "", fmt.Errorf("no pattern for kind %q", kind)
}

// SocketPattern matches traffic to an address and port (MISP ip-dst|port).
func SocketPattern(kind Kind, addr string, port int) string {
	return fmt.Sprintf("[network-traffic:dst_ref.type = '%s' AND network-traffic:dst_ref.value = %s AND network-traffic:dst_port = %d]",
		kind, QuoteLiteral(addr), port)
}

// Observable builds the SCO for a value, with its deterministic id.
func Observable(kind Kind, value string) (*stix.Object, error) {
	props := map[string]any{"type": string(kind), "spec_version": "2.1"}
	typ := string(kind)
	switch kind {
	case KindIPv4, KindIPv6, KindDomain, KindURL, KindEmail, KindWallet:
		props["value"] = value
	case KindMD5, KindSHA1, KindSHA256, KindSHA512:
		typ = "file"
		props["type"] = typ
		props["hashes"] = map[string]any{hashAlgo[kind]: value}
	case KindFileName:
		typ = "file"
		props["type"] = typ
		props["name"] = value
	default:
		return nil, fmt.Errorf("no observable for kind %q", kind)
	}
	id, ok := stix.SCOID(typ, props)
	if !ok {
		return nil, fmt.Errorf("no deterministic id for %s", typ)
	}
	props["id"] = id
	return decodeBuilt(props)
}

// Common carries the properties every object an importer builds shares.
type Common struct {
	CreatedBy string    // identity id of the source
	Created   time.Time // from the source data when it has dates
	Modified  time.Time // zero means Created
	Markings  []string  // object_marking_refs
	Labels    []string
	ExtRefs   []stix.ExternalReference
	Extra     map[string]any // further properties (x_… custom ones included)
}

func (c Common) apply(props map[string]any) {
	created := c.Created.UTC().Truncate(time.Millisecond)
	modified := c.Modified.UTC().Truncate(time.Millisecond)
	if c.Modified.IsZero() || modified.Before(created) {
		modified = created
	}
	props["spec_version"] = "2.1"
	props["created"] = stix.FormatTimestamp(created)
	props["modified"] = stix.FormatTimestamp(modified)
	if c.CreatedBy != "" {
		props["created_by_ref"] = c.CreatedBy
	}
	if len(c.Markings) > 0 {
		props["object_marking_refs"] = c.Markings
	}
	if len(c.Labels) > 0 {
		props["labels"] = c.Labels
	}
	if len(c.ExtRefs) > 0 {
		props["external_references"] = c.ExtRefs
	}
	for k, v := range c.Extra {
		props[k] = v
	}
}

// SDO builds a domain object of the given type and id from properties plus
// the common ones. The id should come from stix.DeterministicID over the
// source's own key so that re-imports are idempotent.
func SDO(typ, id string, c Common, props map[string]any) (*stix.Object, error) {
	p := make(map[string]any, len(props)+10)
	for k, v := range props {
		p[k] = v
	}
	p["type"] = typ
	p["id"] = id
	c.apply(p)
	return decodeBuilt(p)
}

// Indicator builds an indicator for a pattern. validFrom zero means Created.
func Indicator(id, pattern, name string, validFrom time.Time, c Common, props map[string]any) (*stix.Object, error) {
	p := map[string]any{"pattern": pattern, "pattern_type": "stix"}
	if name != "" {
		p["name"] = name
	}
	if validFrom.IsZero() {
		validFrom = c.Created
	}
	p["valid_from"] = stix.FormatTimestamp(validFrom.UTC().Truncate(time.Millisecond))
	for k, v := range props {
		p[k] = v
	}
	return SDO("indicator", id, c, p)
}

// Relationship builds a relationship whose id derives from its endpoints,
// type and creator, so the same statement from the same source is one object.
func Relationship(source, relType, target string, c Common) (*stix.Object, error) {
	id := stix.DeterministicID("relationship", c.CreatedBy, source, relType, target)
	return SDO("relationship", id, c, map[string]any{
		"relationship_type": relType,
		"source_ref":        source,
		"target_ref":        target,
	})
}

// Identity builds the identity of a source (an organisation), with an id
// derived from its name.
func Identity(name, class string, created time.Time, extra map[string]any) (*stix.Object, error) {
	id := stix.DeterministicID("identity", strings.ToLower(name))
	props := map[string]any{"name": name}
	if class != "" {
		props["identity_class"] = class
	}
	return SDO("identity", id, Common{Created: created, Extra: extra}, props)
}

// markedEpoch dates the identities MarkedIdentity marks: later than the
// fixed dates the feeds gave unmarked identities before they were marked,
// so that importing again replaces such a version instead of keeping it as
// unchanged.
var markedEpoch = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)

// MarkedIdentity is Identity marked with TLP t, dated markedEpoch; with
// TLPNone it is Identity as it was. A source's name is part of the evidence
// of every listing it makes, which must not come out more restricted than
// the listing because the identity took a collection's default.
func MarkedIdentity(name, class string, created time.Time, t stix.TLP, extra map[string]any) (*stix.Object, error) {
	refs := TLPMarkings(t)
	if refs == nil {
		return Identity(name, class, created, extra)
	}
	props := map[string]any{"object_marking_refs": refs}
	for k, v := range extra {
		props[k] = v
	}
	return Identity(name, class, markedEpoch, props)
}

// TLPMarkings returns object_marking_refs for a level (nil for TLPNone).
func TLPMarkings(t stix.TLP) []string {
	if id := t.MarkingID(); id != "" {
		return []string{id}
	}
	return nil
}

func decodeBuilt(props map[string]any) (*stix.Object, error) {
	o, err := stix.FromMap(props)
	if err != nil {
		return nil, err
	}
	if err := stix.Validate(o); err != nil {
		return nil, fmt.Errorf("built %s is invalid: %w", props["type"], err)
	}
	return o, nil
}
