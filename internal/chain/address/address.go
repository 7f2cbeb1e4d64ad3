// Package address parses, validates and normalises cryptocurrency addresses:
// Bitcoin (base58check P2PKH/P2SH, bech32 segwit v0 and bech32m v1+ per
// BIP-173/BIP-350), Litecoin (L/M/3 legacy, ltc1 segwit), Bitcoin Cash
// (cashaddr and legacy base58), Bitcoin SV (legacy base58), Ethereum and other
// EVM chains (0x + 40 hex with EIP-55 checksums) and TRON (base58check with
// version 0x41, and its 41+40-hex form).
//
// Parse detects the chain from the string. Where the string alone cannot tell
// (a legacy 1… address is valid on BTC, BCH and BSV; 0x… is valid on every
// EVM chain) Address.Chains lists every candidate, most likely first. ParseFor
// checks an address against a known chain and narrows Chains to it.
//
// Canonical is the form to index and compare: base58 as written (it is
// case-sensitive), bech32 and cashaddr in lower case, EVM hex in lower case
// with 0x, TRON in base58 (its 41… hex form is converted), cashaddr with its
// prefix and without the CashTokens token bit. ParseFor additionally folds
// alternative encodings of the same script into one form for that chain: a
// BCH legacy address becomes cashaddr and a LTC 3… address becomes M…, so
// lists written in either encoding match. Parse cannot do this for legacy
// base58, whose chain it does not know.
//
// The codecs come from github.com/btcsuite/btcd/btcutil (base58, bech32) and
// golang.org/x/crypto/sha3 (Keccak-256 for EIP-55); only the cashaddr checksum,
// which those libraries lack, is written here.
package address

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Chain names a blockchain by its usual ticker.
type Chain string

// Supported chains. The EVM chains share one address format.
const (
	BTC     Chain = "BTC"
	BCH     Chain = "BCH"
	BSV     Chain = "BSV"
	LTC     Chain = "LTC"
	TRX     Chain = "TRX"
	ETH     Chain = "ETH"
	ETC     Chain = "ETC"
	BSC     Chain = "BSC"
	ARB     Chain = "ARB"
	OP      Chain = "OP"
	BASE    Chain = "BASE"
	POLYGON Chain = "POLYGON"
	AVAX    Chain = "AVAX"
)

// EVMChains lists the EVM chains a 0x address may belong to, Ethereum first.
var EVMChains = []Chain{ETH, ETC, BSC, ARB, OP, BASE, POLYGON, AVAX}

// IsEVM reports whether c uses the Ethereum address format.
func (c Chain) IsEVM() bool {
	for _, e := range EVMChains {
		if c == e {
			return true
		}
	}
	return false
}

var chainAliases = map[string]Chain{
	"BTC": BTC, "XBT": BTC, "BITCOIN": BTC,
	"BCH": BCH, "BITCOINCASH": BCH, "BITCOIN CASH": BCH,
	"BSV": BSV,
	"LTC": LTC, "LITECOIN": LTC,
	"TRX": TRX, "TRON": TRX,
	"ETH": ETH, "ETHEREUM": ETH,
	"ETC": ETC,
	"BSC": BSC, "BNB": BSC, "BEP20": BSC,
	"ARB": ARB, "ARBITRUM": ARB,
	"OP": OP, "OPTIMISM": OP,
	"BASE":    BASE,
	"POLYGON": POLYGON, "MATIC": POLYGON, "POL": POLYGON,
	"AVAX": AVAX, "AVALANCHE": AVAX,
}

// ParseChain maps a chain name or ticker (case-insensitive; aliases such as
// XBT, TRON, BNB, MATIC as used by OFAC and exchanges) to a Chain.
func ParseChain(name string) (Chain, bool) {
	c, ok := chainAliases[strings.ToUpper(strings.TrimSpace(name))]
	return c, ok
}

// Kind is the script or account type an address encodes.
type Kind string

