package detect

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/stix/pattern"
)

// Options control Compile.
type Options struct {
	// Now is the instant validity is judged at; zero means time.Now().
	Now time.Time
	// Actors names the actor behind an indicator, by indicator id. It
	// takes precedence over "indicates" relationships.
	Actors map[string]string
	// Severity is given to indicator hits; "high" when empty.
	Severity string
}

// Compile builds an Index from STIX objects; objects other than indicators
// with STIX patterns are counted and ignored (except for naming actors, see
// Builder.Add), as are revoked indicators and those past valid_until.
// Invalid patterns are listed in Stats.Invalid and skipped: one bad
// indicator never stops the rest.
func Compile(objs []*stix.Object, opts Options) (*Index, error) {
	b := NewBuilder(opts)
	for _, o := range objs {
		b.Add(o)
	}
	return b.Index(), nil
}

// Builder builds an Index one indicator at a time, so a caller streaming a
// million indicators out of a feed, a list or the store never holds them
// as STIX objects: per indicator the index keeps its id as 16 bytes, its
// name, and a shared record of actor, TLP and severity; per value a
// 16-byte entry and the value's bytes.
type Builder struct {
	x       *Index
	opts    Options
	now     time.Time
	sev     string
	metaIdx map[meta]uint32
	buf     []byte

	// "indicates" relationships seen, resolved to actor names by Index:
	// relationships and the actors they name may come in any order.
	rels     []pendingRel
	relByID  map[string]uint32 // for indicator ids that are not UUIDs
	targets  map[string]uint32 // actor object id → index in names
	names    []string          // "" until the object's name is seen
	ranks    []uint8           // actorRank of each target
	finished bool
}

type pendingRel struct {
	src [16]byte
	tgt uint32
}

// NewBuilder starts an empty index.
func NewBuilder(opts Options) *Builder {
	b := &Builder{x: newIndex(), opts: opts, now: opts.Now, sev: opts.Severity, metaIdx: map[meta]uint32{}}
	if b.now.IsZero() {
		b.now = time.Now()
	}
	if b.sev == "" {
		b.sev = "high"
	}
	return b
}

// actorType tells the objects whose name is an "indicates" target's actor.
func actorType(t string) bool { return actorRank(t) < noRank }

// actorRank orders the kinds of target an indicator may indicate: when it
// indicates several, the group behind it is reported rather than its
// malware, whatever order the relationships come in.
func actorRank(t string) uint8 {
	switch t {
	case "intrusion-set":
		return 0
	case "threat-actor":
		return 1
	case "campaign":
		return 2
	case "malware":
		return 3
	}
	return noRank
}

const noRank = 255

