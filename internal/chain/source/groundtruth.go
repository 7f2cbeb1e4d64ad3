package source

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unsafe"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// The MFTracer ground truth (github.com/AnonymousMFTracer/Ground-Truth) is
// one CSV per case:
//
//	Timestamp,Block,Tx_hash,From,From_label,To,To_label,Value_in_USD
//	2023-01-13 20:34:11,16400290,0x1360…,0x7a01…,Harmony Bridge Hacker 45 SRC,0x4e54…,Harmony Bridge Hacker 46,200000.0
//
// with times in UTC. The token amounts are not given, so transfers carry a
// zero Amount and the USD value. The labels go to a Labeler sink. The
// companion <case>-source_addresses.csv and <case>-terminal_addresses.csv
// list one address a line; ReadAddressList reads them.

// readGroundTruth reads a ground-truth CSV.
func (r *run) readGroundTruth(cr *csvReader, h []string) error {
	if m := missingColumn(h, "timestamp", "tx_hash", "from", "to", "value_in_usd"); m != "" {
		return fileError("header has no %q column", m)
	}
	var (
		ts, block, tx  = column(h, "timestamp"), column(h, "block"), column(h, "tx_hash")
		from, to       = column(h, "from"), column(h, "to")
		fromLab, toLab = column(h, "from_label"), column(h, "to_label")
		usd            = column(h, "value_in_usd")
		lastHash       string
		why            string
	)
	for {
		f, ok, err := r.record(cr)
		if !ok {
			return err
		}
		line := cr.start
		if len(f) != len(h) {
			r.bad(line, "%d fields, header has %d", len(f), len(h))
			continue
		}
		var t graph.Transfer
		if t.Time, ok = parseTime(f[ts]); !ok {
			r.bad(line, "Timestamp %q is not a time", clip(f[ts]))
			continue
		}
		if block >= 0 {
			if t.Block, ok = parseUint(f[block]); !ok {
				r.bad(line, "Block %q is not a block number", clip(f[block]))
				continue
			}
		}
		if t.Tx, ok = txHash(f[tx], &lastHash); !ok {
			r.bad(line, "Tx_hash %q is not a transaction hash", clip(f[tx]))
			continue
		}
		if t.From, err = r.l.anyAddress(f[from]); err != nil {
			r.bad(line, "From %q is not an address", clip(f[from]))
			continue
		}
		if t.To, err = r.l.anyAddress(f[to]); err != nil {
			r.bad(line, "To %q is not an address", clip(f[to]))
			continue
		}
		// The format's only amount is the USD value: a row without one
		// would count as nothing, and a graph with some rows unvalued
		// cannot compare amounts at all.
		if len(f[usd]) == 0 {
			r.bad(line, "Value_in_USD is empty")
			continue
		}
		if t.USD, why = parseUSD(f[usd]); why != "" {
			r.bad(line, "Value_in_USD %q %s", clip(f[usd]), why)
			continue
		}
		t.HasUSD = true
		if fromLab >= 0 {
			if err := r.label(line, t.From, f[fromLab]); err != nil {
				return err
			}
		}
		if toLab >= 0 {
			if err := r.label(line, t.To, f[toLab]); err != nil {
				return err
			}
		}
		if err := r.emit(line, t); err != nil {
			return err
		}
	}
}

// txHash accepts an EVM (0x + 64 hex) or a Bitcoin-style (64 hex) hash.
func txHash(b []byte, last *string) (string, bool) {
	if len(b) == 64 {
		return hexString(b, 0, last)
	}
	return evmHash(b, last)
}

// maxUSD is the largest USD value a transfer may have: graphs keep USD
// values as float32.
const maxUSD = math.MaxFloat32

// parseUSD parses a non-negative decimal of at most maxUSD; the reason
// it is not one otherwise.
func parseUSD(b []byte) (float64, string) {
	const notNumber = "is not a non-negative number"
	if len(b) > 64 {
		return 0, notNumber
	}
	// The conversion shares b's memory: ParseFloat keeps nothing of its
	// argument (its error copies the text), and b is not modified meanwhile.
	v, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange), v < 0, math.IsNaN(v):
		return 0, notNumber
	case err != nil || v > maxUSD:
		return 0, fmt.Sprintf("is more than a graph holds (%.4g)", float64(maxUSD))
	}
	return v, ""
}

// ReadAddressList reads a list of addresses, one a line: the ground truth's
// *-source_addresses.csv and *-terminal_addresses.csv, the FBI and OFAC
// lists. A first line that is not an address is taken as a header; blank
// lines and lines starting with # are ignored; of a CSV line only the first
// field counts. Addresses come back in canonical form, in file order,
// without duplicates. Lines that are not addresses are returned as problems
// (name is used in them); err is for read errors and over-long lines.
func ReadAddressList(ctx context.Context, rd io.Reader, name string) (addrs []string, bad []Problem, err error) {
	var l Loader
	lr := lineReader{br: bufio.NewReaderSize(rd, 64<<10), max: 64 << 10}
	seen := map[string]bool{}
	first := true
	for {
		line, long, err := lr.next()
		if err == io.EOF {
			return addrs, bad, nil
		}
		if err != nil {
			return addrs, bad, fmt.Errorf("%s:%d: %w", name, lr.line+1, err)
		}
		if long {
			return addrs, bad, fmt.Errorf("%s:%d: line longer than %d bytes", name, lr.line, lr.max)
		}
		if lr.line%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return addrs, bad, err
			}
		}
		if first {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		}
		if i := bytes.IndexByte(line, ','); i >= 0 {
			line = line[:i]
		}
		line = bytes.Trim(bytes.TrimSpace(line), `"`)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		a, err := l.anyAddress(line)
		if err != nil {
			if first && isHeaderWord(line) {
				first = false
				continue
			}
			bad = append(bad, Problem{File: name, Line: lr.line, Reason: fmt.Sprintf("%q is not an address: %v", clip(line), err)})
			first = false
			continue
		}
		first = false
		if !seen[a] {
			seen[a] = true
			addrs = append(addrs, a)
		}
	}
}

// isHeaderWord reports whether b looks like a column name (letters, digits,
// spaces, _ and -, starting with a letter).
func isHeaderWord(b []byte) bool {
	if len(b) == 0 || len(b) > 64 {
		return false
	}
	for i, c := range b {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i == 0 && !letter {
			return false
		}
		if !letter && !(c >= '0' && c <= '9') && c != '_' && c != '-' && c != ' ' {
			return false
		}
	}
	return true
}
