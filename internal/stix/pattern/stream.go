package pattern

import (
	"fmt"
	"math"
	"time"
)

// The stream evaluator keeps, for every node of the observation expression
// tree, the bindings found so far: sets of observations (by sequence number)
// that satisfy the node. Each fed observation creates only bindings that
// contain it, computed bottom-up from the children's new and stored
// bindings. Semantics (STIX 2.1 §9):
//   - A AND B: both satisfied, by disjoint sets of observations.
//   - A OR B: either.
//   - A FOLLOWEDBY B: disjoint, and every observation of A at or before
//     every observation of B.
//   - X WITHIN n SECONDS: the observations of one binding span at most n s.
//   - X REPEATS n TIMES: n pairwise disjoint bindings of X.
//   - X START s STOP e: all observations in [s, e).
//
// Memory is bounded: a binding older than the tightest enclosing WITHIN
// can never complete and is dropped, observations outside an enclosing
// START/STOP window are ignored, and each node keeps at most MaxPartial
// bindings (the oldest go first).

type snodeKind uint8

const (
	sLeaf snodeKind = iota
	sAnd
	sOr
	sFollowedBy
	sWithin
	sRepeats
	sStartStop
)

type snode struct {
	kind        snodeKind
	a, b        int // children (b = -1 for unary nodes)
	leaf        int
	dur         time.Duration
	times       int64
	start, stop time.Time

	// Constraints inherited from ancestors.
	horizon          time.Duration // 0: none
	needOld          bool          // an ancestor combines this node's past bindings
	hasWin           bool
	winStart, winEnd time.Time
}

// build appends the plan for e (children first) and returns its index.
func (m *Matcher) build(e ObsExpr, depth int) (int, error) {
	if depth > 2*MaxDepth+8 {
		return 0, fmt.Errorf("pattern: expression nested too deeply")
	}
	switch e := e.(type) {
	case *Bracket:
		c, err := compileComp(e.Expr)
		if err != nil {
			return 0, err
		}
		m.leaves = append(m.leaves, c)
		m.plan = append(m.plan, snode{kind: sLeaf, leaf: len(m.leaves) - 1, a: -1, b: -1})
	case *ObsBinary:
		if len(e.Operands) == 0 {
			return 0, fmt.Errorf("pattern: %s with no operands", e.Op)
		}
		kind := map[ObsOp]snodeKind{ObsAnd: sAnd, ObsOr: sOr, ObsFollowedBy: sFollowedBy}[e.Op]
		acc, err := m.build(e.Operands[0], depth+1)
		if err != nil {
			return 0, err
		}
		for _, o := range e.Operands[1:] {
			k, err := m.build(o, depth+1)
			if err != nil {
				return 0, err
			}
			m.plan = append(m.plan, snode{kind: kind, a: acc, b: k})
			acc = len(m.plan) - 1
		}
		return acc, nil
	case *Qualified:
		acc, err := m.build(e.Expr, depth+1)
		if err != nil {
			return 0, err
		}
		for _, q := range e.Qualifiers {
			n := snode{a: acc, b: -1}
			switch q.Kind {
			case QualWithin:
				n.kind = sWithin
				n.dur = secondsToDuration(q.Seconds)
			case QualRepeats:
				n.kind = sRepeats
				n.times = q.Times
			case QualStartStop:
				n.kind = sStartStop
				n.start, n.stop = q.Start, q.Stop
			default:
				return 0, fmt.Errorf("pattern: unknown qualifier")
			}
			m.plan = append(m.plan, n)
			acc = len(m.plan) - 1
		}
		return acc, nil
	default:
		return 0, fmt.Errorf("pattern: unknown observation node %T", e)
	}
	return len(m.plan) - 1, nil
}

func secondsToDuration(s float64) time.Duration {
	d := s * float64(time.Second)
	if d >= math.MaxInt64 {
		return math.MaxInt64
	}
	if d < 1 {
		return 1
	}
	return time.Duration(d)
}

// propagate pushes WITHIN horizons and START/STOP windows down to the
// descendants; parents come after their children in the plan.
func (m *Matcher) propagate() {
	for i := len(m.plan) - 1; i >= 0; i-- {
		n := &m.plan[i]
		h, hasWin, ws, we := n.horizon, n.hasWin, n.winStart, n.winEnd
		need := n.needOld || n.kind == sAnd || n.kind == sFollowedBy || n.kind == sRepeats
		switch n.kind {
		case sWithin:
			if h == 0 || n.dur < h {
				h = n.dur
			}
		case sStartStop:
			if !hasWin {
				hasWin, ws, we = true, n.start, n.stop
			} else {
				if n.start.After(ws) {
					ws = n.start
				}
				if n.stop.Before(we) {
					we = n.stop
				}
			}
		}
		for _, c := range []int{n.a, n.b} {
			if c >= 0 {
				k := &m.plan[c]
				k.horizon, k.hasWin, k.winStart, k.winEnd, k.needOld = h, hasWin, ws, we, need
			}
		}
	}
}

// DefaultMaxPartial is the default bound on stored bindings per node.
const DefaultMaxPartial = 1024

// Stream evaluates a pattern over observations fed in time order.
type Stream struct {
	m *Matcher
	// MaxPartial bounds the partial matches kept per node of the pattern
	// (and the new ones created by one observation).
	MaxPartial int

	seq    uint64
	now    time.Time
	stored [][]binding
	fresh  [][]binding
}

type binding struct {
	seqs        []uint64 // sorted
	first, last time.Time
}

// Match is one way the whole pattern was satisfied.
type Match struct {
	// Seqs are the observations used, as 0-based positions in the stream
	// (the order of Feed calls), ascending.
	Seqs        []uint64
	First, Last time.Time
}

