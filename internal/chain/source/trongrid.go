package source

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/chain/address"
	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// TronGrid's TRC-20 history (GET /v1/accounts/{address}/transactions/trc20,
// the usual way to pull USDT movements on TRON) answers pages like
//
//	{"data":[{"transaction_id":"…64 hex…","token_info":{"symbol":"USDT",
//	  "address":"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t","decimals":6,"name":"Tether USD"},
//	  "block_timestamp":1700000000000,"from":"T…","to":"T…","type":"Transfer",
//	  "value":"1000000"}],"success":true,"meta":{"at":…,"page_size":1}}
//
// A file holds one page or several, one after another (compact, one a
// line, or pretty-printed). Each "Transfer" entry is a transfer of the
// token (Asset is the token contract, in TRON's base58 form) with its
// time (the timestamp is in milliseconds); "Approval" entries move nothing
// and are skipped. The API has no block numbers: Block is 0.
//
// Histories are pulled per account, so a transfer between two accounts
// both pulled appears twice: within a load, an entry repeating an earlier
// one (transaction, token, from, to and value) is skipped as a duplicate.
// The one case this merges wrongly, one transaction paying the same amount
// of the same token twice between the same two accounts, the API could
// not tell apart either.

type tronPage struct {
	Data    []tronEntry     `json:"data"`
	Success *bool           `json:"success"`
	Error   json.RawMessage `json:"error"`
}

type tronEntry struct {
	TransactionID  string          `json:"transaction_id"`
	TokenInfo      tronToken       `json:"token_info"`
	BlockTimestamp json.RawMessage `json:"block_timestamp"`
	From           string          `json:"from"`
	To             string          `json:"to"`
	Type           string          `json:"type"`
	Value          json.RawMessage `json:"value"`
}

type tronToken struct {
	Address string `json:"address"`
}

// isTronGrid reports whether a JSON head looks like TronGrid TRC-20 pages.
func isTronGrid(h []byte) bool {
	s := string(h[:min(len(h), 4096)])
	return strings.Contains(s, `"data"`) && strings.Contains(s, `"transaction_id"`) && strings.Contains(s, `"token_info"`)
}

var errPageTooLong = errors.New("page too long")

func (r *run) readTronGrid(br *bufio.Reader) error {
	lim := &markLimiter{r: br, max: int64(r.l.maxLine()), tooLong: errPageTooLong}
	dec := json.NewDecoder(lim)
	seen := map[string]struct{}{}
	for page := 1; ; page++ {
		lim.mark = dec.InputOffset()
		var p tronPage
		err := dec.Decode(&p)
		switch {
		case err == io.EOF:
			return nil
		case errors.Is(err, errPageTooLong):
			r.bad(0, "page %d: longer than %d bytes (rest of file skipped)", page, lim.max)
			return nil
		case err != nil:
			// A syntax error cannot be resynchronised: what was read
			// stays loaded.
			r.bad(0, "page %d: JSON: %v (rest of file skipped)", page, shortErr(err))
			return nil
		}
		if p.Success != nil && !*p.Success || len(p.Error) > 0 && string(p.Error) != "null" {
			// The error is raw JSON: fold its white space, so it stays
			// on one line of the report.
			r.problem(0, "page %d: TronGrid answered with an error, not transfers (%s)", page, strings.Join(strings.Fields(clip(p.Error)), " "))
			continue
		}
		for i := range p.Data {
			if err := r.row(); err != nil {
				return err
			}
			tr, ok := r.tronTransfer(page, i+1, &p.Data[i])
			if !ok {
				continue
			}
			key := tr.Tx + tr.Asset + tr.From + tr.To + tr.Amount.String()
			if _, dup := seen[key]; dup {
				r.skip(SkipDuplicate)
				continue
			}
			seen[key] = struct{}{}
			if tr.Amount.IsZero() && !r.l.KeepZero {
				r.skip(SkipZeroValue)
				continue
			}
			if err := r.emit(0, tr); err != nil {
				return err
			}
		}
	}
}

// tronTransfer checks one entry; false: it was reported bad or skipped.
func (r *run) tronTransfer(page, n int, e *tronEntry) (graph.Transfer, bool) {
	var tr graph.Transfer
	bad := func(format string, args ...any) (graph.Transfer, bool) {
		r.bad(0, "page %d entry %d: %s", page, n, fmt.Sprintf(format, args...))
		return tr, false
	}
	if e.Type != "Transfer" {
		if e.Type == "Approval" {
			r.skip(SkipNotTransfer)
			return tr, false
		}
		return bad("type %q is neither Transfer nor Approval", clip([]byte(e.Type)))
	}
	var last string
	tx, ok := hexString([]byte(e.TransactionID), 0, &last)
	if len(e.TransactionID) != 64 || !ok {
		return bad("transaction_id %q is not a transaction id", clip([]byte(e.TransactionID)))
	}
	tron := func(field, s string) (string, bool) {
		a, err := address.ParseFor(address.TRX, s)
		if err != nil {
			r.bad(0, "page %d entry %d: %s %q is not a TRON address", page, n, field, clip([]byte(s)))
			return "", false
		}
		return a.Canonical, true
	}
	if tr.From, ok = tron("from", e.From); !ok {
		return tr, false
	}
	if tr.To, ok = tron("to", e.To); !ok {
		return tr, false
	}
	if tr.Asset, ok = tron("token_info.address", e.TokenInfo.Address); !ok {
		return tr, false
	}
	ms, ok := parseUint(e.BlockTimestamp)
	if !ok || ms/1000 > maxUnix {
		return bad("block_timestamp %s is not a time in milliseconds", clip(e.BlockTimestamp))
	}
	// The value is a decimal string; a bare number is accepted too.
	v := e.Value
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	amt, err := r.l.amount(v)
	if err != nil {
		return bad("value: %v", err)
	}
	tr.Tx, tr.Time, tr.Amount = tx, int64(ms/1000), amt
	return tr, true
}
