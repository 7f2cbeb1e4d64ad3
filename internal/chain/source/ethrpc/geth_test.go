package ethrpc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/chain/chaintest"
	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// The end-to-end test runs geth --dev (built by .ci/geth.sh, found through
// $BULWARK_GETH or PATH), stages a theft and its laundering on that chain
// with signed transactions (chaintest.StageEth tells the story), ingests
// it over JSON-RPC with the loader, checks every transfer read, and traces
// the theft through what was read.

// gethLogRange is passed as --rpc.rangelimit so that geth refuses wide
// eth_getLogs ranges and the loader's splitting runs against a real node.
const gethLogRange = 3

type sliceSink struct{ got []graph.Transfer }

func (s *sliceSink) Add(tr graph.Transfer) error { s.got = append(s.got, tr); return nil }

func TestGethDevLaundering(t *testing.T) {
	if chaintest.TransferTopic != TransferTopic {
		t.Fatalf("the test token emits topic %s, the loader reads %s", chaintest.TransferTopic, TransferTopic)
	}
	url := chaintest.StartGeth(t, chaintest.GethBinary(t), chaintest.GethOptions{LogRange: gethLogRange})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	story := chaintest.StageEth(t, ctx, url)
	s := story.Stager
	headN := s.Head()
	t.Logf("staged %d transfers in %d blocks", len(story.Want), headN)

	// First run: three confirmations leave the last three blocks unread.
	// geth --dev now and then seals an empty block or two after the
	// staging (see below), so the head the run saw may be past headN.
	state := filepath.Join(t.TempDir(), "eth.state")
	sink := &sliceSink{}
	st1 := syncWith(t, ctx, Config{URL: url, StatePath: state, Confirmations: 3, BatchSize: 8, Internal: true}, sink)
	if head1 := s.Head(); st1.From != 0 || st1.To < headN-3 || st1.To+3 > head1 || st1.To >= headN {
		t.Errorf("first run read %d-%d, want 0-%d (head %d after the run)", st1.From, st1.To, headN-3, head1)
	}
	if st1.LogSplits == 0 {
		t.Errorf("geth limits eth_getLogs to %d blocks, batches are 8: expected splits", gethLogRange+1)
	}
	saved, _, err := LoadState(state)
	if err != nil || saved.Next != st1.To+1 || saved.ChainID != s.ChainID.Uint64() {
		t.Fatalf("state after first run: %+v, %v; want next %d, chain %d", saved, err, st1.To+1, s.ChainID)
	}

	// Second run: no confirmations, continues from the saved height up to
	// the staged head.
	n1 := len(sink.got)
	st2 := syncWith(t, ctx, Config{URL: url, StatePath: state, Confirmations: -1, BatchSize: 8, To: headN, Internal: true}, sink)
	if st2.From != st1.To+1 || st2.To != headN || uint64(st2.Blocks) != headN-st1.To {
		t.Errorf("second run read %d-%d (%d blocks), want %d-%d", st2.From, st2.To, st2.Blocks, st1.To+1, headN)
	}
	for _, tr := range sink.got[n1:] {
		if tr.Block <= st1.To {
			t.Errorf("second run re-read block %d: %+v", tr.Block, tr)
		}
	}
	// The story's noise: ether sent to the token (a failed transaction
	// with value), an ERC-721-shaped Transfer, a zero-amount ERC-20
	// Transfer. The reverted token transfer and the zero-value payment
	// leave nothing to skip. The pool's withdrawal to the token fails
	// inside a successful transaction: one failed internal transfer.
	total := Stats{Failed: st1.Failed + st2.Failed, NonFungible: st1.NonFungible + st2.NonFungible,
		ZeroAmount: st1.ZeroAmount + st2.ZeroAmount, Malformed: st1.Malformed + st2.Malformed,
		Internal: st1.Internal + st2.Internal, InternalFailed: st1.InternalFailed + st2.InternalFailed}
	if total.Failed != 1 || total.NonFungible != 1 || total.ZeroAmount != 1 || total.Malformed != 0 {
		t.Errorf("skipped: failed %d, ERC-721 %d, zero %d, malformed %d; want 1, 1, 1, 0",
			total.Failed, total.NonFungible, total.ZeroAmount, total.Malformed)
	}
	if total.Internal != 1 || total.InternalFailed != 1 {
		t.Errorf("internal transfers: %d read, %d failed; want the pool's payout to the recipient, and the one to the token failed",
			total.Internal, total.InternalFailed)
	}
	checkTransfers(t, s, sink.got, story.Want)

	// Without Internal, the pool's payout is missing and nothing else.
	plain := &sliceSink{}
	stPlain := syncWith(t, ctx, Config{URL: url, Confirmations: -1, To: headN}, plain)
	if stPlain.Internal != 0 || stPlain.InternalFailed != 0 {
		t.Errorf("run without internal transfers counted %d, %d", stPlain.Internal, stPlain.InternalFailed)
	}
	checkTransfers(t, s, plain.got, slices.DeleteFunc(slices.Clone(story.Want), func(tr graph.Transfer) bool {
		return tr.From == story.PoolHex()
	}))

	// A third run with nothing new reads nothing.
	st3 := syncWith(t, ctx, Config{URL: url, StatePath: state, Confirmations: -1, To: headN}, &sliceSink{})
	if st3.Blocks != 0 || st3.Native+st3.Token != 0 {
		t.Errorf("idle run: %+v", st3)
	}

	// New blocks: the exchange sweeps the deposit to its hot wallet. They
	// are read through a proxy that hides eth_getBlockReceipts (older
	// nodes and some providers lack it) and answers the first calls with
	// 503 and 429, so the fallback and the retries run on real data.
	s.Want = nil
	hot := chaintest.NewParty(t)
	tx, r := s.Send(story.Exchange.Key, hot.Addr, chaintest.Milli(94_000), nil, 21_000)
	s.Expect(tx, r, story.Exchange.Hex(), hot.Hex(), "", chaintest.Milli(94_000))
	tx, r = s.Send(story.Exchange.Key, story.Token, new(big.Int), chaintest.TokenTransfer(hot.Addr, chaintest.USDT(2_400_000)), chaintest.TokenGas)
	s.Expect(tx, r, story.Exchange.Hex(), hot.Hex(), story.TokenHex(), chaintest.USDT(2_400_000))
	// geth --dev sometimes seals an empty block or two before a
	// transaction it did not catch in time; they come before its receipt,
	// so the head is settled here; the run stops there, as empty blocks
	// may follow.
	head2 := s.Head()
	px := newFaultyProxy(t, url)
	sink4 := &sliceSink{}
	st4 := syncWith(t, ctx, Config{URL: px.URL, StatePath: state, Confirmations: -1, RetryBase: time.Millisecond, To: head2, Internal: true}, sink4)
	if st4.From != headN+1 || st4.To != head2 || uint64(st4.Blocks) != head2-headN {
		t.Errorf("incremental run read %d-%d (%d blocks), want %d-%d", st4.From, st4.To, st4.Blocks, headN+1, head2)
	}
	checkTransfers(t, s, sink4.got, s.Want)
	if px.perTx.Load() == 0 || px.faults.Load() < 2 {
		t.Errorf("proxy saw %d eth_getTransactionReceipt calls and injected %d faults", px.perTx.Load(), px.faults.Load())
	}

	// The trace over everything read, the sweep included: the exchange is
	// an exit with each model's amount and the hot wallet stays clean.
	story.CheckTrace(t, append(sink.got, sink4.got...))

	// A state file that does not match the chain is refused.
	saved, _, _ = LoadState(state)
	tampered := saved
	tampered.Hash = "0x" + strings.Repeat("ab", 32)
	if err := SaveState(state, tampered); err != nil {
		t.Fatal(err)
	}
	if _, err := mustLoader(t, Config{URL: url, StatePath: state, Confirmations: -1}).Sync(ctx, &sliceSink{}); !errors.Is(err, ErrReorg) {
		t.Errorf("tampered hash: got %v, want ErrReorg", err)
	}
	tampered = saved
	tampered.ChainID = 1
	if err := SaveState(state, tampered); err != nil {
		t.Fatal(err)
	}
	if _, err := mustLoader(t, Config{URL: url, StatePath: state, Confirmations: -1}).Sync(ctx, &sliceSink{}); !errors.Is(err, ErrChainMismatch) {
		t.Errorf("other chain's state: got %v, want ErrChainMismatch", err)
	}
}