// NewStream starts evaluating m over a stream of observations.
func NewStream(m *Matcher) *Stream {
	return &Stream{
		m:          m,
		MaxPartial: DefaultMaxPartial,
		stored:     make([][]binding, len(m.plan)),
		fresh:      make([][]binding, len(m.plan)),
	}
}

// Feed adds the next observation (its position is the number of earlier
// Feed calls) and returns the new ways the pattern is satisfied that use
// it, if any. Observations should come in time order; the stream's clock
// never goes back.
func (s *Stream) Feed(obs *Observation) []Match {
	seq := s.seq
	s.seq++
	if obs.Time.After(s.now) {
		s.now = obs.Time
	}
	limit := s.MaxPartial
	if limit <= 0 {
		limit = DefaultMaxPartial
	}
	plan := s.m.plan
	// Expire what can no longer take part in a match.
	for i := range plan {
		n := &plan[i]
		st := s.stored[i]
		if n.hasWin && !s.now.Before(n.winEnd) {
			s.stored[i] = nil
			continue
		}
		if n.horizon > 0 && len(st) > 0 {
			keep := st[:0]
			for _, b := range st {
				if s.now.Sub(b.first) <= n.horizon {
					keep = append(keep, b)
				}
			}
			clear(st[len(keep):])
			s.stored[i] = keep
		}
	}
	for i := range plan {
		n := &plan[i]
		var out []binding
		switch n.kind {
		case sLeaf:
			t := obs.Time
			if n.hasWin && (t.Before(n.winStart) || !t.Before(n.winEnd)) {
				break
			}
			if s.m.leaves[n.leaf].matchObs(obs) {
				out = []binding{{seqs: []uint64{seq}, first: t, last: t}}
			}
		case sOr:
			out = append(append(out, s.fresh[n.a]...), s.fresh[n.b]...)
		case sAnd:
			out = combine(out, s.fresh[n.a], s.stored[n.b], false, limit)
			out = combine(out, s.stored[n.a], s.fresh[n.b], false, limit)
		case sFollowedBy:
			out = combine(out, s.stored[n.a], s.fresh[n.b], true, limit)
			out = combine(out, s.fresh[n.a], s.stored[n.b], true, limit)
		case sWithin:
			for _, b := range s.fresh[n.a] {
				if b.last.Sub(b.first) <= n.dur {
					out = append(out, b)
				}
			}
		case sStartStop:
			for _, b := range s.fresh[n.a] {
				if !b.first.Before(n.start) && b.last.Before(n.stop) {
					out = append(out, b)
				}
			}
		case sRepeats:
			out = s.repeats(n, out, limit)
		}
		if len(out) > limit {
			out = out[:limit]
		}
		s.fresh[i] = dedupe(out)
	}
	root := len(plan) - 1
	var matches []Match
	for _, b := range s.fresh[root] {
		matches = append(matches, Match{Seqs: b.seqs, First: b.first, Last: b.last})
	}
	for i := range plan {
		if plan[i].needOld && len(s.fresh[i]) > 0 {
			st := append(s.stored[i], s.fresh[i]...)
			if len(st) > limit {
				st = append([]binding(nil), st[len(st)-limit:]...)
			}
			s.stored[i] = st
		}
		s.fresh[i] = nil
	}
	return matches
}

// repeats extends each new binding of the child with the most recent
// earlier bindings disjoint from it and from each other: the most recent
// give the tightest span, which is what an enclosing WITHIN needs. This
// greedy choice finds one binding per new child binding rather than every
// combination.
func (s *Stream) repeats(n *snode, out []binding, limit int) []binding {
	old := s.stored[n.a]
	for _, f := range s.fresh[n.a] {
		if len(out) >= limit {
			break
		}
		cur := f
		got := int64(1)
		for j := len(old) - 1; j >= 0 && got < n.times; j-- {
			if disjoint(cur.seqs, old[j].seqs) {
				cur = merge(cur, old[j])
				got++
			}
		}
		if got == n.times {
			out = append(out, cur)
		}
	}
	return out
}

// combine appends the disjoint unions of xs × ys (xs before ys when
// ordered).
func combine(out, xs, ys []binding, ordered bool, limit int) []binding {
	for _, x := range xs {
		for _, y := range ys {
			if len(out) >= limit {
				return out
			}
			if ordered && x.last.After(y.first) {
				continue
			}
			if disjoint(x.seqs, y.seqs) {
				out = append(out, merge(x, y))
			}
		}
	}
	return out
}

func disjoint(a, b []uint64) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			return false
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return true
}

func merge(x, y binding) binding {
	seqs := make([]uint64, 0, len(x.seqs)+len(y.seqs))
	i, j := 0, 0
	for i < len(x.seqs) || j < len(y.seqs) {
		if j >= len(y.seqs) || (i < len(x.seqs) && x.seqs[i] < y.seqs[j]) {
			seqs = append(seqs, x.seqs[i])
			i++
		} else {
			seqs = append(seqs, y.seqs[j])
			j++
		}
	}
	b := binding{seqs: seqs, first: x.first, last: x.last}
	if y.first.Before(b.first) {
		b.first = y.first
	}
	if y.last.After(b.last) {
		b.last = y.last
	}
	return b
}

// dedupe drops bindings with the same observation set (one set can satisfy
// a node in several ways).
func dedupe(bs []binding) []binding {
	if len(bs) < 2 {
		return bs
	}
	seen := make(map[string]bool, len(bs))
	out := bs[:0]
	for _, b := range bs {
		k := seqKey(b.seqs)
		if !seen[k] {
			seen[k] = true
			out = append(out, b)
		}
	}
	return out
}

func seqKey(s []uint64) string {
	b := make([]byte, 0, 8*len(s))
	for _, v := range s {
		b = append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24), byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56))
	}
	return string(b)
}
