package btcrpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/chain/chaintest"
	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// wantAddr maps the test scripts to their mainnet addresses, written out
// from the BIP vectors rather than computed by the code under test.
var wantAddr = map[string]string{
	scriptP2PKGenesis: "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
	scriptP2PKH:       "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
	scriptP2SH:        "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
	scriptP2WPKH:      "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
	scriptP2WSH:       "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
	scriptP2TR:        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
	scriptP2A:         "bc1pfeessrawgf",
	scriptV16:         "bc1sw50qgdz25j",
	scriptMultisig:    "multisig:1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH",
}

func addrOf(t testing.TB, script string) string {
	if a, ok := wantAddr[script]; ok {
		return a
	}
	return nonstandardOf(t, script)
}

// testChain builds six blocks on n:
//
//	0: coinbase paying the genesis key (P2PK)
//	1: coinbase paying P2PKH of the same key, and a witness commitment
//	2: A spends coinbase 0 to P2SH and P2TR; B spends A:1 in the same
//	   block to P2WSH, pay-to-anchor (1 satoshi) and a bare 1-of-1 multisig
//	3: C consolidates coinbase 1, A:0 and B:0 to a witness v16 output and
//	   an OP_RETURN
//	4, 5: coinbases only
func testChain(n *fakeNode) {
	b0 := n.addBlock("")
	b0.txs[0].outs = []fakeOut{{5_000_000_000, scriptP2PKGenesis}}
	b1 := n.addBlock("")
	b1.txs[0].outs = []fakeOut{{5_000_000_000, scriptP2PKH}, {0, scriptWitnessCmt}}
	a := &fakeTx{txid: fakeHash("A"), ins: []fakeIn{{txid: b0.txs[0].txid}},
		outs: []fakeOut{{3_000_000_000, scriptP2SH}, {1_999_990_000, scriptP2TR}}}
	b := &fakeTx{txid: fakeHash("B"), ins: []fakeIn{{txid: a.txid, vout: 1}},
		outs: []fakeOut{{1_999_980_000, scriptP2WSH}, {1, scriptP2A}, {5_000, scriptMultisig}}}
	n.addBlock("", a, b)
	c := &fakeTx{txid: fakeHash("C"), ins: []fakeIn{{txid: b1.txs[0].txid}, {txid: a.txid}, {txid: b.txid}},
		outs: []fakeOut{{9_999_970_000, scriptV16}, {0, scriptOpReturn}}}
	n.addBlock("", c)
	n.addBlock("")
	n.addBlock("")
}

// wantTransfers derives the expected transfers of heights from..to from
// the fake chain, by the package's convention.
func wantTransfers(t testing.TB, n *fakeNode, from, to int, keepZero bool) []graph.Transfer {
	var w []graph.Transfer
	for _, b := range n.blocks[from : to+1] {
		for _, tx := range b.txs {
			node := "tx:" + tx.txid
			for _, in := range tx.ins {
				if in.coinbase {
					continue
				}
				o := n.txs[in.txid].outs[in.vout]
				if !keepZero && o.sat == 0 {
					continue
				}
				w = append(w, graph.Transfer{Tx: tx.txid, Block: uint64(b.height), Time: b.time, From: addrOf(t, o.script), To: node, Amount: graph.AmountFromUint64(o.sat)})
			}
			for _, o := range tx.outs {
				if !keepZero && o.sat == 0 {
					continue
				}
				w = append(w, graph.Transfer{Tx: tx.txid, Block: uint64(b.height), Time: b.time, From: node, To: addrOf(t, o.script), Amount: graph.AmountFromUint64(o.sat)})
			}
		}
	}
	return w
}

func fastConfig(n *fakeNode) Config {
	return Config{
		URL: n.srv.URL, Confirmations: 1, RetryBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		HTTPClient: testHTTPClient(),
	}
}

func run(t *testing.T, cfg Config) (*sliceSink, Stats, error) {
	t.Helper()
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &sliceSink{}
	st, err := l.Run(context.Background(), s)
	return s, st, err
}

func checkTransfers(t *testing.T, got, want []graph.Transfer) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("transfers:\n%s\nwant:\n%s", dump(got), dump(want))
	}
}

