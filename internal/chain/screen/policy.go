package screen

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/bulwark-intel/bulwark/internal/access"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

// Policy is what one viewer may see, as the access package decides it: per
// readable collection, the highest effective TLP and the identity TLP:RED
// is restricted to. The index keeps every piece of evidence with its
// collection, marking, creator and recipients, and shows a viewer only
// what passes its Policy, so the decision that applies to every other
// read path (access.Service.Scope) applies here too. The zero Policy sees
// nothing.
type Policy struct {
	all   bool            // every collection (operator use without the access service)
	allTo Rule            // the rule for every collection when all is set
	rules map[string]Rule // collection id → rule
	max   stix.TLP        // an extra cap over every collection; TLPNone: none
}

// Rule is the decision for one collection.
type Rule struct {
	// MaxTLP is the highest effective TLP shown. TLPNone is read as
	// TLP:CLEAR, never as "no limit": the policy fails closed.
	MaxTLP stix.TLP
	// RedFor, when set, admits TLP:RED only when this identity created the
	// object or is among its x_bulwark_recipients; empty admits all RED
	// under MaxTLP (administrators, operators).
	RedFor string
}

// Operator is the policy of a local operator reading its own store (the
// command line, a server without the access service): every collection,
// everything up to max (TLPNone: up to RED).
func Operator(max stix.TLP) Policy {
	if max == stix.TLPNone {
		max = stix.TLPRed
	}
	return Policy{all: true, allTo: Rule{MaxTLP: max}}
}

// Rules builds a policy from explicit per-collection rules (tests, tools).
func Rules(rules map[string]Rule) Policy {
	return Policy{rules: rules}
}

// PolicyFor asks the access service what viewer v may see: every
// collection it may read, each narrowed by access.Service.Scope exactly as
// a TAXII or search query of that viewer would be.
func PolicyFor(ctx context.Context, acc *access.Service, v access.Viewer) (Policy, error) {
	colls, err := acc.Collections(ctx, v)
	if err != nil {
		return Policy{}, fmt.Errorf("screening policy: %w", err)
	}
	p := Policy{rules: make(map[string]Rule, len(colls))}
	for _, c := range colls {
		if !c.CanRead {
			continue
		}
		q, err := acc.Scope(ctx, v, store.Query{Collection: c.ID})
		if errors.Is(err, access.ErrNotFound) {
			continue // the grant went away between the two calls
		}
		if err != nil {
			return Policy{}, fmt.Errorf("screening policy: %w", err)
		}
		p.rules[q.Collection] = Rule{MaxTLP: q.MaxTLP, RedFor: q.RedFor}
	}
	return p, nil
}

// Cap returns the policy with every collection further capped at max
// (TLPNone leaves it as is): the server's --max-tlp.
func (p Policy) Cap(max stix.TLP) Policy {
	if max != stix.TLPNone && (p.max == stix.TLPNone || max < p.max) {
		p.max = max
	}
	return p
}

// view is a Policy resolved against one index state's collections, so a
// visibility check is an array index and a few comparisons.
type view struct {
	rules []rule // by collection number
}

type rule struct {
	ok     bool
	max    stix.TLP
	def    stix.TLP // the collection's default TLP for unmarked objects
	redFor string
}

func (p *Policy) resolve(st *state) view { return p.resolveIn(st, nil) }

// resolveIn is resolve with the rules in buf's array when it is large
// enough.
func (p *Policy) resolveIn(st *state, buf []rule) view {
	v := view{rules: grow(buf, len(st.colls))}
	clear(v.rules)
	for i, c := range st.colls {
		r, ok := p.allTo, p.all
		if !ok {
			r, ok = p.rules[c.id]
		}
		if !ok {
			continue
		}
		max := r.MaxTLP
		if max == stix.TLPNone {
			max = stix.TLPClear
		}
		if p.max != stix.TLPNone && p.max < max {
			max = p.max
		}
		def := c.defaultTLP
		if def == stix.TLPNone {
			def = stix.TLPAmber
		}
		v.rules[i] = rule{ok: true, max: max, def: def, redFor: r.RedFor}
	}
	return v
}

// sees decides whether the viewer sees an object version in its
// collection, and at which effective TLP — the store's own query
// condition (effective TLP within the cap; RED only for its creator and
// recipients).
func (v *view) sees(coll uint16, tlp stix.TLP, createdBy string, recips []string) (stix.TLP, bool) {
	if int(coll) >= len(v.rules) {
		return 0, false // a collection newer than this view: not decided, not shown
	}
	r := &v.rules[coll]
	if !r.ok {
		return 0, false
	}
	eff := tlp
	if eff == stix.TLPNone {
		eff = r.def
	}
	if eff > r.max {
		return 0, false
	}
	if eff == stix.TLPRed && r.redFor != "" && createdBy != r.redFor && !slices.Contains(recips, r.redFor) {
		return 0, false
	}
	return eff, true
}

// seesFacts is sees for a name or relationship version.
func (v *view) seesFacts(f *visFacts) (stix.TLP, bool) {
	return v.sees(f.coll, f.tlp, f.createdBy, f.recips)
}
