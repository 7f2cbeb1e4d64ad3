package screen

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends results as a JSON array, byte for byte what
// encoding/json makes of them, several times faster: a batch of 10,000
// answers is mostly its encoding, and reflection over thousands of small
// structs (each EVM address lists eight chains) cost more than screening
// them.
func AppendJSON(dst []byte, results []Result) []byte {
	dst = append(dst, '[')
	for i := range results {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendResult(dst, &results[i])
	}
	return append(dst, ']')
}

func appendResult(b []byte, r *Result) []byte {
	b = append(b, `{"input":`...)
	start := len(b)
	b = appendString(b, r.Input)
	end := len(b)
	if r.Canonical != "" {
		b = append(b, `,"canonical":`...)
		if r.Canonical == r.Input {
			b = append(b, b[start:end]...) // most inputs are canonical already
		} else {
			b = appendString(b, r.Canonical)
		}
	}
	if len(r.Chains) > 0 {
		b = append(b, `,"chains":`...)
		if len(r.Chains) == len(evmChains) && &r.Chains[0] == &evmChains[0] {
			b = append(b, evmChainsJSON...)
		} else {
			b = appendStrings(b, r.Chains)
		}
	}
	b = append(b, `,"risk":`...)
	b = appendString(b, r.Risk)
	if r.Error != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, r.Error)
	}
	if len(r.Reasons) > 0 {
		b = append(b, `,"reasons":[`...)
		for i := range r.Reasons {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendReason(b, &r.Reasons[i])
		}
		b = append(b, ']')
	}
	if r.TLP != "" {
		b = append(b, `,"tlp":`...)
		b = appendString(b, r.TLP)
	}
	return append(b, '}')
}

func appendReason(b []byte, r *Reason) []byte {
	b = append(b, `{"indicator":`...)
	b = appendString(b, r.Indicator)
	for _, f := range [...]struct{ name, v string }{{`,"name":`, r.Name}, {`,"source":`, r.Source}, {`,"actor":`, r.Actor}} {
		if f.v != "" {
			b = append(b, f.name...)
			b = appendString(b, f.v)
		}
	}
	if len(r.Labels) > 0 {
		b = append(b, `,"labels":`...)
		b = appendStrings(b, r.Labels)
	}
	b = append(b, `,"tlp":`...)
	b = appendString(b, r.TLP)
	b = append(b, `,"risk":`...)
	b = appendString(b, r.Risk)
	if r.Note != "" {
		b = append(b, `,"note":`...)
		b = appendString(b, r.Note)
	}
	if r.Indirect != nil {
		b = append(b, `,"indirect":`...)
		b = appendIndirect(b, r.Indirect)
	}
	return append(b, '}')
}

func appendIndirect(b []byte, x *Indirect) []byte {
	b = append(b, `{"share":`...)
	b = appendFloat(b, x.Share)
	b = append(b, `,"hops":`...)
	b = strconv.AppendInt(b, int64(x.Hops), 10)
	b = append(b, `,"listed":`...)
	b = appendString(b, x.Listed)
	if len(x.Listing) > 0 {
		b = append(b, `,"listing":[`...)
		for i := range x.Listing {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendReason(b, &x.Listing[i])
		}
		b = append(b, ']')
	}
	b = append(b, `,"path":`...)
	if x.Path == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range x.Path {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendHop(b, &x.Path[i])
		}
		b = append(b, ']')
	}
	if x.Truncated {
		b = append(b, `,"truncated":true`...)
	}
	if x.Asset != nil {
		b = append(b, `,"asset":`...)
		b = appendString(b, *x.Asset)
	}
	return append(b, '}')
}

func appendHop(b []byte, h *Hop) []byte {
	b = append(b, `{"from":`...)
	b = appendString(b, h.From)
	b = append(b, `,"to":`...)
	b = appendString(b, h.To)
	if h.Tx != "" {
		b = append(b, `,"tx":`...)
		b = appendString(b, h.Tx)
	}
	if h.Time != "" {
		b = append(b, `,"time":`...)
		b = appendString(b, h.Time)
	}
	b = append(b, `,"amount":`...)
	b = appendString(b, h.Amount)
	if h.Asset != "" {
		b = append(b, `,"asset":`...)
		b = appendString(b, h.Asset)
	}
	if h.USD != 0 {
		b = append(b, `,"usd":`...)
		b = appendFloat(b, h.USD)
	}
	return append(b, '}')
}

// evmChainsJSON is the encoded evmChains, which every EVM result shares.
var evmChainsJSON = appendStrings(nil, evmChains)

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendFloat formats as encoding/json does; NaN and infinities, which it
// refuses, become null (shares and USD values are finite).
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// plain marks the ASCII bytes a JSON string holds as they are.
var plain = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString quotes s as encoding/json does by default: HTML-safe (<, >
// and & escaped), invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if plain[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
