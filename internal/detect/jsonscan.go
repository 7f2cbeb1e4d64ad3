package detect

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// A field scanner over one JSON object: it walks the bytes once, descends
// only into objects that lead to a mapped path, and hands the mapped leaves
// to the event without decoding anything else. Strings are unescaped only
// when they are kept. Nothing is allocated per line.

const maxJSONDepth = 64

var errJSON = errors.New("malformed JSON")

// jsonMap is a field mapping compiled for the scanner: one look-up per key
// tells both whether it is mapped and whether it leads to mapped keys. It
// is an open-addressed table with a hash of a key's first and last eight
// bytes and its length, rather than a Go map, because most keys of a log
// line are looked up and missed: the slot's tag turns nearly all of those
// away without comparing or hashing every byte.
type jsonMap struct {
	slots []jsonSlot
	shift uint
}

type jsonSlot struct {
	tag uint32 // upper half of the hash, 0 for an empty slot
	key string
	jsonKey
}

type jsonKey struct {
	t      *Target // mapped leaf, or nil
	prefix bool    // "a" and "a.b" for a mapped "a.b.c"
}

// keyHash mixes len(k) with its first and last (up to) eight bytes: JSON
// field names differ in those nearly always, and it costs a few cycles.
func keyHash(k []byte) uint64 {
	var x uint64
	if n := len(k); n >= 8 {
		x = binary.LittleEndian.Uint64(k) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(k[n-8:]), 29)
	} else {
		for i, c := range k {
			x |= uint64(c) << (8 * i)
		}
	}
	x ^= uint64(len(k)) << 58
	x *= 0x9e3779b97f4a7c15
	return x ^ x>>29
}

func newJSONMap(m map[string]*Target) *jsonMap {
	keys := map[string]jsonKey{}
	for k, t := range m {
		jk := keys[k]
		jk.t = t
		keys[k] = jk
		for i := 0; i < len(k); i++ {
			if k[i] == '.' {
				jk := keys[k[:i]]
				jk.prefix = true
				keys[k[:i]] = jk
			}
		}
	}
	size := 16
	for size < 4*len(keys) {
		size *= 2
	}
	jm := &jsonMap{slots: make([]jsonSlot, size), shift: uint(64 - bits.TrailingZeros(uint(size)))}
	for k, jk := range keys {
		if k == "" {
			continue
		}
		h := keyHash([]byte(k))
		for i := h >> jm.shift; ; i = (i + 1) & uint64(size-1) {
			if jm.slots[i].tag == 0 {
				jm.slots[i] = jsonSlot{tag: uint32(h>>32) | 1, key: k, jsonKey: jk}
				break
			}
		}
	}
	return jm
}

// lookup returns k's entry; the zero jsonKey when k is not mapped.
func (m *jsonMap) lookup(k []byte) jsonKey {
	h := keyHash(k)
	tag := uint32(h>>32) | 1
	mask := uint64(len(m.slots) - 1)
	for i := h >> m.shift; ; i = (i + 1) & mask {
		s := &m.slots[i]
		if s.tag == 0 {
			return jsonKey{}
		}
		if s.tag == tag && s.key == string(k) {
			return s.jsonKey
		}
	}
}

// strByte marks the bytes that end the fast part of a string scan: the
// quote, the backslash and the control characters JSON forbids raw.
var strByte = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// litEnd marks the bytes that end a number or literal.
var litEnd = func() (t [256]bool) {
	for _, c := range ",}] \t\r\n" {
		t[c] = true
	}
	return t
}()

type jscan struct {
	m    *jsonMap
	pred []predKey // the previous line's top-level keys, in order
	ord  int       // top-level keys seen on this line
	ev   *Event
	path []byte
	key  []byte
}

