package screen

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bulwark-intel/bulwark/internal/chain/address"
	"github.com/bulwark-intel/bulwark/internal/chain/asset"
	"github.com/bulwark-intel/bulwark/internal/chain/graph"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

// Indirect exposure by reverse haircut.
//
// The share of an address's funds that originates from listed addresses
// is, for an address v and a moment (an edge index: the transfer it makes
// onward), taking only the transfers v received before that moment:
//
//	share_k(v) = 1                                     if v is listed high or severe
//	           = Σ value(e) · share_k'(from(e)) / Σ value(e)   over v's in-edges e before the moment
//	           = 0                                     when k = 0 and v is not listed
//
// where k is the number of hops still allowed and k' = k-1, except into a
// UTXO transaction's pseudo-node, which passes its inputs on without
// costing a hop (an address → transaction → address path is one hop).
// Each predecessor's share is taken at the moment it sent the transfer, so
// funds count only if they arrived before they were passed on. The screened
// address's share is share_N over all it received.
//
// Worked example (TestExposureHaircut): S is listed. S pays A 100 at t10
// and a clean address pays A 300 at t20, so A holds 25 % listed funds. A
// pays B 200 at t30 and B later gets 50 clean: B's share is 200·0.25/250 =
// 20 %, high at the default 10 % threshold, with the path S → A → B as
// evidence. S paying A another 400 at t50 raises A's share to 62.5 %, but
// not B's: those funds arrived after A paid B.
//
// Computing it per request touches only the backward cone that can carry
// listed funds. When a graph is attached, one pass over the transfer stream
// computes, per node and hop budget k, the first transfer from which the
// node may hold funds from a listed address within k hops (arr); any
// listing visible to any viewer counts, so this bounds every viewer's
// answer from above. The walk then expands only predecessors that pass
// that test, in decreasing order of their cutoff (which makes each
// (node, hops) state's cutoff final when it is expanded), and a forward
// pass over the cone's transfers in time order evaluates the formula
// exactly. Hubs (exchanges: millions of in-transfers) keep a precomputed
// list of the in-transfers that may carry listed funds, and their inflow
// prefix sums (made on first use, shared by later requests), so they cost
// what their tainted part costs. A work budget
// bounds each address; when it runs out the share is a lower bound and the
// evidence says so. The budget is spent on every branch that may carry
// listed funds for some viewer, so a viewer can see an answer marked
// truncated where listings it may not see took the budget: one bit (that
// such listings may lie within MaxHops), and only when the budget runs out,
// which it did for none of 1,000 random addresses of the 20-million-
// transfer benchmark graph at the default. A budget per viewer would need
// the precomputation per viewer.
//
// Graphs without timestamps (GEXF) are screened by reachability alone: all
// in-transfers count, whatever their order.
//
// Amounts of different assets are not comparable in base units (a USDT
// unit is 10⁻⁶ dollars, a wei 10⁻¹⁸ ether), so unless every transfer has
// a USD value the formula runs once per asset the screened address
// received, over that asset's transfers alone: its share of USDT inflow
// from listed addresses, of ether, and so on. The most severe is the
// exposure, and the evidence names its asset. A token of unknown value
// (not the native coin, not one package asset knows) is graded low at
// most: one unit of a worthless token airdropped from a listed address
// would otherwise be all of that token's inflow, and make any address
// high. Between assets of the same risk and share, the first in the
// graph's order is named, whoever asks.
//
// A Bitcoin Cash or Litecoin address that a merged graph holds under two
// encodings (cashaddr and legacy) is one address: its share is the listed
// funds both nodes received over all that both received.

// ExposureOptions tunes indirect exposure.
type ExposureOptions struct {
	// MaxHops is how far back from a screened address listed funds are
	// looked for. Default 3, at most 16.
	MaxHops int
	// High and Medium are the shares of inflow at or above which exposure
	// is high or medium; any smaller positive share is low. Defaults 0.10
	// and 0.01.
	High, Medium float64
	// Budget bounds the in-transfers examined for one address. Default
	// 200,000.
	Budget int
	// HubDegree is the in-degree from which a node's tainted in-transfers
	// and inflow are precomputed. Default 1024.
	HubDegree int
}

// Exposure screens addresses for indirect exposure through one
// transaction graph. Make one with Index.AttachGraph.
type Exposure struct {
	ix    *Index
	g     *graph.Graph
	opts  ExposureOptions
	nodes int
	isTx  []uint64 // bitset; nil when the graph has no transaction nodes

	mu   sync.Mutex // serialises precomputation
	pre  atomic.Pointer[precomp]
	busy atomic.Bool

	hubMu   sync.Mutex
	hubSums map[uint64]*hubSums // hub node and asset (hubKey) → its inflow in that asset
}

