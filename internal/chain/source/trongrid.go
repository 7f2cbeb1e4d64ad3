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

// TronGrid's account histories are the usual way to pull movements on TRON.
// The TRC-20 history (GET /v1/accounts/{address}/transactions/trc20, USDT
// above all) answers pages like
//
//	{"data":[{"transaction_id":"…64 hex…","token_info":{"symbol":"USDT",
//	  "address":"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t","decimals":6,"name":"Tether USD"},
//	  "block_timestamp":1700000000000,"from":"T…","to":"T…","type":"Transfer",
//	  "value":"1000000"}],"success":true,"meta":{"at":…,"page_size":1}}
//
// and the transaction history (GET /v1/accounts/{address}/transactions),
// for TRX itself, pages of transactions as the node stores them:
//
//	{"data":[{"txID":"…","blockNumber":56000000,"block_timestamp":1700000000000,
//	  "ret":[{"contractRet":"SUCCESS"}],"raw_data":{"contract":[{"type":"TransferContract",
//	  "parameter":{"value":{"amount":1000000,"owner_address":"41…","to_address":"41…"}}}]}}],…}
//
// A file holds one page or several, one after another (compact, one a
// line, or pretty-printed), of either kind. A TRC-20 "Transfer" entry is a
// transfer of the token (Asset is the token contract, in TRON's base58
// form); "Approval" entries move nothing and are skipped; the TRC-20 API
// gives no block numbers (Block is 0). A TransferContract that succeeded is
// a TRX transfer (amounts in sun); other contracts (token calls, which the
// TRC-20 history shows, staking, TRC-10 assets) are skipped, as are failed
// ones. Times are in milliseconds.
//
// Histories are pulled per account, so a transfer between two accounts
// both pulled appears twice: within a load, an entry repeating an earlier
// one (transaction, asset, from, to and value) is skipped as a duplicate.
// The one case this merges wrongly, one transaction paying the same amount
// of the same token twice between the same two accounts, the TRC-20 API
// could not tell apart either.

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
	// The transaction history's entries.
	TxID        string          `json:"txID"`
	BlockNumber json.RawMessage `json:"blockNumber"`
	Ret         []struct {
		ContractRet string `json:"contractRet"`
	} `json:"ret"`
	RawData struct {
		Contract []struct {
			Type      string `json:"type"`
			Parameter struct {
				Value struct {
					Amount       json.RawMessage `json:"amount"`
					OwnerAddress string          `json:"owner_address"`
					ToAddress    string          `json:"to_address"`
				} `json:"value"`
			} `json:"parameter"`
		} `json:"contract"`
	} `json:"raw_data"`
}

type tronToken struct {
	Address string `json:"address"`
}

// isTronGrid reports whether a JSON head looks like TronGrid history pages.
func isTronGrid(h []byte) bool {
	s := string(h[:min(len(h), 4096)])
	return strings.Contains(s, `"data"`) &&
		(strings.Contains(s, `"transaction_id"`) && strings.Contains(s, `"token_info"`) ||
			strings.Contains(s, `"txID"`) && strings.Contains(s, `"raw_data"`))
}

var errPageTooLong = errors.New("page too long")

