// Package lookup answers the two questions analysts ask of the store most:
// "what do we know about this value?" (an IP, domain, hash or wallet) and
// "what do we know about this actor?" (by any of its names). The CLI and the
// JSON API both call it, so they give the same answers.
//
// Every answer is filtered by a maximum TLP before it leaves this package;
// the access package of the hub will replace that with the viewer's full
// access decision.
package lookup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

// ErrNoActor is returned when no actor goes by the name asked for.
var ErrNoActor = errors.New("no actor by that name")

// Ref is an object as an answer shows it.
type Ref struct {
	ID         string   `json:"id"`
	Type       string   `json:"type"`
	Name       string   `json:"name"`
	ExternalID string   `json:"external_id,omitempty"` // ATT&CK id (T1059, S0001, G0032) when known
	TLP        string   `json:"tlp,omitempty"`
	Source     string   `json:"source,omitempty"`
	Pattern    string   `json:"pattern,omitempty"`
	Via        string   `json:"via,omitempty"` // the relationship type that links it
	Labels     []string `json:"labels,omitempty"`
}

// Filter says what may be shown.
type Filter struct {
	// MaxTLP is the most restrictive TLP shown; unmarked objects count as
	// AMBER (the policy's default) when no collection says otherwise.
	MaxTLP stix.TLP
}

func (f Filter) allows(r store.Record) bool {
	if f.MaxTLP == stix.TLPNone {
		return true
	}
	t := r.EffectiveTLP
	if t == stix.TLPNone {
		t = stix.TLPAmber
	}
	return t <= f.MaxTLP
}

func refOf(r store.Record) Ref {
	o := r.Object
	ref := Ref{ID: o.ID, Type: o.Type, Name: displayName(o), Source: r.Source, Labels: o.Labels}
	t := r.EffectiveTLP
	if t == stix.TLPNone {
		t = r.TLP
	}
	ref.TLP = t.String()
	ref.ExternalID = attackID(o)
	if o.Type == "indicator" {
		ref.Pattern = o.String("pattern")
	}
	return ref
}

func displayName(o *stix.Object) string {
	if o.Type == "relationship" {
		return o.String("relationship_type")
	}
	return o.Name()
}

// attackID returns the ATT&CK external id of an object, if it has one.
func attackID(o *stix.Object) string {
	for _, e := range o.ExternalRefs() {
		if strings.HasPrefix(e.SourceName, "mitre-") && e.ExternalID != "" {
			return e.ExternalID
		}
	}
	return ""
}

// ValueResult is what the store knows about one observable value.
type ValueResult struct {
	Value      string `json:"value"`
	Normalized string `json:"normalized"`
	Indicators []Ref  `json:"indicators"`
	Actors     []Ref  `json:"actors"`
	Reports    []Ref  `json:"reports"`
	Related    []Ref  `json:"related,omitempty"` // other objects linked to the matches
}

// Found reports whether anything matched.
func (v *ValueResult) Found() bool { return len(v.Indicators) > 0 }

// actorTypes are the types an "actor" answer is about.
var actorTypes = map[string]bool{"intrusion-set": true, "threat-actor": true}

// Value finds the indicators and observables that mention value, the actors
// and malware they indicate, and the reports that contain them.
func Value(ctx context.Context, r store.Reader, value string, f Filter) (*ValueResult, error) {
	res := &ValueResult{Value: value, Normalized: stix.NormalizeValue(value)}
	recs, err := r.ByValue(ctx, value, 1000)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, rec := range recs {
		if !f.allows(rec) {
			continue
		}
		res.Indicators = append(res.Indicators, refOf(rec))
		ids = append(ids, rec.Object.ID)
	}
	if len(ids) == 0 {
		return res, nil
	}
	edges, err := r.Edges(ctx, ids)
	if err != nil {
		return nil, err
	}
	matched := map[string]bool{}
	for _, id := range ids {
		matched[id] = true
	}
	via := map[string]string{}
	var others []string
	for _, e := range edges {
		other := e.Target
		if matched[other] {
			other = e.Source
		}
		if matched[other] {
			continue
		}
		if _, ok := via[other]; !ok {
			others = append(others, other)
		}
		via[other] = e.Kind
	}
	linked, err := r.Latest(ctx, others)
	if err != nil {
		return nil, err
	}
	for _, rec := range linked {
		if !f.allows(rec) {
			continue
		}
		ref := refOf(rec)
		ref.Via = via[rec.Object.ID]
		switch {
		case actorTypes[rec.Object.Type]:
			res.Actors = append(res.Actors, ref)
		case rec.Object.Type == "report" || rec.Object.Type == "grouping" || rec.Object.Type == "note":
			res.Reports = append(res.Reports, ref)
		case rec.Object.Type == "identity" || rec.Object.Type == "marking-definition":
		default:
			res.Related = append(res.Related, ref)
		}
	}
	sortRefs(res.Actors)
	sortRefs(res.Reports)
	sortRefs(res.Related)
	return res, nil
}

