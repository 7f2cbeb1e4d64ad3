package sigma

import (
	"math/bits"
	"sort"
	"unicode"
	"unicode/utf8"
)

// acAutomaton is an Aho-Corasick automaton over lower-cased literals. Input
// bytes are folded while matching (A-Z to a-z, and '/' to '-' for windash
// scans), so plain ASCII field values need no lower-cased copy, and matching
// never allocates.
//
// States near the root, where the scan spends most of its time, have dense
// rows (one table load per byte); deeper states, most of them on a single
// pattern's chain, keep sorted child lists and fail links, so 10,000 command
// line literals or 5,000 hashes cost megabytes, not hundreds of them.
type acAutomaton struct {
	class  [256]uint16 // input byte -> byte class; 0 is "in no pattern"
	nClass int
	dash   bool
	// raw is class with acNonASCII for bytes >= 0x80, for scan.
	raw [256]uint16
	// fold is the byte folding alone; pairs has bit a<<8|b set when the
	// folded bytes a, b can begin a pattern (or a is >= 0x80). At the root
	// the scan skips other positions in a tight loop.
	fold  [256]byte
	pairs [1024]uint64
	skip  bool // whether few enough pairs begin patterns for skipping to pay
	// When every pattern is at least minLen >= 4 bytes long, shift skips
	// Wu-Manber style: no pattern starts fewer than shift[h] bytes after
	// position i, where h hashes the bigram ending at i+minLen-1.
	minLen int
	shift  []uint8

	// States 0..nDense-1 are dense: rows[s*nClass+class] is the next state,
	// with acOut set if it reports a pattern. Used while building only,
	// dense maps a state to its row or -1.
	nDense int32
	dense  []int32
	rows   []int32
	fail   []int32
	// Children of s: kidClass/kidState[kidStart[s]:kidStart[s+1]].
	kidStart []int32
	kidClass []uint16
	kidState []int32
	// out[s] is the pattern ending at state s, or -1; link[s] is the
	// nearest proper suffix state that ends a pattern, or -1; hasOut[s]
	// says whether either is set.
	out    []int32
	link   []int32
	hasOut []bool
	patLen []int32
}

// acOut flags a transition (in rows) to a state that reports a pattern.
const acOut = -1 << 31

// acNonASCII marks a byte >= 0x80 in acAutomaton.raw.
const acNonASCII = 0xffff

// acDenseBudget bounds the dense row entries of one automaton (4 bytes
// each). Automata under the budget are plain DFAs.
const acDenseBudget = 1 << 18

