package taint

import (
	"math/bits"
	"slices"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
	"github.com/bulwark-intel/bulwark/internal/huge"
)

// The per-address amounts: with the ledger state (haircut) or the queue
// (FIFO) of a timed trace, in a dense column for an untimed one, in a map
// for timed poison, whose amounts are summed afterwards except the seeds'.

// amountAt returns where v's amount is kept, made on first use; nil when
// it is kept in the map.
func (t *tracer) amountAt(v graph.NodeID) *float64 {
	switch {
	case t.acc != nil:
		return &t.acc.of(v).amt
	case t.queues != nil:
		return &t.queues.of(v).amt
	case t.amount != nil:
		return &t.amount[v]
	}
	return nil
}

func (t *tracer) addAmount(v graph.NodeID, x float64) {
	if p := t.amountAt(v); p != nil {
		*p += x
		return
	}
	t.sparse[v] += x
}

func (t *tracer) setAmount(v graph.NodeID, x float64) {
	if p := t.amountAt(v); p != nil {
		*p = x
		return
	}
	t.sparse[v] = x
}

// amountOf reads v's amount without making state for it.
func (t *tracer) amountOf(v graph.NodeID) float64 {
	switch {
	case t.acc != nil:
		if a := t.acc.get(v); a != nil {
			return a.amt
		}
		return 0
	case t.queues != nil:
		if q := t.queues.get(v); q != nil {
			return q.amt
		}
		return 0
	case t.amount != nil:
		return t.amount[v]
	}
	return t.sparse[v]
}

// other reports whether edge e is outside the traced asset.
func (t *tracer) other(e uint32) bool { return t.filter && t.g.AssetIndex(e) != t.aid }

// seedSchedule returns the seed edges in stream order, so the models can
// handle them at their place in time with one comparison per edge.
func (t *tracer) seedSchedule() []uint32 {
	s := make([]uint32, 0, len(t.seedEdge)+1)
	for e := range t.seedEdge {
		if !t.other(e) {
			s = append(s, e)
		}
	}
	slices.Sort(s)
	return append(s, graph.NoTx) // sentinel past every edge
}

// seedArrive taints the receiver of a seed edge in full.
func (t *tracer) seedArrive(e uint32) (v graph.NodeID, x float64) {
	v = t.g.To(e)
	x = t.seedValue(e)
	t.mark(v, t.next(v, 0), e, t.g.Time(e), false)
	t.addAmount(v, x)
	return v, x
}

// overlapSeed settles a seed transfer of stolen part x whose sender also
// paid out out of taint it held: the receiver's amount is the larger of
// the two (seedArrive added x), and the overlap, counted already where the
// sender's taint was stolen, is not counted again.
func (t *tracer) overlapSeed(v graph.NodeID, x, out float64) {
	if out <= 0 || t.source[v] {
		return
	}
	if out > x {
		t.addAmount(v, out-x)
	}
	t.seedCovered += min(out, x)
}

// poison is the hot loop the benchmarks measure: per edge it reads the two
// endpoints and the sender's hop byte, and only a tainting edge does more.
// What each address received is summed afterwards, for the addresses a
// report asks about (poisonAmount).
func (t *tracer) poison(start, end uint32) {
	if t.opt.MaxHops == Unlimited {
		t.reachStream(start, end)
		return
	}
	t.bySeeds(start, end, t.nearerRange)
	t.scanned = int64(end - start)
	t.sent()
}

// bySeeds cuts the stream from start to end at the seed transfers: scan
// takes each stretch between them, a plain range with no seed to compare
// against, and each seed reaches its receiver at its place in time.
func (t *tracer) bySeeds(start, end uint32, scan func(a, b uint32)) {
	pos := start
	for _, se := range t.seedSchedule() {
		if stop := min(se, end); stop > pos {
			scan(pos, stop)
		}
		if se >= end {
			break
		}
		if se >= pos {
			t.seedArrive(se)
			pos = se + 1
		}
	}
}

