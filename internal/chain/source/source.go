// Package source turns chain data exported by other tools into
// graph.Transfer values for the transfer graph. It reads:
//
//   - ethereum-etl CSV exports (ethetl.go): transactions.csv (native coin),
//     token_transfers.csv (ERC-20/721 Transfer events; Asset is the token
//     contract) and blocks.csv (for the block timestamps token_transfers.csv
//     lacks). Columns are found by header name. Failed transactions
//     (receipt_status 0), contract creations (empty to_address) and, unless
//     Loader.KeepZero, zero-value transfers are skipped and counted.
//     traces.csv adds the ether contracts move inside a transaction (a
//     mixer's withdrawal, a bridge's release, a selfdestruct); it holds
//     every transaction's own value too, so a load that has it reads
//     transactions.csv for timestamps only.
//   - bitcoin-etl JSON lines (bitcoinetl.go): enriched transactions, or
//     blocks carrying their transactions, in a UTXO model with one "tx:<hash>"
//     node per transaction.
//   - the MFTracer ground-truth CSV (groundtruth.go): amounts unknown (zero),
//     USD set, labels handed to sinks that implement Labeler; and the address
//     lists that come with it (ReadAddressList).
//   - GEXF 1.2 as NetworkX writes it (gexf.go): exact integer weights, no
//     times unless edge attributes carry them.
//   - TronGrid account histories (trongrid.go): TRX, and USDT and other
//     TRC-20 tokens, on TRON; addresses in base58.
//
// Load takes a file or a directory (recursively), detects each file's format
// from its content and name, reads gzip transparently and reports what it did
// in Stats. Input is hostile: lines, records and XML tokens are bounded, and
// a malformed row is counted and reported with its file and line and never
// stops the load (a syntax error ends an XML file, which cannot be
// resynchronised; a damaged gzip stream ends its file). Files in no known
// format, files missing a required column, unreadable files and sink errors
// are errors.
//
// Addresses are in the canonical form of internal/chain/address (lower-case
// 0x… for EVM chains; an address that does not parse makes its row bad, except
// GEXF node ids, which need not be addresses). Transaction hashes are lower
// case: 0x + 64 hex digits for Ethereum, 64 hex digits for Bitcoin. Times are
// Unix seconds (UTC).
package source

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"maps"
	"math"
	"math/big"
	"slices"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// Sink receives transfers; graph.Builder is one. An error from Add stops the
// load and is returned wrapped.
type Sink interface {
	Add(graph.Transfer) error
}

// Labeler is implemented by sinks that want the address labels some formats
// carry (the ground-truth CSV's From_label/To_label naming exchanges, bridges
// and hackers; GEXF node labels). Each distinct (address, label) pair is
// handed over once per Loader. An error stops the load like one from Add.
type Labeler interface {
	Label(address, label string) error
}

// Format names an input format.
type Format string

// Formats Detect recognises.
const (
	FormatUnknown           Format = ""
	FormatEthTransactions   Format = "ethereum-etl transactions"
	FormatEthTokenTransfers Format = "ethereum-etl token_transfers"
	FormatEthBlocks         Format = "ethereum-etl blocks"
	FormatEthTraces         Format = "ethereum-etl traces"
	FormatBitcoinETL        Format = "bitcoin-etl"
	FormatGroundTruth       Format = "ground-truth"
	FormatAddressList       Format = "address list"
	FormatGEXF              Format = "gexf"
	FormatTronGrid          Format = "trongrid"
)

// Reasons for skipped rows, the keys of Stats.Skipped. Skipped rows are valid
// but carry no transfer; bad rows are counted in Stats.Bad instead.
const (
	SkipFailed           = "failed-transaction"  // receipt_status 0
	SkipContractCreation = "contract-creation"   // empty to_address
	SkipZeroValue        = "zero-value"          // see Loader.KeepZero
	SkipCoinbaseInput    = "coinbase-input"      // newly minted coins have no sender
	SkipUnresolvedInput  = "input-without-value" // bitcoin-etl export not enriched
	SkipNoBlockTime      = "no-block-timestamp"  // token transfer in a block of unknown time
	SkipNoValueMoved     = "no-value-moved"      // delegatecall, callcode, staticcall traces
	SkipIssuance         = "issuance"            // reward, genesis and DAO-fork traces
	SkipNotTransfer      = "not-a-transfer"      // TRC-20 approvals, TRON contract calls other than TRX transfers
	SkipDuplicate        = "duplicate"           // a TronGrid entry already read (both parties' histories), or a transfer another file of the load gave (overlapping exports)
)

// Problem is a bad row or a file-level note, with its place.
type Problem struct {
	File   string
	Line   int64 // 1-based; 0 for the whole file
	Reason string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Reason)
	}
	return p.File + ": " + p.Reason
}

// FileStats describes one file read.
type FileStats struct {
	Path      string
	Format    Format
	Rows      int64 // data rows, JSON lines or GEXF edges read
	Transfers int64
	Bad       int64
	Nodes     int64 // GEXF nodes declared
	TimesOnly bool  // read only for block timestamps
	// FirstBlock and LastBlock bound the block numbers of the transfers
	// read (both 0 when none had one).
	FirstBlock, LastBlock uint64
}