func mustLoader(t *testing.T, cfg Config) *Loader {
	t.Helper()
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func syncWith(t *testing.T, ctx context.Context, cfg Config, sink Sink) Stats {
	t.Helper()
	st, err := mustLoader(t, cfg).Sync(ctx, sink)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	return st
}

// checkTransfers compares got with want as multisets on (tx, block, from,
// to, asset, amount), and checks each transfer carries its block's
// timestamp as the node reports it.
func checkTransfers(t *testing.T, s *chaintest.EthStager, got, want []graph.Transfer) {
	t.Helper()
	key := func(tr graph.Transfer) string {
		return fmt.Sprintf("%s@%d %s→%s %s %s", tr.Tx, tr.Block, tr.From, tr.To, tr.Asset, tr.Amount)
	}
	var g, w []string
	times := map[uint64]int64{}
	for _, tr := range got {
		g = append(g, key(tr))
		if _, ok := times[tr.Block]; !ok {
			times[tr.Block] = s.BlockTime(tr.Block)
		}
		if tr.Time != times[tr.Block] || tr.Time == 0 {
			t.Errorf("%s: time %d, block %d has timestamp %d", key(tr), tr.Time, tr.Block, times[tr.Block])
		}
		if tr.HasUSD {
			t.Errorf("%s: has a USD value the node cannot know", key(tr))
		}
	}
	for _, tr := range want {
		w = append(w, key(tr))
	}
	slices.Sort(g)
	slices.Sort(w)
	for _, k := range w {
		if _, ok := slices.BinarySearch(g, k); !ok {
			t.Errorf("missing transfer %s", k)
		}
	}
	for _, k := range g {
		if _, ok := slices.BinarySearch(w, k); !ok {
			t.Errorf("unexpected transfer %s", k)
		}
	}
	if len(g) != len(w) {
		t.Errorf("got %d transfers, want %d", len(g), len(w))
	}
	for i := 1; i < len(got); i++ {
		if got[i].Block < got[i-1].Block {
			t.Errorf("transfers out of block order at %d: %d after %d", i, got[i].Block, got[i-1].Block)
		}
	}
}

// faultyProxy forwards JSON-RPC to a node, rejecting eth_getBlockReceipts
// as an unknown method and failing the first block and logs calls.
type faultyProxy struct {
	*httptest.Server
	perTx, faults atomic.Int64
	blockFailed   atomic.Bool
	logsFailed    atomic.Bool
}

func newFaultyProxy(t *testing.T, target string) *faultyProxy {
	p := &faultyProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		_ = json.Unmarshal(body, &req)
		switch {
		case req.Method == "eth_getBlockReceipts":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32601,"message":"the method eth_getBlockReceipts does not exist/is not available"}}`, req.ID)
			return
		case req.Method == "eth_getBlockByNumber" && !p.blockFailed.Swap(true):
			p.faults.Add(1)
			http.Error(w, "upstream unavailable", http.StatusServiceUnavailable)
			return
		case req.Method == "eth_getLogs" && !p.logsFailed.Swap(true):
			p.faults.Add(1)
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		case req.Method == "eth_getTransactionReceipt":
			p.perTx.Add(1)
		}
		resp, err := http.Post(target, "application/json", bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, bufio.NewReader(resp.Body))
	}))
	t.Cleanup(p.Close)
	return p
}
