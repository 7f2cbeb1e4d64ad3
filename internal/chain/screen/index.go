package screen

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/bulwark-intel/bulwark/internal/chain/address"
	"github.com/bulwark-intel/bulwark/internal/huge"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

// Store is what the index reads: the objects through a store.Reader, one
// collection at a time (an object's effective TLP, and who may see it,
// depend on the collection it is in), and the list of collections.
type Store interface {
	store.Reader
	ListCollections(ctx context.Context) ([]store.Collection, error)
}

// IndexOptions tunes an Index.
type IndexOptions struct {
	Logger *slog.Logger
	// RebuildEvery is how often Update reloads everything instead of
	// polling for additions. Polling sees new objects, new versions and
	// revocations; an object taken out of a collection (TAXII DELETE)
	// makes an Update reload (store.Collection.Removals), RemovalGap after
	// the last reload at the earliest. Zero means one hour; negative never
	// (tests).
	RebuildEvery time.Duration
	// SizeHint is the number of addresses expected, to size the table.
	SizeHint int
	// RemovalGap is the least time between the last reload and one made
	// for removals. Zero means 30 s or four times the last reload's
	// duration, whichever is longer; negative none (tests).
	RemovalGap time.Duration
}

// removalGap is the least time from the last reload to one for removals.
func (ix *Index) removalGap() time.Duration {
	switch g := ix.opts.RemovalGap; {
	case g < 0:
		return 0
	case g > 0:
		return g
	}
	return max(30*time.Second, 4*ix.lastFullTook)
}

// Index is an in-memory index of every wallet the store knows: canonical
// address → the indicators listing it, one listing per indicator and
// collection, each with the facts the access decision needs (collection,
// TLP marking, creator, TLP:RED recipients). Evidence is filtered per
// viewer when an address is screened (see Policy), so one index serves
// every organisation.
//
// Update keeps it current by polling the store for objects added since the
// last date_added it saw, per collection. Screening and updating may run
// concurrently.
type Index struct {
	src  Store
	opts IndexOptions
	log  *slog.Logger

	upd          sync.Mutex    // serialises Update and Rebuild
	lastFull     time.Time     // under upd
	lastFullTook time.Duration // how long that reload took
	loaded       atomic.Bool
	polled       atomic.Int64 // Unix ns of the last update's start

	mu sync.RWMutex // guards st and every structure it holds
	st *state

	exp atomic.Pointer[Exposure]
}