func skipWS(b []byte, i int) int {
	// One comparison for the usual case, a byte above the space.
	for i < len(b) && b[i] <= ' ' && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// scanLine scans a whole line holding one JSON object.
func (s *jscan) scanLine(b []byte) error {
	s.path = s.path[:0]
	s.ord = 0
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errJSON
	}
	i, err := s.value(b, i, 0, true, nil)
	if err != nil {
		return err
	}
	if skipWS(b, i) != len(b) {
		return errJSON
	}
	return nil
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// strStop has the high bit set in each byte of x that is a quote, a
// backslash or a control character (below 0x20); it may also flag a byte
// after the first flagged one, never one before it.
func strStop(x uint64) uint64 {
	q := x ^ ('"' * lsb)
	bs := x ^ ('\\' * lsb)
	return ((q-lsb)&^q | (bs-lsb)&^bs | (x-0x20*lsb)&^x) & msb
}

// strEnd returns the index of the closing quote of the string opening at
// b[i], and whether it holds escapes. It skips eight plain bytes at a time:
// most of a log line is the inside of strings.
func strEnd(b []byte, i int) (int, bool, error) {
	esc := false
	j := i + 1
	for {
		for j+8 <= len(b) {
			m := strStop(binary.LittleEndian.Uint64(b[j:]))
			if m != 0 {
				j += bits.TrailingZeros64(m) >> 3
				break
			}
			j += 8
		}
		for ; j < len(b) && !strByte[b[j]]; j++ {
		}
		if j >= len(b) {
			return 0, false, errJSON
		}
		switch b[j] {
		case '"':
			return j, esc, nil
		case '\\':
			esc = true
			j += 2
		default:
			return 0, false, errJSON
		}
	}
}

// predKey is a top-level key of the previous line, with its mapping.
type predKey struct {
	key []byte
	// word and mask are the key's first eight bytes, its closing quote
	// included when it fits: most keys are compared in one step.
	word, mask uint64
	jsonKey
}

func (pk *predKey) set(key []byte) {
	pk.key = append(pk.key[:0], key...)
	var w [8]byte
	n := copy(w[:], key)
	if n < 8 {
		w[n] = '"'
		n++
	}
	pk.word = binary.LittleEndian.Uint64(w[:])
	pk.mask = ^uint64(0) >> (64 - 8*n)
}

// at reports whether b holds the key, then a quote, at j.
func (pk *predKey) at(b []byte, j int) bool {
	if pk.mask == 0 {
		return false // a place no line has filled
	}
	e := j + len(pk.key)
	if e >= len(b) {
		return false
	}
	if j+8 <= len(b) {
		if binary.LittleEndian.Uint64(b[j:])&pk.mask != pk.word {
			return false
		}
		if len(pk.key) < 8 {
			return true
		}
	}
	return b[e] == '"' && string(b[j:e]) == string(pk.key)
}

// maxPred bounds the keys remembered from the previous line.
const maxPred = 64

// wanted looks up key under the path s.path[:base]; remember keeps a
// top-level key for the next line's prediction.
func (s *jscan) wanted(key []byte, base int, remember bool) (*Target, bool) {
	// A top-level key is its own path: copied only when mapped keys lie
	// below it.
	p := key
	if base > 0 {
		s.path = append(append(s.path[:base], '.'), key...)
		p = s.path
	}
	var jk jsonKey
	if len(p) > 0 {
		jk = s.m.lookup(p)
		if jk.prefix && base == 0 {
			s.path = append(s.path[:0], key...)
		}
	}
	if remember && s.ord <= maxPred {
		n := s.ord - 1 // s.ord already counts this key
		for len(s.pred) <= n {
			s.pred = append(s.pred, predKey{})
		}
		s.pred[n].set(key)
		s.pred[n].jsonKey = jk
	}
	return jk.t, jk.t != nil || jk.prefix
}

// value scans the value at b[i]; want says whether the current path could
// lead to a mapped field.
func (s *jscan) value(b []byte, i, depth int, want bool, t *Target) (int, error) {
	if depth > maxJSONDepth {
		return 0, errJSON
	}
	if i >= len(b) {
		return 0, errJSON
	}
	switch c := b[i]; {
	case c == '{':
		base := len(s.path)
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, nil
		}
		for {
			i = skipWS(b, i)
			if i >= len(b) || b[i] != '"' {
				return 0, errJSON
			}
			// Lines of one log repeat their top-level keys in one order:
			// the key the previous line had at this place, when these
			// bytes repeat it, needs neither a scan nor a look-up.
			var pk *predKey
			if depth == 0 {
				if s.ord < len(s.pred) {
					pk = &s.pred[s.ord]
					if !pk.at(b, i+1) {
						pk = nil
					}
				}
				s.ord++
			}
			var (
				key       []byte
				childWant bool
				ct        *Target
				err       error
			)
			if pk != nil {
				key = b[i+1 : i+1+len(pk.key)]
				i = skipWS(b, i+2+len(pk.key))
				if want {
					ct, childWant = pk.t, pk.t != nil || pk.prefix
					if pk.prefix {
						s.path = append(s.path[:0], key...)
					}
				}
			} else {
				end, esc, err := strEnd(b, i)
				if err != nil {
					return 0, err
				}
				key = b[i+1 : end]
				if esc {
					s.key = unescape(s.key[:0], key)
					key = s.key
				}
				i = skipWS(b, end+1)
				if want {
					ct, childWant = s.wanted(key, base, depth == 0 && !esc)
				}
			}
			if i >= len(b) || b[i] != ':' {
				return 0, errJSON
			}
			i = skipWS(b, i+1)
			if !childWant && i < len(b) && b[i] == '"' {
				// The common cases, an unmapped string or number, without
				// a call.
				i, _, err = strEnd(b, i)
				i++
			} else if !childWant && i < len(b) && b[i] != '{' && b[i] != '[' {
				i, err = litScan(b, i)
			} else {
				i, err = s.value(b, i, depth+1, childWant, ct)
			}
			if err != nil {
				return 0, err
			}
			s.path = s.path[:base]
			i = skipWS(b, i)
			if i >= len(b) {
				return 0, errJSON
			}
			if b[i] == '}' {
				return i + 1, nil
			}
			if b[i] != ',' {
				return 0, errJSON
			}
			i++
		}
	case c == '[':
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, nil
		}
		for {
			i = skipWS(b, i)
			var err error
			i, err = s.value(b, i, depth+1, want, t)
			if err != nil {
				return 0, err
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return 0, errJSON
			}
			if b[i] == ']' {
				return i + 1, nil
			}
			if b[i] != ',' {
				return 0, errJSON
			}
			i++
		}
	case c == '"':
		end, esc, err := strEnd(b, i)
		if err != nil {
			return 0, err
		}
		if t != nil {
			{
				v := b[i+1 : end]
				if esc {
					start := len(s.ev.arena)
					if len(s.ev.arena)+len(v) <= cap(s.ev.arena) {
						s.ev.arena = unescape(s.ev.arena, v)
						v = s.ev.arena[start:len(s.ev.arena):len(s.ev.arena)]
					} else {
						v = nil
					}
				}
				s.ev.Add(t, v)
			}
		}
		return end + 1, nil
	default:
		j, err := litScan(b, i)
		if err != nil {
			return 0, err
		}
		if lit := b[i:j]; t != nil && lit[0] != 'n' {
			s.ev.Add(t, lit)
		}
		return j, nil
	}
}

