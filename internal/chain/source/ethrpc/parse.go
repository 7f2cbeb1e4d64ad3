package ethrpc

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/chain/address"
	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// TransferTopic is topic 0 of the ERC-20 and ERC-721 event
// Transfer(address,address,uint256): Keccak-256 of that signature. ERC-20
// indexes from and to (three topics, amount in data); ERC-721 also indexes
// the token id (four topics), which is not an amount and is skipped.
const TransferTopic = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"

// The JSON shapes below hold what the node sends as strings; every field is
// checked by the parse functions, which name the method, block and field.

type rpcBlock struct {
	Number       string   `json:"number"`
	Hash         string   `json:"hash"`
	ParentHash   string   `json:"parentHash"`
	Timestamp    string   `json:"timestamp"`
	Transactions *[]rpcTx `json:"transactions"` // nil when the node left it out
}

type rpcTx struct {
	Hash             string  `json:"hash"`
	From             string  `json:"from"`
	To               *string `json:"to"` // null for contract creation
	Value            string  `json:"value"`
	TransactionIndex string  `json:"transactionIndex"`
}

type rpcReceipt struct {
	TransactionHash  string  `json:"transactionHash"`
	TransactionIndex string  `json:"transactionIndex"`
	BlockHash        string  `json:"blockHash"`
	Status           *string `json:"status"` // absent before Byzantium
	ContractAddress  *string `json:"contractAddress"`
}

type rpcLog struct {
	Address          string   `json:"address"`
	Topics           []string `json:"topics"`
	Data             string   `json:"data"`
	BlockNumber      string   `json:"blockNumber"`
	BlockHash        string   `json:"blockHash"`
	TransactionHash  string   `json:"transactionHash"`
	TransactionIndex string   `json:"transactionIndex"`
	LogIndex         string   `json:"logIndex"`
	Removed          bool     `json:"removed"`
}

// parseQuantity reads a JSON-RPC QUANTITY ("0x1a") that must fit in 63 bits,
// so that it converts to int64 timestamps and indices without overflow.
func parseQuantity(s string) (uint64, error) {
	if len(s) < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return 0, fmt.Errorf("quantity %q: want 0x followed by hex digits", clip(s, 40))
	}
	h := strings.TrimLeft(s[2:], "0")
	if len(h) > 16 {
		return 0, fmt.Errorf("quantity %q: too large", clip(s, 40))
	}
	var v uint64
	for i := 0; i < len(h); i++ {
		d := hexDigit(h[i])
		if d < 0 {
			return 0, fmt.Errorf("quantity %q: not hexadecimal", clip(s, 40))
		}
		v = v<<4 | uint64(d)
	}
	if v > 1<<63-1 {
		return 0, fmt.Errorf("quantity %q: too large", clip(s, 40))
	}
	return v, nil
}

func quantity(n uint64) string { return fmt.Sprintf("0x%x", n) }

func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// parseHash checks a 32-byte hash (0x + 64 hex) and returns it in lower case.
func parseHash(s string) (string, error) {
	if len(s) != 66 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return "", fmt.Errorf("hash %q: want 0x and 64 hex digits", clip(s, 70))
	}
	for i := 2; i < len(s); i++ {
		if hexDigit(s[i]) < 0 {
			return "", fmt.Errorf("hash %q: not hexadecimal", clip(s, 70))
		}
	}
	return strings.ToLower(s), nil
}

// parseAddress returns the canonical (lower-case) form of an EVM address.
func parseAddress(s string) (string, error) {
	if len(s) != 42 {
		// Refuse early: address.ParseFor would also, but quote less.
		return "", fmt.Errorf("address %q: want 0x and 40 hex digits", clip(s, 50))
	}
	a, err := address.ParseFor(address.ETH, s)
	if err != nil {
		return "", err
	}
	return a.Canonical, nil
}

// block is a parsed block: the header fields we keep and its transactions
// that carry value.
type block struct {
	number uint64
	hash   string
	parent string
	time   int64
	txs    int // transactions in the block, for receipt checks
	value  []valueTx
	hashes []string // of every transaction, to check traces against

	internalFailed int
}

type valueTx struct {
	index  uint64
	hash   string
	from   string
	to     string // "" for contract creation until the receipt names it
	amount graph.Amount
	failed bool
	// internal: moved by a contract inside transaction index, not the
	// transaction's own value.
	internal bool
}

