// Package taint traces stolen funds forward through a transfer graph under
// the standard taint models. Every model is one pass over the graph's edge
// stream in time order, starting at the theft, so funds only ever leave an
// address after they arrived there.
//
// # Models
//
// Poison: a transfer from a tainted address taints its receiver in full.
// It never misses a path and over-taints quickly. Example: thief T receives
// 100 stolen and 900 clean; T pays A 10 and B 990. Both A and B are
// tainted, with 10 and 990.
//
// Haircut: each payment carries the payer's tainted share at that moment:
// out = value × tainted/balance, and the tainted amount is conserved and
// diluted. Same example: T holds 1000 of which 100 tainted (10%); the 10
// to A carries 1 and the 990 to B carries 99.
//
// FIFO (first in, first out; Clayton's rule): an address's receipts form a
// queue and each payment draws from its head. For UTXO chains the graph's
// per-transaction pseudo-node lines inputs and outputs up in order, so this
// is the per-transaction rule exactly; for account chains it is applied to
// each address's time-ordered ledger. Same example, T received 100 stolen
// first, then 900 clean: the 10 to A is all tainted (10), and the 990 to B
// takes the remaining 90 tainted and 900 clean (90). Had the 900 clean come
// first, A would get 0 and B 100.
//
// # Conventions
//
// A seed address is a source: everything it sends after the start time is
// stolen. A seed transaction taints its transfers in full. Balances are not
// known for funds received before the loaded graph begins: when a payment
// exceeds what the graph shows an address holding, Options.Shortfall says
// what the difference was. By default (Proportional) it is tainted in the
// share of everything the address received, since partial graphs such as
// a laundering ground truth miss stolen funds (swap proceeds, earlier
// legs); with Clean it is clean and taint is exactly conserved, as in the
// textbook models. Result.Inferred and the report's totals say how much
// taint the default inferred. Taint below the minimum value is dropped and
// counted, which keeps dust (and dusting attacks) from spreading taint. Labelled services
// (exchanges, mixers, bridges) are terminals: taint reaching them is
// reported as an exit and not followed further, because an exchange's
// wallets pool everyone's funds. Transfers into a UTXO transaction's
// pseudo-node do not count as a hop.
package taint

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
	"github.com/bulwark-intel/bulwark/internal/huge"
)

// Model selects how taint divides when tainted and clean funds mix.
type Model int

// The models.
const (
	Poison Model = iota
	Haircut
	FIFO
)

func (m Model) String() string {
	switch m {
	case Poison:
		return "poison"
	case Haircut:
		return "haircut"
	case FIFO:
		return "fifo"
	}
	return fmt.Sprintf("model(%d)", int(m))
}

// ParseModel reads a model name.
func ParseModel(s string) (Model, error) {
	switch strings.ToLower(s) {
	case "poison":
		return Poison, nil
	case "haircut":
		return Haircut, nil
	case "fifo":
		return FIFO, nil
	}
	return 0, fmt.Errorf("unknown taint model %q (want poison, haircut or fifo)", s)
}

// Label marks a known service.
type Label struct {
	Kind string // exchange, mixer, bridge, perpetrator, …
	Name string
}

// Terminal reports whether taint stops at a service of this kind.
func (l Label) Terminal() bool {
	switch l.Kind {
	case "exchange", "mixer", "bridge", "service", "defi", "gambling", "payment":
		return true
	}
	return false
}

// Seed is where the stolen funds start.
type Seed struct {
	Address string // a source address: all it sends is stolen
	// Or a transaction: its transfers in the window and the asset followed
	// are stolen (a UTXO transaction's outputs, not the inputs funding
	// them). It must not come before Options.Start. A sender taint had
	// reached pays it out of what it holds, as any payment.
	Tx string
	// Amount, when positive, is how much of an address seed's funds were
	// stolen (in the graph's unit, as Options.MinValue): its payments from
	// the start are stolen until they add up to Amount, the last one in
	// part, and what it pays after that is its own. The stolen funds are
	// taken to leave first, as a thief moves them on before anything else.
	Amount float64
}

// MaxHopsLimit bounds Options.MaxHops (hop counts are kept in a byte).
const MaxHopsLimit = 250

// Unlimited as Options.MaxHops follows taint however far it goes. Hop
// counts are then those of the path that first brought the taint (capped at
// MaxHopsLimit), and poison runs on bitsets small enough for the core's
// own cache.
const Unlimited = -1

