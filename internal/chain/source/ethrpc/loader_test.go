package ethrpc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/chain/chaintest"
	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// storyChain covers every kind of transaction and log the loader must
// treat differently. Block 0 is the genesis.
func storyChain() *fakeNode {
	return &fakeNode{chainID: 1, blocks: []fakeBlock{
		{},
		{txs: []fakeTx{
			{from: addrA, to: addrB, value: "0xde0b6b3a7640000"}, // 1 ether
			{from: addrA, to: addrC, value: "0x0"},               // no value
			{from: addrB, to: addrC, value: "0x5", failed: true}, // reverted
		}},
		{}, // empty
		{txs: []fakeTx{
			{from: addrA, value: "0x3e8", created: newCon},        // creation with value
			{from: addrB, to: tokenT, value: "0x0"},               // ERC-20 call
			{from: addrC, to: tokenT, value: "0x0", failed: true}, // failed call: its log is dropped by the node
		}, logs: []fakeLog{
			erc20(1, addrB, addrC, 250),
			{tx: 1, address: tokenT, topics: []string{TransferTopic, topicOf(addrB), topicOf(addrC), word(7)}, data: "0x"},                       // ERC-721
			{tx: 1, address: tokenT, topics: []string{TransferTopic, "0x" + strings.Repeat("f", 24) + addrA[2:], topicOf(addrC)}, data: word(9)}, // bad padding
			{tx: 1, address: tokenT, topics: []string{TransferTopic, topicOf(addrB), topicOf(addrC)}, data: "0x"},                                // no amount
			erc20(1, addrB, addrA, 0), // zero amount
			erc20(2, addrC, addrA, 1), // in a failed tx
		}},
		{txs: []fakeTx{
			// A value transaction and a token transfer in one tx: the
			// native transfer comes first.
			{from: addrC, to: tokenT, value: "0x1"},
		}, logs: []fakeLog{
			erc20(0, addrC, addrB, 1<<62),
		}},
	}}
}

func amt(s string) graph.Amount {
	a, err := graph.ParseAmount(s)
	if err != nil {
		panic(err)
	}
	return a
}

func storyWant() []graph.Transfer {
	ts := func(n uint64) int64 { return 1_700_000_000 + 12*int64(n) }
	return []graph.Transfer{
		{Tx: txHash(1, 0), Block: 1, Time: ts(1), From: addrA, To: addrB, Amount: amt("1000000000000000000")},
		{Tx: txHash(3, 0), Block: 3, Time: ts(3), From: addrA, To: newCon, Amount: amt("1000")},
		{Tx: txHash(3, 1), Block: 3, Time: ts(3), From: addrB, To: addrC, Asset: tokenT, Amount: amt("250")},
		{Tx: txHash(4, 0), Block: 4, Time: ts(4), From: addrC, To: tokenT, Amount: amt("1")},
		{Tx: txHash(4, 0), Block: 4, Time: ts(4), From: addrC, To: addrB, Asset: tokenT, Amount: amt(fmt.Sprint(uint64(1) << 62))},
	}
}

func equalTransfers(t *testing.T, got, want []graph.Transfer) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d transfers, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.Tx != w.Tx || g.Block != w.Block || g.Time != w.Time || g.From != w.From || g.To != w.To || g.Asset != w.Asset || g.Amount.Cmp(w.Amount) != 0 {
			t.Errorf("transfer %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func fastConfig(url string) Config {
	return Config{URL: url, Confirmations: -1, MaxAttempts: 3, RetryBase: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Logger: discard()}
}

func TestStory(t *testing.T) {
	for _, tc := range []struct {
		name            string
		noBlockReceipts bool
		maxRange        uint64
		rangeMsg        string
		batch           int
	}{
		{name: "block receipts"},
		{name: "receipts per transaction", noBlockReceipts: true},
		{name: "geth range limit", maxRange: 2},
		{name: "infura result limit", maxRange: 1, rangeMsg: "query returned more than 10000 results"},
		{name: "alchemy size limit", maxRange: 3, rangeMsg: "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range"},
		{name: "one block batches", batch: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := storyChain()
			f.noBlockReceipts, f.maxRange, f.rangeMsg = tc.noBlockReceipts, tc.maxRange, tc.rangeMsg
			cfg := fastConfig(f.start(t))
			cfg.BatchSize = tc.batch
			sink := &sliceSink{}
			st, err := mustLoader(t, cfg).Sync(context.Background(), sink)
			if err != nil {
				t.Fatal(err)
			}
			equalTransfers(t, sink.got, storyWant())
			want := Stats{From: 0, To: 4, Blocks: 5, Native: 3, Token: 2, Failed: 1, NonFungible: 1, Malformed: 2, ZeroAmount: 1}
			st.LogSplits = 0
			if st != want {
				t.Errorf("stats %+v\n want %+v", st, want)
			}
			// Receipts only for blocks 1, 3 and 4, which move ether.
			if n := f.count("eth_getBlockReceipts"); !tc.noBlockReceipts && n != 3 {
				t.Errorf("%d eth_getBlockReceipts calls, want 3", n)
			}
			if n := f.count("eth_getTransactionReceipt"); tc.noBlockReceipts && n != 4 {
				t.Errorf("%d eth_getTransactionReceipt calls, want 4 (one per value transaction)", n)
			}
			if tc.maxRange > 0 && f.count("eth_getLogs") < 2 {
				t.Errorf("eth_getLogs was not split")
			}
		})
	}
}

