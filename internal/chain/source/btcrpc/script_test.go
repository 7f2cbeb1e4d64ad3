package btcrpc

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"

	"github.com/bulwark-intel/bulwark/internal/chain/address"
)

// Test vectors from BIP-173, BIP-350 and the genesis block; G is the
// secp256k1 generator (the key of private key 1).
const (
	genesisKey = "04678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5f"
	gKey       = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"

	scriptP2PKGenesis  = "41" + genesisKey + "ac"
	scriptP2PKG        = "21" + gKey + "ac"
	scriptP2PKH        = "76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ac"
	scriptP2SH         = "a914b472a266d0bd89c13706a4132ccfb16f7c3b9fcb87"
	scriptP2WPKH       = "0014751e76e8199196d454941c45d1b3a323f1433bd6"
	scriptP2WSH        = "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262"
	scriptP2TR         = "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
	scriptP2A          = "51024e73"
	scriptV16          = "6002751e"
	scriptMultisig     = "5121" + gKey + "51ae"
	scriptMultisig2of3 = "5221" + gKey + "41" + genesisKey + "21" + "03" + gKeyX + "53ae"
	gKeyX              = "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
	scriptOpReturn     = "6a0b62756c7761726b2074657374"
	scriptWitnessCmt   = "6a24aa21a9ede2f61c3f71d1defd3fa999dfa36953755c690689799962b48bebd836974e8cf9"
)

func nonstandardOf(t testing.TB, scriptHex string) string {
	t.Helper()
	b, err := hex.DecodeString(scriptHex)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return "nonstandard" + hex.EncodeToString(sum[:])[:40]
}

