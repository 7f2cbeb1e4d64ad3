package sigma

import (
	"math/bits"
	"regexp/syntax"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// A RuleSet evaluates many rules on each event much faster than calling
// Rule.Match for each, with the same results.
//
// Most rules start with tests of literal strings: Image ends with
// \rundll32.exe, CommandLine contains comsvcs. For every rule the set derives
// a prefilter: a formula over "atoms" (this literal occurs in that field,
// anchored or not) that must hold whenever the rule matches. Literals come
// from string values, wildcard patterns, keywords and the literal parts of
// regular expressions. Per field, one Aho-Corasick automaton finds all atoms
// of all rules in a single pass over the value. A rule is evaluated in full
// only if one of its trigger atoms occurred and its prefilter formula holds;
// the few rules whose condition gives no literal to key on (numbers only,
// negations only, regular expressions without literals) are always
// evaluated. The prefilter is necessary, not sufficient, so skipping a rule
// never changes a verdict.
//
// A rule sees an event when Rule.Applies holds for the logsource given with
// the event. Rules are grouped by logsource on first use (building a group
// compiles its automata, up to a few tens of milliseconds); a RuleSet is safe
// for concurrent use, Scanners are not. The rules must not change after
// NewRuleSet.
type RuleSet struct {
	rules []*Rule
	pre   []*formula // per rule: prefilter, fTrue if none
	trig  [][]int32  // per rule: atoms, one of which must occur; nil if none
	scans []scanKey  // the fields atoms are found in
	atoms []atomInfo

	mu     sync.Mutex
	groups atomic.Pointer[map[Logsource]*group]
	// bySet shares a group between logsources that select the same rules.
	bySet map[string]*group
}

// maxGroups bounds the logsources cached. Past it (only hostile input
// invents so many) a logsource costs a pass over the rules' logsources for
// each event, and shares the group of its rules.
const maxGroups = 1024

// fieldScan is one automaton of a group: the literals its rules test on one
// field (nil: the keywords of every string in the event), with dash folding
// (windash) or without. Automata are per group so that, say, the web and
// Linux keywords do not slow the scan of Windows events.
type fieldScan struct {
	f        *fieldRef
	dash     bool
	ac       *acAutomaton
	patAtoms [][]int32 // pattern -> atoms with that literal
	lits     int       // index of its literals while building
}

// atomInfo is "literal occurs in the field" with an anchor: smContains,
// smPrefix, smSuffix or smExact.
type atomInfo struct {
	scan   int32
	anchor uint8
	lit    string
}

// group is the rules of one logsource, in RuleSet order.
type group struct {
	rules  []int32      // indexes into RuleSet.rules
	always []int32      // positions in rules evaluated on every event
	scans  []*fieldScan // automata to run
	// Trigger lists, CSR-encoded: atom a triggers positions
	// trigList[trigStart[a]:trigStart[a+1]].
	trigStart []int32
	trigList  []int32
}

// NewRuleSet compiles rules into a set. Field mappings were applied when the
// rules were compiled (Options.Mapping), so the set needs none.
func NewRuleSet(rules []*Rule) *RuleSet {
	rs := &RuleSet{rules: rules}
	b := &prefilterBuilder{rs: rs, atomIdx: map[atomInfo]int32{}, scanIdx: map[scanKey]int32{}}
	rs.pre = make([]*formula, len(rules))
	rs.trig = make([][]int32, len(rules))
	for i, r := range rules {
		f := fFalse
		if r.cond != nil {
			f = b.nec(r.cond)
		}
		rs.pre[i] = f
		if f.op != opTrue && f.op != opFalse {
			rs.trig[i] = b.trigger(f)
		}
	}
	m := map[Logsource]*group{}
	rs.groups.Store(&m)
	rs.bySet = map[string]*group{}
	return rs
}

// Rules returns the rules of the set, in the order given.
func (rs *RuleSet) Rules() []*Rule { return rs.rules }

// Prepare compiles the groups of the given logsources now rather than on
// their first event (the process_creation group of SigmaHQ takes about a
// tenth of a second).
func (rs *RuleSet) Prepare(ls ...Logsource) {
	for _, l := range ls {
		rs.group(l)
	}
}

func (rs *RuleSet) group(ls Logsource) *group {
	if g, ok := (*rs.groups.Load())[ls]; ok {
		return g
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	old := *rs.groups.Load()
	if g, ok := old[ls]; ok {
		return g
	}
	var sel []int32
	for i, r := range rs.rules {
		if r.Applies(ls.Product, ls.Category, ls.Service) && rs.pre[i].op != opFalse {
			sel = append(sel, int32(i))
		}
	}
	key := make([]byte, 0, 4*len(sel))
	for _, i := range sel {
		key = append(key, byte(i), byte(i>>8), byte(i>>16), byte(i>>24))
	}
	g, ok := rs.bySet[string(key)]
	if !ok {
		g = rs.newGroup(sel)
		rs.bySet[string(key)] = g
	}
	if len(old) < maxGroups {
		m := make(map[Logsource]*group, len(old)+1)
		for k, v := range old {
			m[k] = v
		}
		m[ls] = g
		rs.groups.Store(&m)
	}
	return g
}

// newGroup compiles the group of the rules sel (ascending indexes).
func (rs *RuleSet) newGroup(sel []int32) *group {
	g := &group{}
	count := make([]int32, len(rs.atoms)+1)
	atomUsed := make([]bool, len(rs.atoms))
	for _, i := range sel {
		pos := int32(len(g.rules))
		g.rules = append(g.rules, i)
		if rs.trig[i] == nil {
			g.always = append(g.always, pos)
			continue
		}
		for _, a := range rs.trig[i] {
			count[a+1]++
		}
		rs.pre[i].atoms(func(a int32) { atomUsed[a] = true })
	}
	// One automaton per scanned field, over the literals of the atoms used.
	scans := make([]*fieldScan, len(rs.scans))
	var lits [][]string
	var pats []map[string]int32
	for a, used := range atomUsed {
		if !used {
			continue
		}
		info := rs.atoms[a]
		sc := scans[info.scan]
		if sc == nil {
			k := rs.scans[info.scan]
			sc = &fieldScan{f: k.f, dash: k.dash, lits: len(lits)}
			scans[info.scan] = sc
			g.scans = append(g.scans, sc)
			lits = append(lits, nil)
			pats = append(pats, map[string]int32{})
		}
		p, ok := pats[sc.lits][info.lit]
		if !ok {
			p = int32(len(lits[sc.lits]))
			pats[sc.lits][info.lit] = p
			lits[sc.lits] = append(lits[sc.lits], info.lit)
			sc.patAtoms = append(sc.patAtoms, nil)
		}
		sc.patAtoms[p] = append(sc.patAtoms[p], int32(a))
	}
	for _, sc := range g.scans {
		sc.ac = newACAutomaton(lits[sc.lits], sc.dash)
	}
	for a := 1; a < len(count); a++ {
		count[a] += count[a-1]
	}
	g.trigStart = count
	g.trigList = make([]int32, count[len(count)-1])
	fill := make([]int32, len(rs.atoms))
	copy(fill, count)
	for pos, i := range g.rules {
		for _, a := range rs.trig[i] {
			g.trigList[fill[a]] = int32(pos)
			fill[a]++
		}
	}
	return g
}

// Scanner evaluates a RuleSet on one event at a time, reusing its buffers.
// It is not safe for concurrent use; use one per goroutine.
type Scanner struct {
	rs    *RuleSet
	e     *Evaluator
	bits  []uint64 // atoms seen in the current event
	seen  []int32  // the same, as a list, to clear and to trigger
	cand  []uint64 // candidate rule positions of the current group
	hits  []*Rule
	cur   *fieldScan
	n     int // length of the text being scanned
	onHit func(pat int32, start, end int)
	// onKeyword scans one string of the event for the keyword scan.
	onKeyword func(string) bool
}

// NewScanner returns a Scanner over the set.
func (rs *RuleSet) NewScanner() *Scanner {
	s := &Scanner{rs: rs, e: NewEvaluator(), bits: make([]uint64, (len(rs.atoms)+63)/64)}
	s.onHit = s.pattern
	s.onKeyword = func(str string) bool {
		s.n = len(str)
		if !s.cur.ac.scan(str, s.onHit) {
			// As keywordMatch sees it.
			view := textView(str, false, s.cur.dash)
			s.n = len(view)
			s.cur.ac.scanFolded(view, s.onHit)
		}
		return false
	}
	return s
}

// Match returns the rules of the set that apply to logsource ls and match
// ev, in set order. The slice is reused by the next call.
func (s *Scanner) Match(ev Event, ls Logsource) []*Rule {
	s.hits = s.hits[:0]
	if ev == nil {
		return s.hits
	}
	rs := s.rs
	g := rs.group(ls)
	e := s.e
	e.Reset(ev)
	defer e.release()

	for _, sc := range g.scans {
		s.scanField(sc)
	}

	words := (len(g.rules) + 63) / 64
	if cap(s.cand) < words {
		s.cand = make([]uint64, words)
	}
	cand := s.cand[:words]
	for _, pos := range g.always {
		cand[pos>>6] |= 1 << (pos & 63)
	}
	for _, a := range s.seen {
		for _, pos := range g.trigList[g.trigStart[a]:g.trigStart[a+1]] {
			cand[pos>>6] |= 1 << (pos & 63)
		}
	}
	for w, word := range cand {
		for word != 0 {
			bit := bits.TrailingZeros64(word)
			word &^= 1 << bit
			i := g.rules[w*64+bit]
			if rs.pre[i].eval(s.bits) && e.Match(rs.rules[i]) {
				s.hits = append(s.hits, rs.rules[i])
			}
		}
		cand[w] = 0
	}
	for _, a := range s.seen {
		s.bits[a>>6] &^= 1 << (a & 63)
	}
	s.seen = s.seen[:0]
	return s.hits
}

// scanField runs one automaton over the field's value (every element of a
// list), as the rules' string matchers see it.
func (s *Scanner) scanField(sc *fieldScan) {
	s.cur = sc
	if sc.f == nil {
		s.e.ev.Keywords(s.onKeyword)
		return
	}
	v := s.e.field(sc.f)
	switch v.kind {
	case kStr, kNum, kBool:
		s.scanValue(sc, v)
	case kList:
		for _, x := range v.raw.([]any) {
			var el fval
			el.set(x)
			if el.kind != kList {
				s.scanValue(sc, &el)
			}
		}
	}
}

func (s *Scanner) scanValue(sc *fieldScan, v *fval) {
	str, ok := v.str()
	if !ok {
		return
	}
	s.n = len(str)
	if sc.ac.scan(str, s.onHit) {
		return
	}
	// Non-ASCII: scan the view the matchers compare against.
	view, _ := v.view(false, sc.dash)
	s.n = len(view)
	sc.ac.scanFolded(view, s.onHit)
}

// pattern records the atoms of a literal found at [start, end).
func (s *Scanner) pattern(p int32, start, end int) {
	for _, a := range s.cur.patAtoms[p] {
		if s.bits[a>>6]&(1<<(a&63)) != 0 {
			continue
		}
		switch s.rs.atoms[a].anchor {
		case smPrefix:
			if start != 0 {
				continue
			}
		case smSuffix:
			if end != s.n {
				continue
			}
		case smExact:
			if start != 0 || end != s.n {
				continue
			}
		}
		s.bits[a>>6] |= 1 << (a & 63)
		s.seen = append(s.seen, a)
	}
}

// Scan is a convenience wrapper: the rules matching ev, in a new slice.
func (rs *RuleSet) Scan(ev Event, ls Logsource) []*Rule {
	s := rs.NewScanner()
	return append([]*Rule(nil), s.Match(ev, ls)...)
}

// ScanParallel evaluates events 0..n-1 on workers goroutines (GOMAXPROCS
// if workers <= 0). event returns the i-th event and its logsource and must
// be safe for concurrent calls; hit is called for every match, concurrently
// from several goroutines, in set order within one event.
func (rs *RuleSet) ScanParallel(n, workers int, event func(i int) (Event, Logsource), hit func(i int, r *Rule)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	const chunk = 64
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := rs.NewScanner()
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+chunk, n); i++ {
					ev, ls := event(i)
					for _, r := range s.Match(ev, ls) {
						hit(i, r)
					}
				}
			}
		}()
	}
	wg.Wait()
}

