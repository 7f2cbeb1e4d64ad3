package btcrpc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/bulwark-intel/bulwark/internal/chain/address"
	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// The end-to-end test runs a real btcd on regtest (built by .ci/btcd.sh and
// found through $BULWARK_BTCD or PATH), mines to a key it holds, stages a
// theft and its laundering with transactions it signs itself, and checks
// every transfer the loader reads back over RPC.

// btcdBinary finds btcd, skipping the test when there is none outside CI.
func btcdBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("BULWARK_BTCD"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("BULWARK_BTCD=%s: %v", p, err)
		}
		return p
	}
	if p, err := exec.LookPath("btcd"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("btcd not found: set BULWARK_BTCD (bash .ci/btcd.sh builds it)")
	}
	t.Skip("btcd not found: set BULWARK_BTCD=$(bash .ci/btcd.sh)/btcd to run the end-to-end test")
	return ""
}

// regtestNode is a running btcd.
type regtestNode struct {
	url  string
	rpc  *client
	logf string
}

const (
	nodeUser = "bulwark"
	nodePass = "e2e-secret"
)

// startBtcd starts btcd on regtest on a free loopback port, with a fresh
// data directory, paying mined blocks to miningAddr. The RPC server has TLS
// off, which btcd allows only on loopback.
func startBtcd(t *testing.T, bin, miningAddr string) *regtestNode {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "btcd.conf")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	logf := filepath.Join(dir, "btcd.out")
	out, err := os.Create(logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })

	for attempt := 0; ; attempt++ {
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
			"--rpcuser="+nodeUser,
			"--rpcpass="+nodePass,
			"--nolisten",
			"--txindex",
			"--miningaddr="+miningAddr,
		)
		// btcd creates ~/.btcd whatever its flags say; keep it in the test's
		// directory.
		cmd.Env = append(os.Environ(), "HOME="+dir)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting btcd: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		stop := func() {
			_ = cmd.Process.Signal(os.Interrupt)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
		}
		n := &regtestNode{url: "http://127.0.0.1:" + strconv.Itoa(port) + "/", logf: logf}
		n.rpc = &client{
			url: n.url, user: nodeUser, pass: nodePass,
			hc: testHTTPClient(), maxBody: 64 << 20, retries: 0, log: discardLogger(),
		}
		up, died := n.waitReady(exited)
		if up {
			t.Cleanup(stop)
			return n
		}
		if !died {
			stop()
		}
		if attempt < 2 {
			// The port may have been taken between freePort and btcd.
			continue
		}
		t.Fatalf("btcd did not start; its output:\n%s", tail(logf))
	}
}

