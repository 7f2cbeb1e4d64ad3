package detect

import (
	"net/netip"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/stix/pattern"
)

// anchor is one value a pattern cannot match without.
type anchor struct {
	kind  Kind
	value string
	pfx   netip.Prefix // kind KindIP with a block
	path  string       // KindOther: the object path compared
}

// kURLNoScheme marks an anchor for a scheme-less URL indicator.
const kURLNoScheme Kind = 255

// obsAnchors finds the indexable values of an observation expression: ok
// when every way to match goes through one of them, direct when matching
// one of them is all the pattern asks. A pattern over several
// observations (AND, FOLLOWEDBY, REPEATS) is anchored on the values of
// every operand, since each event that may take part must reach the
// stream evaluator.
func obsAnchors(e pattern.ObsExpr) (as []anchor, direct, ok bool) {
	switch e := e.(type) {
	case *pattern.Bracket:
		return compAnchors(e.Expr)
	case *pattern.ObsBinary:
		if e.Op != pattern.ObsOr {
			for _, op := range e.Operands {
				a, _, ok := obsAnchors(op)
				if !ok {
					return nil, false, false
				}
				as = append(as, a...)
			}
			return as, false, true
		}
		direct = true
		for _, op := range e.Operands {
			a, d, ok := obsAnchors(op)
			if !ok {
				return nil, false, false
			}
			as = append(as, a...)
			direct = direct && d
		}
		return as, direct, true
	case *pattern.Qualified:
		a, _, ok := obsAnchors(e.Expr)
		return a, false, ok
	}
	return nil, false, false
}

func compAnchors(e pattern.CompExpr) (as []anchor, direct, ok bool) {
	switch e := e.(type) {
	case *pattern.Comparison:
		if e.Not {
			return nil, false, false
		}
		switch e.Op {
		case pattern.OpEq:
			a, d, ok := litAnchor(e.Path, e.Value, false)
			if !ok {
				return nil, false, false
			}
			return []anchor{a}, d, true
		case pattern.OpIn:
			direct = true
			for _, l := range e.Set {
				a, d, ok := litAnchor(e.Path, l, false)
				if !ok {
					return nil, false, false
				}
				as = append(as, a)
				direct = direct && d
			}
			return as, direct, len(as) > 0
		case pattern.OpIsSubset:
			a, d, ok := litAnchor(e.Path, e.Value, true)
			if !ok || a.kind != KindIP {
				return nil, false, false
			}
			return []anchor{a}, d, true
		}
		return nil, false, false
	case *pattern.CompBinary:
		if e.Op == pattern.And {
			// Anchor on the most selective operand: a typed value (IP,
			// domain, hash...) rather than an arbitrary property.
			var best []anchor
			for _, op := range e.Operands {
				a, _, ok := compAnchors(op)
				if !ok {
					continue
				}
				if !anyOther(a) {
					return a, false, true
				}
				if best == nil {
					best = a
				}
			}
			return best, false, best != nil
		}
		direct = true
		for _, op := range e.Operands {
			a, d, ok := compAnchors(op)
			if !ok {
				return nil, false, false
			}
			as = append(as, a...)
			direct = direct && d
		}
		return as, direct, true
	}
	return nil, false, false
}

func anyOther(as []anchor) bool {
	for _, a := range as {
		if a.kind == KindOther {
			return true
		}
	}
	return false
}

// litAnchor turns `path = literal` into an anchor. direct is false when the
// index would answer more loosely than the comparison (a reference path
// whose object type the event does not record, for example).
func litAnchor(p pattern.Path, l pattern.Literal, subset bool) (anchor, bool, bool) {
	if l.Kind != pattern.LitString || len(p.Steps) == 0 {
		return anchor{}, false, false
	}
	v := l.Str
	first := p.Steps[0].Key
	var a anchor
	isValue := len(p.Steps) == 1 && first == "value"
	isRefValue := len(p.Steps) == 2 && strings.HasSuffix(first, "_ref") && p.Steps[1].Kind == pattern.StepKey && p.Steps[1].Key == "value"
	if subset && !(isValue && (p.Type == "ipv4-addr" || p.Type == "ipv6-addr")) {
		return a, false, false
	}
	switch {
	case isValue && (p.Type == "ipv4-addr" || p.Type == "ipv6-addr"), isRefValue:
		if pfx, err := netip.ParsePrefix(v); err == nil {
			a.kind, a.pfx = KindIP, pfx.Masked()
			return a, isValue, true
		}
		if ip, ok := parseIP([]byte(v)); ok {
			a.kind, a.pfx = KindIP, netip.PrefixFrom(ip, ip.BitLen())
			return a, isValue, true
		}
		if isRefValue && strings.Contains(v, ".") {
			a.kind, a.value = KindDomain, string(normDomain(nil, []byte(v)))
			return a, false, true
		}
		return a, false, false
	case isValue && p.Type == "domain-name":
		a.kind, a.value = KindDomain, string(normDomain(nil, []byte(v)))
		return a, true, a.value != ""
	case isValue && p.Type == "url":
		u, _, scheme, ok := normURL(nil, []byte(v))
		if !ok {
			return a, false, false
		}
		a.kind, a.value = KindURL, string(u)
		if !scheme {
			a.kind = kURLNoScheme
		}
		return a, true, true
	case isValue && p.Type == "email-addr":
		a.kind, a.value = KindEmail, string(normEmail(nil, []byte(v)))
		return a, true, a.value != ""
	case isValue && p.Type == "cryptocurrency-wallet":
		a.kind, a.value = KindWallet, string(normWallet(nil, []byte(v)))
		return a, true, a.value != ""
	case len(p.Steps) == 2 && first == "hashes" && p.Steps[1].Kind == pattern.StepKey:
		k := algoKind(p.Steps[1].Key)
		if k == KindNone {
			break
		}
		a.kind, a.value = k, strings.ToLower(strings.TrimSpace(v))
		return a, true, a.value != ""
	}
	// Only comparisons on other paths need the path in their key.
	a.kind, a.value, a.path = KindOther, v, p.String()
	return a, true, true
}

// temporal reports whether a pattern needs several observations: AND or
// FOLLOWEDBY between observation expressions, or REPEATS more than once.
// Such patterns are evaluated over the stream of events of a log, not
// event by event.
func temporal(e pattern.ObsExpr) bool {
	switch e := e.(type) {
	case *pattern.ObsBinary:
		if e.Op != pattern.ObsOr {
			return true
		}
		for _, op := range e.Operands {
			if temporal(op) {
				return true
			}
		}
	case *pattern.Qualified:
		for _, q := range e.Qualifiers {
			if q.Kind == pattern.QualRepeats && q.Times > 1 {
				return true
			}
		}
		return temporal(e.Expr)
	}
	return false
}

// patternTypes lists the object types a pattern refers to.
func patternTypes(e any, acc []string) []string {
	add := func(t string) {
		for _, x := range acc {
			if x == t {
				return
			}
		}
		acc = append(acc, t)
	}
	switch e := e.(type) {
	case *pattern.Bracket:
		return patternTypes(e.Expr, acc)
	case *pattern.ObsBinary:
		for _, op := range e.Operands {
			acc = patternTypes(op, acc)
		}
	case *pattern.Qualified:
		return patternTypes(e.Expr, acc)
	case *pattern.CompBinary:
		for _, op := range e.Operands {
			acc = patternTypes(op, acc)
		}
	case *pattern.Comparison:
		add(e.Path.Type)
	}
	return acc
}
