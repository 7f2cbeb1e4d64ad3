package screen

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"slices"

	"github.com/bulwark-intel/bulwark/internal/huge"
)

// The address table maps index keys (canonical addresses, see appendKey) to
// the listings that name them. It is built for tens of millions of
// addresses, most of which are never asked for, and for lookups that mostly
// miss:
//
//   - slots is an open-addressing array of uint64: the upper 32 bits are the
//     upper 32 bits of the key's hash (the slot's tag), the lower 32 bits the
//     reference of the key's record plus one (0 marks an empty slot). The
//     home slot is the tag's top bits, so the table grows without reading a
//     single key. A miss usually costs one cache line.
//   - records live in 4 MiB chunks of bytes that never move: a record is the
//     key's postings word (4 bytes, little-endian), the key's length (1 byte)
//     and the key, placed within one cache line. A hit costs the slot, the
//     record and the listing.
//   - the postings word is 0 for no listing, 1<<31|id for a single listing,
//     and otherwise the reference of a list in the posts arena (a count, then
//     that many listing ids).
//
// Keys are never deleted: an address whose listings all go away keeps its
// record with an empty postings word and answers like a miss. A full
// rebuild (Index.Rebuild) drops them.
//
// Nothing here locks: the Index holds its RWMutex for writing around every
// mutation and for reading around lookups.

const (
	// Record chunks are large so that huge pages cover nearly all of them:
	// the kernel backs only whole, aligned 2 MiB pages, and a Go
	// allocation is not aligned to 2 MiB, so a 4 MiB chunk got one huge
	// page in two and a lookup's page walks (two nested ones in a virtual
	// machine) cost more, and more from run to run. The first chunk starts
	// small and doubles, so a small index stays small.
	recChunkBits  = 25 // 32 MiB
	recChunkSize  = 1 << recChunkBits
	recFirstChunk = 256 << 10
	maxKeyLen     = 255
	single        = 1 << 31

	postChunkBits = 16 // posts arena chunks of 64 Ki uint32
	postChunkSize = 1 << postChunkBits

	maxLoadNum, maxLoadDen = 7, 10 // grow beyond 70 % full
)

type addrTable struct {
	seed  maphash.Seed
	slots []uint64
	shift uint // 32 - log2(len(slots))
	n     int  // keys stored

	recs    [][]byte // chunks; the last one is being filled
	recUsed int      // bytes used in the last chunk

	posts     [][]uint32
	postUsed  int // elements used in the last posts chunk
	postLive  int // elements in lists still referenced
	postTotal int // elements ever appended
}

func newAddrTable(seed maphash.Seed, sizeHint int) *addrTable {
	t := &addrTable{seed: seed}
	t.slots, t.shift = makeSlots(sizeHint)
	return t
}

// makeSlots returns an empty slot array large enough for n keys.
func makeSlots(n int) ([]uint64, uint) {
	size := 1024
	for size*maxLoadNum/maxLoadDen < n {
		size <<= 1
	}
	return huge.Slice[uint64](size), uint(32 - bits.TrailingZeros(uint(size)))
}

func (t *addrTable) hash(key []byte) uint32 { return uint32(maphash.Bytes(t.seed, key) >> 32) }

// touchPad stands in for a record or listing in loops that load one per
// key, so they need no branch for keys without one.
var touchPad byte

// find returns the record of key, or false.
func (t *addrTable) find(key []byte) (uint32, bool) {
	tag := t.hash(key)
	mask := uint32(len(t.slots) - 1)
	for i := tag >> t.shift; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return 0, false
		}
		if uint32(s>>32) == tag {
			ref := uint32(s) - 1
			if string(t.recKey(ref)) == string(key) {
				return ref, true
			}
		}
	}
}

