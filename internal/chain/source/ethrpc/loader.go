// Package ethrpc loads value transfers from an Ethereum (or other EVM) node
// over JSON-RPC 2.0, incrementally from a saved height.
//
// For each block it reads eth_getBlockByNumber(n, true) and keeps the
// transactions that move native coin (value > 0). Whether such a transaction
// succeeded is only in its receipt, so for blocks that have any it reads
// eth_getBlockReceipts (falling back to eth_getTransactionReceipt per value
// transaction on nodes without it) and drops the reverted ones. Token
// movements come from eth_getLogs over the whole batch for the ERC-20
// Transfer event; the log's contract is the transfer's asset. ERC-721
// transfers share the event signature but index a fourth topic, the token
// id, and are skipped, as are zero-amount transfers (they move nothing and
// are mostly address-poisoning spam).
//
// With Config.Internal it also reads the value contracts move inside a
// transaction ("internal transactions": a mixer paying out a withdrawal, a
// bridge releasing funds, a selfdestruct), from debug_traceBlockByNumber
// with geth's built-in callTracer, which geth, Erigon, Nethermind and Reth
// serve on their debug API (an archive node, or a full node for recent
// blocks). A call frame that failed moves nothing, nor do its subcalls.
//
// Not seen: validator withdrawals, and failure of pre-Byzantium
// transactions, whose receipts carry no status.
//
// Progress is a small JSON state file written atomically after each batch
// has been handed to the sink (and flushed, if the sink can). Only blocks at
// least the confirmation depth below the head are read, and the hash of the
// last block read is kept so that a later run notices a reorganisation that
// went deeper than that. Every answer is treated as hostile: responses are
// size-limited, every field is validated, and errors name the method and
// block.
package ethrpc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// Sink receives transfers in block order.
type Sink interface {
	Add(graph.Transfer) error
}

// Flusher is an optional Sink capability. The loader calls Flush before it
// records progress, so that a crash after the state is saved never loses
// transfers the sink had only buffered.
type Flusher interface {
	Flush() error
}

// Defaults for zero Config fields.
const (
	DefaultConfirmations    = 12
	DefaultBatchSize        = 100
	DefaultConcurrency      = 4
	DefaultMaxResponseBytes = 64 << 20
	DefaultMaxAttempts      = 6
	DefaultRetryBase        = 500 * time.Millisecond
	DefaultMaxBackoff       = 30 * time.Second
	DefaultRequestTimeout   = 60 * time.Second
)

// Errors of the loader; test with errors.Is.
var (
	ErrBlockNotFound = errors.New("block not found")
	ErrReorg         = errors.New("chain reorganised")
	ErrChainMismatch = errors.New("state file is for another chain")
)

// Config configures a Loader. Zero fields take the defaults above.
type Config struct {
	URL        string       // node JSON-RPC endpoint (http or https)
	HTTPClient *http.Client // nil: a client of our own

	// StatePath is the state file; "" reads From..To without saving.
	StatePath string
	// From is the first block when there is no state file yet.
	From uint64
	// To is the last block to read; 0 reads up to the confirmed head. It is
	// lowered to the confirmed head when beyond it.
	To uint64
	// Confirmations is how many blocks below the head are left unread
	// because they may still be reorganised. Zero means
	// DefaultConfirmations; negative means none (dev chains), as with
	// net.Dialer.KeepAlive.
	Confirmations int

	BatchSize        int   // blocks per committed batch and widest eth_getLogs range
	Concurrency      int   // blocks fetched in parallel
	MaxResponseBytes int64 // per response; eth_getLogs over it is split

	MaxAttempts    int           // per call, including the first
	RetryBase      time.Duration // first backoff; doubles per attempt
	MaxBackoff     time.Duration
	RequestTimeout time.Duration

	// Internal reads the ether contracts move inside transactions, with
	// debug_traceBlockByNumber (callTracer): one more call per block that
	// has transactions, and much heavier for the node than the rest. A busy
	// mainnet block's call trees run to tens of megabytes; a block whose
	// answer exceeds MaxResponseBytes fails the sync with
	// ErrResponseTooLarge, naming the block.
	Internal bool

	Logger *slog.Logger // nil: discard
}