// Stats reports a load.
type Stats struct {
	// Rekeyed: files of one export format held blocks in common, and the
	// load was done again with every transfer keyed (LoadAll).
	Rekeyed   bool
	Files     []FileStats
	Rows      int64
	Transfers int64
	Labels    int64            // distinct (address, label) pairs handed to a Labeler
	Skipped   map[string]int64 // reason (Skip* constants) -> rows
	Bad       int64            // malformed rows, all counted
	Problems  []Problem        // the first Loader.MaxProblems bad rows and notes
	Ignored   []Problem        // files under a directory that were not loaded, and why
}

// String summarises the stats in one line.
func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d files, %d rows, %d transfers, %d bad", len(s.Files), s.Rows, s.Transfers, s.Bad)
	for _, k := range slices.Sorted(maps.Keys(s.Skipped)) {
		fmt.Fprintf(&b, ", %d %s", s.Skipped[k], k)
	}
	if s.Labels > 0 {
		fmt.Fprintf(&b, ", %d labels", s.Labels)
	}
	return b.String()
}

// Limits applied when a Loader field is zero.
const (
	DefaultMaxLineBytes = 16 << 20
	DefaultMaxProblems  = 100
	maxLabelBytes       = 256 // longer labels are cut (at a rune boundary)
	maxNameBytes        = 512 // longest GEXF node id / nonstandard output name
	internLimit         = 1 << 16
)

// Loader reads sources. Its block-timestamp index, address cache and label
// de-duplication persist across calls, so token transfers read from a stream
// after the matching blocks.csv find their times. A Loader is not safe for
// concurrent use. The zero value is ready to use.
type Loader struct {
	// MaxLineBytes bounds a line, a CSV record (quoted newlines included), a
	// JSON line and an XML token; longer ones are bad rows and skipped.
	MaxLineBytes int
	// MaxProblems bounds Stats.Problems; all problems are counted regardless.
	MaxProblems int
	// KeepZero emits zero-value ethereum-etl and bitcoin-etl transfers
	// (contract calls, zero-value token transfers used in address poisoning,
	// OP_RETURN outputs), which carry no funds and are skipped by default.
	// Ground-truth and GEXF rows are always kept: their amount is unknown.
	KeepZero bool
	// SkipUnknown makes Load skip files in a directory that are in no known
	// format (listing them in Stats.Ignored) instead of failing. Files that
	// are evidently not data (README, LICENSE, *.md, images) are always
	// skipped in directories; a file named explicitly must be in a known
	// format.
	SkipUnknown bool
	// Logger, when set, gets one debug line per file.
	Logger *slog.Logger

	times  blockTimes
	evm    interner // raw -> canonical EVM address
	addrs  interner // raw -> canonical address of another chain
	names  interner // node names that are no address (GEXF ids, nonstandard outputs)
	labels map[string]string
	words  []big.Word // scratch for 128-bit amounts
	// rows maps the key of each transfer read from TronGrid histories, from
	// ground-truth files when a load reads several, and from every file of
	// a load done again because exports by block overlapped (LoadAll), to
	// the number of the file that gave it first, so that a transfer counts
	// once. Identical transfers within one file stay, but for TronGrid
	// (both parties' histories in one file): a transaction may pay one
	// address twice the same amount.
	rows      map[[2]uint64]uint32
	rowSeed   [2]maphash.Seed
	fileCount uint32
	keyBuf    []byte
}

func (l *Loader) maxLine() int {
	if l.MaxLineBytes > 0 {
		return l.MaxLineBytes
	}
	return DefaultMaxLineBytes
}

func (l *Loader) maxProblems() int {
	if l.MaxProblems > 0 {
		return l.MaxProblems
	}
	return DefaultMaxProblems
}

// Load reads path (a file or a directory) into sink with a new Loader.
func Load(ctx context.Context, path string, sink Sink) (Stats, error) {
	var l Loader
	return l.Load(ctx, path, sink)
}

// stopError marks errors that end the whole load (sink and labeler errors,
// cancellation), as opposed to bad rows.
type stopError struct{ err error }

func (e *stopError) Error() string { return e.err.Error() }
func (e *stopError) Unwrap() error { return e.err }

func stop(err error) error { return &stopError{err} }

func isStop(err error) bool {
	var s *stopError
	return errors.As(err, &s)
}

// run is the state of one Load or Read call.
type run struct {
	l       *Loader
	ctx     context.Context
	sink    Sink
	labeler Labeler
	st      *Stats
	fs      *FileStats
	rows    int // rows since the last cancellation check
	missing map[uint64]bool
	btc     []graph.Transfer // scratch: one bitcoin transaction's transfers
	file    uint32           // the number of the file being read, from 1
	dedup   bool             // its transfers are keyed: see Loader.rows
	// dedupWithin: a repeat within the file is a duplicate too (TronGrid).
	dedupWithin bool
}

