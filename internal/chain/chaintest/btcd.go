package chaintest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// BtcNode is a running btcd on regtest.
type BtcNode struct {
	URL            string
	User, Password string
	t              testing.TB
	rpc            *rpcClient
	proc           *process
}

// StartBtcd starts btcd on regtest on a free loopback port, with a fresh
// data directory, paying mined blocks to miningAddr, and returns it once
// its RPC server answers. TLS is off, which btcd allows only on loopback.
// The node is stopped when the test ends.
func StartBtcd(t testing.TB, bin, miningAddr string) *BtcNode {
	t.Helper()
	n := &BtcNode{User: "bulwark", Password: "e2e-secret", t: t}
	n.proc = startWithRetry(t, "btcd", func() (*process, func() error) {
		dir := t.TempDir()
		conf := filepath.Join(dir, "btcd.conf")
		if err := os.WriteFile(conf, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		port := freePort(t)
		cmd := exec.Command(bin,
			"--regtest",
			"--configfile="+conf,
			"--datadir="+filepath.Join(dir, "data"),
			"--logdir="+filepath.Join(dir, "logs"),
			"--rpccert="+filepath.Join(dir, "rpc.cert"),
			"--rpckey="+filepath.Join(dir, "rpc.key"),
			"--notls",
			"--rpclisten=127.0.0.1:"+strconv.Itoa(port),
			"--rpcuser="+n.User,
			"--rpcpass="+n.Password,
			"--nolisten",
			"--txindex",
			"--miningaddr="+miningAddr,
		)
		// btcd creates ~/.btcd whatever its flags say; keep it in the
		// test's directory.
		cmd.Env = append(os.Environ(), "HOME="+dir)
		p := start(t, cmd)
		p.graceful = true // btcd closes its database on an interrupt
		n.URL = "http://127.0.0.1:" + strconv.Itoa(port) + "/"
		n.rpc = &rpcClient{url: n.URL, user: n.User, pass: n.Password, version: "1.0", hc: loopbackClient()}
		return p, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, err := n.rpc.call(ctx, "getblockcount", nil)
			return err
		}
	})
	return n
}

// Call makes one RPC call, failing the test on error.
func (n *BtcNode) Call(method string, out any, params ...any) {
	n.t.Helper()
	if _, err := n.rpc.call(context.Background(), method, out, params...); err != nil {
		n.t.Fatalf("%v\nbtcd output (tail):\n%s", err, n.proc.log.Tail())
	}
}

// Generate mines blocks and returns the height of the last.
func (n *BtcNode) Generate(blocks int) int64 {
	n.t.Helper()
	var hashes []string
	n.Call("generate", &hashes, blocks)
	if len(hashes) != blocks {
		n.t.Fatalf("generate %d: got %d hashes", blocks, len(hashes))
	}
	var h int64
	n.Call("getblockcount", &h)
	return h
}

// BlockTime returns the header time of the block at height h.
func (n *BtcNode) BlockTime(h int64) int64 {
	n.t.Helper()
	var hash string
	n.Call("getblockhash", &hash, h)
	var hdr struct {
		Time int64 `json:"time"`
	}
	n.Call("getblockheader", &hdr, hash, true)
	return hdr.Time
}

// Send broadcasts tx and returns its id.
func (n *BtcNode) Send(tx *wire.MsgTx) string {
	n.t.Helper()
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		n.t.Fatal(err)
	}
	var txid string
	n.Call("sendrawtransaction", &txid, hex.EncodeToString(buf.Bytes()))
	if txid != tx.TxHash().String() {
		n.t.Fatalf("sendrawtransaction: node says %s, tx hash is %s", txid, tx.TxHash())
	}
	return txid
}

// Regtest is the network the node runs.
var Regtest = &chaincfg.RegressionNetParams

// Wallet is a key of one script kind, or a script without a key.
type Wallet struct {
	Name    string
	Kind    string // p2pkh, p2wpkh, p2tr, p2wsh-true, p2sh, data
	Priv    *btcec.PrivateKey
	Addr    string // the graph node a loader reports for its outputs
	Script  []byte // the output script
	Witness []byte // the P2WSH witness script
}

