package ethrpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileAnswers feeds the loader answers a broken or malicious node
// might send and checks it refuses them with an error that names the
// method and block, never emitting transfers from a bad batch.
func TestHostileAnswers(t *testing.T) {
	type m = map[string]any
	block := func(n string) func(req *fakeReq) bool {
		return func(req *fakeReq) bool {
			return req.Method == "eth_getBlockByNumber" && len(req.Params) > 0 && string(req.Params[0]) == `"`+n+`"`
		}
	}
	method := func(name string) func(req *fakeReq) bool {
		return func(req *fakeReq) bool { return req.Method == name }
	}
	receiptsOf := func(n string) func(req *fakeReq) bool {
		return func(req *fakeReq) bool {
			return req.Method == "eth_getBlockReceipts" && len(req.Params) > 0 && string(req.Params[0]) == `"`+n+`"`
		}
	}
	firstTx := func(f func(tx m)) func(any) any {
		return func(r any) any { f(r.(m)["transactions"].([]m)[0]); return r }
	}
	for _, tc := range []struct {
		name   string
		match  func(req *fakeReq) bool
		mutate func(result any) any
		raw    string // instead of mutate: the whole body
		status int
		is     error
		want   []string // substrings of the error
		limit  int64
	}{
		{name: "huge block", match: block("0x1"), limit: 8192,
			mutate: func(r any) any { r.(m)["extraData"] = "0x" + strings.Repeat("00", 8192); return r },
			is:     ErrResponseTooLarge, want: []string{"eth_getBlockByNumber", "block 1", "8192 bytes"}},
		{name: "html", match: block("0x1"), raw: "<html><body>Bad gateway\x1b[31m</body></html>",
			is: ErrBadResponse, want: []string{"eth_getBlockByNumber", "block 1", "<html>"}},
		{name: "wrong id", match: block("0x1"), raw: `{"jsonrpc":"2.0","id":99999,"result":null}`,
			is: ErrBadResponse, want: []string{"block 1", "id 99999"}},
		{name: "not 2.0", match: block("0x1"), raw: `{"id":%s,"result":null}`,
			is: ErrBadResponse, want: []string{"block 1", "jsonrpc"}},
		{name: "no result", match: block("0x1"), raw: `{"jsonrpc":"2.0","id":%s}`,
			is: ErrBadResponse, want: []string{"block 1", "neither result nor error"}},
		{name: "missing block", match: block("0x3"), raw: `{"jsonrpc":"2.0","id":%s,"result":null}`,
			is: ErrBlockNotFound, want: []string{"eth_getBlockByNumber", "block 3"}},
		{name: "other block", match: block("0x1"), mutate: func(r any) any { r.(m)["number"] = "0x2"; return r },
			is: ErrBadResponse, want: []string{"block 1", "returned block 2"}},
		{name: "transaction hashes only", match: block("0x1"),
			mutate: func(r any) any { r.(m)["transactions"] = []string{txHash(1, 0)}; return r },
			is:     ErrBadResponse, want: []string{"eth_getBlockByNumber", "block 1"}},
		{name: "short tx hash", match: block("0x1"), mutate: firstTx(func(tx m) { tx["hash"] = "0x1234" }),
			is: ErrBadResponse, want: []string{"block 1", "transaction 0", "hash"}},
		{name: "bad from", match: block("0x1"), mutate: firstTx(func(tx m) { tx["from"] = "0x" + strings.Repeat("zz", 20) }),
			is: ErrBadResponse, want: []string{"block 1", "from"}},
		{name: "bad checksum", match: block("0x1"), mutate: firstTx(func(tx m) { tx["to"] = "0xB2B2b2b2B2B2b2b2B2B2b2b2B2b2b2b2b2b2B2B2" }),
			is: ErrBadResponse, want: []string{"block 1", "to"}},
		{name: "decimal value", match: block("0x1"), mutate: firstTx(func(tx m) { tx["value"] = "1000" }),
			is: ErrBadResponse, want: []string{"block 1", "value"}},
		{name: "value over 2^320", match: block("0x1"), mutate: firstTx(func(tx m) { tx["value"] = "0x" + strings.Repeat("f", 81) }),
			is: ErrBadResponse, want: []string{"block 1", "value"}},
		{name: "index out of order", match: block("0x1"), mutate: firstTx(func(tx m) { tx["transactionIndex"] = "0x5" }),
			is: ErrBadResponse, want: []string{"block 1", "transactionIndex 5"}},
		{name: "timestamp overflow", match: block("0x1"), mutate: func(r any) any { r.(m)["timestamp"] = "0x1ffffffffffffffffff"; return r },
			is: ErrBadResponse, want: []string{"block 1", "timestamp"}},
		{name: "receipts missing", match: receiptsOf("0x1"), mutate: func(r any) any { return r.([]m)[:1] },
			is: ErrBadResponse, want: []string{"eth_getBlockReceipts", "block 1", "1 receipts for 3"}},
		{name: "receipt of another block", match: receiptsOf("0x1"),
			mutate: func(r any) any { r.([]m)[0]["blockHash"] = "0x" + strings.Repeat("ee", 32); return r },
			is:     ErrReorg, want: []string{"eth_getBlockReceipts", "block 1"}},
		{name: "receipt status 2", match: receiptsOf("0x1"),
			mutate: func(r any) any { r.([]m)[0]["status"] = "0x2"; return r },
			is:     ErrBadResponse, want: []string{"eth_getBlockReceipts", "block 1", "status"}},
		{name: "creation without address", match: method("eth_getBlockReceipts"),
			mutate: func(r any) any {
				for _, x := range r.([]m) {
					x["contractAddress"] = nil
				}
				return r
			},
			is: ErrBadResponse, want: []string{"block 3", "creates a contract"}},
		{name: "log from another fork", match: method("eth_getLogs"),
			mutate: func(r any) any { r.([]m)[0]["blockHash"] = "0x" + strings.Repeat("ee", 32); return r },
			is:     ErrReorg, want: []string{"eth_getLogs", "block 3"}},
		{name: "log outside range", match: method("eth_getLogs"),
			mutate: func(r any) any { r.([]m)[0]["blockNumber"] = "0x64"; return r },
			is:     ErrBadResponse, want: []string{"eth_getLogs", "block 100"}},
		{name: "log of another event", match: method("eth_getLogs"),
			mutate: func(r any) any { r.([]m)[0]["topics"] = []string{"0x" + strings.Repeat("12", 32)}; return r },
			is:     ErrBadResponse, want: []string{"eth_getLogs", "block 3", "topic 0"}},
		{name: "log data not hex", match: method("eth_getLogs"),
			mutate: func(r any) any { r.([]m)[0]["data"] = "0xzz"; return r },
			is:     ErrBadResponse, want: []string{"eth_getLogs", "block 3", "data"}},
		{name: "log tx index beyond block", match: method("eth_getLogs"),
			mutate: func(r any) any { r.([]m)[0]["transactionIndex"] = "0x9"; return r },
			is:     ErrBadResponse, want: []string{"eth_getLogs", "block 3", "index 9"}},
		{name: "transactions missing", match: block("0x1"), mutate: func(r any) any { delete(r.(m), "transactions"); return r },
			is: ErrBadResponse, want: []string{"eth_getBlockByNumber", "block 1", "transactions: missing"}},
		{name: "transactions null", match: block("0x1"), mutate: func(r any) any { r.(m)["transactions"] = nil; return r },
			is: ErrBadResponse, want: []string{"block 1", "transactions: missing"}},
		{name: "parent not the block before", match: block("0x2"), mutate: func(r any) any { r.(m)["parentHash"] = "0x" + strings.Repeat("aa", 32); return r },
			is: ErrReorg, want: []string{"block 2", "parent"}},
		{name: "parent hash missing", match: block("0x2"), mutate: func(r any) any { delete(r.(m), "parentHash"); return r },
			is: ErrBadResponse, want: []string{"block 2", "parentHash"}},
		{name: "log twice", match: method("eth_getLogs"), mutate: func(r any) any { return append(r.([]m), r.([]m)[0]) },
			is: ErrBadResponse, want: []string{"eth_getLogs", "block 3", "twice"}},
		{name: "log of a transaction not in the block", match: method("eth_getLogs"),
			mutate: func(r any) any { r.([]m)[0]["transactionHash"] = "0x" + strings.Repeat("cd", 32); return r },
			is:     ErrBadResponse, want: []string{"eth_getLogs", "block 3", "transaction"}},
		{name: "logs null", match: method("eth_getLogs"), raw: `{"jsonrpc":"2.0","id":%s,"result":null}`,
			is: ErrBadResponse, want: []string{"eth_getLogs", "blocks 0-4"}},
		{name: "node error", match: block("0x2"), raw: `{"jsonrpc":"2.0","id":%s,"error":{"code":-32000,"message":"missing trie node\nFAKE LOG LINE"}}`,
			want: []string{"eth_getBlockByNumber", "block 2", "-32000", "missing trie node"}},
		{name: "http 403", match: block("0x2"), raw: "forbidden", status: 403,
			want: []string{"eth_getBlockByNumber", "block 2", "HTTP 403"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := storyChain()
			f.hook = func(w http.ResponseWriter, req *fakeReq) bool {
				if tc.raw == "" || !tc.match(req) {
					return false
				}
				if tc.status != 0 {
					w.WriteHeader(tc.status)
				}
				body := tc.raw
				if strings.Contains(body, "%s") {
					body = fmt.Sprintf(body, req.ID)
				}
				fmt.Fprint(w, body)
				return true
			}
			if tc.mutate != nil {
				f.mutate = func(req *fakeReq, r any) any {
					if !tc.match(req) {
						return r
					}
					return tc.mutate(roundTrip(r))
				}
			}
			cfg := fastConfig(f.start(t))
			cfg.MaxResponseBytes = tc.limit
			cfg.StatePath = filepath.Join(t.TempDir(), "state")
			sink := &sliceSink{}
			_, err := mustLoader(t, cfg).Sync(context.Background(), sink)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.ContainsAny(err.Error(), "\n\x1b") {
				t.Errorf("error carries control characters: %q", err)
			}
			if len(sink.got) != 0 {
				t.Errorf("%d transfers emitted from a refused batch", len(sink.got))
			}
			if _, err := os.Stat(cfg.StatePath); err == nil {
				t.Error("state saved for a refused batch")
			}
		})
	}
}

