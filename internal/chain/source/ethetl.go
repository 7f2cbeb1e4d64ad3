package source

import (
	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// ethereum-etl CSV exports (docs/schema.md of blockchain-etl/ethereum-etl):
//
//	blocks.csv           number, hash, …, timestamp, transaction_count, …
//	transactions.csv     hash, nonce, block_hash, block_number, transaction_index,
//	                     from_address, to_address, value, gas, gas_price, input,
//	                     block_timestamp, …, and receipt_status in exports that
//	                     join the receipts (BigQuery, export_all)
//	token_transfers.csv  token_address, from_address, to_address, value,
//	                     transaction_hash, log_index, block_number
//	traces.csv           block_number, transaction_hash, from_address,
//	                     to_address, value, trace_type, call_type,
//	                     trace_address, error, status, …
//
// Column order differs between versions, so columns are looked up by name.
// Old transactions.csv files and every token_transfers.csv lack a timestamp;
// it comes from blocks.csv or transactions.csv read earlier by the same Loader
// (Load orders the files of one call so that they are).
//
// traces.csv holds every movement of ether a transaction made: its own
// value (the top-level trace, trace_address empty) and the value contracts
// passed on inside it ("internal transactions": a mixer paying out a
// withdrawal, a bridge releasing funds, a contract's selfdestruct). It is a
// superset of transactions.csv, so when both are in one load the
// transactions are read for their timestamps only and every ether
// transfer comes from the traces.

// ethCols are the column indexes of one ethereum-etl file; -1 when absent.
type ethCols struct {
	n                                      int
	hash, from, to, value, block, ts, stat int
	token                                  int
	number                                 int // blocks.csv
}

func ethColumns(h []string) ethCols {
	return ethCols{
		n:      len(h),
		hash:   column(h, "hash", "transaction_hash"),
		from:   column(h, "from_address"),
		to:     column(h, "to_address"),
		value:  column(h, "value"),
		block:  column(h, "block_number"),
		ts:     column(h, "block_timestamp"),
		stat:   column(h, "receipt_status"),
		token:  column(h, "token_address"),
		number: column(h, "number"),
	}
}

// missingColumn names the first required column that is absent.
func missingColumn(h []string, required ...string) string {
	for _, r := range required {
		if column(h, r) < 0 {
			return r
		}
	}
	return ""
}

// readEthBlocks reads blocks.csv for its timestamps.
func (r *run) readEthBlocks(cr *csvReader, h []string) error {
	if m := missingColumn(h, "number", "timestamp"); m != "" {
		return fileError("header has no %q column", m)
	}
	num, ts := column(h, "number"), column(h, "timestamp")
	for {
		f, ok, err := r.record(cr)
		if !ok {
			return err
		}
		if len(f) != len(h) {
			r.bad(cr.start, "%d fields, header has %d", len(f), len(h))
			continue
		}
		b, ok := parseUint(f[num])
		if !ok {
			r.bad(cr.start, "number %q is not a block number", clip(f[num]))
			continue
		}
		t, ok := parseTime(f[ts])
		if !ok {
			r.bad(cr.start, "timestamp %q is not a time", clip(f[ts]))
			continue
		}
		r.l.times.add(b, t)
	}
}

// readEthTransactions reads transactions.csv (native coin transfers). With
// timesOnly it only collects block timestamps.
func (r *run) readEthTransactions(cr *csvReader, h []string, timesOnly bool) error {
	if m := missingColumn(h, "from_address", "to_address", "value", "block_number"); m != "" {
		return fileError("header has no %q column", m)
	}
	c := ethColumns(h)
	if c.hash < 0 {
		return fileError("header has no %q column", "hash")
	}
	if timesOnly && c.ts < 0 {
		return nil
	}
	if c.stat < 0 && !timesOnly {
		r.problem(0, "no receipt_status column: failed transactions cannot be told apart and are loaded")
	}
	var lastHash string
	for {
		row, ok, err := r.nextEthRow(cr, c)
		if !ok {
			return err
		}
		if c.ts >= 0 {
			r.l.times.add(row.block, row.t)
		}
		if timesOnly {
			continue
		}
		// An empty status is a pre-Byzantium receipt: success.
		if c.stat >= 0 && r.failedOrBad(row.line, "receipt_status", row.f[c.stat], true) {
			continue
		}
		if len(row.f[c.to]) == 0 {
			r.skip(SkipContractCreation)
			continue
		}
		tr, ok := r.ethTransfer(row, c, "hash", &lastHash)
		if !ok {
			continue
		}
		if err := r.ethEmit(row.line, tr, c.ts >= 0); err != nil {
			return err
		}
	}
}

// readEthTokenTransfers reads token_transfers.csv.
func (r *run) readEthTokenTransfers(cr *csvReader, h []string) error {
	if m := missingColumn(h, "token_address", "from_address", "to_address", "value", "transaction_hash", "block_number"); m != "" {
		return fileError("header has no %q column", m)
	}
	c := ethColumns(h)
	c.hash = column(h, "transaction_hash")
	var lastHash string
	for {
		row, ok, err := r.nextEthRow(cr, c)
		if !ok {
			return err
		}
		tr, ok := r.ethTransfer(row, c, "transaction_hash", &lastHash)
		if !ok {
			continue
		}
		if tr.Asset, ok = r.l.evmAddress(row.f[c.token]); !ok {
			r.bad(row.line, "token_address %q is not an EVM address", clip(row.f[c.token]))
			continue
		}
		if err := r.ethEmit(row.line, tr, c.ts >= 0); err != nil {
			return err
		}
	}
}

// ethRow is a row of an ethereum-etl table with the right field count and
// a good block number and (when the file has the column) timestamp; t is 0
// without one.
type ethRow struct {
	f     [][]byte
	line  int64
	block uint64
	t     int64
}

// nextEthRow reads rows until one is an ethRow, reporting the others as
// bad; false at the end of input or on a read error.
func (r *run) nextEthRow(cr *csvReader, c ethCols) (ethRow, bool, error) {
	for {
		f, ok, err := r.record(cr)
		if !ok {
			return ethRow{}, false, err
		}
		row := ethRow{f: f, line: cr.start}
		if len(f) != c.n {
			r.bad(row.line, "%d fields, header has %d", len(f), c.n)
			continue
		}
		if row.block, ok = parseUint(f[c.block]); !ok {
			r.bad(row.line, "block_number %q is not a block number", clip(f[c.block]))
			continue
		}
		if c.ts >= 0 {
			if row.t, ok = parseTime(f[c.ts]); !ok {
				r.bad(row.line, "block_timestamp %q is not a time", clip(f[c.ts]))
				continue
			}
		}
		return row, true, nil
	}
}

// ethTransfer reads the columns the ethereum-etl tables share: value,
// transaction hash (column hashName), from and to, and takes the row's
// block and time. false: the line was reported bad.
func (r *run) ethTransfer(row ethRow, c ethCols, hashName string, lastHash *string) (graph.Transfer, bool) {
	f, line := row.f, row.line
	var tr graph.Transfer
	amt, err := r.l.amount(f[c.value])
	if err != nil {
		r.bad(line, "value: %v", err)
		return tr, false
	}
	tx, ok := evmHash(f[c.hash], lastHash)
	if !ok {
		r.bad(line, "%s %q is not a transaction hash", hashName, clip(f[c.hash]))
		return tr, false
	}
	from, ok := r.l.evmAddress(f[c.from])
	if !ok {
		r.bad(line, "from_address %q is not an EVM address", clip(f[c.from]))
		return tr, false
	}
	to, ok := r.l.evmAddress(f[c.to])
	if !ok {
		r.bad(line, "to_address %q is not an EVM address", clip(f[c.to]))
		return tr, false
	}
	return graph.Transfer{Tx: tx, From: from, To: to, Amount: amt, Block: row.block, Time: row.t}, true
}

// failedOrBad reads a status column of 0 or 1 (or empty, when emptyOK:
// success), and tells whether the row is to be passed over: counted as
// failed, or reported as bad.
func (r *run) failedOrBad(line int64, name string, s []byte, emptyOK bool) bool {
	switch {
	case len(s) == 1 && s[0] == '0':
		r.skip(SkipFailed)
		return true
	case len(s) == 1 && s[0] == '1', len(s) == 0 && emptyOK:
		return false
	}
	r.bad(line, "%s %q is not 0 or 1", name, clip(s))
	return true
}

// ethEmit skips a zero value (unless kept), takes the block's time from
// blocks.csv when the row has none (timed false), and emits the transfer.
func (r *run) ethEmit(line int64, tr graph.Transfer, timed bool) error {
	if tr.Amount.IsZero() && !r.l.KeepZero {
		r.skip(SkipZeroValue)
		return nil
	}
	if !timed {
		t, ok := r.l.times.lookup(tr.Block)
		if !ok {
			r.noTime(line, tr.Block)
			return nil
		}
		tr.Time = t
	}
	return r.emit(line, tr)
}

// readEthTraces reads traces.csv: a transfer for every trace that moved
// ether and did not fail, its own or through a failed ancestor (status 0,
// which ethereum-etl propagates down the call tree).
func (r *run) readEthTraces(cr *csvReader, h []string) error {
	if m := missingColumn(h, "from_address", "to_address", "value", "trace_type", "block_number", "transaction_hash"); m != "" {
		return fileError("header has no %q column", m)
	}
	c := ethColumns(h)
	c.hash = column(h, "transaction_hash")
	c.stat = column(h, "status")
	typ, call, errCol := column(h, "trace_type"), column(h, "call_type"), column(h, "error")
	switch {
	case c.stat < 0 && errCol < 0:
		r.problem(0, "no status or error column: failed traces cannot be told apart and are loaded")
	case c.stat < 0:
		r.problem(0, "no status column: a trace is taken as failed only when it has an error itself, not when an ancestor failed")
	}
	var lastHash string
	for {
		row, ok, err := r.nextEthRow(cr, c)
		if !ok {
			return err
		}
		f, line := row.f, row.line
		switch string(f[typ]) {
		case "call":
			// Only a plain call moves value from caller to callee.
			// delegatecall and callcode run the callee's code on the
			// caller's balance (the value shown is the parent's), and
			// staticcall carries none.
			if call >= 0 && string(f[call]) != "call" {
				r.skip(SkipNoValueMoved)
				continue
			}
		case "create", "create2", "suicide", "selfdestruct":
			// The endowment of a new contract; a destroyed contract's
			// balance sent to its beneficiary.
		case "reward", "genesis", "daofork":
			// Issued coins (block and uncle rewards, genesis allocations)
			// and the DAO fork's state change have no sender to trace from.
			r.skip(SkipIssuance)
			continue
		default:
			r.bad(line, "trace_type %q is not call, create, suicide, reward, genesis or daofork", clip(f[typ]))
			continue
		}
		if c.stat >= 0 {
			if r.failedOrBad(line, "status", f[c.stat], false) {
				continue
			}
		} else if errCol >= 0 && len(f[errCol]) > 0 {
			r.skip(SkipFailed)
			continue
		}
		if len(f[c.to]) == 0 {
			// A create that failed has no contract; anything else
			// without a recipient is damaged.
			r.bad(line, "to_address is empty")
			continue
		}
		tr, ok := r.ethTransfer(row, c, "transaction_hash", &lastHash)
		if !ok {
			continue
		}
		if err := r.ethEmit(line, tr, c.ts >= 0); err != nil {
			return err
		}
	}
}