func TestScriptAddress(t *testing.T) {
	tests := []struct {
		name, net, script, want string
	}{
		{"p2pk uncompressed (genesis)", "main", scriptP2PKGenesis, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"},
		{"p2pk compressed", "main", scriptP2PKG, "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"},
		{"p2pkh", "main", scriptP2PKH, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"},
		{"p2sh", "main", scriptP2SH, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"},
		{"p2wpkh", "main", scriptP2WPKH, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"},
		{"p2wsh", "main", scriptP2WSH, "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3"},
		{"p2tr", "main", scriptP2TR, "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"},
		{"p2a", "main", scriptP2A, "bc1pfeessrawgf"},
		{"witness v16", "main", scriptV16, "bc1sw50qgdz25j"},
		{"p2wsh testnet", "test", scriptP2WSH, "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7"},
		{"p2wsh signet", "signet", scriptP2WSH, "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7"},
		{"p2wpkh regtest", "regtest", scriptP2WPKH, "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"},
		{"p2pkh regtest", "regtest", scriptP2PKH, "mpXwg4jMtRhuSpVq4xS3HFHmCmWp9NyGKt"},
		{"p2sh testnet", "testnet3", scriptP2SH, "2N9hLwkSqr1cPQAPxbrGVUjxyjD11G2e1he"},
		{"bare multisig 1 of 1", "main", scriptMultisig, "multisig:1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"},
		{"bare multisig 2 of 3", "main", scriptMultisig2of3, "multisig:1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH+1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa+1GrLCmVQXoyJXaPJQdqssNqwxvha1eUo2E"},
		{"multisig count mismatch", "main", "5121" + gKey + "52ae", nonstandardOf(t, "5121"+gKey+"52ae")},
		{"multisig m above n", "main", "5221" + gKey + "51ae", nonstandardOf(t, "5221"+gKey+"51ae")},
		{"multisig bad key", "main", "5121" + "05" + gKeyX + "51ae", nonstandardOf(t, "512105"+gKeyX+"51ae")},
		{"op_return", "main", scriptOpReturn, nonstandardOf(t, scriptOpReturn)},
		{"witness commitment", "main", scriptWitnessCmt, nonstandardOf(t, scriptWitnessCmt)},
		{"empty script", "main", "", "nonstandarde3b0c44298fc1c149afbf4c8996fb92427ae41e4"},
		{"v0 program of 21 bytes", "main", "0015" + strings.Repeat("ab", 21), nonstandardOf(t, "0015"+strings.Repeat("ab", 21))},
		{"v1 program of 41 bytes", "main", "5129" + strings.Repeat("ab", 41), nonstandardOf(t, "5129"+strings.Repeat("ab", 41))},
		{"p2pk with bad key prefix", "main", "21" + "05" + gKey[2:] + "ac", nonstandardOf(t, "2105"+gKey[2:]+"ac")},
		{"p2pkh truncated", "main", scriptP2PKH[:48], nonstandardOf(t, scriptP2PKH[:48])},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			net, err := networkByName(tc.net)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := scriptHexAddress(tc.script, &net)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("scriptAddress(%s, %s) = %s, want %s", tc.script, tc.net, got, tc.want)
			}
			checkName(t, got)
		})
	}
}

// checkName checks a graph name: a nonstandard name, multisig of canonical
// addresses, or a canonical address.
func checkName(t testing.TB, s string) {
	t.Helper()
	switch {
	case strings.HasPrefix(s, nonstandardPrefix):
		if len(s) != len(nonstandardPrefix)+40 {
			t.Errorf("nonstandard name %q: want 40 hex digits", s)
		}
	case strings.HasPrefix(s, multisigPrefix):
		for _, a := range strings.Split(s[len(multisigPrefix):], "+") {
			checkCanonical(t, a)
		}
	default:
		checkCanonical(t, s)
	}
}

// checkCanonical checks that an address is in internal/chain/address's
// canonical form.
func checkCanonical(t testing.TB, s string) {
	t.Helper()
	a, err := address.Parse(s)
	if err != nil {
		t.Errorf("address.Parse(%q): %v", s, err)
		return
	}
	if a.Canonical != s || !a.Has(address.BTC) {
		t.Errorf("address.Parse(%q): canonical %q, chains %v", s, a.Canonical, a.Chains)
	}
}

// TestScriptAddressMatchesBtcd compares the classifier with btcd's txscript
// (an independent implementation) on every standard kind both know.
func TestScriptAddressMatchesBtcd(t *testing.T) {
	scripts := []string{scriptP2PKGenesis, scriptP2PKG, scriptP2PKH, scriptP2SH, scriptP2WPKH, scriptP2WSH, scriptP2TR, scriptMultisig, scriptMultisig2of3}
	for _, p := range []struct {
		name   string
		params *chaincfg.Params
	}{{"main", &chaincfg.MainNetParams}, {"testnet3", &chaincfg.TestNet3Params}, {"regtest", &chaincfg.RegressionNetParams}, {"simnet", &chaincfg.SimNetParams}} {
		net, err := networkByName(p.name)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range scripts {
			b, _ := hex.DecodeString(s)
			if want, ok := btcdAddress(b, p.params); !ok {
				t.Errorf("btcd finds no address in %s", s)
			} else if got := scriptAddress(b, &net); got != want {
				t.Errorf("%s %s: got %s, btcd says %s", p.name, s, got, want)
			}
		}
	}
}

// btcdAddress is btcd's answer for a script: a bare key becomes its P2PKH
// address, bare multisig the P2PKH addresses of its keys.
func btcdAddress(script []byte, params *chaincfg.Params) (string, bool) {
	class, addrs, _, err := txscript.ExtractPkScriptAddrs(script, params)
	if err != nil || len(addrs) == 0 {
		return "", false
	}
	if class == txscript.MultiSigTy {
		// btcd leaves out keys that are not on the curve; Bitcoin Core,
		// whose naming bitcoin-etl and scriptAddress follow, keeps every
		// key of a valid size and prefix. No answer to compare then.
		if keys, _, err := txscript.CalcMultiSigStats(script); err != nil || keys != len(addrs) {
			return "", false
		}
		names := make([]string, len(addrs))
		for i, a := range addrs {
			pk, ok := a.(*btcutil.AddressPubKey)
			if !ok {
				return "", false
			}
			names[i] = pk.AddressPubKeyHash().EncodeAddress()
		}
		return multisigPrefix + strings.Join(names, "+"), true
	}
	if len(addrs) != 1 {
		return "", false
	}
	switch class {
	case txscript.PubKeyTy:
		pk, ok := addrs[0].(*btcutil.AddressPubKey)
		if !ok {
			return "", false
		}
		return pk.AddressPubKeyHash().EncodeAddress(), true
	case txscript.PubKeyHashTy, txscript.ScriptHashTy, txscript.WitnessV0PubKeyHashTy,
		txscript.WitnessV0ScriptHashTy, txscript.WitnessV1TaprootTy:
		return addrs[0].EncodeAddress(), true
	}
	return "", false
}

func TestScriptHexAddressErrors(t *testing.T) {
	net := mainNet
	for _, s := range []string{"0", "zz", "00x1"} {
		if _, _, err := scriptHexAddress(s, &net); err == nil {
			t.Errorf("scriptHexAddress(%q): no error", s)
		}
	}
	_, unspendable, err := scriptHexAddress(scriptOpReturn, &net)
	if err != nil || !unspendable {
		t.Errorf("OP_RETURN: unspendable %v, %v", unspendable, err)
	}
	_, unspendable, _ = scriptHexAddress(scriptP2WPKH, &net)
	if unspendable {
		t.Error("p2wpkh reported unspendable")
	}
	if _, err := networkByName("dogecoin"); err == nil {
		t.Error(`networkByName("dogecoin"): no error`)
	}
}

func FuzzScriptAddress(f *testing.F) {
	for _, s := range []string{scriptP2PKGenesis, scriptP2PKG, scriptP2PKH, scriptP2SH, scriptP2WPKH, scriptP2WSH, scriptP2TR, scriptP2A, scriptV16, scriptMultisig, scriptMultisig2of3, scriptOpReturn, ""} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, script []byte) {
		for _, p := range []struct {
			net    network
			params *chaincfg.Params
		}{{mainNet, &chaincfg.MainNetParams}, {regtestNet, &chaincfg.RegressionNetParams}} {
			got := scriptAddress(script, &p.net)
			if strings.HasPrefix(got, nonstandardPrefix) {
				if got != nonstandardName(script) {
					t.Fatalf("%x: %s is not the script's nonstandard name", script, got)
				}
				continue
			}
			checkName(t, got)
			if want, ok := btcdAddress(script, p.params); ok && got != want {
				t.Fatalf("%x: got %s, btcd says %s", script, got, want)
			}
		}
	})
}
