package pattern

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/bulwark-intel/bulwark/internal/stix"
)

// Observation is one observed-data instance: cyber-observable objects (JSON
// decoded SCOs, each with its "type") keyed by the names their _ref and
// _refs properties use, seen at Time (first_observed).
type Observation struct {
	Time    time.Time
	Objects map[string]map[string]any
}

// Matcher is a compiled pattern: regular expressions, LIKE patterns and
// CIDR ranges are prepared once.
type Matcher struct {
	pat    *Pattern
	leaves []*cnode // one per Bracket, in the order of the stream plan
	plan   []snode  // stream evaluation plan, children before parents
	single *cnode   // non-nil when the pattern is one bracket (fast path)
	window *Qualifier
}

// cnode is a compiled comparison expression.
type cnode struct {
	op   BoolOp // And/Or for inner nodes; 0 for a comparison
	kids []*cnode
	cmp  *compiled
}

type compiled struct {
	c       *Comparison
	typ     string
	steps   []Step
	fold    bool // compare strings case-insensitively (hash values)
	re      *regexp.Regexp
	prefix  netip.Prefix
	values  []Literal // Value, or Set for IN
	binProp bool      // last key ends in _bin or _hex: string values are bytes
	hexProp bool
}

// Compile prepares p for evaluation. Invalid regular expressions (MATCHES
// takes Go's RE2 syntax, a subset of PCRE without back-references or
// look-around) and invalid CIDR ranges are errors here.
func Compile(p *Pattern) (*Matcher, error) {
	if p == nil || p.Root == nil {
		return nil, fmt.Errorf("pattern: nil pattern")
	}
	m := &Matcher{pat: p}
	if _, err := m.build(p.Root, 0); err != nil {
		return nil, err
	}
	m.propagate()
	e := p.Root
	if q, ok := e.(*Qualified); ok {
		// One observation satisfies WITHIN trivially, REPEATS 1 and
		// START/STOP by its time.
		simple := true
		for i := range q.Qualifiers {
			switch qq := q.Qualifiers[i]; qq.Kind {
			case QualRepeats:
				simple = simple && qq.Times == 1
			case QualStartStop:
				if m.window != nil {
					simple = false
				}
				m.window = &q.Qualifiers[i]
			}
		}
		if simple {
			e = q.Expr
		} else {
			m.window = nil
		}
	}
	if _, ok := e.(*Bracket); ok && len(m.leaves) == 1 {
		m.single = m.leaves[0]
	}
	return m, nil
}

// MustCompile parses and compiles s, panicking on error.
func MustCompile(s string) *Matcher {
	m, err := Compile(MustParse(s))
	if err != nil {
		panic(err)
	}
	return m
}

// Pattern returns the compiled pattern.
func (m *Matcher) Pattern() *Pattern { return m.pat }

// MatchObservation reports whether obs alone satisfies the pattern. For a
// pattern that combines observation expressions this is true only when one
// observation is enough (e.g. one side of an OR); use a Stream for the rest.
func (m *Matcher) MatchObservation(obs *Observation) bool {
	if m.single != nil {
		if m.window != nil && (obs.Time.Before(m.window.Start) || !obs.Time.Before(m.window.Stop)) {
			return false
		}
		return m.single.matchObs(obs)
	}
	s := NewStream(m)
	return len(s.Feed(obs)) > 0
}

func compileComp(e CompExpr) (*cnode, error) {
	switch e := e.(type) {
	case *CompBinary:
		n := &cnode{op: e.Op}
		for _, o := range e.Operands {
			k, err := compileComp(o)
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, k)
		}
		return n, nil
	case *Comparison:
		c := &compiled{c: e, typ: e.Path.Type, steps: e.Path.Steps, values: []Literal{e.Value}}
		if e.Op == OpIn {
			c.values = e.Set
		}
		for _, s := range e.Path.Steps {
			if s.Kind == StepKey && s.Key == "hashes" {
				c.fold = true
			}
		}
		if last := e.Path.Steps[len(e.Path.Steps)-1]; last.Kind == StepKey {
			c.binProp = strings.HasSuffix(last.Key, "_bin")
			c.hexProp = strings.HasSuffix(last.Key, "_hex")
		}
		switch e.Op {
		case OpMatches:
			re, err := regexp.Compile(e.Value.Str)
			if err != nil {
				return nil, fmt.Errorf("pattern: MATCHES %s: %v", quote(e.Value.Str), err)
			}
			c.re = re
		case OpLike:
			re, err := regexp.Compile(likeToRegexp(e.Value.Str))
			if err != nil {
				return nil, fmt.Errorf("pattern: LIKE %s: %v", quote(e.Value.Str), err)
			}
			c.re = re
		case OpIsSubset, OpIsSuperset:
			pf, ok := parsePrefix(e.Value.Str)
			if !ok {
				return nil, fmt.Errorf("pattern: %s %s: not an IP address or CIDR range", e.Op, quote(e.Value.Str))
			}
			c.prefix = pf
		}
		return &cnode{cmp: c}, nil
	}
	return nil, fmt.Errorf("pattern: unknown comparison node %T", e)
}

