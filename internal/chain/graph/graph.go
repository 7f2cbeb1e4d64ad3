// Package graph holds a transfer graph compact enough for hundreds of
// millions of transfers: every transfer (transaction, block, time, from, to,
// asset, exact amount, USD value where known) with forward and backward
// adjacency and interned addresses.
//
// Layout. Transfers are kept in one global order — time, then block, then
// transaction, then the order the loader gave — as parallel arrays (from, to,
// time, amount), so taint models run as one sequential pass over the edge
// stream, which is both the fastest way through memory and the only order in
// which "funds leave an address only after they arrived" is natural. Each
// node's outgoing and incoming edges are lists of edge indices (compressed
// sparse rows), so they are time-ordered too. A transfer costs 32 bytes:
// from, to and time (4 each), the amount (12: 76 bits of amount and a 20-bit
// asset number; larger amounts go to a side table), and one index in each
// adjacency (4 each). Transactions, addresses, assets and USD values live in
// side tables that a snapshot leaves on disk until they are read.
//
// UTXO chains (Bitcoin and its forks) are loaded with one pseudo-node per
// transaction, named "tx:<txid>": inputs flow into it and outputs out of it,
// in input and output order, so per-transaction FIFO is exact.
package graph

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"slices"
	"sort"
	"strings"
)

// TxNodePrefix names the pseudo-node of a UTXO transaction.
const TxNodePrefix = "tx:"

// NoTx marks an edge whose source gave no transaction hash.
const NoTx = math.MaxUint32

const (
	amtHiBits   = 12
	amtHiMask   = 1<<amtHiBits - 1
	amtOverflow = amtHiMask // amtHi low bits all set: amtLo indexes the big table
	// MaxAssets is the number of distinct assets one graph can hold.
	MaxAssets = 1 << (32 - amtHiBits)
	// MaxEdges and MaxNodes are bounded by the 32-bit indices.
	MaxEdges = math.MaxUint32 - 1
	MaxNodes = math.MaxUint32 - 1
)

// Graph is an immutable transfer graph. Its methods are safe for concurrent
// use. A graph is built with a Builder or opened from a snapshot.
type Graph struct {
	timed  bool
	hasUSD bool
	hasTx  bool // some node is a UTXO transaction's pseudo-node

	addrOff []uint64 // len n+1, into addrs
	addrs   []byte
	slots   []uint32 // open addressing: node id + 1, 0 empty; len a power of two

	outOff, inOff []uint32 // len n+1
	outIdx, inIdx []uint32 // edge indices, len E each

	from, to, time []uint32
	amtLo          []uint64
	amtHi          []uint32 // asset<<12 | amount bits 64..75
	usd            []float32

	// Runs of consecutive edges of one transaction (or of edges without
	// one): runFirst is increasing, runTx names the transaction or NoTx. A
	// transaction whose edges are not adjacent has several runs.
	runFirst  []uint32
	runTx     []uint32
	txBlock   []uint64
	txHashOff []uint64 // len ntx+1
	txHash    []byte

	assetOff []uint64
	assets   []byte

	bigOff []uint64 // amounts over 76 bits, big-endian magnitudes
	bigs   []byte
	bigF   []float64 // and their values, for ValueAt (derived, not stored)

	// Labels the sources gave (ground-truth CSV, GEXF): node ids in
	// increasing order and their texts.
	labelNode []uint32
	labelOff  []uint64
	labelText []byte

	closer func() error
}

// NodeID identifies an address (or transaction pseudo-node) in one graph.
type NodeID = uint32

// Edge is one transfer as the graph returns it.
type Edge struct {
	Index  uint32
	From   NodeID
	To     NodeID
	Time   int64
	Block  uint64
	Tx     string
	Asset  string
	Amount Amount
	USD    float64
	HasUSD bool
}

// NumNodes returns the number of interned addresses.
func (g *Graph) NumNodes() int { return len(g.outOff) - 1 }