// Prefilter formulas.

const (
	opTrue = iota
	opFalse
	opAtom
	opAnd
	opOr
)

type formula struct {
	op   uint8
	atom int32
	kids []*formula
}

var (
	fTrue  = &formula{op: opTrue}
	fFalse = &formula{op: opFalse}
)

func (f *formula) eval(bits []uint64) bool {
	switch f.op {
	case opTrue:
		return true
	case opAtom:
		return bits[f.atom>>6]&(1<<(f.atom&63)) != 0
	case opAnd:
		for _, k := range f.kids {
			if !k.eval(bits) {
				return false
			}
		}
		return true
	case opOr:
		for _, k := range f.kids {
			if k.eval(bits) {
				return true
			}
		}
	}
	return false
}

func (f *formula) atoms(fn func(int32)) {
	if f.op == opAtom {
		fn(f.atom)
	}
	for _, k := range f.kids {
		k.atoms(fn)
	}
}

func mkAnd(kids []*formula) *formula {
	var out []*formula
	for _, k := range kids {
		switch k.op {
		case opFalse:
			return fFalse
		case opTrue:
		case opAnd:
			out = append(out, k.kids...)
		default:
			out = append(out, k)
		}
	}
	switch len(out) {
	case 0:
		return fTrue
	case 1:
		return out[0]
	}
	return &formula{op: opAnd, kids: out}
}

