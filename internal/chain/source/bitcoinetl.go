package source

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// bitcoin-etl (github.com/blockchain-etl/bitcoin-etl) writes one JSON object
// a line. A transaction (export_blocks_and_transactions, then
// enrich_transactions, which fills in the inputs' addresses and values from
// the outputs they spend) looks like
//
//	{"type":"transaction","hash":"…","block_number":1,"block_timestamp":1231469665,
//	 "is_coinbase":false,"inputs":[{"index":0,"spent_transaction_hash":"…",
//	 "spent_output_index":0,"addresses":["1A…"],"value":5000000000,…}],
//	 "outputs":[{"index":0,"type":"pubkeyhash","addresses":["1B…"],"value":…}],…}
//
// Values are satoshi. A block line ({"type":"block","number":…,"timestamp":…})
// gives block times; a block line with a "transactions" array of such
// transaction objects is read as well.
//
// UTXO model: a transaction becomes a pseudo-node "tx:<hash>". Each input is a
// transfer from its address to that node (its value), each output a transfer
// from the node to its address, all with the transaction's time and block,
// inputs first in input order and outputs after them in output order. The
// graph keeps this order within a timestamp, which makes per-transaction FIFO
// exact. Names of outputs that are not one plain address:
//
//   - several addresses (bare multisig): "multisig:<a1>+<a2>+…", the canonical
//     addresses in script order, so the output and the input spending it
//     (which enrichment gives the same addresses) meet at one node;
//   - no address (non-standard script): "nonstandard:<txhash>:<index>" for the
//     output, and the same name, built from spent_transaction_hash and
//     spent_output_index, for the input that spends it;
//   - bitcoin-etl's own "nonstandard<hex>" pseudo-addresses are kept as they are.
//
// Coinbase inputs (no spent output) have no sender and are skipped; the
// block reward appears as outputs of the coinbase transaction's node.
// Inputs without a value (an export that was not enriched) are skipped and
// counted: the funds still connect, through the address the spent output
// paid. A transaction with any malformed part is a bad row as a whole, so that
// a partial transaction never distorts FIFO.

type btcLine struct {
	Type           string          `json:"type"`
	Hash           string          `json:"hash"`
	BlockNumber    json.RawMessage `json:"block_number"`
	BlockTimestamp json.RawMessage `json:"block_timestamp"`
	BlockTime      json.RawMessage `json:"block_time"` // older exports
	IsCoinbase     bool            `json:"is_coinbase"`
	Inputs         []btcIO         `json:"inputs"`
	Outputs        []btcIO         `json:"outputs"`
	// A block line.
	Number       json.RawMessage `json:"number"`
	Timestamp    json.RawMessage `json:"timestamp"`
	Transactions []btcLine       `json:"transactions"`
}

type btcIO struct {
	Index            json.RawMessage `json:"index"`
	SpentTxHash      string          `json:"spent_transaction_hash"`
	SpentOutputIndex json.RawMessage `json:"spent_output_index"`
	Addresses        []string        `json:"addresses"`
	Value            json.RawMessage `json:"value"`
}

// reset empties x for the next line, keeping the slices' memory. json fills
// slice elements in place, so stale elements beyond the length are cleared.
func (x *btcLine) reset() {
	ins, outs := x.Inputs[:cap(x.Inputs)], x.Outputs[:cap(x.Outputs)]
	clear(ins)
	clear(outs)
	*x = btcLine{Inputs: ins[:0], Outputs: outs[:0]}
}

// rawScalar returns the text of a JSON number or string and whether one is
// present (null and absent are not).
func rawScalar(m json.RawMessage) ([]byte, bool) {
	b := bytes.TrimSpace(m)
	if len(b) == 0 || string(b) == "null" {
		return nil, false
	}
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = b[1 : len(b)-1]
	}
	return b, true
}

func (r *run) readBitcoinETL(lr *lineReader) error {
	var x btcLine
	for {
		line, long, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 && !long {
			continue
		}
		if err := r.row(); err != nil {
			return err
		}
		if long {
			r.bad(lr.line, "line longer than %d bytes", lr.max)
			continue
		}
		x.reset()
		if err := json.Unmarshal(line, &x); err != nil {
			r.bad(lr.line, "JSON: %v", shortErr(err))
			continue
		}
		switch {
		case x.Type == "block" || (x.Type == "" && x.Transactions != nil):
			if err := r.btcBlock(lr.line, &x); err != nil {
				return err
			}
		case x.Type == "" || x.Type == "transaction":
			if err := r.btcTx(lr.line, &x, 0, 0, false); err != nil {
				return err
			}
		default:
			r.bad(lr.line, "type %q is neither transaction nor block", clip([]byte(x.Type)))
		}
	}
}

func (r *run) btcBlock(line int64, x *btcLine) error {
	nb, ok := rawScalar(x.Number)
	if !ok {
		r.bad(line, "block without number")
		return nil
	}
	block, ok := parseUint(nb)
	if !ok {
		r.bad(line, "block number %q is not a block number", clip(nb))
		return nil
	}
	tb, ok := rawScalar(x.Timestamp)
	if !ok {
		r.bad(line, "block %d without timestamp", block)
		return nil
	}
	ts, ok := parseTime(tb)
	if !ok {
		r.bad(line, "block %d: timestamp %q is not a time", block, clip(tb))
		return nil
	}
	r.l.times.add(block, ts)
	for i := range x.Transactions {
		if err := r.btcTx(line, &x.Transactions[i], block, ts, true); err != nil {
			return err
		}
	}
	return nil
}