// nearerRange is hop-limited poison over transfers a to b.
func (t *tracer) nearerRange(a, b uint32) {
	from, to, tm := t.g.Stream()
	hops, maxH, minV := t.hops, t.maxHops, t.opt.MinValue
	// Into a UTXO transaction's pseudo-node taint keeps its hop count
	// (next): there the scan passes every transfer that might bring it
	// nearer, and the exact test follows.
	d := uint8(1)
	if t.isTx != nil {
		d = 0
	}
	f, g := from[:b], to[:b]
	for i := nearer(hops, f, g, maxH, d, a); i < b; i = nearer(hops, f, g, maxH, d, i+1) {
		if t.other(i) {
			continue
		}
		v := to[i]
		nh := t.next(v, hops[from[i]])
		if nh >= hops[v] { // already as near; a terminal's or new node's byte is high
			continue
		}
		if minV > 0 {
			if x := t.g.Value(i); x < minV {
				t.dropped += x
				continue
			}
		}
		t.mark(v, nh, i, int64(tm[i]), false)
	}
}

// nearer returns the first transfer from j on whose sender is tainted,
// below the hop limit and passing on (its hop byte under maxH: untainted
// and terminals are above) and whose receiver it would bring nearer than
// it is (h+d below the receiver's byte), or len(from). Like crossing, it is
// a function of its own so that its loop keeps its variables in
// registers.
//
//go:noinline
func nearer(hops []uint8, from, to []uint32, maxH, d uint8, j uint32) uint32 {
	n := uint32(len(from))
	if j >= n {
		return n
	}
	f, g := from[j:], to[j:n]
	g = g[:len(f)]
	for k, u := range f {
		if h := hops[u]; h < maxH && h+d < hops[g[k]] {
			return j + uint32(k)
		}
	}
	return n
}

// reachStream is poison without a hop limit: time-respecting reachability
// over the edge stream, testing bits in two bitsets that stay in the core's
// cache. Hop counts are those of the path that first brought the taint.
func (t *tracer) reachStream(start, end uint32) {
	t.bySeeds(start, end, t.reachRange)
	t.scanned = int64(end - start)
	t.lazyOrder = t.marked > 0
	t.sent()
}

func (t *tracer) reachRange(a, b uint32) {
	from, to, _ := t.g.Stream()
	from = from[a:b]
	to = to[a:b]
	seen, term, via, minV := t.seen, t.term, t.via, t.opt.MinValue
	hasTerm := len(t.label) > 0
	for j := crossing(seen, from, to, 0); j < len(from); j = crossing(seen, from, to, j+1) {
		u, v := from[j], to[j]
		i := a + uint32(j)
		if term[u>>6]&(1<<(u&63)) != 0 && t.hops[u] == stopped || t.other(i) {
			continue
		}
		if minV > 0 {
			if x := t.g.Value(i); x < minV {
				t.dropped += x
				continue
			}
		}
		w, bit := v>>6, uint64(1)<<(v&63)
		if hasTerm && term[w]&bit != 0 {
			t.mark(v, 1, i, 0, false) // hop counts come from the path
			continue
		}
		// The order list is rebuilt from the bitset when a result is
		// read (sortOrder), so a new address costs two stores here.
		seen[w] |= bit
		via[v] = i
		t.marked++
	}
}

// crossing returns the first transfer from j on whose sender is in seen
// and receiver is not, or len(from). It is nearly all of an unlimited
// poison trace's time, so it is a function of its own: inlined in
// reachRange's loop, the registers that loop's rare work needs pushed this
// one's variables onto the stack, a store and a load per transfer.
//
//go:noinline
func crossing(seen []uint64, from, to []uint32, j int) int {
	if len(seen) == 0 || j >= len(from) {
		return len(from)
	}
	mask := len(seen) - 1 // a power of two less one (bitsetWords)
	f, g := from[j:], to[j:len(from)]
	g = g[:len(f)]
	for k, u := range f {
		v := g[k]
		// One branch, on "sender tainted and receiver not", which is
		// rare once taint has spread and predictable before. One bitset
		// for both ends keeps the working set in the core's cache;
		// terminals (tainted but passing nothing on) are few and checked
		// by the caller.
		if (seen[int(u>>6)&mask]>>(u&63))&^(seen[int(v>>6)&mask]>>(v&63))&1 != 0 {
			return j + k
		}
	}
	return len(from)
}

// has tests v's bit in a node bitset.
func has(set []uint64, v graph.NodeID) bool { return set[v>>6]&(1<<(v&63)) != 0 }

// tainted reports whether taint reached v.
func (t *tracer) tainted(v graph.NodeID) bool { return int(v) < len(t.hops) && has(t.seen, v) }

