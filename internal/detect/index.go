package detect

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/gaissmai/bart"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/stix/pattern"
)

// Options control Compile.
type Options struct {
	// Now is the instant validity is judged at; zero means time.Now().
	Now time.Time
	// Actors names the actor behind an indicator, by indicator id.
	Actors map[string]string
	// Severity is given to indicator hits; "high" when empty.
	Severity string
}

// Indicator is what a hit reports about the indicator that matched.
type Indicator struct {
	ID, Name, Actor, Severity string
	TLP                       stix.TLP
	Pattern                   string
	// m confirms a candidate: set when the pattern says more than the
	// indexed value (AND, ports, several observations...).
	m *pattern.Matcher
	// types are the object types the pattern needs, to skip observations
	// that cannot match.
	types []string
}

// Entry is one indexed comparison of an indicator.
type Entry struct {
	Ind  *Indicator
	Path string // the comparison's object path
	next int32  // next entry with the same key, -1 at the end
}

// CompileStats counts what Compile did with its input.
type CompileStats struct {
	Indicators int // indicators matched (directly or through the evaluator)
	Direct     int // answered by the maps alone
	Candidates int // indexed by a value, confirmed by the evaluator
	Unanchored int // evaluated on every event
	Expired    int
	Revoked    int
	NotSTIX    int // other pattern types, or objects that are not indicators
	Invalid    []error
}

// Index is a compiled set of indicators. It is safe for concurrent use.
type Index struct {
	entries     []Entry
	ip          map[netip.Addr]int32
	cidr        *bart.Table[int32]
	domain      map[string]int32
	url         map[string]int32 // with scheme
	urlNoScheme map[string]int32 // scheme-less indicators
	email       map[string]int32
	wallet      map[string]int32
	hash        [4]map[string]int32 // MD5, SHA-1, SHA-256, SHA-512
	other       map[string]int32    // path + "\x00" + value
	unanchored  []*Indicator
	Stats       CompileStats
}

func newIndex() *Index {
	return &Index{
		ip: map[netip.Addr]int32{}, cidr: &bart.Table[int32]{}, domain: map[string]int32{},
		url: map[string]int32{}, urlNoScheme: map[string]int32{}, email: map[string]int32{},
		wallet: map[string]int32{}, other: map[string]int32{},
		hash: [4]map[string]int32{{}, {}, {}, {}},
	}
}

// Size is the number of indexed comparisons plus evaluated patterns.
func (x *Index) Size() int { return len(x.entries) + len(x.unanchored) }

// anchor is one value a pattern cannot match without.
type anchor struct {
	kind  Kind
	value string
	pfx   netip.Prefix // kind KindIP with a block
	path  string
}

// Compile builds an Index from STIX objects; objects other than indicators
// with STIX patterns are counted and ignored, as are revoked indicators and
// those past valid_until. Invalid patterns are listed in Stats.Invalid and
// skipped: one bad indicator never stops the rest.
func Compile(objs []*stix.Object, opts Options) (*Index, error) {
	b := NewBuilder(opts)
	for _, o := range objs {
		b.Add(o)
	}
	return b.Index(), nil
}

// Builder builds an Index one object at a time, so a caller streaming a
// million indicators out of a feed or the store never holds them all as
// STIX objects: only what a hit reports is kept.
type Builder struct {
	x     *Index
	opts  Options
	now   time.Time
	sev   string
	paths map[string]string // interned path strings
	byID  map[string]*Indicator
}

// NewBuilder starts an empty index.
func NewBuilder(opts Options) *Builder {
	b := &Builder{x: newIndex(), opts: opts, now: opts.Now, sev: opts.Severity,
		paths: map[string]string{}, byID: map[string]*Indicator{}}
	if b.now.IsZero() {
		b.now = time.Now()
	}
	if b.sev == "" {
		b.sev = "high"
	}
	return b
}

