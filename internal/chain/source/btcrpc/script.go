package btcrpc

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/btcsuite/btcd/btcutil/bech32"
)

// network holds what it takes to turn an output script into an address.
type network struct {
	name   string // normalised chain name
	p2pkh  byte   // base58check version of pay-to-pubkey-hash
	p2sh   byte   // base58check version of pay-to-script-hash
	segwit string // bech32 human-readable part
}

var (
	mainNet    = network{name: "main", p2pkh: 0x00, p2sh: 0x05, segwit: "bc"}
	testNet    = network{name: "test", p2pkh: 0x6f, p2sh: 0xc4, segwit: "tb"}
	regtestNet = network{name: "regtest", p2pkh: 0x6f, p2sh: 0xc4, segwit: "bcrt"}
	simNet     = network{name: "simnet", p2pkh: 0x3f, p2sh: 0x7b, segwit: "sb"}
)

// networkByName maps the chain names of Bitcoin Core ("main", "test",
// "testnet4", "signet", "regtest") and btcd ("mainnet", "testnet3", "simnet")
// to their address parameters. Testnets and signet share one encoding.
func networkByName(name string) (network, error) {
	switch name {
	case "main", "mainnet", "bitcoin":
		return mainNet, nil
	case "test", "testnet", "testnet3", "testnet4", "signet":
		return testNet, nil
	case "regtest":
		return regtestNet, nil
	case "simnet":
		return simNet, nil
	}
	return network{}, fmt.Errorf("unknown bitcoin network %q", name)
}

// nonstandardPrefix starts the name of an output whose script has no address.
const nonstandardPrefix = "nonstandard"

// nonstandardName is the stable name of an output script without an address:
// "nonstandard" followed by the first 40 hex digits of the SHA-256 of the
// script bytes. bitcoin-etl names such outputs the same way, so the RPC loader
// and the file loader agree on them.
func nonstandardName(script []byte) string {
	sum := sha256.Sum256(script)
	return nonstandardPrefix + hex.EncodeToString(sum[:20])
}

// Script opcodes the classifier looks at.
const (
	opDup           = 0x76
	opHash160       = 0xa9
	opEqual         = 0x87
	opEqualVerify   = 0x88
	opCheckSig      = 0xac
	opCheckMultisig = 0xae
	op0             = 0x00
	op1             = 0x51
	op16            = 0x60
)

// scriptAddress returns the address an output script pays to on net, or the
// nonstandard name of the script when it has none. Recognised forms:
// P2PKH, P2SH, segwit v0 (20- or 32-byte programs), segwit v1-v16 (2 to 40
// bytes; v1 32 bytes is taproot, v1 0x4e73 is pay-to-anchor), and P2PK, which
// is given the P2PKH address of its key as block explorers and bitcoin-etl
// do, so coins paid to a bare key and to its hash meet at one address. Bare
// multisig is named by multisigName; everything else (OP_RETURN, malformed
// or unknown scripts) by nonstandardName.
func scriptAddress(script []byte, net *network) string {
	n := len(script)
	switch {
	case n == 25 && script[0] == opDup && script[1] == opHash160 && script[2] == 20 &&
		script[23] == opEqualVerify && script[24] == opCheckSig:
		return base58.CheckEncode(script[3:23], net.p2pkh)
	case n == 23 && script[0] == opHash160 && script[1] == 20 && script[22] == opEqual:
		return base58.CheckEncode(script[2:22], net.p2sh)
	case n >= 4 && n <= 42 && (script[0] == op0 || script[0] >= op1 && script[0] <= op16) &&
		int(script[1]) == n-2:
		if a, ok := segwitAddress(script, net); ok {
			return a
		}
	case n == 35 && script[0] == 33 && script[34] == opCheckSig && (script[1] == 2 || script[1] == 3),
		n == 67 && script[0] == 65 && script[66] == opCheckSig && (script[1] == 4 || script[1] == 6 || script[1] == 7):
		return base58.CheckEncode(btcutil.Hash160(script[1:n-1]), net.p2pkh)
	case n >= 37 && script[n-1] == opCheckMultisig:
		if a, ok := multisigName(script, net); ok {
			return a
		}
	}
	return nonstandardName(script)
}