// litStop has the high bit set in each byte of x that ends a literal (a
// comma, a closing bracket or brace, or white space and below), with the
// same caveat as strStop.
func litStop(x uint64) uint64 {
	c := x ^ (',' * lsb)
	r := x ^ ('}' * lsb)
	q := x ^ (']' * lsb)
	return ((c-lsb)&^c | (r-lsb)&^r | (q-lsb)&^q | (x-0x21*lsb)&^x) & msb
}

// litScan returns the end of the number, true, false or null at b[i].
func litScan(b []byte, i int) (int, error) {
	j := i
	for j+8 <= len(b) {
		if m := litStop(binary.LittleEndian.Uint64(b[j:])); m != 0 {
			j += bits.TrailingZeros64(m) >> 3
			break
		}
		j += 8
	}
	for j < len(b) && !litEnd[b[j]] {
		j++
	}
	if j == i {
		return 0, errJSON
	}
	switch lit := b[i:j]; string(lit) {
	case "true", "false", "null":
	default:
		if !(lit[0] == '-' || lit[0] >= '0' && lit[0] <= '9') {
			return 0, errJSON
		}
	}
	return j, nil
}

// unescape appends the JSON string body b, unescaped, to dst. The result is
// never longer than b, which the event arena's sizing relies on.
func unescape(dst, b []byte) []byte {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 >= len(b) {
			dst = append(dst, c)
			continue
		}
		i++
		switch b[i] {
		case 'n':
			dst = append(dst, '\n')
		case 't':
			dst = append(dst, '\t')
		case 'r':
			dst = append(dst, '\r')
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'u':
			if i+4 < len(b) {
				if r, err := strconv.ParseUint(string(b[i+1:i+5]), 16, 32); err == nil {
					var tmp [4]byte
					n := utf8.EncodeRune(tmp[:], rune(r))
					if n <= 6 {
						dst = append(dst, tmp[:n]...)
					}
					i += 4
					continue
				}
			}
			dst = append(dst, 'u')
		default:
			dst = append(dst, b[i])
		}
	}
	return dst
}