// NumEdges returns the number of transfers.
func (g *Graph) NumEdges() int { return len(g.from) }

// NumTx returns the number of distinct transactions.
func (g *Graph) NumTx() int { return len(g.txBlock) }

// Timed reports whether the transfers carry timestamps. A graph loaded from a
// source without them (GEXF) can only be traced by reachability.
func (g *Graph) Timed() bool { return g.timed }

// HasTxNodes reports whether any node is a UTXO transaction's pseudo-node,
// so tracers need not look at every address to find out.
func (g *Graph) HasTxNodes() bool { return g.hasTx }

// HasUSD reports whether every transfer carries a USD value.
func (g *Graph) HasUSD() bool { return g.hasUSD }

// Address returns the address of node id.
func (g *Graph) Address(id NodeID) string {
	return string(g.addrs[g.addrOff[id]:g.addrOff[id+1]])
}

func (g *Graph) addrBytes(id NodeID) []byte { return g.addrs[g.addrOff[id]:g.addrOff[id+1]] }

// IsTxNode reports whether id is a UTXO transaction's pseudo-node.
func (g *Graph) IsTxNode(id NodeID) bool {
	return bytes.HasPrefix(g.addrBytes(id), []byte(TxNodePrefix))
}

// Lookup finds the node of an address, as it was given to the builder.
func (g *Graph) Lookup(addr string) (NodeID, bool) {
	if len(g.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(g.slots) - 1)
	for i := fnv1a(addr) & mask; ; i = (i + 1) & mask {
		s := g.slots[i]
		if s == 0 {
			return 0, false
		}
		if string(g.addrBytes(s-1)) == addr {
			return s - 1, true
		}
	}
}

// Label returns the label a source gave the address, or "".
func (g *Graph) Label(id NodeID) string {
	i, ok := slices.BinarySearch(g.labelNode, id)
	if !ok {
		return ""
	}
	return string(g.labelText[g.labelOff[i]:g.labelOff[i+1]])
}

// Labels calls fn for every labelled address, in node order.
func (g *Graph) Labels(fn func(id NodeID, label string)) {
	for i, id := range g.labelNode {
		fn(id, string(g.labelText[g.labelOff[i]:g.labelOff[i+1]]))
	}
}

// Out returns the indices of the transfers sent by id, oldest first. The
// slice belongs to the graph.
func (g *Graph) Out(id NodeID) []uint32 { return g.outIdx[g.outOff[id]:g.outOff[id+1]] }

// In returns the indices of the transfers received by id, oldest first.
func (g *Graph) In(id NodeID) []uint32 { return g.inIdx[g.inOff[id]:g.inOff[id+1]] }

// Stream returns the from, to and time columns in edge order, for the
// sequential passes of the taint models. The slices belong to the graph.
func (g *Graph) Stream() (from, to, time []uint32) { return g.from, g.to, g.time }

// From, To and Time return one column of edge e.
func (g *Graph) From(e uint32) NodeID { return g.from[e] }

// To returns the receiver of edge e.
func (g *Graph) To(e uint32) NodeID { return g.to[e] }

// Time returns the Unix time of edge e.
func (g *Graph) Time(e uint32) int64 { return int64(g.time[e]) }

// FirstAt returns the index of the first edge at or after Unix time t.
func (g *Graph) FirstAt(t int64) uint32 {
	if t <= 0 {
		return 0
	}
	if t > math.MaxUint32 {
		return uint32(len(g.time))
	}
	tt := uint32(t)
	return uint32(sort.Search(len(g.time), func(i int) bool { return g.time[i] >= tt }))
}

// Value returns the value of edge e as a float: its USD value when the whole
// graph has USD values, otherwise its amount in base units. Taint models
// work in this unit.
func (g *Graph) Value(e uint32) float64 {
	if g.hasUSD {
		return float64(g.usd[e])
	}
	hi := g.amtHi[e] & amtHiMask
	if hi == amtOverflow {
		return g.bigF[g.amtLo[e]]
	}
	return float64(hi)*(1<<64) + float64(g.amtLo[e])
}

