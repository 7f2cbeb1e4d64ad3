package sigma

import (
	"encoding/json"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Event is what rules are evaluated on.
type Event interface {
	// Field returns the value at a (mapped) field path: string, bool,
	// float64, int, int64, json.Number, nil, []any or map[string]any.
	Field(path string) (value any, ok bool)
	// Keywords calls fn with every string value of the event until fn
	// returns true, and reports whether it did.
	Keywords(fn func(string) bool) bool
}

// fieldRef is a field as compiled: its candidate event paths, the first
// present one wins. Refs are interned so an Evaluator can cache each field's
// value once per event across all rules.
type fieldRef struct {
	paths []string
	id    int
	// keys holds, per path, the hashes MapEvent lookups probe (see
	// mapIndexes.fieldRef).
	keys []pathKeys
}

var fieldRegistry struct {
	sync.Mutex
	m map[string]*fieldRef
}

func internField(paths []string) *fieldRef {
	key := strings.Join(paths, "\x00")
	fieldRegistry.Lock()
	defer fieldRegistry.Unlock()
	if fieldRegistry.m == nil {
		fieldRegistry.m = map[string]*fieldRef{}
	}
	if f, ok := fieldRegistry.m[key]; ok {
		return f
	}
	f := &fieldRef{paths: paths, id: len(fieldRegistry.m)}
	for _, p := range paths {
		f.keys = append(f.keys, newPathKeys(p))
	}
	fieldRegistry.m[key] = f
	return f
}

const (
	kAbsent = iota
	kNull
	kStr
	kNum
	kBool
	kList
	kOther
)

// fval is one field's value in the current event, with lazily computed
// views (lower-cased, dash-normalised, numeric) shared by every rule.
type fval struct {
	kind  uint8
	raw   any
	sDone bool
	s     string
	num   float64
	numOK uint8 // 0 unknown, 1 yes, 2 no
	views [4]string
	vDone [4]bool
}

func (v *fval) set(x any) {
	v.raw = x
	switch t := x.(type) {
	case nil:
		v.kind = kNull
	case string:
		v.kind, v.s, v.sDone = kStr, t, true
	case bool:
		v.kind = kBool
	case float64:
		v.kind, v.num, v.numOK = kNum, t, 1
	case float32:
		v.kind, v.num, v.numOK = kNum, float64(t), 1
	case int:
		v.kind, v.num, v.numOK = kNum, float64(t), 1
	case int64:
		v.kind, v.num, v.numOK = kNum, float64(t), 1
	case int32:
		v.kind, v.num, v.numOK = kNum, float64(t), 1
	case uint64:
		v.kind, v.num, v.numOK = kNum, float64(t), 1
	case json.Number:
		v.kind, v.s, v.sDone = kNum, string(t), true
	case []any:
		v.kind = kList
	default:
		v.kind = kOther
	}
}

func (v *fval) present() bool { return v.kind != kAbsent }

// str is the value as text; ok is false for nulls, lists and objects.
func (v *fval) str() (string, bool) {
	if v.sDone {
		return v.s, true
	}
	switch v.kind {
	case kNum:
		if math.Trunc(v.num) == v.num && math.Abs(v.num) < 1e15 {
			v.s = strconv.FormatInt(int64(v.num), 10)
		} else {
			v.s = strconv.FormatFloat(v.num, 'f', -1, 64)
		}
	case kBool:
		v.s = strconv.FormatBool(v.raw.(bool))
	default:
		return "", false
	}
	v.sDone = true
	return v.s, true
}

func (v *fval) number() (float64, bool) {
	if v.numOK == 0 {
		v.numOK = 2
		if s, ok := v.str(); ok && (v.kind == kStr || v.kind == kNum) {
			if n, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
				v.num, v.numOK = n, 1
			}
		}
	}
	return v.num, v.numOK == 1
}

// view returns the text as compared: lower-cased unless cased, with every
// dash variant folded to '-' if dash.
func (v *fval) view(cased, dash bool) (string, bool) {
	s, ok := v.str()
	if !ok {
		return "", false
	}
	i := 0
	if !cased {
		i |= 1
	}
	if dash {
		i |= 2
	}
	if i == 0 {
		return s, true
	}
	if !v.vDone[i] {
		v.views[i] = textView(s, cased, dash)
		v.vDone[i] = true
	}
	return v.views[i], true
}

