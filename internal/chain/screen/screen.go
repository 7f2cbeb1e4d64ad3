// Package screen screens cryptocurrency addresses against the wallets the
// store knows: OFAC-listed, attributed to a DPRK actor by a partner, or
// labelled as a mixer, bridge or exchange.
//
// An Index holds every wallet indicator of the store in memory (canonical
// address → listings, each with its indicator, name, creator, labels and
// the facts of the access decision), loaded through a store reader and
// kept current by polling for additions. Screening answers for:
//
//   - direct exposure: the address itself is listed. Sanctioned or
//     actor-attributed listings are severe, perpetrators high, mixers and
//     bridges medium, exchanges low.
//   - indirect exposure, when a transaction graph is attached
//     (Index.AttachGraph): the share of the address's inflow that
//     originates, within a few hops and respecting time, from addresses
//     listed high or severe, by reverse haircut (the model and its worked
//     example head exposure.go).
//
// Access: the index keeps the evidence of every organisation and filters it
// per viewer at answer time with a Policy built from the access service's
// own decision (PolicyFor), so an organisation only gets evidence it may
// see — and indirect exposure counts only sources it may see. Policy
// changes (grants, clearances, tokens) apply to the next request; listing
// changes to the next Update (new objects, versions and revocations) or
// the next reload (objects taken out of a collection).
package screen

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"unsafe"

	"github.com/bulwark-intel/bulwark/internal/chain/address"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

// Risk levels, most severe first.
const (
	Severe = "severe" // sanctioned, or attributed to a threat actor
	High   = "high"   // listed as a perpetrator, or indirect exposure over the high threshold
	Medium = "medium" // a mixer, bridge or other laundering service; indirect exposure over the medium threshold
	Low    = "low"    // a known service such as an exchange; any smaller indirect exposure
	None   = "none"
)

// rankOf orders risk levels; unknown ones rank with none.
func rankOf(risk string) int {
	switch risk {
	case Low:
		return 1
	case Medium:
		return 2
	case High:
		return 3
	case Severe:
		return 4
	}
	return 0
}

// MaxBatch bounds one screening request.
const MaxBatch = 10000

// Reason is one piece of evidence.
type Reason struct {
	Indicator string   `json:"indicator"`
	Name      string   `json:"name,omitempty"`
	Source    string   `json:"source,omitempty"` // who lists it (the creating identity)
	Actor     string   `json:"actor,omitempty"`
	Labels    []string `json:"labels,omitempty"`
	TLP       string   `json:"tlp"`
	Risk      string   `json:"risk"`
	Note      string   `json:"note,omitempty"`
	// Indirect is set for indirect exposure: the indicator, name, source
	// and actor above are then those of the listing the path leads to.
	Indirect *Indirect `json:"indirect,omitempty"`
}

// Result is the answer for one address.
type Result struct {
	Input     string `json:"input"`
	Canonical string `json:"canonical,omitempty"`
	// Chains the address is valid on, most likely first. The slice may be
	// shared between results: do not modify it.
	Chains  []string `json:"chains,omitempty"`
	Risk    string   `json:"risk"`
	Error   string   `json:"error,omitempty"`
	Reasons []Reason `json:"reasons,omitempty"`
	// TLP is the most restrictive marking among the evidence shown.
	TLP string `json:"tlp,omitempty"`
	// key is what the index is searched for when it is not Canonical:
	// address.Fold's form, under which a Bitcoin Cash or Litecoin address
	// finds a listing written in its chain's other encoding.
	key string
}

// lookup is the form r is looked up under.
func (r *Result) lookup() string {
	if r.key != "" {
		return r.key
	}
	return r.Canonical
}

// ErrTooMany is returned for a batch over MaxBatch.
var ErrTooMany = errors.New("too many addresses in one request")

// lockChunk is how many addresses are answered under one hold of the read
// lock, so a long batch never keeps an update (and the requests queued
// behind it) waiting for long.
const lockChunk = 256

// Screen screens each address as the policy's viewer. Invalid addresses
// get Error and risk none; they do not fail the batch.
func (ix *Index) Screen(ctx context.Context, pol Policy, inputs []string) ([]Result, error) {
	var b Batch
	if err := ix.ScreenBatch(ctx, pol, inputs, &b); err != nil {
		return nil, err
	}
	return b.Results, nil
}