func mkOr(kids []*formula) *formula {
	var out []*formula
	for _, k := range kids {
		switch k.op {
		case opTrue:
			return fTrue
		case opFalse:
		case opOr:
			out = append(out, k.kids...)
		default:
			out = append(out, k)
		}
	}
	switch len(out) {
	case 0:
		return fFalse
	case 1:
		return out[0]
	}
	return &formula{op: opOr, kids: out}
}

type scanKey struct {
	f    *fieldRef
	dash bool
}

type prefilterBuilder struct {
	rs      *RuleSet
	atomIdx map[atomInfo]int32
	scanIdx map[scanKey]int32
}

// nec returns a formula that holds whenever n matches.
func (b *prefilterBuilder) nec(n node) *formula {
	switch x := n.(type) {
	case *selection:
		return b.nec(x.n)
	case andNode:
		kids := make([]*formula, len(x))
		for i, c := range x {
			kids[i] = b.nec(c)
		}
		return mkAnd(kids)
	case orNode:
		kids := make([]*formula, len(x))
		for i, c := range x {
			kids[i] = b.nec(c)
		}
		return mkOr(kids)
	case countNode:
		// At least min >= 1 of the nodes: at least one.
		kids := make([]*formula, len(x.nodes))
		for i, c := range x.nodes {
			kids[i] = b.nec(c)
		}
		return mkOr(kids)
	case constNode:
		if x {
			return fTrue
		}
		return fFalse
	case *fieldMatch:
		if x.neg {
			return fTrue
		}
		kids := make([]*formula, len(x.ms))
		for i, m := range x.ms {
			kids[i] = b.matcher(x.f, m)
		}
		// A list value matches when an element does; the automaton scans
		// every element, so the same formulas hold.
		if x.all {
			return mkAnd(kids)
		}
		return mkOr(kids)
	case *keywordMatch:
		// The keyword scan (field nil) runs over every string of the event.
		kids := make([]*formula, len(x.ms))
		for i, m := range x.ms {
			kids[i] = b.matcher(nil, m)
		}
		if x.all {
			return mkAnd(kids)
		}
		return mkOr(kids)
	}
	// not: nothing to require.
	return fTrue
}