// pathBack walks the edges that first brought taint to v back towards a
// seed, receiver end first.
func (t *tracer) pathBack(v graph.NodeID) []uint32 {
	var path []uint32
	for range MaxHopsLimit * 4 {
		if !t.tainted(v) || t.via[v] == NoEdge {
			break
		}
		e := t.via[v]
		path = append(path, e)
		v = t.g.From(e)
	}
	return path
}

// pathHops counts the hops on the path that first brought taint to v;
// transfers into a UTXO transaction's pseudo-node do not count.
func (t *tracer) pathHops(v graph.NodeID) int {
	h := 0
	for _, e := range t.pathBack(v) {
		if t.isTx == nil || !t.isTx[t.g.To(e)] {
			h++
		}
	}
	return min(h, MaxHopsLimit)
}

// poisonAmount sums the tainted transfers v received: those in the window,
// from an address that was tainted before the transfer, not dust.
func (t *tracer) poisonAmount(v graph.NodeID) float64 {
	if t.source[v] {
		return t.amountOf(v)
	}
	var sum float64
	for _, e := range t.g.In(v) {
		if t.seedEdge[e] {
			sum += t.seedValue(e)
			continue
		}
		if e < t.start || e >= t.end || t.other(e) {
			continue
		}
		u := t.g.From(e)
		if !t.tainted(u) || t.hops[u] == stopped || (!t.source[u] && t.via[u] >= e) {
			continue
		}
		// An address at the hop limit passes nothing on (with a limit,
		// hops are the fewest the address was reached by).
		if t.opt.MaxHops != Unlimited && t.hops[u] >= t.maxHops {
			continue
		}
		if x := t.g.Value(e); x >= t.opt.MinValue {
			sum += x
		}
	}
	return sum
}

// sent records what each source paid out in the window, as its amount;
// not what it paid another source, which that source's payments count.
func (t *tracer) sent() {
	for u := range t.source {
		var s float64
		for _, e := range t.g.Out(u) {
			if e >= t.start && e < t.end && !t.other(e) && !t.source[t.g.To(e)] {
				s += t.g.Value(e)
			}
		}
		t.setAmount(u, s)
	}
}

// balanceBefore replays a node's ledger up to edge i and returns what it
// held, taking any payment the graph cannot cover as paid from funds
// received before the graph begins, and all it had received (for the
// proportional shortfall rule). sc is the caller's scratch space.
func (t *tracer) balanceBefore(v graph.NodeID, i uint32, sc *[]float64) (bal, recv float64) {
	in, out := t.g.In(v), t.g.Out(v)
	// The amounts are read first, in one pass that does nothing else, so
	// that their misses (a busy address's transfers lie all over the
	// columns) are under way together; the merge then works in cache.
	vals := grow(*sc, len(in)+len(out))
	*sc = vals
	usd, lo, hi := t.g.Values()
	for k, e := range in {
		if e >= i {
			in = in[:k]
			break
		}
		vals[k] = t.g.ValueAt(usd, lo, hi, e)
	}
	vout := vals[len(in):]
	for k, e := range out {
		if e >= i {
			out = out[:k]
			break
		}
		vout[k] = t.g.ValueAt(usd, lo, hi, e)
	}
	if t.filter {
		for k, e := range in {
			if t.other(e) {
				vals[k] = 0
			}
		}
		for k, e := range out {
			if t.other(e) {
				vout[k] = 0
			}
		}
	}
	vin := vals[:len(in)]
	var b float64
	a := 0
	for c, e := range out {
		for a < len(in) && in[a] <= e {
			b += vin[a]
			recv += vin[a]
			a++
		}
		b = max(0, b-vout[c])
	}
	for _, x := range vin[a:] {
		b += x
		recv += x
	}
	return b, recv
}

// grow returns s with length n, reallocated only when too small.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}

// acct is a tainted address's haircut ledger, kept in one place so an edge
// touches one cache line per end.
type acct struct {
	bal  float64 // what it holds, as far as the graph shows
	held float64 // the tainted part
	recv float64 // all it received
	amt  float64 // the taint it received (the trace's amount)
	// replay, while not 0, is the replay (replay.go) of what the address
	// held before taint reached it: bal and recv hold only what came in
	// since, until its first payment adds the replayed balance to both.
	replay int32
}

// settle adds the replayed balance once it is needed.
func (a *acct) settle(r *replayer) {
	if a.replay != 0 {
		b, recv := r.balance(a.replay)
		a.bal += b
		a.recv += recv
		a.replay = 0
	}
}