// Batch holds the results of a screening and the memory behind them, for
// a caller that is done with the results before it screens again — a
// server encoding them into a response. Screening into a used Batch
// overwrites its results and reuses their memory, so a warm Batch
// allocates nothing; a fresh slab for every call would cost page faults
// and collections at hundreds of thousands of listed addresses a second.
// The zero Batch is ready; a Batch is not safe for concurrent use.
type Batch struct {
	Results []Result
	sc      scratch
}

// ScreenBatch is Screen into b: b.Results holds the results until the
// next call with b.
func (ix *Index) ScreenBatch(ctx context.Context, pol Policy, inputs []string, b *Batch) error {
	if len(inputs) > MaxBatch {
		return ErrTooMany
	}
	out := grow(b.Results, len(inputs))
	b.Results = out
	for i, in := range inputs {
		parseInput(&out[i], in)
	}
	sc := &b.sc
	sc.rewind()
	for start := 0; start < len(out); start += lockChunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		ix.mu.RLock()
		st := ix.st
		v := pol.resolveIn(st, sc.rules)
		sc.rules = v.rules
		st.directBatch(&v, out[start:min(start+lockChunk, len(out))], sc)
		ix.mu.RUnlock()
	}
	if exp := ix.exp.Load(); exp != nil {
		if err := exp.screen(ctx, pol, out); err != nil {
			return err
		}
	}
	return nil
}

// evmChains is the Chains of every EVM address, shared by all results.
var evmChains = func() []string {
	out := make([]string, len(address.EVMChains))
	for i, c := range address.EVMChains {
		out[i] = string(c)
	}
	return out
}()

func parseInput(res *Result, in string) {
	*res = Result{Input: in, Risk: None}
	// Most screened addresses are EVM accounts in their canonical form
	// (0x and 40 lower-case hex digits), which carry no checksum: they are
	// their own canonical form, and skipping the general parser halves the
	// cost of a lookup.
	if canonicalEVM(in) {
		res.Canonical, res.Chains = in, evmChains
		return
	}
	a, err := address.Parse(in)
	if err != nil {
		res.Error = err.Error()
		return
	}
	res.Canonical = a.Canonical
	res.Chains = chainNames(a.Chains)
	res.fold(a)
}

// fold sets r's lookup key from its parsed address: the index keys
// listings by address.Fold.
func (r *Result) fold(a address.Address) {
	if k := address.Fold(a); k != a.Canonical {
		r.key = k
	}
}

// chainNames is chains as strings, shared for the common sets (every
// checksummed EVM address, every address of one chain).
func chainNames(chains []address.Chain) []string {
	if len(chains) == 1 {
		if s, ok := oneChain[chains[0]]; ok {
			return s
		}
	}
	if slices.Equal(chains, address.EVMChains) {
		return evmChains
	}
	out := make([]string, len(chains))
	for i, c := range chains {
		out[i] = string(c)
	}
	return out
}

var oneChain = func() map[address.Chain][]string {
	m := map[address.Chain][]string{}
	for _, c := range append([]address.Chain{address.BTC, address.BCH, address.BSV, address.LTC, address.TRX}, address.EVMChains...) {
		m[c] = []string{string(c)}
	}
	return m
}()

func canonicalEVM(s string) bool {
	if len(s) != 42 || s[0] != '0' || s[1] != 'x' {
		return false
	}
	for i := 2; i < 42; i++ {
		if _, ok := unhex(s[i]); !ok {
			return false
		}
	}
	return true
}

// scratch holds per-call buffers so a lookup allocates nothing.
type scratch struct {
	key   []byte
	lids  []uint32
	found []found

	// batches
	keyBuf []byte
	keys   [][]byte
	which  []int
	tags   []uint32
	refs   []uint32
	hit    []bool
	ptrs   []*byte // records, then listings, to touch
	sink   uint64

	// Slabs the reasons of listed addresses and their indicator ids are
	// carved from, so a hit costs no allocation of its own.
	reasons slabs[Reason]
	idText  slabs[byte]
	rules   []rule // the view's, between batches

	// Source names seen in this batch, by creator: a batch's listings
	// come from a few creators, and each name costs a map lookup and an
	// access decision. Valid while namesOn, for entries of generation
	// nameGen: one batch, under one hold of the lock, for one viewer.
	names   [64]nameSlot
	nameGen uint32
	namesOn bool
}