func textView(s string, cased, dash bool) string {
	if !cased {
		s = strings.ToLower(s)
	}
	if dash {
		s = foldDash(s)
	}
	return s
}

func isDash(r rune) bool {
	return r == '-' || r == '/' || r == '\u2013' || r == '\u2014' || r == '\u2015'
}

func foldDash(s string) string {
	if !strings.ContainsAny(s, "/\u2013\u2014\u2015") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isDash(r) {
			return '-'
		}
		return r
	}, s)
}

// Evaluator evaluates rules on one event at a time, caching field values
// between rules. It is not safe for concurrent use; use one per goroutine.
type Evaluator struct {
	ev    Event
	keys  mapIndexes // case-insensitive key lookup in MapEvents
	gen   uint32
	vals  []fval
	stamp []uint32
}

// NewEvaluator returns an Evaluator.
func NewEvaluator() *Evaluator { return &Evaluator{} }

// Reset starts evaluation of a new event.
func (e *Evaluator) Reset(ev Event) {
	e.ev = ev
	e.keys.reset()
	e.gen++
	if e.gen == 0 {
		clear(e.stamp)
		e.gen = 1
	}
}

// Match reports whether rule r matches the current event.
func (e *Evaluator) Match(r *Rule) bool {
	if r.cond == nil || e.ev == nil {
		return false
	}
	return r.cond.eval(e)
}

// release drops the references to the event, so an idle Evaluator does not
// keep it alive.
func (e *Evaluator) release() {
	e.ev = nil
	e.keys.reset()
}

var evalPool = sync.Pool{New: func() any { return NewEvaluator() }}

// Match reports whether the rule matches ev. For many rules on one event, an
// Evaluator shares field lookups between them.
func (r *Rule) Match(ev Event) bool {
	e := evalPool.Get().(*Evaluator)
	e.Reset(ev)
	ok := e.Match(r)
	e.release()
	evalPool.Put(e)
	return ok
}

func (e *Evaluator) field(f *fieldRef) *fval {
	if f.id >= len(e.vals) {
		n := f.id + 1 + len(e.vals)
		vals := make([]fval, n)
		copy(vals, e.vals)
		stamp := make([]uint32, n)
		copy(stamp, e.stamp)
		e.vals, e.stamp = vals, stamp
	}
	v := &e.vals[f.id]
	if e.stamp[f.id] == e.gen {
		return v
	}
	*v = fval{}
	mev, isMap := e.ev.(MapEvent)
	for i, p := range f.paths {
		var x any
		var ok bool
		if isMap {
			x, ok = e.keys.field(mev, p, &f.keys[i])
		} else {
			x, ok = e.ev.Field(p)
		}
		if ok {
			v.set(x)
			break
		}
	}
	e.stamp[f.id] = e.gen
	return v
}

// matcher tests one rule value against one field value.
type matcher interface {
	match(e *Evaluator, v *fval) bool
}

// wholeMatcher is implemented by matchers that look at the field as a whole
// (presence, null) rather than at each element of a list.
type wholeMatcher interface {
	whole()
}

func matchValue(m matcher, e *Evaluator, v *fval) bool {
	if v.kind == kList {
		if _, ok := m.(wholeMatcher); !ok {
			for _, x := range v.raw.([]any) {
				var el fval
				el.set(x)
				if el.kind != kList && m.match(e, &el) {
					return true
				}
			}
			return false
		}
	}
	return m.match(e, v)
}

type fieldMatch struct {
	f   *fieldRef
	ms  []matcher
	all bool
	neg bool
	// strs holds ms when all are plain string matchers with the same
	// case and dash folding: the common case, matched on one text view
	// without interface calls.
	strs        []*strMatcher
	cased, dash bool
}

func (m *fieldMatch) prepare() {
	m.strs = nil
	for i, x := range m.ms {
		s, ok := x.(*strMatcher)
		if !ok || (i > 0 && (s.cased != m.cased || s.dash != m.dash)) {
			m.strs = nil
			return
		}
		m.cased, m.dash = s.cased, s.dash
		m.strs = append(m.strs, s)
	}
}