// multisigPrefix starts the name of a bare multisig output.
const multisigPrefix = "multisig:"

// multisigName names a bare multisig output (OP_m <key>… OP_n
// OP_CHECKMULTISIG) "multisig:<a1>+<a2>+…", the P2PKH addresses of its keys
// in script order. bitcoin-etl lists those addresses for such an output and
// the file loader in the parent package joins them the same way, so both
// loaders give the output one name.
func multisigName(script []byte, net *network) (string, bool) {
	n := len(script)
	if script[0] < op1 || script[0] > op16 {
		return "", false
	}
	required := int(script[0] - op1 + 1)
	var keys [][]byte
	pos := 1
	for pos < n-2 {
		size := int(script[pos])
		if pos+1+size > n-2 || !validPubKey(script[pos+1:pos+1+size]) {
			return "", false
		}
		keys = append(keys, script[pos+1:pos+1+size])
		pos += 1 + size
	}
	if pos != n-2 || len(keys) < required || len(keys) > 16 || script[pos] != op1+byte(len(keys))-1 {
		return "", false
	}
	var b strings.Builder
	b.WriteString(multisigPrefix)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('+')
		}
		b.WriteString(base58.CheckEncode(btcutil.Hash160(k), net.p2pkh))
	}
	return b.String(), true
}

// validPubKey reports whether k has the size and first byte of a public key
// (Bitcoin Core's test: 33 bytes starting 02 or 03, or 65 starting 04, 06
// or 07); whether it is on the curve does not matter for naming.
func validPubKey(k []byte) bool {
	switch len(k) {
	case 33:
		return k[0] == 2 || k[0] == 3
	case 65:
		return k[0] == 4 || k[0] == 6 || k[0] == 7
	}
	return false
}

// segwitAddress encodes a witness program (BIP-141) as bech32 for version 0
// and bech32m for later versions (BIP-350). Version 0 programs other than 20
// or 32 bytes are unspendable and have no address.
func segwitAddress(script []byte, net *network) (string, bool) {
	version := byte(0)
	if script[0] != op0 {
		version = script[0] - op1 + 1
	}
	program := script[2:]
	if version == 0 && len(program) != 20 && len(program) != 32 {
		return "", false
	}
	data, err := bech32.ConvertBits(program, 8, 5, true)
	if err != nil {
		return "", false
	}
	data = append([]byte{version}, data...)
	var s string
	if version == 0 {
		s, err = bech32.Encode(net.segwit, data)
	} else {
		s, err = bech32.EncodeM(net.segwit, data)
	}
	return s, err == nil
}

// maxScriptHex bounds one script's hex. Consensus caps scripts that can be
// spent at 10,000 bytes, but an output script may be larger (it is simply
// unspendable); a block cannot hold more than 4 MB of them.
const maxScriptHex = 8 << 20

// opReturn marks an output script as data that can never be spent.
const opReturn = 0x6a

// maxSpendableScript is the consensus limit on the size of a script that
// can be executed; a larger output script can never be spent.
const maxSpendableScript = 10_000

// scriptHexAddress decodes a scriptPubKey's hex and names its address. It
// also reports whether the output is provably unspendable.
func scriptHexAddress(s string, net *network) (addr string, unspendable bool, err error) {
	if len(s) > maxScriptHex {
		return "", false, fmt.Errorf("script of %d hex digits is too long", len(s))
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return "", false, fmt.Errorf("script hex: %w", err)
	}
	unspendable = len(b) > 0 && b[0] == opReturn || len(b) > maxSpendableScript
	return scriptAddress(b, net), unspendable, nil
}