// Values returns the columns Value reads, for loops that inline it: the
// USD column when the graph has USD values (nil otherwise), and the amount
// columns. Use ValueAt to combine them.
func (g *Graph) Values() (usd []float32, lo []uint64, hi []uint32) {
	if g.hasUSD {
		return g.usd, g.amtLo, g.amtHi
	}
	return nil, g.amtLo, g.amtHi
}

// ValueAt is Value over the columns from Values, small enough to inline
// into the hot loops that call it per transfer.
func (g *Graph) ValueAt(usd []float32, lo []uint64, hi []uint32, e uint32) float64 {
	if usd != nil {
		return float64(usd[e])
	}
	if h := hi[e] & amtHiMask; h != amtOverflow {
		return float64(h)*(1<<64) + float64(lo[e])
	}
	return g.bigF[lo[e]]
}

// deriveBig works out the values of the amounts that do not fit in the
// two columns.
func (g *Graph) deriveBig() {
	g.bigF = make([]float64, len(g.bigOff)-1)
	for i := range g.bigF {
		g.bigF[i] = g.bigAmount(uint64(i)).Float64()
	}
}

// Amount returns the exact amount of edge e.
func (g *Graph) Amount(e uint32) Amount {
	hi := g.amtHi[e] & amtHiMask
	if hi == amtOverflow {
		return g.bigAmount(g.amtLo[e])
	}
	return Amount{hi: uint64(hi), lo: g.amtLo[e]}
}

func (g *Graph) bigAmount(i uint64) Amount {
	a, _ := AmountFromBig(new(big.Int).SetBytes(g.bigs[g.bigOff[i]:g.bigOff[i+1]]))
	return a
}

// AssetIndex returns the number of edge e's asset (0 is the native coin).
func (g *Graph) AssetIndex(e uint32) uint32 { return g.amtHi[e] >> amtHiBits }

// LookupAsset returns the number of an asset ("" for the native coin).
func (g *Graph) LookupAsset(name string) (uint32, bool) {
	for i := 0; i+1 < len(g.assetOff); i++ {
		if string(g.assets[g.assetOff[i]:g.assetOff[i+1]]) == name {
			return uint32(i), true
		}
	}
	return 0, false
}

// NumAssets returns the number of distinct assets, the native coin included.
func (g *Graph) NumAssets() int { return len(g.assetOff) - 1 }

// AssetOf returns the asset of edge e: "" for the native coin.
func (g *Graph) AssetOf(e uint32) string { return g.AssetName(g.AssetIndex(e)) }

// AssetName returns the name of asset number a (see AssetIndex): "" for
// the native coin, else the token contract.
func (g *Graph) AssetName(a uint32) string {
	return string(g.assets[g.assetOff[a]:g.assetOff[a+1]])
}

// TxOf returns the transaction index of edge e, or NoTx.
func (g *Graph) TxOf(e uint32) uint32 {
	i := sort.Search(len(g.runFirst), func(i int) bool { return g.runFirst[i] > e })
	if i == 0 {
		return NoTx
	}
	return g.runTx[i-1]
}

// TxHash returns the hash of transaction t.
func (g *Graph) TxHash(t uint32) string {
	return string(g.txHash[g.txHashOff[t]:g.txHashOff[t+1]])
}

// TxEdges returns the indices of the edges of transaction t, in order. It
// scans the run table, so it is meant for seeds and reports.
func (g *Graph) TxEdges(t uint32) []uint32 {
	var out []uint32
	for i, tx := range g.runTx {
		if tx != t {
			continue
		}
		end := uint32(len(g.from))
		if i+1 < len(g.runFirst) {
			end = g.runFirst[i+1]
		}
		for e := g.runFirst[i]; e < end; e++ {
			out = append(out, e)
		}
	}
	return out
}

