package address

import (
	"crypto/sha256"
	"errors"
	"strings"

	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/btcsuite/btcd/btcutil/bech32"
)

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

var base58Index [256]bool

func init() {
	for i := 0; i < len(base58Alphabet); i++ {
		base58Index[base58Alphabet[i]] = true
	}
}

func base58Valid(s string) bool {
	for i := 0; i < len(s); i++ {
		if !base58Index[s[i]] {
			return false
		}
	}
	return true
}

// base58Version describes one base58check version byte.
type base58Version struct {
	chains  []Chain
	kind    Kind
	network Network
}

var base58Versions = map[byte]base58Version{
	0x00: {legacyP2PKH, P2PKH, Mainnet},
	0x05: {legacyP2SH, P2SH, Mainnet},
	0x6f: {testnetP2PKH, P2PKH, Testnet},
	0xc4: {testnetP2SH, P2SH, Testnet},
	0x30: {[]Chain{LTC}, P2PKH, Mainnet},
	0x32: {[]Chain{LTC}, P2SH, Mainnet},
	0x3a: {[]Chain{LTC}, P2SH, Testnet},
	0x41: {[]Chain{TRX}, Account, Mainnet},
}

func parseBase58(s string) (Address, error) {
	for i := 0; i < len(s); i++ {
		if !base58Index[s[i]] {
			return Address{}, newErr(s, ErrCharacter, i, "%s not in the base58 alphabet", quoteByte(s[i]))
		}
	}
	// 25 bytes (version, 20-byte hash, 4-byte checksum) take 25 to 34
	// characters; checking first keeps arbitrary junk out of the decoder.
	if len(s) < 25 || len(s) > 35 {
		return Address{}, newErr(s, ErrLength, -1, "%d characters; base58check addresses have 25 to 34", len(s))
	}
	raw := base58.Decode(s)
	if len(raw) != 25 {
		return Address{}, newErr(s, ErrLength, -1, "base58 decodes to %d bytes, want 25", len(raw))
	}
	// The checksum is checked here on the bytes decoded above:
	// base58.CheckDecode would decode the string a second time.
	first := sha256.Sum256(raw[:21])
	if second := sha256.Sum256(first[:]); [4]byte(raw[21:25]) != [4]byte(second[:4]) {
		return Address{}, newErr(s, ErrChecksum, -1, "base58check checksum does not match")
	}
	version, payload := raw[0], raw[1:21:21]
	v, ok := base58Versions[version]
	if !ok {
		return Address{}, newErr(s, ErrVersion, -1, "base58 version byte 0x%02x is not a supported chain's", version)
	}
	return Address{Chains: v.chains, Kind: v.kind, Network: v.network, Canonical: s, Payload: payload, WitnessVersion: -1}, nil
}

func base58CheckEncode(payload []byte, version byte) string {
	return base58.CheckEncode(payload, version)
}

// segwit human-readable parts.
type segwitNet struct {
	chain   Chain
	network Network
}

var segwitHRPs = map[string]segwitNet{
	"bc":   {BTC, Mainnet},
	"tb":   {BTC, Testnet},
	"bcrt": {BTC, Regtest},
	"ltc":  {LTC, Mainnet},
	"tltc": {LTC, Testnet},
	"rltc": {LTC, Regtest},
}

// segwitHRP returns the lower-cased human-readable part when s starts with a
// known segwit prefix followed by the separator '1'.
func segwitHRP(s string) (string, bool) {
	n := 0
	for n < len(s) && n < 5 && isAlpha(s[n]) {
		n++
	}
	if n == 0 || n >= len(s) || s[n] != '1' {
		return "", false
	}
	hrp := strings.ToLower(s[:n])
	_, ok := segwitHRPs[hrp]
	return hrp, ok
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

var bech32Index [256]int8

func init() {
	for i := range bech32Index {
		bech32Index[i] = -1
	}
	for i := 0; i < len(bech32Charset); i++ {
		c := bech32Charset[i]
		bech32Index[c] = int8(i)
		if c >= 'a' && c <= 'z' {
			bech32Index[c-'a'+'A'] = int8(i)
		}
	}
}

// checkCase finds the first character whose case differs from the first
// cased character, for an error that points at it.
func checkCase(s string) (pos int, upper bool) {
	seenLower, seenUpper := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
			if seenUpper {
				return i, true
			}
			seenLower = true
		case c >= 'A' && c <= 'Z':
			if seenLower {
				return i, true
			}
			seenUpper = true
		}
	}
	return -1, seenUpper
}

