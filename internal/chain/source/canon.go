package source

import (
	"errors"
	"math/big"
	"math/bits"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bulwark-intel/bulwark/internal/chain/address"
	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// interner maps raw byte strings to the canonical strings made from them, so
// that an address seen on many rows (an exchange, a token contract) is
// allocated once. Lookups with string(b) do not allocate. It is bounded: when
// full it starts afresh, which costs a few allocations and never correctness.
type interner struct {
	m map[string]string
}

func (in *interner) lookup(b []byte) (string, bool) {
	s, ok := in.m[string(b)]
	return s, ok
}

func (in *interner) put(raw []byte, canon string) {
	if in.m == nil {
		in.m = make(map[string]string, 1024)
	}
	if len(in.m) >= internLimit {
		clear(in.m)
	}
	key := canon
	if string(raw) != canon {
		key = string(raw)
	}
	in.m[key] = canon
}

// intern returns b as a string, shared with earlier equal ones.
func (in *interner) intern(b []byte) string {
	if s, ok := in.lookup(b); ok {
		return s
	}
	s := string(b)
	in.put(b, s)
	return s
}

// evmAddress returns the canonical (lower-case) form of an EVM address.
// Lower-case input, which is what ethereum-etl writes, is checked here
// without allocating; anything else goes through address.Parse, which also
// verifies EIP-55 checksums of mixed-case input.
func (l *Loader) evmAddress(b []byte) (string, bool) {
	if s, ok := l.evm.lookup(b); ok {
		return s, true
	}
	if len(b) != 42 || b[0] != '0' || (b[1] != 'x' && b[1] != 'X') {
		return "", false
	}
	lower := b[1] == 'x'
	for _, c := range b[2:] {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			lower = false
		default:
			return "", false
		}
	}
	if lower {
		s := string(b)
		l.evm.put(b, s)
		return s, true
	}
	a, err := address.Parse(string(b))
	if err != nil || !strings.HasPrefix(a.Canonical, "0x") {
		return "", false
	}
	l.evm.put(b, a.Canonical)
	return a.Canonical, true
}

// anyAddress canonicalises an address of any chain address.Parse knows,
// taking the EVM fast path first.
func (l *Loader) anyAddress(b []byte) (string, error) {
	if s, ok := l.evmAddress(b); ok {
		return s, nil
	}
	if s, ok := l.addrs.lookup(b); ok {
		return s, nil
	}
	// address.Parse trims white space; a padded field is not an address.
	if len(b) > 0 && (isSpace(b[0]) || isSpace(b[len(b)-1])) {
		return "", errors.New("address has surrounding white space")
	}
	a, err := address.Parse(string(b))
	if err != nil {
		return "", err
	}
	l.addrs.put(b, a.Canonical)
	return a.Canonical, nil
}

// evmHash checks a 0x-prefixed 32-byte hash and returns it in lower case.
func evmHash(b []byte, last *string) (string, bool) {
	if len(b) != 66 || b[0] != '0' || (b[1] != 'x' && b[1] != 'X') {
		return "", false
	}
	return hexString(b, 2, last)
}

// hexString validates b[from:] as hex and returns b lower-cased, reusing
// *last when equal (consecutive rows of one transaction share their hash).
func hexString(b []byte, from int, last *string) (string, bool) {
	upper := from == 2 && b[1] == 'X'
	if from == 2 && b[0] != '0' {
		return "", false
	}
	for _, c := range b[from:] {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			upper = true
		default:
			return "", false
		}
	}
	if !upper {
		if *last == string(b) {
			return *last, true
		}
		*last = string(b)
		return *last, true
	}
	s := strings.ToLower(string(b))
	*last = s
	return s, true
}

