package detect

import (
	"bytes"
	"net/netip"
	"unsafe"

	"github.com/gaissmai/bart"
	"github.com/google/uuid"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/stix/pattern"
)

// Indicator is what a hit reports about the indicator that matched.
type Indicator struct {
	ID, Name, Actor, Severity string
	TLP                       stix.TLP
	// Pattern is kept only for patterns the index cannot answer alone.
	Pattern string
}

// Ref names an indicator of an Index; Index.Indicator tells what it is.
type Ref uint32

// indRec is what the index keeps per indicator: 32 bytes, no pointers.
// Everything a hit reports that many indicators share (actor, TLP,
// severity) sits once in a meta record.
type indRec struct {
	uuid  [16]byte // of "indicator--<uuid>"
	name  uint32   // arena offset
	nlen  uint16
	_     uint16
	meta  uint32
	extra int32 // index into Index.extras, -1 for none
}

// indExtra is kept for the few indicators the maps cannot answer alone,
// and for ids that are not indicator--UUID.
type indExtra struct {
	id      string
	pattern string
	m       *pattern.Matcher
	// types are the object types the pattern needs, to skip events that
	// cannot match.
	types []string
	// temporal patterns need several events: the events that may take
	// part go to a stream evaluator in log order (see Scan).
	temporal bool
}

type meta struct {
	actor, severity string
	tlp             stix.TLP
}

// maxName bounds the name kept for a hit report.
const maxName = 1024

// CompileStats counts what Compile did with its input.
type CompileStats struct {
	Indicators int // indicators matched (directly or through the evaluator)
	Direct     int // answered by the maps alone
	Candidates int // indexed by a value, confirmed by the evaluator
	Unanchored int // evaluated on every event
	Temporal   int // over several events (AND, FOLLOWEDBY, REPEATS): evaluated over each log's stream
	Duplicates int // the same indicator given twice (same id and value)
	Expired    int
	Revoked    int
	NotSTIX    int // other pattern types, or objects that are not indicators
	Invalid    []error
}

// maxInvalid bounds the errors CompileStats keeps; InvalidCount counts all.
const maxInvalid = 100

// Index is a compiled set of indicators. It is safe for concurrent use.
type Index struct {
	tab    table // exact values: (kind, bytes) → entry chain
	ents   vec[entry]
	inds   vec[indRec]
	extras []indExtra
	metas  []meta
	ar     arena
	cidr   *bart.Table[int32] // address blocks → entry chain
	nkind  [256]int           // entries per kind, to skip work
	// labels has bit n set when some indexed domain has n labels (n < 64;
	// bit 63 stands for 63 or more): a name's suffixes of other lengths
	// need no look-up, which spares one random memory access per suffix
	// in a large index.
	labels     uint64
	unanchored []Ref
	// InvalidCount counts the invalid indicators, of which Stats.Invalid
	// keeps the first few.
	InvalidCount int
	Stats        CompileStats
}

func newIndex() *Index {
	return &Index{tab: newTable(), cidr: &bart.Table[int32]{}}
}

// Size is the number of indexed comparisons plus evaluated patterns.
func (x *Index) Size() int { return x.ents.len() + len(x.unanchored) }

// Len is the number of indicators indexed.
func (x *Index) Len() int { return x.inds.len() }

// Bytes estimates the memory the index holds.
func (x *Index) Bytes() int {
	n := x.ents.capBytes(int(unsafe.Sizeof(entry{}))) + x.inds.capBytes(int(unsafe.Sizeof(indRec{}))) +
		(len(x.tab.slots)+len(x.tab.filter))*8 + x.ar.size() + cap(x.unanchored)*4
	for _, e := range x.extras {
		n += len(e.id) + len(e.pattern) + 256
	}
	for _, m := range x.metas {
		n += len(m.actor) + len(m.severity) + 40
	}
	return n
}

// Indicator returns what a hit on r reports.
func (x *Index) Indicator(r Ref) Indicator {
	rec := x.inds.at(int(r))
	m := &x.metas[rec.meta]
	ind := Indicator{Name: string(x.ar.get(rec.name, int(rec.nlen))), Actor: m.actor, Severity: m.severity, TLP: m.tlp}
	if rec.extra >= 0 {
		ex := &x.extras[rec.extra]
		ind.ID, ind.Pattern = ex.id, ex.pattern
	}
	if ind.ID == "" {
		ind.ID = "indicator--" + uuid.UUID(rec.uuid).String()
	}
	return ind
}