// parseBlock validates an eth_getBlockByNumber(n, true) result for block n.
func parseBlock(n uint64, rb *rpcBlock) (*block, error) {
	num, err := parseQuantity(rb.Number)
	if err != nil {
		return nil, fmt.Errorf("number: %w", err)
	}
	if num != n {
		return nil, fmt.Errorf("node returned block %d for block %d", num, n)
	}
	if rb.Transactions == nil {
		// Every block has the list, empty or not: a block without it
		// would lose its transfers unseen.
		return nil, errors.New("transactions: missing")
	}
	txs := *rb.Transactions
	b := &block{number: n, txs: len(txs)}
	if b.hash, err = parseHash(rb.Hash); err != nil {
		return nil, fmt.Errorf("hash: %w", err)
	}
	if b.parent, err = parseHash(rb.ParentHash); err != nil {
		return nil, fmt.Errorf("parentHash: %w", err)
	}
	ts, err := parseQuantity(rb.Timestamp)
	if err != nil {
		return nil, fmt.Errorf("timestamp: %w", err)
	}
	b.time = int64(ts)
	b.hashes = make([]string, len(txs))
	for i := range txs {
		tx := &txs[i]
		vt, ok, err := parseTx(uint64(i), tx)
		if err != nil {
			return nil, fmt.Errorf("transaction %d: %w", i, err)
		}
		b.hashes[i] = vt.hash
		if ok {
			b.value = append(b.value, vt)
		}
	}
	return b, nil
}

// parseTx validates one transaction of a block and reports whether it moves
// native value.
func parseTx(i uint64, tx *rpcTx) (valueTx, bool, error) {
	var vt valueTx
	var err error
	if vt.hash, err = parseHash(tx.Hash); err != nil {
		return vt, false, fmt.Errorf("hash: %w", err)
	}
	if idx, err := parseQuantity(tx.TransactionIndex); err != nil {
		return vt, false, fmt.Errorf("%s: transactionIndex: %w", vt.hash, err)
	} else if idx != i {
		return vt, false, fmt.Errorf("%s: transactionIndex %d at position %d", vt.hash, idx, i)
	}
	vt.index = i
	if vt.amount, err = parseValue(tx.Value); err != nil {
		return vt, false, fmt.Errorf("%s: value: %w", vt.hash, err)
	}
	if vt.from, err = parseAddress(tx.From); err != nil {
		return vt, false, fmt.Errorf("%s: from: %w", vt.hash, err)
	}
	if tx.To != nil {
		if vt.to, err = parseAddress(*tx.To); err != nil {
			return vt, false, fmt.Errorf("%s: to: %w", vt.hash, err)
		}
	}
	return vt, !vt.amount.IsZero(), nil
}

// logKind classifies a Transfer log.
type logKind int

const (
	logERC20     logKind = iota
	logNFT               // four topics: ERC-721 token id, not an amount
	logMalformed         // three topics but not an address/uint256 encoding
	logZero              // an ERC-20 transfer of nothing (address poisoning spam)
)

// tokenLog is a parsed Transfer log.
type tokenLog struct {
	block    uint64
	hash     string // block hash
	txIndex  uint64
	logIndex uint64
	tx       string
	token    string
	from, to string
	amount   graph.Amount
	kind     logKind
}

// parseLog validates a Transfer log. Fields the node itself fills (numbers,
// hashes, hex) are errors when malformed; what the token contract chose to
// emit (topic padding, data length) only makes the log logMalformed.
func parseLog(l *rpcLog) (tokenLog, error) {
	var t tokenLog
	var err error
	if t.block, err = parseQuantity(l.BlockNumber); err != nil {
		return t, fmt.Errorf("blockNumber: %w", err)
	}
	if t.hash, err = parseHash(l.BlockHash); err != nil {
		return t, fmt.Errorf("block %d: blockHash: %w", t.block, err)
	}
	if t.tx, err = parseHash(l.TransactionHash); err != nil {
		return t, fmt.Errorf("block %d: transactionHash: %w", t.block, err)
	}
	if t.txIndex, err = parseQuantity(l.TransactionIndex); err != nil {
		return t, fmt.Errorf("block %d tx %s: transactionIndex: %w", t.block, t.tx, err)
	}
	if t.logIndex, err = parseQuantity(l.LogIndex); err != nil {
		return t, fmt.Errorf("block %d tx %s: logIndex: %w", t.block, t.tx, err)
	}
	if t.token, err = parseAddress(l.Address); err != nil {
		return t, fmt.Errorf("block %d tx %s: address: %w", t.block, t.tx, err)
	}
	for i, topic := range l.Topics {
		if _, err := parseHash(topic); err != nil {
			return t, fmt.Errorf("block %d tx %s log %d: topic %d: %w", t.block, t.tx, t.logIndex, i, err)
		}
	}
	if len(l.Topics) == 0 || !strings.EqualFold(l.Topics[0], TransferTopic) {
		return t, fmt.Errorf("block %d tx %s log %d: topic 0 is not Transfer, the node ignored the filter", t.block, t.tx, t.logIndex)
	}
	data := l.Data
	if len(data) < 2 || data[:2] != "0x" || len(data)%2 != 0 {
		return t, fmt.Errorf("block %d tx %s log %d: data %q: want 0x and hex bytes", t.block, t.tx, t.logIndex, clip(data, 40))
	}
	for i := 2; i < len(data); i++ {
		if hexDigit(data[i]) < 0 {
			return t, fmt.Errorf("block %d tx %s log %d: data is not hexadecimal", t.block, t.tx, t.logIndex)
		}
	}
	switch {
	case len(l.Topics) == 4:
		t.kind = logNFT
		return t, nil
	case len(l.Topics) != 3 || len(data) != 2+64:
		t.kind = logMalformed
		return t, nil
	}
	var ok bool
	if t.from, ok = topicAddress(l.Topics[1]); !ok {
		t.kind = logMalformed
		return t, nil
	}
	if t.to, ok = topicAddress(l.Topics[2]); !ok {
		t.kind = logMalformed
		return t, nil
	}
	if t.amount, err = graph.ParseAmount(data); err != nil {
		return t, fmt.Errorf("block %d tx %s log %d: amount: %w", t.block, t.tx, t.logIndex, err)
	}
	if t.amount.IsZero() {
		t.kind = logZero
	}
	return t, nil
}