// roundTrip turns the fake's typed result into generic JSON maps, so the
// mutators can edit any field.
func roundTrip(r any) any {
	data, _ := json.Marshal(r)
	var v any
	_ = json.Unmarshal(data, &v)
	switch x := v.(type) {
	case []any:
		out := make([]map[string]any, len(x))
		for i := range x {
			out[i] = x[i].(map[string]any)
		}
		return out
	case map[string]any:
		if txs, ok := x["transactions"].([]any); ok {
			out := make([]map[string]any, len(txs))
			for i := range txs {
				out[i] = txs[i].(map[string]any)
			}
			x["transactions"] = out
		}
		return x
	}
	return v
}

// TestLogsTooLargeSplit: our own size limit on eth_getLogs answers splits
// the range like a node's refusal does, down to one block.
func TestLogsTooLargeSplit(t *testing.T) {
	f := storyChain()
	// Each log answer is padded by 2 KiB per block in the range.
	f.mutate = func(req *fakeReq, r any) any {
		if req.Method != "eth_getLogs" {
			return r
		}
		var filter struct{ FromBlock, ToBlock string }
		_ = json.Unmarshal(req.Params[0], &filter)
		from, _ := parseQuantity(filter.FromBlock)
		to, _ := parseQuantity(filter.ToBlock)
		logs := roundTrip(r).([]map[string]any)
		pad := strings.Repeat(" ", int(to-from+1)*2048)
		return append(logs, map[string]any{"removed": true, "data": pad})
	}
	cfg := fastConfig(f.start(t))
	cfg.MaxResponseBytes = 6000
	sink := &sliceSink{}
	st, err := mustLoader(t, cfg).Sync(context.Background(), sink)
	if err != nil {
		t.Fatal(err)
	}
	equalTransfers(t, sink.got, storyWant())
	if st.LogSplits == 0 {
		t.Error("no split")
	}

	cfg.MaxResponseBytes = 2000 // even one block is too large now
	_, err = mustLoader(t, cfg).Sync(context.Background(), &sliceSink{})
	if !errors.Is(err, ErrResponseTooLarge) || !strings.Contains(err.Error(), "blocks 0-0") {
		t.Errorf("err = %v", err)
	}
}