func (b *prefilterBuilder) matcher(f *fieldRef, m matcher) *formula {
	switch x := m.(type) {
	case *strMatcher:
		return b.str(f, x)
	case anyMatcher:
		kids := make([]*formula, len(x))
		for i, y := range x {
			kids[i] = b.matcher(f, y)
		}
		return mkOr(kids)
	case reMatcher:
		p, err := syntax.Parse(x.re.String(), syntax.Perl)
		if err != nil {
			return fTrue
		}
		return b.regex(f, p.Simplify())
	}
	return fTrue
}

// regex returns a formula that holds whenever r matches: the literals it
// cannot match without.
func (b *prefilterBuilder) regex(f *fieldRef, r *syntax.Regexp) *formula {
	switch r.Op {
	case syntax.OpLiteral:
		return b.regexLiteral(f, r.Rune, r.Flags&syntax.FoldCase != 0)
	case syntax.OpCapture, syntax.OpPlus:
		return b.regex(f, r.Sub[0])
	case syntax.OpRepeat:
		if r.Min >= 1 {
			return b.regex(f, r.Sub[0])
		}
	case syntax.OpConcat:
		var kids []*formula
		for i := 0; i < len(r.Sub); i++ {
			sub := r.Sub[i]
			if sub.Op != syntax.OpLiteral {
				kids = append(kids, b.regex(f, sub))
				continue
			}
			// Adjacent literals with the same case folding form one run.
			run := append([]rune(nil), sub.Rune...)
			fold := sub.Flags&syntax.FoldCase != 0
			for i+1 < len(r.Sub) && r.Sub[i+1].Op == syntax.OpLiteral && (r.Sub[i+1].Flags&syntax.FoldCase != 0) == fold {
				i++
				run = append(run, r.Sub[i].Rune...)
			}
			kids = append(kids, b.regexLiteral(f, run, fold))
		}
		return mkAnd(kids)
	case syntax.OpAlternate:
		kids := make([]*formula, len(r.Sub))
		for i, sub := range r.Sub {
			kids[i] = b.regex(f, sub)
		}
		return mkOr(kids)
	}
	return fTrue
}

