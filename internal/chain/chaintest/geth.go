package chaintest

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// GethOptions tune the dev node.
type GethOptions struct {
	// LogRange is passed as --rpc.rangelimit, so that geth refuses wider
	// eth_getLogs ranges and a loader's splitting runs against a real
	// node; 0 keeps geth's default (no limit).
	LogRange int
}

// StartGeth starts geth --dev on loopback, sealing a block as soon as a
// transaction is pending, and returns its HTTP JSON-RPC URL once it
// answers. The node is stopped when the test ends, and its output logged
// if the test failed.
func StartGeth(t testing.TB, bin string, opt GethOptions) string {
	t.Helper()
	var url string
	startWithRetry(t, "geth", func() (*process, func() error) {
		dir := t.TempDir()
		port := freePort(t)
		args := []string{
			"--dev", "--dev.period", "0",
			"--datadir", filepath.Join(dir, "data"),
			"--ipcdisable", "--nodiscover", "--maxpeers", "0", "--port", "0",
			"--authrpc.addr", "127.0.0.1", "--authrpc.port", strconv.Itoa(freePort(t)),
			"--http", "--http.addr", "127.0.0.1", "--http.port", strconv.Itoa(port),
			"--http.api", "eth,net,web3,debug", // debug: internal transfers
			"--verbosity", "2",
		}
		if opt.LogRange > 0 {
			args = append(args, "--rpc.rangelimit", strconv.Itoa(opt.LogRange))
		}
		p := start(t, exec.Command(bin, args...))
		url = fmt.Sprintf("http://127.0.0.1:%d", port)
		c := &rpcClient{url: url, version: "2.0", hc: loopbackClient()}
		return p, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, err := c.call(ctx, "eth_chainId", nil)
			return err
		}
	})
	return url
}

// Party is a participant of the story with its own key.
type Party struct {
	Key  *ecdsa.PrivateKey
	Addr common.Address
}

// NewParty makes a fresh key.
func NewParty(t testing.TB) Party {
	t.Helper()
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return Party{Key: k, Addr: crypto.PubkeyToAddress(k.PublicKey)}
}

// Hex is the canonical (lower-case) address, as loaders report it.
func (p Party) Hex() string { return lower(p.Addr.Hex()) }

// Milli returns n thousandths of an ether in wei.
func Milli(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e15)) }

// USDT returns n whole units of a 6-decimal token.
func USDT(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e6)) }

// Receipt is the part of a transaction receipt the staging reads.
type Receipt struct {
	Status          string  `json:"status"`
	BlockNumber     string  `json:"blockNumber"`
	ContractAddress *string `json:"contractAddress"`
	GasUsed         string  `json:"gasUsed"`
}

// EthStager sends transactions to a dev node and records the transfers
// they should produce.
type EthStager struct {
	t       testing.TB
	ctx     context.Context
	rpc     *rpcClient
	ChainID *big.Int
	Dev     string // the node's unlocked developer account, lower case
	nonces  map[common.Address]uint64
	// Want lists the transfers the staged transactions must produce, in
	// the order they were sent.
	Want []graph.Transfer
}

// NewEthStager connects to the dev node at url.
func NewEthStager(t testing.TB, ctx context.Context, url string) *EthStager {
	t.Helper()
	s := &EthStager{t: t, ctx: ctx, nonces: map[common.Address]uint64{},
		rpc: &rpcClient{url: url, version: "2.0", hc: loopbackClient()}}
	var id hexutil.Big
	s.Call(&id, "eth_chainId")
	s.ChainID = id.ToInt()
	var accounts []string
	s.Call(&accounts, "eth_accounts")
	if len(accounts) == 0 {
		t.Fatal("geth --dev has no developer account")
	}
	s.Dev = lower(accounts[0])
	return s
}

// Call makes one JSON-RPC call, failing the test on error.
func (s *EthStager) Call(out any, method string, params ...any) {
	s.t.Helper()
	if _, err := s.rpc.call(s.ctx, method, out, params...); err != nil {
		s.t.Fatal(err)
	}
}

// Head returns the node's latest block number.
func (s *EthStager) Head() uint64 {
	s.t.Helper()
	var h hexutil.Uint64
	s.Call(&h, "eth_blockNumber")
	return uint64(h)
}

// BlockTime returns the timestamp of block n.
func (s *EthStager) BlockTime(n uint64) int64 {
	s.t.Helper()
	var b struct {
		Timestamp hexutil.Uint64 `json:"timestamp"`
	}
	s.Call(&b, "eth_getBlockByNumber", hexutil.Uint64(n).String(), false)
	return int64(b.Timestamp)
}