// truncNote ends the note of a share the work budget cut short.
const truncNote = " (at least: the work budget ran out)"

// allAssets is the walker's asset when every transfer counts (USD values).
const allAssets = math.MaxUint32

func hubKey(node, asset uint32) uint64 { return uint64(node)<<32 | uint64(asset) }

// precomp is what one pass over the graph found for one state of the index.
type precomp struct {
	st    *state
	gen   uint64
	src   []uint64 // bitset: nodes listed high or severe for some viewer
	arr   []uint32 // timed: [node*(N+1)+k] = first edge index+1 from which the node may hold listed funds within k hops; 0 never
	lvl   []uint8  // untimed: fewest hops from a listed node; 255 none
	hubIn map[uint32][]uint32
	took  time.Duration
}

// AttachGraph makes screening also report indirect exposure through g (nil
// detaches). The first screening after it, or after the listings change,
// makes one pass over the graph.
func (ix *Index) AttachGraph(g *graph.Graph, opts ExposureOptions) *Exposure {
	if g == nil {
		ix.exp.Store(nil)
		return nil
	}
	if opts.MaxHops <= 0 {
		opts.MaxHops = 3
	}
	opts.MaxHops = min(opts.MaxHops, 16)
	if opts.High <= 0 {
		opts.High = 0.10
	}
	if opts.Medium <= 0 {
		opts.Medium = 0.01
	}
	if opts.Budget <= 0 {
		opts.Budget = 200_000
	}
	if opts.HubDegree <= 0 {
		opts.HubDegree = 1024
	}
	e := &Exposure{ix: ix, g: g, opts: opts, nodes: g.NumNodes(), hubSums: map[uint64]*hubSums{}}
	if g.HasTxNodes() {
		e.isTx = make([]uint64, (e.nodes+63)/64)
		for n := range e.nodes {
			if g.IsTxNode(graph.NodeID(n)) {
				e.isTx[n/64] |= 1 << (n % 64)
			}
		}
	}
	ix.exp.Store(e)
	return e
}

// Exposure returns the attached exposure, or nil.
func (ix *Index) Exposure() *Exposure { return ix.exp.Load() }

func bit(b []uint64, n uint32) bool { return b != nil && b[n/64]&(1<<(n%64)) != 0 }

func (e *Exposure) tx(n uint32) bool { return bit(e.isTx, n) }

// cost is the hops a transfer into n costs.
func (e *Exposure) cost(n uint32) int {
	if e.tx(n) {
		return 0
	}
	return 1
}

// Indirect describes indirect exposure.
type Indirect struct {
	// Share is the part of the address's inflow that originates from
	// listed addresses the viewer may see, within MaxHops.
	Share float64 `json:"share"`
	// Hops is the length of the path below, in transfers between
	// addresses.
	Hops int `json:"hops"`
	// Listed is the listed address the path starts from, and Listing its
	// evidence as the viewer sees it.
	Listed  string   `json:"listed"`
	Listing []Reason `json:"listing,omitempty"`
	// Path is the strongest path of listed funds, hop by hop, from the
	// listed address to the screened one.
	Path []Hop `json:"path"`
	// Truncated: the work budget ran out, so Share is a lower bound.
	Truncated bool `json:"truncated,omitempty"`
	// Asset is the asset whose inflow Share is a part of ("" the native
	// coin, else a token contract); absent when the graph's USD values
	// put all assets in one unit.
	Asset *string `json:"asset,omitempty"`
}

// Hop is one transfer of a path. Through a UTXO transaction, From is the
// input's address and Amount the output's.
type Hop struct {
	From   string  `json:"from"`
	To     string  `json:"to"`
	Tx     string  `json:"tx,omitempty"`
	Time   string  `json:"time,omitempty"` // RFC 3339, UTC
	Amount string  `json:"amount"`         // base units of the asset
	Asset  string  `json:"asset,omitempty"`
	USD    float64 `json:"usd,omitempty"`
}

// ExposureStats describes the precomputation in use.
type ExposureStats struct {
	Sources    int // graph nodes listed high or severe for some viewer
	Hubs       int
	HubEdges   int // in-transfers of hubs that may carry listed funds
	Bytes      int64
	Precompute time.Duration
}

