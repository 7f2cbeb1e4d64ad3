package ethrpc

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeNode is an in-memory chain served over JSON-RPC, for the unit tests
// of error handling that a real node cannot be made to produce. The
// end-to-end behaviour is tested against geth in geth_test.go.
type fakeNode struct {
	mu              sync.Mutex
	chainID         uint64
	blocks          []fakeBlock
	maxRange        uint64 // eth_getLogs refuses wider ranges when > 0
	rangeMsg        string
	noBlockReceipts bool
	// hook may answer a call itself (return true); it sees every call.
	hook func(w http.ResponseWriter, req *fakeReq) bool
	// mutate may change an honest result before it is sent.
	mutate func(req *fakeReq, result any) any
	// salt changes every block hash, as a reorganisation would.
	salt  uint64
	calls map[string]int
}

type fakeBlock struct {
	txs  []fakeTx
	logs []fakeLog
}

type fakeTx struct {
	from, to string // to "" is a contract creation
	value    string // 0x quantity
	failed   bool
	created  string // contract address of a creation
}

type fakeLog struct {
	tx      int
	address string
	topics  []string
	data    string
}

type fakeReq struct {
	ID     json.RawMessage   `json:"id"`
	Method string            `json:"method"`
	Params []json.RawMessage `json:"params"`
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func (f *fakeNode) hash(n uint64) string { return fmt.Sprintf("0x%064x", f.salt<<32|(0xb10c0000+n)) }
func txHash(n uint64, i int) string {
	return fmt.Sprintf("0x%064x", (0x7000000+n)<<16|uint64(i))
}

func (f *fakeNode) start(t *testing.T) string {
	f.calls = map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (f *fakeNode) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

func (f *fakeNode) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req fakeReq
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.calls[req.Method]++
	hook := f.hook
	f.mu.Unlock()
	if hook != nil && hook(w, &req) {
		return
	}
	result, rpcErr := f.answer(req.Method, req.Params)
	if f.mutate != nil && rpcErr == "" {
		result = f.mutate(&req, result)
	}
	w.Header().Set("Content-Type", "application/json")
	if rpcErr != "" {
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":%s}`, req.ID, rpcErr)
		return
	}
	out, _ := json.Marshal(result)
	fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":%s}`, req.ID, out)
}

func (f *fakeNode) answer(method string, params []json.RawMessage) (any, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	head := uint64(len(f.blocks) - 1)
	num := func(i int) (uint64, bool) {
		if len(params) <= i {
			return 0, false
		}
		var s string
		if json.Unmarshal(params[i], &s) != nil {
			return 0, false
		}
		n, err := parseQuantity(s)
		return n, err == nil && n <= head
	}
	switch method {
	case "eth_chainId":
		return quantity(f.chainID), ""
	case "eth_blockNumber":
		return quantity(head), ""
	case "eth_getBlockByNumber":
		n, ok := num(0)
		if !ok {
			return nil, ""
		}
		return f.block(n), ""
	case "eth_getBlockReceipts":
		if f.noBlockReceipts {
			return nil, `{"code":-32601,"message":"the method eth_getBlockReceipts does not exist/is not available"}`
		}
		n, ok := num(0)
		if !ok {
			return nil, ""
		}
		var rs []map[string]any
		for i := range f.blocks[n].txs {
			rs = append(rs, f.receipt(n, i))
		}
		return rs, ""
	case "eth_getTransactionReceipt":
		var h string
		_ = json.Unmarshal(params[0], &h)
		for n := range f.blocks {
			for i := range f.blocks[n].txs {
				if txHash(uint64(n), i) == h {
					return f.receipt(uint64(n), i), ""
				}
			}
		}
		return nil, ""
	case "eth_getLogs":
		var filter struct {
			FromBlock, ToBlock string
			Topics             []string
		}
		if err := json.Unmarshal(params[0], &filter); err != nil {
			return nil, `{"code":-32602,"message":"bad filter"}`
		}
		from, _ := parseQuantity(filter.FromBlock)
		to, _ := parseQuantity(filter.ToBlock)
		if f.maxRange > 0 && to-from+1 > f.maxRange {
			msg := f.rangeMsg
			if msg == "" {
				msg = fmt.Sprintf("exceed maximum block range %d", f.maxRange)
			}
			return nil, fmt.Sprintf(`{"code":-32602,"message":%q}`, msg)
		}
		logs := []map[string]any{}
		for n := from; n <= to && n <= head; n++ {
			for li, l := range f.blocks[n].logs {
				if f.blocks[n].txs[l.tx].failed {
					continue
				}
				logs = append(logs, map[string]any{
					"address": l.address, "topics": l.topics, "data": l.data,
					"blockNumber": quantity(n), "blockHash": f.hash(n),
					"transactionHash": txHash(n, l.tx), "transactionIndex": quantity(uint64(l.tx)),
					"logIndex": quantity(uint64(li)), "removed": false,
				})
			}
		}
		return logs, ""
	}
	return nil, fmt.Sprintf(`{"code":-32601,"message":"the method %s does not exist/is not available"}`, method)
}

func (f *fakeNode) block(n uint64) map[string]any {
	var txs []map[string]any
	for i, tx := range f.blocks[n].txs {
		m := map[string]any{
			"hash": txHash(n, i), "from": tx.from, "value": tx.value,
			"transactionIndex": quantity(uint64(i)), "to": nil,
		}
		if tx.to != "" {
			m["to"] = tx.to
		}
		txs = append(txs, m)
	}
	if txs == nil {
		txs = []map[string]any{}
	}
	return map[string]any{
		"number": quantity(n), "hash": f.hash(n), "parentHash": f.hash(n - 1),
		"timestamp": quantity(1_700_000_000 + 12*n), "transactions": txs,
	}
}

func (f *fakeNode) receipt(n uint64, i int) map[string]any {
	tx := f.blocks[n].txs[i]
	status := "0x1"
	if tx.failed {
		status = "0x0"
	}
	var created any
	if tx.to == "" {
		created = tx.created
	}
	return map[string]any{
		"transactionHash": txHash(n, i), "transactionIndex": quantity(uint64(i)),
		"blockHash": f.hash(n), "blockNumber": quantity(n), "status": status,
		"contractAddress": created,
	}
}

// Addresses used by the fake chains.
var (
	addrA   = "0x" + strings.Repeat("a1", 20)
	addrB   = "0x" + strings.Repeat("b2", 20)
	addrC   = "0x" + strings.Repeat("c3", 20)
	tokenT  = "0x" + strings.Repeat("7e", 20)
	newCon  = "0x" + strings.Repeat("99", 20)
	zeroPad = strings.Repeat("0", 24)
)

func topicOf(addr string) string { return "0x" + zeroPad + strings.ToLower(addr[2:]) }

func word(v uint64) string { return fmt.Sprintf("0x%064x", v) }

// erc20 returns a Transfer log of tx moving amount from → to.
func erc20(tx int, from, to string, amount uint64) fakeLog {
	return fakeLog{tx: tx, address: tokenT, topics: []string{TransferTopic, topicOf(from), topicOf(to)}, data: word(amount)}
}