// Wallet is a cryptocurrency address attributed to an actor.
type Wallet struct {
	Address string   `json:"address"`
	Asset   string   `json:"asset,omitempty"`
	Sources []string `json:"sources"` // who lists it: OFAC, GraphSense, MISP…
	TLP     string   `json:"tlp"`
}

// ActorProfile is everything known about one actor and its aliases.
type ActorProfile struct {
	Query      string   `json:"query"`
	Name       string   `json:"name"`
	ExternalID string   `json:"external_id,omitempty"`
	Aliases    []string `json:"aliases"`
	Country    string   `json:"country,omitempty"`
	Objects    []Ref    `json:"objects"` // the actor objects merged into this profile
	Techniques []Ref    `json:"techniques"`
	Software   []Ref    `json:"software"` // malware and tools it uses
	Campaigns  []Ref    `json:"campaigns"`
	Wallets    []Wallet `json:"wallets"`
	Indicators int      `json:"indicators"`
	Reports    []Ref    `json:"reports"`
	Related    []Ref    `json:"related_actors,omitempty"`
}

// Actor builds the profile of the actor known by name. Sources name one
// actor many ways (ATT&CK's "Lazarus Group", MISP's cluster with 41
// synonyms, OFAC's "LAZARUS GROUP", a TagPack's "Lazarus group"): the
// objects matching the name, the objects sharing the primary name of one of
// those, and those that a matched object declares related-to are merged.
// Aliases are not followed transitively: MISP lists APT38 and Andariel as
// synonyms of Lazarus where ATT&CK keeps them apart, and a transitive
// closure would fold half of the DPRK groups into one.
func Actor(ctx context.Context, r store.Reader, name string, f Filter) (*ActorProfile, error) {
	direct, err := actorsNamed(ctx, r, name, f)
	if err != nil {
		return nil, err
	}
	if len(direct) == 0 {
		return nil, fmt.Errorf("%q: %w", name, ErrNoActor)
	}
	group := map[string]store.Record{}
	for _, rec := range direct {
		group[rec.Object.ID] = rec
	}
	for _, rec := range direct {
		more, err := actorsNamed(ctx, r, rec.Object.String("name"), f)
		if err != nil {
			return nil, err
		}
		for _, m := range more {
			group[m.Object.ID] = m
		}
	}
	// Objects a source declares similar (MISP's "similar" clusters) are
	// listed as related, not merged: MISP calls TraderTraitor and Stardust
	// Chollima similar to Lazarus, and ATT&CK keeps them apart.
	ids := keys(group)
	edges, err := r.Edges(ctx, ids)
	if err != nil {
		return nil, err
	}
	var linked []string
	for _, e := range edges {
		if e.Kind != "related-to" && e.Kind != "duplicate-of" && e.Kind != "same-as" {
			continue
		}
		for _, id := range []string{e.Source, e.Target} {
			if _, ok := group[id]; !ok && isActorID(id) {
				linked = append(linked, id)
			}
		}
	}
	related, err := r.Latest(ctx, linked)
	if err != nil {
		return nil, err
	}
	p, err := profile(ctx, r, name, group, f)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, ref := range p.Related {
		seen[ref.ID] = true
	}
	for _, rec := range related {
		if f.allows(rec) && actorTypes[rec.Object.Type] && !seen[rec.Object.ID] {
			seen[rec.Object.ID] = true
			ref := refOf(rec)
			ref.Via = "related-to"
			p.Related = append(p.Related, ref)
		}
	}
	sortRefs(p.Related)
	return p, nil
}

// authority ranks the objects describing one actor for naming the profile:
// ATT&CK's own object first (it carries x_mitre_ properties), then any that
// cites an ATT&CK id, then the rest.
func authority(o *stix.Object) int {
	for _, n := range o.PropNames() {
		if strings.HasPrefix(n, "x_mitre_") {
			return 2
		}
	}
	if attackID(o) != "" {
		return 1
	}
	return 0
}

func isActorID(id string) bool {
	return strings.HasPrefix(id, "intrusion-set--") || strings.HasPrefix(id, "threat-actor--")
}