// waitReady polls getblockcount until the RPC server answers; died reports
// that btcd exited first.
func (n *regtestNode) waitReady(exited chan error) (up, died bool) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			return false, true
		default:
		}
		var h int64
		if err := n.rpc.call(context.Background(), "getblockcount", nil, &h); err == nil {
			return true, false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false, false
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func (n *regtestNode) call(t *testing.T, method string, params []any, out any) {
	t.Helper()
	if err := n.rpc.call(context.Background(), method, params, out); err != nil {
		t.Fatalf("%v\nbtcd output:\n%s", err, tail(n.logf))
	}
}

// generate mines n blocks and returns the height of the last.
func (n *regtestNode) generate(t *testing.T, blocks int) int64 {
	t.Helper()
	var hashes []string
	n.call(t, "generate", []any{blocks}, &hashes)
	if len(hashes) != blocks {
		t.Fatalf("generate %d: got %d hashes", blocks, len(hashes))
	}
	var h int64
	n.call(t, "getblockcount", nil, &h)
	return h
}

// blockTime returns the header time of the block at height h.
func (n *regtestNode) blockTime(t *testing.T, h int64) int64 {
	t.Helper()
	var hash string
	n.call(t, "getblockhash", []any{h}, &hash)
	var hdr struct {
		Time int64 `json:"time"`
	}
	n.call(t, "getblockheader", []any{hash, true}, &hdr)
	return hdr.Time
}

// send broadcasts tx and returns its id.
func (n *regtestNode) send(t *testing.T, tx *wire.MsgTx) string {
	t.Helper()
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	var txid string
	n.call(t, "sendrawtransaction", []any{hex.EncodeToString(buf.Bytes())}, &txid)
	if txid != tx.TxHash().String() {
		t.Fatalf("sendrawtransaction: node says %s, tx hash is %s", txid, tx.TxHash())
	}
	return txid
}

var regtest = &chaincfg.RegressionNetParams

// wallet is a key of one script kind, or an anyone-can-spend P2WSH script.
type wallet struct {
	name    string
	kind    string // p2pkh, p2wpkh, p2tr, p2wsh-true, p2sh, data
	priv    *btcec.PrivateKey
	addr    string // what the loader must report
	script  []byte // the output script
	witness []byte // the P2WSH witness script
}

func newWallet(t *testing.T, name, kind string) *wallet {
	t.Helper()
	seed := sha256.Sum256([]byte("bulwark e2e " + name))
	priv, pub := btcec.PrivKeyFromBytes(seed[:])
	w := &wallet{name: name, kind: kind, priv: priv}
	var a btcutil.Address
	var err error
	switch kind {
	case "p2pkh":
		a, err = btcutil.NewAddressPubKeyHash(btcutil.Hash160(pub.SerializeCompressed()), regtest)
	case "p2wpkh":
		a, err = btcutil.NewAddressWitnessPubKeyHash(btcutil.Hash160(pub.SerializeCompressed()), regtest)
	case "p2tr":
		a, err = btcutil.NewAddressTaproot(schnorr.SerializePubKey(txscript.ComputeTaprootKeyNoScript(pub)), regtest)
	case "p2wsh-true":
		w.witness = []byte{txscript.OP_TRUE}
		h := sha256.Sum256(w.witness)
		a, err = btcutil.NewAddressWitnessScriptHash(h[:], regtest)
	case "p2sh":
		a, err = btcutil.NewAddressScriptHash([]byte{txscript.OP_TRUE, byte(len(name))}, regtest)
	case "data":
		w.script, err = txscript.NullDataScript([]byte(name))
		sum := sha256.Sum256(w.script)
		w.addr = "nonstandard" + hex.EncodeToString(sum[:])[:40]
		if err != nil {
			t.Fatal(err)
		}
		return w
	default:
		t.Fatalf("kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	w.addr = a.EncodeAddress()
	if w.script, err = txscript.PayToAddrScript(a); err != nil {
		t.Fatal(err)
	}
	return w
}

// coin is an unspent output the test can spend.
type coin struct {
	op    wire.OutPoint
	value int64
	owner *wallet
}

// pay is one output of a staged transaction.
type pay struct {
	to    *wallet
	value int64
}

// staged is a transaction the test built, with what the loader must report.
type staged struct {
	label string
	tx    *wire.MsgTx
	ins   []coin
	outs  []pay
	block int64
}

// build signs a transaction spending ins to outs; it returns the staged
// transaction and the coins it creates.
func build(t *testing.T, label string, ins []coin, outs ...pay) (*staged, []coin) {
	t.Helper()
	tx := wire.NewMsgTx(2)
	prev := make(map[wire.OutPoint]*wire.TxOut, len(ins))
	for _, c := range ins {
		tx.AddTxIn(wire.NewTxIn(&c.op, nil, nil))
		prev[c.op] = wire.NewTxOut(c.value, c.owner.script)
	}
	for _, o := range outs {
		tx.AddTxOut(wire.NewTxOut(o.value, o.to.script))
	}
	hashes := txscript.NewTxSigHashes(tx, txscript.NewMultiPrevOutFetcher(prev))
	for i, c := range ins {
		var err error
		switch c.owner.kind {
		case "p2pkh":
			tx.TxIn[i].SignatureScript, err = txscript.SignatureScript(tx, i, c.owner.script, txscript.SigHashAll, c.owner.priv, true)
		case "p2wpkh":
			tx.TxIn[i].Witness, err = txscript.WitnessSignature(tx, hashes, i, c.value, c.owner.script, txscript.SigHashAll, c.owner.priv, true)
		case "p2tr":
			tx.TxIn[i].Witness, err = txscript.TaprootWitnessSignature(tx, hashes, i, c.value, c.owner.script, txscript.SigHashDefault, c.owner.priv)
		case "p2wsh-true":
			tx.TxIn[i].Witness = wire.TxWitness{c.owner.witness}
		default:
			t.Fatalf("%s: cannot spend a %s coin", label, c.owner.kind)
		}
		if err != nil {
			t.Fatalf("%s: signing input %d: %v", label, i, err)
		}
	}
	// Check the signatures here, where a failure is easier to read than
	// the node's rejection.
	for i, c := range ins {
		vm, err := txscript.NewEngine(c.owner.script, tx, i, txscript.StandardVerifyFlags, nil, hashes, c.value, txscript.NewMultiPrevOutFetcher(prev))
		if err == nil {
			err = vm.Execute()
		}
		if err != nil {
			t.Fatalf("%s: input %d does not verify: %v", label, i, err)
		}
	}
	s := &staged{label: label, tx: tx, ins: ins, outs: outs}
	h := tx.TxHash()
	var created []coin
	for i, o := range outs {
		created = append(created, coin{op: wire.OutPoint{Hash: h, Index: uint32(i)}, value: o.value, owner: o.to})
	}
	return s, created
}

// want lists the transfers the loader must report for s, mined in a block
// with time bt.
func (s *staged) want(bt int64) []graph.Transfer {
	txid := s.tx.TxHash().String()
	node := TxNode(txid)
	var w []graph.Transfer
	for _, c := range s.ins {
		w = append(w, graph.Transfer{Tx: txid, Block: uint64(s.block), Time: bt, From: c.owner.addr, To: node, Amount: graph.AmountFromUint64(uint64(c.value))})
	}
	for _, o := range s.outs {
		w = append(w, graph.Transfer{Tx: txid, Block: uint64(s.block), Time: bt, From: node, To: o.to.addr, Amount: graph.AmountFromUint64(uint64(o.value))})
	}
	return w
}

// sliceSink collects transfers.
type sliceSink struct {
	got     []graph.Transfer
	flushes int
}

func (s *sliceSink) Add(t graph.Transfer) error { s.got = append(s.got, t); return nil }
func (s *sliceSink) Flush() error               { s.flushes++; return nil }

func TestBtcdRegtestEndToEnd(t *testing.T) {
	bin := btcdBinary(t)
	miner := newWallet(t, "miner", "p2pkh")
	n := startBtcd(t, bin, miner.addr)

	var (
		victim   = newWallet(t, "victim", "p2wpkh")
		thief    = newWallet(t, "thief", "p2wpkh")
		splitA   = newWallet(t, "split a", "p2pkh")
		splitB   = newWallet(t, "split b", "p2tr")
		splitC   = newWallet(t, "split c", "p2wpkh")
		peel0    = newWallet(t, "peel hop 0", "p2pkh")
		hop1     = newWallet(t, "peel hop 1", "p2wpkh")
		hop2     = newWallet(t, "peel hop 2", "p2tr")
		hop3     = newWallet(t, "peel hop 3", "p2pkh")
		peelOff1 = newWallet(t, "peel off 1", "p2pkh")
		peelOff2 = newWallet(t, "peel off 2", "p2wpkh")
		peelOff3 = newWallet(t, "peel off 3", "p2pkh")
		merged   = newWallet(t, "consolidated", "p2wpkh")
		exchange = newWallet(t, "exchange deposit", "p2wsh-true")
		hot      = newWallet(t, "exchange hot wallet", "p2sh")
		memo     = newWallet(t, "laundered", "data")
	)

	// btcd activates segwit and taproot on regtest by BIP-9 signalling
	// only, in the third window of 144 blocks: mine through it. This also
	// matures the first coinbase.
	if h := n.generate(t, 432); h != 432 {
		t.Fatalf("height after 432 blocks: %d", h)
	}
	var info struct {
		Forks map[string]struct {
			Status string `json:"status"`
		} `json:"bip9_softforks"`
	}
	n.call(t, "getblockchaininfo", nil, &info)
	for _, f := range []string{"segwit", "taproot"} {
		if s := info.Forks[f].Status; s != "active" {
			t.Fatalf("%s is %q at height 432, want active", f, s)
		}
	}
	var cbHash string
	n.call(t, "getblockhash", []any{1}, &cbHash)
	var raw json.RawMessage
	n.call(t, "getblock", []any{cbHash, 2}, &raw)
	b1, _, err := decodeBlock(raw)
	if err != nil || len(b1.Tx) == 0 {
		t.Fatalf("block 1: %v (%d transactions)", err, len(b1.Tx))
	}
	cbID, err := chainhash.NewHashFromStr(b1.Tx[0].Txid)
	if err != nil {
		t.Fatal(err)
	}
	cb := coin{op: wire.OutPoint{Hash: *cbID, Index: 0}, value: 50 * btcutil.SatoshiPerBitcoin, owner: miner}

	var all []*staged
	mine := func(txs ...*staged) int64 {
		t.Helper()
		for _, s := range txs {
			n.send(t, s.tx)
		}
		h := n.generate(t, 1)
		for _, s := range txs {
			s.block = h
		}
		all = append(all, txs...)
		return h
	}

	// The victim's wallet is funded before the range the loader reads, so
	// the theft's input can only be resolved with getrawtransaction.
	fund, c := build(t, "fund victim", []coin{cb}, pay{victim, 4_000_000_000}, pay{miner, 999_990_000})
	mine(fund)
	all = all[:0]
	theft, c := build(t, "theft", c[:1], pay{thief, 3_999_990_000})
	theftHeight := mine(theft)
	split, c := build(t, "split", c, pay{splitA, 1_000_000_000}, pay{splitB, 1_000_000_000}, pay{splitC, 1_000_000_000}, pay{peel0, 999_980_000}, pay{memo, 0})
	mine(split)
	splits := c[:3]
	// A peel chain mined in one block: each hop spends the previous hop's
	// big output, which the loader resolves from the block itself.
	h1, c := build(t, "peel 1", c[3:4], pay{hop1, 900_000_000}, pay{peelOff1, 99_970_000})
	h2, c := build(t, "peel 2", c[:1], pay{hop2, 800_000_000}, pay{peelOff2, 99_990_000})
	h3, c := build(t, "peel 3", c[:1], pay{hop3, 700_000_000}, pay{peelOff3, 99_990_000})
	mine(h1, h2, h3)
	consolidate, c := build(t, "consolidation", append(slices.Clone(splits), c[0]), pay{merged, 3_699_980_000})
	mine(consolidate)
	deposit, c := build(t, "exchange deposit", c, pay{exchange, 3_699_970_000})
	tip1 := mine(deposit)

	state := filepath.Join(t.TempDir(), "btc.state")
	cfg := Config{
		URL: n.url, User: nodeUser, Password: nodePass,
		StartHeight: uint64(theftHeight), Confirmations: 1, StateFile: state,
		BatchBlocks: 2, RetryBackoff: 10 * time.Millisecond,
		KeepZeroValue: true, // to see the OP_RETURN output named
	}
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sink := &sliceSink{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := l.Run(ctx, sink)
	if err != nil {
		t.Fatal(err)
	}
	if st.FromHeight != uint64(theftHeight) || st.ToHeight != uint64(tip1) || st.Blocks != tip1-theftHeight+1 {
		t.Errorf("run 1 stats %+v: want heights %d..%d", st, theftHeight, tip1)
	}
	if st.PrevoutsFetched != 1 {
		t.Errorf("run 1 fetched %d spent outputs with getrawtransaction, want 1 (the victim's funding)", st.PrevoutsFetched)
	}
	if sink.flushes != 3 {
		t.Errorf("run 1 flushed %d times, want 3 (batches of 2 over 5 blocks)", sink.flushes)
	}
	checkRun(t, n, sink.got, all, theftHeight, tip1, miner)
	checkState(t, state, tip1)
	t.Logf("run 1: %+v", st)

	// New blocks: the exchange sweeps the deposit; two more blocks follow.
	// A fresh loader continues from the state file, with a confirmation
	// depth of 2 that leaves the tip out.
	all = all[:0]
	sweep, _ := build(t, "sweep", c, pay{hot, 3_699_960_000})
	mine(sweep)
	tip2 := n.generate(t, 2)
	cfg.StartHeight = 0 // the state file decides
	cfg.Confirmations = 2
	cfg.KeepZeroValue = false
	l2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sink2 := &sliceSink{}
	st2, err := l2.Run(ctx, sink2)
	if err != nil {
		t.Fatal(err)
	}
	if st2.FromHeight != uint64(tip1+1) || st2.ToHeight != uint64(tip2-1) || st2.Blocks != 2 {
		t.Errorf("run 2 stats %+v: want heights %d..%d", st2, tip1+1, tip2-1)
	}
	if st2.PrevoutsFetched != 1 {
		t.Errorf("run 2 fetched %d spent outputs, want 1 (the deposit, loaded by run 1)", st2.PrevoutsFetched)
	}
	checkRun(t, n, sink2.got, all, tip1+1, tip2-1, miner)
	for _, tr := range sink2.got {
		if tr.Amount.IsZero() {
			t.Errorf("run 2 kept a zero-value transfer %+v", tr)
		}
	}
	checkState(t, state, tip2-1)

	// Nothing new until another block.
	st3, err := l2.Run(ctx, sink2)
	if err != nil || st3.Blocks != 0 {
		t.Errorf("run 3: %+v, %v; want no blocks", st3, err)
	}
	t.Logf("run 2: %+v", st2)
}

// checkRun checks the transfers of one run: those of the staged
// transactions exactly and in order, coinbases paying the miner the subsidy
// and fees, nothing outside heights from..to, and canonical addresses.
func checkRun(t *testing.T, n *regtestNode, got []graph.Transfer, all []*staged, from, to int64, miner *wallet) {
	t.Helper()
	byTx := map[string][]graph.Transfer{}
	var order []string
	for _, tr := range got {
		if tr.Block < uint64(from) || tr.Block > uint64(to) {
			t.Errorf("transfer %+v outside heights %d..%d", tr, from, to)
		}
		if _, ok := byTx[tr.Tx]; !ok {
			order = append(order, tr.Tx)
		}
		byTx[tr.Tx] = append(byTx[tr.Tx], tr)
		for _, a := range []string{tr.From, tr.To} {
			checkAddress(t, a)
		}
	}
	times := map[int64]int64{}
	fees := map[int64]int64{}
	stagedIDs := map[string]bool{}
	for _, s := range all {
		txid := s.tx.TxHash().String()
		stagedIDs[txid] = true
		if _, ok := times[s.block]; !ok {
			times[s.block] = n.blockTime(t, s.block)
		}
		want := s.want(times[s.block])
		if g := byTx[txid]; !slices.Equal(g, want) {
			t.Errorf("%s (%s): transfers\n%s\nwant\n%s", s.label, txid, dump(g), dump(want))
		}
		var fee int64
		for _, c := range s.ins {
			fee += c.value
		}
		for _, o := range s.outs {
			fee -= o.value
		}
		fees[s.block] += fee
	}
	// Everything else is a coinbase: outputs only, the block's first
	// transaction, and worth the subsidy plus the block's fees.
	coinbases := 0
	for i, txid := range order {
		if stagedIDs[txid] {
			continue
		}
		coinbases++
		trs := byTx[txid]
		if i > 0 && trs[0].Block == byTx[order[i-1]][0].Block {
			t.Errorf("tx %s in block %d is neither staged nor first in its block", txid, trs[0].Block)
		}
		var sum uint64
		for _, tr := range trs {
			if tr.From != TxNode(txid) {
				t.Errorf("coinbase %s has an input transfer %+v", txid, tr)
			}
			sum += tr.Amount.Big().Uint64()
		}
		if trs[0].To != miner.addr {
			t.Errorf("coinbase %s pays %s first, want the miner %s", txid, trs[0].To, miner.addr)
		}
		// Regtest halves the subsidy every 150 blocks.
		subsidy := uint64(50*btcutil.SatoshiPerBitcoin) >> (trs[0].Block / 150)
		if want := subsidy + uint64(fees[int64(trs[0].Block)]); sum != want {
			t.Errorf("coinbase %s at %d pays %d, want subsidy and fees %d", txid, trs[0].Block, sum, want)
		}
	}
	if coinbases != int(to-from+1) {
		t.Errorf("%d coinbases, want one per block %d..%d", coinbases, from, to)
	}
}

// checkAddress checks that a graph node is a tx node or a name of
// checkName, with bech32 addresses on regtest.
func checkAddress(t *testing.T, s string) {
	t.Helper()
	if strings.HasPrefix(s, "tx:") {
		if _, err := parseTxid(s[3:]); err != nil {
			t.Errorf("tx node %q: %v", s, err)
		}
		return
	}
	checkName(t, s)
	if strings.HasPrefix(s, "bc") && !strings.HasPrefix(s, "bcrt1") {
		t.Errorf("address %q: mainnet bech32 on regtest", s)
	}
	if a, err := address.Parse(s); err == nil && strings.HasPrefix(s, "bcrt1") && a.Network != address.Regtest {
		t.Errorf("address %q: network %s, want regtest", s, a.Network)
	}
}

func checkState(t *testing.T, path string, height int64) {
	t.Helper()
	s, ok, err := readState(path)
	if err != nil || !ok {
		t.Fatalf("state file: %v (exists %v)", err, ok)
	}
	if s.Height != uint64(height) || s.Network != "regtest" {
		t.Errorf("state %+v: want regtest height %d", s, height)
	}
}

func dump(ts []graph.Transfer) string {
	var b strings.Builder
	for _, t := range ts {
		fmt.Fprintf(&b, "  %d %d %s → %s %s\n", t.Block, t.Time, t.From, t.To, t.Amount)
	}
	return b.String()
}