// Stats describes one Sync.
type Stats struct {
	From, To uint64 // blocks read, inclusive; Blocks is 0 when none were
	Blocks   int
	Native   int // native-coin transfers emitted
	Token    int // ERC-20 transfers emitted
	Failed   int // value transactions skipped because they reverted
	Internal int // native-coin transfers made by contracts inside transactions (Config.Internal)
	// InternalFailed counts internal transfers skipped because their call
	// frame failed (their transaction may have succeeded).
	InternalFailed int
	NonFungible    int // ERC-721 Transfer logs skipped
	Malformed      int // Transfer logs skipped: not an address/uint256 encoding
	ZeroAmount     int // ERC-20 Transfer logs of 0 skipped
	LogSplits      int // eth_getLogs ranges split after a "too large" answer
}

// Loader reads transfers from one node. One Sync runs at a time.
type Loader struct {
	cfg     Config
	rpc     *client
	log     *slog.Logger
	perTx   atomic.Bool // the node lacks eth_getBlockReceipts
	logSpan uint64      // widest eth_getLogs range that worked lately
	splits  int
	// prev is the hash of the block before the next batch, when known
	// (the saved state's, then each batch's last): the batch's first block
	// must name it as its parent.
	prev string
}

// New checks cfg and returns a Loader.
func New(cfg Config) (*Loader, error) {
	if cfg.URL == "" {
		return nil, errors.New("ethrpc: no node URL")
	}
	switch {
	case cfg.Confirmations == 0:
		cfg.Confirmations = DefaultConfirmations
	case cfg.Confirmations < 0:
		cfg.Confirmations = 0
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = DefaultRetryBase
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.To != 0 && cfg.To < cfg.From {
		return nil, fmt.Errorf("ethrpc: last block %d is before first block %d", cfg.To, cfg.From)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "ethrpc")
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	return &Loader{
		cfg: cfg,
		log: log,
		rpc: &client{
			url:         cfg.URL,
			http:        hc,
			maxResponse: cfg.MaxResponseBytes,
			attempts:    cfg.MaxAttempts,
			backoff:     cfg.RetryBase,
			maxBackoff:  cfg.MaxBackoff,
			timeout:     cfg.RequestTimeout,
			log:         log,
		},
		logSpan: uint64(cfg.BatchSize),
	}, nil
}

// Sync reads from the saved height (or Config.From) to the confirmed head
// (or Config.To), hands the transfers to sink in block order and saves the
// height after each batch. On error the returned Stats cover the batches
// that were committed.
func (l *Loader) Sync(ctx context.Context, sink Sink) (Stats, error) {
	var stats Stats
	chainID, err := l.quantity(ctx, "eth_chainId")
	if err != nil {
		return stats, err
	}
	next := l.cfg.From
	l.prev = ""
	if l.cfg.StatePath != "" {
		st, ok, err := LoadState(l.cfg.StatePath)
		if err != nil {
			return stats, err
		}
		if ok {
			if st.ChainID != chainID {
				return stats, fmt.Errorf("%w: %s is for chain %d, the node serves chain %d", ErrChainMismatch, l.cfg.StatePath, st.ChainID, chainID)
			}
			if st.Next > 0 {
				if err := l.checkHash(ctx, st.Next-1, st.Hash); err != nil {
					return stats, err
				}
				l.prev = st.Hash
			}
			next = st.Next
		}
	}
	head, err := l.quantity(ctx, "eth_blockNumber")
	if err != nil {
		return stats, err
	}
	conf := uint64(l.cfg.Confirmations)
	stats.From, stats.To = next, next
	if head < conf {
		return stats, nil
	}
	end := head - conf
	if l.cfg.To != 0 && l.cfg.To < end {
		end = l.cfg.To
	}
	batch := uint64(l.cfg.BatchSize)
	for start := next; start <= end; {
		stop := min(start+batch-1, end)
		last, err := l.batch(ctx, start, stop, sink, &stats)
		if err != nil {
			return stats, err
		}
		if f, ok := sink.(Flusher); ok {
			if err := f.Flush(); err != nil {
				return stats, fmt.Errorf("flushing blocks %d-%d: %w", start, stop, err)
			}
		}
		if l.cfg.StatePath != "" {
			if err := SaveState(l.cfg.StatePath, State{ChainID: chainID, Next: stop + 1, Hash: last}); err != nil {
				return stats, err
			}
		}
		stats.To = stop
		stats.Blocks += int(stop - start + 1)
		l.log.Debug("batch committed", "from", start, "to", stop)
		start = stop + 1
	}
	l.log.Info("sync done", "from", stats.From, "to", stats.To, "blocks", stats.Blocks,
		"native", stats.Native, "token", stats.Token, "failed", stats.Failed)
	return stats, nil
}

func (l *Loader) quantity(ctx context.Context, method string) (uint64, error) {
	var s string
	null, err := l.rpc.call(ctx, method, &s)
	if err != nil {
		return 0, err
	}
	if null {
		return 0, fmt.Errorf("%s: %w: null result", method, ErrBadResponse)
	}
	v, err := parseQuantity(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %w: %w", method, ErrBadResponse, err)
	}
	return v, nil
}

// checkHash compares block n's hash with the one saved after the last run.
func (l *Loader) checkHash(ctx context.Context, n uint64, want string) error {
	var rb struct {
		Number string `json:"number"`
		Hash   string `json:"hash"`
	}
	null, err := l.rpc.call(ctx, "eth_getBlockByNumber", &rb, quantity(n), false)
	if err != nil {
		return fmt.Errorf("block %d: %w", n, err)
	}
	if null {
		return fmt.Errorf("block %d: eth_getBlockByNumber: %w: the node is behind the saved height", n, ErrBlockNotFound)
	}
	got, err := parseHash(rb.Hash)
	if err != nil {
		return fmt.Errorf("block %d: eth_getBlockByNumber: %w: %w", n, ErrBadResponse, err)
	}
	if got != want {
		return fmt.Errorf("%w: block %d is now %s, was %s when read; deeper than the confirmation depth", ErrReorg, n, got, want)
	}
	return nil
}

// batch reads blocks start..stop and the Transfer logs over them, emits the
// transfers and returns the hash of block stop.
func (l *Loader) batch(ctx context.Context, start, stop uint64, sink Sink, stats *Stats) (string, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	blocks := make([]*block, stop-start+1)
	var logs []tokenLog
	var wg sync.WaitGroup
	wg.Go(func() {
		var err error
		if logs, err = l.logs(ctx, start, stop); err != nil {
			cancel(err)
		}
	})
	numbers := make(chan uint64)
	for range min(l.cfg.Concurrency, len(blocks)) {
		wg.Go(func() {
			for n := range numbers {
				b, err := l.block(ctx, n)
				if err != nil {
					cancel(err)
					return
				}
				blocks[n-start] = b
			}
		})
	}
feed:
	for n := start; n <= stop; n++ {
		select {
		case numbers <- n:
		case <-ctx.Done():
			break feed
		}
	}
	close(numbers)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return "", err
	}

	// The blocks must be one chain: each names the one before as its
	// parent. Blocks read while the node switched branches would mix two.
	for _, b := range blocks {
		if l.prev != "" && b.parent != l.prev {
			return "", fmt.Errorf("block %d: %w: its parent is %s, the block read before it is %s; raise the confirmation depth", b.number, ErrReorg, b.parent, l.prev)
		}
		l.prev = b.hash
	}

	// Order logs as the chain does, whatever order the node sent them in.
	slices.SortFunc(logs, func(a, b tokenLog) int {
		return cmp.Or(cmp.Compare(a.block, b.block), cmp.Compare(a.txIndex, b.txIndex), cmp.Compare(a.logIndex, b.logIndex))
	})
	for k, lg := range logs {
		if k > 0 && lg.block == logs[k-1].block && lg.logIndex == logs[k-1].logIndex {
			return "", fmt.Errorf("eth_getLogs %d-%d: %w: block %d has log %d twice", start, stop, ErrBadResponse, lg.block, lg.logIndex)
		}
		if lg.block < start || lg.block > stop {
			return "", fmt.Errorf("eth_getLogs %d-%d: %w: log of tx %s is in block %d", start, stop, ErrBadResponse, lg.tx, lg.block)
		}
		b := blocks[lg.block-start]
		if lg.hash != b.hash {
			return "", fmt.Errorf("eth_getLogs %d-%d: %w: block %d has hash %s in a log and %s as a block; raise the confirmation depth", start, stop, ErrReorg, lg.block, lg.hash, b.hash)
		}
		if lg.txIndex >= uint64(b.txs) {
			return "", fmt.Errorf("eth_getLogs %d-%d: %w: log of tx %s has index %d, block %d has %d transactions", start, stop, ErrBadResponse, lg.tx, lg.txIndex, lg.block, b.txs)
		}
		if h := b.hashes[lg.txIndex]; lg.tx != h {
			return "", fmt.Errorf("eth_getLogs %d-%d: %w: log %d of block %d is for tx %s, the block's transaction %d is %s", start, stop, ErrBadResponse, lg.logIndex, lg.block, lg.tx, lg.txIndex, h)
		}
	}

	li := 0
	for _, b := range blocks {
		stats.InternalFailed += b.internalFailed
		// Within a block: by transaction, the native value before the
		// transaction's token logs.
		vi := 0
		for vi < len(b.value) || (li < len(logs) && logs[li].block == b.number) {
			if vi < len(b.value) && (li >= len(logs) || logs[li].block != b.number || b.value[vi].index <= logs[li].txIndex) {
				if err := l.emitNative(b, &b.value[vi], sink, stats); err != nil {
					return "", err
				}
				vi++
				continue
			}
			if err := l.emitToken(b, &logs[li], sink, stats); err != nil {
				return "", err
			}
			li++
		}
	}
	stats.LogSplits += l.splits
	l.splits = 0
	return blocks[len(blocks)-1].hash, nil
}

