package ethrpc

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// The end-to-end test runs geth --dev (built by .ci/geth.sh, found through
// $BULWARK_GETH or PATH), stages a theft and its laundering on that chain
// with signed transactions, and ingests it over JSON-RPC with the loader.

// gethLogRange is passed as --rpc.rangelimit so that geth refuses wide
// eth_getLogs ranges and the loader's splitting runs against a real node.
const gethLogRange = 3

func gethBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("BULWARK_GETH"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("BULWARK_GETH=%s: %v", p, err)
		}
		return p
	}
	if p, err := exec.LookPath("geth"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no geth: set BULWARK_GETH (.ci/geth.sh builds it) or put geth on PATH")
	}
	t.Skip("no geth: set BULWARK_GETH=$(.ci/geth.sh) or put geth on PATH")
	return ""
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

// startGeth starts a dev node on loopback and returns its HTTP URL once it
// answers. The node is killed when the test ends.
func startGeth(t *testing.T, bin string) string {
	t.Helper()
	port := freePort(t)
	dir := t.TempDir()
	cmd := exec.Command(bin,
		"--dev", "--dev.period", "0",
		"--datadir", filepath.Join(dir, "data"),
		"--ipcdisable", "--nodiscover", "--maxpeers", "0", "--port", "0",
		"--authrpc.addr", "127.0.0.1", "--authrpc.port", strconv.Itoa(freePort(t)),
		"--http", "--http.addr", "127.0.0.1", "--http.port", strconv.Itoa(port),
		"--http.api", "eth,net,web3",
		"--rpc.rangelimit", strconv.Itoa(gethLogRange),
		"--verbosity", "2",
	)
	var logBuf syncBuffer
	cmd.Stdout = &logBuf
	cmd.Stderr = &logBuf
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting geth: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("geth output:\n%s", logBuf.String())
		}
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("geth exited: %v\n%s", err, logBuf.String())
		default:
		}
		body := `{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}`
		resp, err := http.Post(url, "application/json", strings.NewReader(body))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("geth did not answer on %s within 30 s\n%s", url, logBuf.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// stager sends transactions and records the transfers they should produce.
type stager struct {
	t       *testing.T
	ctx     context.Context
	rpc     *client
	chainID *big.Int
	dev     string
	nonces  map[common.Address]uint64
	want    []graph.Transfer
}

type receipt struct {
	Status          string  `json:"status"`
	BlockNumber     string  `json:"blockNumber"`
	ContractAddress *string `json:"contractAddress"`
	GasUsed         string  `json:"gasUsed"`
}

func newStager(t *testing.T, ctx context.Context, url string) *stager {
	s := &stager{t: t, ctx: ctx, nonces: map[common.Address]uint64{}}
	s.rpc = &client{url: url, http: http.DefaultClient, maxResponse: 1 << 20, attempts: 1,
		backoff: time.Millisecond, maxBackoff: time.Millisecond, timeout: 10 * time.Second, log: discard()}
	var id hexutil.Big
	s.call(&id, "eth_chainId")
	s.chainID = id.ToInt()
	var accounts []string
	s.call(&accounts, "eth_accounts")
	if len(accounts) == 0 {
		t.Fatal("geth --dev has no developer account")
	}
	s.dev = strings.ToLower(accounts[0])
	return s
}

func (s *stager) call(out any, method string, params ...any) {
	s.t.Helper()
	if _, err := s.rpc.call(s.ctx, method, out, params...); err != nil {
		s.t.Fatal(err)
	}
}

// wait polls for a receipt; with --dev.period 0 geth seals a block as soon
// as a transaction is pending.
func (s *stager) wait(hash string) receipt {
	s.t.Helper()
	for {
		var r receipt
		null, err := s.rpc.call(s.ctx, "eth_getTransactionReceipt", &r, hash)
		var re *RPCError
		switch {
		case errors.As(err, &re) && isTransient(re):
			// Right after start geth is still indexing.
		case err != nil:
			s.t.Fatal(err)
		case !null:
			return r
		}
		select {
		case <-s.ctx.Done():
			s.t.Fatalf("no receipt for %s: %v", hash, s.ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// fromDev sends from the node's unlocked developer account.
func (s *stager) fromDev(to *common.Address, value *big.Int, data []byte) (string, receipt) {
	s.t.Helper()
	tx := map[string]any{"from": s.dev, "value": (*hexutil.Big)(value), "gas": hexutil.Uint64(1_000_000)}
	if to != nil {
		tx["to"] = to.Hex()
	}
	if data != nil {
		tx["data"] = hexutil.Bytes(data)
	}
	var hash string
	s.call(&hash, "eth_sendTransaction", tx)
	return strings.ToLower(hash), s.wait(hash)
}

// send signs an EIP-1559 transaction with key and waits for its receipt.
func (s *stager) send(key *ecdsa.PrivateKey, to common.Address, value *big.Int, data []byte, gas uint64) (string, receipt) {
	s.t.Helper()
	from := crypto.PubkeyToAddress(key.PublicKey)
	tx := types.NewTx(&types.DynamicFeeTx{
		ChainID:   s.chainID,
		Nonce:     s.nonces[from],
		GasTipCap: big.NewInt(1e9),
		GasFeeCap: big.NewInt(20e9),
		Gas:       gas,
		To:        &to,
		Value:     value,
		Data:      data,
	})
	signed, err := types.SignTx(tx, types.LatestSignerForChainID(s.chainID), key)
	if err != nil {
		s.t.Fatal(err)
	}
	raw, err := signed.MarshalBinary()
	if err != nil {
		s.t.Fatal(err)
	}
	var hash string
	s.call(&hash, "eth_sendRawTransaction", hexutil.Bytes(raw))
	s.nonces[from]++
	return strings.ToLower(hash), s.wait(hash)
}

func (s *stager) expect(tx string, r receipt, from, to, asset string, amount *big.Int) {
	s.t.Helper()
	if r.Status != "0x1" {
		s.t.Fatalf("tx %s failed (status %s, gas used %s) but the story needs it", tx, r.Status, r.GasUsed)
	}
	n, err := parseQuantity(r.BlockNumber)
	if err != nil {
		s.t.Fatal(err)
	}
	a, err := graph.AmountFromBig(amount)
	if err != nil {
		s.t.Fatal(err)
	}
	s.want = append(s.want, graph.Transfer{Tx: tx, Block: n, From: low(from), To: low(to), Asset: low(asset), Amount: a})
}

func low(s string) string { return strings.ToLower(s) }

// party is a participant with its own key.
type party struct {
	key  *ecdsa.PrivateKey
	addr common.Address
}

func newParty(t *testing.T) party {
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return party{key: k, addr: crypto.PubkeyToAddress(k.PublicKey)}
}

func (p party) hex() string { return low(p.addr.Hex()) }

// milli returns n thousandths of an ether in wei.
func milli(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e15)) }

// usdt returns n whole units of a 6-decimal token.
func usdt(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e6)) }

type sliceSink struct{ got []graph.Transfer }

func (s *sliceSink) Add(tr graph.Transfer) error { s.got = append(s.got, tr); return nil }

func TestGethDevLaundering(t *testing.T) {
	bin := gethBinary(t)
	url := startGeth(t, bin)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	s := newStager(t, ctx, url)

	victim, thief, mule, exchange := newParty(t), newParty(t), newParty(t), newParty(t)
	split := []party{newParty(t), newParty(t), newParty(t)}
	hops := []party{split[2], newParty(t), newParty(t), newParty(t)} // peel chain
	peels := []party{newParty(t), newParty(t), newParty(t)}
	consol := newParty(t)
	// Generous: newer forks price the creation of a storage slot far above
	// the 20,000 gas of the Yellow Paper.
	const gasToken = 1_000_000

	// The victim's wallet: ether and a 6-decimal stablecoin. The token is
	// deployed with 1000 wei attached, a native transfer to an address only
	// the receipt names.
	supply := usdt(5_000_000)
	tx, r := s.fromDev(&victim.addr, milli(100_000), nil)
	s.expect(tx, r, s.dev, victim.hex(), "", milli(100_000))
	tx, r = s.fromDev(nil, big.NewInt(1000), tokenInit(supply))
	if r.ContractAddress == nil {
		t.Fatal("token deployment has no contract address")
	}
	token := common.HexToAddress(*r.ContractAddress)
	tok := low(token.Hex())
	s.expect(tx, r, s.dev, tok, "", big.NewInt(1000))
	s.expect(tx, r, "0x0000000000000000000000000000000000000000", s.dev, tok, supply) // mint
	tx, r = s.fromDev(&token, new(big.Int), callData(selTransfer, victim.addr[:], usdt(2_500_000).Bytes()))
	s.expect(tx, r, s.dev, victim.hex(), tok, usdt(2_500_000))

	// The theft.
	tx, r = s.send(victim.key, thief.addr, milli(99_500), nil, 21_000)
	s.expect(tx, r, victim.hex(), thief.hex(), "", milli(99_500))
	tx, r = s.send(victim.key, token, new(big.Int), callData(selTransfer, thief.addr[:], usdt(2_500_000).Bytes()), gasToken)
	s.expect(tx, r, victim.hex(), thief.hex(), tok, usdt(2_500_000))

	// Split across three fresh addresses.
	for i, v := range []int64{30_000, 30_000, 39_000} {
		tx, r = s.send(thief.key, split[i].addr, milli(v), nil, 21_000)
		s.expect(tx, r, thief.hex(), split[i].hex(), "", milli(v))
	}

	// Peel chain from the third: each hop peels 1 ether off to a fresh
	// address and passes the rest on, keeping 0.1 ether for gas.
	have := int64(39_000)
	for i := range peels {
		tx, r = s.send(hops[i].key, peels[i].addr, milli(1_000), nil, 21_000)
		s.expect(tx, r, hops[i].hex(), peels[i].hex(), "", milli(1_000))
		have -= 1_100
		tx, r = s.send(hops[i].key, hops[i+1].addr, milli(have), nil, 21_000)
		s.expect(tx, r, hops[i].hex(), hops[i+1].hex(), "", milli(have))
	}

	// Consolidation.
	for _, p := range []party{split[0], split[1], hops[3]} {
		v := int64(29_900)
		if p == hops[3] {
			v = have - 100
		}
		tx, r = s.send(p.key, consol.addr, milli(v), nil, 21_000)
		s.expect(tx, r, p.hex(), consol.hex(), "", milli(v))
	}

	// The ERC-20 leg: the thief funds a mule with gas, the mule moves the
	// stolen stablecoins to the exchange.
	tx, r = s.send(thief.key, mule.addr, milli(100), nil, 21_000)
	s.expect(tx, r, thief.hex(), mule.hex(), "", milli(100))
	tx, r = s.send(thief.key, token, new(big.Int), callData(selTransfer, mule.addr[:], usdt(2_500_000).Bytes()), gasToken)
	s.expect(tx, r, thief.hex(), mule.hex(), tok, usdt(2_500_000))
	tx, r = s.send(mule.key, token, new(big.Int), callData(selTransfer, exchange.addr[:], usdt(2_500_000).Bytes()), gasToken)
	s.expect(tx, r, mule.hex(), exchange.hex(), tok, usdt(2_500_000))

	// Noise that must not become transfers: ether sent to the token
	// reverts; a zero-value payment; a token transfer beyond the balance
	// reverts; an ERC-721-shaped Transfer; a zero-amount ERC-20 Transfer.
	_, r = s.send(thief.key, token, milli(200), nil, gasToken)
	if r.Status != "0x0" {
		t.Fatalf("ether sent to the token should revert, status %s", r.Status)
	}
	_, r = s.send(thief.key, split[0].addr, new(big.Int), nil, 21_000)
	if r.Status != "0x1" {
		t.Fatalf("zero-value payment failed")
	}
	_, r = s.send(mule.key, token, new(big.Int), callData(selTransfer, exchange.addr[:], usdt(1).Bytes()), gasToken)
	if r.Status != "0x0" {
		t.Fatalf("overdrawn token transfer should revert, status %s", r.Status)
	}
	_, r = s.send(thief.key, token, new(big.Int), callData(selTransferFrom, thief.addr[:], exchange.addr[:], big.NewInt(7).Bytes()), gasToken)
	if r.Status != "0x1" {
		t.Fatalf("ERC-721-shaped transfer failed")
	}
	_, r = s.send(thief.key, token, new(big.Int), callData(selTransfer, victim.addr[:], nil), gasToken)
	if r.Status != "0x1" {
		t.Fatalf("zero-amount token transfer failed")
	}

	// The deposit at the exchange.
	tx, r = s.send(consol.key, exchange.addr, milli(95_000), nil, 21_000)
	s.expect(tx, r, consol.hex(), exchange.hex(), "", milli(95_000))

	var head string
	s.call(&head, "eth_blockNumber")
	headN, _ := parseQuantity(head)
	t.Logf("staged %d transfers in %d blocks", len(s.want), headN)

	// First run: three confirmations leave the last three blocks unread.
	state := filepath.Join(t.TempDir(), "eth.state")
	sink := &sliceSink{}
	st1 := syncWith(t, ctx, Config{URL: url, StatePath: state, Confirmations: 3, BatchSize: 8}, sink)
	if st1.From != 0 || st1.To != headN-3 {
		t.Errorf("first run read %d-%d, want 0-%d", st1.From, st1.To, headN-3)
	}
	if st1.LogSplits == 0 {
		t.Errorf("geth limits eth_getLogs to %d blocks, batches are 8: expected splits", gethLogRange+1)
	}
	saved, _, err := LoadState(state)
	if err != nil || saved.Next != headN-2 || saved.ChainID != s.chainID.Uint64() {
		t.Fatalf("state after first run: %+v, %v; want next %d, chain %d", saved, err, headN-2, s.chainID)
	}

	// Second run: no confirmations, continues from the saved height.
	n1 := len(sink.got)
	st2 := syncWith(t, ctx, Config{URL: url, StatePath: state, Confirmations: -1, BatchSize: 8}, sink)
	if st2.From != headN-2 || st2.To != headN || st2.Blocks != 3 {
		t.Errorf("second run read %d-%d (%d blocks), want %d-%d", st2.From, st2.To, st2.Blocks, headN-2, headN)
	}
	for _, tr := range sink.got[n1:] {
		if tr.Block < headN-2 {
			t.Errorf("second run re-read block %d: %+v", tr.Block, tr)
		}
	}
	total := Stats{Failed: st1.Failed + st2.Failed, NonFungible: st1.NonFungible + st2.NonFungible,
		ZeroAmount: st1.ZeroAmount + st2.ZeroAmount, Malformed: st1.Malformed + st2.Malformed}
	if total.Failed != 1 || total.NonFungible != 1 || total.ZeroAmount != 1 || total.Malformed != 0 {
		t.Errorf("skipped: failed %d, ERC-721 %d, zero %d, malformed %d; want 1, 1, 1, 0",
			total.Failed, total.NonFungible, total.ZeroAmount, total.Malformed)
	}
	checkTransfers(t, ctx, s, sink.got, s.want)

	// A third run with nothing new reads nothing.
	st3 := syncWith(t, ctx, Config{URL: url, StatePath: state, Confirmations: -1}, &sliceSink{})
	if st3.Blocks != 0 || st3.Native+st3.Token != 0 {
		t.Errorf("idle run: %+v", st3)
	}

	// New blocks: the exchange sweeps the deposit to its hot wallet. They
	// are read through a proxy that hides eth_getBlockReceipts (older
	// nodes and some providers lack it) and answers the first calls with
	// 503 and 429, so the fallback and the retries run on real data.
	s.want = nil
	hot := newParty(t)
	tx, r = s.send(exchange.key, hot.addr, milli(94_000), nil, 21_000)
	s.expect(tx, r, exchange.hex(), hot.hex(), "", milli(94_000))
	tx, r = s.send(exchange.key, token, new(big.Int), callData(selTransfer, hot.addr[:], usdt(2_500_000).Bytes()), gasToken)
	s.expect(tx, r, exchange.hex(), hot.hex(), tok, usdt(2_500_000))
	px := newFaultyProxy(t, url)
	sink4 := &sliceSink{}
	st4 := syncWith(t, ctx, Config{URL: px.URL, StatePath: state, Confirmations: -1, RetryBase: time.Millisecond}, sink4)
	if st4.From != headN+1 || st4.Blocks != 2 {
		t.Errorf("incremental run read %d-%d (%d blocks), want %d-%d", st4.From, st4.To, st4.Blocks, headN+1, headN+2)
	}
	checkTransfers(t, ctx, s, sink4.got, s.want)
	if px.perTx.Load() == 0 || px.faults.Load() < 2 {
		t.Errorf("proxy saw %d eth_getTransactionReceipt calls and injected %d faults", px.perTx.Load(), px.faults.Load())
	}

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
func checkTransfers(t *testing.T, ctx context.Context, s *stager, got, want []graph.Transfer) {
	t.Helper()
	key := func(tr graph.Transfer) string {
		return fmt.Sprintf("%s@%d %s→%s %s %s", tr.Tx, tr.Block, tr.From, tr.To, tr.Asset, tr.Amount)
	}
	var g, w []string
	times := map[uint64]int64{}
	for _, tr := range got {
		g = append(g, key(tr))
		if _, ok := times[tr.Block]; !ok {
			var b struct {
				Timestamp hexutil.Uint64 `json:"timestamp"`
			}
			s.call(&b, "eth_getBlockByNumber", quantity(tr.Block), false)
			times[tr.Block] = int64(b.Timestamp)
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
