package stix

import (
	"net/netip"
	"net/url"
	"strings"
)

// NormalizeValue turns an observable value into the form Bulwark indexes and
// looks up, so that the same indicator written by two sources meets itself:
// surrounding space trimmed, IP addresses in canonical form, and everything
// lower-cased except what is case-sensitive: base58 addresses (Bitcoin
// legacy, TRON, …) keep their case, URLs keep the case of their path.
func NormalizeValue(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().String()
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked().String()
	}
	if looksBase58(s) {
		return s
	}
	if i := strings.Index(s, "://"); i > 0 {
		if u, err := url.Parse(s); err == nil && u.Host != "" {
			u.Scheme = strings.ToLower(u.Scheme)
			u.Host = strings.ToLower(u.Host)
			return u.String()
		}
		return s
	}
	return strings.ToLower(s)
}

// looksBase58 reports whether s could be a case-sensitive base58 string: only
// base58 characters and both upper and lower case letters.
func looksBase58(s string) bool {
	if len(s) < 25 || len(s) > 120 {
		return false
	}
	upper, lower := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '1' && c <= '9':
		case c >= 'A' && c <= 'Z' && c != 'I' && c != 'O':
			upper = true
		case c >= 'a' && c <= 'z' && c != 'l':
			lower = true
		default:
			return false
		}
	}
	return upper && lower
}

// valueProps are the SCO properties that carry an indexable value.
var valueProps = map[string]bool{
	"ipv4-addr": true, "ipv6-addr": true, "domain-name": true, "url": true,
	"email-addr": true, "mac-addr": true, "cryptocurrency-wallet": true,
}

// IndexValues returns the normalised observable values an object is about:
// the values an indicator's STIX pattern compares for equality, an SCO's
// value, a file's or certificate's hashes. Duplicates are removed.
func IndexValues(o *Object) []string {
	var vals []string
	switch {
	case o.Type == "indicator":
		if pt := o.String("pattern_type"); pt == "stix" || pt == "" {
			for _, pv := range PatternValues(o.String("pattern")) {
				vals = append(vals, pv.Value)
			}
		}
	case valueProps[o.Type]:
		vals = append(vals, o.String("value"))
	case o.Type == "file" || o.Type == "x509-certificate" || o.Type == "artifact":
		var hashes map[string]string
		if _, err := o.Decode("hashes", &hashes); err == nil {
			for _, h := range hashes {
				vals = append(vals, h)
			}
		}
		if n := o.String("name"); n != "" && o.Type == "file" {
			vals = append(vals, n)
		}
	}
	out := vals[:0]
	seen := make(map[string]bool, len(vals))
	for _, v := range vals {
		v = NormalizeValue(v)
		if v == "" || len(v) > 2048 || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, v)
	}
	return out
}

// Names returns the names an object goes by: name, aliases, and the custom
// alias lists of ATT&CK (x_mitre_aliases). Used to find actors by any alias.
func Names(o *Object) []string {
	var names []string
	if n := o.String("name"); n != "" {
		names = append(names, n)
	}
	names = append(names, o.Strings("aliases")...)
	names = append(names, o.Strings("x_mitre_aliases")...)
	out := names[:0]
	seen := map[string]bool{}
	for _, n := range names {
		k := NormalizeName(n)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, n)
	}
	return out
}

// NormalizeName folds a name for alias matching: lower case, letters and
// digits only, so "Hidden Cobra", "HIDDEN COBRA" and "hidden-cobra" meet.
func NormalizeName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Refs returns the identifiers an object points at, by property: the
// endpoints of a relationship, a sighting's references, a report's or note's
// object_refs. The store keeps them as graph edges.
func Refs(o *Object) []Edge {
	var edges []Edge
	add := func(kind, target string) {
		if target != "" {
			edges = append(edges, Edge{Source: o.ID, Target: target, Kind: kind})
		}
	}
	switch o.Type {
	case "relationship":
		edges = append(edges, Edge{Source: o.String("source_ref"), Target: o.String("target_ref"), Kind: o.String("relationship_type"), Via: o.ID})
	case "sighting":
		add("sighting-of", o.String("sighting_of_ref"))
		for _, r := range o.Strings("observed_data_refs") {
			add("observed-data", r)
		}
		for _, r := range o.Strings("where_sighted_refs") {
			add("where-sighted", r)
		}
	default:
		for _, r := range o.Strings("object_refs") {
			add("object-ref", r)
		}
	}
	out := edges[:0]
	for _, e := range edges {
		if e.Source != "" && e.Target != "" {
			out = append(out, e)
		}
	}
	return out
}

// Edge is a directed link between two objects. Kind is the relationship
// type, or a name for an embedded reference ("object-ref", "sighting-of").
// Via is the id of the relationship object that states the edge, if any.
type Edge struct {
	Source, Target, Kind, Via string
}