// Add indexes one object (see Compile for what is skipped).
func (b *Builder) Add(o *stix.Object) {
	x := b.x
	if o == nil || o.Type != "indicator" {
		x.Stats.NotSTIX++
		return
	}
	if o.Revoked {
		x.Stats.Revoked++
		return
	}
	if vu := o.String("valid_until"); vu != "" {
		if t, err := stix.ParseTimestamp(vu); err == nil && !t.After(b.now) {
			x.Stats.Expired++
			return
		}
	}
	if pt := o.String("pattern_type"); pt != "" && pt != "stix" {
		x.Stats.NotSTIX++
		return
	}
	src := o.String("pattern")
	p, err := pattern.Parse(src)
	if err != nil {
		x.Stats.Invalid = append(x.Stats.Invalid, fmt.Errorf("%s: %w", o.ID, err))
		return
	}
	as, direct, ok := obsAnchors(p.Root)
	ind := &Indicator{ID: o.ID, Name: o.Name(), Actor: b.opts.Actors[o.ID], Severity: b.sev, TLP: o.EffectiveTLP()}
	if !direct {
		// Only patterns the index cannot answer alone keep their text and
		// a compiled matcher; the rest are fully described by their keys.
		m, err := pattern.Compile(p)
		if err != nil {
			x.Stats.Invalid = append(x.Stats.Invalid, fmt.Errorf("%s: %w", o.ID, err))
			return
		}
		ind.Pattern = src
		ind.m = m
		ind.types = patternTypes(p.Root, nil)
	}
	x.Stats.Indicators++
	if len(b.byID) < 1<<24 {
		b.byID[o.ID] = ind
	}
	if !ok {
		x.unanchored = append(x.unanchored, ind)
		x.Stats.Unanchored++
		return
	}
	if direct {
		x.Stats.Direct++
	} else {
		x.Stats.Candidates++
	}
	for _, a := range as {
		ip, ok := b.paths[a.path]
		if !ok {
			b.paths[a.path] = a.path
			ip = a.path
		}
		x.add(a, Entry{Ind: ind, Path: ip})
	}
}

// SetActor names the actor behind an indicator already added, for feeds
// whose relationships come after their indicators.
func (b *Builder) SetActor(indicatorID, actor string) {
	if ind := b.byID[indicatorID]; ind != nil && ind.Actor == "" {
		ind.Actor = actor
	}
}

// Index returns the index; SetActor has no effect after it.
func (b *Builder) Index() *Index {
	b.byID = nil
	return b.x
}

func (x *Index) push(m map[string]int32, k string, e Entry) {
	e.next = -1
	if h, ok := m[k]; ok {
		e.next = h
	}
	x.entries = append(x.entries, e)
	m[k] = int32(len(x.entries) - 1)
}

func (x *Index) add(a anchor, e Entry) {
	switch a.kind {
	case KindIP:
		e.next = -1
		if a.pfx.IsValid() && a.pfx.Bits() < a.pfx.Addr().BitLen() {
			if h, ok := x.cidr.Get(a.pfx); ok {
				e.next = h
			}
			x.entries = append(x.entries, e)
			x.cidr.Insert(a.pfx, int32(len(x.entries)-1))
			return
		}
		addr := a.pfx.Addr()
		if h, ok := x.ip[addr]; ok {
			e.next = h
		}
		x.entries = append(x.entries, e)
		x.ip[addr] = int32(len(x.entries) - 1)
	case KindDomain:
		x.push(x.domain, a.value, e)
	case KindURL:
		x.push(x.url, a.value, e)
	case kURLNoScheme:
		x.push(x.urlNoScheme, a.value, e)
	case KindEmail:
		x.push(x.email, a.value, e)
	case KindWallet:
		x.push(x.wallet, a.value, e)
	case KindMD5, KindSHA1, KindSHA256, KindSHA512:
		x.push(x.hash[a.kind-KindMD5], a.value, e)
	case KindOther:
		x.push(x.other, a.path+"\x00"+a.value, e)
	}
}

// kURLNoScheme marks an anchor for a scheme-less URL indicator.
const kURLNoScheme Kind = 255

