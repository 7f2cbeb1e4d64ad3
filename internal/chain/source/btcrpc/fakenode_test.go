package btcrpc

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeNode serves a small hand-made chain over JSON-RPC in the shapes of
// Bitcoin Core and btcd, so that the loader's handling of verbosities,
// failures and restarts can be tested without a node. (The end-to-end test
// runs the real btcd.)
type fakeNode struct {
	t     testing.TB
	srv   *httptest.Server
	chain string
	style string // "core" (tx, prevout at verbosity 3) or "btcd" (rawtx, float values, no prevout)
	// maxVerbosity refuses higher getblock verbosities with error -8.
	maxVerbosity int
	user, pass   string

	mu     sync.Mutex
	blocks []*fakeBlock
	txs    map[string]*fakeTx
	calls  map[string]int
	// fail, when set, may answer a request instead of the node; "$ID" in
	// its body becomes the request's id.
	fail func(method string, params []json.RawMessage) (status int, body string, header http.Header, ok bool)
}

type fakeBlock struct {
	hash, prev string
	height     int
	time       int64
	txs        []*fakeTx
}

type fakeTx struct {
	txid string
	ins  []fakeIn
	outs []fakeOut
}

type fakeIn struct {
	coinbase bool
	txid     string
	vout     uint32
}

type fakeOut struct {
	sat    uint64
	script string
}

func newFakeNode(t testing.TB, chain, style string) *fakeNode {
	n := &fakeNode{t: t, chain: chain, style: style, maxVerbosity: 3, txs: map[string]*fakeTx{}, calls: map[string]int{}}
	n.srv = httptest.NewServer(http.HandlerFunc(n.serve))
	t.Cleanup(n.srv.Close)
	return n
}

func fakeHash(parts ...any) string {
	sum := sha256.Sum256([]byte(fmt.Sprint(parts...)))
	return hex.EncodeToString(sum[:])
}

// addBlock appends a block holding txs (a coinbase is put first).
func (n *fakeNode) addBlock(salt string, txs ...*fakeTx) *fakeBlock {
	n.mu.Lock()
	defer n.mu.Unlock()
	h := len(n.blocks)
	b := &fakeBlock{height: h, time: 1_231_006_505 + int64(h)*600, hash: fakeHash("block", h, salt)}
	if h > 0 {
		b.prev = n.blocks[h-1].hash
	}
	cb := &fakeTx{txid: fakeHash("coinbase", h, salt), ins: []fakeIn{{coinbase: true}}, outs: []fakeOut{{5_000_000_000, scriptP2WPKH}}}
	b.txs = append([]*fakeTx{cb}, txs...)
	for _, tx := range b.txs {
		n.txs[tx.txid] = tx
	}
	n.blocks = append(n.blocks, b)
	return b
}

// truncate drops blocks from height h on (a reorganisation).
func (n *fakeNode) truncate(h int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.blocks = n.blocks[:h]
}

func (n *fakeNode) count(method string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.calls[method]
}

type fakeRequest struct {
	ID     json.RawMessage   `json:"id"`
	Method string            `json:"method"`
	Params []json.RawMessage `json:"params"`
}