// newACAutomaton compiles unique patterns (already normalised: lower-case,
// dashes folded for windash scans). dash also folds '/' to '-' in the input.
func newACAutomaton(patterns []string, dash bool) *acAutomaton {
	a := &acAutomaton{dash: dash}
	var used [256]bool
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			used[p[i]] = true
		}
	}
	var cls [256]uint16
	n := 1
	for b := 0; b < 256; b++ {
		if used[b] {
			cls[b] = uint16(n)
			n++
		}
	}
	a.nClass = n
	for b := 0; b < 256; b++ {
		in := byte(b)
		if in >= 'A' && in <= 'Z' {
			in += 'a' - 'A'
		}
		if dash && in == '/' {
			in = '-'
		}
		a.fold[b] = in
		a.class[b] = cls[in]
		a.raw[b] = cls[in]
		if b >= 0x80 {
			a.raw[b] = acNonASCII
		}
	}

	// Trie: edges in a map while building, then sorted into CSR form.
	type edge struct {
		from int32
		c    uint16
	}
	edges := map[edge]int32{}
	states := int32(1)
	a.patLen = make([]int32, len(patterns))
	ends := make([]int32, len(patterns))
	for pi, p := range patterns {
		s := int32(0)
		for i := 0; i < len(p); i++ {
			e := edge{s, cls[p[i]]}
			nx, ok := edges[e]
			if !ok {
				nx = states
				states++
				edges[e] = nx
			}
			s = nx
		}
		ends[pi] = s
		a.patLen[pi] = int32(len(p))
	}
	type kid struct {
		from  int32
		c     uint16
		state int32
	}
	kids := make([]kid, 0, len(edges))
	for e, s := range edges {
		kids = append(kids, kid{e.from, e.c, s})
	}
	edges = nil
	sort.Slice(kids, func(i, j int) bool {
		if kids[i].from != kids[j].from {
			return kids[i].from < kids[j].from
		}
		return kids[i].c < kids[j].c
	})
	a.kidStart = make([]int32, states+1)
	a.kidClass = make([]uint16, len(kids))
	a.kidState = make([]int32, len(kids))
	for i, k := range kids {
		a.kidStart[k.from+1]++
		a.kidClass[i] = k.c
		a.kidState[i] = k.state
	}
	kids = nil
	for s := int32(1); s <= states; s++ {
		a.kidStart[s] += a.kidStart[s-1]
	}

	a.out = make([]int32, states)
	a.link = make([]int32, states)
	a.fail = make([]int32, states)
	a.hasOut = make([]bool, states)
	a.dense = make([]int32, states)
	for s := range a.out {
		a.out[s], a.link[s], a.dense[s] = -1, -1, -1
	}
	for pi, s := range ends {
		a.out[s] = int32(pi)
	}

	// Breadth-first: fail links, output links and dense rows. A state's
	// fail target is shallower, so its row or links are already known.
	allDense := int(states)*n <= acDenseBudget
	budget := acDenseBudget
	depth := make([]uint8, states)
	queue := make([]int32, 0, states)
	queue = append(queue, 0)
	for qi := 0; qi < len(queue); qi++ {
		s := queue[qi]
		lo, hi := a.kidStart[s], a.kidStart[s+1]
		if s != 0 {
			f := a.fail[s]
			if a.out[f] >= 0 {
				a.link[s] = f
			} else {
				a.link[s] = a.link[f]
			}
			a.hasOut[s] = a.out[s] >= 0 || a.link[s] >= 0
		}
		if s == 0 || allDense || (budget >= n && (depth[s] <= 2 || hi-lo >= 4)) {
			budget -= n
			row := int32(len(a.rows) / n)
			for c := 0; c < n; c++ {
				var nx int32
				if s != 0 {
					nx = a.buildStep(a.fail[s], uint16(c))
				}
				a.rows = append(a.rows, nx)
			}
			for k := lo; k < hi; k++ {
				a.rows[int(row)*n+int(a.kidClass[k])] = a.kidState[k]
			}
			a.dense[s] = row
		}
		for k := lo; k < hi; k++ {
			c, nx := a.kidClass[k], a.kidState[k]
			if s != 0 {
				a.fail[nx] = a.buildStep(a.fail[s], c)
			}
			if depth[s] < 255 {
				depth[nx] = depth[s] + 1
			} else {
				depth[nx] = 255
			}
			queue = append(queue, nx)
		}
	}
	setPair := func(x, y int) { a.pairs[x<<2|y>>6] |= 1 << (y & 63) }
	for _, p := range patterns {
		for y := 0; y < 256; y++ {
			if len(p) == 1 || y == int(p[1]) {
				setPair(int(p[0]), y)
			}
		}
	}
	for x := 0x80; x < 256; x++ {
		for y := 0; y < 256; y++ {
			setPair(x, y)
		}
	}
	set := 0
	for _, w := range a.pairs[:0x80<<2] {
		set += bits.OnesCount64(w)
	}
	a.skip = set < 0x80*256/8
	a.minLen = len(patterns[0])
	for _, p := range patterns {
		a.minLen = min(a.minLen, len(p))
	}
	if a.minLen >= 4 {
		m := min(a.minLen, 256)
		a.shift = make([]uint8, acShiftSize)
		for h := range a.shift {
			a.shift[h] = uint8(m - 1)
		}
		for _, p := range patterns {
			for j := 1; j < m; j++ {
				h := shiftHash(p[j-1], p[j])
				a.shift[h] = min(a.shift[h], uint8(m-1-j))
			}
		}
	}
	a.renumber()
	return a
}