// amount parses a non-negative integer amount. Plain decimals of up to 38
// digits (every wei value below 10^20 ETH) are parsed here without
// allocating; everything else, including the hexadecimal and the error
// messages, is graph.ParseAmount's.
func (l *Loader) amount(b []byte) (graph.Amount, error) {
	n := len(b)
	if n == 0 || n > 38 || !allDigits(b) {
		return graph.ParseAmount(string(b))
	}
	if n <= 19 {
		var v uint64
		for _, c := range b {
			v = v*10 + uint64(c-'0')
		}
		return graph.AmountFromUint64(v), nil
	}
	if bits.UintSize != 64 {
		return graph.ParseAmount(string(b))
	}
	var hi, lo uint64
	for _, c := range b {
		h, x := bits.Mul64(lo, 10)
		x, carry := bits.Add64(x, uint64(c-'0'), 0)
		hi = hi*10 + h + carry // 10^38 < 2^128: no overflow
		lo = x
	}
	if hi == 0 {
		return graph.AmountFromUint64(lo), nil
	}
	if cap(l.words) < 2 {
		l.words = make([]big.Word, 2)
	}
	w := l.words[:2]
	w[0], w[1] = big.Word(lo), big.Word(hi)
	var v big.Int
	v.SetBits(w)
	return graph.AmountFromBig(&v) // copies the two words out
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseUint parses a plain decimal uint64.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// maxUnix is 9999-12-31T23:59:59Z: later times are hostile, not data.
const maxUnix = 253402300799

// parseTime reads a timestamp as Unix seconds (decimal) or as a UTC date
// and time: "2023-01-13 20:34:11" (the ground truth), with " UTC" (BigQuery
// exports), or RFC 3339.
func parseTime(b []byte) (int64, bool) {
	if v, ok := parseUint(b); ok {
		if v > maxUnix {
			return 0, false
		}
		return int64(v), true
	}
	if len(b) == 19 || (len(b) == 23 && string(b[19:]) == " UTC") {
		if t, ok := parseDateTime(b[:19]); ok {
			return t, true
		}
	}
	if len(b) > 64 {
		return 0, false
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, string(b)); err == nil {
			if u := t.Unix(); u >= 0 && u <= maxUnix {
				return u, true
			}
			return 0, false
		}
	}
	return 0, false
}

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999 UTC", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02"}

// parseDateTime parses "YYYY-MM-DD HH:MM:SS" (or with T) in UTC without
// allocating.
func parseDateTime(b []byte) (int64, bool) {
	if len(b) != 19 || b[4] != '-' || b[7] != '-' || (b[10] != ' ' && b[10] != 'T') || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range b[i : i+n] {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, mo, d, h, mi, s := num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2), num(17, 2)
	if y < 1970 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60 {
		return 0, false
	}
	if d > daysIn(time.Month(mo), y) {
		return 0, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC).Unix(), true
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// cutLabel bounds a label's length at a rune boundary.
func cutLabel(s string) string {
	if len(s) <= maxLabelBytes {
		return s
	}
	s = s[:maxLabelBytes]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// clip shortens a field for an error message.
func clip(b []byte) string {
	if len(b) > 48 {
		return string(b[:48]) + "…"
	}
	return string(b)
}

// blockTimes maps block numbers to timestamps for formats without them. It
// holds one entry per distinct block (rows arrive grouped by block, so
// consecutive duplicates are dropped on the way in) and is sorted lazily.
type blockTimes struct {
	bt     []blockTime
	sorted bool
	last   int
}

type blockTime struct {
	block uint64
	time  int64
}

func (t *blockTimes) add(block uint64, ts int64) {
	if n := len(t.bt); n > 0 {
		if t.bt[n-1].block == block {
			return
		}
		if t.bt[n-1].block > block {
			t.sorted = false
		}
	} else {
		t.sorted = true
	}
	t.bt = append(t.bt, blockTime{block, ts})
}

func (t *blockTimes) len() int { return len(t.bt) }

func (t *blockTimes) lookup(block uint64) (int64, bool) {
	if n := len(t.bt); n == 0 {
		return 0, false
	}
	if !t.sorted {
		slices.SortStableFunc(t.bt, func(a, b blockTime) int {
			switch {
			case a.block < b.block:
				return -1
			case a.block > b.block:
				return 1
			}
			return 0
		})
		t.bt = slices.CompactFunc(t.bt, func(a, b blockTime) bool { return a.block == b.block })
		t.sorted = true
		t.last = 0
	}
	if t.last < len(t.bt) && t.bt[t.last].block == block {
		return t.bt[t.last].time, true
	}
	i, ok := slices.BinarySearchFunc(t.bt, block, func(e blockTime, b uint64) int {
		switch {
		case e.block < b:
			return -1
		case e.block > b:
			return 1
		}
		return 0
	})
	if !ok {
		return 0, false
	}
	t.last = i
	return t.bt[i].time, true
}
