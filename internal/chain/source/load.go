package source

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// formatError is a file-level problem that makes the file unusable (a
// missing column, not a GEXF document); it fails the load naming the file.
type formatError struct{ msg string }

func (e *formatError) Error() string { return e.msg }

func fileError(format string, args ...any) error {
	return &formatError{fmt.Sprintf(format, args...)}
}

// entry is a file to read.
type entry struct {
	path      string
	format    Format
	needs     timeNeeds
	timesOnly bool
	// superseded: a transactions.csv loaded beside a traces.csv, which
	// holds its transfers too; read for timestamps only.
	superseded bool
	info       os.FileInfo // for finding a file named twice
	arg        int         // which path argument of the load it came from
}

// order sorts entries so that block timestamps are known before the files
// that need them: givers first, then the rest, then the needers.
func (e entry) order() int {
	switch {
	case e.timesOnly || e.needs == timesGives:
		return 0
	case e.needs == timesNeeds:
		return 2
	}
	return 1
}

// Load reads path, a file or a directory (walked recursively, hidden names
// skipped), into sink. "-" reads standard input. See Loader for the rules on
// unknown files. For a single file that needs block timestamps
// (token_transfers.csv), blocks and transactions files beside it are read
// for their timestamps. The Stats are valid also when an error is returned.
func (l *Loader) Load(ctx context.Context, path string, sink Sink) (Stats, error) {
	if path == "-" {
		return l.Read(ctx, os.Stdin, "-", sink)
	}
	return l.LoadAll(ctx, []string{path}, sink)
}

// LoadAll reads several paths as one load, as Load reads one: a file named
// twice (or also found in a directory given) is read once; a traces.csv
// supersedes the transactions.csv files of its own path argument, or of
// its own directory when named apart (see supersede); TronGrid histories
// and ground-truth files skip a transfer another file of the load gave
// (both parties' histories). Exports by block (ethereum-etl, bitcoin-etl)
// are not keyed in memory, which would cost more than the graph; but when
// two files of one such format turn out to hold blocks in common
// (overlapping exports, sharded query results, a file cut in two), the
// load is done again with every transfer keyed, so a transfer two files
// give counts once. That needs a sink that can start over (a Reset
// method, as graph.Builder has); with another sink such a load is an
// error wrapping ErrOverlap.
func (l *Loader) LoadAll(ctx context.Context, paths []string, sink Sink) (Stats, error) {
	st, err := l.loadAll(ctx, paths, sink, false)
	if !errors.Is(err, ErrOverlap) {
		return st, err
	}
	rs, ok := sink.(interface{ Reset() })
	if !ok {
		return st, err
	}
	if l.Logger != nil {
		l.Logger.Info("files share blocks; loading again with every transfer keyed", "err", err)
	}
	rs.Reset()
	l.labels = nil // the sink forgot the labels it was handed
	st, err = l.loadAll(ctx, paths, sink, true)
	st.Rekeyed = true
	return st, err
}

// ErrOverlap: two exports by block of one format hold blocks in common.
var ErrOverlap = errors.New("files of one export format hold blocks in common")

func (l *Loader) loadAll(ctx context.Context, paths []string, sink Sink, keyAll bool) (Stats, error) {
	var st Stats
	r := l.newRun(ctx, sink, &st)
	var entries []entry
	for arg, path := range paths {
		es, err := l.entries(path, &st)
		if err != nil {
			return st, err
		}
		for i := range es {
			es[i].arg = arg
		}
		entries = append(entries, es...)
	}
	entries = sameFiles(entries, &st)
	supersede(entries)
	perFormat := map[Format]int{}
	for _, e := range entries {
		if !e.timesOnly {
			perFormat[e.format]++
		}
	}
	slices.SortStableFunc(entries, func(a, b entry) int { return a.order() - b.order() })
	for _, e := range entries {
		l.fileCount++
		r.file = l.fileCount
		// A TronGrid file is often both parties' histories put
		// together: its entries repeat within it too.
		r.dedup = !e.timesOnly && (e.format == FormatTronGrid || perFormat[e.format] > 1 && (keyAll || e.format == FormatGroundTruth))
		r.dedupWithin = e.format == FormatTronGrid
		if err := r.readFile(e); err != nil {
			return st, err
		}
	}
	l.rows = nil // the load is over: a later one starts afresh
	if keyAll {
		return st, nil
	}
	return st, overlapping(st.Files)
}