// renumber gives the dense states the numbers 0..nDense-1, so that a state
// is its own row, and flags transitions to states that report patterns: the
// inner loop then needs one table load per byte.
func (a *acAutomaton) renumber() {
	states := int32(len(a.out))
	perm := make([]int32, states)
	inv := make([]int32, states)
	for s := int32(0); s < states; s++ {
		if a.dense[s] >= 0 {
			perm[s] = a.nDense
			a.nDense++
		}
	}
	next := a.nDense
	for s := int32(0); s < states; s++ {
		if a.dense[s] < 0 {
			perm[s] = next
			next++
		}
		inv[perm[s]] = s
	}
	n := a.nClass
	rows := make([]int32, int(a.nDense)*n)
	out := make([]int32, states)
	link := make([]int32, states)
	fail := make([]int32, states)
	hasOut := make([]bool, states)
	kidStart := make([]int32, states+1)
	kidClass := make([]uint16, 0, len(a.kidClass))
	kidState := make([]int32, 0, len(a.kidState))
	for p := int32(0); p < states; p++ {
		s := inv[p]
		if d := a.dense[s]; d >= 0 {
			for c := 0; c < n; c++ {
				t := a.rows[int(d)*n+c]
				rows[int(p)*n+c] = perm[t]
				if a.hasOut[t] {
					rows[int(p)*n+c] |= acOut
				}
			}
		}
		out[p], fail[p], hasOut[p] = a.out[s], perm[a.fail[s]], a.hasOut[s]
		link[p] = -1
		if a.link[s] >= 0 {
			link[p] = perm[a.link[s]]
		}
		for k := a.kidStart[s]; k < a.kidStart[s+1]; k++ {
			kidClass = append(kidClass, a.kidClass[k])
			kidState = append(kidState, perm[a.kidState[k]])
		}
		kidStart[p+1] = int32(len(kidClass))
	}
	a.rows, a.out, a.link, a.fail, a.hasOut = rows, out, link, fail, hasOut
	a.kidStart, a.kidClass, a.kidState = kidStart, kidClass, kidState
	a.dense = nil
}

// buildStep is the transition from state s on byte class c while building.
func (a *acAutomaton) buildStep(s int32, c uint16) int32 {
	for {
		if d := a.dense[s]; d >= 0 {
			return a.rows[int(d)*a.nClass+int(c)]
		}
		lo, hi := a.kidStart[s], a.kidStart[s+1]
		for k := lo; k < hi; k++ {
			if a.kidClass[k] == c {
				return a.kidState[k]
			}
		}
		s = a.fail[s]
	}
}

// step is the transition from state s on byte class c, without acOut.
func (a *acAutomaton) step(s int32, c uint16) int32 {
	for {
		if s < a.nDense {
			return a.rows[int(s)*a.nClass+int(c)] &^ acOut
		}
		lo, hi := a.kidStart[s], a.kidStart[s+1]
		for k := lo; k < hi; k++ {
			if a.kidClass[k] == c {
				return a.kidState[k]
			}
		}
		s = a.fail[s]
	}
}

// scan runs the automaton over s and calls hit(pattern, start, end) for
// every occurrence, as if over the view the matchers compare against:
// strings.ToLower(s), with dashes folded for a dash scan. Runes that view
// keeps as they are (most non-ASCII text: ®, é) are scanned in place. On
// one it changes (an upper-case letter, a dash, invalid UTF-8) scan returns
// false, having reported only some occurrences, and the caller scans the
// view itself with scanFolded.
func (a *acAutomaton) scan(s string, hit func(pat int32, start, end int)) bool {
	return a.run(s, &a.raw, hit)
}