// Add indexes one object. Indicators with STIX patterns are indexed;
// "indicates" relationships and the names of intrusion sets, threat
// actors, campaigns and malware name the actor of the indicators they
// concern (an intrusion set before a threat actor, a campaign, then
// malware; the first relationship among equals); anything else is counted
// and ignored.
func (b *Builder) Add(o *stix.Object) {
	x := b.x
	if o == nil {
		return
	}
	switch {
	case o.Type == "relationship":
		if o.String("relationship_type") == "indicates" {
			b.Indicates(o.String("source_ref"), o.String("target_ref"))
		}
		x.Stats.NotSTIX++
		return
	case actorType(o.Type):
		b.name(o.ID, o.Name(), actorRank(o.Type))
		x.Stats.NotSTIX++
		return
	case o.Type != "indicator":
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
	b.addPattern(o.ID, o.Name(), b.opts.Actors[o.ID], o.EffectiveTLP(), o.String("pattern"))
}

func (b *Builder) invalid(err error) {
	b.x.InvalidCount++
	if len(b.x.Stats.Invalid) < maxInvalid {
		b.x.Stats.Invalid = append(b.x.Stats.Invalid, err)
	}
}

// addPattern parses and indexes a STIX pattern.
func (b *Builder) addPattern(id, name, actor string, tlp stix.TLP, src string) {
	p, err := pattern.Parse(src)
	if err != nil {
		b.invalid(fmt.Errorf("%s: %w", id, err))
		return
	}
	as, direct, ok := obsAnchors(p.Root)
	if ok && b.tooLong(as) {
		// A value too long to index (a huge command line, say): evaluate
		// the pattern on every event instead.
		as, direct, ok = nil, false, false
	}
	var ex *indExtra
	if !direct {
		// Only patterns the index cannot answer alone keep their text and
		// a compiled matcher; the rest are fully described by their keys.
		m, err := pattern.Compile(p)
		if err != nil {
			b.invalid(fmt.Errorf("%s: %w", id, err))
			return
		}
		ex = &indExtra{pattern: src, m: m, types: patternTypes(p.Root, nil), temporal: temporal(p.Root)}
	}
	b.add(id, name, actor, tlp, as, direct, ok, ex)
}

// add indexes one indicator under its anchors (ok false: evaluated on
// every event).
func (b *Builder) add(id, name, actor string, tlp stix.TLP, as []anchor, direct, ok bool, ex *indExtra) {
	u, isUUID := indicatorUUID(id)
	if !isUUID {
		if ex == nil {
			ex = &indExtra{}
		}
		ex.id = id
	}
	b.addRec(u, isUUID, name, actor, tlp, as, direct, ok, ex)
}

// addRec is add for an id already split: u is its UUID when isUUID,
// otherwise ex.id holds it.
func (b *Builder) addRec(u [16]byte, isUUID bool, name, actor string, tlp stix.TLP, as []anchor, direct, ok bool, ex *indExtra) {
	x := b.x
	if ok && (len(as) == 0 || b.tooLong(as)) {
		ok = false
	}
	if !ok && (ex == nil || ex.m == nil) {
		id := "indicator--" + uuid.UUID(u).String()
		if !isUUID {
			id = ex.id
		}
		b.invalid(fmt.Errorf("%s: no value to index and no pattern to evaluate (value longer than %d bytes?)", id, maxKey))
		return
	}
	if ok && isUUID && x.holds(as[0], u, b.buf) {
		x.Stats.Duplicates++
		return
	}
	r := Ref(x.inds.len())
	rec := indRec{uuid: u, meta: b.meta(actor, tlp), extra: -1}
	if ex != nil {
		rec.extra = int32(len(x.extras))
		x.extras = append(x.extras, *ex)
	}
	name = truncName(name)
	named := false
	if ok {
		for _, a := range as {
			off, text := x.addEntry(a, r, b.buf)
			if text && !named && a.value == name {
				rec.name, rec.nlen, named = off, uint16(len(name)), true
			}
		}
	} else {
		x.unanchored = append(x.unanchored, r)
	}
	if !named && name != "" {
		rec.name, rec.nlen = x.ar.add([]byte(name)), uint16(len(name))
	}
	x.inds.push(rec)
	x.Stats.Indicators++
	if ex != nil && ex.temporal {
		x.Stats.Temporal++
	}
	switch {
	case !ok:
		x.Stats.Unanchored++
	case direct:
		x.Stats.Direct++
	default:
		x.Stats.Candidates++
	}
}

func (b *Builder) tooLong(as []anchor) bool {
	for _, a := range as {
		if a.kind != KindIP && len(a.path)+1+len(a.value) > maxKey {
			return true
		}
	}
	return false
}

func truncName(s string) string {
	if len(s) <= maxName {
		return s
	}
	n := maxName
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// indicatorUUID takes the UUID out of "indicator--<uuid>".
func indicatorUUID(id string) ([16]byte, bool) {
	rest, ok := strings.CutPrefix(id, "indicator--")
	if !ok || len(rest) != 36 {
		return [16]byte{}, false
	}
	u, err := uuid.Parse(rest)
	if err != nil || u.String() != rest {
		// Only the canonical lower-case form round-trips to the same id.
		return [16]byte{}, false
	}
	return u, true
}

func (b *Builder) meta(actor string, tlp stix.TLP) uint32 {
	k := meta{actor: actor, severity: b.sev, tlp: tlp}
	if i, ok := b.metaIdx[k]; ok {
		return i
	}
	i := uint32(len(b.x.metas))
	b.x.metas = append(b.x.metas, k)
	b.metaIdx[k] = i
	return i
}

// Indicates records that indicator indicatorID indicates the object
// targetID; Name gives that object's name. Together they name the
// indicator's actor, whatever order they come in.
func (b *Builder) Indicates(indicatorID, targetID string) {
	if targetID == "" {
		return
	}
	if b.targets == nil {
		b.targets = map[string]uint32{}
	}
	t, ok := b.targets[targetID]
	if !ok {
		t = uint32(len(b.names))
		b.targets[targetID] = t
		b.names = append(b.names, "")
		b.ranks = append(b.ranks, noRank)
	}
	if u, ok := indicatorUUID(indicatorID); ok {
		b.rels = append(b.rels, pendingRel{src: u, tgt: t})
		return
	}
	if !strings.HasPrefix(indicatorID, "indicator--") {
		return
	}
	if b.relByID == nil {
		b.relByID = map[string]uint32{}
	}
	if _, ok := b.relByID[indicatorID]; !ok {
		b.relByID[indicatorID] = t
	}
}

// Name records the name of an object indicators may indicate (feeds list
// actors before or after the relationships to them). A name given here
// ranks after those of intrusion sets, threat actors, campaigns and malware.
func (b *Builder) Name(id, name string) { b.name(id, name, noRank-1) }

func (b *Builder) name(id, name string, rank uint8) {
	if name == "" || id == "" {
		return
	}
	if b.targets == nil {
		b.targets = map[string]uint32{}
	}
	t, ok := b.targets[id]
	if !ok {
		b.targets[id] = uint32(len(b.names))
		b.names = append(b.names, name)
		b.ranks = append(b.ranks, rank)
		return
	}
	if b.names[t] == "" {
		b.names[t], b.ranks[t] = name, rank
	}
}

// Index resolves actors and returns the index; the Builder must not be
// used afterwards.
func (b *Builder) Index() *Index {
	x := b.x
	if b.finished {
		return x
	}
	b.finished = true
	if len(b.rels) > 0 || len(b.relByID) > 0 {
		// Sorting the relationships by indicator (keeping their order per
		// indicator) lets each record find its own by binary search,
		// without a map from a million ids.
		sort.SliceStable(b.rels, func(i, j int) bool { return lessUUID(b.rels[i].src, b.rels[j].src) })
		for i := 0; i < x.inds.len(); i++ {
			rec := x.inds.at(i)
			if x.metas[rec.meta].actor != "" {
				continue
			}
			actor := ""
			if rec.extra >= 0 && x.extras[rec.extra].id != "" {
				if t, ok := b.relByID[x.extras[rec.extra].id]; ok {
					actor = b.names[t]
				}
			} else {
				// The best ranked named target; the first of equals.
				best := uint8(noRank)
				k := sort.Search(len(b.rels), func(j int) bool { return !lessUUID(b.rels[j].src, rec.uuid) })
				for ; k < len(b.rels) && b.rels[k].src == rec.uuid; k++ {
					t := b.rels[k].tgt
					if n := b.names[t]; n != "" && b.ranks[t] < best {
						actor, best = n, b.ranks[t]
					}
				}
			}
			if actor != "" {
				m := x.metas[rec.meta]
				rec.meta = b.metaWith(actor, m)
			}
		}
	}
	b.rels, b.relByID, b.targets, b.names, b.ranks, b.metaIdx = nil, nil, nil, nil, nil, nil
	x.tab.seal(&x.ents, &x.ar)
	return x
}

func (b *Builder) metaWith(actor string, m meta) uint32 {
	k := meta{actor: actor, severity: m.severity, tlp: m.tlp}
	if i, ok := b.metaIdx[k]; ok {
		return i
	}
	i := uint32(len(b.x.metas))
	b.x.metas = append(b.x.metas, k)
	b.metaIdx[k] = i
	return i
}

func lessUUID(a, b [16]byte) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}