// Options parameterise a trace.
type Options struct {
	Model Model
	// Start and End bound the transfers considered, in Unix seconds; End 0
	// means no end. With address seeds, Start is the time of the theft.
	Start, End int64
	// MaxHops stops taint this many transfers from a seed (default 10;
	// Unlimited for none).
	MaxHops int
	// MinValue drops taint smaller than this (in the graph's value unit:
	// USD when the graph has USD values, otherwise base units).
	MinValue float64
	// Labels names services; terminal kinds stop the taint and are
	// reported as exits.
	Labels map[string]Label
	// Shortfall says what a payment beyond an address's visible balance
	// carries (haircut and FIFO).
	Shortfall Shortfall
	// OneAsset restricts the trace to transfers of Asset ("" the native
	// coin, else a token contract). Without USD values, amounts of
	// different assets are not comparable, so a trace follows one.
	OneAsset bool
	Asset    string
}

// Shortfall is the rule for payments the graph cannot cover: the address
// received funds the graph does not show (history before the graph begins,
// swap proceeds from an unlisted contract, another asset).
type Shortfall int

const (
	// Proportional (the default) takes the missing funds to be tainted in
	// the share of everything the address received so far. Ground-truth
	// laundering graphs need it: a laundering address that swaps stolen
	// ETH for USDT pays out USDT the graph never saw arrive.
	Proportional Shortfall = iota
	// Clean takes the missing funds to be clean, so taint is exactly
	// conserved — the textbook haircut and FIFO.
	Clean
)

// Node is one tainted address.
type Node struct {
	ID      graph.NodeID
	Address string
	// Amount is the taint received (poison: the full value of the tainted
	// transfers received).
	Amount float64
	First  int64  // time the first taint arrived
	Hops   int    // fewest transfers from a seed, over the taint received
	Via    uint32 // the edge that first brought taint (graph.NoTx-like NoEdge for seeds)
	Seed   bool
	Label  *Label `json:",omitempty"`
}

// cappedSeed is an address seed with an amount.
type cappedSeed struct {
	id     graph.NodeID
	amount float64
}

// seedValue is the stolen part of seed transfer e.
func (t *tracer) seedValue(e uint32) float64 {
	if x, ok := t.seedPart[e]; ok {
		return x
	}
	return t.g.Value(e)
}

// NoEdge marks a seed's Via.
const NoEdge = math.MaxUint32

// Result is the outcome of a trace. It keeps the tracer's dense arrays and
// builds Node records on demand, so a trace that taints millions of
// addresses costs nothing more until a report asks for them.
type Result struct {
	Model   Model
	Dropped float64 // taint dropped under MinValue
	Beyond  float64 // taint that left an address at the hop limit
	// Inferred is taint assumed for funds the graph does not show, under
	// the Proportional shortfall rule.
	Inferred float64
	// Unsent is the part of the seeds' amounts (Seed.Amount) they did not
	// pay out in the window: it stays with them.
	Unsent  float64
	Scanned int64 // edges examined
	Graph   *graph.Graph
	Options Options
	t       *tracer
}

// Len returns the number of tainted addresses, seeds included.
func (r *Result) Len() int {
	if r.t.lazyOrder {
		return len(r.t.order) + int(r.t.marked)
	}
	return len(r.t.order)
}

// At returns the i-th tainted address: seeds first, then in the order the
// taint reached them.
func (r *Result) At(i int) Node {
	r.t.sortOrder()
	return r.t.node(r.t.order[i])
}

// Node returns the tainted record of id.
func (r *Result) Node(id graph.NodeID) (Node, bool) {
	if !r.t.tainted(id) {
		return Node{}, false
	}
	return r.t.node(id), true
}

// Nodes returns every tainted address whose taint is at least min, in the
// order of At.
func (r *Result) Nodes(min float64) []Node {
	r.t.sortOrder()
	var out []Node
	for _, v := range r.t.order {
		if n := r.t.node(v); n.Amount >= min || n.Seed {
			out = append(out, n)
		}
	}
	return out
}

// Exits returns the tainted addresses that are terminal services.
func (r *Result) Exits() []Node {
	r.t.sortOrder()
	var out []Node
	for _, v := range r.t.order {
		if r.t.hops[v] == stopped {
			out = append(out, r.t.node(v))
		}
	}
	return out
}

// Path returns the edges that first brought taint to id, seed first.
func (r *Result) Path(id graph.NodeID) []uint32 {
	path := r.t.pathBack(id)
	slices.Reverse(path)
	return path
}

const untainted = 255

// stopped marks a terminal's hop byte, so the hot loop's single comparison
// against MaxHops also keeps terminals from passing taint on.
const stopped = 254