func (m *fieldMatch) eval(e *Evaluator) bool {
	v := e.field(m.f)
	if m.strs != nil && !m.neg && v.kind != kList {
		s, ok := v.view(m.cased, m.dash)
		if !ok {
			return false
		}
		if m.all {
			for _, x := range m.strs {
				if !x.matchString(s) {
					return false
				}
			}
			return true
		}
		for _, x := range m.strs {
			if x.matchString(s) {
				return true
			}
		}
		return false
	}
	if m.neg {
		if !v.present() {
			return false
		}
		for _, x := range m.ms {
			if matchValue(x, e, v) {
				return false
			}
		}
		return true
	}
	if m.all {
		for _, x := range m.ms {
			if !matchValue(x, e, v) {
				return false
			}
		}
		return true
	}
	for _, x := range m.ms {
		if matchValue(x, e, v) {
			return true
		}
	}
	return false
}

// keywordMatch searches every string value of the event.
type keywordMatch struct {
	ms  []matcher
	all bool
}

func (m *keywordMatch) eval(e *Evaluator) bool {
	one := func(x matcher) bool {
		return e.ev.Keywords(func(s string) bool {
			var v fval
			v.set(s)
			return x.match(e, &v)
		})
	}
	if m.all {
		for _, x := range m.ms {
			if !one(x) {
				return false
			}
		}
		return true
	}
	for _, x := range m.ms {
		if one(x) {
			return true
		}
	}
	return false
}

type nullMatcher struct{}

func (nullMatcher) whole() {}
func (nullMatcher) match(_ *Evaluator, v *fval) bool {
	return v.kind == kAbsent || v.kind == kNull
}

type existsMatcher bool

func (existsMatcher) whole()                             {}
func (m existsMatcher) match(_ *Evaluator, v *fval) bool { return v.present() == bool(m) }

type anyMatcher []matcher

func (m anyMatcher) match(e *Evaluator, v *fval) bool {
	for _, x := range m {
		if x.match(e, v) {
			return true
		}
	}
	return false
}

type numMatcher struct {
	n    float64
	text string
}

func (m numMatcher) match(_ *Evaluator, v *fval) bool {
	if n, ok := v.number(); ok {
		return n == m.n
	}
	s, ok := v.view(false, false)
	return ok && s == m.text
}

type boolMatcher bool

func (m boolMatcher) match(_ *Evaluator, v *fval) bool {
	if v.kind == kBool {
		return v.raw.(bool) == bool(m)
	}
	s, ok := v.str()
	return ok && strings.EqualFold(s, strconv.FormatBool(bool(m)))
}

type cmpMatcher struct {
	op string
	n  float64
}

func (m cmpMatcher) match(_ *Evaluator, v *fval) bool {
	n, ok := v.number()
	return ok && m.cmp(n)
}

func (m cmpMatcher) cmp(n float64) bool {
	switch m.op {
	case "gt":
		return n > m.n
	case "gte":
		return n >= m.n
	case "lt":
		return n < m.n
	case "lte":
		return n <= m.n
	}
	return n == m.n
}

type reMatcher struct{ re *regexp.Regexp }

func (m reMatcher) match(_ *Evaluator, v *fval) bool {
	s, ok := v.str()
	return ok && m.re.MatchString(s)
}

type cidrMatcher struct{ p netip.Prefix }

func (m cidrMatcher) match(_ *Evaluator, v *fval) bool {
	s, ok := v.str()
	if !ok {
		return false
	}
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return false
	}
	return m.p.Contains(a.Unmap()) || m.p.Contains(a.WithZone(""))
}

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"}

type timeMatcher struct {
	part string
	cmp  cmpMatcher
}

func (m timeMatcher) match(_ *Evaluator, v *fval) bool {
	s, ok := v.str()
	if !ok {
		return false
	}
	var t time.Time
	var err error
	for _, l := range timeLayouts {
		if t, err = time.Parse(l, strings.TrimSpace(s)); err == nil {
			break
		}
	}
	if err != nil {
		return false
	}
	var n int
	switch m.part {
	case "minute":
		n = t.Minute()
	case "hour":
		n = t.Hour()
	case "day":
		n = t.Day()
	case "week":
		_, n = t.ISOWeek()
	case "month":
		n = int(t.Month())
	case "year":
		n = t.Year()
	}
	return m.cmp.cmp(float64(n))
}

