package address

import (
	"strings"

	"github.com/btcsuite/btcd/btcutil/bech32"
)

// Bitcoin Cash cashaddr (https://reference.cash/protocol/blockchain/encoding/cashaddr).
// It reuses bech32's charset and 5-bit regrouping (taken from btcutil) but
// has its own 40-bit BCH checksum, which no served library implements: the
// polymod below is written by hand from the specification.

var cashPrefixes = map[string]Network{
	"bitcoincash": Mainnet,
	"bchtest":     Testnet,
	"bchreg":      Regtest,
}

// cashPolymod is the cashaddr checksum over 5-bit values.
func cashPolymod(prefix string, values []byte) uint64 {
	c := uint64(1)
	step := func(d byte) {
		c0 := byte(c >> 35)
		c = ((c & 0x07ffffffff) << 5) ^ uint64(d)
		if c0&0x01 != 0 {
			c ^= 0x98f2bc8e61
		}
		if c0&0x02 != 0 {
			c ^= 0x79b76d99e2
		}
		if c0&0x04 != 0 {
			c ^= 0xf33e5fb3c4
		}
		if c0&0x08 != 0 {
			c ^= 0xae2eabe2a8
		}
		if c0&0x10 != 0 {
			c ^= 0x1e4f43e470
		}
	}
	for i := 0; i < len(prefix); i++ {
		step(prefix[i] & 0x1f)
	}
	step(0)
	for _, v := range values {
		step(v)
	}
	return c ^ 1
}

// hash sizes in bits by the low three bits of the version byte.
var cashHashBytes = [8]int{20, 24, 28, 32, 40, 48, 56, 64}

// looksCashAddr reports whether a prefix-less string is meant as cashaddr:
// base58 addresses are at most 35 characters, cashaddr payloads at least 42.
func looksCashAddr(s string) bool {
	return len(s) >= 42 && strings.IndexByte("qpzrQPZR", s[0]) >= 0
}

// parseCashAddr parses "prefix:payload".
func parseCashAddr(s string) (Address, error) {
	colon := strings.IndexByte(s, ':')
	if strings.LastIndexByte(s, ':') != colon {
		return Address{}, newErr(s, ErrCharacter, strings.LastIndexByte(s, ':'), "more than one ':'")
	}
	if pos, _ := checkCase(s); pos >= 0 {
		return Address{}, newErr(s, ErrMixedCase, pos, "cashaddr must be all lower or all upper case")
	}
	s = strings.ToLower(s)
	prefix, payload := s[:colon], s[colon+1:]
	net, ok := cashPrefixes[prefix]
	if !ok {
		return Address{}, newErr(s, ErrPrefix, -1, "%q is not a cashaddr prefix (bitcoincash, bchtest, bchreg)", prefix)
	}
	if pos := checkData(s, colon+1); pos >= 0 {
		return Address{}, newErr(s, ErrCharacter, pos, "%s not in the cashaddr charset", quoteByte(s[pos]))
	}
	if len(payload) < 42 || len(payload) > 112 {
		return Address{}, newErr(s, ErrLength, -1, "payload of %d characters, cashaddr has 42 to 112", len(payload))
	}
	values := make([]byte, len(payload))
	for i := 0; i < len(payload); i++ {
		values[i] = byte(bech32Index[payload[i]])
	}
	if cashPolymod(prefix, values) != 0 {
		return Address{}, newErr(s, ErrChecksum, -1, "cashaddr checksum does not match")
	}
	data, err := bech32.ConvertBits(values[:len(values)-8], 5, 8, false)
	if err != nil || len(data) == 0 {
		return Address{}, newErr(s, ErrPadding, -1, "payload has more than 4 padding bits or non-zero padding")
	}
	version := data[0]
	if version&0x80 != 0 {
		return Address{}, newErr(s, ErrVersion, -1, "version byte 0x%02x has the reserved bit set", version)
	}
	typ := version >> 3 & 0x0f
	if typ > 3 {
		return Address{}, newErr(s, ErrVersion, -1, "cashaddr type %d is not defined", typ)
	}
	hash := data[1:]
	if want := cashHashBytes[version&7]; len(hash) != want {
		return Address{}, newErr(s, ErrLength, -1, "hash of %d bytes, version byte says %d", len(hash), want)
	}
	kind := P2PKH
	if typ&1 == 1 {
		kind = P2SH
	}
	// Token-aware types (2, 3: CashTokens' z…/r… forms) lock the same script
	// as the plain ones; the canonical form drops the token bit so both
	// spellings of one wallet compare equal.
	canonical := s
	if typ&2 != 0 {
		canonical = cashEncode(prefix, version&^0x10, hash)
	}
	return Address{Chains: single[BCH], Kind: kind, Network: net, Canonical: canonical, Payload: hash, WitnessVersion: -1}, nil
}

func cashEncode(prefix string, version byte, hash []byte) string {
	raw := make([]byte, 0, 1+len(hash))
	raw = append(raw, version)
	raw = append(raw, hash...)
	values, _ := bech32.ConvertBits(raw, 8, 5, true)
	mod := cashPolymod(prefix, append(values, 0, 0, 0, 0, 0, 0, 0, 0))
	var b strings.Builder
	b.Grow(len(prefix) + 1 + len(values) + 8)
	b.WriteString(prefix)
	b.WriteByte(':')
	for _, v := range values {
		b.WriteByte(bech32Charset[v])
	}
	for i := 0; i < 8; i++ {
		b.WriteByte(bech32Charset[(mod>>(5*(7-i)))&31])
	}
	return b.String()
}

// legacyToCashAddr converts a legacy base58 P2PKH/P2SH address to cashaddr.
func legacyToCashAddr(a Address) string {
	prefix := "bitcoincash"
	if a.Network != Mainnet {
		prefix = "bchtest"
	}
	var version byte // type 0, 160-bit hash
	if a.Kind == P2SH {
		version = 1 << 3
	}
	return cashEncode(prefix, version, a.Payload)
}
