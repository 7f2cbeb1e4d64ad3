package graph

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"math/bits"
	"strings"
)

// Transfer is one movement of value as a loader reports it, before interning.
// Addresses are given in the canonical form of internal/chain/address where the
// chain is known (lower-case 0x… for EVM chains); the graph does not parse them.
type Transfer struct {
	Tx    string // transaction hash; transfers of one transaction share it
	Block uint64
	Time  int64 // Unix seconds; 0 when the source has no timestamps
	From  string
	To    string
	// Asset is "" for the chain's native coin, otherwise the token contract
	// (or another stable asset identifier).
	Asset  string
	Amount Amount  // exact, in the asset's base units (wei, satoshi, token units)
	USD    float64 // value in US dollars at transfer time; meaningful when HasUSD
	HasUSD bool
}

// Amount is a non-negative integer of any size. Values up to 2^128-1 need no
// allocation, which matters when loaders feed tens of millions of transfers.
type Amount struct {
	hi, lo uint64
	big    *big.Int // set only when the value does not fit in 128 bits
}

// AmountFromUint64 returns v as an Amount.
func AmountFromUint64(v uint64) Amount { return Amount{lo: v} }

// AmountFromBig returns a copy of v as an Amount; v must not be negative.
func AmountFromBig(v *big.Int) (Amount, error) {
	if v.Sign() < 0 {
		return Amount{}, errors.New("negative amount")
	}
	if v.BitLen() <= 128 {
		var a Amount
		words := v.Bits()
		if bits.UintSize == 64 {
			if len(words) > 0 {
				a.lo = uint64(words[0])
			}
			if len(words) > 1 {
				a.hi = uint64(words[1])
			}
			return a, nil
		}
		b := new(big.Int).Set(v)
		a.lo = b.Uint64()
		a.hi = b.Rsh(b, 64).Uint64()
		return a, nil
	}
	return Amount{big: new(big.Int).Set(v)}, nil
}

// maxAmountDigits bounds the decimal strings accepted: 2^256 has 78 digits,
// so 100 leaves room while refusing a megabyte of digits from a hostile file.
const maxAmountDigits = 100

// ParseAmount reads a non-negative decimal integer ("12345"), also accepting
// the 0x-prefixed hexadecimal that node JSON-RPC uses ("0x3039").
func ParseAmount(s string) (Amount, error) {
	if s == "" {
		return Amount{}, errors.New("empty amount")
	}
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		h := s[2:]
		if h == "" || len(h) > 80 {
			return Amount{}, fmt.Errorf("amount %.40q: bad hexadecimal length", s)
		}
		v, ok := new(big.Int).SetString(h, 16)
		if !ok {
			return Amount{}, fmt.Errorf("amount %.40q: not hexadecimal", s)
		}
		return AmountFromBig(v)
	}
	if len(s) > maxAmountDigits {
		return Amount{}, fmt.Errorf("amount %.40q…: more than %d digits", s, maxAmountDigits)
	}
	// Fast path: up to 19 digits always fit in a uint64.
	if len(s) <= 19 {
		var v uint64
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return Amount{}, fmt.Errorf("amount %q: not a decimal integer", s)
			}
			v = v*10 + uint64(c-'0')
		}
		return Amount{lo: v}, nil
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return Amount{}, fmt.Errorf("amount %.40q: not a decimal integer", s)
		}
	}
	v, _ := new(big.Int).SetString(s, 10)
	return AmountFromBig(v)
}

// IsZero reports whether the amount is 0.
func (a Amount) IsZero() bool { return a.big == nil && a.hi == 0 && a.lo == 0 }

// Big returns the amount as a new big.Int.
func (a Amount) Big() *big.Int {
	if a.big != nil {
		return new(big.Int).Set(a.big)
	}
	v := new(big.Int).SetUint64(a.hi)
	v.Lsh(v, 64)
	return v.Or(v, new(big.Int).SetUint64(a.lo))
}

// Float64 returns the amount rounded to a float64, for taint arithmetic.
func (a Amount) Float64() float64 {
	if a.big != nil {
		f, _ := new(big.Float).SetInt(a.big).Float64()
		return f
	}
	return float64(a.hi)*(1<<64) + float64(a.lo)
}

// AppendBinary appends a byte form of the amount that differs for
// different amounts, for keys (the loaders' duplicate check).
func (a Amount) AppendBinary(b []byte) []byte {
	if a.big != nil {
		return append(append(b, 1), a.big.Bytes()...)
	}
	b = append(b, 0)
	b = binary.LittleEndian.AppendUint64(b, a.lo)
	return binary.LittleEndian.AppendUint64(b, a.hi)
}

// String formats the amount in decimal.
func (a Amount) String() string {
	if a.big == nil && a.hi == 0 {
		return fmt.Sprint(a.lo)
	}
	return a.Big().String()
}

// Cmp compares two amounts: -1, 0 or +1.
func (a Amount) Cmp(b Amount) int {
	if a.big != nil || b.big != nil {
		return a.Big().Cmp(b.Big())
	}
	switch {
	case a.hi != b.hi:
		if a.hi < b.hi {
			return -1
		}
		return 1
	case a.lo != b.lo:
		if a.lo < b.lo {
			return -1
		}
		return 1
	}
	return 0
}