// packed holds the haircut or FIFO state of the addresses taint has
// reached, in the order they were reached: a trace touches a few per cent
// of a large graph, and packed state stays in cache where a per-node array
// (32 bytes and more for every address) would cost a memory miss, and a
// page to zero, per touch. A pointer it returns is valid until the next of.
type packed[T any] struct {
	idx []int32 // per node: 1 + index into a, 0 for none
	a   []T
}

func newPacked[T any](nodes int) *packed[T] {
	return &packed[T]{idx: huge.Slice[int32](nodes), a: make([]T, 0, 1024)}
}

// of returns v's state, making it on first use.
func (s *packed[T]) of(v graph.NodeID) *T {
	if i := s.idx[v]; i > 0 {
		return &s.a[i-1]
	}
	var zero T
	s.a = append(s.a, zero)
	s.idx[v] = int32(len(s.a))
	return &s.a[len(s.a)-1]
}

// get returns v's state, nil if it has none.
func (s *packed[T]) get(v graph.NodeID) *T {
	if i := s.idx[v]; i > 0 {
		return &s.a[i-1]
	}
	return nil
}

func (t *tracer) haircut(start, end uint32) {
	st := t.acc
	from, to, tm := t.g.Stream()
	usd, lo, hi := t.g.Values()
	hops, maxH, minV := t.hops, t.maxHops, t.opt.MinValue
	proportional := t.opt.Shortfall == Proportional
	seeds := t.seedSchedule()
	rp := newReplayer(t)
	t.replay = rp
	defer rp.stop()
	k := 0
	for i := range t.touching(st.idx, seeds, start, end) {
		u, v := from[i], to[i]
		hu, hv := hops[u], hops[v]
		if i == seeds[k] {
			k++
			full := t.g.ValueAt(usd, lo, hi, i)
			var out float64 // the sender's taint the transfer carries
			if hu != untainted && hu != stopped && !(hu == 0 && t.source[u]) {
				// A sender taint had reached pays the seed transfer out
				// of what it holds, as any payment.
				a := st.of(u)
				a.settle(rp)
				if b := max(a.bal, full); b > 0 {
					out = min(full, full*a.held/b)
					a.held = max(0, a.held-out)
					a.bal = b - full
				}
			}
			v, x := t.seedArrive(i)
			// The seed's stolen part and the sender's taint overlap: the
			// receiver gets the larger, and stolen counts only the part
			// no earlier seed had counted (seedCovered).
			t.overlapSeed(v, x, out)
			if hops[v] != stopped {
				a := st.of(v)
				if hv == untainted {
					a.replay = rp.request(v, i)
				}
				// x is all of the transfer but for the last of a seed
				// with an amount (Seed.Amount).
				a.bal += full
				a.recv += full
				a.held += max(x, out)
			}
			continue
		}
		x := t.g.ValueAt(usd, lo, hi, i)
		var out float64
		if hu != untainted && hu != stopped {
			if hu == 0 && t.source[u] {
				out = x
			} else {
				a := st.of(u)
				a.settle(rp)
				b := a.bal
				if x > b {
					// A payment beyond what the graph shows: funds the
					// graph missed (swaps, earlier history) paid the rest.
					if proportional && a.recv > 0 {
						extra := (x - b) * min(1, a.amt/a.recv)
						a.held += extra
						t.inferred += extra
					}
					b = x
				}
				if b > 0 {
					out = min(x, x*a.held/b)
				}
				a.held = max(0, a.held-out)
				a.bal = b - x
			}
			if hu >= maxH && out > 0 {
				t.beyond += out
				out = 0
			}
		}
		if out > 0 && out >= minV {
			if nh := t.next(v, hu); nh < hv {
				t.mark(v, nh, i, int64(tm[i]), false)
			}
			a := st.of(v)
			a.amt += out
			if hops[v] != stopped {
				if hv == untainted {
					a.replay = rp.request(v, i)
				}
				a.held += out
				a.bal += x
				a.recv += x
			}
			continue
		}
		if !t.source[v] || !t.source[u] { // one source paying another keeps it among the sources
			t.dropped += out
		}
		if hv != untainted && hv != stopped {
			a := st.of(v)
			a.bal += x
			a.recv += x
		}
	}
	t.scanned = int64(end - start)
	t.sent()
}

// lot is a run of funds in an address's FIFO queue.
type lot struct {
	amt     float64
	tainted bool
}