// Stats reports the current precomputation (zero before the first).
func (e *Exposure) Stats() ExposureStats {
	p := e.pre.Load()
	if p == nil {
		return ExposureStats{}
	}
	var s ExposureStats
	for _, w := range p.src {
		s.Sources += popcount(w)
	}
	s.Hubs = len(p.hubIn)
	for _, l := range p.hubIn {
		s.HubEdges += len(l)
	}
	s.Bytes = int64(len(p.src))*8 + int64(len(p.arr))*4 + int64(len(p.lvl)) + int64(s.HubEdges)*4 + int64(len(e.isTx))*8
	s.Precompute = p.took
	return s
}

func popcount(w uint64) int {
	n := 0
	for ; w != 0; w &= w - 1 {
		n++
	}
	return n
}

// ready returns a precomputation, computing the first one now and later
// ones in the background when the listings have changed (until then the
// previous one is used: it may miss a source added since, for as long as
// one pass over the graph takes).
func (e *Exposure) ready(ctx context.Context) (*precomp, error) {
	e.ix.mu.RLock()
	st, gen := e.ix.st, e.ix.st.srcGen
	e.ix.mu.RUnlock()
	p := e.pre.Load()
	if p == nil {
		e.mu.Lock()
		defer e.mu.Unlock()
		if p = e.pre.Load(); p != nil {
			return p, nil
		}
		p, err := e.compute(ctx)
		if err != nil {
			return nil, err
		}
		e.pre.Store(p)
		return p, nil
	}
	if (p.st != st || p.gen != gen) && e.busy.CompareAndSwap(false, true) {
		go func() {
			defer e.busy.Store(false)
			e.mu.Lock()
			defer e.mu.Unlock()
			np, err := e.compute(context.WithoutCancel(ctx))
			if err != nil {
				e.ix.log.Warn("indirect exposure: precomputation failed", "err", err)
				return
			}
			e.pre.Store(np)
		}()
	}
	return p, nil
}

// Precompute makes the pass over the graph now (tools and benchmarks; the
// first screening does it otherwise).
func (e *Exposure) Precompute(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, err := e.compute(ctx)
	if err != nil {
		return err
	}
	e.pre.Store(p)
	return nil
}

func (e *Exposure) compute(ctx context.Context) (*precomp, error) {
	start := time.Now()
	p := &precomp{src: make([]uint64, (e.nodes+63)/64)}
	if err := e.sources(ctx, p); err != nil {
		return nil, err
	}
	if e.g.Timed() {
		e.stream(p)
	} else {
		e.levels(p)
	}
	p.took = time.Since(start)
	return p, nil
}

// sources marks the graph nodes that some listing makes a source: live,
// graded high or severe from its labels, or attributed (which makes it
// severe for a viewer who sees the attribution). The listings are read a
// chunk at a time under the read lock.
func (e *Exposure) sources(ctx context.Context, p *precomp) error {
	lower := map[string]bool{}
	e.ix.mu.RLock()
	st := e.ix.st
	p.st, p.gen = st, st.srcGen
	n := st.nlist
	e.ix.mu.RUnlock()
	for start := uint32(0); start < n; start += listChunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		e.ix.mu.RLock()
		if e.ix.st != st {
			// A rebuild swapped the state: what is marked so far came from
			// the old one, and this precomputation will be redone.
			e.ix.mu.RUnlock()
			return nil
		}
		for lid := start; lid < min(start+listChunk, n); lid++ {
			l := st.listing(lid)
			if !l.live || (l.grade < gHigh && !l.attributed) {
				continue
			}
			for _, ref := range st.refs(l) {
				k := keyString(st.addrs.recKey(ref))
				if nodes := e.nodesOf(k); len(nodes) > 0 {
					for _, node := range nodes {
						p.src[node/64] |= 1 << (node % 64)
					}
				} else if strings.ToLower(k) == k {
					if _, err := address.Parse(k); err != nil {
						lower[k] = true // a lower-cased base58 address, matched ignoring case
					}
				}
			}
		}
		e.ix.mu.RUnlock()
	}
	if len(lower) > 0 {
		for node := range e.nodes {
			a := e.g.Address(graph.NodeID(node))
			if l := strings.ToLower(a); l != a && lower[l] {
				p.src[node/64] |= 1 << (node % 64)
			}
		}
	}
	return nil
}

// stream computes arr in one pass over the time-ordered transfers.
func (e *Exposure) stream(p *precomp) {
	N := e.opts.MaxHops
	W := N + 1
	p.arr = make([]uint32, e.nodes*W)
	p.hubIn = map[uint32][]uint32{}
	from, to, _ := e.g.Stream()
	for i, u := range from {
		ei := uint32(i)
		ku := -1
		if bit(p.src, u) {
			ku = 0
		} else {
			row := p.arr[int(u)*W : int(u)*W+W]
			for k, a := range row {
				if a != 0 && a-1 < ei {
					ku = k
					break
				}
			}
		}
		if ku < 0 {
			continue
		}
		v := to[i]
		row := p.arr[int(v)*W : int(v)*W+W]
		for k := ku + e.cost(v); k <= N; k++ {
			if row[k] == 0 {
				row[k] = ei + 1
			}
		}
		if len(e.g.In(v)) >= e.opts.HubDegree {
			p.hubIn[v] = append(p.hubIn[v], ei)
		}
	}
}