// scanFolded runs the automaton over text that is already normalised.
func (a *acAutomaton) scanFolded(s string, hit func(pat int32, start, end int)) {
	a.run(s, &a.class, hit)
}

// stableRune reports whether the rune at s[i:] is valid UTF-8 and kept as
// is by lower-casing and dash folding; it returns its length.
func (a *acAutomaton) stableRune(s string, i int) (int, bool) {
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size <= 1 {
		return 0, false
	}
	if unicode.ToLower(r) != r || (a.dash && isDash(r)) {
		return 0, false
	}
	return size, true
}

// acShiftSize is the size of the hashed bigram shift table.
const acShiftSize = 4096

func shiftHash(x, y byte) int { return (int(x)<<5 ^ int(y)) & (acShiftSize - 1) }

// asciiOnly reports whether s has no byte >= 0x80, eight bytes at a time.
func asciiOnly(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		b := s[i : i+8] // the compiler merges the loads below into one
		w := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		if w&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// runShift is run with Wu-Manber skipping, over text in which every byte
// is what the view has there: ASCII (folded through class), or a view.
func (a *acAutomaton) runShift(s string, hit func(pat int32, start, end int)) {
	st := int32(0)
	n, m := a.nClass, a.minLen
	rows, hasOut, fold, shift, nDense := a.rows, a.hasOut, &a.fold, a.shift, a.nDense
	for i := 0; i < len(s); i++ {
		if st == 0 {
			for i+m <= len(s) {
				sh := shift[shiftHash(fold[s[i+m-2]], fold[s[i+m-1]])]
				if sh == 0 {
					break
				}
				i += int(sh)
			}
			if i+m > len(s) {
				return // no pattern fits in the rest
			}
		}
		c := a.class[s[i]]
		if c == 0 {
			st = 0
			continue
		}
		var out bool
		if st < nDense {
			t := rows[int(st)*n+int(c)]
			st, out = t&^acOut, t&acOut != 0
		} else {
			st = a.step(st, c)
			out = hasOut[st]
		}
		if out {
			a.emit(st, i+1, hit)
		}
	}
}

// emit reports every pattern ending at end in state st, following the
// output links.
func (a *acAutomaton) emit(st int32, end int, hit func(pat int32, start, end int)) {
	for o := st; o >= 0; o = a.link[o] {
		if p := a.out[o]; p >= 0 {
			hit(p, end-int(a.patLen[p]), end)
		}
	}
}

func (a *acAutomaton) run(s string, class *[256]uint16, hit func(pat int32, start, end int)) bool {
	if a.shift != nil && (class == &a.class || asciiOnly(s)) {
		a.runShift(s, hit)
		return true
	}
	st := int32(0)
	n := a.nClass
	stable := 0 // s[:stable] is known not to change under lower-casing
	rows, hasOut, fold, pairs, nDense := a.rows, a.hasOut, &a.fold, &a.pairs, a.nDense
	for i := 0; i < len(s); i++ {
		if st == 0 && a.skip && i+1 < len(s) {
			x := uint(fold[s[i]])
			for j := i + 1; j < len(s); j++ {
				y := uint(fold[s[j]])
				if pairs[(x<<2|y>>6)&1023]&(1<<(y&63)) != 0 {
					break
				}
				x, i = y, j
			}
		}
		c := class[s[i]]
		if c == acNonASCII {
			if i >= stable {
				size, ok := a.stableRune(s, i)
				if !ok {
					return false
				}
				stable = i + size
			}
			c = a.class[s[i]]
		}
		if c == 0 {
			st = 0
			continue
		}
		var out bool
		if st < nDense {
			t := rows[int(st)*n+int(c)]
			st, out = t&^acOut, t&acOut != 0
		} else {
			st = a.step(st, c)
			out = hasOut[st]
		}
		if out {
			a.emit(st, i+1, hit)
		}
	}
	return true
}