// obsAnchors finds the indexable values of an observation expression: ok
// when every way to match goes through one of them, direct when matching
// one of them is all the pattern asks.
func obsAnchors(e pattern.ObsExpr) (as []anchor, direct, ok bool) {
	switch e := e.(type) {
	case *pattern.Bracket:
		return compAnchors(e.Expr)
	case *pattern.ObsBinary:
		if e.Op != pattern.ObsOr {
			// One observation cannot satisfy AND/FOLLOWEDBY of several;
			// the evaluator decides, anchored on any operand.
			for _, op := range e.Operands {
				if a, _, ok := obsAnchors(op); ok {
					return a, false, true
				}
			}
			return nil, false, false
		}
		direct = true
		for _, op := range e.Operands {
			a, d, ok := obsAnchors(op)
			if !ok {
				return nil, false, false
			}
			as = append(as, a...)
			direct = direct && d
		}
		return as, direct, true
	case *pattern.Qualified:
		a, _, ok := obsAnchors(e.Expr)
		return a, false, ok
	}
	return nil, false, false
}

func compAnchors(e pattern.CompExpr) (as []anchor, direct, ok bool) {
	switch e := e.(type) {
	case *pattern.Comparison:
		if e.Not {
			return nil, false, false
		}
		switch e.Op {
		case pattern.OpEq:
			a, d, ok := litAnchor(e.Path, e.Value, false)
			if !ok {
				return nil, false, false
			}
			return []anchor{a}, d, true
		case pattern.OpIn:
			direct = true
			for _, l := range e.Set {
				a, d, ok := litAnchor(e.Path, l, false)
				if !ok {
					return nil, false, false
				}
				as = append(as, a)
				direct = direct && d
			}
			return as, direct, len(as) > 0
		case pattern.OpIsSubset:
			a, d, ok := litAnchor(e.Path, e.Value, true)
			if !ok || a.kind != KindIP {
				return nil, false, false
			}
			return []anchor{a}, d, true
		}
		return nil, false, false
	case *pattern.CompBinary:
		if e.Op == pattern.And {
			// Anchor on the most selective operand: a typed value (IP,
			// domain, hash...) rather than an arbitrary property.
			var best []anchor
			for _, op := range e.Operands {
				a, _, ok := compAnchors(op)
				if !ok {
					continue
				}
				if !anyOther(a) {
					return a, false, true
				}
				if best == nil {
					best = a
				}
			}
			return best, false, best != nil
		}
		direct = true
		for _, op := range e.Operands {
			a, d, ok := compAnchors(op)
			if !ok {
				return nil, false, false
			}
			as = append(as, a...)
			direct = direct && d
		}
		return as, direct, true
	}
	return nil, false, false
}

func anyOther(as []anchor) bool {
	for _, a := range as {
		if a.kind == KindOther {
			return true
		}
	}
	return false
}

// litAnchor turns `path = literal` into an anchor. direct is false when the
// index would answer more loosely than the comparison (a reference path
// whose object type the event does not record, for example).
func litAnchor(p pattern.Path, l pattern.Literal, subset bool) (anchor, bool, bool) {
	if l.Kind != pattern.LitString || len(p.Steps) == 0 {
		return anchor{}, false, false
	}
	v := l.Str
	path := p.String()
	first := p.Steps[0].Key
	a := anchor{path: path}
	isValue := len(p.Steps) == 1 && first == "value"
	isRefValue := len(p.Steps) == 2 && strings.HasSuffix(first, "_ref") && p.Steps[1].Kind == pattern.StepKey && p.Steps[1].Key == "value"
	if subset && !(isValue && (p.Type == "ipv4-addr" || p.Type == "ipv6-addr")) {
		return a, false, false
	}
	switch {
	case isValue && (p.Type == "ipv4-addr" || p.Type == "ipv6-addr"), isRefValue:
		if pfx, err := netip.ParsePrefix(v); err == nil {
			a.kind, a.pfx = KindIP, pfx.Masked()
			return a, isValue, true
		}
		if ip, ok := parseIP([]byte(v)); ok {
			a.kind, a.pfx = KindIP, netip.PrefixFrom(ip, ip.BitLen())
			return a, isValue, true
		}
		if isRefValue && strings.Contains(v, ".") {
			a.kind, a.value = KindDomain, string(normDomain(nil, []byte(v)))
			return a, false, true
		}
		return a, false, false
	case isValue && p.Type == "domain-name":
		a.kind, a.value = KindDomain, string(normDomain(nil, []byte(v)))
		return a, true, a.value != ""
	case isValue && p.Type == "url":
		u, _, scheme, ok := normURL(nil, []byte(v))
		if !ok {
			return a, false, false
		}
		a.kind, a.value = KindURL, string(u)
		if !scheme {
			a.kind = kURLNoScheme
		}
		return a, true, true
	case isValue && p.Type == "email-addr":
		a.kind, a.value = KindEmail, string(normEmail(nil, []byte(v)))
		return a, true, a.value != ""
	case isValue && p.Type == "cryptocurrency-wallet":
		a.kind, a.value = KindWallet, string(normWallet(nil, []byte(v)))
		return a, true, a.value != ""
	case len(p.Steps) == 2 && first == "hashes" && p.Steps[1].Kind == pattern.StepKey:
		k := algoKind(p.Steps[1].Key)
		if k == KindNone {
			break
		}
		a.kind, a.value = k, strings.ToLower(strings.TrimSpace(v))
		return a, true, a.value != ""
	}
	a.kind, a.value = KindOther, v
	return a, true, true
}