// levels computes, for a graph without time, the fewest hops from a source.
func (e *Exposure) levels(p *precomp) {
	N := e.opts.MaxHops
	p.lvl = make([]uint8, e.nodes)
	for i := range p.lvl {
		p.lvl[i] = 255
	}
	buckets := make([][]uint32, N+1)
	for n := range e.nodes {
		if bit(p.src, uint32(n)) {
			p.lvl[n] = 0
			buckets[0] = append(buckets[0], uint32(n))
		}
	}
	for k := 0; k <= N; k++ {
		for i := 0; i < len(buckets[k]); i++ {
			u := buckets[k][i]
			if int(p.lvl[u]) != k {
				continue
			}
			for _, ed := range e.g.Out(u) {
				v := e.g.To(ed)
				nk := k + e.cost(v)
				if nk <= N && int(p.lvl[v]) > nk {
					p.lvl[v] = uint8(nk)
					buckets[nk] = append(buckets[nk], v)
				}
			}
		}
	}
	p.hubIn = map[uint32][]uint32{}
	for v := range e.nodes {
		in := e.g.In(uint32(v))
		if len(in) < e.opts.HubDegree {
			continue
		}
		for _, ed := range in {
			if p.lvl[e.g.From(ed)] <= uint8(N) {
				p.hubIn[uint32(v)] = append(p.hubIn[uint32(v)], ed)
			}
		}
	}
}

// possible reports whether node u may hold listed funds within k hops
// before edge ed, for some viewer.
func (e *Exposure) possible(p *precomp, u uint32, k int, ed uint32) bool {
	if bit(p.src, u) {
		return true
	}
	if p.lvl != nil {
		return int(p.lvl[u]) <= k
	}
	a := p.arr[int(u)*(e.opts.MaxHops+1)+k]
	return a != 0 && a-1 < ed
}

// screen adds indirect exposure to results that are not listed high or
// severe themselves.
func (e *Exposure) screen(ctx context.Context, pol Policy, out []Result) error {
	var p *precomp
	for i := range out {
		r := &out[i]
		if r.Error != "" || rankOf(r.Risk) >= rankOf(High) {
			continue
		}
		nodes := e.nodesOf(r.Canonical)
		if len(nodes) == 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == nil {
			var err error
			if p, err = e.ready(ctx); err != nil {
				return fmt.Errorf("indirect exposure: %w", err)
			}
		}
		e.ix.mu.RLock()
		st := e.ix.st
		v := pol.resolve(st)
		// One budget for all the walks of an address (per asset, and per
		// node when a merged graph holds it in two encodings): an address
		// that received a thousand airdropped tokens costs what one walk
		// may cost.
		var reason Reason
		found, budget, trunc := false, e.opts.Budget, false
		// Assets in a fixed order, so that between two of the same risk
		// and share the one reported does not depend on which listings
		// made a hub's assets known (some may be hidden from this viewer).
		var assets []uint32
		for _, node := range nodes {
			for _, a := range e.assetsInto(p, node) {
				if !slices.Contains(assets, a) {
					assets = append(assets, a)
				}
			}
		}
		slices.Sort(assets)
		for _, a := range assets {
			r, ok := e.assetReason(p, st, &v, nodes, a, &budget, &trunc)
			if ok && (!found || rankOf(r.Risk) > rankOf(reason.Risk) ||
				(r.Risk == reason.Risk && r.Indirect.Share > reason.Indirect.Share)) {
				reason, found = r, true
			}
			if budget <= 0 {
				break
			}
		}
		e.ix.mu.RUnlock()
		if !found {
			continue
		}
		if trunc && !reason.Indirect.Truncated {
			reason.Indirect.Truncated = true
			reason.Note += truncNote
		}
		r.Reasons = append(r.Reasons, reason)
		if rankOf(reason.Risk) > rankOf(r.Risk) {
			r.Risk = reason.Risk
		}
		if t, err := stix.ParseTLP(reason.TLP); err == nil {
			if cur, err := stix.ParseTLP(r.TLP); err != nil || t > cur {
				r.TLP = reason.TLP
			}
		}
		sortReasons(r.Reasons)
	}
	return nil
}