// lots is a FIFO queue of lots; adjacent lots of one kind are merged, so a
// queue stays as short as the alternation of clean and tainted funds.
type lots struct {
	q    []lot
	head int
	// Everything and the tainted part ever received, for the shortfall
	// rule.
	in, inTainted float64
	// replay, while not 0, is the replay of what the address held before
	// taint reached it (replay.go): the clean lot it makes goes first in
	// the queue when the address first pays.
	replay int32
	open   bool    // open has asked for the replay
	amt    float64 // the taint it received (the trace's amount)
}

// settle puts the replayed balance at the head of the queue. Nothing has
// been drawn yet, so the head is the first lot ever pushed.
func (l *lots) settle(r *replayer) {
	if l.replay == 0 {
		return
	}
	b, recv := r.balance(l.replay)
	l.replay = 0
	l.in += recv
	if b <= 0 {
		return
	}
	if len(l.q) > 0 && !l.q[0].tainted {
		l.q[0].amt += b
		return
	}
	l.q = append(l.q, lot{})
	copy(l.q[1:], l.q)
	l.q[0] = lot{b, false}
}

func (l *lots) push(amt float64, tainted bool) {
	if amt <= 0 {
		return
	}
	l.in += amt
	if tainted {
		l.inTainted += amt
	}
	if n := len(l.q); n > l.head && l.q[n-1].tainted == tainted {
		l.q[n-1].amt += amt
		return
	}
	l.q = append(l.q, lot{amt, tainted})
}

// draw takes x from the head of the queue, appending the lots it takes to
// buf in order. What the queue cannot cover came from funds the graph
// missed: with the proportional rule it is tainted in the share of all the
// address ever received (tainted part first), otherwise clean.
func (l *lots) draw(x float64, buf []lot, proportional bool) ([]lot, float64) {
	var inferred float64
	for x > 0 && l.head < len(l.q) {
		h := &l.q[l.head]
		take := min(h.amt, x)
		buf = append(buf, lot{take, h.tainted})
		h.amt -= take
		x -= take
		if h.amt <= 0 {
			l.head++
		}
	}
	if x > 0 {
		if proportional && l.in > 0 {
			tx := x * min(1, l.inTainted/l.in)
			buf = append(buf, lot{tx, true})
			x -= tx
			inferred = tx
		}
		if x > 0 {
			buf = append(buf, lot{x, false})
		}
	}
	if l.head > 32 && l.head*2 > len(l.q) {
		l.q = append(l.q[:0], l.q[l.head:]...)
		l.head = 0
	}
	return buf, inferred
}

// queueOf returns v's queue, opened at transfer i.
func (t *tracer) queueOf(v graph.NodeID, i uint32) *lots {
	return t.open(t.queues.of(v), v, i)
}

// open asks, the first time, for the replay of what v (whose state q is)
// held before transfer i.
func (t *tracer) open(q *lots, v graph.NodeID, i uint32) *lots {
	if !q.open {
		q.open = true
		q.replay = t.replay.request(v, i)
	}
	return q
}