func (l *Loader) newRun(ctx context.Context, sink Sink, st *Stats) *run {
	if st.Skipped == nil {
		st.Skipped = map[string]int64{}
	}
	lab, _ := sink.(Labeler)
	return &run{l: l, ctx: ctx, sink: sink, labeler: lab, st: st}
}

// beginFile starts the per-file counters.
func (r *run) beginFile(path string, f Format, timesOnly bool) {
	r.st.Files = append(r.st.Files, FileStats{Path: path, Format: f, TimesOnly: timesOnly})
	r.fs = &r.st.Files[len(r.st.Files)-1]
}

// row counts a data row and checks for cancellation now and then.
func (r *run) row() error {
	r.fs.Rows++
	if !r.fs.TimesOnly {
		r.st.Rows++
	}
	return r.tick()
}

// tick checks for cancellation every few thousand calls.
func (r *run) tick() error {
	r.rows++
	if r.rows >= 4096 {
		r.rows = 0
		if err := r.ctx.Err(); err != nil {
			return stop(err)
		}
	}
	return nil
}

// bad counts a malformed row and keeps its description while there is room.
// Files read only for their block timestamps (beside a token_transfers.csv
// given alone) count their bad rows in FileStats only: they were not asked
// for, and loading them directly reports them in full.
func (r *run) bad(line int64, format string, args ...any) {
	r.fs.Bad++
	if r.fs.TimesOnly {
		return
	}
	r.st.Bad++
	r.problem(line, format, args...)
}

func (r *run) problem(line int64, format string, args ...any) {
	if len(r.st.Problems) < r.l.maxProblems() {
		r.st.Problems = append(r.st.Problems, Problem{File: r.fs.Path, Line: line, Reason: fmt.Sprintf(format, args...)})
	}
}

func (r *run) skip(reason string) { r.st.Skipped[reason]++ }

func (r *run) emit(line int64, t graph.Transfer) error {
	if r.dedup && r.l.seenBefore(&t, r.file, r.dedupWithin) {
		r.skip(SkipDuplicate)
		return nil
	}
	if err := r.sink.Add(t); err != nil {
		return stop(fmt.Errorf("%s:%d: sink: %w", r.fs.Path, line, err))
	}
	if b := t.Block; b > 0 {
		if r.fs.FirstBlock == 0 || b < r.fs.FirstBlock {
			r.fs.FirstBlock = b
		}
		r.fs.LastBlock = max(r.fs.LastBlock, b)
	}
	r.st.Transfers++
	r.fs.Transfers++
	return nil
}

// seenBefore reports whether a file other than file gave t already, or
// with within any file, file included; and records t as file's otherwise.
func (l *Loader) seenBefore(t *graph.Transfer, file uint32, within bool) bool {
	if l.rows == nil {
		l.rows = map[[2]uint64]uint32{}
		l.rowSeed = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	}
	b := append(l.keyBuf[:0], t.Tx...)
	b = append(b, 0)
	b = append(b, t.From...)
	b = append(b, 0)
	b = append(b, t.To...)
	b = append(b, 0)
	b = append(b, t.Asset...)
	b = append(b, 0)
	b = t.Amount.AppendBinary(b)
	b = binary.LittleEndian.AppendUint64(b, uint64(t.Time))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(t.USD))
	l.keyBuf = b
	// Two independent 64-bit hashes: a false match would drop a transfer
	// silently, so one in 2^128, not one in 2^64 per pair.
	k := [2]uint64{maphash.Bytes(l.rowSeed[0], b), maphash.Bytes(l.rowSeed[1], b)}
	if f, ok := l.rows[k]; ok {
		return within || f != file
	}
	l.rows[k] = file
	return false
}

// label hands an (address, label) pair to the Labeler once. It allocates
// only for pairs not seen before.
func (r *run) label(line int64, addr string, lab []byte) error {
	lab = bytes.TrimSpace(lab)
	if r.labeler == nil || len(lab) == 0 || string(lab) == addr {
		return nil
	}
	if r.l.labels == nil {
		r.l.labels = map[string]string{}
	}
	if old, ok := r.l.labels[addr]; ok && old == string(lab) {
		return nil
	}
	label := cutLabel(string(lab))
	r.l.labels[addr] = label
	r.st.Labels++
	if err := r.labeler.Label(addr, label); err != nil {
		return stop(fmt.Errorf("%s:%d: labeler: %w", r.fs.Path, line, err))
	}
	return nil
}

// noTime records a row whose block has no known timestamp, describing each
// such block once.
func (r *run) noTime(line int64, block uint64) {
	r.skip(SkipNoBlockTime)
	if r.missing == nil {
		r.missing = map[uint64]bool{}
	}
	if !r.missing[block] && len(r.missing) < r.l.maxProblems() {
		r.missing[block] = true
		r.problem(line, "block %d has no timestamp: load its blocks.csv or transactions.csv in the same call (rows of this block are skipped)", block)
	}
}