func TestState(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.json")
	if _, ok, err := LoadState(path); ok || err != nil {
		t.Fatalf("missing file: ok %v err %v", ok, err)
	}
	want := State{ChainID: 1, Next: 19_000_000, Hash: "0x" + strings.Repeat("ab", 32)}
	if err := SaveState(path, want); err != nil {
		t.Fatal(err)
	}
	want.Version = stateVersion
	got, ok, err := LoadState(path)
	if err != nil || !ok || got != want {
		t.Fatalf("got %+v %v %v", got, ok, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	for name, body := range map[string]string{
		"not json":    "{",
		"old version": `{"version":0,"next_block":5}`,
		"bad hash":    `{"version":1,"next_block":5,"last_hash":"0x12"}`,
		"huge":        `{"version":1,"pad":"` + strings.Repeat("x", maxStateBytes) + `"}`,
	} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := LoadState(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v, want one naming the file", name, err)
		}
	}
	if err := SaveState(filepath.Join(dir, "missing", "s.json"), want); err == nil {
		t.Error("saving into a missing directory succeeded")
	}
}

func TestNewRejects(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("no URL accepted")
	}
	if _, err := New(Config{URL: "http://x", From: 10, To: 5}); err == nil {
		t.Error("To before From accepted")
	}
}

