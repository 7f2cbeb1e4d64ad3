package graph

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"strings"
)

// Builder collects transfers and builds a Graph. Transfers may come in any
// order; Build sorts them by time, block and transaction, keeping the order
// the loader gave within a transaction. Builder is not safe for concurrent
// use.
type Builder struct {
	nodes  map[string]uint32
	addrs  []byte
	addrOf []uint64

	assetIDs map[string]uint32
	assets   []string

	txIDs    map[string]uint32
	txHashes []string
	txBlock  []uint64
	txSeq    []uint32 // sequence number of each transaction's first transfer

	from, to, time []uint32
	block          []uint64
	tx             []uint32
	amtLo          []uint64
	amtHi          []uint32
	usd            []float32 // nil until a transfer carries a USD value
	bigs           []*big.Int

	labels map[uint32]string

	untimed  int // transfers with Time 0
	usdCount int
	hasTx    bool
}

// NewBuilder returns an empty builder.
func NewBuilder() *Builder {
	return &Builder{
		nodes:    map[string]uint32{},
		addrOf:   []uint64{0},
		assetIDs: map[string]uint32{"": 0},
		assets:   []string{""},
		txIDs:    map[string]uint32{},
	}
}

// Len returns the number of transfers added so far.
func (b *Builder) Len() int { return len(b.from) }

// Node interns an address and returns its id. Nodes without transfers are
// kept, so a loader may declare addresses (GEXF nodes) before its edges.
func (b *Builder) Node(addr string) (NodeID, error) {
	if id, ok := b.nodes[addr]; ok {
		return id, nil
	}
	if addr == "" {
		return 0, errors.New("empty address")
	}
	if len(b.nodes) >= MaxNodes {
		return 0, fmt.Errorf("more than %d addresses", MaxNodes)
	}
	id := uint32(len(b.nodes))
	b.nodes[addr] = id
	if strings.HasPrefix(addr, TxNodePrefix) {
		b.hasTx = true
	}
	b.addrs = append(b.addrs, addr...)
	b.addrOf = append(b.addrOf, uint64(len(b.addrs)))
	return id, nil
}

// MaxLabelBytes bounds a label's length.
const MaxLabelBytes = 256

// Label records a label for an address (the first one given wins). It
// implements the loaders' Labeler interface.
func (b *Builder) Label(addr, label string) error {
	if label == "" {
		return nil
	}
	id, err := b.Node(addr)
	if err != nil {
		return err
	}
	if b.labels == nil {
		b.labels = map[uint32]string{}
	}
	if _, ok := b.labels[id]; !ok {
		if len(label) > MaxLabelBytes {
			label = label[:MaxLabelBytes]
		}
		b.labels[id] = label
	}
	return nil
}

// AddGraph appends every transfer of g, in g's order, and its labels: a
// graph saved earlier (a snapshot) is extended this way with transfers
// loaded since.
func (b *Builder) AddGraph(g *Graph) error {
	for e := range uint32(g.NumEdges()) {
		ed := g.Edge(e)
		t := Transfer{Tx: ed.Tx, Block: ed.Block, Time: ed.Time, From: g.Address(ed.From), To: g.Address(ed.To),
			Asset: ed.Asset, Amount: ed.Amount, USD: ed.USD, HasUSD: ed.HasUSD}
		if err := b.Add(t); err != nil {
			return fmt.Errorf("transfer %d of the earlier graph: %w", e, err)
		}
	}
	var err error
	g.Labels(func(id NodeID, label string) {
		if err == nil {
			err = b.Label(g.Address(id), label)
		}
	})
	return err
}

// Reset empties the builder, as a new one (a loader starting over).
func (b *Builder) Reset() { *b = *NewBuilder() }

// USDValued returns how many of the transfers added carry a USD value.
func (b *Builder) USDValued() int { return b.usdCount }