// regexLiteral gives the atom of the longest usable piece of a regular
// expression literal. The regexp matches the raw value; the automaton sees it
// lower-cased, which keeps ASCII text in place. Only ASCII runs qualify, and
// under case folding not k or s, which also match the Kelvin sign and the
// long s.
func (b *prefilterBuilder) regexLiteral(f *fieldRef, run []rune, fold bool) *formula {
	best, cur := "", []byte{}
	for i := 0; i <= len(run); i++ {
		ok := i < len(run) && run[i] < 0x80
		if ok && fold {
			switch run[i] {
			case 'k', 'K', 's', 'S':
				ok = false
			}
		}
		if ok {
			cur = append(cur, byte(run[i]))
			continue
		}
		if len(cur) > len(best) {
			best = string(cur)
		}
		cur = cur[:0]
	}
	if len(best) < 2 && (len(best) == 0 || !rarePunct(best[0])) {
		return fTrue
	}
	return &formula{op: opAtom, atom: b.atom(f, false, asciiLower(best), smContains)}
}

// rarePunct reports whether a one-byte regular expression literal is rare
// enough in command lines and paths to key on (` in obfuscated PowerShell).
func rarePunct(c byte) bool {
	return strings.IndexByte("`{}$%^~|<>[]@#;!&=+", c) >= 0
}

func (b *prefilterBuilder) str(f *fieldRef, m *strMatcher) *formula {
	var lit string
	anchor := uint8(smContains)
	switch m.kind {
	case smExact, smPrefix, smSuffix, smContains:
		lit, anchor = m.lit, m.kind
	case smGlob:
		// The longest literal run must occur somewhere.
		for i := 0; i < len(m.glob); {
			j := i
			for j < len(m.glob) && m.glob[j].kind == 0 {
				j++
			}
			if j-i > len(lit) {
				buf := make([]byte, j-i)
				for k := i; k < j; k++ {
					buf[k-i] = m.glob[k].b
				}
				lit = string(buf)
			}
			i = j + 1
		}
	}
	if lit == "" {
		return fTrue
	}
	if m.cased {
		// The automaton sees lower-cased text. Lower-casing maps an ASCII
		// literal of the value to its lower case at the same place; a
		// non-ASCII one may change, so it gives no atom.
		for i := 0; i < len(lit); i++ {
			if lit[i] >= 0x80 {
				return fTrue
			}
		}
		lit = asciiLower(lit)
	}
	return &formula{op: opAtom, atom: b.atom(f, m.dash, lit, anchor)}
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func (b *prefilterBuilder) atom(f *fieldRef, dash bool, lit string, anchor uint8) int32 {
	sk := scanKey{f, dash}
	si, ok := b.scanIdx[sk]
	if !ok {
		si = int32(len(b.rs.scans))
		b.scanIdx[sk] = si
		b.rs.scans = append(b.rs.scans, sk)
	}
	key := atomInfo{scan: si, anchor: anchor, lit: lit}
	if a, ok := b.atomIdx[key]; ok {
		return a
	}
	a := int32(len(b.rs.atoms))
	b.atomIdx[key] = a
	b.rs.atoms = append(b.rs.atoms, key)
	return a
}

// trigger picks atoms one of which occurs whenever f holds: for an AND,
// those of the child with the rarest-looking atoms.
func (b *prefilterBuilder) trigger(f *formula) []int32 {
	var out []int32
	seen := map[int32]bool{}
	var walk func(f *formula)
	walk = func(f *formula) {
		switch f.op {
		case opAtom:
			if !seen[f.atom] {
				seen[f.atom] = true
				out = append(out, f.atom)
			}
		case opOr:
			for _, k := range f.kids {
				walk(k)
			}
		case opAnd:
			best, bestCost := f.kids[0], -1.0
			for _, k := range f.kids {
				if c := b.cost(k); bestCost < 0 || c < bestCost {
					best, bestCost = k, c
				}
			}
			walk(best)
		}
	}
	walk(f)
	return out
}

// cost estimates how often a trigger set fires: short unanchored literals
// occur everywhere, long anchored ones rarely.
func (b *prefilterBuilder) cost(f *formula) float64 {
	switch f.op {
	case opAtom:
		a := b.rs.atoms[f.atom]
		c := 64.0 / float64(len(a.lit)+1)
		switch a.anchor {
		case smExact:
			c /= 8
		case smPrefix, smSuffix:
			c /= 2
		}
		return c
	case opOr:
		c := 0.0
		for _, k := range f.kids {
			c += b.cost(k)
		}
		return c
	case opAnd:
		c := -1.0
		for _, k := range f.kids {
			if x := b.cost(k); c < 0 || x < c {
				c = x
			}
		}
		return c
	}
	return 1e9
}