// Trace runs one model from the seeds.
func Trace(g *graph.Graph, seeds []Seed, opt Options) (*Result, error) {
	if len(seeds) == 0 {
		return nil, errors.New("no seeds")
	}
	if opt.MaxHops == 0 {
		opt.MaxHops = 10
	}
	if opt.MaxHops < Unlimited || opt.MaxHops > MaxHopsLimit {
		return nil, fmt.Errorf("max hops %d outside 1..%d", opt.MaxHops, MaxHopsLimit)
	}
	if opt.MinValue < 0 || math.IsNaN(opt.MinValue) {
		return nil, fmt.Errorf("minimum value %v", opt.MinValue)
	}
	if opt.Model != Poison && !g.Timed() {
		return nil, fmt.Errorf("the %s model needs timestamps, which this graph lacks; use poison", opt.Model)
	}
	t := newTracer(g, opt)
	if opt.OneAsset {
		aid, ok := g.LookupAsset(opt.Asset)
		if !ok {
			return nil, fmt.Errorf("asset %q has no transfers in the graph", opt.Asset)
		}
		t.filter, t.aid = true, aid
	}
	start, end := uint32(0), uint32(g.NumEdges())
	if g.Timed() {
		start = g.FirstAt(opt.Start)
		if opt.End > 0 {
			end = g.FirstAt(opt.End + 1)
		}
	}
	var seedEdges []uint32
	var capped []cappedSeed
	given := map[graph.NodeID]bool{}
	for _, s := range seeds {
		switch {
		case s.Address != "":
			id, ok := g.Lookup(s.Address)
			if !ok {
				return nil, fmt.Errorf("seed address %s is not in the graph", s.Address)
			}
			if s.Amount < 0 || math.IsNaN(s.Amount) || math.IsInf(s.Amount, 0) {
				return nil, fmt.Errorf("seed address %s: amount %v", s.Address, s.Amount)
			}
			if given[id] {
				return nil, fmt.Errorf("seed address %s given twice", s.Address)
			}
			given[id] = true
			if s.Amount > 0 {
				if !g.Timed() {
					return nil, fmt.Errorf("seed address %s: an amount needs the transfers' times, which this graph lacks", s.Address)
				}
				capped = append(capped, cappedSeed{id, s.Amount})
				continue
			}
			t.source[id] = true
			t.mark(id, 0, NoEdge, opt.Start, true)
		case s.Tx != "":
			tx, ok := g.LookupTx(s.Tx)
			if !ok {
				return nil, fmt.Errorf("seed transaction %s is not in the graph", s.Tx)
			}
			// A UTXO transaction's stolen funds are what it paid out, not
			// also the inputs that funded it; and only its transfers in
			// the window and the asset followed count.
			es := slices.DeleteFunc(slices.Clone(g.TxEdges(tx)), func(e uint32) bool {
				return (g.HasTxNodes() && !g.IsTxNode(g.From(e))) || e >= end || t.other(e)
			})
			if len(es) > 0 && es[0] < start {
				return nil, fmt.Errorf("seed transaction %s is before the start time: start the trace at or before it", s.Tx)
			}
			seedEdges = append(seedEdges, es...)
		default:
			return nil, errors.New("a seed needs an address or a transaction")
		}
	}
	// A seed with an amount is the transfers that carry it: its payments
	// from the start, in order, the last one in part.
	// Stolen funds under the minimum value are dropped, as anywhere.
	for _, c := range capped {
		left := c.amount
		for _, e := range g.Out(c.id) {
			if left <= 0 {
				break
			}
			if e < start || e >= end || t.other(e) {
				continue
			}
			x := g.Value(e)
			part := min(x, left)
			left -= part
			switch {
			case part <= 0: // a zero-value transfer carries nothing
			case part < opt.MinValue:
				// Stolen, then dropped as dust: counted in both.
				t.dropped += part
				t.seedDust += part
			default:
				seedEdges = append(seedEdges, e)
				if part < x {
					t.seedPart[e] = part
				}
			}
		}
		t.unsent += left
	}
	for _, e := range seedEdges {
		t.seedEdge[e] = true
	}
	t.start, t.end = start, end
	if !g.Timed() {
		t.reach()
	} else {
		switch opt.Model {
		case Poison:
			t.poison(start, end)
		case Haircut:
			t.haircut(start, end)
		case FIFO:
			t.fifo(start, end)
		default:
			return nil, fmt.Errorf("unknown model %d", opt.Model)
		}
	}
	return t.result(), nil
}