// btcTx turns one transaction into transfers. inBlock gives the enclosing
// block's number and time for the blocks-with-transactions form.
func (r *run) btcTx(line int64, x *btcLine, block uint64, ts int64, inBlock bool) error {
	var last string
	hash, ok := txHash([]byte(x.Hash), &last)
	if !ok || len(hash) != 64 {
		r.bad(line, "hash %q is not a transaction hash", clip([]byte(x.Hash)))
		return nil
	}
	if !inBlock {
		if b, ok := rawScalar(x.BlockNumber); ok {
			if block, ok = parseUint(b); !ok {
				r.bad(line, "tx %s: block_number %q is not a block number", hash, clip(b))
				return nil
			}
		}
		tsRaw, have := rawScalar(x.BlockTimestamp)
		if !have {
			tsRaw, have = rawScalar(x.BlockTime)
		}
		switch {
		case have:
			if ts, ok = parseTime(tsRaw); !ok {
				r.bad(line, "tx %s: block_timestamp %q is not a time", hash, clip(tsRaw))
				return nil
			}
		case block > 0:
			if ts, ok = r.l.times.lookup(block); !ok {
				r.noTime(line, block)
				return nil
			}
		default:
			r.bad(line, "tx %s has neither block_timestamp nor block_number", hash)
			return nil
		}
	}
	node := "tx:" + hash
	buf := r.btc[:0]
	var skipped [3]int // coinbase, unresolved, zero
	for i := range x.Inputs {
		in := &x.Inputs[i]
		vb, have := rawScalar(in.Value)
		if len(in.Addresses) == 0 && (x.IsCoinbase || in.SpentTxHash == "") {
			skipped[0]++
			continue
		}
		if !have {
			skipped[1]++
			continue
		}
		amt, err := r.l.amount(vb)
		if err != nil {
			r.bad(line, "tx %s input %d: value: %v", hash, i, err)
			return nil
		}
		name, err := r.btcName(in.Addresses, in.SpentTxHash, in.SpentOutputIndex, -1)
		if err != nil {
			r.bad(line, "tx %s input %d: %v", hash, i, err)
			return nil
		}
		if amt.IsZero() && !r.l.KeepZero {
			skipped[2]++
			continue
		}
		buf = append(buf, graph.Transfer{Tx: hash, Block: block, Time: ts, From: name, To: node, Amount: amt})
	}
	for i := range x.Outputs {
		out := &x.Outputs[i]
		vb, have := rawScalar(out.Value)
		if !have {
			r.bad(line, "tx %s output %d has no value", hash, i)
			return nil
		}
		amt, err := r.l.amount(vb)
		if err != nil {
			r.bad(line, "tx %s output %d: value: %v", hash, i, err)
			return nil
		}
		name, err := r.btcName(out.Addresses, hash, out.Index, i)
		if err != nil {
			r.bad(line, "tx %s output %d: %v", hash, i, err)
			return nil
		}
		if amt.IsZero() && !r.l.KeepZero {
			skipped[2]++
			continue
		}
		buf = append(buf, graph.Transfer{Tx: hash, Block: block, Time: ts, From: node, To: name, Amount: amt})
	}
	r.btc = buf
	r.st.Skipped[SkipCoinbaseInput] += int64(skipped[0])
	r.st.Skipped[SkipUnresolvedInput] += int64(skipped[1])
	r.st.Skipped[SkipZeroValue] += int64(skipped[2])
	for _, t := range buf {
		if err := r.emit(line, t); err != nil {
			return err
		}
	}
	clear(buf) // do not keep the strings alive in the scratch slice
	return nil
}

// btcName names an input's or output's owner (see the comment at the top).
// For a script without address, the name is built from the transaction
// hash and output index: spent ones for an input, the own ones (index from
// the record, else pos) for an output.
func (r *run) btcName(addrs []string, txHash string, index json.RawMessage, pos int) (string, error) {
	switch len(addrs) {
	case 0:
		var last string
		h, ok := txHash64(txHash, &last)
		if !ok {
			return "", fmt.Errorf("no address and no valid spent transaction hash")
		}
		idx := int64(pos)
		if b, ok := rawScalar(index); ok {
			v, ok := parseUint(b)
			if !ok || v > 1<<32 {
				return "", fmt.Errorf("index %q is not an output index", clip(b))
			}
			idx = int64(v)
		}
		if idx < 0 {
			return "", errors.New("no address and no spent output index")
		}
		return "nonstandard:" + h + ":" + strconv.FormatInt(idx, 10), nil
	case 1:
		return r.btcAddress(addrs[0])
	}
	if len(addrs) > 20 { // standard multisig has at most 20 keys (and 3 when bare)
		return "", fmt.Errorf("%d addresses", len(addrs))
	}
	var b strings.Builder
	b.WriteString("multisig:")
	for i, a := range addrs {
		c, err := r.btcAddress(a)
		if err != nil {
			return "", err
		}
		if i > 0 {
			b.WriteByte('+')
		}
		b.WriteString(c)
	}
	return b.String(), nil
}

func txHash64(s string, last *string) (string, bool) {
	if len(s) != 64 {
		return "", false
	}
	return hexString([]byte(s), 0, last)
}

// btcAddress canonicalises one address, keeping bitcoin-etl's
// "nonstandard<hex>" names.
func (r *run) btcAddress(a string) (string, error) {
	if strings.HasPrefix(a, "nonstandard") && len(a) <= 128 && isAlnum(a) {
		return r.l.names.intern([]byte(a)), nil
	}
	c, err := r.l.anyAddress([]byte(a))
	if err != nil {
		return "", fmt.Errorf("address %q: %v", clip([]byte(a)), err)
	}
	return c, nil
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// shortErr bounds an error message taken from hostile input.
func shortErr(err error) string {
	s := err.Error()
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