type nameSlot struct {
	gen, id uint32
	name    string
	tlp     stix.TLP
}

// sourceName is st.visibleName(v, id), remembered for the batch.
func (sc *scratch) sourceName(st *state, v *view, id uint32) (string, stix.TLP) {
	if !sc.namesOn {
		return st.visibleName(v, id)
	}
	e := &sc.names[id%uint32(len(sc.names))]
	if e.gen != sc.nameGen || e.id != id {
		name, tlp := st.visibleName(v, id)
		*e = nameSlot{gen: sc.nameGen, id: id, name: name, tlp: tlp}
	}
	return e.name, e.tlp
}

const slabReasons = 256

// slabs hands out pieces of larger arrays. Until rewind the arrays are
// the results': a full one is dropped for a new one. After rewind (a
// Batch, whose results die before the next call) they are kept and
// handed out again from the first.
type slabs[T any] struct {
	cur  []T
	kept [][]T // nil until rewind
	next int   // kept arrays in use
	keep bool
}

// take returns n elements, zeroed, with their capacity ending at n, so an
// append by the caller copies rather than overwriting a neighbour's.
func (s *slabs[T]) take(n, size int) []T {
	if len(s.cur) < n {
		switch {
		case !s.keep:
			s.cur = make([]T, size)
		case s.next < len(s.kept):
			s.cur = s.kept[s.next]
			s.next++
		default:
			s.cur = make([]T, size)
			s.kept = append(s.kept, s.cur)
			s.next++
		}
	}
	r := s.cur[:n:n]
	s.cur = s.cur[n:]
	clear(r) // a kept array holds what earlier results left there
	return r
}

// rewind makes the arrays free again: the results in them are dead.
func (s *slabs[T]) rewind() { s.cur, s.next, s.keep = nil, 0, true }

// newReasons returns n zero reasons carved from a slab.
func (sc *scratch) newReasons(n int) []Reason {
	if n > slabReasons/4 {
		return make([]Reason, n)
	}
	return sc.reasons.take(n, slabReasons)
}

// rewind frees the slabs for the results of the next call; a scratch
// never rewound keeps none, so the results it made own their slabs.
func (sc *scratch) rewind() {
	sc.reasons.rewind()
	sc.idText.rewind()
}

// indicatorID is st.indicatorID for listing l, its text carved from a
// slab.
func (sc *scratch) indicatorID(st *state, l *listing) string {
	if len(st.oddID) > 0 {
		if s, odd := st.oddID[l.ind]; odd {
			return s
		}
	}
	b := sc.idText.take(indicatorIDLen, slabReasons*indicatorIDLen)
	putIndicatorID(b, &l.uuid)
	// The bytes are not written again before rewind, which the owner of
	// the scratch calls only when the results are dead.
	return unsafe.String(&b[0], len(b))
}