// addEntry indexes r under anchor a; for values kept as text it returns
// the key's arena offset, so a name equal to the value need not be stored
// twice.
func (x *Index) addEntry(a anchor, r Ref, keyBuf []byte) (off uint32, text bool) {
	e := entry{ind: uint32(r), next: -1, kind: a.kind}
	if a.kind == KindIP && a.pfx.IsValid() && a.pfx.Bits() < a.pfx.Addr().BitLen() {
		if h, ok := x.cidr.Get(a.pfx); ok {
			e.next = h
		}
		x.cidr.Insert(a.pfx, int32(x.ents.push(e)))
		x.nkind[KindIP]++
		return 0, false
	}
	key := anchorKey(keyBuf[:0], a)
	e.klen = uint16(len(key))
	e.key = x.ar.add(key)
	ei := int32(x.ents.push(e))
	x.ents.at(int(ei)).next = x.tab.set(&x.ents, &x.ar, ei)
	x.nkind[a.kind]++
	if a.kind == KindDomain {
		x.labels |= 1 << labelCount(key)
	}
	return e.key, a.kind != KindIP && a.kind != KindOther
}

// anchorKey is the table key of an anchor: the address bytes for an IP,
// path NUL value for other comparisons, the normalised value otherwise.
func anchorKey(dst []byte, a anchor) []byte {
	switch a.kind {
	case KindIP:
		return addrKey(dst, a.pfx.Addr())
	case KindOther:
		return append(append(append(dst, a.path...), 0), a.value...)
	}
	return append(dst, a.value...)
}

func addrKey(dst []byte, a netip.Addr) []byte {
	if a.Is4() {
		b := a.As4()
		return append(dst, b[:]...)
	}
	b := a.As16()
	return append(dst, b[:]...)
}

// holds reports whether indicator u is already indexed under a.
func (x *Index) holds(a anchor, u [16]byte, keyBuf []byte) bool {
	var h int32 = -1
	if a.kind == KindIP && a.pfx.IsValid() && a.pfx.Bits() < a.pfx.Addr().BitLen() {
		if v, ok := x.cidr.Get(a.pfx); ok {
			h = v
		}
	} else {
		h = x.tab.find(&x.ents, &x.ar, a.kind, anchorKey(keyBuf[:0], a))
	}
	for ; h >= 0; h = x.ents.at(int(h)).next {
		if x.inds.at(int(x.ents.at(int(h)).ind)).uuid == u {
			return true
		}
	}
	return false
}

// lookup returns the entry chain of an exact key, or -1.
func (x *Index) lookup(kind Kind, key []byte) int32 {
	return x.tab.find(&x.ents, &x.ar, kind, key)
}

// Scratch is per-goroutine working space for matching.
type Scratch struct {
	buf  []byte
	obs  *pattern.Observation
	seen []Ref
	// Candidates are the temporal indicators the last event may take part
	// in, with its observation (see Match).
	Candidates []Candidate
}

// Candidate is an event that may take part in a temporal indicator's
// match: Scan feeds Obs to the indicator's stream evaluator, in log order.
type Candidate struct {
	Ref   Ref
	Field *Field
	Value []byte
	Obs   *pattern.Observation
}

// Match reports every indicator ev matches, once per indicator, through
// fn. Temporal indicators, which one event cannot satisfy alone, are not
// reported but listed in s.Candidates when ev may take part in them.
func (x *Index) Match(ev *Event, s *Scratch, fn func(f *Field, v []byte, r Ref)) {
	s.seen = s.seen[:0]
	s.obs = nil
	s.Candidates = s.Candidates[:0]
	for i := range ev.Fields {
		f := &ev.Fields[i]
		x.matchField(ev, f, f.T.Kind, f.Value, f.Value, s, fn)
	}
	if len(x.unanchored) > 0 && len(ev.Fields) > 0 {
		for _, r := range x.unanchored {
			ex := &x.extras[x.inds.at(int(r)).extra]
			if !s.hasTypes(ev, ex.types) {
				continue
			}
			if ex.temporal {
				s.candidate(ev, r, &ev.Fields[0], ev.Fields[0].Value)
				continue
			}
			if s.confirm(ev, ex.m) {
				fn(&ev.Fields[0], ev.Fields[0].Value, r)
			}
		}
	}
}

func (s *Scratch) candidate(ev *Event, r Ref, f *Field, v []byte) {
	if s.obs == nil {
		s.obs = observation(ev)
	}
	s.Candidates = append(s.Candidates, Candidate{Ref: r, Field: f, Value: v, Obs: s.obs})
}

// Stream returns a stream evaluator for temporal indicator r.
func (x *Index) Stream(r Ref) *pattern.Stream {
	if ex := x.inds.at(int(r)).extra; ex >= 0 && x.extras[ex].temporal {
		return pattern.NewStream(x.extras[ex].m)
	}
	return nil
}

