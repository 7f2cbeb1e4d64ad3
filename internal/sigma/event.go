package sigma

import (
	"reflect"
	"strings"
)

// MapEvent is an Event over decoded JSON (map[string]any, as encoding/json
// produces). Field paths are dotted; a key containing dots is found as is
// before the path is split. Keys are looked up exactly first, then ignoring
// case, because JSON exporters disagree on case (commandline, CommandLine)
// while Sigma backends treat field names as case-insensitive in practice.
// Values of the form {"#text": v, "#attributes": ...} (evtx_dump's XML
// elements with attributes) stand for v.
type MapEvent map[string]any

// maxPathDepth bounds how deep a dotted path may descend.
const maxPathDepth = 32

// Field implements Event.
func (m MapEvent) Field(path string) (any, bool) {
	v, ok := lookup(map[string]any(m), path, 0)
	if !ok {
		return nil, false
	}
	if mm, isMap := v.(map[string]any); isMap {
		if t, ok := mm["#text"]; ok {
			return t, true
		}
	}
	return v, true
}

func getKey(m map[string]any, k string) (any, bool) {
	if v, ok := m[k]; ok {
		return v, true
	}
	for key, v := range m {
		if strings.EqualFold(key, k) {
			return v, true
		}
	}
	return nil, false
}

func lookup(m map[string]any, path string, depth int) (any, bool) {
	if v, ok := getKey(m, path); ok {
		return v, true
	}
	if depth >= maxPathDepth {
		return nil, false
	}
	for i := 0; i < len(path); i++ {
		if path[i] != '.' {
			continue
		}
		v, ok := getKey(m, path[:i])
		if !ok {
			continue
		}
		if sub, isMap := v.(map[string]any); isMap {
			if x, ok := lookup(sub, path[i+1:], depth+1); ok {
				return x, true
			}
		}
	}
	return nil, false
}

// Keywords implements Event: every string value, depth first.
func (m MapEvent) Keywords(fn func(string) bool) bool {
	return walkStrings(map[string]any(m), fn, 0)
}

func walkStrings(v any, fn func(string) bool, depth int) bool {
	if depth > maxPathDepth {
		return false
	}
	switch t := v.(type) {
	case string:
		return fn(t)
	case map[string]any:
		for _, x := range t {
			if walkStrings(x, fn, depth+1) {
				return true
			}
		}
	case []any:
		for _, x := range t {
			if walkStrings(x, fn, depth+1) {
				return true
			}
		}
	}
	return false
}

// keyIndex answers most of MapEvent's case-insensitive key fallbacks
// without scanning the map: a 1024-bit filter holds a hash of each key,
// lower-cased, so a key absent in every case usually costs one bit test.
// Otherwise, and for maps with non-ASCII keys, lookups go through getKey, so
// results are unchanged.
type keyIndex struct {
	m      map[string]any
	slow   bool
	filter [16]uint64
}

func foldHash(s string) uint64 {
	h := uint64(14695981039346656037) // FNV-1a
	for i := 0; i < len(s); i++ {
		h = foldHashByte(h, s[i])
	}
	return h
}

