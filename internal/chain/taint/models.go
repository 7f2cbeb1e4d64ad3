package taint

import (
	"slices"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// seedSchedule returns the seed edges in stream order, so the models can
// handle them at their place in time with one comparison per edge.
func (t *tracer) seedSchedule() []uint32 {
	s := make([]uint32, 0, len(t.seedEdge)+1)
	for e := range t.seedEdge {
		s = append(s, e)
	}
	slices.Sort(s)
	return append(s, graph.NoTx) // sentinel past every edge
}

// seedArrive taints the receiver of a seed edge in full.
func (t *tracer) seedArrive(e uint32) (v graph.NodeID, x float64) {
	v = t.g.To(e)
	x = t.g.Value(e)
	t.mark(v, t.next(v, 0), e, t.g.Time(e), false)
	t.amount[v] += x
	return v, x
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
	from, to, tm := t.g.Stream()
	hops, maxH, minV := t.hops, t.maxHops, t.opt.MinValue
	seeds := t.seedSchedule()
	k := 0
	for i := start; i < end; i++ {
		if i == seeds[k] {
			k++
			t.seedArrive(i)
			continue
		}
		h := hops[from[i]]
		if h >= maxH { // untainted, a terminal, or at the hop limit
			continue
		}
		v := to[i]
		nh := h + 1
		if t.isTx != nil && t.isTx[v] {
			nh = h
		}
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
	t.scanned = int64(end - start)
	t.sent()
}

// reachStream is poison without a hop limit: time-respecting reachability
// over the edge stream, testing bits in two bitsets that stay in the core's
// cache. Hop counts are those of the path that first brought the taint.
func (t *tracer) reachStream(start, end uint32) {
	from, to, _ := t.g.Stream()
	seen, prop, term, via, minV := t.seen, t.prop, t.term, t.via, t.opt.MinValue
	seeds := t.seedSchedule()
	k := 0
	for i := start; i < end; i++ {
		if i == seeds[k] {
			k++
			t.seedArrive(i)
			continue
		}
		u, v := from[i], to[i]
		// Branch once, on "sender passes taint and receiver has none",
		// which is rare once taint has spread and predictable before.
		if (prop[u>>6]>>(u&63))&^(seen[v>>6]>>(v&63))&1 == 0 {
			continue
		}
		if minV > 0 {
			if x := t.g.Value(i); x < minV {
				t.dropped += x
				continue
			}
		}
		w, bit := v>>6, uint64(1)<<(v&63)
		if term[w]&bit != 0 {
			t.mark(v, 1, i, 0, false) // hop counts come from the path
			continue
		}
		seen[w] |= bit
		prop[w] |= bit
		via[v] = i
		t.order = append(t.order, v)
	}
	t.scanned = int64(end - start)
	t.sent()
}

// tainted reports whether taint reached v.
func (t *tracer) tainted(v graph.NodeID) bool {
	return int(v) < len(t.hops) && t.seen[v>>6]&(1<<(v&63)) != 0
}

// pathHops counts the hops on the path that first brought taint to v.
func (t *tracer) pathHops(v graph.NodeID) int {
	h := 0
	for range MaxHopsLimit * 4 {
		e := t.via[v]
		if e == NoEdge || h >= MaxHopsLimit {
			break
		}
		if t.isTx == nil || !t.isTx[v] {
			h++
		}
		v = t.g.From(e)
		if !t.tainted(v) {
			break // a seed transaction's sender
		}
	}
	return h
}

// poisonAmount sums the tainted transfers v received: those in the window,
// from an address that was tainted before the transfer, not dust.
func (t *tracer) poisonAmount(v graph.NodeID) float64 {
	if t.source[v] {
		return t.amount[v]
	}
	var sum float64
	for _, e := range t.g.In(v) {
		if t.seedEdge[e] {
			sum += t.g.Value(e)
			continue
		}
		if e < t.start || e >= t.end {
			continue
		}
		u := t.g.From(e)
		if !t.tainted(u) || t.hops[u] == stopped || (!t.source[u] && t.via[u] >= e) {
			continue
		}
		if x := t.g.Value(e); x >= t.opt.MinValue {
			sum += x
		}
	}
	return sum
}

// isSource reports whether u is a seed address. Only seeds and the
// transaction pseudo-nodes they pay into sit at hop 0, so the map is
// consulted rarely.
func (t *tracer) isSource(u graph.NodeID) bool { return t.hops[u] == 0 && t.source[u] }

// sent records what each source paid out in the window, as its amount.
func (t *tracer) sent() {
	for u := range t.source {
		var s float64
		for _, e := range t.g.Out(u) {
			if e >= t.start && e < t.end {
				s += t.g.Value(e)
			}
		}
		t.amount[u] = s
	}
}

// balanceBefore replays a node's ledger up to edge i and returns what it
// held, taking any payment the graph cannot cover as paid from funds
// received before the graph begins.
func (t *tracer) balanceBefore(v graph.NodeID, i uint32) float64 {
	in, out := t.g.In(v), t.g.Out(v)
	var b float64
	a, c := 0, 0
	for {
		ea, ec := uint32(graph.NoTx), uint32(graph.NoTx)
		if a < len(in) && in[a] < i {
			ea = in[a]
		}
		if c < len(out) && out[c] < i {
			ec = out[c]
		}
		switch {
		case ea == graph.NoTx && ec == graph.NoTx:
			return b
		case ea <= ec:
			b += t.g.Value(ea)
			a++
		default:
			b = max(0, b-t.g.Value(ec))
			c++
		}
	}
}

func (t *tracer) haircut(start, end uint32) {
	n := t.g.NumNodes()
	t.bal, t.held = make([]float64, n), make([]float64, n)
	from, to, tm := t.g.Stream()
	hops, seen, maxH, minV := t.hops, t.seen, t.maxHops, t.opt.MinValue
	seeds := t.seedSchedule()
	k := 0
	for i := start; i < end; i++ {
		u, v := from[i], to[i]
		if seen[u>>6]&(1<<(u&63)) == 0 && seen[v>>6]&(1<<(v&63)) == 0 && i != seeds[k] {
			continue // neither end tainted: the common case, decided in cache
		}
		hu, hv := hops[u], hops[v]
		if i == seeds[k] {
			k++
			v, x := t.seedArrive(i)
			if hops[v] != stopped {
				if hv == untainted {
					t.bal[v] = t.balanceBefore(v, i)
				}
				t.bal[v] += x
				t.held[v] += x
			}
			continue
		}
		x := t.g.Value(i)
		var out float64
		if hu != untainted && hu != stopped {
			if t.isSource(u) {
				out = x
			} else {
				b := max(t.bal[u], x)
				if b > 0 {
					out = x * t.held[u] / b
				}
				t.held[u] = max(0, t.held[u]-out)
				t.bal[u] = b - x
			}
			if hu >= maxH && out > 0 {
				t.beyond += out
				out = 0
			}
		}
		if out > 0 && out >= minV {
			t.mark(v, t.next(v, hu), i, int64(tm[i]), false)
			t.amount[v] += out
			if hops[v] != stopped {
				if hv == untainted {
					t.bal[v] = t.balanceBefore(v, i)
				}
				t.held[v] += out
				t.bal[v] += x
			}
			continue
		}
		t.dropped += out
		if hv != untainted && hv != stopped {
			t.bal[v] += x
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
}

func (l *lots) push(amt float64, tainted bool) {
	if amt <= 0 {
		return
	}
	if n := len(l.q); n > l.head && l.q[n-1].tainted == tainted {
		l.q[n-1].amt += amt
		return
	}
	l.q = append(l.q, lot{amt, tainted})
}

// draw takes x from the head of the queue, appending the lots it takes to
// buf in order; whatever the queue cannot cover is clean.
func (l *lots) draw(x float64, buf []lot) []lot {
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
		buf = append(buf, lot{x, false})
	}
	if l.head > 32 && l.head*2 > len(l.q) {
		l.q = append(l.q[:0], l.q[l.head:]...)
		l.head = 0
	}
	return buf
}

func (t *tracer) queueOf(v graph.NodeID, i uint32) *lots {
	q := t.queue[v]
	if q == nil {
		q = &lots{}
		q.push(t.balanceBefore(v, i), false)
		t.queue[v] = q
	}
	return q
}

func (t *tracer) fifo(start, end uint32) {
	t.queue = map[graph.NodeID]*lots{}
	from, to, tm := t.g.Stream()
	hops, seen, maxH, minV := t.hops, t.seen, t.maxHops, t.opt.MinValue
	seeds := t.seedSchedule()
	var buf []lot
	k := 0
	for i := start; i < end; i++ {
		u, v := from[i], to[i]
		if seen[u>>6]&(1<<(u&63)) == 0 && seen[v>>6]&(1<<(v&63)) == 0 && i != seeds[k] {
			continue // neither end tainted: the common case, decided in cache
		}
		hu, hv := hops[u], hops[v]
		if i == seeds[k] {
			k++
			_, x := t.seedArrive(i)
			if hops[v] != stopped {
				t.queueOf(v, i).push(x, true)
			}
			continue
		}
		x := t.g.Value(i)
		buf = buf[:0]
		var out float64
		if hu != untainted && hu != stopped {
			if t.isSource(u) {
				buf = append(buf, lot{x, true})
			} else {
				buf = t.queueOf(u, i).draw(x, buf)
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
			t.amount[v] += out
			if hops[v] != stopped {
				q := t.queueOf(v, i)
				for _, l := range buf {
					q.push(l.amt, l.tainted)
				}
			}
			continue
		}
		t.dropped += out
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

func (t *tracer) result() *Result {
	return &Result{
		Model:   t.opt.Model,
		Dropped: t.dropped,
		Beyond:  t.beyond,
		Scanned: t.scanned,
		Graph:   t.g,
		Options: t.opt,
		t:       t,
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
		Amount:  t.amount[v],
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