func (t *tracer) fifo(start, end uint32) {
	t.replay = newReplayer(t)
	defer t.replay.stop()
	from, to, tm := t.g.Stream()
	usd, lo, hi := t.g.Values()
	hops, maxH, minV := t.hops, t.maxHops, t.opt.MinValue
	seeds := t.seedSchedule()
	var buf []lot
	k := 0
	for i := range t.touching(t.queues.idx, seeds, start, end) {
		u, v := from[i], to[i]
		hu, hv := hops[u], hops[v]
		if i == seeds[k] {
			k++
			full := t.g.ValueAt(usd, lo, hi, i)
			var out float64 // the sender's taint the transfer carries
			if hu != untainted && hu != stopped && !(hu == 0 && t.source[u]) {
				// A sender taint had reached pays the seed transfer out
				// of its queue, as any payment.
				q := t.queueOf(u, i)
				q.settle(t.replay)
				buf, _ = q.draw(full, buf[:0], false)
				for _, l := range buf {
					if l.tainted {
						out += l.amt
					}
				}
			}
			_, x := t.seedArrive(i)
			t.overlapSeed(v, x, out) // as in haircut
			if hops[v] != stopped {
				q := t.queueOf(v, i)
				tainted := min(full, max(x, out))
				q.push(tainted, true)
				// The rest of the last transfer of a seed with an amount.
				q.push(full-tainted, false)
			}
			continue
		}
		x := t.g.ValueAt(usd, lo, hi, i)
		buf = buf[:0]
		var out float64
		if hu != untainted && hu != stopped {
			if hu == 0 && t.source[u] {
				buf = append(buf, lot{x, true})
			} else {
				var inferred float64
				q := t.queueOf(u, i)
				q.settle(t.replay)
				buf, inferred = q.draw(x, buf, t.opt.Shortfall == Proportional)
				t.inferred += inferred
			}
			for _, l := range buf {
				if l.tainted {
					out += l.amt
				}
			}
			if hu >= maxH && out > 0 {
				t.beyond += out
				out = 0
			}
		}
		if out > 0 && out >= minV {
			t.mark(v, t.next(v, hu), i, int64(tm[i]), false)
			q := t.queues.of(v)
			q.amt += out
			if hops[v] != stopped {
				t.open(q, v, i)
				for _, l := range buf {
					q.push(l.amt, l.tainted)
				}
			}
			continue
		}
		if !t.source[v] || !t.source[u] { // one source paying another keeps it among the sources
			t.dropped += out
		}
		if hv != untainted && hv != stopped {
			t.queueOf(v, i).push(x, false)
		}
	}
	t.scanned = int64(end - start)
	t.sent()
}

// reach is poison without time: breadth-first over the forward adjacency,
// for graphs whose source has no timestamps (GEXF).
func (t *tracer) reach() {
	hops, maxH, minV := t.hops, t.maxHops, t.opt.MinValue
	queue := slices.Clone(t.order)
	for e := range t.seedEdge {
		if t.other(e) {
			continue
		}
		v, _ := t.seedArrive(e)
		queue = append(queue, v)
	}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		h := hops[u]
		if h >= maxH {
			continue
		}
		for _, e := range t.g.Out(u) {
			t.scanned++
			if t.other(e) {
				continue
			}
			x := t.g.Value(e)
			if x < minV {
				t.dropped += x
				continue
			}
			v := t.g.To(e)
			before := hops[v]
			t.mark(v, t.next(v, h), e, 0, false)
			t.amount[v] += x
			if hops[v] != before && hops[v] != stopped {
				queue = append(queue, v)
			}
		}
	}
	t.sent()
}

// sortOrder rebuilds the list of tainted addresses from the bitset after
// reachStream, when a result is first read: seeds first, then by the edge
// that first brought taint, which is the order they were reached in.
func (t *tracer) sortOrder() {
	if !t.lazyOrder {
		return
	}
	t.lazyOrder = false
	var seeds []graph.NodeID
	keys := make([]uint64, 0, len(t.order)+int(t.marked))
	for w, word := range t.seen {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			word &= word - 1
			v := graph.NodeID(w*64 + b)
			if t.source[v] {
				seeds = append(seeds, v)
				continue
			}
			keys = append(keys, uint64(t.via[v])<<32|uint64(v))
		}
	}
	slices.Sort(seeds)
	slices.Sort(keys)
	order := append(t.order[:0], seeds...)
	for _, k := range keys {
		order = append(order, graph.NodeID(k))
	}
	t.order = order
}

func (t *tracer) result() *Result {
	return &Result{
		Model:    t.opt.Model,
		Dropped:  t.dropped,
		Beyond:   t.beyond,
		Inferred: t.inferred,
		Unsent:   t.unsent,
		Scanned:  t.scanned,
		Graph:    t.g,
		Options:  t.opt,
		t:        t,
	}
}

func (t *tracer) node(v graph.NodeID) Node {
	h := t.hops[v]
	if h == stopped {
		h = t.termH[v]
	}
	n := Node{
		ID:      v,
		Address: t.g.Address(v),
		Amount:  t.amountOf(v),
		First:   t.opt.Start,
		Hops:    int(h),
		Via:     t.via[v],
		Seed:    t.source[v],
	}
	if n.Via != NoEdge && t.g.Timed() {
		n.First = t.g.Time(n.Via)
	}
	if t.opt.MaxHops == Unlimited && t.opt.Model == Poison {
		n.Hops = t.pathHops(v)
	}
	if t.opt.Model == Poison && t.g.Timed() {
		n.Amount = t.poisonAmount(v)
	}
	if l, ok := t.label[v]; ok {
		n.Label = &l
	}
	return n
}