// directBatch is direct for many results, with the table lookups of the
// batch overlapped (addrTable.findBatch).
func (st *state) directBatch(v *view, out []Result, sc *scratch) {
	if sc.nameGen++; sc.nameGen == 0 { // wrapped: old entries could pass
		sc.names, sc.nameGen = [len(sc.names)]nameSlot{}, 1
	}
	sc.namesOn = true
	sc.keyBuf, sc.keys, sc.which = sc.keyBuf[:0], sc.keys[:0], sc.which[:0]
	for i := range out {
		if out[i].Error == "" {
			start := len(sc.keyBuf)
			sc.keyBuf = appendKey(sc.keyBuf, out[i].lookup())
			sc.which = append(sc.which, i)
			sc.keys = append(sc.keys, sc.keyBuf[start:len(sc.keyBuf):len(sc.keyBuf)])
		}
	}
	// keyBuf may have moved while growing: slice the keys again.
	off := 0
	for k := range sc.keys {
		n := len(sc.keys[k])
		sc.keys[k] = sc.keyBuf[off : off+n : off+n]
		off += n
	}
	n := len(sc.keys)
	sc.tags, sc.refs, sc.hit, sc.ptrs = grow(sc.tags, n), grow(sc.refs, n), grow(sc.hit, n), grow(sc.ptrs, n)
	st.addrs.findBatch(sc.keys, sc.tags, sc.refs, sc.hit, sc.ptrs, &sc.sink)
	// Listed addresses go on to their listing (one cache line): touch
	// those of the whole batch first, in a short loop of its own, so that
	// many of the misses are under way at once.
	x := sc.sink
	for k := range sc.which {
		sc.tags[k] = noRef // tags are spent: reuse for the listing
		sc.ptrs[k] = &touchPad
		if sc.hit[k] {
			if w := st.addrs.postings(sc.refs[k]); w&single != 0 {
				sc.tags[k] = w &^ single
				sc.ptrs[k] = &st.listing(sc.tags[k]).grade
			}
		}
	}
	for _, p := range sc.ptrs {
		x ^= uint64(*p)
	}
	sc.sink = x
	for k, i := range sc.which {
		res := &out[i]
		switch {
		case !sc.hit[k]:
			if needsLower(st, sc.keys[k], res.lookup()) {
				st.directRef(v, res, sc, sc.keys[k], noRef)
			}
		case sc.tags[k] != noRef && !needsLower(st, sc.keys[k], res.lookup()):
			// The common hit, one listing under this exact spelling, is
			// directRef without its bookkeeping for many.
			l := st.listing(sc.tags[k])
			if !l.live {
				continue
			}
			eff, ok := v.sees(l.coll, l.tlp, st.strs[l.createdBy], st.sets[l.recips])
			if !ok {
				continue
			}
			res.Reasons = sc.newReasons(1)
			g, tlp := st.fillReason(v, sc, &res.Reasons[0], l, eff, false)
			if rankOf(gradeName[g]) > rankOf(res.Risk) {
				res.Risk = gradeName[g]
			}
			res.TLP = tlp.String()
		default:
			st.directRef(v, res, sc, sc.keys[k], sc.refs[k])
		}
	}
	sc.namesOn = false
}

// needsLower reports whether screening the address of key (lookup form)
// also looks it up lower-cased: some sources lower-case every address,
// which breaks base58 (the OFAC entity map in wide use does). A
// case-insensitive match is still evidence, and two valid base58
// addresses differing only in case do not occur in practice. EVM keys are
// lower case already.
func needsLower(st *state, key []byte, canonical string) bool {
	return len(key) > 0 && key[0] != 0 && len(st.lower) > 0 && hasUpper(canonical)
}

const noRef = ^uint32(0)

// grow returns s with length n, reusing its array when it is large enough.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

type found struct {
	lid uint32
	ind uint32
	eff stix.TLP
	ci  bool // matched ignoring case
}

// direct fills res with the listings of its canonical address the view
// may see. The caller holds the read lock.
func (st *state) direct(v *view, res *Result, sc *scratch) {
	sc.key = appendKey(sc.key[:0], res.lookup())
	ref, ok := st.addrs.find(sc.key)
	if !ok {
		ref = noRef
	}
	st.directRef(v, res, sc, sc.key, ref)
}

// directRef is direct once the canonical key has been looked up: ref is
// its record, or noRef.
func (st *state) directRef(v *view, res *Result, sc *scratch, key []byte, ref uint32) {
	sc.found = sc.found[:0]
	if ref != noRef {
		st.collect(v, sc, ref, false)
	}
	if needsLower(st, key, res.lookup()) {
		sc.key = appendLower(sc.key[:0], res.lookup())
		if _, maybe := st.lower[string(sc.key)]; maybe {
			if ref, ok := st.addrs.find(sc.key); ok {
				st.collect(v, sc, ref, true)
			}
		}
	}
	if len(sc.found) == 0 {
		return
	}
	worst, grade := stix.TLPNone, gNone
	res.Reasons = sc.newReasons(len(sc.found))
	for k, f := range sc.found {
		g, tlp := st.fillReason(v, sc, &res.Reasons[k], st.listing(f.lid), f.eff, f.ci)
		if g > grade {
			grade = g
		}
		worst = max(worst, tlp)
	}
	sortReasons(res.Reasons)
	if rankOf(gradeName[grade]) > rankOf(res.Risk) {
		res.Risk = gradeName[grade]
	}
	res.TLP = worst.String()
}

