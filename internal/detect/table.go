package detect

import (
	"bytes"
	"hash/maphash"
	"math/bits"
)

// The index holds up to millions of values. Go maps keyed by strings would
// cost a string header, a separate allocation and a pointer for the
// garbage collector to chase per value; instead the key bytes live in an
// arena of large chunks and an open-addressing table of integers points at
// entries. Nothing here holds a pointer per value, so a million-value
// index is a handful of large allocations the collector scans in no time.

// arenaChunk is the size of one arena chunk; a string never spans two.
const arenaChunk = 1 << 20

// maxKey bounds an indexed key (entry.klen is 16 bits).
const maxKey = 1<<16 - 1

// arena stores immutable byte strings, addressed by a 32-bit offset:
// chunk number × arenaChunk + position in the chunk.
type arena struct {
	chunks [][]byte
}

// add copies b into the arena and returns its offset. len(b) must not
// exceed arenaChunk.
func (a *arena) add(b []byte) uint32 {
	n := len(a.chunks)
	if n == 0 || len(a.chunks[n-1])+len(b) > arenaChunk {
		// Most lists are far smaller than a chunk: start small.
		size := arenaChunk
		if n == 0 && len(b) < 64<<10 {
			size = 64 << 10
		}
		a.chunks = append(a.chunks, make([]byte, 0, size))
		n++
	}
	c := &a.chunks[n-1]
	if len(*c)+len(b) > cap(*c) {
		// The first, small chunk grows up to a full one.
		grown := make([]byte, len(*c), arenaChunk)
		copy(grown, *c)
		*c = grown
	}
	off := uint32(n-1)*arenaChunk + uint32(len(*c))
	*c = append(*c, b...)
	return off
}

func (a *arena) get(off uint32, n int) []byte {
	c := a.chunks[off/arenaChunk]
	i := int(off % arenaChunk)
	return c[i : i+n : i+n]
}

func (a *arena) size() int {
	n := 0
	for _, c := range a.chunks {
		n += cap(c)
	}
	return n
}

// entry is one indexed value of one indicator: 16 bytes.
type entry struct {
	key  uint32 // arena offset of the key bytes
	klen uint16
	kind Kind   // the key's table: the same bytes under two kinds are two keys
	_    uint8  // padding
	ind  uint32 // indicator record
	next int32  // next entry with the same key, -1 at the end
}

// table maps (kind, key bytes) to the first entry of the key's chain, by
// linear probing. A slot holds the upper half of the key's hash, its tag,
// in its upper half (to skip most non-matching entries without reading
// them) and entry+1 in its lower half; 0 is an empty slot. The home slot
// and the filter word are taken from the tag too, so growing the table
// and building the filter never read a key again: for a million keys
// those reads, one cache miss each, were most of the building time.
type table struct {
	slots []uint64
	tbits uint // 32 - log2(len(slots)): tag >> tbits is the home slot
	n     int
	seed  maphash.Seed
	// filter, once the table is complete and too large for the processor's
	// caches, answers most look-ups of absent keys (nearly all of them in a
	// scan) from a sixteenth of the memory: a table of a million keys is
	// 16 MB, and each probe into it would be a trip to main memory.
	filter []uint64
}

// filterMin is the number of keys from which a table gets a filter.
const filterMin = 1 << 16

// filterBits are the three bits a key sets in its filter word.
func filterBits(tag uint64) uint64 {
	h := tag * 0x9e3779b97f4a7c15
	return 1<<(h>>58) | 1<<((h>>52)&63) | 1<<((h>>46)&63)
}

// seal builds the filter: a blocked Bloom filter of one 64-bit word per
// key slot group, about 8 bits per key, 3 bits per key in one word (one
// cache line read per look-up; about 4% of absent keys get through).
func (t *table) seal(ents *vec[entry], ar *arena) {
	if t.n < filterMin {
		return
	}
	words := 1
	for words*8 < t.n {
		words *= 2
	}
	t.filter = make([]uint64, words)
	mask := uint64(words - 1)
	for _, s := range t.slots {
		if s == 0 {
			continue
		}
		tag := s >> 32
		t.filter[tag&mask] |= filterBits(tag)
	}
}