func foldHashByte(h uint64, c byte) uint64 {
	if c >= 'A' && c <= 'Z' {
		c += 'a' - 'A'
	}
	return (h ^ uint64(c)) * 1099511628211
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// pathKeys is what a lookup of one path probes in the top-level map: the
// whole path, then each prefix ending before a dot, with their hashes.
type pathKeys struct {
	ascii  bool
	full   uint64
	dots   []int
	hashes []uint64 // of path[:dots[i]]
}

func newPathKeys(p string) pathKeys {
	k := pathKeys{ascii: isASCII(p), full: foldHash(p)}
	h := uint64(14695981039346656037)
	for i := 0; i < len(p); i++ {
		if p[i] == '.' {
			k.dots = append(k.dots, i)
			k.hashes = append(k.hashes, h)
		}
		h = foldHashByte(h, p[i])
	}
	return k
}

func (x *keyIndex) build(m map[string]any) {
	x.m, x.slow, x.filter = m, false, [16]uint64{}
	for k := range m {
		if !isASCII(k) {
			// EqualFold may pair a non-ASCII key with an ASCII one
			// (the Kelvin sign and k).
			x.slow = true
			return
		}
		h := foldHash(k)
		x.filter[h>>6&15] |= 1 << (h & 63)
	}
}

// get is getKey(x.m, k); h is foldHash(k) when k is ASCII.
func (x *keyIndex) get(k string, h uint64, ascii bool) (any, bool) {
	if !x.slow && ascii && x.filter[h>>6&15]&(1<<(h&63)) == 0 {
		// No key equals k in any case: it would have k's hash.
		return nil, false
	}
	return getKey(x.m, k)
}

// mapIndexes holds the key indexes of the maps of one event, built on first
// use and reused (with their memory) for the next event.
type mapIndexes struct {
	used int
	idx  []*keyIndex
}

func (mi *mapIndexes) reset() {
	for _, x := range mi.idx[:mi.used] {
		x.m = nil
	}
	mi.used = 0
}

// maxIndexedMaps bounds the maps indexed per event; deeper or wider
// structures are looked up the slow way.
const maxIndexedMaps = 16

func (mi *mapIndexes) index(m map[string]any) *keyIndex {
	for _, x := range mi.idx[:mi.used] {
		if sameMap(x.m, m) {
			return x
		}
	}
	if mi.used == maxIndexedMaps {
		return nil
	}
	if mi.used == len(mi.idx) {
		mi.idx = append(mi.idx, &keyIndex{})
	}
	x := mi.idx[mi.used]
	mi.used++
	x.build(m)
	return x
}

func sameMap(a, b map[string]any) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// field is MapEvent.Field(path) through the indexes; pk holds path's
// precomputed probes.
func (mi *mapIndexes) field(m MapEvent, path string, pk *pathKeys) (any, bool) {
	top := map[string]any(m)
	x := mi.index(top)
	if x == nil {
		return m.Field(path)
	}
	// lookup(top, path, 0), with the hashes precomputed.
	v, ok := x.get(path, pk.full, pk.ascii)
	if !ok {
		for i, dot := range pk.dots {
			p, found := x.get(path[:dot], pk.hashes[i], pk.ascii)
			if !found {
				continue
			}
			if sub, isMap := p.(map[string]any); isMap {
				if v, ok = mi.lookup(sub, path[dot+1:], 1); ok {
					break
				}
			}
		}
		if !ok {
			return nil, false
		}
	}
	if mm, isMap := v.(map[string]any); isMap {
		if t, ok := mm["#text"]; ok {
			return t, true
		}
	}
	return v, true
}

func (mi *mapIndexes) getKey(m map[string]any, k string) (any, bool) {
	if len(m) <= 4 {
		return getKey(m, k)
	}
	x := mi.index(m)
	if x == nil {
		return getKey(m, k)
	}
	ascii := isASCII(k)
	var h uint64
	if ascii {
		h = foldHash(k)
	}
	return x.get(k, h, ascii)
}

// lookup mirrors lookup above.
func (mi *mapIndexes) lookup(m map[string]any, path string, depth int) (any, bool) {
	if v, ok := mi.getKey(m, path); ok {
		return v, true
	}
	if depth >= maxPathDepth {
		return nil, false
	}
	for i := 0; i < len(path); i++ {
		if path[i] != '.' {
			continue
		}
		v, ok := mi.getKey(m, path[:i])
		if !ok {
			continue
		}
		if sub, isMap := v.(map[string]any); isMap {
			if x, ok := mi.lookup(sub, path[i+1:], depth+1); ok {
				return x, true
			}
		}
	}
	return nil, false
}
