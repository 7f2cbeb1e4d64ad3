package screen

import (
	"fmt"
	"hash/maphash"
	"testing"
)

// The table finds every key it was given, and no other, as its first
// record chunk doubles and once records spill into a second chunk; no
// record of a cache line's size or less crosses one.
func TestAddrTableChunks(t *testing.T) {
	tb := newAddrTable(maphash.MakeSeed(), 16)
	key := func(i int) []byte {
		// Lengths vary from 6 to 61 bytes, so records pack unevenly.
		return fmt.Appendf(nil, "%0*d", 6+i%56, i)
	}
	refs := map[int]uint32{}
	grown := 0
	n := 0
	for ; len(tb.recs) < 2; n++ {
		before := len(tb.recs)
		if before == 1 {
			grown = max(grown, len(tb.recs[0]))
		}
		if tb.needGrow(1) {
			tb.slots, tb.shift = tb.grown(1)
		}
		ref, ok := tb.insert(key(n))
		if !ok {
			t.Fatalf("insert %d refused", n)
		}
		if off := ref & (recChunkSize - 1); need(key(n)) <= 64 && off/64 != (off+uint32(need(key(n)))-1)/64 {
			t.Fatalf("record %d at offset %d crosses a cache line", n, off)
		}
		refs[n] = ref
	}
	if grown != recChunkSize || len(tb.recs[0]) != recChunkSize {
		t.Fatalf("first chunk grew to %d bytes, want %d", grown, recChunkSize)
	}
	for i := range n {
		ref, ok := tb.find(key(i))
		if !ok || ref != refs[i] {
			t.Fatalf("key %d: found %v at %d, want %d", i, ok, ref, refs[i])
		}
	}
	if _, ok := tb.find([]byte("not a key")); ok {
		t.Fatal("found a key never inserted")
	}
	if got, want := tb.bytes(), int64(len(tb.slots))*8+2*recChunkSize; got < want {
		t.Errorf("bytes %d, want at least %d", got, want)
	}
}

func need(k []byte) int { return 5 + len(k) }