// assetReason is an address's exposure in asset a, over all the nodes that
// hold it: a merged graph may hold one address under two encodings, and
// it is one address, its share of the inflow of all of them; the evidence
// is the path of the node that brought the most, marked with the most
// restricted listing whose funds count on any. The walks draw on budget;
// trunc is set when it ran out, the share then being a lower bound.
func (e *Exposure) assetReason(p *precomp, st *state, v *view, nodes []uint32, a uint32, budget *int, trunc *bool) (Reason, bool) {
	var best *walker
	var bestRoot int32
	var taint, total, bestTaint float64
	var tlp stix.TLP
	var clean []*walker // nodes no listed funds reached, whose inflow counts too
	for _, node := range nodes {
		w := &walker{e: e, p: p, st: st, v: v, budget: *budget, asset: a, root: node}
		if *budget <= 0 {
			// Out of budget: the node's inflow still counts, as clean.
			clean, *trunc = append(clean, w), true
			continue
		}
		rs, t, in, ok := w.run(node)
		*budget, *trunc = w.budget, *trunc || w.trunc
		if !ok {
			clean = append(clean, w)
			continue
		}
		taint, total = taint+t, total+in
		tlp = max(tlp, w.states[rs].tlp)
		if best == nil || t > bestTaint {
			best, bestRoot, bestTaint = w, rs, t
		}
	}
	if best == nil {
		return Reason{}, false
	}
	for _, w := range clean {
		total += w.inflow(w.root, noCut)
	}
	r := best.reason(bestRoot, math.Min(taint/total, 1))
	r.TLP = tlp.String() // the best node's is one of those tlp covers
	return r, true
}

// nodesOf returns the graph's nodes for an address: under the form given,
// and under the other encodings of its script (a Bitcoin Cash address
// listed in cashaddr may be in the graph in legacy form, or the reverse).
func (e *Exposure) nodesOf(addr string) []uint32 {
	var out []uint32
	if node, ok := e.g.Lookup(addr); ok {
		out = append(out, node)
	}
	if addr == "" || addr[0] == '0' { // EVM and TRON hex have one form
		return out
	}
	if a, err := address.Parse(addr); err == nil {
		for _, alt := range address.Alternatives(a) {
			if node, ok := e.g.Lookup(alt); ok {
				out = append(out, node)
			}
		}
	}
	return out
}

// assetsInto lists the assets node received, each to be screened on its
// own (allAssets alone when the graph's USD values make them one unit).
// For a hub only the assets of the in-transfers that may carry listed
// funds count: an exchange's millions of others cannot give exposure.
func (e *Exposure) assetsInto(p *precomp, node uint32) []uint32 {
	if e.g.HasUSD() || e.g.NumAssets() <= 1 {
		return []uint32{allAssets}
	}
	in := e.g.In(node)
	if len(in) >= e.opts.HubDegree {
		in = p.hubIn[node]
	}
	var out []uint32
	for _, ed := range in {
		if a := e.g.AssetIndex(ed); !slices.Contains(out, a) {
			out = append(out, a)
			if len(out) == e.g.NumAssets() {
				break
			}
		}
	}
	return out
}

// walker computes one address's exposure in one asset.
type walker struct {
	e     *Exposure
	p     *precomp
	st    *state
	v     *view
	sc    scratch
	asset uint32 // the asset followed, or allAssets
	root  uint32 // the node walked back from

	states []wstate
	byKey  map[uint64]int32
	edges  []cedge
	heap   []heapItem
	srcs   map[uint32]int32 // node → index in found sources, -1 when not one
	found  []Result
	sums   map[uint32][]float64
	budget int
	trunc  bool
	maxCut map[uint32]uint32 // node → largest cutoff among its states
}

// heapItem is a state as it was queued; an item whose cutoff is no longer
// the state's is stale and skipped.
type heapItem struct {
	cutoff uint32
	state  int32
}

type wstate struct {
	node    uint32
	level   int8
	src     int32 // index in walker.found, or -1
	cutoff  uint32
	scanned bool
	taint   float64
	tlp     stix.TLP
	first   int32 // first cone edge into this state, -1 none
}

type cedge struct {
	e        uint32
	from, to int32
	next     int32 // next cone edge into the same state
	contrib  float64
}

const noCut = math.MaxUint32

func (w *walker) state(node uint32, level int, cutoff uint32) int32 {
	key := uint64(node)<<8 | uint64(level)
	if i, ok := w.byKey[key]; ok {
		s := &w.states[i]
		if cutoff > s.cutoff && !s.scanned {
			s.cutoff = cutoff
			w.push(i)
		}
		w.noteCut(node, cutoff)
		return i
	}
	i := int32(len(w.states))
	w.states = append(w.states, wstate{node: node, level: int8(level), src: w.source(node), cutoff: cutoff, first: -1})
	w.byKey[key] = i
	w.noteCut(node, cutoff)
	w.push(i)
	return i
}