// Address kinds.
const (
	P2PKH          Kind = "p2pkh"
	P2SH           Kind = "p2sh"
	P2WPKH         Kind = "p2wpkh"
	P2WSH          Kind = "p2wsh"
	P2TR           Kind = "p2tr"
	P2A            Kind = "p2a"             // pay-to-anchor (v1, program 0x4e73)
	WitnessUnknown Kind = "witness_unknown" // valid segwit v1+ not yet given meaning
	Account        Kind = "account"         // EVM and TRON accounts
)

// Network is the network an address belongs to.
type Network string

// Networks. Testnet, signet and (for base58) regtest share prefixes, so a
// tb1… or m… address reports Testnet; Regtest is only reported for the
// regtest-only prefixes bcrt1, rltc1 and bchreg:.
const (
	Mainnet Network = "mainnet"
	Testnet Network = "testnet"
	Regtest Network = "regtest"
)

// Address is a parsed, validated address.
type Address struct {
	// Chains lists the chains the address is valid on, most likely first.
	// It has one element when the chain is unambiguous. The slice may be
	// shared between addresses: do not modify it.
	Chains  []Chain
	Kind    Kind
	Network Network
	// Canonical is the normalised form to index and compare.
	Canonical string
	// Payload is the hash or witness program: hash160 for P2PKH/P2SH, the
	// witness program for segwit, the 20-byte account for EVM and TRON.
	Payload []byte
	// WitnessVersion is the segwit version, or -1 for non-segwit addresses.
	WitnessVersion int
}

// Chain returns the most likely chain (the only one when unambiguous).
func (a Address) Chain() Chain {
	if len(a.Chains) == 0 {
		return ""
	}
	return a.Chains[0]
}

// Ambiguous reports whether the address is valid on more than one chain.
func (a Address) Ambiguous() bool { return len(a.Chains) > 1 }

// Has reports whether c is among the address's candidate chains.
func (a Address) Has(c Chain) bool {
	for _, x := range a.Chains {
		if x == c {
			return true
		}
	}
	return false
}

// String returns the canonical form.
func (a Address) String() string { return a.Canonical }

// Display returns the form to show to people: the EIP-55 checksummed form for
// EVM addresses, the canonical form otherwise.
func (a Address) Display() string {
	if a.Kind == Account && strings.HasPrefix(a.Canonical, "0x") {
		return eip55(a.Canonical[2:])
	}
	return a.Canonical
}

// Hex returns the hex form of an account address: 0x + 40 lower-case hex
// digits for EVM, 41 + 40 hex digits for TRON; "" for other kinds.
func (a Address) Hex() string {
	if a.Kind != Account || len(a.Payload) != 20 {
		return ""
	}
	if strings.HasPrefix(a.Canonical, "T") {
		return "41" + hexLower(a.Payload)
	}
	return "0x" + hexLower(a.Payload)
}

// Sentinel errors, for errors.Is. Every error returned by this package is an
// *Error wrapping one of these.
var (
	ErrEmpty       = errors.New("empty address")
	ErrTooLong     = errors.New("address too long")
	ErrFormat      = errors.New("unrecognised address format")
	ErrCharacter   = errors.New("invalid character")
	ErrLength      = errors.New("bad length")
	ErrChecksum    = errors.New("bad checksum")
	ErrMixedCase   = errors.New("mixed case")
	ErrEIP55       = errors.New("wrong EIP-55 checksum")
	ErrVersion     = errors.New("unsupported version")
	ErrPrefix      = errors.New("unknown prefix")
	ErrPadding     = errors.New("invalid padding")
	ErrWrongChain  = errors.New("wrong chain")
	ErrUnsupported = errors.New("unsupported chain")
)