// patternTypes lists the object types a pattern refers to.
func patternTypes(e any, acc []string) []string {
	add := func(t string) {
		for _, x := range acc {
			if x == t {
				return
			}
		}
		acc = append(acc, t)
	}
	switch e := e.(type) {
	case *pattern.Bracket:
		return patternTypes(e.Expr, acc)
	case *pattern.ObsBinary:
		for _, op := range e.Operands {
			acc = patternTypes(op, acc)
		}
	case *pattern.Qualified:
		return patternTypes(e.Expr, acc)
	case *pattern.CompBinary:
		for _, op := range e.Operands {
			acc = patternTypes(op, acc)
		}
	case *pattern.Comparison:
		add(e.Path.Type)
	}
	return acc
}

// Scratch is per-goroutine working space for matching.
type Scratch struct {
	buf  []byte
	obs  *pattern.Observation
	seen []*Indicator
}

// Match reports every indicator ev matches, once per indicator, through fn.
func (x *Index) Match(ev *Event, s *Scratch, fn func(f *Field, v []byte, ind *Indicator)) {
	s.seen = s.seen[:0]
	s.obs = nil
	for i := range ev.Fields {
		f := &ev.Fields[i]
		x.matchField(ev, f, f.T.Kind, f.Value, f.Value, s, fn)
	}
	if len(x.unanchored) > 0 {
		for _, ind := range x.unanchored {
			if !s.hasTypes(ev, ind.types) {
				continue
			}
			if s.confirm(ev, ind) && len(ev.Fields) > 0 {
				fn(&ev.Fields[0], ev.Fields[0].Value, ind)
			}
		}
	}
}