// checkData reports the first character after start that is not in the
// bech32 charset (either case).
func checkData(s string, start int) int {
	for i := start; i < len(s); i++ {
		if bech32Index[s[i]] < 0 {
			return i
		}
	}
	return -1
}

func parseSegwit(s, hrp string) (Address, error) {
	if pos, _ := checkCase(s); pos >= 0 {
		return Address{}, newErr(s, ErrMixedCase, pos, "bech32 must be all lower or all upper case")
	}
	if len(s) > 90 {
		return Address{}, newErr(s, ErrLength, -1, "%d characters; bech32 addresses have at most 90", len(s))
	}
	sep := strings.LastIndexByte(s, '1')
	if sep != len(hrp) {
		// Another '1' later would make the separator ambiguous; '1' is
		// not in the data charset.
		return Address{}, newErr(s, ErrCharacter, sep, "'1' is not in the bech32 data charset")
	}
	if pos := checkData(s, sep+1); pos >= 0 {
		return Address{}, newErr(s, ErrCharacter, pos, "%s not in the bech32 charset", quoteByte(s[pos]))
	}
	if len(s)-sep-1 < 6 {
		return Address{}, newErr(s, ErrLength, -1, "data part shorter than the 6-character checksum")
	}
	_, data, ver, err := bech32.DecodeGeneric(s)
	if err != nil {
		var ce bech32.ErrInvalidChecksum
		if errors.As(err, &ce) {
			return Address{}, newErr(s, ErrChecksum, -1, "bech32/bech32m checksum does not match")
		}
		return Address{}, newErr(s, ErrFormat, -1, "bech32: %v", err)
	}
	if len(data) == 0 {
		return Address{}, newErr(s, ErrLength, -1, "empty data part (no witness version)")
	}
	wv := int(data[0])
	if wv > 16 {
		return Address{}, newErr(s, ErrVersion, sep+1, "witness version %d, highest is 16", wv)
	}
	prog, err := bech32.ConvertBits(data[1:], 5, 8, false)
	if err != nil {
		return Address{}, newErr(s, ErrPadding, -1, "witness program has more than 4 padding bits or non-zero padding")
	}
	if len(prog) < 2 || len(prog) > 40 {
		return Address{}, newErr(s, ErrLength, -1, "witness program of %d bytes, must be 2 to 40", len(prog))
	}
	if wv == 0 && len(prog) != 20 && len(prog) != 32 {
		return Address{}, newErr(s, ErrLength, -1, "witness v0 program of %d bytes, must be 20 or 32", len(prog))
	}
	if wv == 0 && ver != bech32.Version0 {
		return Address{}, newErr(s, ErrChecksum, -1, "witness v0 needs a bech32 checksum, found bech32m (BIP-350)")
	}
	if wv != 0 && ver != bech32.VersionM {
		return Address{}, newErr(s, ErrChecksum, -1, "witness v%d needs a bech32m checksum, found bech32 (BIP-350)", wv)
	}
	kind := WitnessUnknown
	switch {
	case wv == 0 && len(prog) == 20:
		kind = P2WPKH
	case wv == 0:
		kind = P2WSH
	case wv == 1 && len(prog) == 32:
		kind = P2TR
	case wv == 1 && len(prog) == 2 && prog[0] == 0x4e && prog[1] == 0x73:
		kind = P2A
	}
	n := segwitHRPs[hrp]
	return Address{Chains: single[n.chain], Kind: kind, Network: n.network, Canonical: strings.ToLower(s), Payload: prog, WitnessVersion: wv}, nil
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	return "byte 0x" + hexLower([]byte{c})
}
