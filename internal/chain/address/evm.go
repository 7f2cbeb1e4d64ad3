package address

import (
	"encoding/hex"
	"hash"
	"io"
	"sync"

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
	if v := hexTab[c]; v != 0xff {
		return int(v)
	}
	return -1
}

// hexTab maps a byte to its hex digit value, 0xff for no digit.
var hexTab = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := range 10 {
		t['0'+i] = byte(i)
	}
	for i := range 6 {
		t['a'+i], t['A'+i] = byte(10+i), byte(10+i)
	}
	return t
}()

func hexLower(b []byte) string { return hex.EncodeToString(b) }

// parseEVM parses 0x + 40 hex digits. Mixed case must match EIP-55; all
// lower or all upper case carries no checksum and is accepted as is.
// Exchanges screen checksummed addresses by the million, so the common path
// makes two allocations: the payload and the canonical string.
func parseEVM(s string) (Address, error) {
	for i := 2; i < len(s); i++ {
		if hexVal(s[i]) < 0 {
			return Address{}, newErr(s, ErrCharacter, i, "%s is not a hex digit", quoteByte(s[i]))
		}
	}
	if len(s) != 42 {
		return Address{}, newErr(s, ErrLength, -1, "%d hex digits after 0x, EVM addresses have 40", len(s)-2)
	}
	var lower [42]byte
	lower[0], lower[1] = '0', 'x'
	payload := make([]byte, 20)
	hasLower, hasUpper := false, false
	for i := 2; i < 42; i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'f':
			hasLower = true
		case c >= 'A' && c <= 'F':
			hasUpper = true
			c += 'a' - 'A'
		}
		lower[i] = c
		payload[(i-2)/2] = payload[(i-2)/2]<<4 | hexTab[c]
	}
	if hasLower && hasUpper {
		sum := keccakDigits((*[40]byte)(lower[2:]))
		for i := 2; i < 42; i++ {
			// Digits have no case; a letter must be upper case exactly
			// where EIP-55 says.
			if c := s[i]; c >= 'A' && (c < 'a') != eip55Upper(&sum, i-2) {
				return Address{}, newErr(s, ErrEIP55, i, "mixed-case address has the wrong case here; checksummed form is %s", eip55(string(lower[2:])))
			}
		}
	}
	return Address{Chains: EVMChains, Kind: Account, Network: Mainnet, Canonical: string(lower[:]), Payload: payload, WitnessVersion: -1}, nil
}

// keccak is a Keccak-256 state with the buffers it reads and writes:
// slices passed through the hash's interface escape to the heap, so
// buffers on the caller's stack would cost an allocation each.
type keccak struct {
	h   hash.Hash
	r   io.Reader // h's squeeze: reading it skips the copy of the state Sum makes
	in  [40]byte
	sum [32]byte
}

// keccakPool holds Keccak-256 states: one costs more to make than to run
// on 40 bytes.
var keccakPool = sync.Pool{New: func() any {
	h := sha3.NewLegacyKeccak256()
	return &keccak{h: h, r: h.(io.Reader)}
}}

// keccakDigits is Keccak-256 of the 40 lower-case ASCII hex digits, which
// EIP-55 takes the case of each letter from.
func keccakDigits(digits *[40]byte) [32]byte {
	k := keccakPool.Get().(*keccak)
	k.h.Reset()
	k.in = *digits
	k.h.Write(k.in[:])
	k.r.Read(k.sum[:])
	sum := k.sum
	keccakPool.Put(k)
	return sum
}

// eip55Upper reports whether a letter at position i of the digits is upper
// case in EIP-55: when nibble i of their Keccak-256 is 8 or more.
func eip55Upper(sum *[32]byte, i int) bool {
	return sum[i/2]>>(4*(1-i%2))&0x0f >= 8
}

// eip55Digit is lower-case hex digit c at position i in its EIP-55 case.
func eip55Digit(c byte, sum *[32]byte, i int) byte {
	if c >= 'a' && c <= 'f' && eip55Upper(sum, i) {
		c -= 'a' - 'A'
	}
	return c
}

// eip55 returns the EIP-55 checksummed form of 40 lower-case hex digits
// (the canonical form of an EVM address after its 0x).
func eip55(lowerHex string) string {
	var digits [40]byte
	copy(digits[:], lowerHex)
	sum := keccakDigits(&digits)
	out := make([]byte, 2+len(lowerHex))
	out[0], out[1] = '0', 'x'
	for i := 0; i < len(lowerHex); i++ {
		out[2+i] = eip55Digit(lowerHex[i], &sum, i)
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