// NewWallet derives a wallet from its name, so runs are reproducible.
// p2wsh-true is an anyone-can-spend witness script; p2sh an unspendable
// script hash; data an OP_RETURN carrying the name, which a loader names
// "nonstandard" and a hash of the script.
func NewWallet(t testing.TB, name, kind string) *Wallet {
	t.Helper()
	seed := sha256.Sum256([]byte("bulwark e2e " + name))
	priv, pub := btcec.PrivKeyFromBytes(seed[:])
	w := &Wallet{Name: name, Kind: kind, Priv: priv}
	var a btcutil.Address
	var err error
	switch kind {
	case "p2pkh":
		a, err = btcutil.NewAddressPubKeyHash(btcutil.Hash160(pub.SerializeCompressed()), Regtest)
	case "p2wpkh":
		a, err = btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(pub.SerializeCompressed()), Regtest)
	case "p2tr":
		a, err = btcutil.NewAddressTaproot(schnorr.SerializePubKey(txscript.ComputeTaprootKeyNoScript(pub)), Regtest)
	case "p2wsh-true":
		w.Witness = []byte{txscript.OP_TRUE}
		h := sha256.Sum256(w.Witness)
		a, err = btcutil.NewAddressWitnessScriptHash(h[:], Regtest)
	case "p2sh":
		a, err = btcutil.NewAddressScriptHash([]byte{txscript.OP_TRUE, byte(len(name))}, Regtest)
	case "data":
		if w.Script, err = txscript.NullDataScript([]byte(name)); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(w.Script)
		w.Addr = "nonstandard" + hex.EncodeToString(sum[:])[:40]
		return w
	default:
		t.Fatalf("wallet kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	w.Addr = a.EncodeAddress()
	if w.Script, err = txscript.PayToAddrScript(a); err != nil {
		t.Fatal(err)
	}
	return w
}

// Coin is an unspent output the test can spend.
type Coin struct {
	Op    wire.OutPoint
	Value int64
	Owner *Wallet
}

// Pay is one output of a staged transaction.
type Pay struct {
	To    *Wallet
	Value int64
}

// Staged is a transaction the test built, with what a loader must report.
type Staged struct {
	Label string
	Tx    *wire.MsgTx
	Ins   []Coin
	Outs  []Pay
	Block int64 // the height it was mined at
}

// Txid is the transaction's id.
func (s *Staged) Txid() string { return s.Tx.TxHash().String() }

// Node is the transaction's graph node under the UTXO convention.
func (s *Staged) Node() string { return graph.TxNodePrefix + s.Txid() }

// Fee is what the inputs hold beyond the outputs.
func (s *Staged) Fee() int64 {
	var f int64
	for _, c := range s.Ins {
		f += c.Value
	}
	for _, o := range s.Outs {
		f -= o.Value
	}
	return f
}

// Build signs a transaction spending ins to outs, checks its scripts, and
// returns it with the coins it creates.
func Build(t testing.TB, label string, ins []Coin, outs ...Pay) (*Staged, []Coin) {
	t.Helper()
	tx := wire.NewMsgTx(2)
	prev := make(map[wire.OutPoint]*wire.TxOut, len(ins))
	for _, c := range ins {
		tx.AddTxIn(wire.NewTxIn(&c.Op, nil, nil))
		prev[c.Op] = wire.NewTxOut(c.Value, c.Owner.Script)
	}
	for _, o := range outs {
		tx.AddTxOut(wire.NewTxOut(o.Value, o.To.Script))
	}
	fetcher := txscript.NewMultiPrevOutFetcher(prev)
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	for i, c := range ins {
		var err error
		switch c.Owner.Kind {
		case "p2pkh":
			tx.TxIn[i].SignatureScript, err = txscript.SignatureScript(tx, i, c.Owner.Script, txscript.SigHashAll, c.Owner.Priv, true)
		case "p2wpkh":
			tx.TxIn[i].Witness, err = txscript.WitnessSignature(tx, hashes, i, c.Value, c.Owner.Script, txscript.SigHashAll, c.Owner.Priv, true)
		case "p2tr":
			tx.TxIn[i].Witness, err = txscript.TaprootWitnessSignature(tx, hashes, i, c.Value, c.Owner.Script, txscript.SigHashDefault, c.Owner.Priv)
		case "p2wsh-true":
			tx.TxIn[i].Witness = wire.TxWitness{c.Owner.Witness}
		default:
			t.Fatalf("%s: cannot spend a %s coin", label, c.Owner.Kind)
		}
		if err != nil {
			t.Fatalf("%s: signing input %d: %v", label, i, err)
		}
	}
	// Check the signatures here, where a failure is easier to read than
	// the node's rejection.
	for i, c := range ins {
		vm, err := txscript.NewEngine(c.Owner.Script, tx, i, txscript.StandardVerifyFlags, nil, hashes, c.Value, fetcher)
		if err == nil {
			err = vm.Execute()
		}
		if err != nil {
			t.Fatalf("%s: input %d does not verify: %v", label, i, err)
		}
	}
	s := &Staged{Label: label, Tx: tx, Ins: ins, Outs: outs}
	h := tx.TxHash()
	var created []Coin
	for i, o := range outs {
		created = append(created, Coin{Op: wire.OutPoint{Hash: h, Index: uint32(i)}, Value: o.Value, Owner: o.To})
	}
	return s, created
}

// Want lists the transfers a loader must report for s, mined in a block
// with time bt: one per input into the transaction's node, in input order,
// then one per output, in output order.
func (s *Staged) Want(bt int64) []graph.Transfer {
	txid, node := s.Txid(), s.Node()
	var w []graph.Transfer
	for _, c := range s.Ins {
		w = append(w, graph.Transfer{Tx: txid, Block: uint64(s.Block), Time: bt, From: c.Owner.Addr, To: node, Amount: graph.AmountFromUint64(uint64(c.Value))})
	}
	for _, o := range s.Outs {
		w = append(w, graph.Transfer{Tx: txid, Block: uint64(s.Block), Time: bt, From: node, To: o.To.Addr, Amount: graph.AmountFromUint64(uint64(o.Value))})
	}
	return w
}

// Mine broadcasts the transactions, mines one block and returns its height.
func (n *BtcNode) Mine(txs ...*Staged) int64 {
	n.t.Helper()
	for _, s := range txs {
		n.Send(s.Tx)
	}
	h := n.Generate(1)
	for _, s := range txs {
		s.Block = h
	}
	return h
}
