package address

import (
	"bytes"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil/bech32"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		in        string
		chains    []Chain
		kind      Kind
		network   Network
		canonical string
		payload   string // hex
	}{
		// Bitcoin genesis coinbase address and a well-known P2SH example.
		{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", legacyP2PKH, P2PKH, Mainnet, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "62e907b15cbf27d5425399ebf6f0fb50ebb88f18"},
		{"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", legacyP2SH, P2SH, Mainnet, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "b472a266d0bd89c13706a4132ccfb16f7c3b9fcb"},
		// Surrounding white space is dropped.
		{" \t1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa\r\n", legacyP2PKH, P2PKH, Mainnet, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "62e907b15cbf27d5425399ebf6f0fb50ebb88f18"},
		// Testnet base58 (same hash160 as the genesis address).
		{"mpXwg4jMtRhuSpVq4xS3HFHmCmWp9NyGKt", testnetP2PKH, P2PKH, Testnet, "mpXwg4jMtRhuSpVq4xS3HFHmCmWp9NyGKt", "62e907b15cbf27d5425399ebf6f0fb50ebb88f18"},
		// BIP-173 / BIP-350 vectors.
		{"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", []Chain{BTC}, P2WPKH, Mainnet, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "751e76e8199196d454941c45d1b3a323f1433bd6"},
		{"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", []Chain{BTC}, P2WSH, Testnet, "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "1863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262"},
		{"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", []Chain{BTC}, P2TR, Mainnet, "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"},
		{"BC1SW50QGDZ25J", []Chain{BTC}, WitnessUnknown, Mainnet, "bc1sw50qgdz25j", "751e"},
		{"bcrt1qs758ursh4q9z627kt3pp5yysm78ddny6txaqgw", []Chain{BTC}, P2WPKH, Regtest, "bcrt1qs758ursh4q9z627kt3pp5yysm78ddny6txaqgw", "87a87e0e17a80a2d2bd65c421a1090df8ed6cc9a"},
		// Litecoin.
		{"M8yFL6SFC6TreATegTyuSYkDfDRbisdpT3", []Chain{LTC}, P2SH, Mainnet, "M8yFL6SFC6TreATegTyuSYkDfDRbisdpT3", "0bbe0b81745aeda83069804e75cef6e2f7263e39"},
		{"LNf2JDiuunBz7GMDKFYHN4rq5meXWxiwfb", []Chain{LTC}, P2PKH, Mainnet, "LNf2JDiuunBz7GMDKFYHN4rq5meXWxiwfb", ""},
		{"ltc1qg42tkwuuxefutzxezdkdel39gfstuap288mfea", []Chain{LTC}, P2WPKH, Mainnet, "ltc1qg42tkwuuxefutzxezdkdel39gfstuap288mfea", "4554bb3b9c3653c588d9136cdcfe254260be742a"},
		// Cashaddr specification examples (same hash as 1BpEi6Df…/3CWFddi6…).
		{"bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", []Chain{BCH}, P2PKH, Mainnet, "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", "76a04053bda0a88bda5177b86a15c3b29f559873"},
		{"qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", []Chain{BCH}, P2PKH, Mainnet, "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", "76a04053bda0a88bda5177b86a15c3b29f559873"},
		{"BITCOINCASH:QPM2QSZNHKS23Z7629MMS6S4CWEF74VCWVY22GDX6A", []Chain{BCH}, P2PKH, Mainnet, "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", "76a04053bda0a88bda5177b86a15c3b29f559873"},
		{"bitcoincash:ppm2qsznhks23z7629mms6s4cwef74vcwvn0h829pq", []Chain{BCH}, P2SH, Mainnet, "bitcoincash:ppm2qsznhks23z7629mms6s4cwef74vcwvn0h829pq", "76a04053bda0a88bda5177b86a15c3b29f559873"},
		{"1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu", legacyP2PKH, P2PKH, Mainnet, "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu", "76a04053bda0a88bda5177b86a15c3b29f559873"},
		// Ethereum: EIP-55, all lower, all upper.
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", EVMChains, Account, Mainnet, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"},
		{"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", EVMChains, Account, Mainnet, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"},
		{"0X5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED", EVMChains, Account, Mainnet, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"},
		// TRON: USDT's contract in both forms, and the zero account.
		{"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", []Chain{TRX}, Account, Mainnet, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "a614f803b6fd780986a42c78ec9c7f77e6ded13c"},
		{"41a614f803b6fd780986a42c78ec9c7f77e6ded13c", []Chain{TRX}, Account, Mainnet, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "a614f803b6fd780986a42c78ec9c7f77e6ded13c"},
		{"410000000000000000000000000000000000000000", []Chain{TRX}, Account, Mainnet, "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb", "0000000000000000000000000000000000000000"},
	}
	for _, tt := range tests {
		a, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if !slices.Equal(a.Chains, tt.chains) || a.Kind != tt.kind || a.Network != tt.network || a.Canonical != tt.canonical {
			t.Errorf("Parse(%q) = %v %s %s %s, want %v %s %s %s", tt.in, a.Chains, a.Kind, a.Network, a.Canonical, tt.chains, tt.kind, tt.network, tt.canonical)
		}
		if tt.payload != "" && hex.EncodeToString(a.Payload) != tt.payload {
			t.Errorf("Parse(%q) payload %x, want %s", tt.in, a.Payload, tt.payload)
		}
		if b, err := Parse(a.Canonical); err != nil || b.Canonical != a.Canonical {
			t.Errorf("canonical %q re-parses to %q, %v", a.Canonical, b.Canonical, err)
		}
	}
}

// TestBIP350Valid checks every valid segwit address of BIP-350 against its
// scriptPubKey (witness version opcode, push length, program).
func TestBIP350Valid(t *testing.T) {
	vectors := []struct{ addr, script string }{
		{"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"},
		{"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262"},
		{"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y", "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6"},
		{"BC1SW50QGDZ25J", "6002751e"},
		{"bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "5210751e76e8199196d454941c45d1b3a323"},
		{"tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy", "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433"},
		{"tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c", "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433"},
		{"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"},
	}
	for _, v := range vectors {
		a, err := ParseFor(BTC, v.addr)
		if err != nil {
			t.Errorf("%s: %v", v.addr, err)
			continue
		}
		op := byte(0)
		if a.WitnessVersion > 0 {
			op = 0x50 + byte(a.WitnessVersion)
		}
		script := append([]byte{op, byte(len(a.Payload))}, a.Payload...)
		if got := hex.EncodeToString(script); got != v.script {
			t.Errorf("%s: script %s, want %s", v.addr, got, v.script)
		}
		if a.Canonical != strings.ToLower(v.addr) {
			t.Errorf("%s: canonical %s", v.addr, a.Canonical)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	const anyPos = -2
	tests := []struct {
		in  string
		err error
		pos int
	}{
		{"", ErrEmpty, -1},
		{"   ", ErrEmpty, -1},
		{"hello", ErrCharacter, 2},
		// BIP-350 invalid addresses, each for its stated reason.
		{"tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut", ErrPrefix, -1},
		{"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", ErrChecksum, -1}, // bech32 for v1
		{"tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf", ErrChecksum, -1}, // bech32 for v2
		{"BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL", ErrChecksum, -1}, // bech32 for v16
		{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", ErrChecksum, -1},                     // bech32m for v0
		{"tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47", ErrChecksum, -1}, // bech32m for v0
		{"bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4", ErrCharacter, 59},
		{"BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R", ErrVersion, 3},
		{"bc1pw5dgrnzv", ErrLength, -1},
		{"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav", ErrLength, -1},
		{"BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", ErrLength, -1},
		{"tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq", ErrMixedCase, 58},
		{"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf", ErrPadding, -1},
		{"tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j", ErrPadding, -1},
		{"bc1gmk9yu", ErrLength, -1},
		// BIP-173 invalid addresses still invalid under BIP-350.
		{"tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty", ErrPrefix, -1},
		{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", ErrChecksum, -1},
		{"BC13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2", ErrVersion, 3},
		{"bc1rw5uspcuh", ErrLength, -1},
		{"bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90", ErrLength, -1},
		{"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7", ErrMixedCase, 58},
		{"bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du", ErrPadding, -1},
		{"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv", ErrPadding, -1},
		// Over 90 characters.
		{"bc1q" + strings.Repeat("q", 90), ErrLength, -1},
		// Base58: bad checksum, truncated, foreign characters, unknown version.
		{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", ErrChecksum, -1},
		{"1A1zP1eP5QGefi2DMPTfTL5SLmv7D", ErrLength, -1},
		{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNaNa", ErrLength, -1},
		{"1A1zP1eP5QGefi2DMPTfTL5SLmv7Div0Na", ErrCharacter, 31},
		{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivlNa", ErrCharacter, 31},
		{"  1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNO", ErrCharacter, 35}, // position in the caller's string
		{"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6T", ErrChecksum, -1},
		{"DH5yaieqoZN36fDVciNyRueRGvGLR3mr7L", ErrVersion, -1}, // Dogecoin
		// EVM: wrong EIP-55 case, lengths, characters.
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", ErrEIP55, 41},
		{"0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed", ErrEIP55, 4},
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", ErrLength, -1},
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00", ErrLength, -1},
		{"0x", ErrLength, -1},
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg", ErrCharacter, 41},
		{"0x41a614f803b6fd780986a42c78ec9c7f77e6ded13c", ErrLength, -1}, // TRON hex with 0x: only under ParseFor(TRX)
		// Cashaddr: checksum, case, prefix, character, length.
		{"bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6q", ErrChecksum, -1},
		{"bchtest:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", ErrChecksum, -1},
		{"bitcoincash:Qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", ErrMixedCase, 12},
		{"qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdX6a", ErrMixedCase, 39},
		{"foo:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", ErrPrefix, -1},
		{"qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6b", ErrCharacter, 41},
		{"bitcoincash:qpm2qsznhks23z7629mms6s4cwef74", ErrLength, -1},
		{"bitcoincash:a:b", ErrCharacter, 13},
		// Hostile.
		{strings.Repeat("1", 129), ErrTooLong, -1},
		{"\x00\xff\xfe", ErrCharacter, anyPos},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q) = %v, want *Error", tt.in, err)
			continue
		}
		if !errors.Is(err, tt.err) || (tt.pos != anyPos && e.Pos != tt.pos) {
			t.Errorf("Parse(%q) = %v (pos %d), want %v at %d", tt.in, err, e.Pos, tt.err, tt.pos)
		}
	}
}

// TestEIP55 uses the test cases of EIP-55: each is its own checksummed form.
func TestEIP55(t *testing.T) {
	for _, s := range []string{
		"0x52908400098527886E0F7030069857D2E4169EE7",
		"0x8617E340B3D01FA5F11F306F4090FD50E238070D",
		"0xde709f2102306220921060314715629080e2fb77",
		"0x27b1fdb04752bbc536007a920d24acb045561c26",
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
		"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
		"0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
		"0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
	} {
		a, err := Parse(s)
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		if a.Display() != s {
			t.Errorf("Display(%s) = %s", s, a.Display())
		}
		if a.Canonical != strings.ToLower(s) {
			t.Errorf("Canonical(%s) = %s", s, a.Canonical)
		}
		// Flipping the case of any one letter of a mixed-case address
		// must be caught.
		mixed := strings.ToLower(s[2:]) != s[2:] && strings.ToUpper(s[2:]) != s[2:]
		if !mixed {
			continue
		}
		for i := 2; i < len(s); i++ {
			c := s[i]
			if c < 'A' || (c > 'F' && c < 'a') || c > 'f' {
				continue
			}
			b := []byte(s)
			b[i] ^= 0x20
			_, err := Parse(string(b))
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrEIP55) || e.Pos != i {
				t.Errorf("%s with case flipped at %d: %v", s, i, err)
			}
		}
	}
}

func TestParseFor(t *testing.T) {
	tests := []struct {
		chain     Chain
		in        string
		canonical string
		err       error
	}{
		{BTC, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", nil},
		{BSV, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", nil},
		{BCH, "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu", "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", nil},
		{BCH, "3CWFddi6m4ndiGyKqzYvsFYagqDLPVMTzC", "bitcoincash:ppm2qsznhks23z7629mms6s4cwef74vcwvn0h829pq", nil},
		{BCH, "qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", nil},
		{LTC, "3CWFddi6m4ndiGyKqzYvsFYagqDLPVMTzC", "MJiPwX84iBe4WnFDwsYGgtnz1XonPhUqhf", nil},
		{LTC, "MJiPwX84iBe4WnFDwsYGgtnz1XonPhUqhf", "MJiPwX84iBe4WnFDwsYGgtnz1XonPhUqhf", nil},
		{TRX, "0x41a614f803b6fd780986a42c78ec9c7f77e6ded13c", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", nil},
		{TRX, "41A614F803B6FD780986A42C78EC9C7F77E6DED13C", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", nil},
		{BSC, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", nil},
		{LTC, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "", ErrWrongChain},
		{BCH, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "", ErrWrongChain},
		{BTC, "ltc1qg42tkwuuxefutzxezdkdel39gfstuap288mfea", "", ErrWrongChain},
		{ETH, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "", ErrWrongChain},
		{TRX, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "", ErrWrongChain},
		{Chain("DOGE"), "DH5yaieqoZN36fDVciNyRueRGvGLR3mr7L", "", ErrUnsupported},
		{BTC, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "", ErrChecksum},
	}
	for _, tt := range tests {
		a, err := ParseFor(tt.chain, tt.in)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("ParseFor(%s, %s) = %v, want %v", tt.chain, tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || a.Canonical != tt.canonical || !slices.Equal(a.Chains, []Chain{tt.chain}) {
			t.Errorf("ParseFor(%s, %s) = %s %v, %v; want %s", tt.chain, tt.in, a.Canonical, a.Chains, err, tt.canonical)
		}
	}
}

func TestParseChain(t *testing.T) {
	for in, want := range map[string]Chain{"XBT": BTC, "btc": BTC, "Tron": TRX, "bnb": BSC, "ETH": ETH, "matic": POLYGON} {
		if got, ok := ParseChain(in); !ok || got != want {
			t.Errorf("ParseChain(%q) = %s, %v", in, got, ok)
		}
	}
	if _, ok := ParseChain("XMR"); ok {
		t.Error("XMR is not supported")
	}
}

func TestAccessors(t *testing.T) {
	a, _ := Parse("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")
	if a.Chain() != BTC || !a.Ambiguous() || !a.Has(BCH) || a.Has(LTC) || a.Hex() != "" || a.String() != a.Canonical {
		t.Errorf("legacy accessors: %v %v", a.Chain(), a.Chains)
	}
	tr, _ := Parse("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t")
	if tr.Hex() != "41a614f803b6fd780986a42c78ec9c7f77e6ded13c" || tr.Ambiguous() || tr.Display() != tr.Canonical {
		t.Errorf("TRON accessors: %s", tr.Hex())
	}
	e, _ := Parse("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")
	if e.Hex() != e.Canonical || e.Display() != "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed" {
		t.Errorf("EVM accessors: %s %s", e.Hex(), e.Display())
	}
	var zero Address
	if zero.Chain() != "" {
		t.Error("zero Address has a chain")
	}
}

// TestHugeInput: a 100 MB string is refused at once, without decoding.
func TestHugeInput(t *testing.T) {
	s := strings.Repeat("1", 100<<20)
	start := time.Now()
	_, err := Parse(s)
	if !errors.Is(err, ErrTooLong) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v", d)
	}
	if len(err.Error()) > 300 {
		t.Errorf("error message of %d bytes", len(err.Error()))
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
		"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
		"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "bc1sw50qgdz25j",
		"ltc1qg42tkwuuxefutzxezdkdel39gfstuap288mfea", "M8yFL6SFC6TreATegTyuSYkDfDRbisdpT3",
		"bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", "qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a",
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
		"41a614f803b6fd780986a42c78ec9c7f77e6ded13c", "tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty",
		"bitcoincash:a:b", "", "0x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Pos >= len(s) {
				t.Fatalf("Parse(%q): bad error %#v", s, err)
			}
			return
		}
		if len(a.Chains) == 0 || a.Kind == "" || a.Network == "" {
			t.Fatalf("Parse(%q) = %+v: incomplete", s, a)
		}
		b, err := Parse(a.Canonical)
		if err != nil || b.Canonical != a.Canonical || b.Kind != a.Kind || !slices.Equal(b.Chains, a.Chains) {
			t.Fatalf("Parse(%q): canonical %q re-parses to %q, %v", s, a.Canonical, b.Canonical, err)
		}
		// Every encoding of the script folds to one key, itself a valid
		// address of the same script.
		key := Fold(a)
		for _, alt := range append(Alternatives(a), key) {
			x, err := Parse(alt)
			if err != nil || Fold(x) != key || !bytes.Equal(x.Payload, a.Payload) || x.Kind != a.Kind {
				t.Fatalf("Parse(%q): encoding %q of fold key %q: %v", s, alt, key, err)
			}
		}
		for _, c := range a.Chains {
			p, err := ParseFor(c, s)
			if err != nil {
				t.Fatalf("ParseFor(%s, %q): %v", c, s, err)
			}
			q, err := ParseFor(c, p.Canonical)
			if err != nil || q.Canonical != p.Canonical {
				t.Fatalf("ParseFor(%s, %q): canonical %q re-parses to %q, %v", c, s, p.Canonical, q.Canonical, err)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	for _, in := range []struct{ name, s string }{
		{"base58", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"},
		{"bech32", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"},
		{"bech32m", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"},
		{"cashaddr", "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a"},
		{"evm-lower", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"},
		{"evm-eip55", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"},
		{"tron", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"},
	} {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(in.s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzEncodeParse builds valid addresses of every form from fuzzed payloads
// (random strings almost never pass a checksum) and checks that Parse
// accepts them with the payload, and that the canonical form round-trips.
func FuzzEncodeParse(f *testing.F) {
	f.Add(uint8(0), []byte("0123456789abcdefghij"), false)
	f.Add(uint8(3), []byte("0123456789abcdefghij0123456789ab"), true)
	f.Fuzz(func(t *testing.T, form uint8, payload []byte, upper bool) {
		var s string
		want := payload
		switch form % 6 {
		case 0: // base58check, any supported version
			if len(payload) != 20 {
				return
			}
			versions := []byte{0x00, 0x05, 0x6f, 0xc4, 0x30, 0x32, 0x3a, 0x41}
			s = base58CheckEncode(payload, versions[int(form/6)%len(versions)])
		case 1: // segwit v0
			if len(payload) != 20 && len(payload) != 32 {
				return
			}
			d, _ := bech32.ConvertBits(payload, 8, 5, true)
			s, _ = bech32.Encode("bc", append([]byte{0}, d...))
		case 2: // segwit v1..16
			if len(payload) < 2 || len(payload) > 40 {
				return
			}
			d, _ := bech32.ConvertBits(payload, 8, 5, true)
			s, _ = bech32.EncodeM("tb", append([]byte{1 + form/6%16}, d...))
		case 3: // cashaddr
			if len(payload) != 20 && len(payload) != 32 {
				return
			}
			size := byte(0)
			if len(payload) == 32 {
				size = 3
			}
			s = cashEncode("bitcoincash", size|(form/6%2)<<3, payload)
		case 4: // EVM
			if len(payload) != 20 {
				return
			}
			s = eip55(hex.EncodeToString(payload))
		case 5: // TRON hex
			if len(payload) != 20 {
				return
			}
			s = "41" + hex.EncodeToString(payload)
		}
		if upper && form%6 != 0 && form%6 != 4 {
			s = strings.ToUpper(s)
		}
		a, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q) of form %d: %v", s, form%6, err)
		}
		if !bytes.Equal(a.Payload, want) {
			t.Fatalf("Parse(%q) payload %x, want %x", s, a.Payload, want)
		}
		b, err := Parse(a.Canonical)
		if err != nil || b.Canonical != a.Canonical {
			t.Fatalf("canonical %q re-parses to %q, %v", a.Canonical, b.Canonical, err)
		}
	})
}

// Fold brings the encodings one chain allows for a script to one key, and
// leaves other addresses as they are.
func TestFold(t *testing.T) {
	same := [][]string{
		{"1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu", "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", "qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a"},
		{"3CWFddi6m4ndiGyKqzYvsFYagqDLPVMTzC", "bitcoincash:ppm2qsznhks23z7629mms6s4cwef74vcwvn0h829pq", "MJiPwX84iBe4WnFDwsYGgtnz1XonPhUqhf"},
	}
	// Test networks: the BCH and LTC forms are made from legacy ones.
	for _, legacy := range []string{"mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", "2MzQwSSnBHWHqSAqtTVQ6v47XtaisrJa1Vc"} {
		a, err := ParseFor(BCH, legacy)
		if err != nil {
			t.Fatal(err)
		}
		group := []string{legacy, a.Canonical}
		if a.Kind == P2SH {
			l, err := ParseFor(LTC, legacy)
			if err != nil {
				t.Fatal(err)
			}
			group = append(group, l.Canonical)
		}
		same = append(same, group)
	}
	for _, group := range same {
		var keys []string
		for _, s := range group {
			a, err := Parse(s)
			if err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			keys = append(keys, Fold(a))
		}
		for i, k := range keys {
			if k != group[0] {
				t.Errorf("Fold(%s) = %s, want %s", group[i], k, group[0])
			}
		}
	}
	for _, s := range []string{
		"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
		"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
		"ltc1qg42tkwuuxefutzxezdkdel39gfstuap288mfea",
		"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
		"LM2WMpR1Rp6j3Sa59cMXMs1SPzj9eXpGc1", // LTC P2PKH has one encoding
		"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
	} {
		a, err := Parse(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if k := Fold(a); k != a.Canonical {
			t.Errorf("Fold(%s) = %s, want its canonical %s", s, k, a.Canonical)
		}
	}
}

// Alternatives lists a script's other encodings, and nothing for
// addresses that have one.
func TestAlternatives(t *testing.T) {
	for in, want := range map[string][]string{
		"1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu":                     {"bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a"},
		"bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a": {"1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu"},
		"3CWFddi6m4ndiGyKqzYvsFYagqDLPVMTzC":                     {"bitcoincash:ppm2qsznhks23z7629mms6s4cwef74vcwvn0h829pq", "MJiPwX84iBe4WnFDwsYGgtnz1XonPhUqhf"},
		"MJiPwX84iBe4WnFDwsYGgtnz1XonPhUqhf":                     {"3CWFddi6m4ndiGyKqzYvsFYagqDLPVMTzC", "bitcoincash:ppm2qsznhks23z7629mms6s4cwef74vcwvn0h829pq"},
		"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed":             nil,
		"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4":             nil,
		"LM2WMpR1Rp6j3Sa59cMXMs1SPzj9eXpGc1":                     nil,
		"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t":                     nil,
	} {
		a, err := Parse(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := Alternatives(a); !slices.Equal(got, want) {
			t.Errorf("Alternatives(%s) = %v, want %v", in, got, want)
		}
	}
}