// Error describes why a string is not a valid address.
type Error struct {
	Input  string // the input, shortened when long
	Err    error  // one of the sentinel errors
	Pos    int    // 0-based byte position of the offending character, or -1
	Detail string // what exactly is wrong
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "address %q: %v", e.Input, e.Err)
	if e.Pos >= 0 {
		fmt.Fprintf(&b, " at position %d", e.Pos)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// maxLen bounds the input: the longest supported form is a cashaddr with a
// 512-bit hash and its prefix (124 characters). It keeps hostile input from
// reaching the base58 big-number decoder.
const maxLen = 128

func newErr(input string, err error, pos int, format string, args ...any) *Error {
	if len(input) > 64 {
		input = input[:64] + "…"
	}
	d := format
	if len(args) > 0 {
		d = fmt.Sprintf(format, args...)
	}
	return &Error{Input: input, Err: err, Pos: pos, Detail: d}
}

// trim removes surrounding white space and returns the offset of the first
// kept byte in the original, so error positions refer to the caller's string.
func trim(s string) (string, int) {
	t := strings.TrimLeft(s, " \t\r\n")
	off := len(s) - len(t)
	return strings.TrimRight(t, " \t\r\n"), off
}

// Parse parses s, detecting its chain. Surrounding white space is ignored.
func Parse(s string) (Address, error) {
	t, off := trim(s)
	if t == "" {
		return Address{}, newErr(s, ErrEmpty, -1, "")
	}
	if len(t) > maxLen {
		return Address{}, newErr(s, ErrTooLong, -1, "%d bytes, longest supported form is %d", len(t), maxLen)
	}
	a, err := parse(t)
	if err != nil {
		if e, ok := err.(*Error); ok {
			e.Input = shorten(s)
			if e.Pos >= 0 {
				e.Pos += off
			}
		}
		return Address{}, err
	}
	return a, nil
}

func shorten(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func parse(s string) (Address, error) {
	switch {
	case len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		return parseEVM(s)
	case len(s) == 42 && s[0] == '4' && s[1] == '1' && isHex(s):
		return parseTronHex(s)
	case strings.IndexByte(s, ':') >= 0:
		return parseCashAddr(s)
	}
	if hrp, ok := segwitHRP(s); ok {
		a, err := parseSegwit(s, hrp)
		if err != nil && len(s) <= 35 && base58Valid(s) {
			// A base58 string may begin like an upper-case bech32 one
			// (TRON's "TB1…", Litecoin's "Ltc1…").
			if b, err2 := parseBase58(s); err2 == nil {
				return b, nil
			}
		}
		return a, err
	}
	if looksCashAddr(s) {
		return parseImplicitCashAddr(s)
	}
	a, err := parseBase58(s)
	if err != nil && looksBech32(s) {
		// Base58 never contains '0'; a bech32-shaped string with an
		// unknown human-readable part is most likely a foreign segwit
		// address (a typo in bc1, another coin's hrp).
		sep := strings.LastIndexByte(s, '1')
		return Address{}, newErr(s, ErrPrefix, -1, "%q is not a supported bech32 prefix (bc, tb, bcrt, ltc, tltc, rltc)", strings.ToLower(s[:sep]))
	}
	return a, err
}

// ParseFor parses s as an address of chain c. It fails with ErrWrongChain
// when s is valid but not on c. The result's Chains is [c], and alternative
// encodings are folded into c's preferred form (see the package doc).
func ParseFor(c Chain, s string) (Address, error) {
	if _, ok := single[c]; !ok {
		return Address{}, newErr(s, ErrUnsupported, -1, "chain %q", string(c))
	}
	t, _ := trim(s)
	if c == TRX && len(t) == 44 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') && t[2] == '4' && t[3] == '1' {
		// TRON hex is sometimes written with a 0x prefix.
		s = t[2:]
	}
	a, err := Parse(s)
	if err != nil {
		return Address{}, err
	}
	if !a.Has(c) {
		return Address{}, newErr(shorten(s), ErrWrongChain, -1, "a %s address (%s), not %s", chainList(a.Chains), a.Kind, c)
	}
	a.Chains = single[c]
	switch c {
	case BCH:
		if a.WitnessVersion < 0 && !strings.Contains(a.Canonical, ":") {
			a.Canonical = legacyToCashAddr(a)
		}
	case LTC:
		// Litecoin moved P2SH from BTC's version bytes to its own; fold
		// the old 3…/2… forms into M…/Q….
		if a.Kind == P2SH && (a.Canonical[0] == '3' || a.Canonical[0] == '2') {
			v := byte(0x32)
			if a.Network != Mainnet {
				v = 0x3a
			}
			a.Canonical = base58CheckEncode(a.Payload, v)
		}
	}
	return a, nil
}

func chainList(cs []Chain) string {
	if len(cs) > 3 {
		return string(cs[0]) + "/EVM"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = string(c)
	}
	return strings.Join(parts, "/")
}

// Shared read-only candidate lists, so parsing allocates no slice for them.
var (
	single       = map[Chain][]Chain{}
	legacyP2PKH  = []Chain{BTC, BCH, BSV}
	legacyP2SH   = []Chain{BTC, BCH, BSV, LTC}
	testnetP2PKH = []Chain{BTC, BCH, BSV, LTC}
	testnetP2SH  = []Chain{BTC, BCH, BSV, LTC}
)

func init() {
	for _, c := range []Chain{BTC, BCH, BSV, LTC, TRX} {
		single[c] = []Chain{c}
	}
	for _, c := range EVMChains {
		single[c] = []Chain{c}
	}
}

// parseImplicitCashAddr parses a cashaddr written without its prefix, which
// means bitcoincash:.
func parseImplicitCashAddr(s string) (Address, error) {
	pos, upper := checkCase(s)
	if pos >= 0 {
		return Address{}, newErr(s, ErrMixedCase, pos, "cashaddr must be all lower or all upper case")
	}
	prefix := "bitcoincash:"
	if upper {
		prefix = "BITCOINCASH:"
	}
	a, err := parseCashAddr(prefix + s)
	if e, ok := err.(*Error); ok && e.Pos >= 0 {
		e.Pos -= len(prefix)
	}
	return a, err
}

// looksBech32 reports whether s has the bech32 shape: a letter-only
// human-readable part, the separator '1', and at least 6 charset characters.
func looksBech32(s string) bool {
	sep := strings.LastIndexByte(s, '1')
	if sep < 1 || len(s)-sep-1 < 6 {
		return false
	}
	for i := 0; i < sep; i++ {
		if !isAlpha(s[i]) {
			return false
		}
	}
	return checkData(s, sep+1) < 0
}

// Fold returns the key under which a's other encodings of the same script
// meet, chain-independent: a cashaddr (Bitcoin Cash) address and a
// Litecoin M…/Q… address become the legacy base58 form with Bitcoin's
// version bytes; everything else is its Canonical form. A list that
// indexes Fold keys finds a listing whichever encoding the list or the
// query was written in; two chains' addresses that share a key share the
// key holder, since one private key controls both.
func Fold(a Address) string {
	if !hashScript(a) {
		return a.Canonical
	}
	c := a.Canonical
	cash := strings.Contains(c, ":")
	ltcP2SH := a.Kind == P2SH && len(a.Chains) == 1 && a.Chains[0] == LTC
	if !cash && !ltcP2SH {
		return c
	}
	v := byte(0x00)
	switch {
	case a.Kind == P2SH && a.Network == Mainnet:
		v = 0x05
	case a.Kind == P2SH:
		v = 0xc4
	case a.Network != Mainnet:
		v = 0x6f
	}
	return base58CheckEncode(a.Payload, v)
}

// hashScript reports whether a is a P2PKH or P2SH hash, the scripts that
// base58 and cashaddr both encode.
func hashScript(a Address) bool {
	return a.WitnessVersion < 0 && len(a.Payload) == 20 && (a.Kind == P2PKH || a.Kind == P2SH)
}

// Alternatives returns the other encodings of a's script on the chains a
// may belong to (see Fold): for a legacy base58 or cashaddr address, its
// legacy, cashaddr and Litecoin M…/Q… forms, without a's own. A graph
// loaded from one source names an address in the encoding that source
// used; these find it from another.
func Alternatives(a Address) []string {
	if !hashScript(a) {
		return nil
	}
	legacy := Fold(a)
	forms := []string{legacy}
	if l, err := Parse(legacy); err == nil {
		if l.Has(BCH) {
			forms = append(forms, legacyToCashAddr(l))
		}
		if l.Has(LTC) && l.Kind == P2SH {
			if m, err := ParseFor(LTC, legacy); err == nil {
				forms = append(forms, m.Canonical)
			}
		}
	}
	out := forms[:0]
	for _, f := range forms {
		if f != a.Canonical && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}
