package sqlstore

import (
	"reflect"
	"slices"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/store"
)

// TestResultKeyCoversQuery fails when store.Query or store.Versions gain a
// field: the result cache must then learn whether the field selects records
// (and goes into resultKey, or makes the query uncacheable) or only
// positions a page. A field it did not know of would make two different
// queries share one cached answer.
func TestResultKeyCoversQuery(t *testing.T) {
	fields := func(v any) []string {
		var out []string
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			out = append(out, rt.Field(i).Name)
		}
		slices.Sort(out)
		return out
	}
	known := []string{"AddedAfter", "Collection", "Cursor", "IDs", "Limit", "MaxTLP", "RedFor", "SpecVersions", "Types", "Versions"}
	if got := fields(store.Query{}); !slices.Equal(got, known) {
		t.Errorf("store.Query has fields %v; resultKey and cacheable know %v", got, known)
	}
	if got := fields(store.Versions{}); !slices.Equal(got, []string{"At", "Mode"}) {
		t.Errorf("store.Versions has fields %v; resultKey and cacheable know At and Mode", got)
	}
}

// TestResultListChunks: records of every size, including ones larger than
// a chunk, come back intact and in order, and the list accounts for the
// memory it holds.
func TestResultListChunks(t *testing.T) {
	var l resultList
	var want [][]byte
	for i, n := range []int{1, 4 << 10, 100, chunkSize + 7, 3, chunkSize / 2, chunkSize / 2, 0, 9000} {
		raw := make([]byte, n)
		for j := range raw {
			raw[j] = byte(i + j)
		}
		l.add(int64(i), raw)
		want = append(want, raw)
	}
	l.trim()
	held := 0
	for _, c := range l.chunks {
		held += cap(c)
	}
	if l.bytes != held {
		t.Errorf("accounts %d bytes, holds %d", l.bytes, held)
	}
	for k, raw := range want {
		if got := l.record(k); !slices.Equal(got, raw) || l.added[k] != int64(k) {
			t.Errorf("record %d: %d bytes, want %d", k, len(got), len(raw))
		}
	}
}