func (l *Loader) emitNative(b *block, vt *valueTx, sink Sink, stats *Stats) error {
	if vt.failed {
		stats.Failed++
		return nil
	}
	err := sink.Add(graph.Transfer{Tx: vt.hash, Block: b.number, Time: b.time, From: vt.from, To: vt.to, Amount: vt.amount})
	if err != nil {
		return fmt.Errorf("block %d tx %s: sink: %w", b.number, vt.hash, err)
	}
	if vt.internal {
		stats.Internal++
	} else {
		stats.Native++
	}
	return nil
}

func (l *Loader) emitToken(b *block, lg *tokenLog, sink Sink, stats *Stats) error {
	switch lg.kind {
	case logNFT:
		stats.NonFungible++
		return nil
	case logMalformed:
		stats.Malformed++
		return nil
	case logZero:
		stats.ZeroAmount++
		return nil
	}
	err := sink.Add(graph.Transfer{Tx: lg.tx, Block: b.number, Time: b.time, From: lg.from, To: lg.to, Asset: lg.token, Amount: lg.amount})
	if err != nil {
		return fmt.Errorf("block %d tx %s log %d: sink: %w", b.number, lg.tx, lg.logIndex, err)
	}
	stats.Token++
	return nil
}

// block fetches and parses block n and, when it moves native value, the
// receipts that say which of those transactions failed.
func (l *Loader) block(ctx context.Context, n uint64) (*block, error) {
	var rb rpcBlock
	null, err := l.rpc.call(ctx, "eth_getBlockByNumber", &rb, quantity(n), true)
	if err != nil {
		return nil, fmt.Errorf("block %d: %w", n, err)
	}
	if null {
		return nil, fmt.Errorf("block %d: eth_getBlockByNumber: %w", n, ErrBlockNotFound)
	}
	b, err := parseBlock(n, &rb)
	if err != nil {
		return nil, fmt.Errorf("block %d: eth_getBlockByNumber: %w: %w", n, ErrBadResponse, err)
	}
	if len(b.value) > 0 {
		if err := l.receipts(ctx, b); err != nil {
			return nil, err
		}
	}
	if l.cfg.Internal && b.txs > 0 {
		if err := l.traces(ctx, b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// traces adds to b the internal transfers of its transactions, each after
// the transaction's own value.
func (l *Loader) traces(ctx context.Context, b *block) error {
	var rs []rpcTrace
	null, err := l.rpc.call(ctx, "debug_traceBlockByNumber", &rs, quantity(b.number), map[string]any{"tracer": "callTracer"})
	switch {
	case isMethodMissing(err):
		return fmt.Errorf("block %d: %w (internal transfers need the node's debug API, e.g. geth --http.api eth,debug)", b.number, err)
	case err != nil:
		return fmt.Errorf("block %d: %w", b.number, err)
	case null:
		return fmt.Errorf("block %d: debug_traceBlockByNumber: %w", b.number, ErrBlockNotFound)
	case len(rs) != b.txs:
		return fmt.Errorf("block %d: debug_traceBlockByNumber: %w: %d traces for %d transactions", b.number, ErrBadResponse, len(rs), b.txs)
	}
	own := b.value
	merged := make([]valueTx, 0, len(own))
	frames := 0
	for i := range rs {
		tr := &rs[i]
		for len(own) > 0 && own[0].index == uint64(i) {
			merged = append(merged, own[0])
			own = own[1:]
		}
		hash := b.hashes[i]
		if tr.TxHash != "" {
			if h, err := parseHash(tr.TxHash); err != nil || h != hash {
				return fmt.Errorf("block %d: debug_traceBlockByNumber: %w: trace %d is for tx %q, the block has %s", b.number, ErrBadResponse, i, clip(tr.TxHash, 70), hash)
			}
		}
		if tr.Error != "" || tr.Result == nil {
			return fmt.Errorf("block %d tx %s: debug_traceBlockByNumber: %w: no call tree (tracer error %q)", b.number, hash, ErrBadResponse, clip(tr.Error, 200))
		}
		var failed int
		if merged, failed, err = internalTransfers(merged, uint64(i), hash, tr.Result, &frames); err != nil {
			return fmt.Errorf("block %d tx %s: debug_traceBlockByNumber: %w: %w", b.number, hash, ErrBadResponse, err)
		}
		b.internalFailed += failed
	}
	b.value = merged
	return nil
}

func (l *Loader) receipts(ctx context.Context, b *block) error {
	if !l.perTx.Load() {
		var rs []rpcReceipt
		null, err := l.rpc.call(ctx, "eth_getBlockReceipts", &rs, quantity(b.number))
		switch {
		case err == nil && !null:
			if len(rs) != b.txs {
				return fmt.Errorf("block %d: eth_getBlockReceipts: %w: %d receipts for %d transactions", b.number, ErrBadResponse, len(rs), b.txs)
			}
			for i := range b.value {
				if err := applyReceipt(b, &b.value[i], &rs[b.value[i].index]); err != nil {
					return fmt.Errorf("block %d: eth_getBlockReceipts: %w", b.number, err)
				}
			}
			return nil
		case null:
			return fmt.Errorf("block %d: eth_getBlockReceipts: %w", b.number, ErrBlockNotFound)
		case isMethodMissing(err):
			if !l.perTx.Swap(true) {
				l.log.Info("node lacks eth_getBlockReceipts; reading receipts per transaction", "err", err)
			}
		default:
			return fmt.Errorf("block %d: %w", b.number, err)
		}
	}
	for i := range b.value {
		vt := &b.value[i]
		var r rpcReceipt
		null, err := l.rpc.call(ctx, "eth_getTransactionReceipt", &r, vt.hash)
		if err != nil {
			return fmt.Errorf("block %d tx %s: %w", b.number, vt.hash, err)
		}
		if null {
			return fmt.Errorf("block %d tx %s: eth_getTransactionReceipt: %w: no receipt", b.number, vt.hash, ErrReorg)
		}
		if err := applyReceipt(b, vt, &r); err != nil {
			return fmt.Errorf("block %d: eth_getTransactionReceipt: %w", b.number, err)
		}
	}
	return nil
}

// applyReceipt records the outcome of a value transaction, and the address
// of the contract a creation transaction funded.
func applyReceipt(b *block, vt *valueTx, r *rpcReceipt) error {
	h, err := parseHash(r.TransactionHash)
	if err != nil {
		return fmt.Errorf("%w: receipt %d: transactionHash: %w", ErrBadResponse, vt.index, err)
	}
	if h != vt.hash {
		return fmt.Errorf("%w: receipt %d is for tx %s, the block has %s", ErrBadResponse, vt.index, h, vt.hash)
	}
	bh, err := parseHash(r.BlockHash)
	if err != nil {
		return fmt.Errorf("%w: tx %s receipt: blockHash: %w", ErrBadResponse, vt.hash, err)
	}
	if bh != b.hash {
		return fmt.Errorf("%w: tx %s receipt is in block %s, the block read is %s", ErrReorg, vt.hash, bh, b.hash)
	}
	if r.Status != nil {
		s, err := parseQuantity(*r.Status)
		if err != nil || s > 1 {
			return fmt.Errorf("%w: tx %s receipt: status %q", ErrBadResponse, vt.hash, clip(*r.Status, 20))
		}
		vt.failed = s == 0
	}
	if vt.to == "" && !vt.failed {
		if r.ContractAddress == nil {
			return fmt.Errorf("%w: tx %s creates a contract but its receipt names none", ErrBadResponse, vt.hash)
		}
		if vt.to, err = parseAddress(*r.ContractAddress); err != nil {
			return fmt.Errorf("%w: tx %s receipt: contractAddress: %w", ErrBadResponse, vt.hash, err)
		}
	}
	return nil
}

// logs reads the Transfer logs of blocks from..to in ranges no wider than
// the last one that worked, halving a range the node refuses as too large
// and widening again after successes.
func (l *Loader) logs(ctx context.Context, from, to uint64) ([]tokenLog, error) {
	var out []tokenLog
	for s := from; s <= to; {
		e := min(s+l.logSpan-1, to)
		got, narrowest, err := l.logRange(ctx, s, e)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
		if width := e - s + 1; narrowest < width {
			l.logSpan = narrowest
		} else if width == l.logSpan {
			l.logSpan = min(2*l.logSpan, uint64(l.cfg.BatchSize))
		}
		s = e + 1
	}
	return out, nil
}

func (l *Loader) logRange(ctx context.Context, from, to uint64) ([]tokenLog, uint64, error) {
	filter := map[string]any{
		"fromBlock": quantity(from),
		"toBlock":   quantity(to),
		"topics":    []string{TransferTopic},
	}
	var raw []rpcLog
	null, err := l.rpc.call(ctx, "eth_getLogs", &raw, filter)
	if err != nil {
		if from < to && isRangeError(err) {
			l.splits++
			mid := from + (to-from)/2
			l.log.Debug("splitting eth_getLogs range", "from", from, "to", to, "err", err)
			a, na, err := l.logRange(ctx, from, mid)
			if err != nil {
				return nil, 0, err
			}
			b, nb, err := l.logRange(ctx, mid+1, to)
			if err != nil {
				return nil, 0, err
			}
			return append(a, b...), min(na, nb), nil
		}
		return nil, 0, fmt.Errorf("blocks %d-%d: %w", from, to, err)
	}
	if null {
		return nil, 0, fmt.Errorf("blocks %d-%d: eth_getLogs: %w: null result", from, to, ErrBadResponse)
	}
	out := make([]tokenLog, 0, len(raw))
	for i := range raw {
		if raw[i].Removed {
			continue
		}
		t, err := parseLog(&raw[i])
		if err != nil {
			return nil, 0, fmt.Errorf("blocks %d-%d: eth_getLogs: %w: %w", from, to, ErrBadResponse, err)
		}
		out = append(out, t)
	}
	return out, to - from + 1, nil
}