func longChain(n int) *fakeNode {
	f := &fakeNode{chainID: 5}
	for i := range n {
		f.blocks = append(f.blocks, fakeBlock{txs: []fakeTx{{from: addrA, to: addrB, value: quantity(uint64(i + 1))}}})
	}
	return f
}

func TestIncremental(t *testing.T) {
	f := longChain(40) // blocks 0..39
	cfg := fastConfig(f.start(t))
	cfg.StatePath = filepath.Join(t.TempDir(), "state.json")
	cfg.Confirmations = 0 // the default, 12
	cfg.BatchSize = 7
	cfg.From = 3

	sink := &sliceSink{}
	st, err := mustLoader(t, cfg).Sync(context.Background(), sink)
	if err != nil {
		t.Fatal(err)
	}
	if st.From != 3 || st.To != 27 || st.Blocks != 25 || len(sink.got) != 25 {
		t.Fatalf("first run: %+v, %d transfers; want blocks 3-27", st, len(sink.got))
	}
	saved, ok, err := LoadState(cfg.StatePath)
	if err != nil || !ok || saved.Next != 28 || saved.ChainID != 5 || saved.Hash != f.hash(27) {
		t.Fatalf("state %+v %v %v", saved, ok, err)
	}

	// The chain grows; From is ignored now that there is a state.
	f.mu.Lock()
	f.blocks = append(f.blocks, longChain(45).blocks[40:]...)
	f.mu.Unlock()
	cfg.To = 35
	st, err = mustLoader(t, cfg).Sync(context.Background(), sink)
	if err != nil {
		t.Fatal(err)
	}
	if st.From != 28 || st.To != 32 || st.Blocks != 5 {
		t.Errorf("second run %+v, want 28-32 (head 44 - 12)", st)
	}
	cfg.Confirmations = -1
	st, err = mustLoader(t, cfg).Sync(context.Background(), sink)
	if err != nil {
		t.Fatal(err)
	}
	if st.From != 33 || st.To != 35 {
		t.Errorf("third run %+v, want 33-35 (To)", st)
	}
	for i, tr := range sink.got {
		if tr.Block != uint64(i+3) || tr.Amount.Cmp(graph.AmountFromUint64(uint64(i+4))) != 0 {
			t.Fatalf("transfer %d: %+v", i, tr)
		}
	}

	// A reorganisation under the saved height is noticed.
	f.mu.Lock()
	f.salt = 1
	f.mu.Unlock()
	if _, err := mustLoader(t, cfg).Sync(context.Background(), sink); !errors.Is(err, ErrReorg) || !strings.Contains(err.Error(), "block 35") {
		t.Errorf("reorg: %v", err)
	}
}