func actorsNamed(ctx context.Context, r store.Reader, name string, f Filter) ([]store.Record, error) {
	if stix.NormalizeName(name) == "" {
		return nil, nil
	}
	recs, err := r.ByName(ctx, name)
	if err != nil {
		return nil, err
	}
	var out []store.Record
	for _, rec := range recs {
		if actorTypes[rec.Object.Type] && !rec.Object.Revoked && f.allows(rec) {
			out = append(out, rec)
		}
	}
	return out, nil
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// skipTypes are not expanded when walking out of an actor: every object
// points at its creator and markings, which would connect everything.
var skipTypes = []string{"identity--", "marking-definition--"}

func profile(ctx context.Context, r store.Reader, query string, group map[string]store.Record, f Filter) (*ActorProfile, error) {
	p := &ActorProfile{Query: query}
	// The ATT&CK object, when there is one, gives the profile its name.
	ids := keys(group)
	primary := group[ids[0]]
	best := -1
	for _, id := range ids {
		if sc := authority(group[id].Object); sc > best {
			best, primary = sc, group[id]
		}
	}
	p.Name = primary.Object.String("name")
	p.ExternalID = attackID(primary.Object)
	aliasSeen := map[string]bool{stix.NormalizeName(p.Name): true}
	// The primary object's spelling of an alias wins ("ZINC", not "Zinc").
	ordered := append([]string{primary.Object.ID}, ids...)
	doneID := map[string]bool{}
	for _, id := range ordered {
		if doneID[id] {
			continue
		}
		doneID[id] = true
		rec := group[id]
		p.Objects = append(p.Objects, refOf(rec))
		for _, n := range stix.Names(rec.Object) {
			if k := stix.NormalizeName(n); !aliasSeen[k] {
				aliasSeen[k] = true
				p.Aliases = append(p.Aliases, n)
			}
		}
		if c := rec.Object.String("x_bulwark_country"); c != "" && p.Country == "" {
			p.Country = c
		}
	}
	sort.Slice(p.Aliases, func(i, j int) bool { return strings.ToLower(p.Aliases[i]) < strings.ToLower(p.Aliases[j]) })

	// One hop out of every group member, then one more out of its
	// indicators (indicator → based-on → observable, report → indicator).
	hop1, err := neighbours(ctx, r, ids)
	if err != nil {
		return nil, err
	}
	var indicatorIDs []string
	seen := map[string]bool{}
	add := func(list *[]Ref, rec store.Record, via string) {
		if seen[rec.Object.ID] {
			return
		}
		seen[rec.Object.ID] = true
		ref := refOf(rec)
		ref.Via = via
		*list = append(*list, ref)
	}
	for _, n := range hop1 {
		rec := n.rec
		if !f.allows(rec) || rec.Object.Revoked {
			continue
		}
		if _, in := group[rec.Object.ID]; in {
			continue
		}
		switch rec.Object.Type {
		case "attack-pattern":
			add(&p.Techniques, rec, n.kind)
		case "malware", "tool":
			add(&p.Software, rec, n.kind)
		case "campaign":
			add(&p.Campaigns, rec, n.kind)
		case "report", "grouping", "note":
			add(&p.Reports, rec, n.kind)
		case "indicator":
			if !seen[rec.Object.ID] {
				seen[rec.Object.ID] = true
				indicatorIDs = append(indicatorIDs, rec.Object.ID)
			}
		case "intrusion-set", "threat-actor":
			add(&p.Related, rec, n.kind)
		}
	}
	p.Indicators = len(indicatorIDs)
	wallets, err := walletsOf(ctx, r, indicatorIDs, f)
	if err != nil {
		return nil, err
	}
	p.Wallets = wallets
	// Reports that contain the actor's indicators rather than the actor.
	if len(indicatorIDs) > 0 {
		hop2, err := neighbours(ctx, r, indicatorIDs)
		if err != nil {
			return nil, err
		}
		for _, n := range hop2 {
			t := n.rec.Object.Type
			if (t == "report" || t == "grouping") && f.allows(n.rec) {
				add(&p.Reports, n.rec, "contains indicator")
			}
		}
	}
	for _, l := range [][]Ref{p.Techniques, p.Software, p.Campaigns, p.Reports, p.Related} {
		sortRefs(l)
	}
	return p, nil
}

type neighbour struct {
	rec  store.Record
	kind string
}

// neighbours returns the objects one edge away from ids, with the kind of
// the edge, leaving out creators and markings.
func neighbours(ctx context.Context, r store.Reader, ids []string) ([]neighbour, error) {
	edges, err := r.Edges(ctx, ids)
	if err != nil {
		return nil, err
	}
	from := map[string]bool{}
	for _, id := range ids {
		from[id] = true
	}
	kind := map[string]string{}
	var others []string
	for _, e := range edges {
		other := e.Target
		if !from[e.Source] {
			other = e.Source
		}
		if from[other] || skipped(other) {
			continue
		}
		if _, ok := kind[other]; !ok {
			others = append(others, other)
			kind[other] = e.Kind
		}
	}
	recs, err := r.Latest(ctx, others)
	if err != nil {
		return nil, err
	}
	out := make([]neighbour, 0, len(recs))
	for _, rec := range recs {
		out = append(out, neighbour{rec: rec, kind: kind[rec.Object.ID]})
	}
	return out, nil
}

func skipped(id string) bool {
	for _, p := range skipTypes {
		if strings.HasPrefix(id, p) {
			return true
		}
	}
	return false
}

// walletsOf collects the wallet addresses the indicators match, with every
// source in the store that lists each address (not only the one that
// attributed it), so "listed by OFAC" shows even when the attribution came
// from a TagPack.
func walletsOf(ctx context.Context, r store.Reader, indicatorIDs []string, f Filter) ([]Wallet, error) {
	recs, err := r.Latest(ctx, indicatorIDs)
	if err != nil {
		return nil, err
	}
	byAddr := map[string]*Wallet{}
	var order []string
	for _, rec := range recs {
		if !f.allows(rec) {
			continue
		}
		for _, pv := range stix.PatternValues(rec.Object.String("pattern")) {
			if !strings.HasPrefix(pv.Path, "cryptocurrency-wallet:") {
				continue
			}
			if _, ok := byAddr[pv.Value]; !ok {
				byAddr[pv.Value] = &Wallet{Address: pv.Value, Asset: assetOf(rec.Object)}
				order = append(order, pv.Value)
			}
		}
	}
	out := make([]Wallet, 0, len(order))
	creatorOf := map[*Wallet][]string{}
	var creatorIDs []string
	creatorSeen := map[string]bool{}
	for _, addr := range order {
		w := byAddr[addr]
		listed, err := r.ByValue(ctx, addr, 100)
		if err != nil {
			return nil, err
		}
		best := stix.TLPNone
		for _, rec := range listed {
			if !f.allows(rec) {
				continue
			}
			t := rec.EffectiveTLP
			if t == stix.TLPNone {
				t = stix.TLPAmber
			}
			if best == stix.TLPNone || t < best {
				best = t
			}
			if w.Asset == "" {
				w.Asset = assetOf(rec.Object)
			}
			if c := rec.CreatedBy; c != "" {
				creatorOf[w] = append(creatorOf[w], c)
				if !creatorSeen[c] {
					creatorSeen[c] = true
					creatorIDs = append(creatorIDs, c)
				}
			} else if src := feedName(rec.Source); src != "" {
				w.Sources = append(w.Sources, src)
			}
		}
		w.TLP = best.String()
	}
	// Sources are named by the identities that created the listings.
	names := map[string]string{}
	idents, err := r.Latest(ctx, creatorIDs)
	if err != nil {
		return nil, err
	}
	for _, rec := range idents {
		names[rec.Object.ID] = rec.Object.Name()
	}
	for _, addr := range order {
		w := byAddr[addr]
		for _, c := range creatorOf[w] {
			n := names[c]
			if n == "" {
				n = c
			}
			w.Sources = append(w.Sources, n)
		}
		sort.Strings(w.Sources)
		w.Sources = slices.Compact(w.Sources)
		out = append(out, *w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out, nil
}

// assetOf is the currency an importer recorded on a wallet indicator.
func assetOf(o *stix.Object) string {
	if a := o.String("x_bulwark_asset"); a != "" {
		return a
	}
	return strings.ToUpper(o.String("x_bulwark_currency"))
}

// feedName takes the feed's name out of a provenance string ("OFAC SDN
// path:line" → "OFAC SDN"): everything before the first path-like word.
func feedName(prov string) string {
	fields := strings.Fields(prov)
	var name []string
	for _, w := range fields {
		if strings.ContainsAny(w, "/\\") || strings.Contains(w, ":") && strings.IndexByte(w, ':') > 0 && isDigitsSuffix(w) {
			break
		}
		name = append(name, w)
	}
	if len(name) == len(fields) && len(fields) == 1 {
		return prov
	}
	return strings.Join(name, " ")
}

func isDigitsSuffix(w string) bool {
	i := strings.LastIndexByte(w, ':')
	if i < 0 || i == len(w)-1 {
		return false
	}
	for _, c := range w[i+1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func sortRefs(refs []Ref) {
	sort.SliceStable(refs, func(i, j int) bool {
		if refs[i].ExternalID != refs[j].ExternalID {
			if refs[i].ExternalID == "" || refs[j].ExternalID == "" {
				return refs[i].ExternalID != ""
			}
			return refs[i].ExternalID < refs[j].ExternalID
		}
		return strings.ToLower(refs[i].Name) < strings.ToLower(refs[j].Name)
	})
}