// topicAddress decodes an address-typed indexed argument: 12 zero bytes
// then 20 address bytes. Anything else was not emitted by a conforming
// token.
func topicAddress(topic string) (string, bool) {
	if strings.Trim(topic[2:26], "0") != "" {
		return "", false
	}
	return "0x" + strings.ToLower(topic[26:]), true
}

// rpcTrace is one transaction's entry in debug_traceBlockByNumber with
// geth's callTracer: the call tree of the transaction.
type rpcTrace struct {
	TxHash string    `json:"txHash"` // absent from older nodes
	Result *rpcFrame `json:"result"`
	Error  string    `json:"error"` // the tracer failed on this transaction
}

type rpcFrame struct {
	Type  string     `json:"type"`
	From  string     `json:"from"`
	To    string     `json:"to"`
	Value string     `json:"value"` // absent when the frame carries none
	Error string     `json:"error"`
	Calls []rpcFrame `json:"calls"`
}

// maxFrames bounds the call frames read per block: the gas limit caps a
// real block far below it.
const maxFrames = 1 << 20

// internalTransfers appends to out the ether tx's call tree moved below its
// top-level frame (whose value is the transaction's own, read from the
// block): plain calls, contract creations and selfdestructs that carry
// value, outside any frame that failed (a failed frame's effects, those of
// its subcalls included, are undone). delegatecall and callcode move no
// value of their own (the value shown is the parent's), staticcall none;
// their subcalls are still read, and they send from the contract whose
// context the code runs in, which is what the tracer reports as from.
// frames counts the frames read, against maxFrames.
func internalTransfers(out []valueTx, index uint64, tx string, root *rpcFrame, frames *int) ([]valueTx, int, error) {
	failed := 0
	if root.Error != "" {
		return out, 0, nil // the whole transaction reverted
	}
	var path []int // of the frame being read, for messages only
	where := func() string {
		var b strings.Builder
		for _, i := range path {
			fmt.Fprintf(&b, "/%d", i)
		}
		return b.String()
	}
	var walk func(f *rpcFrame) error
	walk = func(f *rpcFrame) error {
		for i := range f.Calls {
			c := &f.Calls[i]
			path = append(path, i)
			if *frames++; *frames > maxFrames {
				return fmt.Errorf("more than %d call frames in the block", maxFrames)
			}
			if c.Error != "" {
				if c.Value != "" && c.Value != "0x0" {
					failed++
				}
				path = path[:len(path)-1]
				continue
			}
			switch strings.ToUpper(c.Type) {
			case "CALL", "CREATE", "CREATE2", "SELFDESTRUCT":
				if c.Value != "" {
					amt, err := parseValue(c.Value)
					if err != nil {
						return fmt.Errorf("frame %s: value: %w", where(), err)
					}
					if !amt.IsZero() {
						vt := valueTx{index: index, hash: tx, amount: amt, internal: true}
						if vt.from, err = parseAddress(c.From); err != nil {
							return fmt.Errorf("frame %s: from: %w", where(), err)
						}
						if vt.to, err = parseAddress(c.To); err != nil {
							return fmt.Errorf("frame %s: to: %w", where(), err)
						}
						out = append(out, vt)
					}
				}
			case "DELEGATECALL", "CALLCODE", "STATICCALL":
			default:
				return fmt.Errorf("frame %s: type %q is no EVM call", where(), clip(c.Type, 20))
			}
			if err := walk(c); err != nil {
				return err
			}
			path = path[:len(path)-1]
		}
		return nil
	}
	err := walk(root)
	return out, failed, err
}

// parseValue reads a 0x quantity of up to 256 bits, the EVM's word.
func parseValue(s string) (graph.Amount, error) {
	if len(s) < 3 || s[:2] != "0x" {
		return graph.Amount{}, fmt.Errorf("%q: want a 0x quantity", clip(s, 40))
	}
	if len(strings.TrimLeft(s[2:], "0")) > 64 {
		return graph.Amount{}, fmt.Errorf("%q: more than 256 bits", clip(s, 40))
	}
	return graph.ParseAmount(s)
}