func TestFlushAndSinkErrors(t *testing.T) {
	f := longChain(10)
	cfg := fastConfig(f.start(t))
	cfg.StatePath = filepath.Join(t.TempDir(), "state.json")
	cfg.BatchSize = 4

	sink := &flushSink{failAt: 6}
	st, err := mustLoader(t, cfg).Sync(context.Background(), sink)
	if err == nil || !strings.Contains(err.Error(), "block 6") || !strings.Contains(err.Error(), "sink full") {
		t.Fatalf("sink error not reported with its block: %v", err)
	}
	if st.To != 3 || sink.flushes != 1 {
		t.Errorf("stats %+v, %d flushes; want batch 0-3 committed once", st, sink.flushes)
	}
	saved, _, _ := LoadState(cfg.StatePath)
	if saved.Next != 4 {
		t.Errorf("state next %d after failed batch 4-7, want 4", saved.Next)
	}
	sink.failAt, sink.got = -1, nil
	st, err = mustLoader(t, cfg).Sync(context.Background(), sink)
	if err != nil || st.From != 4 || len(sink.got) != 6 || sink.got[0].Block != 4 {
		t.Errorf("resume: %+v %v, %d transfers", st, err, len(sink.got))
	}

	sink = &flushSink{failAt: -1, flushErr: errors.New("disk full")}
	os.Remove(cfg.StatePath)
	if _, err := mustLoader(t, cfg).Sync(context.Background(), sink); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("flush error: %v", err)
	}
	if _, ok, _ := LoadState(cfg.StatePath); ok {
		t.Error("state saved although the flush failed")
	}
}

type flushSink struct {
	got      []graph.Transfer
	failAt   int
	flushes  int
	flushErr error
}

func (s *flushSink) Add(tr graph.Transfer) error {
	if int(tr.Block) == s.failAt {
		return errors.New("sink full")
	}
	s.got = append(s.got, tr)
	return nil
}

func (s *flushSink) Flush() error {
	if s.flushErr != nil {
		return s.flushErr
	}
	s.flushes++
	return nil
}

func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fail     func(w http.ResponseWriter, id []byte)
		failures int // before success
		ok       bool
		attempts int
	}{
		{"503 then ok", func(w http.ResponseWriter, id []byte) { http.Error(w, "busy", http.StatusServiceUnavailable) }, 2, true, 3},
		{"429 then ok", func(w http.ResponseWriter, id []byte) {
			w.Header().Set("Retry-After", "0")
			http.Error(w, "slow", http.StatusTooManyRequests)
		}, 1, true, 2},
		{"rate limit in JSON-RPC", func(w http.ResponseWriter, id []byte) {
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32005,"message":"project ID request rate exceeded"}}`, id)
		}, 1, true, 2},
		{"connection dropped", func(w http.ResponseWriter, id []byte) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		}, 2, true, 3},
		{"truncated body", func(w http.ResponseWriter, id []byte) {
			w.Header().Set("Content-Length", "100")
			fmt.Fprint(w, `{"jsonrpc":"2.0",`)
		}, 1, true, 2},
		{"503 forever", func(w http.ResponseWriter, id []byte) { http.Error(w, "busy", http.StatusServiceUnavailable) }, 99, false, 3},
		{"400 not retried", func(w http.ResponseWriter, id []byte) { http.Error(w, "bad", http.StatusBadRequest) }, 99, false, 1},
		{"node error not retried", func(w http.ResponseWriter, id []byte) {
			fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32000,"message":"header not found"}}`, id)
		}, 99, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := longChain(1)
			var n atomic.Int32
			f.hook = func(w http.ResponseWriter, req *fakeReq) bool {
				if req.Method != "eth_chainId" || int(n.Add(1)) > tc.failures {
					return false
				}
				tc.fail(w, req.ID)
				return true
			}
			_, err := mustLoader(t, fastConfig(f.start(t))).Sync(context.Background(), &sliceSink{})
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v", err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "eth_chainId") {
				t.Errorf("error does not name the method: %v", err)
			}
			if got := f.count("eth_chainId"); got != tc.attempts {
				t.Errorf("%d attempts, want %d", got, tc.attempts)
			}
		})
	}
}

func TestRetryStopsOnCancel(t *testing.T) {
	f := longChain(1)
	f.hook = func(w http.ResponseWriter, _ *fakeReq) bool {
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return true
	}
	cfg := fastConfig(f.start(t))
	cfg.MaxAttempts, cfg.RetryBase, cfg.MaxBackoff = 100, time.Hour, time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := mustLoader(t, cfg).Sync(ctx, &sliceSink{})
		done <- err
	}()
	for f.count("eth_chainId") == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// Cancelled just after a failing call was answered: the error says
// cancelled, not the node's 503 (a race the retry loop once lost).
func TestCancelWhileFailing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := longChain(1)
	f.hook = func(w http.ResponseWriter, _ *fakeReq) bool {
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return true
	}
	cfg := fastConfig(f.start(t))
	cfg.HTTPClient = &http.Client{Transport: chaintest.CancelAfter{Base: http.DefaultTransport, Cancel: cancel}}
	if _, err := mustLoader(t, cfg).Sync(ctx, &sliceSink{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