// Add appends one transfer. It implements the loaders' sink interface.
func (b *Builder) Add(t Transfer) error {
	if len(b.from) >= MaxEdges {
		return fmt.Errorf("more than %d transfers", MaxEdges)
	}
	if t.Time < 0 || t.Time > math.MaxUint32 {
		return fmt.Errorf("transfer %s: time %d out of range", t.Tx, t.Time)
	}
	// USD values are kept as float32 (graph memory); beyond its range
	// they would turn into infinities.
	if t.HasUSD && (math.IsNaN(t.USD) || t.USD > math.MaxFloat32 || t.USD < 0) {
		return fmt.Errorf("transfer %s: USD value %v", t.Tx, t.USD)
	}
	from, err := b.Node(t.From)
	if err != nil {
		return fmt.Errorf("transfer %s: from: %w", t.Tx, err)
	}
	to, err := b.Node(t.To)
	if err != nil {
		return fmt.Errorf("transfer %s: to: %w", t.Tx, err)
	}
	asset, ok := b.assetIDs[t.Asset]
	if !ok {
		if len(b.assets) >= MaxAssets {
			return fmt.Errorf("transfer %s: more than %d assets", t.Tx, MaxAssets)
		}
		asset = uint32(len(b.assets))
		b.assetIDs[t.Asset] = asset
		b.assets = append(b.assets, t.Asset)
	}
	tx := uint32(NoTx)
	if t.Tx != "" {
		h := strings.ToLower(t.Tx)
		id, ok := b.txIDs[h]
		if !ok {
			id = uint32(len(b.txHashes))
			b.txIDs[h] = id
			b.txHashes = append(b.txHashes, h)
			b.txBlock = append(b.txBlock, t.Block)
			b.txSeq = append(b.txSeq, uint32(len(b.from)))
		}
		tx = id
	}
	lo, hi := t.Amount.lo, uint32(0)
	switch {
	case t.Amount.big != nil || t.Amount.hi >= amtOverflow:
		lo, hi = uint64(len(b.bigs)), amtOverflow
		b.bigs = append(b.bigs, t.Amount.Big())
	default:
		hi = uint32(t.Amount.hi)
	}
	if t.Time == 0 {
		b.untimed++
	}
	if t.HasUSD {
		if b.usd == nil {
			b.usd = make([]float32, len(b.from), cap(b.from))
			for i := range b.usd {
				b.usd[i] = float32(math.NaN())
			}
		}
		b.usdCount++
	}
	if b.usd != nil {
		v := float32(math.NaN())
		if t.HasUSD {
			v = float32(t.USD)
		}
		b.usd = append(b.usd, v)
	}
	b.from = append(b.from, from)
	b.to = append(b.to, to)
	b.time = append(b.time, uint32(t.Time))
	b.block = append(b.block, t.Block)
	b.tx = append(b.tx, tx)
	b.amtLo = append(b.amtLo, lo)
	b.amtHi = append(b.amtHi, asset<<amtHiBits|hi)
	return nil
}