func (w *walker) noteCut(node, cutoff uint32) {
	if c, ok := w.maxCut[node]; !ok || cutoff > c {
		w.maxCut[node] = cutoff
	}
}

// source returns the evidence index of node when the viewer sees it
// listed high or severe, else -1.
func (w *walker) source(node uint32) int32 {
	if !bit(w.p.src, node) {
		return -1
	}
	if i, ok := w.srcs[node]; ok {
		return i
	}
	res := Result{Canonical: w.e.g.Address(node), Risk: None}
	if c := res.Canonical; c != "" && c[0] != '0' { // EVM and TRON hex fold to themselves
		if a, err := address.Parse(c); err == nil {
			res.fold(a)
		}
	}
	w.st.direct(w.v, &res, &w.sc)
	i := int32(-1)
	if rankOf(res.Risk) >= rankOf(High) {
		i = int32(len(w.found))
		w.found = append(w.found, res)
	}
	w.srcs[node] = i
	return i
}

// The heap orders states by decreasing cutoff.
func (w *walker) push(i int32) {
	w.heap = append(w.heap, heapItem{cutoff: w.states[i].cutoff, state: i})
	j := len(w.heap) - 1
	for j > 0 {
		parent := (j - 1) / 2
		if w.heap[parent].cutoff >= w.heap[j].cutoff {
			break
		}
		w.heap[parent], w.heap[j] = w.heap[j], w.heap[parent]
		j = parent
	}
}

func (w *walker) pop() heapItem {
	h := w.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	j := 0
	for {
		l, r, m := 2*j+1, 2*j+2, j
		if l < len(h) && h[l].cutoff > h[m].cutoff {
			m = l
		}
		if r < len(h) && h[r].cutoff > h[m].cutoff {
			m = r
		}
		if m == j {
			break
		}
		h[j], h[m] = h[m], h[j]
		j = m
	}
	w.heap = h
	return top
}

// inEdges returns the in-edges of node to examine: a hub's precomputed
// tainted ones, or all; those before cutoff.
func (w *walker) inEdges(node, cutoff uint32) []uint32 {
	in, ok := w.p.hubIn[node]
	if !ok {
		in = w.e.g.In(node)
		if len(in) >= w.e.opts.HubDegree {
			in = nil // a hub nothing listed reaches
		}
	}
	if cutoff == noCut || w.p.lvl != nil {
		return in
	}
	n := sort.Search(len(in), func(i int) bool { return in[i] >= cutoff })
	return in[:n]
}

// run walks back from root and returns its state, the listed funds it
// received (taint) and all it received (in the walker's asset); ok is
// false when no listed funds reach it.
func (w *walker) run(root uint32) (rs int32, taint, total float64, ok bool) {
	w.byKey = map[uint64]int32{}
	w.srcs = map[uint32]int32{}
	w.maxCut = map[uint32]uint32{}
	N := w.e.opts.MaxHops
	rs = w.state(root, N, noCut)
	if w.states[rs].src >= 0 {
		return rs, 0, 0, false // listed itself: direct evidence says it all
	}
	// Expand the cone.
	for len(w.heap) > 0 {
		it := w.pop()
		si := it.state
		s := &w.states[si]
		if s.scanned || it.cutoff != s.cutoff {
			continue
		}
		s.scanned = true
		if s.src >= 0 || (s.level == 0 && !w.e.tx(s.node)) {
			continue
		}
		in := w.inEdges(s.node, s.cutoff)
		if len(in) > w.budget {
			w.trunc = true
			continue
		}
		w.budget -= len(in)
		k := int(s.level) - w.e.cost(s.node)
		for _, ed := range in {
			if !w.counts(ed) {
				continue
			}
			u := w.e.g.From(ed)
			if !w.e.possible(w.p, u, k, ed) {
				continue
			}
			cut := ed
			if w.p.lvl != nil {
				cut = noCut
			}
			fi := w.state(u, k, cut) // may grow w.states: no pointer into it is kept
			w.edges = append(w.edges, cedge{e: ed, from: fi, to: si, next: w.states[si].first})
			w.states[si].first = int32(len(w.edges) - 1)
		}
	}
	if len(w.found) == 0 {
		return rs, 0, 0, false
	}
	// Evaluate.
	if w.p.lvl != nil {
		w.evalUntimed()
	} else {
		w.evalTimed()
	}
	total = w.inflow(root, noCut)
	if r := &w.states[rs]; total > 0 && r.taint > 0 {
		return rs, r.taint, total, true
	}
	return rs, 0, 0, false
}

