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

func (t *tracer) poison(start, end uint32) {
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
		x := t.g.Value(i)
		if x < minV {
			t.dropped += x
			continue
		}
		u, v := from[i], to[i]
		if t.source[u] {
			t.amount[u] += x
		}
		t.mark(v, t.next(v, h), i, int64(tm[i]), false)
		t.amount[v] += x
	}
	t.scanned = int64(end - start)
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
	hops, maxH, minV := t.hops, t.maxHops, t.opt.MinValue
	seeds := t.seedSchedule()
	k := 0
	for i := start; i < end; i++ {
		u, v := from[i], to[i]
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
		if hu == untainted && hv == untainted {
			continue
		}
		x := t.g.Value(i)
		var out float64
		if hu != untainted && hu != stopped {
			if t.source[u] {
				out = x
				t.amount[u] += x
			} else {
				b := max(t.bal[u], x)
				if b > 0 {
					out = x * t.held[u] / b
				}
				t.held[u] -= out
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
	hops, maxH, minV := t.hops, t.maxHops, t.opt.MinValue
	seeds := t.seedSchedule()
	var buf []lot
	k := 0
	for i := start; i < end; i++ {
		u, v := from[i], to[i]
		hu, hv := hops[u], hops[v]
		if i == seeds[k] {
			k++
			_, x := t.seedArrive(i)
			if hops[v] != stopped {
				t.queueOf(v, i).push(x, true)
			}
			continue
		}
		if hu == untainted && hv == untainted {
			continue
		}
		x := t.g.Value(i)
		buf = buf[:0]
		var out float64
		if hu != untainted && hu != stopped {
			if t.source[u] {
				buf = append(buf, lot{x, true})
				t.amount[u] += x
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
			if t.source[u] {
				t.amount[u] += x
			}
			before := hops[v]
			t.mark(v, t.next(v, h), e, 0, false)
			t.amount[v] += x
			if hops[v] != before && hops[v] != stopped {
				queue = append(queue, v)
			}
		}
	}
}

func (t *tracer) result() *Result {
	r := &Result{
		Model:   t.opt.Model,
		index:   map[graph.NodeID]int{},
		Dropped: t.dropped,
		Beyond:  t.beyond,
		Scanned: t.scanned,
		Graph:   t.g,
		Options: t.opt,
	}
	order := slices.Clone(t.order)
	slices.SortStableFunc(order, func(a, b graph.NodeID) int {
		sa, sb := t.source[a], t.source[b]
		if sa != sb {
			if sa {
				return -1
			}
			return 1
		}
		return int(t.first[a]) - int(t.first[b])
	})
	for _, v := range order {
		h := t.hops[v]
		if h == stopped {
			h = t.termH[v]
		}
		n := Node{
			ID:      v,
			Address: t.g.Address(v),
			Amount:  t.amount[v],
			First:   int64(t.first[v]),
			Hops:    int(h),
			Via:     t.via[v],
			Seed:    t.source[v],
		}
		if l, ok := t.label[v]; ok {
			n.Label = &l
		}
		r.index[v] = len(r.Nodes)
		r.Nodes = append(r.Nodes, n)
	}
	return r
}