func (n *fakeNode) serve(w http.ResponseWriter, r *http.Request) {
	if n.user != "" {
		u, p, ok := r.BasicAuth()
		if !ok || u != n.user || p != n.pass {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	}
	body, _ := io.ReadAll(r.Body)
	var req fakeRequest
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	n.mu.Lock()
	n.calls[req.Method]++
	fail := n.fail
	n.mu.Unlock()
	if fail != nil {
		if status, body, hdr, ok := fail(req.Method, req.Params); ok {
			if status < 0 {
				// Drop the connection without an answer.
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					conn.Close()
				}
				return
			}
			for k, v := range hdr {
				w.Header()[k] = v
			}
			w.WriteHeader(status)
			io.WriteString(w, strings.ReplaceAll(body, "$ID", string(req.ID)))
			return
		}
	}
	result, code, msg := n.answer(req.Method, req.Params)
	resp := map[string]any{"id": req.ID, "result": result, "error": nil}
	status := http.StatusOK
	if code != 0 {
		resp["result"] = nil
		resp["error"] = map[string]any{"code": code, "message": msg}
		if n.style == "core" {
			status = http.StatusInternalServerError // as Core does for JSON-RPC 1.0
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(resp)
}

func (n *fakeNode) answer(method string, params []json.RawMessage) (any, int, string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch method {
	case "getblockchaininfo":
		return map[string]any{"chain": n.chain, "blocks": len(n.blocks) - 1}, 0, ""
	case "getblockcount":
		return len(n.blocks) - 1, 0, ""
	case "getblockhash":
		var h int
		if len(params) != 1 || json.Unmarshal(params[0], &h) != nil {
			return nil, -32602, "bad params"
		}
		if h < 0 || h >= len(n.blocks) {
			return nil, -8, "Block height out of range"
		}
		return n.blocks[h].hash, 0, ""
	case "getblock":
		var hash string
		verbosity := 1
		if len(params) < 1 || json.Unmarshal(params[0], &hash) != nil {
			return nil, -32602, "bad params"
		}
		if len(params) > 1 && json.Unmarshal(params[1], &verbosity) != nil {
			return nil, -3, "Expected type number"
		}
		if verbosity > n.maxVerbosity {
			return nil, -8, "Invalid verbosity"
		}
		for _, b := range n.blocks {
			if b.hash == hash {
				return n.renderBlock(b, verbosity), 0, ""
			}
		}
		return nil, -5, "Block not found"
	case "getrawtransaction":
		var txid string
		if len(params) < 1 || json.Unmarshal(params[0], &txid) != nil {
			return nil, -32602, "bad params"
		}
		tx, ok := n.txs[txid]
		if !ok {
			return nil, -5, "No such mempool or blockchain transaction"
		}
		return n.renderTx(tx, false), 0, ""
	}
	return nil, -32601, "Method not found"
}

func (n *fakeNode) renderBlock(b *fakeBlock, verbosity int) map[string]any {
	m := map[string]any{"hash": b.hash, "height": b.height, "time": b.time, "confirmations": len(n.blocks) - b.height}
	if b.prev != "" {
		m["previousblockhash"] = b.prev
	}
	if verbosity <= 1 {
		ids := make([]string, len(b.txs))
		for i, tx := range b.txs {
			ids[i] = tx.txid
		}
		m["tx"] = ids
		return m
	}
	txs := make([]any, len(b.txs))
	for i, tx := range b.txs {
		txs[i] = n.renderTx(tx, verbosity >= 3 && n.style == "core")
	}
	if n.style == "btcd" {
		m["rawtx"] = txs
	} else {
		m["tx"] = txs
	}
	return m
}

func (n *fakeNode) renderTx(tx *fakeTx, prevouts bool) map[string]any {
	vin := make([]any, len(tx.ins))
	for i, in := range tx.ins {
		if in.coinbase {
			vin[i] = map[string]any{"coinbase": "03" + tx.txid[:6], "sequence": 4294967295}
			continue
		}
		v := map[string]any{"txid": in.txid, "vout": in.vout, "scriptSig": map[string]any{"hex": ""}}
		if prevouts {
			o := n.txs[in.txid].outs[in.vout]
			v["prevout"] = map[string]any{"generated": false, "height": 0, "value": n.value(o.sat), "scriptPubKey": map[string]any{"hex": o.script}}
		}
		vin[i] = v
	}
	vout := make([]any, len(tx.outs))
	for i, o := range tx.outs {
		vout[i] = map[string]any{"value": n.value(o.sat), "n": i, "scriptPubKey": map[string]any{"hex": o.script, "type": "x"}}
	}
	return map[string]any{"txid": tx.txid, "hash": tx.txid, "vin": vin, "vout": vout}
}

// value prints an amount as the node would: Core with 8 decimals, btcd as
// a float64 in shortest form.
func (n *fakeNode) value(sat uint64) json.RawMessage {
	if n.style == "btcd" {
		b, _ := json.Marshal(float64(sat) / 1e8)
		return b
	}
	return json.RawMessage(fmt.Sprintf("%d.%08d", sat/100_000_000, sat%100_000_000))
}