// valued reports whether the walker's asset has a known value: all assets
// in USD, the native coin, or a token package asset knows.
func (w *walker) valued() bool {
	if w.asset == allAssets {
		return true
	}
	name := w.e.g.AssetName(w.asset)
	if name == "" {
		return true
	}
	_, ok := asset.Known(name)
	return ok
}

// counts reports whether transfer ed is of the walker's asset.
func (w *walker) counts(ed uint32) bool {
	return w.asset == allAssets || w.e.g.AssetIndex(ed) == w.asset
}

// share is state si's share at the moment of edge ed (timed), or its final
// share (untimed).
func (w *walker) share(si int32, ed uint32) float64 {
	s := &w.states[si]
	switch {
	case s.src >= 0:
		return 1
	case s.taint <= 0:
		return 0
	}
	cut := ed
	if w.p.lvl != nil {
		cut = noCut
	}
	in := w.inflow(s.node, cut)
	if in <= 0 {
		return 0
	}
	return math.Min(s.taint/in, 1)
}

func (w *walker) tlpOf(si int32) stix.TLP {
	s := &w.states[si]
	if s.src >= 0 {
		t, err := stix.ParseTLP(w.found[s.src].TLP)
		if err != nil {
			return stix.TLPRed
		}
		return t
	}
	return s.tlp
}

func (w *walker) evalTimed() {
	order := make([]int32, len(w.edges))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(w.edges[a].e, w.edges[b].e) })
	// Transfers of one edge index (one transfer seen at several hop
	// budgets) are evaluated before any of them is added, so none sees
	// itself.
	for i := 0; i < len(order); {
		j := i
		for j < len(order) && w.edges[order[j]].e == w.edges[order[i]].e {
			c := &w.edges[order[j]]
			c.contrib = w.e.g.Value(c.e) * w.share(c.from, c.e)
			j++
		}
		for _, ci := range order[i:j] {
			c := &w.edges[ci]
			if c.contrib > 0 {
				t := &w.states[c.to]
				t.taint += c.contrib
				t.tlp = max(t.tlp, w.tlpOf(c.from))
			}
		}
		i = j
	}
}