// overlapping reports two files of one export-by-block format whose
// transfers' blocks overlap.
func overlapping(files []FileStats) error {
	for i, a := range files {
		if a.TimesOnly || a.LastBlock == 0 || !byBlock(a.Format) {
			continue
		}
		for _, b := range files[i+1:] {
			if b.Format == a.Format && !b.TimesOnly && b.LastBlock != 0 && a.FirstBlock <= b.LastBlock && b.FirstBlock <= a.LastBlock {
				return fmt.Errorf("source: %w: %s and %s both hold %s transfers of blocks %d-%d",
					ErrOverlap, a.Path, b.Path, a.Format, max(a.FirstBlock, b.FirstBlock), min(a.LastBlock, b.LastBlock))
			}
		}
	}
	return nil
}

func byBlock(f Format) bool {
	switch f {
	case FormatEthTransactions, FormatEthTokenTransfers, FormatEthTraces, FormatBitcoinETL:
		return true
	}
	return false
}

// entries lists the files to read for path.
func (l *Loader) entries(path string, st *Stats) ([]entry, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	if info.IsDir() {
		entries, err := l.walk(path, st)
		if err != nil {
			return nil, err
		}
		if len(entries) == 0 {
			return nil, fmt.Errorf("source: %s: no file in a known transfer format", path)
		}
		return entries, nil
	}
	f, needs, err := sniffFile(path)
	if err != nil {
		return nil, err
	}
	switch f {
	case FormatUnknown:
		return nil, fmt.Errorf("source: %s: not in a known format (ethereum-etl CSV, bitcoin-etl JSON lines, TronGrid JSON, ground-truth CSV, GEXF)", path)
	case FormatAddressList:
		return nil, fmt.Errorf("source: %s: an address list, not transfers (read it with ReadAddressList)", path)
	}
	entries := []entry{{path: path, format: f, needs: needs, info: info}}
	if needs == timesNeeds && l.times.len() == 0 {
		entries = append(entries, l.siblingTimes(path, st)...)
	}
	return entries, nil
}

// sameFiles drops the entries that name a file an earlier one names (by
// identity, not by spelling), noting them in st.Ignored; a file read for
// its transfers anywhere is read for them once.
func sameFiles(entries []entry, st *Stats) []entry {
	out := entries[:0]
next:
	for _, e := range entries {
		if e.info == nil {
			info, err := os.Stat(e.path)
			if err != nil {
				out = append(out, e) // reading it will say what is wrong
				continue
			}
			e.info = info
		}
		for i := range out {
			if o := &out[i]; o.info != nil && os.SameFile(o.info, e.info) {
				if !e.timesOnly && o.timesOnly {
					o.timesOnly = false // read for its transfers, which gives the times too
				}
				if !e.timesOnly {
					st.Ignored = append(st.Ignored, Problem{File: e.path, Reason: "read already: given twice in the load"})
				}
				continue next
			}
		}
		out = append(out, e)
	}
	return out
}