type fieldrefMatcher struct {
	other *fieldRef
	pos   byte
	cased bool
}

func (m fieldrefMatcher) match(e *Evaluator, v *fval) bool {
	a, ok := v.view(m.cased, false)
	if !ok {
		return false
	}
	o := e.field(m.other)
	b, ok := o.view(m.cased, false)
	if !ok {
		return false
	}
	switch m.pos {
	case 'c':
		return strings.Contains(a, b)
	case 's':
		return strings.HasPrefix(a, b)
	case 'e':
		return strings.HasSuffix(a, b)
	}
	return a == b
}

const (
	smExact = iota
	smPrefix
	smSuffix
	smContains
	smGlob
	smAny // a lone *: any non-null value
)

// strMatcher matches a Sigma string. Simple shapes (x, x*, *x, *x*) use
// direct string functions; others use glob.
type strMatcher struct {
	kind  uint8
	lit   string
	glob  []gel
	cased bool
	dash  bool
}

// gel is one glob element: a literal byte, '?' (one rune) or '*'.
type gel struct {
	kind uint8 // 0 byte, 1 ?, 2 *
	b    byte
}

func newStrMatcher(toks []tok, pos byte, cased, dash bool) *strMatcher {
	norm := func(s string) string { return textView(s, cased, dash) }
	switch pos {
	case 'c':
		if len(toks) == 0 || !toks[0].star {
			toks = append([]tok{{star: true}}, toks...)
		}
		if !toks[len(toks)-1].star {
			toks = append(toks, tok{star: true})
		}
	case 's':
		if len(toks) == 0 || !toks[len(toks)-1].star {
			toks = append(toks, tok{star: true})
		}
	case 'e':
		if len(toks) == 0 || !toks[0].star {
			toks = append([]tok{{star: true}}, toks...)
		}
	}
	m := &strMatcher{cased: cased, dash: dash}
	lits, q := 0, false
	for _, t := range toks {
		if t.q {
			q = true
		}
		if t.lit != "" {
			lits++
		}
	}
	n := len(toks)
	switch {
	case n == 0:
		m.kind = smExact
	case !q && n == 1 && toks[0].star:
		m.kind = smAny
	case !q && n == 1:
		m.kind, m.lit = smExact, norm(toks[0].lit)
	case !q && n == 2 && toks[1].star && lits == 1:
		m.kind, m.lit = smPrefix, norm(toks[0].lit)
	case !q && n == 2 && toks[0].star && lits == 1:
		m.kind, m.lit = smSuffix, norm(toks[1].lit)
	case !q && n == 3 && toks[0].star && toks[2].star:
		m.kind, m.lit = smContains, norm(toks[1].lit)
	default:
		m.kind = smGlob
		for _, t := range toks {
			switch {
			case t.star:
				m.glob = append(m.glob, gel{kind: 2})
			case t.q:
				m.glob = append(m.glob, gel{kind: 1})
			default:
				l := norm(t.lit)
				for i := 0; i < len(l); i++ {
					m.glob = append(m.glob, gel{b: l[i]})
				}
			}
		}
	}
	return m
}

func (m *strMatcher) match(_ *Evaluator, v *fval) bool {
	s, ok := v.view(m.cased, m.dash)
	if !ok {
		return false
	}
	return m.matchString(s)
}

func (m *strMatcher) matchString(s string) bool {
	switch m.kind {
	case smExact:
		return s == m.lit
	case smPrefix:
		return strings.HasPrefix(s, m.lit)
	case smSuffix:
		return strings.HasSuffix(s, m.lit)
	case smContains:
		return strings.Contains(s, m.lit)
	case smAny:
		return true
	}
	return globMatch(m.glob, s)
}

// globMatch is the iterative wildcard match with single-star backtracking:
// linear in practice, never exponential.
func globMatch(p []gel, s string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch p[pi].kind {
			case 0:
				if p[pi].b == s[si] {
					pi++
					si++
					continue
				}
			case 1:
				_, n := utf8.DecodeRuneInString(s[si:])
				si += n
				pi++
				continue
			case 2:
				starP, starS = pi, si
				pi++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		pi, si = starP+1, starS
	}
	for pi < len(p) && p[pi].kind == 2 {
		pi++
	}
	return pi == len(p)
}