// NewIndex returns an empty index over src; Update fills it.
func NewIndex(src Store, opts IndexOptions) *Index {
	if opts.RebuildEvery == 0 {
		opts.RebuildEvery = time.Hour
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	ix := &Index{src: src, opts: opts, log: log}
	ix.st = newState(opts.SizeHint)
	return ix
}

// Loaded reports whether a first Update has completed.
func (ix *Index) Loaded() bool { return ix.loaded.Load() }

// UpdateStats reports what one Update did.
type UpdateStats struct {
	Rebuilt  bool // a full reload
	Records  int  // object versions read from the store
	Applied  int  // versions that changed the index
	Duration time.Duration
	removed  bool // poll: a collection lost objects since the state was loaded
}

// Update brings the index up to date with the store: a full load the
// first time and every RebuildEvery, otherwise the objects added since the
// last update.
func (ix *Index) Update(ctx context.Context) (UpdateStats, error) {
	ix.upd.Lock()
	defer ix.upd.Unlock()
	ix.polled.Store(time.Now().UnixNano())
	if !ix.loaded.Load() || (ix.opts.RebuildEvery > 0 && time.Since(ix.lastFull) >= ix.opts.RebuildEvery) {
		return ix.rebuildLocked(ctx)
	}
	start := time.Now()
	st := ix.current()
	us, err := ix.poll(ctx, st, true)
	us.Duration = time.Since(start)
	if err != nil {
		return us, err
	}
	if us.removed && time.Since(ix.lastFull) >= ix.removalGap() {
		// Objects were taken out of a collection (TAXII DELETE): only a
		// reload forgets them. Screening goes on from the old state
		// meanwhile. Reloads for removals are spaced (removalGap), so
		// that a writer adding and deleting an object every few seconds
		// cannot keep one running; until then the state still counts the
		// old removals and the next update looks again.
		return ix.rebuildLocked(ctx)
	}
	if st.garbage() {
		// Replaced versions leave their address lists behind; a reload
		// gives the memory back.
		return ix.rebuildLocked(ctx)
	}
	return us, nil
}

// Rebuild reloads everything from the store into a fresh index and swaps it
// in; screening goes on from the old one meanwhile.
func (ix *Index) Rebuild(ctx context.Context) (UpdateStats, error) {
	ix.upd.Lock()
	defer ix.upd.Unlock()
	return ix.rebuildLocked(ctx)
}

func (ix *Index) rebuildLocked(ctx context.Context) (UpdateStats, error) {
	start := time.Now()
	hint := ix.opts.SizeHint
	if cur := ix.current(); cur != nil {
		hint = max(hint, cur.addrs.n)
	}
	st := newState(hint)
	us, err := ix.poll(ctx, st, false)
	us.Rebuilt = true
	us.Duration = time.Since(start)
	if err != nil {
		return us, err
	}
	ix.mu.Lock()
	ix.st = st
	ix.mu.Unlock()
	ix.lastFull, ix.lastFullTook = start, time.Since(start)
	ix.loaded.Store(true)
	return us, nil
}

func (ix *Index) current() *state {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.st
}

// Run updates the index every interval until ctx ends, logging failures.
// It does a first Update at once.
func (ix *Index) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if us, err := ix.Update(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			ix.log.Warn("screening index update failed", "err", err)
		} else if us.Applied > 0 || us.Rebuilt {
			ix.log.Info("screening index updated", "rebuilt", us.Rebuilt, "read", us.Records, "applied", us.Applied, "took", us.Duration.Round(time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Refresh is for callers without a background refresher (a request
// handler): the first call loads the index (concurrent callers wait for
// it); later calls start an update in the background when the last one is
// older than maxAge, and return at once.
func (ix *Index) Refresh(ctx context.Context, maxAge time.Duration) error {
	if !ix.loaded.Load() {
		_, err := ix.Update(ctx)
		return err
	}
	now := time.Now().UnixNano()
	last := ix.polled.Load()
	if now-last < int64(maxAge) || !ix.polled.CompareAndSwap(last, now) {
		return nil
	}
	go func() {
		// Detached from the request: it must finish even when the
		// request that started it does not wait.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
		defer cancel()
		if _, err := ix.Update(ctx); err != nil {
			ix.log.Warn("screening index update failed", "err", err)
		}
	}()
	return nil
}

// Stats describes the index.
type Stats struct {
	Addresses   int   // distinct keys
	Listings    int   // indicator versions, one per indicator and collection
	Indicators  int   // distinct indicators
	Names       int   // identities, actors and other named objects
	Attribution int   // attribution relationships
	Bytes       int64 // memory of the address table, listings and indicators
}

// Stats returns the index's size.
func (ix *Index) Stats() Stats {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	st := ix.st
	b := st.addrs.bytes()
	b += int64(len(st.lists)) * listChunk * int64(sizeofListing)
	b += int64(len(st.inds)) * indChunk * int64(sizeofInd)
	b += int64(len(st.ids.slots)) * 4
	b += int64(len(st.addrRefs)) * refChunk * 4
	for _, s := range st.strs {
		b += int64(len(s)) + 16
	}
	return Stats{Addresses: st.addrs.n, Listings: int(st.nlist), Indicators: int(st.nind),
		Names: len(st.named), Attribution: len(st.rels), Bytes: b}
}

// state is one generation of the index. Everything in it is guarded by
// Index.mu, except while it is being built privately by a rebuild.
type state struct {
	seed  maphash.Seed
	addrs *addrTable

	colls   []collState
	collNum map[string]uint16

	lists [][]listing // chunks of listChunk
	nlist uint32
	inds  [][]indRec // chunks of indChunk
	nind  uint32
	ids   idTable
	odd   map[string]uint32 // indicators whose id is not indicator--<lower-case UUID>
	oddID map[uint32]string

	addrRefs [][]uint32 // chunks of refChunk: the address records each listing names
	refUsed  int
	refLive  int
	refTotal int

	strs   []string // interned names, identity ids
	strIdx map[string]uint32
	sets   [][]string // interned label and recipient sets
	setIdx map[string]uint32

	named map[uint32]*named // identities and actors, by interned id
	// lower holds the keys of listed values that are not valid addresses
	// and have no upper case: the only keys a case-insensitive lookup can
	// find. A screened address is looked up ignoring case only when its
	// lower-cased key is here, which spares that second lookup to almost
	// every base58 address. Never shrinks (a stale entry costs one lookup).
	lower map[string]struct{}
	rels  map[string]*rel   // attribution relationships, by id
	attrs map[string][]*rel // live attribution relationships by indicator id

	srcGen uint64 // raised when the set of addresses that may be sources changes
}

type collState struct {
	id         string
	defaultTLP stix.TLP // TLPNone counts as AMBER
	after      time.Time
	removals   int64 // store.Collection.Removals when the state was loaded
}

const (
	listChunk = 1 << 18 // 16 MiB: huge pages cover at least seven eighths (see recChunkBits)
	indChunk  = 1 << 17 // 3 MiB
	refChunk  = 1 << 16
)

// listing is one indicator as one collection holds it (its latest version
// there), with what the access decision and the evidence need. It fills
// one cache line exactly (the chunks are page-aligned), so that a listed
// address costs three trips to memory: slot, record, listing. Hence the
// indicator's UUID and attribution are copied into each of its listings
// rather than read from the indicator.
type listing struct {
	uuid      [16]byte // the indicator's, zero for an odd id
	modified  int64    // version, Unix µs
	ind       uint32   // indicator number
	next      uint32   // the indicator's next listing (another collection) + 1
	name      uint32   // interned
	labels    uint32   // interned set
	createdBy uint32   // interned identity id
	recips    uint32   // interned set of TLP:RED recipients
	addrOff   uint32   // chunk<<16 | offset into addrRefs
	naddr     uint32
	coll      uint16
	tlp       stix.TLP // from the object's markings; TLPNone when unmarked
	grade     uint8    // risk rank from the labels alone
	live      bool     // not revoked, and lists at least one wallet
	// attributed: some live attribution relationship starts at the
	// indicator.
	attributed bool
}

// A listing must stay one cache line: this fails to compile otherwise.
var _ [0]struct{} = [unsafe.Sizeof(listing{}) - 64]struct{}{}

// indRec is an indicator; it always has at least one listing.
type indRec struct {
	first uint32 // first listing + 1
}

var (
	sizeofListing = unsafe.Sizeof(listing{})
	sizeofInd     = unsafe.Sizeof(indRec{})
)

// visFacts are an object version's inputs to the access decision.
type visFacts struct {
	coll      uint16
	tlp       stix.TLP
	createdBy string
	recips    []string
}

type named struct {
	vers []namedVer // latest version per collection
}

type namedVer struct {
	visFacts
	modified int64
	name     string
}

type rel struct {
	id   string
	vers []relVer
	srcs []string // indicator ids this relationship is filed under in attrs
}

type relVer struct {
	visFacts
	modified int64
	src      string
	dst      uint32 // interned target id
	live     bool   // not revoked, and an attribution type
}

func newState(hint int) *state {
	seed := maphash.MakeSeed()
	st := &state{
		seed:    seed,
		addrs:   newAddrTable(seed, hint),
		collNum: map[string]uint16{},
		odd:     map[string]uint32{},
		oddID:   map[uint32]string{},
		strIdx:  map[string]uint32{"": 0},
		strs:    []string{""},
		setIdx:  map[string]uint32{"": 0},
		sets:    [][]string{nil},
		named:   map[uint32]*named{},
		lower:   map[string]struct{}{},
		rels:    map[string]*rel{},
		attrs:   map[string][]*rel{},
	}
	st.ids.init(seed, hint)
	return st
}

func (st *state) listing(id uint32) *listing { return &st.lists[id/listChunk][id%listChunk] }
func (st *state) ind(id uint32) *indRec      { return &st.inds[id/indChunk][id%indChunk] }
func (st *state) uuidOf(id uint32) *[16]byte { return &st.listing(st.ind(id).first - 1).uuid }

func (st *state) refs(l *listing) []uint32 {
	if l.naddr == 0 {
		return nil
	}
	c := st.addrRefs[l.addrOff>>16]
	off := l.addrOff & 0xffff
	return c[off : off+l.naddr]
}

// garbage reports whether replaced postings and address lists outweigh the
// live ones enough to reload.
func (st *state) garbage() bool {
	a := st.addrs
	return (a.postTotal-a.postLive > 1<<20 && a.postTotal > 2*a.postLive) ||
		(st.refTotal-st.refLive > 1<<20 && st.refTotal > 2*st.refLive)
}

func (st *state) intern(s string) uint32 {
	if i, ok := st.strIdx[s]; ok {
		return i
	}
	i := uint32(len(st.strs))
	st.strs = append(st.strs, s)
	st.strIdx[s] = i
	return i
}

func (st *state) internSet(v []string) uint32 {
	if len(v) == 0 {
		return 0
	}
	k := v[0]
	if len(v) > 1 {
		k = strings.Join(v, "\x00")
	}
	if i, ok := st.setIdx[k]; ok {
		return i
	}
	i := uint32(len(st.sets))
	st.sets = append(st.sets, slices.Clone(v))
	st.setIdx[k] = i
	return i
}

// indicatorID renders indicator ind's STIX id.
func (st *state) indicatorID(ind uint32) string {
	if s, ok := st.oddID[ind]; ok {
		return s
	}
	var b [indicatorIDLen]byte
	putIndicatorID(b[:], st.uuidOf(ind))
	return string(b[:])
}

// indicatorIDLen is the length of indicator--<UUID>.
const indicatorIDLen = 11 + 36

// putIndicatorID writes indicator--<u> into b[:indicatorIDLen], four
// bytes of the UUID at a time.
func putIndicatorID(b []byte, u *[16]byte) {
	b = b[:indicatorIDLen]
	copy(b, "indicator--")
	le := binary.LittleEndian
	le.PutUint64(b[11:], hex4(le.Uint32(u[0:])))
	h := hex4(le.Uint32(u[4:]))
	le.PutUint32(b[20:], uint32(h))
	le.PutUint32(b[25:], uint32(h>>32))
	h = hex4(le.Uint32(u[8:]))
	le.PutUint32(b[30:], uint32(h))
	le.PutUint32(b[35:], uint32(h>>32))
	le.PutUint64(b[39:], hex4(le.Uint32(u[12:])))
	b[19], b[24], b[29], b[34] = '-', '-', '-', '-'
}

// hex4 spells the 4 bytes of w (first byte in the low bits) as 8
// lower-case hex digits, first digit in the low byte.
func hex4(w uint32) uint64 {
	const ones = 0x0101010101010101
	x := uint64(w)
	x = (x | x<<16) & 0x0000ffff0000ffff
	x = (x | x<<8) & 0x00ff00ff00ff00ff // byte i alone in 16-bit lane i
	n := (x>>4)&0x000f000f000f000f | (x&0x000f000f000f000f)<<8
	letters := (n + 6*ones) >> 4 & ones // 1 in each byte holding 10..15
	return n + '0'*ones + letters*('a'-'0'-10)
}

// uuidPos is where byte i of a UUID goes in indicator--<UUID>: the groups
// are 4, 2, 2, 2 and 6 bytes, with a dash between.
var uuidPos = [16]int{11, 13, 15, 17, 20, 22, 25, 27, 30, 32, 35, 37, 39, 41, 43, 45}

// parseIndicatorID reads indicator--<lower-case UUID>; other spellings are
// kept by name (odd).
func parseIndicatorID(id string) ([16]byte, bool) {
	var u [16]byte
	const p = "indicator--"
	if len(id) != len(p)+36 || !strings.HasPrefix(id, p) {
		return u, false
	}
	s := id[len(p):]
	if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	for i, at := range uuidPos {
		at -= len(p)
		hi, ok1 := unhex(s[at])
		lo, ok2 := unhex(s[at+1])
		if !ok1 || !ok2 {
			return u, false
		}
		u[i] = hi<<4 | lo
	}
	return u, true
}

// Watched types: indicators, the relationships that attribute them, and
// the objects whose names the evidence shows.
var watched = []string{"indicator", "relationship", "identity", "intrusion-set", "threat-actor", "campaign", "malware", "tool", "infrastructure"}

func attributionType(t string) bool { return t == "indicates" || t == "attributed-to" }

// maxKeysPerIndicator bounds the addresses one indicator contributes (a
// pattern ORing thousands of wallets is legal STIX, but not unbounded).
const maxKeysPerIndicator = 100_000

// applyBatch is how many changes are applied under one hold of the write
// lock, which keeps screening latency flat while an update runs.
const applyBatch = 256

// poll reads what each collection received since the state last looked and
// applies it. live states are published: mutations take the write lock.
func (ix *Index) poll(ctx context.Context, st *state, live bool) (UpdateStats, error) {
	var us UpdateStats
	colls, err := ix.src.ListCollections(ctx)
	if err != nil {
		return us, fmt.Errorf("screening index: listing collections: %w", err)
	}
	lock, unlock := func() {}, func() {}
	if live {
		lock, unlock = ix.mu.Lock, ix.mu.Unlock
	}
	lock()
	for _, c := range colls {
		n, ok := st.collNum[c.ID]
		if !ok {
			if len(st.colls) >= 1<<16-1 {
				unlock()
				return us, errors.New("screening index: more than 65535 collections")
			}
			n = uint16(len(st.colls))
			st.collNum[c.ID] = n
			st.colls = append(st.colls, collState{id: c.ID, removals: c.Removals})
		}
		st.colls[n].defaultTLP = c.DefaultTLP
		// Polling reads additions only: an object taken out of a
		// collection since the state was loaded needs a reload (Update).
		if st.colls[n].removals != c.Removals {
			us.removed = true
		}
	}
	unlock()

	for _, c := range colls {
		n := st.collNum[c.ID]
		q := store.Query{Collection: c.ID, Types: watched, Versions: store.Versions{Mode: store.All},
			AddedAfter: st.colls[n].after, Limit: store.MaxLimit}
		for {
			if err := ctx.Err(); err != nil {
				return us, err
			}
			page, err := ix.src.Query(ctx, q)
			if err != nil {
				return us, fmt.Errorf("screening index: reading collection %s: %w", c.ID, err)
			}
			us.Records += len(page.Records)
			chs := make([]change, 0, len(page.Records))
			for _, rec := range page.Records {
				if ch, ok := parseChange(n, rec); ok {
					chs = append(chs, ch)
				}
			}
			for start := 0; start < len(chs); start += applyBatch {
				batch := chs[start:min(start+applyBatch, len(chs))]
				st.reserve(batch, lock, unlock)
				lock()
				for i := range batch {
					if st.apply(&batch[i]) {
						us.Applied++
					}
				}
				unlock()
			}
			if k := len(page.Records); k > 0 {
				// Records come in date_added order; the last one is where
				// the next poll starts.
				lock()
				st.colls[n].after = page.Records[k-1].DateAdded
				unlock()
			}
			if !page.More {
				break
			}
			q.Cursor = page.Next
		}
	}
	return us, nil
}

// change is one object version, digested outside the lock.
type change struct {
	kind     uint8
	id       string
	modified int64
	revoked  bool
	vis      visFacts
	name     string
	// indicators
	labels []string
	grade  uint8
	keys   [][]byte
	lower  []string // keys of values that are no address and in lower case
	// relationships
	src, dst string
	attrib   bool
}

const (
	kIndicator = iota + 1
	kRelationship
	kNamed
)

func parseChange(coll uint16, rec store.Record) (change, bool) {
	o := rec.Object
	ch := change{id: o.ID, modified: rec.Version.UnixMicro(), revoked: o.Revoked}
	ch.vis = visFacts{coll: coll, tlp: o.EffectiveTLP(), createdBy: o.CreatedByRef}
	// The stores' rule exactly: screening must not show a RED object to
	// an organisation every other read refuses it to.
	if ch.vis.recips = store.Recipients(o); len(ch.vis.recips) > 0 {
		slices.Sort(ch.vis.recips)
	}
	switch o.Type {
	case "indicator":
		ch.kind = kIndicator
		ch.name = o.String("name")
		ch.labels = o.Labels
		ch.grade = gradeOf(o)
		seen := map[string]bool{}
		for _, pv := range stix.PatternValues(o.String("pattern")) {
			if !strings.HasPrefix(pv.Path, "cryptocurrency-wallet:") || len(ch.keys) >= maxKeysPerIndicator || hasControl(pv.Value) {
				continue // control characters: no address, and a key starting with NUL would pose as an EVM one
			}
			v, ok := canonicalValue(pv.Value)
			k := string(appendKey(nil, v))
			if k != "" && !seen[k] {
				seen[k] = true
				ch.keys = append(ch.keys, []byte(k))
				if !ok && strings.ToLower(v) == v {
					ch.lower = append(ch.lower, k)
				}
			}
		}
	case "relationship":
		ch.kind = kRelationship
		ch.src, ch.dst = o.String("source_ref"), o.String("target_ref")
		ch.attrib = attributionType(o.String("relationship_type")) && strings.HasPrefix(ch.src, "indicator--")
		if !ch.attrib {
			return ch, false // based-on and the rest: nothing to show
		}
	default:
		ch.kind = kNamed
		ch.name = o.Name()
	}
	return ch, true
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// canonicalValue is the index form of a listed wallet value: the address's
// fold key (its canonical form, but one key for a Bitcoin Cash or Litecoin
// script's two encodings) when it parses (true), else the value as the
// store normalises it (a lower-cased base58 address from the OFAC entity
// map stays findable ignoring case).
func canonicalValue(v string) (string, bool) {
	if a, err := address.Parse(v); err == nil {
		return address.Fold(a), true
	}
	return stix.NormalizeValue(v), false
}

// Grade ranks, most severe first as in rank.
const (
	gNone uint8 = iota
	gLow
	gMedium
	gHigh
	gSevere
)

var gradeName = [...]string{None, Low, Medium, High, Severe}

// gradeOf grades a listing from its labels: sanctions are severe, the
// importers' labels (OFAC "sanctioned", TagPack categories) grade the rest,
// and a listing for a reason the grading does not know is high. Actor
// attribution, which depends on what the viewer may see, raises it to
// severe when the evidence is built.
func gradeOf(o *stix.Object) uint8 {
	has := func(want string) bool {
		for _, l := range o.Labels {
			if strings.EqualFold(l, want) {
				return true
			}
		}
		for _, l := range o.Strings("indicator_types") {
			if strings.EqualFold(l, want) {
				return true
			}
		}
		return false
	}
	cat := strings.ToLower(o.String("x_bulwark_category"))
	switch {
	case has("sanctioned"):
		return gSevere
	case has("perpetrator") || has("malicious-activity") || cat == "perpetrator":
		return gHigh
	case has("mixer") || has("bridge") || strings.Contains(cat, "mix") || strings.Contains(cat, "bridge"):
		return gMedium
	case has("exchange") || strings.Contains(cat, "exchange"):
		return gLow
	}
	return gHigh
}

// reserve grows the address table for the keys a batch may add, building
// the larger slot array outside the write lock.
func (st *state) reserve(batch []change, lock, unlock func()) {
	extra := 0
	for i := range batch {
		extra += len(batch[i].keys)
	}
	if !st.addrs.needGrow(extra) {
		return
	}
	slots, shift := st.addrs.grown(extra)
	lock()
	st.addrs.slots, st.addrs.shift = slots, shift
	unlock()
}

// apply applies one change and reports whether it changed anything.
func (st *state) apply(ch *change) bool {
	switch ch.kind {
	case kIndicator:
		return st.applyIndicator(ch)
	case kRelationship:
		return st.applyRel(ch)
	default:
		return st.applyNamed(ch)
	}
}

func (st *state) applyNamed(ch *change) bool {
	key := st.intern(ch.id)
	n := st.named[key]
	if n == nil {
		n = &named{}
		st.named[key] = n
	}
	v := namedVer{visFacts: ch.vis, modified: ch.modified, name: ch.name}
	for i := range n.vers {
		if n.vers[i].coll == ch.vis.coll {
			if n.vers[i].modified >= ch.modified {
				return false
			}
			n.vers[i] = v
			return true
		}
	}
	n.vers = append(n.vers, v)
	return true
}

func (st *state) applyRel(ch *change) bool {
	r := st.rels[ch.id]
	if r == nil {
		r = &rel{id: ch.id}
		st.rels[ch.id] = r
	}
	v := relVer{visFacts: ch.vis, modified: ch.modified, src: ch.src, dst: st.intern(ch.dst), live: ch.attrib && !ch.revoked}
	found := false
	for i := range r.vers {
		if r.vers[i].coll == ch.vis.coll {
			if r.vers[i].modified >= ch.modified {
				return false
			}
			r.vers[i] = v
			found = true
		}
	}
	if !found {
		r.vers = append(r.vers, v)
	}
	// Refile the relationship under the indicators its live versions
	// start from.
	var srcs []string
	for _, v := range r.vers {
		if v.live && !slices.Contains(srcs, v.src) {
			srcs = append(srcs, v.src)
		}
	}
	for _, s := range r.srcs {
		if !slices.Contains(srcs, s) {
			l := slices.DeleteFunc(st.attrs[s], func(x *rel) bool { return x == r })
			if len(l) == 0 {
				delete(st.attrs, s)
				st.setAttributed(s, false)
			} else {
				st.attrs[s] = l
			}
		}
	}
	for _, s := range srcs {
		if !slices.Contains(r.srcs, s) {
			st.attrs[s] = append(st.attrs[s], r)
			st.setAttributed(s, true)
		}
	}
	r.srcs = srcs
	return true
}

// setAttributed records on an indicator's listings whether it is
// attributed; a change can turn its addresses into exposure sources.
func (st *state) setAttributed(id string, on bool) {
	ind, ok := st.findInd(id)
	if !ok {
		return
	}
	for p := st.ind(ind).first; p != 0; p = st.listing(p - 1).next {
		if l := st.listing(p - 1); l.attributed != on {
			l.attributed = on
			st.srcGen++
		}
	}
}

func (st *state) findInd(id string) (uint32, bool) {
	if u, ok := parseIndicatorID(id); ok {
		return st.ids.find(&u, st.uuidOf)
	}
	ind, ok := st.odd[id]
	return ind, ok
}

// newInd adds indicator id with its first listing, in collection coll.
func (st *state) newInd(id string, coll uint16) (uint32, uint32) {
	if st.nind%indChunk == 0 && int(st.nind/indChunk) == len(st.inds) {
		st.inds = append(st.inds, huge.Slice[indRec](indChunk))
	}
	ind := st.nind
	st.nind++
	lid := st.newListing()
	l := st.listing(lid)
	l.ind, l.coll = ind, coll
	l.attributed = len(st.attrs[id]) > 0
	st.ind(ind).first = lid + 1
	if u, ok := parseIndicatorID(id); ok {
		l.uuid = u
		st.ids.insert(&u, ind, st.uuidOf)
	} else {
		st.odd[id] = ind
		st.oddID[ind] = id
	}
	return ind, lid
}

func (st *state) newListing() uint32 {
	if st.nlist%listChunk == 0 && int(st.nlist/listChunk) == len(st.lists) {
		st.lists = append(st.lists, huge.Slice[listing](listChunk))
	}
	id := st.nlist
	st.nlist++
	return id
}

func (st *state) applyIndicator(ch *change) bool {
	var lid uint32
	var l *listing
	fresh := false // l was just made
	ind, ok := st.findInd(ch.id)
	if ok {
		for p := st.ind(ind).first; p != 0; p = st.listing(p - 1).next {
			if x := st.listing(p - 1); x.coll == ch.vis.coll {
				lid, l = p-1, x
				break
			}
		}
	} else {
		ind, lid = st.newInd(ch.id, ch.vis.coll)
		l, fresh = st.listing(lid), true
	}
	if !fresh && l != nil && l.modified >= ch.modified {
		return false // this version or a newer one is already in
	}
	if ch.revoked || len(ch.keys) == 0 {
		ch.keys = nil
	}
	for _, k := range ch.lower {
		st.lower[k] = struct{}{}
	}
	var old []uint32
	wasSource := false
	switch {
	case l == nil:
		// Another collection's copy of a known indicator.
		r := st.ind(ind)
		first := st.listing(r.first - 1)
		lid = st.newListing()
		l = st.listing(lid)
		l.ind, l.coll, l.next = ind, ch.vis.coll, r.first
		l.uuid, l.attributed = first.uuid, first.attributed
		r.first = lid + 1
	case !fresh:
		old = st.refs(l)
		wasSource = l.live && (l.grade >= gHigh || l.attributed)
	}
	// Resolve the new keys to records, creating the missing ones.
	refs := make([]uint32, 0, len(ch.keys))
	for _, k := range ch.keys {
		ref, ok := st.addrs.find(k)
		if !ok {
			if ref, ok = st.addrs.insert(k); !ok {
				continue
			}
		}
		refs = append(refs, ref)
	}
	for _, ref := range old {
		if !slices.Contains(refs, ref) {
			st.unpost(ref, lid)
		}
	}
	for _, ref := range refs {
		if !slices.Contains(old, ref) {
			st.post(ref, lid)
		}
	}
	l.modified = ch.modified
	l.name = st.intern(ch.name)
	l.labels = st.internSet(ch.labels)
	l.createdBy = st.intern(ch.vis.createdBy)
	l.recips = st.internSet(ch.vis.recips)
	l.tlp = ch.vis.tlp
	l.grade = ch.grade
	l.live = len(refs) > 0
	st.refLive -= int(l.naddr)
	l.addrOff, l.naddr = st.storeRefs(refs)
	isSource := l.live && (l.grade >= gHigh || l.attributed)
	if isSource || wasSource {
		st.srcGen++
	}
	return true
}

func (st *state) storeRefs(refs []uint32) (uint32, uint32) {
	if len(refs) == 0 {
		return 0, 0
	}
	n := len(refs)
	if len(st.addrRefs) == 0 || st.refUsed+n > len(st.addrRefs[len(st.addrRefs)-1]) {
		if len(st.addrRefs) >= 1<<16 {
			// 4 Gi address references: far beyond any store; keep the
			// listing without its addresses rather than corrupt offsets.
			return 0, 0
		}
		st.addrRefs = append(st.addrRefs, make([]uint32, max(refChunk, n)))
		st.refUsed = 0
	}
	// Offsets stay below 1<<16: a list longer than a chunk gets a chunk
	// of its own, at offset 0.
	ci := len(st.addrRefs) - 1
	off := st.refUsed
	copy(st.addrRefs[ci][off:], refs)
	st.refUsed += n
	st.refLive += n
	st.refTotal += n
	return uint32(ci)<<16 | uint32(off), uint32(n)
}

func (st *state) post(ref, lid uint32) {
	w := st.addrs.postings(ref)
	var buf [8]uint32
	ids := st.addrs.listings(buf[:0], w)
	if slices.Contains(ids, lid) {
		return
	}
	ids = append(ids, lid)
	st.addrs.release(w)
	st.addrs.setPostings(ref, st.addrs.word(ids))
}

func (st *state) unpost(ref, lid uint32) {
	w := st.addrs.postings(ref)
	var buf [8]uint32
	ids := st.addrs.listings(buf[:0], w)
	i := slices.Index(ids, lid)
	if i < 0 {
		return
	}
	ids = slices.Delete(ids, i, i+1)
	st.addrs.release(w)
	st.addrs.setPostings(ref, st.addrs.word(ids))
}