// findBatch looks keys up together: it loads every key's home slot before
// probing any, then every candidate record before comparing any, so the
// cache misses of a batch overlap instead of queueing (a lookup in a
// table of tens of millions of keys is two or three trips to memory, each
// worth dozens of hash computations). refs[i] is valid where found[i];
// sink only keeps the touching loads from being optimised away.
func (t *addrTable) findBatch(keys [][]byte, tags, refs []uint32, found []bool, recs []*byte, sink *uint64) {
	x := *sink
	// Hash first, then load the home slots in a loop of a few
	// instructions: with the hashing in between, the processor's window
	// held only two or three of the misses at a time.
	for i, k := range keys {
		tags[i] = t.hash(k)
	}
	for _, tag := range tags[:len(keys)] {
		x ^= t.slots[tag>>t.shift]
	}
	mask := uint32(len(t.slots) - 1)
	for i := range keys {
		found[i], recs[i] = false, &touchPad
		tag := tags[i]
		for j := tag >> t.shift; ; j = (j + 1) & mask {
			s := t.slots[j]
			if s == 0 {
				break
			}
			if uint32(s>>32) == tag {
				ref := uint32(s) - 1
				refs[i], found[i] = ref, true
				recs[i] = &t.recs[ref>>recChunkBits][ref&(recChunkSize-1)]
				break
			}
		}
	}
	// The candidate records, again in a loop of their own, over pointers
	// worked out above: the fewer instructions per load, the more loads
	// the processor has under way.
	for _, p := range recs[:len(keys)] {
		x ^= uint64(*p)
	}
	for i, k := range keys {
		if found[i] && string(t.recKey(refs[i])) != string(k) {
			refs[i], found[i] = t.find(k) // a tag collision: probe on
		}
	}
	*sink = x
}

// recKey returns the key bytes of record ref.
func (t *addrTable) recKey(ref uint32) []byte {
	c := t.recs[ref>>recChunkBits]
	off := int(ref & (recChunkSize - 1))
	n := int(c[off+4])
	return c[off+5 : off+5+n]
}

// postings returns the postings word of record ref.
func (t *addrTable) postings(ref uint32) uint32 {
	c := t.recs[ref>>recChunkBits]
	return binary.LittleEndian.Uint32(c[ref&(recChunkSize-1):])
}

func (t *addrTable) setPostings(ref, w uint32) {
	c := t.recs[ref>>recChunkBits]
	binary.LittleEndian.PutUint32(c[ref&(recChunkSize-1):], w)
}

// listings appends the listing ids of postings word w to dst.
func (t *addrTable) listings(dst []uint32, w uint32) []uint32 {
	switch {
	case w == 0:
		return dst
	case w&single != 0:
		return append(dst, w&^single)
	}
	c := t.posts[w>>postChunkBits]
	off := int(w & (postChunkSize - 1))
	n := int(c[off])
	return append(dst, c[off+1:off+1+n]...)
}

// needGrow reports whether adding extra keys would pass the load limit.
func (t *addrTable) needGrow(extra int) bool {
	return (t.n+extra)*maxLoadDen > len(t.slots)*maxLoadNum
}

// grown returns a slot array for at least n+extra keys holding every
// current key, built without touching t: the writer builds it while readers
// go on using the old one, then swaps it in under the write lock.
func (t *addrTable) grown(extra int) ([]uint64, uint) {
	slots, shift := makeSlots((t.n + extra) * 2)
	mask := uint32(len(slots) - 1)
	for _, s := range t.slots {
		if s == 0 {
			continue
		}
		i := uint32(s>>32) >> shift
		for slots[i] != 0 {
			i = (i + 1) & mask
		}
		slots[i] = s
	}
	return slots, shift
}