// Block returns the block of transaction t.
func (g *Graph) Block(t uint32) uint64 { return g.txBlock[t] }

// LookupTx finds a transaction by hash. It scans the hash table, so it is
// meant for seeds, not hot loops.
func (g *Graph) LookupTx(hash string) (uint32, bool) {
	hash = strings.ToLower(hash)
	h := []byte(hash)
	for t := 0; t+1 < len(g.txHashOff); t++ {
		if bytes.Equal(g.txHash[g.txHashOff[t]:g.txHashOff[t+1]], h) {
			return uint32(t), true
		}
	}
	return 0, false
}

// Edge returns everything known about edge e.
func (g *Graph) Edge(e uint32) Edge {
	ed := Edge{
		Index:  e,
		From:   g.from[e],
		To:     g.to[e],
		Time:   int64(g.time[e]),
		Asset:  g.AssetOf(e),
		Amount: g.Amount(e),
	}
	if g.usd != nil {
		ed.USD, ed.HasUSD = float64(g.usd[e]), !math.IsNaN(float64(g.usd[e]))
	}
	if t := g.TxOf(e); t != NoTx {
		ed.Tx = g.TxHash(t)
		ed.Block = g.txBlock[t]
	}
	return ed
}

// MemoryBytes returns the bytes the graph's columns occupy, by part: edges
// (the 32 bytes per transfer), nodes (addresses, offsets and the lookup
// table) and side tables (transactions, assets, USD values, large amounts).
func (g *Graph) MemoryBytes() (edges, nodes, side int64) {
	u32 := func(s []uint32) int64 { return int64(len(s)) * 4 }
	u64 := func(s []uint64) int64 { return int64(len(s)) * 8 }
	edges = u32(g.from) + u32(g.to) + u32(g.time) + u64(g.amtLo) + u32(g.amtHi) + u32(g.outIdx) + u32(g.inIdx)
	nodes = u64(g.addrOff) + int64(len(g.addrs)) + u32(g.slots) + u32(g.outOff) + u32(g.inOff)
	side = u32(g.runFirst) + u32(g.runTx) + u64(g.txBlock) + u64(g.txHashOff) + int64(len(g.txHash)) +
		u64(g.assetOff) + int64(len(g.assets)) + int64(len(g.usd))*4 + u64(g.bigOff) + int64(len(g.bigs)) +
		u32(g.labelNode) + u64(g.labelOff) + int64(len(g.labelText))
	return edges, nodes, side
}

// Close releases a snapshot's mapping. Slices taken from the graph must not
// be used afterwards.
func (g *Graph) Close() error {
	if g.closer != nil {
		c := g.closer
		g.closer = nil
		return c()
	}
	return nil
}

// fnv1a is FNV-1a, 64 bits: stable across processes, so the lookup table
// can be stored in a snapshot.
func fnv1a[T string | []byte](b T) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(b); i++ {
		h ^= uint64(b[i])
		h *= 1099511628211
	}
	return h
}

// buildSlots makes the open-addressing table for n addresses at a load
// factor of at most one half.
func buildSlots(n int, addr func(i int) []byte) []uint32 {
	size := 1
	for size < 2*n {
		size <<= 1
	}
	if n == 0 {
		size = 1
	}
	slots := make([]uint32, size)
	mask := uint64(size - 1)
	for i := 0; i < n; i++ {
		for j := fnv1a(addr(i)) & mask; ; j = (j + 1) & mask {
			if slots[j] == 0 {
				slots[j] = uint32(i) + 1
				break
			}
		}
	}
	return slots
}

func (g *Graph) String() string {
	return fmt.Sprintf("graph: %d addresses, %d transfers, %d transactions", g.NumNodes(), g.NumEdges(), g.NumTx())
}