func (r *run) readTronGrid(br *bufio.Reader) error {
	lim := &markLimiter{r: br, max: int64(r.l.maxLine()), tooLong: errPageTooLong}
	dec := json.NewDecoder(lim)
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
			var tr graph.Transfer
			var ok bool
			if e := &p.Data[i]; e.TxID != "" {
				tr, ok = r.tronNative(page, i+1, e)
			} else {
				tr, ok = r.tronTransfer(page, i+1, e)
			}
			if !ok {
				continue
			}
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

// tronAt is an entry of a TronGrid file, for the checks and reports that
// both kinds of entry share.
type tronAt struct {
	r       *run
	page, n int
}

func (at tronAt) bad(format string, args ...any) {
	at.r.bad(0, "page %d entry %d: %s", at.page, at.n, fmt.Sprintf(format, args...))
}

// id checks a transaction id, 64 hex digits, and returns it in lower case.
func (at tronAt) id(field, s string) (string, bool) {
	var last string
	tx, ok := hexString([]byte(s), 0, &last)
	if len(s) != 64 || !ok {
		at.bad("%s %q is not a transaction id", field, clip([]byte(s)))
		return "", false
	}
	return tx, true
}

// address is TRON address s (base58 or 41-hex) in canonical form.
func (at tronAt) address(field, s string) (string, bool) {
	a, err := address.ParseFor(address.TRX, s)
	if err != nil {
		at.bad("%s %q is not a TRON address", field, clip([]byte(s)))
		return "", false
	}
	return a.Canonical, true
}

// time reads a block timestamp in milliseconds as Unix seconds.
func (at tronAt) time(ts json.RawMessage) (int64, bool) {
	ms, ok := parseUint(ts)
	if !ok || ms/1000 > maxUnix {
		at.bad("block_timestamp %s is not a time in milliseconds", clip(ts))
		return 0, false
	}
	return int64(ms / 1000), true
}

// amount reads a value given as a decimal string or a bare number.
func (at tronAt) amount(field string, v json.RawMessage) (graph.Amount, bool) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	amt, err := at.r.l.amount(v)
	if err != nil {
		at.bad("%s: %v", field, err)
		return amt, false
	}
	return amt, true
}

// tronTransfer checks one entry of the TRC-20 history; false: it was
// reported bad or skipped.
func (r *run) tronTransfer(page, n int, e *tronEntry) (tr graph.Transfer, ok bool) {
	at := tronAt{r, page, n}
	if e.Type != "Transfer" {
		if e.Type == "Approval" {
			r.skip(SkipNotTransfer)
		} else {
			at.bad("type %q is neither Transfer nor Approval", clip([]byte(e.Type)))
		}
		return tr, false
	}
	if tr.Tx, ok = at.id("transaction_id", e.TransactionID); !ok {
		return tr, false
	}
	if tr.From, ok = at.address("from", e.From); !ok {
		return tr, false
	}
	if tr.To, ok = at.address("to", e.To); !ok {
		return tr, false
	}
	if tr.Asset, ok = at.address("token_info.address", e.TokenInfo.Address); !ok {
		return tr, false
	}
	if tr.Time, ok = at.time(e.BlockTimestamp); !ok {
		return tr, false
	}
	tr.Amount, ok = at.amount("value", e.Value)
	return tr, ok
}

// tronNative checks one entry of the transaction history; false: it was
// reported bad or skipped.
func (r *run) tronNative(page, n int, e *tronEntry) (tr graph.Transfer, ok bool) {
	at := tronAt{r, page, n}
	if tr.Tx, ok = at.id("txID", e.TxID); !ok {
		return tr, false
	}
	if len(e.RawData.Contract) != 1 {
		at.bad("%d contracts, a TRON transaction has one", len(e.RawData.Contract))
		return tr, false
	}
	c := &e.RawData.Contract[0]
	if c.Type != "TransferContract" {
		r.skip(SkipNotTransfer)
		return tr, false
	}
	if len(e.Ret) == 0 || e.Ret[0].ContractRet != "SUCCESS" {
		r.skip(SkipFailed)
		return tr, false
	}
	v := &c.Parameter.Value
	if tr.From, ok = at.address("owner_address", v.OwnerAddress); !ok {
		return tr, false
	}
	if tr.To, ok = at.address("to_address", v.ToAddress); !ok {
		return tr, false
	}
	if tr.Time, ok = at.time(e.BlockTimestamp); !ok {
		return tr, false
	}
	if tr.Block, ok = parseUint(e.BlockNumber); !ok {
		at.bad("blockNumber %s is not a block number", clip(e.BlockNumber))
		return tr, false
	}
	tr.Amount, ok = at.amount("amount", v.Amount)
	return tr, ok
}