// insert adds key (absent, at most maxKeyLen bytes) and returns its record.
// The caller has made room with grown. It fails only when the 4 GiB of
// record references are used up.
func (t *addrTable) insert(key []byte) (uint32, bool) {
	need := 5 + len(key)
	// A record that fits a cache line starts where it does not cross one
	// (chunks are page-aligned), so that a hit reads one line, not two.
	if end := t.recUsed + need - 1; need <= 64 && t.recUsed/64 != end/64 {
		t.recUsed = end &^ 63
	}
	ci := len(t.recs) - 1
	switch {
	case len(t.recs) == 0:
		t.recs, ci = append(t.recs, huge.Slice[byte](recFirstChunk)), 0
	case t.recUsed+need > recChunkSize:
		if len(t.recs) >= 1<<(32-recChunkBits) {
			return 0, false
		}
		t.recs, ci = append(t.recs, huge.Slice[byte](recChunkSize)), ci+1
		t.recUsed = 0
	case t.recUsed+need > len(t.recs[ci]):
		// Only the first chunk grows; records are found by offset, and
		// the writer holds the lock, so nothing points into the old one.
		c := huge.Slice[byte](min(2*len(t.recs[ci]), recChunkSize))
		copy(c, t.recs[ci][:t.recUsed])
		t.recs[ci] = c
	}
	c := t.recs[ci]
	off := t.recUsed
	c[off+4] = byte(len(key))
	copy(c[off+5:], key)
	t.recUsed += need
	ref := uint32(ci)<<recChunkBits | uint32(off)

	tag := t.hash(key)
	mask := uint32(len(t.slots) - 1)
	i := tag >> t.shift
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = uint64(tag)<<32 | uint64(ref+1)
	t.n++
	return ref, true
}

// list stores a listing list of two or more ids and returns its postings
// word. Offsets stay below 1<<16: a list longer than a chunk gets a chunk
// of its own, at offset 0. Chunk numbers must leave the single bit free;
// the index reloads (dropping garbage) long before that.
func (t *addrTable) list(ids []uint32) uint32 {
	need := len(ids) + 1
	if len(t.posts) == 0 || t.postUsed+need > len(t.posts[len(t.posts)-1]) {
		if len(t.posts) >= 1<<(31-postChunkBits) {
			return single | ids[0] // out of room: keep one listing rather than none
		}
		t.posts = append(t.posts, make([]uint32, max(postChunkSize, need)+1))
		// Offset 0 of chunk 0 would make the word 0, which means "none".
		t.postUsed = 1
	}
	ci := len(t.posts) - 1
	c := t.posts[ci]
	off := t.postUsed
	c[off] = uint32(len(ids))
	copy(c[off+1:], ids)
	t.postUsed += need
	t.postLive += need
	t.postTotal += need
	return uint32(ci)<<postChunkBits | uint32(off)
}

// word encodes a listing list as a postings word, storing it if needed.
func (t *addrTable) word(ids []uint32) uint32 {
	switch len(ids) {
	case 0:
		return 0
	case 1:
		return single | ids[0]
	}
	return t.list(ids)
}

// release accounts for a list no longer referenced.
func (t *addrTable) release(w uint32) {
	if w != 0 && w&single == 0 {
		c := t.posts[w>>postChunkBits]
		t.postLive -= int(c[w&(postChunkSize-1)]) + 1
	}
}

// bytes returns the memory the table holds.
func (t *addrTable) bytes() int64 {
	b := int64(len(t.slots)) * 8
	for _, c := range t.recs {
		b += int64(len(c))
	}
	for _, c := range t.posts {
		b += int64(len(c)) * 4
	}
	return b
}

// idTable finds indicators by their UUID. Only the writer uses it, so it
// needs no lock and may grow in place.
type idTable struct {
	seed  maphash.Seed
	slots []uint32 // indicator number + 1
	shift uint
	n     int
}

func (t *idTable) init(seed maphash.Seed, n int) {
	t.seed = seed
	s, shift := makeSlots(n)
	t.slots, t.shift = make([]uint32, len(s)), shift
}

func (t *idTable) home(u *[16]byte) uint32 {
	return uint32(maphash.Comparable(t.seed, *u)>>32) >> t.shift
}

// find returns the indicator whose uuid is u; uuidOf reads an indicator's.
func (t *idTable) find(u *[16]byte, uuidOf func(uint32) *[16]byte) (uint32, bool) {
	mask := uint32(len(t.slots) - 1)
	for i := t.home(u); ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return 0, false
		}
		if *uuidOf(s - 1) == *u {
			return s - 1, true
		}
	}
}