// TestLoaderNodeShapes loads the test chain from nodes of each shape and
// verbosity; all must give the same transfers, resolving spent outputs from
// the block, from earlier blocks, or with getrawtransaction.
func TestLoaderNodeShapes(t *testing.T) {
	tests := []struct {
		name         string
		style        string
		maxVerbosity int
		start        int
		fetched      int64 // spent outputs looked up with getrawtransaction
		rawTxCalls   int
		refusals     int // getblock calls refused for their verbosity
	}{
		{"core verbosity 3 from genesis", "core", 3, 0, 0, 0, 0},
		{"core verbosity 3 mid-chain", "core", 3, 2, 0, 0, 0},
		{"core verbosity 2 mid-chain", "core", 2, 2, 2, 2, 1},
		{"core verbosity 1 mid-chain", "core", 1, 2, 2, 7 + 2, 2},
		{"btcd from genesis", "btcd", 3, 0, 0, 0, 0},
		{"btcd mid-chain", "btcd", 3, 2, 2, 2, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := newFakeNode(t, "main", tc.style)
			n.maxVerbosity = tc.maxVerbosity
			testChain(n)
			cfg := fastConfig(n)
			cfg.StartHeight = uint64(tc.start)
			cfg.Concurrency = 3
			s, st, err := run(t, cfg)
			if err != nil {
				t.Fatal(err)
			}
			checkTransfers(t, s.got, wantTransfers(t, n, tc.start, 5, false))
			if st.FromHeight != uint64(tc.start) || st.ToHeight != 5 || st.Blocks != int64(6-tc.start) || st.Transfers != int64(len(s.got)) {
				t.Errorf("stats %+v", st)
			}
			if st.PrevoutsFetched != tc.fetched {
				t.Errorf("PrevoutsFetched = %d, want %d", st.PrevoutsFetched, tc.fetched)
			}
			if got := n.count("getrawtransaction"); got != tc.rawTxCalls {
				t.Errorf("getrawtransaction called %d times, want %d", got, tc.rawTxCalls)
			}
			if got, want := n.count("getblock"), 6-tc.start+tc.refusals; got != want {
				t.Errorf("getblock called %d times, want %d", got, want)
			}
			if st.Requests == 0 || st.Requests > int64(n.count("getblock")+n.count("getblockhash")+n.count("getrawtransaction")+2) {
				t.Errorf("Requests = %d", st.Requests)
			}
		})
	}
}

