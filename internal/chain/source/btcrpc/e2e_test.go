package btcrpc

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil"

	"github.com/bulwark-intel/bulwark/internal/chain/address"
	"github.com/bulwark-intel/bulwark/internal/chain/chaintest"
	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// The end-to-end test runs a real btcd on regtest (built by .ci/btcd.sh and
// found through $BULWARK_BTCD or PATH), stages a theft and its laundering
// with transactions it signs itself (chaintest.StageBtc tells the story),
// checks every transfer the loader reads back over RPC, and traces the
// theft through what was read.

// sliceSink collects transfers.
type sliceSink struct {
	got     []graph.Transfer
	flushes int
}

func (s *sliceSink) Add(t graph.Transfer) error { s.got = append(s.got, t); return nil }
func (s *sliceSink) Flush() error               { s.flushes++; return nil }

func TestBtcdRegtestEndToEnd(t *testing.T) {
	story := chaintest.StageBtc(t, chaintest.BtcdBinary(t))
	n := story.Node
	theftHeight, tip1 := story.TheftHeight, story.Tip

	state := filepath.Join(t.TempDir(), "btc.state")
	cfg := Config{
		URL: n.URL, User: n.User, Password: n.Password,
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
	// Four coins of the funding transaction, mined before the range, are
	// spent in it: the victim's, the miner's change and the two clean
	// coins the launderers mix in.
	if st.PrevoutsFetched != 4 {
		t.Errorf("run 1 fetched %d spent outputs with getrawtransaction, want 4 (the funding transaction's)", st.PrevoutsFetched)
	}
	if sink.flushes != 3 {
		t.Errorf("run 1 flushed %d times, want 3 (batches of 2 over 5 blocks)", sink.flushes)
	}
	checkRun(t, n, sink.got, story.Staged, theftHeight, tip1, story.Miner)
	checkState(t, state, tip1)
	t.Logf("run 1: %+v", st)

	// New blocks: the exchange sweeps the deposit; two more blocks follow.
	// A fresh loader continues from the state file, with a confirmation
	// depth of 2 that leaves the tip out.
	hot := chaintest.NewWallet(t, "exchange hot wallet", "p2sh")
	sweep, _ := chaintest.Build(t, "sweep", story.ExchangeCoins, chaintest.Pay{To: hot, Value: 4_049_960_000})
	n.Mine(sweep)
	tip2 := n.Generate(2)
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
	checkRun(t, n, sink2.got, []*chaintest.Staged{sweep}, tip1+1, tip2-1, story.Miner)
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

	// The trace over both runs, the sweep included: the exchange is an
	// exit with each model's amount and its hot wallet stays clean.
	story.CheckTrace(t, append(sink.got, sink2.got...))
}

// checkRun checks the transfers of one run: those of the staged
// transactions exactly and in order, coinbases paying the miner the subsidy
// and fees, nothing outside heights from..to, and canonical addresses.
func checkRun(t *testing.T, n *chaintest.BtcNode, got []graph.Transfer, all []*chaintest.Staged, from, to int64, miner *chaintest.Wallet) {
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
		txid := s.Txid()
		stagedIDs[txid] = true
		if _, ok := times[s.Block]; !ok {
			times[s.Block] = n.BlockTime(s.Block)
		}
		want := s.Want(times[s.Block])
		if g := byTx[txid]; !slices.Equal(g, want) {
			t.Errorf("%s (%s): transfers\n%s\nwant\n%s", s.Label, txid, dump(g), dump(want))
		}
		fees[s.Block] += s.Fee()
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
		if trs[0].To != miner.Addr {
			t.Errorf("coinbase %s pays %s first, want the miner %s", txid, trs[0].To, miner.Addr)
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