func FuzzParseBlock(f *testing.F) {
	good, _ := json.Marshal(storyChain().block(1))
	f.Add(good)
	f.Add([]byte(`{"number":"0x1","hash":"0x","transactions":[{"to":null}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var rb rpcBlock
		if json.Unmarshal(data, &rb) != nil {
			return
		}
		b, err := parseBlock(1, &rb)
		if err != nil {
			return
		}
		for _, v := range b.value {
			if v.amount.IsZero() || len(v.from) != 42 || (v.to != "" && len(v.to) != 42) || len(v.hash) != 66 {
				t.Fatalf("accepted bad transaction %+v", v)
			}
		}
	})
}

func FuzzParseLog(f *testing.F) {
	n := storyChain()
	n.calls = map[string]int{}
	logs, _ := n.answer("eth_getLogs", []json.RawMessage{json.RawMessage(`{"fromBlock":"0x3","toBlock":"0x3"}`)})
	for _, l := range logs.([]map[string]any) {
		data, _ := json.Marshal(l)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var rl rpcLog
		if json.Unmarshal(data, &rl) != nil {
			return
		}
		lg, err := parseLog(&rl)
		if err != nil || lg.kind != logERC20 {
			return
		}
		if lg.amount.IsZero() || len(lg.from) != 42 || len(lg.to) != 42 || len(lg.token) != 42 {
			t.Fatalf("accepted bad transfer %+v", lg)
		}
		if lg.from != strings.ToLower(lg.from) || lg.to != strings.ToLower(lg.to) {
			t.Fatalf("address not canonical: %+v", lg)
		}
	})
}

func FuzzParseQuantity(f *testing.F) {
	for _, s := range []string{"0x0", "0x1a", "0X00ff", "0x7fffffffffffffff", "0x8000000000000000", "0x", "1", "0xg"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseQuantity(s)
		if err != nil {
			return
		}
		if back, err := parseQuantity(quantity(v)); err != nil || back != v {
			t.Fatalf("%q → %d → %q → %d, %v", s, v, quantity(v), back, err)
		}
	})
}