type tracer struct {
	g        *graph.Graph
	opt      Options
	maxHops  uint8
	hops     []uint8   // untainted, or the fewest hops; stopped for terminals
	amount   []float64 // untimed traces only (see amountAt)
	sparse   map[graph.NodeID]float64
	via      []uint32
	order    []graph.NodeID // tainted nodes in the order they were reached
	isTx     []bool         // nil when the graph has no transaction pseudo-nodes
	label    map[graph.NodeID]Label
	termH    map[graph.NodeID]uint8 // hop counts of terminals (their byte says stopped)
	source   map[graph.NodeID]bool
	seedEdge map[uint32]bool
	seedPart map[uint32]float64 // seed transfers that carry stolen funds in part (Seed.Amount)
	unsent   float64            // of the seeds' amounts, what they did not pay out
	dropped  float64
	scanned  int64

	beyond   float64 // taint that reached the hop limit
	inferred float64 // taint assumed for funds the graph missed (Proportional)
	seedDust float64 // parts of seeds with an amount under MinValue: stolen, and dropped
	// seedCovered is the part of seed transfers that carried taint the
	// sender held from an earlier seed: stolen once, not twice.
	seedCovered float64

	// Bitsets over nodes: tainted; tainted and passing taint on (not a
	// terminal); terminal services. 2 million nodes take 250 KB each.
	seen, prop, term []uint64
	lazyOrder        bool   // order must be rebuilt from the seen bitset
	marked           uint32 // addresses reachStream tainted without listing them
	filter           bool   // only edges of asset aid
	aid              uint32
	start            uint32 // the window of edges traced
	end              uint32

	// Haircut and FIFO state of tainted nodes.
	acc    *packed[acct] // haircut: the ledger and amount of each address reached
	queues *packed[lots] // FIFO: the queue and amount of each address reached
	replay *replayer     // haircut and FIFO: balances before taint (replay.go)
}

func newTracer(g *graph.Graph, opt Options) *tracer {
	n := g.NumNodes()
	t := &tracer{
		g:        g,
		opt:      opt,
		maxHops:  uint8(max(opt.MaxHops, 0)),
		hops:     huge.Slice[uint8](n),
		sparse:   map[graph.NodeID]float64{},
		via:      huge.Slice[uint32](n),
		label:    map[graph.NodeID]Label{},
		termH:    map[graph.NodeID]uint8{},
		source:   map[graph.NodeID]bool{},
		seedEdge: map[uint32]bool{},
		seedPart: map[uint32]float64{},
	}
	if opt.MaxHops == Unlimited {
		t.maxHops = MaxHopsLimit + 1
	}
	switch {
	case opt.Model == Haircut && g.Timed():
		t.acc = newPacked[acct](n)
	case opt.Model == FIFO && g.Timed():
		t.queues = newPacked[lots](n)
	case opt.Model != Poison || !g.Timed():
		t.amount = make([]float64, n)
	}
	for i := range t.hops {
		t.hops[i] = untainted
	}
	words := bitsetWords(n)
	t.seen, t.prop, t.term = make([]uint64, words), make([]uint64, words), make([]uint64, words)
	for addr, l := range opt.Labels {
		if id, ok := g.Lookup(addr); ok {
			t.label[id] = l
			if l.Terminal() {
				t.term[id>>6] |= 1 << (id & 63)
			}
		}
	}
	if g.HasTxNodes() {
		t.isTx = make([]bool, n)
		for id := graph.NodeID(0); id < graph.NodeID(n); id++ {
			t.isTx[id] = g.IsTxNode(id)
		}
	}
	return t
}

// bitsetWords sizes a bitset over n nodes: a power of two words, so the
// hot loops index it with a mask instead of a bounds check (ids are below
// n, which the mask leaves as they are).
func bitsetWords(n int) int { return 1 << bits.Len(uint(n/64)) }

// mark records taint arriving at v with h hops over edge e at time ts.
func (t *tracer) mark(v graph.NodeID, h uint8, e uint32, ts int64, seed bool) {
	if h > MaxHopsLimit {
		h = MaxHopsLimit
	}
	switch cur := t.hops[v]; {
	case cur == untainted:
		if t.seen[v>>6]&(1<<(v&63)) != 0 {
			// Reached already by unlimited poison's stream pass
			// (reachRange), which keeps no hop bytes: taint came earlier
			// by the path it recorded.
			return
		}
		t.order = append(t.order, v)
		t.via[v] = e
		w, bit := v>>6, uint64(1)<<(v&63)
		t.seen[w] |= bit
		if t.term[w]&bit != 0 && !seed {
			t.hops[v] = stopped
			t.termH[v] = h
			return
		}
		t.prop[w] |= bit
		t.hops[v] = h
	case cur == stopped:
		if h < t.termH[v] {
			t.termH[v] = h
		}
	case h < cur:
		t.hops[v] = h
	}
}

// next returns the hop count of taint passing to v from a node at h hops:
// one more, except into a UTXO transaction's pseudo-node.
func (t *tracer) next(v graph.NodeID, h uint8) uint8 {
	if t.isTx != nil && t.isTx[v] {
		return h
	}
	return h + 1
}