// fillReason writes the evidence of listing l, seen at effective TLP eff,
// into the zero reason r, and returns its grade and TLP. It fills r in
// place rather than copying a 144-byte reason built on the stack. The
// reason's TLP is the most restricted of what it tells: the listing, and
// the source's name and the actors when it names them (an AMBER actor
// behind a CLEAR listing makes the reason AMBER, so that a viewer who
// passes it on passes it on as AMBER).
func (st *state) fillReason(v *view, sc *scratch, r *Reason, l *listing, eff stix.TLP, ci bool) (uint8, stix.TLP) {
	r.Indicator, r.Name = sc.indicatorID(st, l), st.strs[l.name]
	// Labels is the index's interned slice: results are for encoding and
	// reading only.
	r.Labels = st.sets[l.labels]
	var srcTLP stix.TLP
	r.Source, srcTLP = sc.sourceName(st, v, l.createdBy)
	eff = max(eff, srcTLP)
	if ci {
		r.Note = "matched ignoring case: the source lower-cased this address"
	}
	if l.attributed {
		actors, actorTLP := st.actorsOf(v, r.Indicator)
		if len(actors) > 0 {
			r.Actor, eff = strings.Join(actors, ", "), max(eff, actorTLP)
		}
	}
	r.TLP = eff.String()
	g := l.grade
	if r.Actor != "" {
		g = gSevere
	}
	r.Risk = gradeName[g]
	return g, eff
}

// sortReasons orders reasons most severe first, keeping the order of equal
// ones (an insertion sort: there are few, and sort.SliceStable allocates).
func sortReasons(rs []Reason) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rankOf(rs[j].Risk) > rankOf(rs[j-1].Risk); j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

// appendLower appends the index key of the ASCII-lower-cased s (not an
// EVM address, whose keys are lower case already).
func appendLower(dst []byte, s string) []byte {
	if len(s) > maxKeyLen {
		s = s[:maxKeyLen]
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// collect adds the visible listings of record ref to sc.found, one per
// indicator: the least restricted of its visible listings, as the access
// package's value search picks.
func (st *state) collect(v *view, sc *scratch, ref uint32, ci bool) {
	sc.lids = st.addrs.listings(sc.lids[:0], st.addrs.postings(ref))
next:
	for _, lid := range sc.lids {
		l := st.listing(lid)
		if !l.live {
			continue
		}
		eff, ok := v.sees(l.coll, l.tlp, st.strs[l.createdBy], st.sets[l.recips])
		if !ok {
			continue
		}
		for i := range sc.found {
			f := &sc.found[i]
			if f.ind != l.ind {
				continue
			}
			if (f.ci && !ci) || (f.ci == ci && eff < f.eff) {
				*f = found{lid: lid, ind: l.ind, eff: eff, ci: ci}
			}
			continue next
		}
		sc.found = append(sc.found, found{lid: lid, ind: l.ind, eff: eff, ci: ci})
	}
}

// visibleName is the name of object id (interned) as the viewer may see
// it, or "".
func (st *state) visibleName(v *view, id uint32) (string, stix.TLP) {
	if id == 0 {
		return "", stix.TLPNone
	}
	n := st.named[id]
	if n == nil {
		return "", stix.TLPNone
	}
	name, best := "", stix.TLP(127)
	for i := range n.vers {
		if eff, ok := v.seesFacts(&n.vers[i].visFacts); ok && eff < best {
			name, best = n.vers[i].name, eff
		}
	}
	if name == "" {
		return "", stix.TLPNone
	}
	return name, best
}

// actorsOf names the actors indicator id is attributed to by relationships
// the viewer may see, to actors it may see, sorted; and the TLP that
// naming them carries: for each actor the least restricted relationship
// and name that give it, the most restricted of those over all actors.
func (st *state) actorsOf(v *view, id string) ([]string, stix.TLP) {
	var out []string
	var tlps []stix.TLP
	for _, r := range st.attrs[id] {
		for i := range r.vers {
			rv := &r.vers[i]
			if !rv.live || rv.src != id {
				continue
			}
			relTLP, ok := v.seesFacts(&rv.visFacts)
			if !ok {
				continue
			}
			n, nameTLP := st.visibleName(v, rv.dst)
			if n == "" {
				continue
			}
			t := max(relTLP, nameTLP)
			if k := slices.Index(out, n); k >= 0 {
				tlps[k] = min(tlps[k], t)
				continue
			}
			out, tlps = append(out, n), append(tlps, t)
		}
	}
	worst := stix.TLPNone
	for _, t := range tlps {
		worst = max(worst, t)
	}
	sort.Strings(out)
	return out, worst
}