// supersede marks the transactions files of the export a traces file is
// in as read for timestamps only: every transaction's own value is in the
// traces too (its top-level trace), and loading both would count it twice.
func supersede(entries []entry) {
	// An export is a path argument (a directory walked: ethereum-etl's
	// partitioned layout puts traces and transactions in folders of their
	// own), or a directory whose files are named one by one.
	tracedArg, tracedDir := map[int]bool{}, map[string]bool{}
	for _, e := range entries {
		if e.format == FormatEthTraces {
			tracedArg[e.arg], tracedDir[filepath.Dir(e.path)] = true, true
		}
	}
	for i := range entries {
		if e := &entries[i]; e.format == FormatEthTransactions && (tracedArg[e.arg] || tracedDir[filepath.Dir(e.path)]) {
			e.timesOnly, e.superseded = true, true
		}
	}
}

// walk lists the loadable files under dir.
func (l *Loader) walk(dir string, st *Stats) ([]entry, error) {
	var entries []entry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("source: %w", err)
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, needs, err := sniffFile(p)
		if err != nil {
			return err
		}
		switch {
		case f == FormatAddressList:
			st.Ignored = append(st.Ignored, Problem{File: p, Reason: "address list, not transfers"})
		case f != FormatUnknown:
			info, err := d.Info()
			if err != nil {
				return fmt.Errorf("source: %w", err)
			}
			entries = append(entries, entry{path: p, format: f, needs: needs, info: info})
		case notData(p):
			st.Ignored = append(st.Ignored, Problem{File: p, Reason: "not a data file"})
		case l.SkipUnknown:
			st.Ignored = append(st.Ignored, Problem{File: p, Reason: "unknown format"})
		default:
			return fmt.Errorf("source: %s: not in a known format (set SkipUnknown to skip such files)", p)
		}
		return nil
	})
	return entries, err
}

// siblingTimes finds blocks and transactions files beside path to take
// block timestamps from.
func (l *Loader) siblingTimes(path string, st *Stats) []entry {
	dir := filepath.Dir(path)
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []entry
	for _, d := range des {
		p := filepath.Join(dir, d.Name())
		if !d.Type().IsRegular() || p == path || strings.HasPrefix(d.Name(), ".") {
			continue
		}
		f, needs, err := sniffFile(p)
		if err != nil || needs != timesGives || (f != FormatEthBlocks && f != FormatEthTransactions) {
			continue
		}
		out = append(out, entry{path: p, format: f, needs: needs, timesOnly: true})
	}
	return out
}

// sniffFile detects a file's format.
func sniffFile(path string) (Format, timeNeeds, error) {
	f, err := os.Open(path)
	if err != nil {
		return FormatUnknown, timesNone, fmt.Errorf("source: %w", err)
	}
	defer f.Close()
	br, closeFn, err := openStream(f)
	if err != nil {
		// A damaged compressed file is in no known format.
		return FormatUnknown, timesNone, nil
	}
	defer closeFn()
	head, _ := br.Peek(sniffBytes)
	fm, needs := detect(path, head)
	return fm, needs, nil
}

// openStream buffers r, decompressing gzip.
func openStream(r io.Reader) (*bufio.Reader, func(), error) {
	raw := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := raw.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return bufio.NewReaderSize(zr, 64<<10), func() { zr.Close() }, nil
	}
	return raw, func() {}, nil
}

// Read reads one stream in any supported format into sink; name is used in
// messages and for format detection. Token transfers find their block times
// among those earlier calls on the same Loader collected.
func (l *Loader) Read(ctx context.Context, rd io.Reader, name string, sink Sink) (Stats, error) {
	var st Stats
	r := l.newRun(ctx, sink, &st)
	br, closeFn, err := openStream(rd)
	if err != nil {
		return st, fmt.Errorf("source: %s: %w", name, err)
	}
	defer closeFn()
	head, _ := br.Peek(sniffBytes)
	f, _ := detect(name, head)
	switch f {
	case FormatUnknown:
		return st, fmt.Errorf("source: %s: not in a known format", name)
	case FormatAddressList:
		return st, fmt.Errorf("source: %s: an address list, not transfers", name)
	}
	r.beginFile(name, f, false)
	return st, r.finish(r.readFormat(br, f, false))
}