// Wait polls for a receipt; with --dev.period 0 geth seals a block as soon
// as a transaction is pending.
func (s *EthStager) Wait(hash string) Receipt {
	s.t.Helper()
	for {
		var r Receipt
		null, err := s.rpc.call(s.ctx, "eth_getTransactionReceipt", &r, hash)
		var re *RPCError
		switch {
		case errors.As(err, &re) && strings.Contains(strings.ToLower(re.Message), "indexing"):
			// Right after start geth is still indexing transactions.
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

// FromDev sends from the developer account, which the node signs for.
func (s *EthStager) FromDev(to *common.Address, value *big.Int, data []byte) (string, Receipt) {
	s.t.Helper()
	tx := map[string]any{"from": s.Dev, "value": (*hexutil.Big)(value), "gas": hexutil.Uint64(1_000_000)}
	if to != nil {
		tx["to"] = to.Hex()
	}
	if data != nil {
		tx["data"] = hexutil.Bytes(data)
	}
	var hash string
	s.Call(&hash, "eth_sendTransaction", tx)
	return lower(hash), s.Wait(hash)
}

// Send signs an EIP-1559 transaction with key and waits for its receipt.
func (s *EthStager) Send(key *ecdsa.PrivateKey, to common.Address, value *big.Int, data []byte, gas uint64) (string, Receipt) {
	s.t.Helper()
	from := crypto.PubkeyToAddress(key.PublicKey)
	tx := types.NewTx(&types.DynamicFeeTx{
		ChainID:   s.ChainID,
		Nonce:     s.nonces[from],
		GasTipCap: big.NewInt(1e9),
		GasFeeCap: big.NewInt(20e9),
		Gas:       gas,
		To:        &to,
		Value:     value,
		Data:      data,
	})
	signed, err := types.SignTx(tx, types.LatestSignerForChainID(s.ChainID), key)
	if err != nil {
		s.t.Fatal(err)
	}
	raw, err := signed.MarshalBinary()
	if err != nil {
		s.t.Fatal(err)
	}
	// geth's transaction pool adopts a new head a moment after the block
	// is sealed and its receipts are served, so a transaction spending
	// funds that just arrived can be refused as unfunded: retry briefly.
	var hash string
	for attempt := 0; ; attempt++ {
		_, err := s.rpc.call(s.ctx, "eth_sendRawTransaction", &hash, hexutil.Bytes(raw))
		var re *RPCError
		if err == nil {
			break
		}
		if !errors.As(err, &re) || !strings.Contains(re.Message, "insufficient funds") || attempt == 200 {
			s.t.Fatalf("eth_sendRawTransaction: %v", err)
		}
		select {
		case <-s.ctx.Done():
			s.t.Fatal(s.ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	s.nonces[from]++
	return lower(hash), s.Wait(hash)
}

// Expect records a transfer the loader must report for tx, which must have
// succeeded.
func (s *EthStager) Expect(tx string, r Receipt, from, to, asset string, amount *big.Int) {
	s.t.Helper()
	if r.Status != "0x1" {
		s.t.Fatalf("tx %s failed (status %s, gas used %s) but the story needs it", tx, r.Status, r.GasUsed)
	}
	n, err := hexutil.DecodeUint64(r.BlockNumber)
	if err != nil {
		s.t.Fatalf("receipt of %s: block %q: %v", tx, r.BlockNumber, err)
	}
	a, err := graph.AmountFromBig(amount)
	if err != nil {
		s.t.Fatal(err)
	}
	s.Want = append(s.Want, graph.Transfer{Tx: tx, Block: n, From: lower(from), To: lower(to), Asset: lower(asset), Amount: a})
}

// pay sends value from p to the party and expects the transfer.
func (s *EthStager) pay(from, to Party, milli int64) string {
	s.t.Helper()
	tx, r := s.Send(from.Key, to.Addr, Milli(milli), nil, 21_000)
	s.Expect(tx, r, from.Hex(), to.Hex(), "", Milli(milli))
	return tx
}

// payToken moves n whole token units from p to the party and expects the
// transfer.
func (s *EthStager) payToken(token common.Address, from, to Party, n int64) string {
	s.t.Helper()
	tx, r := s.Send(from.Key, token, new(big.Int), TokenTransfer(to.Addr, USDT(n)), TokenGas)
	s.Expect(tx, r, from.Hex(), to.Hex(), lower(token.Hex()), USDT(n))
	return tx
}
