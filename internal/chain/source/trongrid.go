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

// tronTransfer checks one entry of the TRC-20 history; false: it was
// reported bad or skipped.
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
	if tr.From, ok = r.tronAddress(page, n, "from", e.From); !ok {
		return tr, false
	}
	if tr.To, ok = r.tronAddress(page, n, "to", e.To); !ok {
		return tr, false
	}
	if tr.Asset, ok = r.tronAddress(page, n, "token_info.address", e.TokenInfo.Address); !ok {
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

// tronNative checks one entry of the transaction history; false: it was
// reported bad or skipped.
func (r *run) tronNative(page, n int, e *tronEntry) (graph.Transfer, bool) {
	var tr graph.Transfer
	bad := func(format string, args ...any) (graph.Transfer, bool) {
		r.bad(0, "page %d entry %d: %s", page, n, fmt.Sprintf(format, args...))
		return tr, false
	}
	var last string
	tx, ok := hexString([]byte(e.TxID), 0, &last)
	if len(e.TxID) != 64 || !ok {
		return bad("txID %q is not a transaction id", clip([]byte(e.TxID)))
	}
	if len(e.RawData.Contract) != 1 {
		return bad("%d contracts, a TRON transaction has one", len(e.RawData.Contract))
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
	if tr.From, ok = r.tronAddress(page, n, "owner_address", v.OwnerAddress); !ok {
		return tr, false
	}
	if tr.To, ok = r.tronAddress(page, n, "to_address", v.ToAddress); !ok {
		return tr, false
	}
	ms, ok := parseUint(e.BlockTimestamp)
	if !ok || ms/1000 > maxUnix {
		return bad("block_timestamp %s is not a time in milliseconds", clip(e.BlockTimestamp))
	}
	block, ok := parseUint(e.BlockNumber)
	if !ok {
		return bad("blockNumber %s is not a block number", clip(e.BlockNumber))
	}
	amt, err := r.l.amount(v.Amount)
	if err != nil {
		return bad("amount: %v", err)
	}
	tr.Tx, tr.Block, tr.Time, tr.Amount = tx, block, int64(ms/1000), amt
	return tr, true
}

// tronAddress is TRON address s (base58 or 41-hex) in canonical form;
// false: the entry was reported bad.
func (r *run) tronAddress(page, n int, field, s string) (string, bool) {
	a, err := address.ParseFor(address.TRX, s)
	if err != nil {
		r.bad(0, "page %d entry %d: %s %q is not a TRON address", page, n, field, clip([]byte(s)))
		return "", false
	}
	return a.Canonical, true
}