func newTable() table {
	return table{slots: make([]uint64, 1024), tbits: 32 - 10, seed: maphash.MakeSeed()}
}

func (t *table) hash(kind Kind, key []byte) uint64 {
	return maphash.Bytes(t.seed, key) ^ uint64(kind)*0x9e3779b97f4a7c15
}

// find returns the head entry of key's chain, or -1.
func (t *table) find(ents *vec[entry], ar *arena, kind Kind, key []byte) int32 {
	if t.n == 0 {
		return -1
	}
	tag := t.hash(kind, key) >> 32
	if t.filter != nil {
		if b := filterBits(tag); t.filter[tag&uint64(len(t.filter)-1)]&b != b {
			return -1
		}
	}
	mask := uint64(len(t.slots) - 1)
	for i := tag >> t.tbits; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return -1
		}
		if s>>32 != tag {
			continue
		}
		e := ents.at(int(uint32(s) - 1))
		if e.kind == kind && int(e.klen) == len(key) && bytes.Equal(ar.get(e.key, len(key)), key) {
			return int32(uint32(s) - 1)
		}
	}
}

// set makes entry ei the head of its key's chain, returning the previous
// head or -1.
func (t *table) set(ents *vec[entry], ar *arena, ei int32) int32 {
	t.filter = nil // no longer complete
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow(ents, ar)
	}
	e := ents.at(int(ei))
	key := ar.get(e.key, int(e.klen))
	tag := t.hash(e.kind, key) >> 32
	mask := uint64(len(t.slots) - 1)
	for i := tag >> t.tbits; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			t.slots[i] = tag<<32 | uint64(ei+1)
			t.n++
			return -1
		}
		if s>>32 != tag {
			continue
		}
		o := ents.at(int(uint32(s) - 1))
		if o.kind == e.kind && o.klen == e.klen && bytes.Equal(ar.get(o.key, int(o.klen)), key) {
			t.slots[i] = tag<<32 | uint64(ei+1)
			return int32(uint32(s) - 1)
		}
	}
}

func (t *table) grow(ents *vec[entry], ar *arena) {
	t.resize(2 * len(t.slots))
}

// reserve makes room for n keys in all, so that adding them does not
// grow the table step by step.
func (t *table) reserve(n int) {
	size := len(t.slots)
	for n*4 > size*3 && size < 1<<31 {
		size *= 2
	}
	if size > len(t.slots) {
		t.resize(size)
	}
}

func (t *table) resize(size int) {
	old := t.slots
	t.slots = make([]uint64, size)
	t.tbits = uint(32 - bits.TrailingZeros(uint(size)))
	mask := uint64(size - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := (s >> 32) >> t.tbits
		for t.slots[i] != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

// blockBits sizes the blocks of a vec: 8,192 elements.
const blockBits = 13

// vec is an append-only vector in fixed blocks. Growing never copies, so
// building a million-entry index leaves no trail of discarded, ever larger
// arrays behind (with append's growth they add up to several times the
// final size in resident memory before the runtime returns them).
type vec[T any] struct {
	blocks [][]T
	n      int
}

func (v *vec[T]) len() int { return v.n }

func (v *vec[T]) at(i int) *T { return &v.blocks[i>>blockBits][i&(1<<blockBits-1)] }

func (v *vec[T]) push(x T) int {
	if v.n>>blockBits == len(v.blocks) {
		// Small indexes stay small: the first block grows like a slice,
		// the others are allocated whole.
		size := 1 << blockBits
		if len(v.blocks) == 0 {
			size = 64
		}
		v.blocks = append(v.blocks, make([]T, 0, size))
	}
	b := &v.blocks[len(v.blocks)-1]
	if len(*b) == cap(*b) {
		grown := make([]T, len(*b), min(2*cap(*b), 1<<blockBits))
		copy(grown, *b)
		*b = grown
	}
	*b = append(*b, x)
	v.n++
	return v.n - 1
}

func (v *vec[T]) capBytes(size int) int {
	n := 0
	for _, b := range v.blocks {
		n += cap(b) * size
	}
	return n
}
