package taint

import (
	"iter"
	"math/bits"
)

// Haircut and FIFO spend most of their time on the few per cent of
// transfers that touch a tainted address, and there on memory misses: the
// amount columns, the hop bytes and the state index, read at places spread
// over hundreds of megabytes. One such transfer comes every few dozen in
// the stream, and the processor's window does not reach the next one
// before its misses stall it, so they are paid one after another.
//
// lookahead takes the stream in blocks: it first picks out the transfers
// of a block that touch an address taint has reached, reading for each
// what the model will need, so that their misses overlap; then the model
// handles just those. Reach only grows, so a pick stays right; when the
// model reaches a new address, the rest of the block is looked at again
// for transfers that now touch taint.
const aheadBlock = 256

type lookahead struct {
	from, to []uint32
	seen     []uint64
	hops     []uint8
	idx      []int32 // the model's packed state index
	// The model's state, one of them, read for each pick with its index.
	queues *packed[lots]
	acc    *packed[acct]
	lo     []uint64
	hi     []uint32
	usd    []float32
	seeds  []uint32 // seed edges in stream order (seedSchedule)

	b, e  uint32 // the block
	pos   uint32 // next transfer to hand out
	mask  [aheadBlock / 64]uint64
	marks int                   // reached addresses when the block was last looked at
	at    [2 * aheadBlock]int32 // look's state indices of the picks' ends
	tail  [2 * aheadBlock][]lot // and their FIFO queues
	sink  uint64
}

// touching yields, in stream order, the transfers from start to end that
// touch taint as it stands when the loop reaches them, and the seeds; not
// those of another asset. idx is the model's state index.
func (t *tracer) touching(idx []int32, seeds []uint32, start, end uint32) iter.Seq[uint32] {
	return func(yield func(uint32) bool) {
		la := t.newLookahead(idx, seeds)
		for blk := start; blk < end; blk += aheadBlock {
			la.block(blk, min(blk+aheadBlock, end), len(t.order))
			for {
				i, ok := la.next(len(t.order))
				if !ok {
					break
				}
				if !t.other(i) && !yield(i) {
					return
				}
			}
		}
	}
}

func (t *tracer) newLookahead(idx []int32, seeds []uint32) *lookahead {
	from, to, _ := t.g.Stream()
	usd, lo, hi := t.g.Values()
	return &lookahead{from: from, to: to, seen: t.seen, hops: t.hops, idx: idx, lo: lo, hi: hi, usd: usd, seeds: seeds,
		queues: t.queues, acc: t.acc}
}

// block starts on transfers b to e (at most aheadBlock of them); reached
// is the number of addresses taint has reached.
func (a *lookahead) block(b, e uint32, reached int) {
	a.b, a.e, a.pos, a.mask, a.marks = b, e, b, [aheadBlock / 64]uint64{}, reached
	a.look(b)
	for len(a.seeds) > 0 && a.seeds[0] < e {
		if s := a.seeds[0]; s >= b {
			a.mask[(s-b)/64] |= 1 << ((s - b) % 64)
		}
		a.seeds = a.seeds[1:]
	}
}

// look picks the transfers from j to the block's end that touch taint,
// then reads what the model will need for them. The reads come after the
// picking, one after another, so that their misses are all under way at
// once; interleaved with it, the processor's window would hold only one or
// two.
func (a *lookahead) look(j uint32) {
	k0 := j - a.b
	// Each mask word is built in a register: or-ing into memory bit by bit
	// would chain every step to the last through a store and a load.
	for k := k0; k < a.e-a.b; {
		end := min(k&^63+64, a.e-a.b)
		a.mask[k/64] |= touchWord(a.seen, a.from[a.b+k:a.b+end], a.to[a.b+k:a.b+end]) << (k % 64)
		k = end
	}
	// The reads go in stages, each over all the picks, because each
	// stage's addresses come from the last's loads: one pick's chain of
	// misses (state index, state, FIFO queue) would otherwise be paid end
	// to end.
	x, np := a.sink, 0
	from, to, hops, idx, at := a.from, a.to, a.hops, a.idx, a.at[:]
	for k := k0 &^ 63; k < a.e-a.b; k += 64 {
		w := a.mask[k/64]
		if k < k0 {
			w &^= 1<<(k0%64) - 1 // picked before j: read already
		}
		for ; w != 0; w &= w - 1 {
			j := a.b + k + uint32(bits.TrailingZeros64(w))
			u, v := from[j], to[j]
			x ^= uint64(hops[u]) ^ uint64(hops[v])
			if a.usd != nil {
				x ^= uint64(a.usd[j])
			} else {
				x ^= a.lo[j] ^ uint64(a.hi[j])
			}
			at[np&(len(at)-1)], at[(np+1)&(len(at)-1)] = idx[u], idx[v]
			np += 2
		}
	}
	switch {
	case a.queues != nil && len(a.queues.a) > 0:
		st := a.queues.a
		for n, i := range a.at[:np] {
			// Index 0 (no state) reads the first state, which is cached.
			a.tail[n] = st[max(i, 1)-1].q
		}
		for _, q := range a.tail[:np] {
			if len(q) > 0 {
				x ^= uint64(q[len(q)-1].amt)
			}
		}
	case a.acc != nil && len(a.acc.a) > 0:
		st := a.acc.a
		for _, i := range a.at[:np] {
			x ^= uint64(st[max(i, 1)-1].bal)
		}
	}
	a.sink = x
}

// next returns the next picked transfer of the block, or false at its
// end. reached is as for block: when it grew, the rest of the block is
// looked at again.
func (a *lookahead) next(reached int) (uint32, bool) {
	if reached != a.marks {
		a.marks = reached
		a.look(a.pos)
	}
	for k := a.pos - a.b; k < a.e-a.b; {
		w := a.mask[k/64] >> (k % 64)
		if w == 0 {
			k = (k/64 + 1) * 64
			continue
		}
		i := a.b + k + uint32(bits.TrailingZeros64(w))
		if i >= a.e {
			break
		}
		a.pos = i + 1
		return i, true
	}
	a.pos = a.e
	return 0, false
}

// touchWord returns a word whose bit n is set when from[n] or to[n] is in
// seen (at most 64 transfers). It is a function of its own, not inlined,
// so that its loop keeps every variable in a register: inside look the
// stages' variables pushed one onto the stack, a store and a load per
// transfer.
//
//go:noinline
func touchWord(seen []uint64, from, to []uint32) uint64 {
	if len(seen) == 0 {
		return 0
	}
	mask := len(seen) - 1 // a power of two less one (bitsetWords)
	to = to[:len(from)]
	var m uint64
	for n, u := range from {
		v := to[n]
		m |= (seen[int(u>>6)&mask]>>(u&63) | seen[int(v>>6)&mask]>>(v&63)) & 1 << (uint(n) & 63)
	}
	return m
}