// likeToRegexp turns SQL LIKE (% any run, _ one character) into an
// anchored regular expression.
func likeToRegexp(s string) string {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	from := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '%' || s[i] == '_' {
			b.WriteString(regexp.QuoteMeta(s[from:i]))
			if s[i] == '%' {
				b.WriteString(".*")
			} else {
				b.WriteByte('.')
			}
			from = i + 1
		}
	}
	b.WriteString(regexp.QuoteMeta(s[from:]))
	b.WriteByte('$')
	return b.String()
}

func parsePrefix(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if strings.IndexByte(s, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// matchObs reports whether some object of obs satisfies the bracket.
// Comparisons joined by AND must hold for the same object.
func (n *cnode) matchObs(obs *Observation) bool {
	for _, o := range obs.Objects {
		if n.matchObj(obs, o) {
			return true
		}
	}
	return false
}

func (n *cnode) matchObj(obs *Observation, o map[string]any) bool {
	switch n.op {
	case And:
		for _, k := range n.kids {
			if !k.matchObj(obs, o) {
				return false
			}
		}
		return true
	case Or:
		for _, k := range n.kids {
			if k.matchObj(obs, o) {
				return true
			}
		}
		return false
	}
	c := n.cmp
	if t, _ := o["type"].(string); t != c.typ {
		return false
	}
	return c.walk(obs, o, 0, false)
}

// walk resolves the path from value v at step i and tests the values
// reached; [*] and lists mean "any element". ref is set when v came from a
// *_ref or *_refs property, so a further key step dereferences it.
func (c *compiled) walk(obs *Observation, v any, i int, ref bool) bool {
	if i == len(c.steps) {
		return c.test(v)
	}
	s := c.steps[i]
	switch s.Kind {
	case StepKey:
		var m map[string]any
		switch x := v.(type) {
		case map[string]any:
			m = x
		case string:
			if ref {
				m = obs.Objects[x]
			}
		}
		if m == nil {
			return false
		}
		next, ok := m[s.Key]
		if !ok && c.fold {
			next, ok = lookupFold(m, s.Key)
		}
		if !ok {
			return false
		}
		return c.walk(obs, next, i+1, strings.HasSuffix(s.Key, "_ref") || strings.HasSuffix(s.Key, "_refs"))
	case StepIndex:
		l, ok := v.([]any)
		if !ok {
			return false
		}
		idx := s.Index
		if idx < 0 {
			idx += int64(len(l)) // negative indexes count from the end
		}
		if idx < 0 || idx >= int64(len(l)) {
			return false
		}
		return c.walk(obs, l[idx], i+1, ref)
	case StepAny:
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				if c.walk(obs, e, i+1, ref) {
					return true
				}
			}
		case map[string]any:
			// [*] over a dictionary (e.g. hashes[*]) means any value.
			for _, e := range x {
				if c.walk(obs, e, i+1, ref) {
					return true
				}
			}
		}
	}
	return false
}

// lookupFold finds a hash algorithm key ignoring case and hyphens, so
// 'SHA-256' finds "sha256".
func lookupFold(m map[string]any, key string) (any, bool) {
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "-", "")) }
	k := norm(key)
	for mk, v := range m {
		if norm(mk) == k {
			return v, true
		}
	}
	return nil, false
}

