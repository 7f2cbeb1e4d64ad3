package address

import (
	"encoding/hex"

	"golang.org/x/crypto/sha3"
)

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if hexVal(s[i]) < 0 {
			return false
		}
	}
	return true
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func hexLower(b []byte) string { return hex.EncodeToString(b) }

// parseEVM parses 0x + 40 hex digits. Mixed case must match EIP-55; all
// lower or all upper case carries no checksum and is accepted as is.
func parseEVM(s string) (Address, error) {
	for i := 2; i < len(s); i++ {
		if hexVal(s[i]) < 0 {
			return Address{}, newErr(s, ErrCharacter, i, "%s is not a hex digit", quoteByte(s[i]))
		}
	}
	if len(s) != 42 {
		return Address{}, newErr(s, ErrLength, -1, "%d hex digits after 0x, EVM addresses have 40", len(s)-2)
	}
	digits := s[2:]
	hasLower, hasUpper := false, false
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		hasLower = hasLower || (c >= 'a' && c <= 'f')
		hasUpper = hasUpper || (c >= 'A' && c <= 'F')
	}
	payload := make([]byte, 20)
	_, _ = hex.Decode(payload, []byte(digits)) // digits checked above
	lower := "0x" + hex.EncodeToString(payload)
	if hasLower && hasUpper {
		want := eip55(lower[2:])
		for i := 2; i < len(s); i++ {
			if s[i] != want[i] {
				return Address{}, newErr(s, ErrEIP55, i, "mixed-case address has the wrong case here; checksummed form is %s", want)
			}
		}
	}
	return Address{Chains: EVMChains, Kind: Account, Network: Mainnet, Canonical: lower, Payload: payload, WitnessVersion: -1}, nil
}

// eip55 returns the EIP-55 checksummed form of 40 lower-case hex digits: a
// letter is upper-cased when the matching nibble of Keccak-256 of the
// lower-case ASCII digits is 8 or more.
func eip55(lowerHex string) string {
	h := sha3.NewLegacyKeccak256()
	h.Write([]byte(lowerHex))
	var sum [32]byte
	h.Sum(sum[:0])
	out := make([]byte, 2+len(lowerHex))
	out[0], out[1] = '0', 'x'
	for i := 0; i < len(lowerHex); i++ {
		c := lowerHex[i]
		nibble := sum[i/2] >> 4
		if i%2 == 1 {
			nibble = sum[i/2] & 0x0f
		}
		if c >= 'a' && c <= 'f' && nibble >= 8 {
			c -= 'a' - 'A'
		}
		out[2+i] = c
	}
	return string(out)
}

// parseTronHex parses TRON's hex form, 41 followed by the 20-byte account;
// the canonical form is its base58check encoding (T…).
func parseTronHex(s string) (Address, error) {
	raw := make([]byte, 21)
	_, _ = hex.Decode(raw, []byte(s)) // caller checked 42 hex digits
	payload := raw[1:]
	return Address{Chains: single[TRX], Kind: Account, Network: Mainnet, Canonical: base58CheckEncode(payload, 0x41), Payload: payload, WitnessVersion: -1}, nil
}