func (r *run) readFile(e entry) error {
	f, err := os.Open(e.path)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	defer f.Close()
	r.beginFile(e.path, e.format, e.timesOnly)
	if e.superseded {
		r.problem(0, "read for block timestamps only: the traces in this load hold its transfers, and the internal ones too")
	}
	br, closeFn, err := openStream(f)
	if err != nil {
		return fmt.Errorf("source: %s: %w", e.path, err)
	}
	defer closeFn()
	if r.l.Logger != nil {
		r.l.Logger.Debug("loading", "file", e.path, "format", string(e.format), "times_only", e.timesOnly)
	}
	return r.finish(r.readFormat(br, e.format, e.timesOnly))
}

// finish sorts out the error a reader returned: damaged or cut-off input is
// a bad row (what was read stays loaded), anything else ends the load.
func (r *run) finish(err error) error {
	var fe *formatError
	var ce flate.CorruptInputError
	switch {
	case err == nil:
		return nil
	case isStop(err):
		return err
	case errors.As(err, &fe):
		return fmt.Errorf("source: %s: %w", r.fs.Path, err)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.As(err, &ce):
		r.bad(0, "input is damaged or cut off: %v (rest of file skipped)", err)
		return nil
	}
	return fmt.Errorf("source: reading %s: %w", r.fs.Path, err)
}

// readFormat dispatches to the reader for f.
func (r *run) readFormat(br *bufio.Reader, f Format, timesOnly bool) error {
	max := r.l.maxLine()
	switch f {
	case FormatGEXF:
		return r.readGEXF(br)
	case FormatBitcoinETL:
		return r.readBitcoinETL(&lineReader{br: br, max: max})
	case FormatTronGrid:
		return r.readTronGrid(br)
	case FormatEthTransactions, FormatEthTokenTransfers, FormatEthTraces, FormatEthBlocks, FormatGroundTruth:
	default:
		return fileError("format %q cannot be read as transfers", f)
	}
	cr := &csvReader{lr: lineReader{br: br, max: max}}
	fields, long, err := cr.read()
	switch {
	case err == io.EOF:
		return nil // empty file
	case err != nil:
		return err
	case long:
		return fileError("header line longer than %d bytes", max)
	}
	h := header(fields)
	switch f {
	case FormatEthTransactions:
		return r.readEthTransactions(cr, h, timesOnly)
	case FormatEthTokenTransfers:
		return r.readEthTokenTransfers(cr, h)
	case FormatEthTraces:
		return r.readEthTraces(cr, h)
	case FormatEthBlocks:
		return r.readEthBlocks(cr, h)
	default:
		return r.readGroundTruth(cr, h)
	}
}

// record reads the next CSV record and counts it as a row. Over-long records
// are bad rows and skipped; an unterminated quote ends the file as a bad
// row. ok is false at the end of input or on a read error.
func (r *run) record(cr *csvReader) (fields [][]byte, ok bool, err error) {
	for {
		f, long, err := cr.read()
		switch {
		case err == io.EOF:
			return nil, false, nil
		case errors.Is(err, errUnterminated):
			_ = r.row() // the load ends with this file's last record anyway
			r.bad(cr.start, "quoted field not closed before the end of input")
			return nil, false, nil
		case err != nil:
			return nil, false, err
		}
		if err := r.row(); err != nil {
			return nil, false, err
		}
		if long {
			r.bad(cr.start, "record longer than %d bytes", cr.lr.max)
			continue
		}
		return f, true, nil
	}
}

// ReadAddressFile reads an address list file (gzip allowed); see
// ReadAddressList.
func ReadAddressFile(ctx context.Context, path string) ([]string, []Problem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("source: %w", err)
	}
	defer f.Close()
	br, closeFn, err := openStream(f)
	if err != nil {
		return nil, nil, fmt.Errorf("source: %s: %w", path, err)
	}
	defer closeFn()
	return ReadAddressList(ctx, br, path)
}