// test applies the comparison to one resolved value. A comparison between
// incompatible types (a string property against an integer, say) is not
// applicable: false, and NOT does not make it true.
func (c *compiled) test(v any) bool {
	if v == nil {
		return false
	}
	if c.c.Op == OpExists {
		return true
	}
	if l, ok := v.([]any); ok {
		// A list compared as a whole: any element (pattern authors often
		// omit [*] on list properties).
		for _, e := range l {
			if c.test(e) {
				return true
			}
		}
		return false
	}
	r, ok := c.apply(v)
	if !ok {
		return false
	}
	return r != c.c.Not
}

func (c *compiled) apply(v any) (result, applicable bool) {
	switch c.c.Op {
	case OpEq, OpNe:
		cmp, ok := c.compare(v, c.values[0], true)
		if !ok {
			return false, false
		}
		return (cmp == 0) == (c.c.Op == OpEq), true
	case OpLt, OpLe, OpGt, OpGe:
		cmp, ok := c.compare(v, c.values[0], false)
		if !ok {
			return false, false
		}
		switch c.c.Op {
		case OpLt:
			return cmp < 0, true
		case OpLe:
			return cmp <= 0, true
		case OpGt:
			return cmp > 0, true
		}
		return cmp >= 0, true
	case OpIn:
		any := false
		for _, l := range c.values {
			cmp, ok := c.compare(v, l, true)
			if !ok {
				continue
			}
			any = true
			if cmp == 0 {
				return true, true
			}
		}
		return false, any
	case OpLike, OpMatches:
		s, ok := v.(string)
		if !ok {
			return false, false
		}
		if c.binProp || c.hexProp {
			// Binary properties are matched octet by octet, each octet
			// read as the code point of the same value.
			if b, ok := c.decodeBytes(s); ok {
				s = latin1(b)
			}
		}
		return c.re.MatchString(s), true
	case OpIsSubset, OpIsSuperset:
		s, ok := v.(string)
		if !ok {
			return false, false
		}
		p, ok := parsePrefix(s)
		if !ok || p.Addr().Is4() != c.prefix.Addr().Is4() {
			return false, false
		}
		if c.c.Op == OpIsSubset {
			return p.Bits() >= c.prefix.Bits() && c.prefix.Contains(p.Addr()), true
		}
		return c.prefix.Bits() >= p.Bits() && p.Contains(c.prefix.Addr()), true
	}
	return false, false
}

func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

func (c *compiled) decodeBytes(s string) ([]byte, bool) {
	if c.hexProp {
		if b, err := hex.DecodeString(s); err == nil {
			return b, true
		}
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, true
	}
	if b, err := hex.DecodeString(s); err == nil {
		return b, true
	}
	return nil, false
}

// compare orders value v against literal l; ok is false when the types do
// not compare. eq selects case folding for hash values.
func (c *compiled) compare(v any, l Literal, eq bool) (int, bool) {
	switch l.Kind {
	case LitString:
		s, ok := v.(string)
		if !ok {
			return 0, false
		}
		if eq && c.fold && strings.EqualFold(s, l.Str) {
			return 0, true
		}
		return strings.Compare(s, l.Str), true
	case LitInt, LitFloat:
		f, ok := number(v)
		if !ok {
			return 0, false
		}
		if l.Kind == LitInt {
			if i, ok := exactInt(v); ok {
				return cmpInt(i, l.Int), true
			}
			return cmpFloat(f, float64(l.Int)), true
		}
		return cmpFloat(f, l.Float), true
	case LitBool:
		b, ok := v.(bool)
		if !ok {
			return 0, false
		}
		if b == l.Bool {
			return 0, true
		}
		return 1, true
	case LitTime:
		var t time.Time
		switch x := v.(type) {
		case string:
			var err error
			if t, err = stix.ParseTimestamp(x); err != nil {
				return 0, false
			}
		case time.Time:
			t = x
		default:
			return 0, false
		}
		return t.Compare(l.Time), true
	case LitBinary, LitHex:
		var b []byte
		switch x := v.(type) {
		case string:
			var ok bool
			if b, ok = c.decodeBytes(x); !ok {
				return 0, false
			}
		case []byte:
			b = x
		default:
			return 0, false
		}
		return bytes.Compare(b, l.Bytes), true
	}
	return 0, false
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x)
	case float32:
		return float64(x), !math.IsNaN(float64(x))
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uint32:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

func exactInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case uint32:
		return int64(x), true
	case json.Number:
		i, err := x.Int64()
		return i, err == nil
	}
	return 0, false
}