func (x *Index) matchField(ev *Event, f *Field, k Kind, v, rep []byte, s *Scratch, fn func(*Field, []byte, Ref)) {
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
		if x.nkind[KindURL]+x.nkind[kURLNoScheme] > 0 {
			u, hs, scheme, ok := normURL(s.buf[:0], v)
			if !ok {
				return
			}
			if !scheme {
				u, hs, _, _ = normURL(append(s.buf[:0], "http://"...), v)
			}
			s.buf = u
			if h := x.lookup(KindURL, u); h >= 0 {
				x.chain(ev, f, rep, h, s, fn)
			}
			if h := x.lookup(kURLNoScheme, u[hs:]); h >= 0 {
				x.chain(ev, f, rep, h, s, fn)
			}
		}
		// A URL also touches its host.
		host := urlHost(v)
		if len(host) > 0 {
			x.matchField(ev, f, KindHost, host, rep, s, fn)
		}
	case KindEmail:
		if x.nkind[KindEmail] == 0 {
			return
		}
		s.buf = normEmail(s.buf[:0], v)
		if h := x.lookup(KindEmail, s.buf); h >= 0 {
			x.chain(ev, f, rep, h, s, fn)
		}
	case KindWallet:
		if x.nkind[KindWallet] == 0 {
			return
		}
		s.buf = normWallet(s.buf[:0], v)
		if h := x.lookup(KindWallet, s.buf); h >= 0 {
			x.chain(ev, f, rep, h, s, fn)
		}
	case KindMD5, KindSHA1, KindSHA256, KindSHA512:
		if x.nkind[k] == 0 {
			return
		}
		s.buf = lowerASCII(s.buf[:0], bytes.TrimSpace(v))
		if h := x.lookup(k, s.buf); h >= 0 {
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
		if x.nkind[KindOther] == 0 {
			return
		}
		s.buf = append(append(append(s.buf[:0], f.T.Path...), 0), v...)
		if h := x.lookup(KindOther, s.buf); h >= 0 {
			x.chain(ev, f, rep, h, s, fn)
		}
	case KindImage:
		if x.nkind[KindOther] == 0 {
			return
		}
		s.buf = append(append(s.buf[:0], "process:binary_ref.name\x00"...), v...)
		if h := x.lookup(KindOther, s.buf); h >= 0 {
			x.chain(ev, f, rep, h, s, fn)
		}
		s.buf = append(append(s.buf[:0], "file:name\x00"...), v...)
		if h := x.lookup(KindOther, s.buf); h >= 0 {
			x.chain(ev, f, rep, h, s, fn)
		}
	case KindAuto:
		if hk := hashKind(v); hk != KindNone {
			x.matchField(ev, f, hk, v, rep, s, fn)
		}
	}
}

func (x *Index) matchIP(ev *Event, f *Field, v, rep []byte, s *Scratch, fn func(*Field, []byte, Ref)) {
	if x.nkind[KindIP] == 0 {
		return
	}
	a, ok := parseIP(bytes.TrimSpace(v))
	if !ok {
		return
	}
	s.buf = addrKey(s.buf[:0], a)
	if h := x.lookup(KindIP, s.buf); h >= 0 {
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
func (x *Index) matchDomain(ev *Event, f *Field, v, rep []byte, s *Scratch, fn func(*Field, []byte, Ref)) {
	if x.nkind[KindDomain] == 0 {
		return
	}
	s.buf = normDomain(s.buf[:0], v)
	d := s.buf
	n := labelCount(d)
	for len(d) > 0 {
		if x.labels&(1<<n) != 0 {
			if h := x.lookup(KindDomain, d); h >= 0 {
				x.chain(ev, f, rep, h, s, fn)
			}
		}
		i := bytes.IndexByte(d, '.')
		if i < 0 {
			break
		}
		d = d[i+1:]
		if n < 63 {
			n--
		} else {
			n = labelCount(d)
		}
	}
}

// labelCount counts the labels of a domain name, up to 63.
func labelCount(d []byte) uint {
	n := uint(1) + uint(bytes.Count(d, []byte(".")))
	return min(n, 63)
}

// chain reports the entries of one key, confirming candidates.
func (x *Index) chain(ev *Event, f *Field, rep []byte, h int32, s *Scratch, fn func(*Field, []byte, Ref)) {
	for ; h >= 0; h = x.ents.at(int(h)).next {
		r := Ref(x.ents.at(int(h)).ind)
		if s.seenRef(r) {
			continue
		}
		if ex := x.inds.at(int(r)).extra; ex >= 0 && x.extras[ex].m != nil {
			if x.extras[ex].temporal {
				s.seen = append(s.seen, r)
				s.candidate(ev, r, f, rep)
				continue
			}
			if !s.confirm(ev, x.extras[ex].m) {
				continue
			}
		}
		s.seen = append(s.seen, r)
		fn(f, rep, r)
	}
}

func (s *Scratch) seenRef(r Ref) bool {
	for _, x := range s.seen {
		if x == r {
			return true
		}
	}
	return false
}