func (t *idTable) insert(u *[16]byte, ind uint32, uuidOf func(uint32) *[16]byte) {
	if (t.n+1)*maxLoadDen > len(t.slots)*maxLoadNum {
		old := t.slots
		s, shift := makeSlots((t.n + 1) * 2)
		t.slots, t.shift = make([]uint32, len(s)), shift
		t.n = 0
		for _, v := range old {
			if v != 0 {
				t.insert(uuidOf(v-1), v-1, uuidOf)
			}
		}
	}
	mask := uint32(len(t.slots) - 1)
	i := t.home(u)
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = ind + 1
	t.n++
}

// appendKey appends the index key of a canonical address (or of a listed
// value that is not a valid address, normalised as the store does) to dst.
// An EVM address, by far the most common, is stored as a zero byte and its
// 20 bytes, halving its size; every other key is its text, which never
// starts with a zero byte. Keys longer than maxKeyLen are cut, which keeps
// them distinct from any real address (none is that long).
func appendKey(dst []byte, canon string) []byte {
	if len(canon) == 42 && canon[0] == '0' && canon[1] == 'x' {
		start := len(dst)
		dst = slices.Grow(dst, 21)[:start+21]
		k := dst[start : start+21 : start+21]
		k[0] = 0
		var bad uint64
		for i := 0; i < 5; i++ {
			x := load8(canon[2+8*i:])
			bad |= notHex(x)
			binary.LittleEndian.PutUint32(k[1+4*i:], unhex8(x))
		}
		if bad == 0 {
			return dst
		}
		dst = dst[:start]
	}
	if len(canon) > maxKeyLen {
		canon = canon[:maxKeyLen]
	}
	return append(dst, canon...)
}

// keyString turns an index key back into its canonical text.
func keyString(k []byte) string {
	if len(k) == 21 && k[0] == 0 {
		const digits = "0123456789abcdef"
		b := make([]byte, 42)
		b[0], b[1] = '0', 'x'
		for i, c := range k[1:] {
			b[2+2*i], b[3+2*i] = digits[c>>4], digits[c&15]
		}
		return string(b)
	}
	return string(k)
}

// hex8 decodes the first 8 characters of s, lower-case hex digits, into
// 4 bytes (in memory order, as a little-endian word), eight at a time.
func hex8(s string) (uint32, bool) {
	x := load8(s)
	if notHex(x) != 0 {
		return 0, false
	}
	return unhex8(x), true
}

// load8 reads the first 8 bytes of s as a little-endian word.
func load8(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// notHex is zero exactly when every byte of x is a lower-case hex digit.
// Split from unhex8 so that both inline, and a caller checking several
// words branches once.
func notHex(x uint64) uint64 {
	const hi = 0x8080808080808080
	const ones = 0x0101010101010101
	// With every byte below 0x80, adding 0x80-c sets a byte's high bit
	// exactly when it is at least c, without carrying into the next byte.
	digit := (x + (0x80-'0')*ones) &^ (x + (0x80-'9'-1)*ones) & hi
	letter := (x + (0x80-'a')*ones) &^ (x + (0x80-'f'-1)*ones) & hi
	return x&hi | ((digit | letter) ^ hi)
}

// unhex8 decodes the 8 hex digits of x (checked by notHex) into 4 bytes.
func unhex8(x uint64) uint32 {
	const ones = 0x0101010101010101
	v := x&(0x0f*ones) + 9*((x>>6)&ones) // digit values, one a byte
	w := (v<<4 | v>>8) & 0x00ff00ff00ff00ff
	w = (w | w>>8) & 0x0000ffff0000ffff
	w = w | w>>16
	return uint32(w)
}

// unhex reads one lower-case hex digit: canonical EVM addresses are lower
// case, and an upper-case digit would make a key that no lookup builds.
func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
