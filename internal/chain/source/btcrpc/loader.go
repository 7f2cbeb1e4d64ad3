package btcrpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// Sink receives the transfers of each block in order. It is the graph
// loader's interface, declared here so that the package depends only on
// graph.Transfer.
type Sink interface {
	Add(graph.Transfer) error
}

// Flusher is implemented by sinks that buffer. The loader calls Flush before
// it saves its height, so the saved height never runs ahead of what the sink
// has made durable.
type Flusher interface {
	Flush() error
}

// Config configures a Loader. A zero field takes the default given.
type Config struct {
	// URL of the node's RPC server, e.g. http://127.0.0.1:8332/.
	URL string
	// User and Password for HTTP Basic authentication (rpcuser/rpcpassword).
	User, Password string
	// CookieFile, when set, is Bitcoin Core's .cookie file ("user:password"),
	// read when the Loader is made; it overrides User and Password.
	CookieFile string
	// HTTPClient sends the requests; default a client with a 2-minute
	// timeout (a large block at verbosity 3 takes a while to serialise).
	HTTPClient *http.Client

	// Network is the chain whose address encoding to use: main, test,
	// testnet3, testnet4, signet, regtest or simnet. Default: asked of the
	// node with getblockchaininfo.
	Network string
	// StartHeight is the first height loaded when there is no saved state.
	StartHeight uint64
	// StopHeight, when not 0, is the last height loaded.
	StopHeight uint64
	// Confirmations a block needs before it is loaded: 1 loads the tip.
	// Default 6. Blocks this deep are assumed never to be reorganised; if
	// they are, Run fails with ErrReorg.
	Confirmations int
	// StateFile keeps the last loaded height and its block hash between
	// runs. It is replaced atomically after each batch. Default: none (the
	// position is kept in memory only).
	StateFile string
	// BatchBlocks is the number of blocks between saves of the state.
	// Default 100.
	BatchBlocks int
	// Concurrency bounds the requests in flight: blocks fetched ahead and
	// spent outputs looked up in parallel. Default 4.
	Concurrency int
	// Verbosity of getblock: 3 (the default) makes Bitcoin Core 23 and later
	// include each input's spent output; older Core and btcd treat it as 2.
	// A node that refuses the verbosity as a parameter error is asked again
	// one level lower, down to 1 (ids only, then getrawtransaction per
	// transaction).
	Verbosity int
	// MaxResponseBytes bounds one answer. Default 128 MiB: a 4 MB block
	// with prevouts runs to tens of megabytes of JSON. Several blocks are
	// fetched at once and each answer is held about three times while it
	// is decoded, so the loader's peak memory is about
	// 3 × (Concurrency + 1) × MaxResponseBytes (2 GB at the defaults).
	MaxResponseBytes int64
	// Retries of a request that failed on transport, HTTP 5xx or 429, or
	// while the node warms up. Default 5; negative for none.
	Retries int
	// RetryBackoff is the wait before the first retry, doubled after each
	// (with jitter) up to MaxBackoff. Defaults 500 ms and 30 s.
	RetryBackoff, MaxBackoff time.Duration
	// MaxOutpoints bounds the map of unspent outputs loaded so far, which
	// resolves inputs without asking the node. Past it, outputs are not
	// remembered and their spends are looked up with getrawtransaction.
	// Default 4,000,000 (about 400 MB).
	MaxOutpoints int
	// KeepZeroValue keeps transfers of value 0 (OP_RETURN data, witness
	// commitments, anchors), which carry no funds and are left out by
	// default, as the bitcoin-etl file loader does.
	KeepZeroValue bool
	// Logger; default discards.
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 2 * time.Minute}
	}
	if c.Confirmations <= 0 {
		c.Confirmations = 6
	}
	if c.BatchBlocks <= 0 {
		c.BatchBlocks = 100
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	if c.Verbosity <= 0 {
		c.Verbosity = 3
	}
	if c.MaxResponseBytes <= 0 {
		c.MaxResponseBytes = 128 << 20
	}
	switch {
	case c.Retries == 0:
		c.Retries = 5
	case c.Retries < 0:
		c.Retries = 0
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = 500 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 30 * time.Second
	}
	if c.MaxOutpoints <= 0 {
		c.MaxOutpoints = 4_000_000
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Loader loads blocks from a node into a Sink, continuing where the last run
// stopped. A Loader is not safe for concurrent Runs.
type Loader struct {
	cfg       Config
	rpc       *client
	log       *slog.Logger
	net       network
	haveNet   bool
	verbosity atomic.Int32

	// The committed position: every block up to next-1 has been delivered.
	loaded   bool // position read from the state file
	next     uint64
	lastHash string // hash of block next-1; "" before the first block

	utxo map[outpoint]prevOut
}

// outpoint names a transaction output.
type outpoint struct {
	tx txHash
	n  uint32
}

// prevOut is what an input needs of the output it spends.
type prevOut struct {
	addr  string
	value uint64
}

// New checks cfg and returns a Loader. It makes no request.
func New(cfg Config) (*Loader, error) {
	cfg.setDefaults()
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("btcrpc: node url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("btcrpc: node url %q: want http:// or https:// with a host", cfg.URL)
	}
	if u.User != nil {
		// Credentials in the URL would otherwise be sent alongside (or
		// instead of) the configured ones and end up in logs.
		return nil, errors.New("btcrpc: node url: give credentials as User/Password, not in the URL")
	}
	if cfg.CookieFile != "" {
		b, err := os.ReadFile(cfg.CookieFile)
		if err != nil {
			return nil, fmt.Errorf("btcrpc: cookie file: %w", err)
		}
		user, pass, ok := strings.Cut(strings.TrimSpace(string(b)), ":")
		if !ok {
			return nil, fmt.Errorf("btcrpc: cookie file %s: want user:password", cfg.CookieFile)
		}
		cfg.User, cfg.Password = user, pass
	}
	if cfg.Verbosity > 3 {
		return nil, fmt.Errorf("btcrpc: verbosity %d: want 1, 2 or 3", cfg.Verbosity)
	}
	l := &Loader{
		cfg:  cfg,
		log:  cfg.Logger.With("component", "btcrpc"),
		utxo: make(map[outpoint]prevOut),
		next: cfg.StartHeight,
	}
	l.rpc = &client{
		url: cfg.URL, user: cfg.User, pass: cfg.Password, hc: cfg.HTTPClient,
		maxBody: cfg.MaxResponseBytes, retries: cfg.Retries,
		backoff: cfg.RetryBackoff, maxBackoff: cfg.MaxBackoff, log: l.log,
	}
	l.verbosity.Store(int32(cfg.Verbosity))
	if cfg.Network != "" {
		n, err := networkByName(cfg.Network)
		if err != nil {
			return nil, fmt.Errorf("btcrpc: %w", err)
		}
		l.net, l.haveNet = n, true
	}
	return l, nil
}

// Stats describes one Run.
type Stats struct {
	// FromHeight and ToHeight are the first and last heights delivered;
	// Blocks is 0 when the node had nothing new.
	FromHeight, ToHeight uint64
	Blocks               int64
	Transactions         int64
	Transfers            int64
	// PrevoutsFetched counts spent outputs looked up with getrawtransaction
	// because they were neither in the block (verbosity 3) nor loaded before.
	PrevoutsFetched int64
	// ZeroValueSkipped counts transfers of value 0 left out.
	ZeroValueSkipped int64
	// Requests sent, retries included.
	Requests int64
}

// Next returns the next height the Loader will load.
func (l *Loader) Next() uint64 { return l.next }

// Run loads every block from the saved position up to the tip less the
// confirmation depth (or StopHeight), hands their transfers to sink in chain
// order, and saves the position after each batch. On an RPC failure or
// cancellation it saves the blocks completed so far before returning the
// error, so the next Run goes on from there; a block is never delivered in
// part, but a crash between a batch's delivery and its save delivers that
// batch again.
func (l *Loader) Run(ctx context.Context, sink Sink) (st Stats, err error) {
	calls := l.rpc.calls.Load()
	defer func() { st.Requests = l.rpc.calls.Load() - calls }()

	if err := l.prepare(ctx); err != nil {
		return st, err
	}
	var tip int64
	if err := l.rpc.call(ctx, "getblockcount", nil, &tip); err != nil {
		return st, fmt.Errorf("btcrpc: %w", err)
	}
	if tip < 0 {
		return st, fmt.Errorf("btcrpc: getblockcount: negative height %d", tip)
	}
	last := tip - int64(l.cfg.Confirmations) + 1
	if last < 0 {
		return st, nil
	}
	target := uint64(last)
	if l.cfg.StopHeight != 0 && l.cfg.StopHeight < target {
		target = l.cfg.StopHeight
	}
	if l.next > target {
		return st, nil
	}
	st.FromHeight = l.next
	err = l.load(ctx, l.next, target, sink, &st)
	return st, err
}

// prepare learns the network and reads and checks the saved position.
func (l *Loader) prepare(ctx context.Context) error {
	if !l.haveNet {
		var info struct {
			Chain string `json:"chain"`
		}
		if err := l.rpc.call(ctx, "getblockchaininfo", nil, &info); err != nil {
			return fmt.Errorf("btcrpc: %w", err)
		}
		n, err := networkByName(info.Chain)
		if err != nil {
			return fmt.Errorf("btcrpc: getblockchaininfo: %w", err)
		}
		l.net, l.haveNet = n, true
	}
	if !l.loaded && l.cfg.StateFile != "" {
		s, ok, err := readState(l.cfg.StateFile)
		if err != nil {
			return fmt.Errorf("btcrpc: %w", err)
		}
		if ok {
			if s.Network != l.net.name {
				return fmt.Errorf("btcrpc: state file %s is for network %q, the node is on %q", l.cfg.StateFile, s.Network, l.net.name)
			}
			l.next, l.lastHash = s.Height+1, s.Hash
		}
		l.loaded = true
	}
	if l.lastHash == "" {
		return nil
	}
	// The block the position ends on must still be on the best chain.
	var hash string
	if err := l.rpc.call(ctx, "getblockhash", []any{l.next - 1}, &hash); err != nil {
		return fmt.Errorf("btcrpc: checking saved height %d: %w", l.next-1, err)
	}
	if hash != l.lastHash {
		return fmt.Errorf("btcrpc: %w: block %d is now %s, was %s", ErrReorg, l.next-1, hash, l.lastHash)
	}
	return nil
}

// fetched is one block, or the error that prevented fetching it.
type fetched struct {
	height uint64
	hash   string
	block  *rawBlock
	err    error
}

// load fetches heights from..to ahead of time, in parallel, and processes
// them in order.
func (l *Loader) load(ctx context.Context, from, to uint64, sink Sink, st *Stats) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	queue := make(chan chan fetched, l.cfg.Concurrency)
	go func() {
		defer close(queue)
		for h := from; ; h++ {
			ch := make(chan fetched, 1)
			select {
			case queue <- ch:
			case <-ctx.Done():
				return
			}
			if h == from {
				// The first block is fetched alone: it settles the
				// verbosity the node accepts before others ask, and a
				// node that fails it is not asked for more.
				f := l.fetch(ctx, h)
				ch <- f
				if f.err != nil {
					return
				}
			} else {
				go func(h uint64) { ch <- l.fetch(ctx, h) }(h)
			}
			if h == to { // to may be the largest uint64
				return
			}
		}
	}()

	pending := 0 // blocks delivered since the last save
	var runErr error
	prevHash := l.lastHash
	for ch := range queue {
		f := <-ch
		var transfers []graph.Transfer
		var counts blockCounts
		err := f.err
		if err == nil {
			transfers, counts, err = l.process(ctx, f, prevHash)
		}
		if err != nil {
			runErr = err
			break
		}
		for i := range transfers {
			if err := sink.Add(transfers[i]); err != nil {
				// The block went to the sink in part: keep the position
				// where it was so the block is delivered again.
				return fmt.Errorf("btcrpc: block %d: sink: %w", f.height, err)
			}
		}
		prevHash = f.hash
		st.ToHeight = f.height
		st.Blocks++
		st.Transactions += int64(len(f.block.Tx))
		st.Transfers += int64(len(transfers))
		st.PrevoutsFetched += int64(counts.fetched)
		st.ZeroValueSkipped += int64(counts.zero)
		pending++
		if pending >= l.cfg.BatchBlocks {
			if err := l.commit(sink, f.height, f.hash); err != nil {
				return err
			}
			pending = 0
		}
	}
	if pending > 0 {
		if err := l.commit(sink, st.ToHeight, prevHash); err != nil {
			return errors.Join(runErr, err)
		}
	}
	if runErr == nil && (st.Blocks == 0 || st.ToHeight != to) {
		// The queue closes early only when the context is done.
		if err := ctx.Err(); err != nil {
			runErr = fmt.Errorf("btcrpc: %w", err)
		}
	}
	return runErr
}

// commit makes the sink durable, then saves the position after height.
func (l *Loader) commit(sink Sink, height uint64, hash string) error {
	if f, ok := sink.(Flusher); ok {
		if err := f.Flush(); err != nil {
			return fmt.Errorf("btcrpc: block %d: flushing sink: %w", height, err)
		}
	}
	if l.cfg.StateFile != "" {
		if err := writeState(l.cfg.StateFile, state{Network: l.net.name, Height: height, Hash: hash}); err != nil {
			return fmt.Errorf("btcrpc: block %d: %w", height, err)
		}
	}
	l.next, l.lastHash = height+1, hash
	l.log.Debug("committed", "height", height, "hash", hash)
	return nil
}

// fetch gets the block at height h with its transactions.
func (l *Loader) fetch(ctx context.Context, h uint64) fetched {
	f := fetched{height: h}
	if err := l.rpc.call(ctx, "getblockhash", []any{h}, &f.hash); err != nil {
		f.err = fmt.Errorf("btcrpc: block %d: %w", h, err)
		return f
	}
	if _, err := parseTxid(f.hash); err != nil {
		f.err = fmt.Errorf("btcrpc: block %d: getblockhash: %w: %w", h, ErrBadResponse, err)
		return f
	}
	for {
		v := l.verbosity.Load()
		var raw json.RawMessage
		err := l.rpc.call(ctx, "getblock", []any{f.hash, v}, &raw)
		var re *RPCError
		if errors.As(err, &re) && v > 1 &&
			(re.Code == codeInvalidParam || re.Code == codeTypeError || re.Code == codeInvalidArgs) {
			// Most likely the verbosity: ask again one level lower.
			if l.verbosity.CompareAndSwap(v, v-1) {
				l.log.Info("node refused getblock verbosity; lowering it", "verbosity", v, "err", re)
			}
			continue
		}
		if err != nil {
			f.err = fmt.Errorf("btcrpc: block %d (%s): %w", h, f.hash, err)
			return f
		}
		b, ids, err := decodeBlock(raw)
		if err != nil {
			f.err = fmt.Errorf("btcrpc: block %d (%s): getblock: decoding: %w", h, f.hash, err)
			return f
		}
		if ids != nil {
			b, err = l.fetchTxs(ctx, ids)
			if err != nil {
				f.err = fmt.Errorf("btcrpc: block %d (%s): %w", h, f.hash, err)
				return f
			}
		}
		if err := checkBlock(b); err != nil {
			f.err = fmt.Errorf("btcrpc: block %d (%s): getblock: %w: %w", h, f.hash, ErrBadResponse, err)
			return f
		}
		f.block = b
		return f
	}
}

// fetchTxs completes a block given as transaction ids with
// getrawtransaction (which needs the node's transaction index).
func (l *Loader) fetchTxs(ctx context.Context, ids *idBlock) (*rawBlock, error) {
	b := &rawBlock{Hash: ids.Hash, Height: ids.Height, Time: ids.Time, PreviousHash: ids.PreviousHash, Tx: make([]rawTx, len(ids.Tx))}
	err := parallel(ctx, l.cfg.Concurrency, len(ids.Tx), func(ctx context.Context, i int) error {
		if err := l.rpc.call(ctx, "getrawtransaction", []any{ids.Tx[i], 1}, &b.Tx[i]); err != nil {
			return fmt.Errorf("tx %.80s: %w", ids.Tx[i], err)
		}
		return nil
	})
	return b, err
}

// blockCounts are the Stats of one block.
type blockCounts struct {
	fetched int // spent outputs looked up with getrawtransaction
	zero    int // transfers of value 0 left out
}

// process checks a fetched block and turns it into transfers.
func (l *Loader) process(ctx context.Context, f fetched, prevHash string) ([]graph.Transfer, blockCounts, error) {
	b := f.block
	if b.Hash != f.hash {
		return nil, blockCounts{}, fmt.Errorf("btcrpc: block %d: asked for %s, node answered %.80q", f.height, f.hash, b.Hash)
	}
	if b.Height < 0 || uint64(b.Height) != f.height {
		return nil, blockCounts{}, fmt.Errorf("btcrpc: block %d (%s): node says height %d", f.height, f.hash, b.Height)
	}
	if prevHash != "" && b.PreviousHash != prevHash {
		return nil, blockCounts{}, fmt.Errorf("btcrpc: %w: block %d (%s) follows %.80q, not the loaded %s", ErrReorg, f.height, f.hash, b.PreviousHash, prevHash)
	}
	txids, missing, err := l.scan(b)
	if err != nil {
		return nil, blockCounts{}, fmt.Errorf("btcrpc: block %d (%s): %w", f.height, f.hash, err)
	}
	fetchedOuts, err := l.fetchPrevouts(ctx, missing)
	if err != nil {
		return nil, blockCounts{}, fmt.Errorf("btcrpc: block %d (%s): %w", f.height, f.hash, err)
	}
	transfers, zero, err := l.transfers(b, txids, fetchedOuts)
	if err != nil {
		return nil, blockCounts{}, fmt.Errorf("btcrpc: block %d (%s): %w", f.height, f.hash, err)
	}
	return transfers, blockCounts{fetched: len(fetchedOuts), zero: zero}, nil
}

// scan parses the block's transaction ids and lists the transactions whose
// outputs are spent in the block but known neither from the block itself
// (verbosity 3 prevouts, outputs of earlier transactions in the block) nor
// from the outputs loaded before.
func (l *Loader) scan(b *rawBlock) ([]txHash, map[txHash][]uint32, error) {
	txids := make([]txHash, len(b.Tx))
	inBlock := make(map[txHash]struct{}, len(b.Tx))
	var missing map[txHash][]uint32
	for i := range b.Tx {
		tx := &b.Tx[i]
		id, err := parseTxid(tx.Txid)
		if err != nil {
			return nil, nil, fmt.Errorf("tx %d: %w", i, err)
		}
		txids[i] = id
		for j := range tx.Vin {
			in := &tx.Vin[j]
			if in.Coinbase != "" || in.Prevout != nil {
				continue
			}
			prev, err := parseTxid(in.Txid)
			if err != nil {
				return nil, nil, fmt.Errorf("tx %s input %d: %w", tx.Txid, j, err)
			}
			if _, ok := inBlock[prev]; ok {
				continue
			}
			if _, ok := l.utxo[outpoint{prev, in.Vout}]; ok {
				continue
			}
			if missing == nil {
				missing = make(map[txHash][]uint32)
			}
			missing[prev] = append(missing[prev], in.Vout)
		}
		inBlock[id] = struct{}{}
	}
	return txids, missing, nil
}

// fetchPrevouts looks the listed outputs up with getrawtransaction.
func (l *Loader) fetchPrevouts(ctx context.Context, missing map[txHash][]uint32) (map[outpoint]prevOut, error) {
	if len(missing) == 0 {
		return nil, nil
	}
	ids := make([]txHash, 0, len(missing))
	for id := range missing {
		ids = append(ids, id)
	}
	results := make([]map[outpoint]prevOut, len(ids))
	err := parallel(ctx, l.cfg.Concurrency, len(ids), func(ctx context.Context, i int) error {
		id := ids[i]
		var tx rawTx
		if err := l.rpc.call(ctx, "getrawtransaction", []any{id.String(), 1}, &tx); err != nil {
			return fmt.Errorf("spent output of tx %s: %w", id, err)
		}
		if tx.Txid != id.String() {
			return fmt.Errorf("getrawtransaction %s: node answered tx %.80q", id, tx.Txid)
		}
		m := make(map[outpoint]prevOut, len(missing[id]))
		for _, n := range missing[id] {
			if int64(n) >= int64(len(tx.Vout)) || tx.Vout[n].N != n {
				return fmt.Errorf("getrawtransaction %s: no output %d", id, n)
			}
			p, _, err := l.output(&tx.Vout[n])
			if err != nil {
				return fmt.Errorf("getrawtransaction %s: output %d: %w", id, n, err)
			}
			m[outpoint{id, n}] = p
		}
		results[i] = m
		return nil
	})
	if err != nil {
		return nil, err
	}
	all := make(map[outpoint]prevOut)
	for _, m := range results {
		for k, v := range m {
			all[k] = v
		}
	}
	return all, nil
}

// output reads an output's address and value. It also reports whether the
// output can never be spent (an OP_RETURN script), so the output map need
// not keep it.
func (l *Loader) output(o *rawOut) (prevOut, bool, error) {
	v, err := parseBTC(o.Value.String())
	if err != nil {
		return prevOut{}, false, fmt.Errorf("value: %w", err)
	}
	addr, unspendable, err := scriptHexAddress(o.ScriptPubKey.Hex, &l.net)
	if err != nil {
		return prevOut{}, false, err
	}
	return prevOut{addr: addr, value: v}, unspendable, nil
}

// transfers builds the block's transfers: per transaction, one per input
// (spent output's address → tx node) in input order, then one per output
// (tx node → address) in output order. It also updates the output map and
// returns the number of zero-value transfers left out.
func (l *Loader) transfers(b *rawBlock, txids []txHash, fetched map[outpoint]prevOut) ([]graph.Transfer, int, error) {
	n := 0
	for i := range b.Tx {
		n += len(b.Tx[i].Vin) + len(b.Tx[i].Vout)
	}
	out := make([]graph.Transfer, 0, n)
	// The block's own outputs, kept apart from the bounded output map so
	// that spends within the block always resolve.
	own := make(map[outpoint]prevOut, n)
	height := uint64(b.Height)
	zero := 0
	for i := range b.Tx {
		tx := &b.Tx[i]
		id := txids[i]
		txid := id.String()
		node := TxNode(txid)
		for j := range tx.Vin {
			in := &tx.Vin[j]
			if in.Coinbase != "" {
				continue
			}
			prev, _ := parseTxid(in.Txid) // checked by scan
			op := outpoint{prev, in.Vout}
			p, ok := own[op]
			switch {
			case ok:
				delete(own, op)
			case in.Prevout != nil:
				var err error
				if p, _, err = l.output(in.Prevout); err != nil {
					return nil, 0, fmt.Errorf("tx %s input %d: prevout: %w", txid, j, err)
				}
				delete(l.utxo, op)
			default:
				if p, ok = fetched[op]; !ok {
					p, ok = l.utxo[op]
				}
				if !ok {
					// Only a block that spends one output twice gets here.
					return nil, 0, fmt.Errorf("tx %s input %d: spent output %s:%d not found", txid, j, prev, in.Vout)
				}
				delete(l.utxo, op)
			}
			if p.value == 0 && !l.cfg.KeepZeroValue {
				zero++
				continue
			}
			out = append(out, graph.Transfer{
				Tx: txid, Block: height, Time: b.Time,
				From: p.addr, To: node, Amount: graph.AmountFromUint64(p.value),
			})
		}
		for j := range tx.Vout {
			o := &tx.Vout[j]
			if o.N != uint32(j) {
				return nil, 0, fmt.Errorf("tx %s output %d: numbered %d", txid, j, o.N)
			}
			p, unspendable, err := l.output(o)
			if err != nil {
				return nil, 0, fmt.Errorf("tx %s output %d: %w", txid, j, err)
			}
			if !unspendable {
				own[outpoint{id, uint32(j)}] = p
			}
			if p.value == 0 && !l.cfg.KeepZeroValue {
				zero++
				continue
			}
			out = append(out, graph.Transfer{
				Tx: txid, Block: height, Time: b.Time,
				From: node, To: p.addr, Amount: graph.AmountFromUint64(p.value),
			})
		}
	}
	for op, p := range own {
		if len(l.utxo) >= l.cfg.MaxOutpoints {
			break
		}
		l.utxo[op] = p
	}
	return out, zero, nil
}

// TxNode returns the graph node that stands for a transaction: "tx:<txid>".
func TxNode(txid string) string { return "tx:" + txid }

// parallel runs fn for 0..n-1 with at most limit at once and returns the
// first error, cancelling the others' context.
func parallel(ctx context.Context, limit, n int, fn func(ctx context.Context, i int) error) error {
	if n == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		once sync.Once
		err  error
	)
	sem := make(chan struct{}, limit)
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			if err == nil {
				err = ctx.Err()
			}
			return err
		}
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			if e := fn(ctx, i); e != nil {
				once.Do(func() { err = e; cancel() })
			}
		}(i)
	}
	wg.Wait()
	return err
}