func TestLoaderOptions(t *testing.T) {
	n := newFakeNode(t, "main", "core")
	testChain(n)

	t.Run("keep zero value", func(t *testing.T) {
		cfg := fastConfig(n)
		cfg.KeepZeroValue = true
		s, st, err := run(t, cfg)
		if err != nil {
			t.Fatal(err)
		}
		checkTransfers(t, s.got, wantTransfers(t, n, 0, 5, true))
		if st.ZeroValueSkipped != 0 {
			t.Errorf("ZeroValueSkipped = %d with KeepZeroValue", st.ZeroValueSkipped)
		}
		_, st, err = run(t, fastConfig(n))
		if err != nil || st.ZeroValueSkipped != 2 {
			t.Errorf("by default: ZeroValueSkipped = %d (%v), want 2 (witness commitment, OP_RETURN)", st.ZeroValueSkipped, err)
		}
	})
	t.Run("tiny output map", func(t *testing.T) {
		cfg := fastConfig(n)
		cfg.Verbosity = 2
		cfg.MaxOutpoints = 1
		s, st, err := run(t, cfg)
		if err != nil {
			t.Fatal(err)
		}
		checkTransfers(t, s.got, wantTransfers(t, n, 0, 5, false))
		if st.PrevoutsFetched == 0 {
			t.Error("an output map of 1 resolved every input")
		}
	})
	t.Run("confirmations", func(t *testing.T) {
		cfg := fastConfig(n)
		cfg.Confirmations = 3 // tip 5: heights up to 3 have 3 confirmations
		s, st, err := run(t, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if st.ToHeight != 3 || st.Blocks != 4 {
			t.Errorf("stats %+v, want heights 0..3", st)
		}
		checkTransfers(t, s.got, wantTransfers(t, n, 0, 3, false))
		cfg.Confirmations = 7
		if _, st, err := run(t, cfg); err != nil || st.Blocks != 0 {
			t.Errorf("7 confirmations of a 6-block chain: %+v, %v", st, err)
		}
	})
	t.Run("stop height", func(t *testing.T) {
		cfg := fastConfig(n)
		cfg.StartHeight, cfg.StopHeight = 1, 2
		s, st, err := run(t, cfg)
		if err != nil || st.FromHeight != 1 || st.ToHeight != 2 {
			t.Fatalf("%+v, %v", st, err)
		}
		checkTransfers(t, s.got, wantTransfers(t, n, 1, 2, false))
	})
	t.Run("network given", func(t *testing.T) {
		cfg := fastConfig(n)
		cfg.Network = "main"
		if _, _, err := run(t, cfg); err != nil {
			t.Fatal(err)
		}
		if got := n.count("getblockchaininfo"); got != 6 {
			t.Errorf("getblockchaininfo called %d times over 7 runs, want 6 (not when the network is given)", got)
		}
	})
}

// TestLoaderResume loads in two runs through the state file and checks
// that together they deliver each block once.
func TestLoaderResume(t *testing.T) {
	n := newFakeNode(t, "main", "core")
	testChain(n)
	cfg := fastConfig(n)
	cfg.StateFile = filepath.Join(t.TempDir(), "state.json")
	cfg.StopHeight = 2
	s1, _, err := run(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, ok, err := readState(cfg.StateFile)
	if err != nil || !ok || st.Height != 2 || st.Hash != n.blocks[2].hash || st.Network != "main" {
		t.Fatalf("state after run 1: %+v %v %v", st, ok, err)
	}
	cfg.StopHeight = 0
	cfg.Verbosity = 2 // the resumed run resolves earlier outputs over RPC
	s2, st2, err := run(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st2.FromHeight != 3 || st2.ToHeight != 5 {
		t.Errorf("run 2 stats %+v, want 3..5", st2)
	}
	checkTransfers(t, append(s1.got, s2.got...), wantTransfers(t, n, 0, 5, false))
	entries, _ := os.ReadDir(filepath.Dir(cfg.StateFile))
	if len(entries) != 1 {
		t.Errorf("state directory holds %d files, want only the state file", len(entries))
	}

	// Nothing new: no blocks, no error, no getblock.
	before := n.count("getblock")
	if _, st3, err := run(t, cfg); err != nil || st3.Blocks != 0 || n.count("getblock") != before {
		t.Errorf("run 3: %+v, %v", st3, err)
	}

	// A state file of another network is refused.
	other := newFakeNode(t, "regtest", "core")
	testChain(other)
	cfg.URL = other.srv.URL
	if _, _, err := run(t, cfg); err == nil || !strings.Contains(err.Error(), "network") {
		t.Errorf("state of main on a regtest node: %v", err)
	}
}

func TestLoaderReorg(t *testing.T) {
	n := newFakeNode(t, "main", "core")
	testChain(n)
	cfg := fastConfig(n)
	cfg.StateFile = filepath.Join(t.TempDir(), "state.json")
	if _, _, err := run(t, cfg); err != nil {
		t.Fatal(err)
	}
	// Replace blocks 4 and 5 with a longer fork.
	n.truncate(4)
	for i := 0; i < 3; i++ {
		n.addBlock("fork")
	}
	_, _, err := run(t, cfg)
	if !errors.Is(err, ErrReorg) || !strings.Contains(err.Error(), "block 5") {
		t.Fatalf("after a reorganisation: %v, want ErrReorg naming block 5", err)
	}

	// A reorganisation while a run goes on: the loader has block 3 in
	// memory, the node's block 4 no longer follows it.
	n2 := newFakeNode(t, "main", "core")
	testChain(n2)
	l, err := New(fastConfig(n2))
	if err != nil {
		t.Fatal(err)
	}
	l.cfg.StopHeight = 3
	if _, err := l.Run(context.Background(), &sliceSink{}); err != nil {
		t.Fatal(err)
	}
	l.cfg.StopHeight = 0
	l.lastHash = fakeHash("orphaned")
	n2.fail = func(method string, params []json.RawMessage) (int, string, http.Header, bool) {
		if method == "getblockhash" && string(params[0]) == "3" {
			// The check of the saved block passes; the next block's
			// parent does not match.
			return 200, `{"id":$ID,"result":"` + l.lastHash + `","error":null}`, nil, true
		}
		return 0, "", nil, false
	}
	_, err = l.Run(context.Background(), &sliceSink{})
	if !errors.Is(err, ErrReorg) || !strings.Contains(err.Error(), "block 4") {
		t.Fatalf("mid-run reorganisation: %v, want ErrReorg naming block 4", err)
	}
}

// TestLoaderRetries injects the failures a node or a proxy in front of it
// produces and checks that the load goes through.
func TestLoaderRetries(t *testing.T) {
	n := newFakeNode(t, "main", "core")
	testChain(n)
	failures := map[string][]int{
		"getblockcount":     {-28},      // warming up
		"getblockhash":      {503, 502}, // a proxy without an answer
		"getblock":          {429},      // rate limited, Retry-After: 1
		"getrawtransaction": {-1},       // connection dropped
	}
	n.fail = func(method string, _ []json.RawMessage) (int, string, http.Header, bool) {
		f := failures[method]
		if len(f) == 0 {
			return 0, "", nil, false
		}
		failures[method] = f[1:]
		switch f[0] {
		case -28:
			return 500, `{"id":$ID,"result":null,"error":{"code":-28,"message":"Loading block index..."}}`, nil, true
		case 429:
			return 429, "slow down", http.Header{"Retry-After": {"1"}}, true
		case -1:
			return -1, "", nil, true
		}
		return f[0], "<html>bad gateway</html>", nil, true
	}
	cfg := fastConfig(n)
	cfg.Verbosity = 2
	cfg.StartHeight = 2
	cfg.Concurrency = 1
	s, st, err := run(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkTransfers(t, s.got, wantTransfers(t, n, 2, 5, false))
	for m, f := range failures {
		if len(f) > 0 {
			t.Errorf("%s: %d injected failures not reached", m, len(f))
		}
	}
	total := 0
	for _, m := range []string{"getblockchaininfo", "getblockcount", "getblockhash", "getblock", "getrawtransaction"} {
		total += n.count(m)
	}
	if st.Requests != int64(total) {
		t.Errorf("Requests = %d, node saw %d", st.Requests, total)
	}
}

// TestLoaderErrors checks failures that must not be retried, and that the
// error names the method and the height.
func TestLoaderErrors(t *testing.T) {
	t.Run("node error at a height", func(t *testing.T) {
		n := newFakeNode(t, "main", "core")
		testChain(n)
		cfg := fastConfig(n)
		cfg.StateFile = filepath.Join(t.TempDir(), "state.json")
		hits := 0
		n.fail = func(method string, params []json.RawMessage) (int, string, http.Header, bool) {
			if method == "getblock" && strings.Contains(string(params[0]), n.blocks[3].hash) {
				hits++
				return 500, `{"id":$ID,"result":null,"error":{"code":-1,"message":"Block not available (pruned data)"}}`, nil, true
			}
			return 0, "", nil, false
		}
		s, st, err := run(t, cfg)
		var re *RPCError
		if !errors.As(err, &re) || re.Code != -1 {
			t.Fatalf("err = %v, want the node's RPCError", err)
		}
		for _, part := range []string{"block 3", "getblock", "pruned"} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("error %q does not mention %q", err, part)
			}
		}
		if hits != 1 {
			t.Errorf("a node error was sent %d times, want 1 (no retry)", hits)
		}
		// Blocks 0..2 were delivered whole and saved; the next run goes
		// on from 3.
		if st.ToHeight != 2 {
			t.Errorf("stats %+v, want delivered up to 2", st)
		}
		checkTransfers(t, s.got, wantTransfers(t, n, 0, 2, false))
		if saved, _, _ := readState(cfg.StateFile); saved.Height != 2 {
			t.Errorf("saved height %d, want 2", saved.Height)
		}
		n.fail = nil
		s2, _, err := run(t, cfg)
		if err != nil {
			t.Fatal(err)
		}
		checkTransfers(t, s2.got, wantTransfers(t, n, 3, 5, false))
	})
	// Answers missing what every block has are refused, naming the block
	// and the field, instead of losing its transfers.
	for _, c := range []struct{ name, body, want string }{
		{"no transactions", `{"hash":"%s","height":3,"time":1700000000,"previousblockhash":"%s","tx":[]}`, "no transactions"},
		{"no time", `{"hash":"%s","height":3,"previousblockhash":"%s","tx":[{"txid":"` + strings.Repeat("ab", 32) + `","vin":[{"coinbase":"00"}],"vout":[{"value":1,"n":0,"scriptPubKey":{"hex":"51"}}]}]}`, "time: missing"},
		{"no inputs", `{"hash":"%s","height":3,"time":1700000000,"previousblockhash":"%s","tx":[{"txid":"` + strings.Repeat("ab", 32) + `","vout":[{"value":1,"n":0,"scriptPubKey":{"hex":"51"}}]}]}`, "vin: no inputs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := newFakeNode(t, "main", "core")
			testChain(n)
			n.fail = func(method string, params []json.RawMessage) (int, string, http.Header, bool) {
				if method == "getblock" && strings.Contains(string(params[0]), n.blocks[3].hash) {
					return 200, `{"id":$ID,"error":null,"result":` + fmt.Sprintf(c.body, n.blocks[3].hash, n.blocks[3].prev) + `}`, nil, true
				}
				return 0, "", nil, false
			}
			_, _, err := run(t, fastConfig(n))
			if !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), "block 3") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	t.Run("block hash null", func(t *testing.T) {
		n := newFakeNode(t, "main", "core")
		testChain(n)
		n.fail = func(method string, params []json.RawMessage) (int, string, http.Header, bool) {
			if method == "getblockhash" && string(params[0]) == "2" {
				return 200, `{"id":$ID,"error":null,"result":null}`, nil, true
			}
			return 0, "", nil, false
		}
		_, _, err := run(t, fastConfig(n))
		if !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), "block 2") || !strings.Contains(err.Error(), "getblockhash") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("retries exhausted", func(t *testing.T) {
		n := newFakeNode(t, "main", "core")
		testChain(n)
		n.fail = func(method string, _ []json.RawMessage) (int, string, http.Header, bool) {
			return 500, "", nil, method == "getblockhash"
		}
		cfg := fastConfig(n)
		cfg.Retries = 2
		_, _, err := run(t, cfg)
		var he *HTTPError
		if !errors.As(err, &he) || he.Status != 500 || !strings.Contains(err.Error(), "after 3 attempts") || !strings.Contains(err.Error(), "block 0") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("no retries", func(t *testing.T) {
		n := newFakeNode(t, "main", "core")
		testChain(n)
		n.fail = func(method string, _ []json.RawMessage) (int, string, http.Header, bool) {
			return 503, "", nil, true
		}
		cfg := fastConfig(n)
		cfg.Retries = -1
		if _, _, err := run(t, cfg); err == nil || n.count("getblockchaininfo") != 1 {
			t.Fatalf("err = %v after %d calls", err, n.count("getblockchaininfo"))
		}
	})
	t.Run("response too large", func(t *testing.T) {
		n := newFakeNode(t, "main", "core")
		testChain(n)
		cfg := fastConfig(n)
		cfg.MaxResponseBytes = 600
		cfg.StartHeight = 2
		_, _, err := run(t, cfg)
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "getblock") || !strings.Contains(err.Error(), "block 2") {
			t.Fatalf("err = %v", err)
		}
		if n.count("getblock") != 1 {
			t.Errorf("an oversized answer was asked for %d times", n.count("getblock"))
		}
	})
	t.Run("sink error", func(t *testing.T) {
		n := newFakeNode(t, "main", "core")
		testChain(n)
		l, err := New(fastConfig(n))
		if err != nil {
			t.Fatal(err)
		}
		sink := &failingSink{after: 4}
		_, err = l.Run(context.Background(), sink)
		if !errors.Is(err, errSinkFull) || !strings.Contains(err.Error(), "block 2") {
			t.Fatalf("err = %v", err)
		}
		// Blocks 0 and 1 (3 transfers) are in; block 2 went in part, so
		// the position stays where the last save left it.
		if l.Next() != 0 {
			t.Errorf("Next() = %d after a sink error, want 0 (nothing saved)", l.Next())
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		n := newFakeNode(t, "main", "core")
		testChain(n)
		ctx, cancel := context.WithCancel(context.Background())
		n.fail = func(method string, params []json.RawMessage) (int, string, http.Header, bool) {
			if method == "getblockhash" && string(params[0]) == "3" {
				cancel()
			}
			return 0, "", nil, false
		}
		cfg := fastConfig(n)
		cfg.Concurrency = 1
		l, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = l.Run(ctx, &sliceSink{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if l.Next() < 1 || l.Next() > 4 {
			t.Errorf("Next() = %d after cancelling at block 3", l.Next())
		}
	})
	// Cancelled just after a failing call was answered: the error says
	// cancelled, not the node's 503.
	t.Run("cancelled while failing", func(t *testing.T) {
		n := newFakeNode(t, "main", "core")
		testChain(n)
		ctx, cancel := context.WithCancel(context.Background())
		n.fail = func(method string, params []json.RawMessage) (int, string, http.Header, bool) {
			return http.StatusServiceUnavailable, "busy", nil, true
		}
		cfg := fastConfig(n)
		cfg.HTTPClient = &http.Client{Transport: chaintest.CancelAfter{Base: http.DefaultTransport, Cancel: cancel}}
		l, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err = l.Run(ctx, &sliceSink{}); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

var errSinkFull = errors.New("sink full")

type failingSink struct {
	after int
	n     int
}

func (s *failingSink) Add(graph.Transfer) error {
	if s.n >= s.after {
		return errSinkFull
	}
	s.n++
	return nil
}

func TestLoaderAuth(t *testing.T) {
	n := newFakeNode(t, "main", "core")
	n.user, n.pass = "rpcuser", "s3cret:with colon"
	testChain(n)

	cfg := fastConfig(n)
	cfg.User, cfg.Password = "rpcuser", "wrong"
	_, _, err := run(t, cfg)
	if !errors.Is(err, ErrUnauthorized) || n.count("getblockchaininfo") != 0 {
		t.Fatalf("wrong password: %v", err)
	}

	cfg.Password = n.pass
	if _, st, err := run(t, cfg); err != nil || st.Blocks != 6 {
		t.Fatalf("right password: %+v, %v", st, err)
	}

	cookie := filepath.Join(t.TempDir(), ".cookie")
	if err := os.WriteFile(cookie, []byte("rpcuser:"+n.pass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.User, cfg.Password, cfg.CookieFile = "", "", cookie
	if _, st, err := run(t, cfg); err != nil || st.Blocks != 6 {
		t.Fatalf("cookie: %+v, %v", st, err)
	}
}

func TestNewRefuses(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no url":          {},
		"ftp url":         {URL: "ftp://127.0.0.1/"},
		"credentials":     {URL: "http://u:p@127.0.0.1:8332/"},
		"verbosity 4":     {URL: "http://127.0.0.1:8332/", Verbosity: 4},
		"unknown network": {URL: "http://127.0.0.1:8332/", Network: "dogecoin"},
		"missing cookie":  {URL: "http://127.0.0.1:8332/", CookieFile: filepath.Join(t.TempDir(), "none")},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
}

func TestStateFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.json")
	if _, ok, err := readState(path); ok || err != nil {
		t.Fatalf("missing file: %v %v", ok, err)
	}
	want := state{Network: "regtest", Height: 42, Hash: strings.Repeat("0f", 32)}
	if err := writeState(path, want); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := readState(path); !ok || err != nil || got != want {
		t.Fatalf("read back %+v %v %v", got, ok, err)
	}
	for name, content := range map[string]string{
		"not json":    "{",
		"bad hash":    `{"network":"main","height":1,"hash":"xyz"}`,
		"bad network": `{"network":"moon","height":1,"hash":"` + strings.Repeat("00", 32) + `"}`,
		"too large":   strings.Repeat(" ", maxStateBytes+1),
	} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := readState(path); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if err := writeState(filepath.Join(dir, "missing", "s.json"), want); err == nil {
		t.Error("writeState into a missing directory: no error")
	}
}
