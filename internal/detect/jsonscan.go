package detect

import (
	"errors"
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
// tells both whether it is mapped and whether it leads to mapped keys.
type jsonMap struct {
	keys map[string]jsonKey
	// seen has a bit set for each (length, first byte, last byte) of the
	// keys: most keys of a log line are not mapped, and this turns them
	// away without hashing them.
	seen [64]uint64
}

func keyBit(k []byte) (int, uint64) {
	h := uint(len(k))*31 + uint(k[0])*7 + uint(k[len(k)-1])
	return int(h>>6) & 63, 1 << (h & 63)
}

type jsonKey struct {
	t      *Target // mapped leaf, or nil
	prefix bool    // "a" and "a.b" for a mapped "a.b.c"
}

func newJSONMap(m map[string]*Target) *jsonMap {
	jm := &jsonMap{keys: map[string]jsonKey{}}
	for k, t := range m {
		jk := jm.keys[k]
		jk.t = t
		jm.keys[k] = jk
		for i := 0; i < len(k); i++ {
			if k[i] == '.' {
				jk := jm.keys[k[:i]]
				jk.prefix = true
				jm.keys[k[:i]] = jk
			}
		}
	}
	for k := range jm.keys {
		if k != "" {
			w, b := keyBit([]byte(k))
			jm.seen[w] |= b
		}
	}
	return jm
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

type jscan struct {
	m    *jsonMap
	ev   *Event
	path []byte
	key  []byte
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// scanLine scans a whole line holding one JSON object.
func (s *jscan) scanLine(b []byte) error {
	s.path = s.path[:0]
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

// strEnd returns the index of the closing quote of the string opening at
// b[i], and whether it holds escapes.
func strEnd(b []byte, i int) (int, bool, error) {
	esc := false
	for j := i + 1; j < len(b); j++ {
		if !strByte[b[j]] {
			continue
		}
		switch b[j] {
		case '"':
			return j, esc, nil
		case '\\':
			esc = true
			j++
		default:
			if b[j] < 0x20 {
				return 0, false, errJSON
			}
		}
	}
	return 0, false, errJSON
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
			end, esc, err := strEnd(b, i)
			if err != nil {
				return 0, err
			}
			key := b[i+1 : end]
			if esc {
				s.key = unescape(s.key[:0], key)
				key = s.key
			}
			i = skipWS(b, end+1)
			if i >= len(b) || b[i] != ':' {
				return 0, errJSON
			}
			i = skipWS(b, i+1)
			childWant, ct := false, (*Target)(nil)
			if want {
				s.path = s.path[:base]
				if base > 0 {
					s.path = append(s.path, '.')
				}
				s.path = append(s.path, key...)
				if len(s.path) > 0 {
					if w, bit := keyBit(s.path); s.m.seen[w]&bit != 0 {
						jk := s.m.keys[string(s.path)]
						ct = jk.t
						childWant = ct != nil || jk.prefix
					}
				}
			}
			i, err = s.value(b, i, depth+1, childWant, ct)
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
		// number, true, false, null
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\r' && b[j] != '\n' {
			j++
		}
		if j == i {
			return 0, errJSON
		}
		lit := b[i:j]
		switch string(lit) {
		case "true", "false", "null":
		default:
			if !(lit[0] == '-' || lit[0] >= '0' && lit[0] <= '9') {
				return 0, errJSON
			}
		}
		if t != nil && lit[0] != 'n' {
			s.ev.Add(t, lit)
		}
		return j, nil
	}
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