// Build sorts the transfers and returns the graph. The builder is empty
// afterwards and may be reused.
func (b *Builder) Build() *Graph {
	n := len(b.nodes)
	e := len(b.from)
	g := &Graph{
		timed:  e > 0 && b.untimed == 0,
		hasUSD: e > 0 && b.usdCount == e,
		hasTx:  b.hasTx,
	}

	// Order key: time, block, then the position of the transaction's first
	// transfer (so a transaction's transfers stay together where its first
	// one was), then arrival order.
	group := func(i uint32) uint32 {
		if t := b.tx[i]; t != NoTx {
			return b.txSeq[t]
		}
		return i
	}
	less := func(i, j uint32) int {
		if b.time[i] != b.time[j] {
			if b.time[i] < b.time[j] {
				return -1
			}
			return 1
		}
		if b.block[i] != b.block[j] {
			if b.block[i] < b.block[j] {
				return -1
			}
			return 1
		}
		gi, gj := group(i), group(j)
		if gi != gj {
			if gi < gj {
				return -1
			}
			return 1
		}
		switch {
		case i < j:
			return -1
		case i > j:
			return 1
		}
		return 0
	}
	sorted := true
	for i := 1; i < e; i++ {
		if less(uint32(i-1), uint32(i)) > 0 {
			sorted = false
			break
		}
	}
	if !sorted {
		perm := make([]uint32, e)
		for i := range perm {
			perm[i] = uint32(i)
		}
		slices.SortFunc(perm, less)
		b.from = permute(b.from, perm)
		b.to = permute(b.to, perm)
		b.time = permute(b.time, perm)
		b.tx = permute(b.tx, perm)
		b.amtLo = permute(b.amtLo, perm)
		b.amtHi = permute(b.amtHi, perm)
		if b.usd != nil {
			b.usd = permute(b.usd, perm)
		}
	}
	g.from, g.to, g.time = slices.Clip(b.from), slices.Clip(b.to), slices.Clip(b.time)
	g.amtLo, g.amtHi = slices.Clip(b.amtLo), slices.Clip(b.amtHi)
	if b.usd != nil {
		g.usd = slices.Clip(b.usd)
	}

	// Runs of one transaction.
	for i := 0; i < e; i++ {
		if i == 0 || b.tx[i] != b.tx[i-1] {
			g.runFirst = append(g.runFirst, uint32(i))
			g.runTx = append(g.runTx, b.tx[i])
		}
	}
	g.txBlock = b.txBlock
	g.txHashOff = make([]uint64, 1, len(b.txHashes)+1)
	var size int
	for _, h := range b.txHashes {
		size += len(h)
	}
	g.txHash = make([]byte, 0, size)
	for _, h := range b.txHashes {
		g.txHash = append(g.txHash, h...)
		g.txHashOff = append(g.txHashOff, uint64(len(g.txHash)))
	}

	g.assetOff = []uint64{0}
	for _, a := range b.assets {
		g.assets = append(g.assets, a...)
		g.assetOff = append(g.assetOff, uint64(len(g.assets)))
	}
	g.bigOff = []uint64{0}
	for _, v := range b.bigs {
		g.bigs = append(g.bigs, v.Bytes()...)
		g.bigOff = append(g.bigOff, uint64(len(g.bigs)))
	}

	g.labelOff = []uint64{0}
	for _, id := range slices.Sorted(maps.Keys(b.labels)) {
		g.labelNode = append(g.labelNode, id)
		g.labelText = append(g.labelText, b.labels[id]...)
		g.labelOff = append(g.labelOff, uint64(len(g.labelText)))
	}

	g.addrs, g.addrOff = slices.Clip(b.addrs), slices.Clip(b.addrOf)
	g.slots = buildSlots(n, func(i int) []byte { return g.addrs[g.addrOff[i]:g.addrOff[i+1]] })
	g.outOff, g.outIdx = adjacency(n, g.from)
	g.inOff, g.inIdx = adjacency(n, g.to)

	*b = *NewBuilder()
	g.deriveBig()
	return g
}

// adjacency groups edge indices by node with a counting sort; each node's
// list comes out in edge (time) order.
func adjacency(n int, ends []uint32) (off, idx []uint32) {
	off = make([]uint32, n+1)
	for _, v := range ends {
		off[v+1]++
	}
	for i := 1; i <= n; i++ {
		off[i] += off[i-1]
	}
	idx = make([]uint32, len(ends))
	next := make([]uint32, n)
	copy(next, off[:n])
	for e, v := range ends {
		idx[next[v]] = uint32(e)
		next[v]++
	}
	return off, idx
}

func permute[T any](s []T, perm []uint32) []T {
	out := make([]T, len(s))
	for i, p := range perm {
		out[i] = s[p]
	}
	return out
}