func (w *walker) evalUntimed() {
	order := make([]int32, len(w.states))
	for i := range order {
		order[i] = int32(i)
	}
	// Lower hop budgets first; within one, addresses before transactions
	// (a transaction's share at budget k uses its inputs' at k).
	slices.SortFunc(order, func(a, b int32) int {
		sa, sb := &w.states[a], &w.states[b]
		if c := cmp.Compare(sa.level, sb.level); c != 0 {
			return c
		}
		return cmp.Compare(b2i(w.e.tx(sa.node)), b2i(w.e.tx(sb.node)))
	})
	for _, si := range order {
		for ci := w.states[si].first; ci >= 0; ci = w.edges[ci].next {
			c := &w.edges[ci]
			c.contrib = w.e.g.Value(c.e) * w.share(c.from, noCut)
			if c.contrib > 0 {
				t := &w.states[si]
				t.taint += c.contrib
				t.tlp = max(t.tlp, w.tlpOf(c.from))
			}
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// inflow is what node received before edge cut (noCut: all).
func (w *walker) inflow(node, cut uint32) float64 {
	in := w.e.g.In(node)
	if len(in) >= w.e.opts.HubDegree {
		h := w.e.hubPrefix(node, w.asset)
		if cut == noCut {
			return h.sums[len(h.sums)-1]
		}
		return h.sums[sort.Search(len(h.in), func(i int) bool { return h.in[i] >= cut })]
	}
	sums, ok := w.sums[node]
	if !ok {
		upto := len(in)
		// Only transfers before the latest cutoff a state of the node has
		// can matter; a node the walk never reached (the other encoding
		// of an address, not walked) counts all it received.
		if c, ok := w.maxCut[node]; ok && c != noCut {
			upto = sort.Search(len(in), func(i int) bool { return in[i] >= c })
		}
		sums = make([]float64, upto+1)
		for i, ed := range in[:upto] {
			sums[i+1] = sums[i]
			if w.counts(ed) {
				sums[i+1] += w.e.g.Value(ed)
			}
		}
		if w.sums == nil {
			w.sums = map[uint32][]float64{}
		}
		w.sums[node] = sums
	}
	if cut == noCut {
		return sums[len(sums)-1]
	}
	n := sort.Search(len(sums)-1, func(i int) bool { return in[i] >= cut })
	return sums[n]
}

// hubSums is a hub's inflow in one asset: its in-transfers of that asset
// and their prefix sums.
type hubSums struct {
	in   []uint32
	sums []float64 // len(in)+1
}

// hubPrefix returns a hub's inflow prefix sums in asset (or allAssets),
// computed once and shared by every request. They cover that asset's
// transfers only, so a hub's sums over all its assets together take one
// entry per in-transfer.
func (e *Exposure) hubPrefix(node, asset uint32) *hubSums {
	key := hubKey(node, asset)
	e.hubMu.Lock()
	h, ok := e.hubSums[key]
	e.hubMu.Unlock()
	if ok {
		return h
	}
	in := e.g.In(node)
	h = &hubSums{in: in}
	if asset != allAssets {
		h.in = nil
		for _, ed := range in {
			if e.g.AssetIndex(ed) == asset {
				h.in = append(h.in, ed)
			}
		}
	}
	h.sums = make([]float64, len(h.in)+1)
	for i, ed := range h.in {
		h.sums[i+1] = h.sums[i] + e.g.Value(ed)
	}
	e.hubMu.Lock()
	e.hubSums[key] = h
	e.hubMu.Unlock()
	return h
}

// reason builds the evidence: the strongest path back to a listed address.
func (w *walker) reason(root int32, share float64) Reason {
	o := w.e.opts
	risk := Low
	switch {
	case !w.valued():
	case share >= o.High:
		risk = High
	case share >= o.Medium:
		risk = Medium
	}
	var path []uint32 // edges, from the screened address backwards
	si, bound := root, uint32(noCut)
	for guard := 0; w.states[si].src < 0 && guard < 4*(o.MaxHops+2); guard++ {
		best, bestC := int32(-1), 0.0
		for ci := w.states[si].first; ci >= 0; ci = w.edges[ci].next {
			c := &w.edges[ci]
			if (w.p.lvl != nil || c.e < bound) && c.contrib > bestC {
				best, bestC = ci, c.contrib
			}
		}
		if best < 0 {
			break
		}
		c := &w.edges[best]
		path = append(path, c.e)
		si, bound = c.from, c.e
	}
	slices.Reverse(path)
	ind := &Indirect{Share: share, Path: w.hops(path), Truncated: w.trunc}
	ind.Hops = len(ind.Path)
	of := "its inflow"
	if w.asset != allAssets {
		name := w.e.g.AssetName(w.asset)
		ind.Asset = &name
		of = "its inflow of " + cmp.Or(name, "the native coin")
	}
	r := Reason{TLP: w.states[root].tlp.String(), Risk: risk, Indirect: ind}
	if s := w.states[si].src; s >= 0 {
		src := &w.found[s]
		ind.Listed, ind.Listing = src.Canonical, src.Reasons
		if len(src.Reasons) > 0 {
			// The most severe listing, attributed ones first.
			top := src.Reasons[0]
			for _, x := range src.Reasons[1:] {
				if x.Risk == top.Risk && x.Actor != "" && top.Actor == "" {
					top = x
				}
			}
			r.Indicator, r.Name, r.Source, r.Actor, r.Labels = top.Indicator, top.Name, top.Source, top.Actor, top.Labels
		}
	}
	pct := share * 100
	r.Note = fmt.Sprintf("%.3g%% of %s comes from listed addresses within %d hops", pct, of, o.MaxHops)
	if !w.valued() {
		r.Note += " (a token of unknown value: graded low at most)"
	}
	if w.trunc {
		r.Note += truncNote
	}
	return r
}

// hops turns a path of edges into hops between addresses, folding UTXO
// transaction pseudo-nodes into the hop's Tx.
func (w *walker) hops(path []uint32) []Hop {
	g := w.e.g
	var out []Hop
	for i := 0; i < len(path); i++ {
		ed := g.Edge(path[i])
		h := Hop{From: g.Address(ed.From), To: g.Address(ed.To), Tx: ed.Tx, Amount: ed.Amount.String(), Asset: ed.Asset}
		if w.e.tx(ed.To) && i+1 < len(path) {
			out2 := g.Edge(path[i+1])
			h.To, h.Amount, h.Asset = g.Address(out2.To), out2.Amount.String(), out2.Asset
			ed = out2
			i++
		}
		if ed.Time > 0 {
			h.Time = time.Unix(ed.Time, 0).UTC().Format(time.RFC3339)
		}
		if ed.HasUSD {
			h.USD = ed.USD
		}
		if h.Tx == "" && w.e.tx(ed.From) {
			h.Tx = strings.TrimPrefix(g.Address(ed.From), graph.TxNodePrefix)
		}
		out = append(out, h)
	}
	return out
}