func (x *Index) matchField(ev *Event, f *Field, k Kind, v, rep []byte, s *Scratch, fn func(*Field, []byte, *Indicator)) {
	switch k {
	case KindIP:
		x.matchIP(ev, f, v, rep, s, fn)
	case KindDomain:
		x.matchDomain(ev, f, v, rep, s, fn)
	case KindHost:
		h := bytes.TrimSpace(v)
		if _, ok := parseIP(h); ok {
			x.matchIP(ev, f, h, rep, s, fn)
			return
		}
		if c := bytes.LastIndexByte(h, ':'); c > 0 && bytes.IndexByte(h[:c], ':') < 0 {
			h = h[:c] // host:port
			if _, ok := parseIP(h); ok {
				x.matchIP(ev, f, h, rep, s, fn)
				return
			}
		}
		x.matchDomain(ev, f, h, rep, s, fn)
	case KindURL:
		u, hs, scheme, ok := normURL(s.buf[:0], v)
		if !ok {
			return
		}
		if !scheme {
			u, hs, _, _ = normURL(append(s.buf[:0], "http://"...), v)
		}
		s.buf = u
		if h, ok := x.url[string(u)]; ok {
			x.chain(ev, f, rep, h, s, fn)
		}
		if h, ok := x.urlNoScheme[string(u[hs:])]; ok {
			x.chain(ev, f, rep, h, s, fn)
		}
		// A URL also touches its host.
		host := urlHost(v)
		if len(host) > 0 {
			x.matchField(ev, f, KindHost, host, rep, s, fn)
		}
	case KindEmail:
		s.buf = normEmail(s.buf[:0], v)
		if h, ok := x.email[string(s.buf)]; ok {
			x.chain(ev, f, rep, h, s, fn)
		}
	case KindWallet:
		s.buf = normWallet(s.buf[:0], v)
		if h, ok := x.wallet[string(s.buf)]; ok {
			x.chain(ev, f, rep, h, s, fn)
		}
	case KindMD5, KindSHA1, KindSHA256, KindSHA512:
		s.buf = lowerASCII(s.buf[:0], bytes.TrimSpace(v))
		if h, ok := x.hash[k-KindMD5][string(s.buf)]; ok {
			x.chain(ev, f, rep, h, s, fn)
		}
	case KindHash:
		v = bytes.TrimSpace(v)
		if hk := hashKind(v); hk != KindNone {
			x.matchField(ev, f, hk, v, rep, s, fn)
		}
	case KindHashes:
		// Sysmon: "SHA1=…,MD5=…,SHA256=…,IMPHASH=…"
		for len(v) > 0 {
			part := v
			if i := bytes.IndexByte(v, ','); i >= 0 {
				part, v = v[:i], v[i+1:]
			} else {
				v = nil
			}
			if eq := bytes.IndexByte(part, '='); eq > 0 {
				if hk := algoKind(string(bytes.TrimSpace(part[:eq]))); hk != KindNone {
					x.matchField(ev, f, hk, part[eq+1:], part, s, fn)
				}
			} else if hk := hashKind(bytes.TrimSpace(part)); hk != KindNone {
				x.matchField(ev, f, hk, bytes.TrimSpace(part), part, s, fn)
			}
		}
	case KindOther:
		s.buf = append(append(append(s.buf[:0], f.T.Path...), 0), v...)
		if h, ok := x.other[string(s.buf)]; ok {
			x.chain(ev, f, rep, h, s, fn)
		}
	case KindImage:
		s.buf = append(append(s.buf[:0], "process:binary_ref.name\x00"...), v...)
		if h, ok := x.other[string(s.buf)]; ok {
			x.chain(ev, f, rep, h, s, fn)
		}
		s.buf = append(append(s.buf[:0], "file:name\x00"...), v...)
		if h, ok := x.other[string(s.buf)]; ok {
			x.chain(ev, f, rep, h, s, fn)
		}
	case KindAuto:
		if hk := hashKind(v); hk != KindNone {
			x.matchField(ev, f, hk, v, rep, s, fn)
		}
	}
}

func (x *Index) matchIP(ev *Event, f *Field, v, rep []byte, s *Scratch, fn func(*Field, []byte, *Indicator)) {
	a, ok := parseIP(bytes.TrimSpace(v))
	if !ok {
		return
	}
	if h, ok := x.ip[a]; ok {
		x.chain(ev, f, rep, h, s, fn)
	}
	if x.cidr.Size() > 0 && x.cidr.Contains(a) {
		for _, h := range x.cidr.Supernets(netip.PrefixFrom(a, a.BitLen())) {
			x.chain(ev, f, rep, h, s, fn)
		}
	}
}

// matchDomain looks the name up, then every parent: a.b.evil.com, b.evil.com,
// evil.com, com. Only whole labels are compared, so notevil.com never
// reaches evil.com.
func (x *Index) matchDomain(ev *Event, f *Field, v, rep []byte, s *Scratch, fn func(*Field, []byte, *Indicator)) {
	if len(x.domain) == 0 {
		return
	}
	s.buf = normDomain(s.buf[:0], v)
	d := s.buf
	for len(d) > 0 {
		if h, ok := x.domain[string(d)]; ok {
			x.chain(ev, f, rep, h, s, fn)
		}
		i := bytes.IndexByte(d, '.')
		if i < 0 {
			break
		}
		d = d[i+1:]
	}
}

// chain reports the entries of one key, confirming candidates.
func (x *Index) chain(ev *Event, f *Field, rep []byte, h int32, s *Scratch, fn func(*Field, []byte, *Indicator)) {
	for ; h >= 0; h = x.entries[h].next {
		ind := x.entries[h].Ind
		if s.seenInd(ind) {
			continue
		}
		if ind.m != nil && !s.confirm(ev, ind) {
			continue
		}
		s.seen = append(s.seen, ind)
		fn(f, rep, ind)
	}
}

func (s *Scratch) seenInd(ind *Indicator) bool {
	for _, x := range s.seen {
		if x == ind {
			return true
		}
	}
	return false
}
