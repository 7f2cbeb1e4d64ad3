package btcrpc

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

// The JSON shapes below hold only the fields the loader reads. Bitcoin Core
// and btcd agree on them; they differ elsewhere (Core's scriptPubKey has
// "address", btcd's "addresses"), which is why addresses are derived from
// the script hex rather than taken from the node.

// rawBlock is getblock's answer at verbosity 2 or 3.
type rawBlock struct {
	Hash         string  `json:"hash"`
	Height       int64   `json:"height"`
	Time         int64   `json:"time"`
	PreviousHash string  `json:"previousblockhash"`
	Tx           []rawTx `json:"tx"`
	// RawTx is where btcd puts the transactions at verbosity 2 and above,
	// leaving "tx" out; decodeBlock moves them to Tx.
	RawTx []rawTx `json:"rawtx"`
}

// idBlock is getblock's answer at verbosity 1: transaction ids only.
type idBlock struct {
	Hash         string   `json:"hash"`
	Height       int64    `json:"height"`
	Time         int64    `json:"time"`
	PreviousHash string   `json:"previousblockhash"`
	Tx           []string `json:"tx"`
}

type rawTx struct {
	Txid string   `json:"txid"`
	Vin  []rawVin `json:"vin"`
	Vout []rawOut `json:"vout"`
}

type rawVin struct {
	Coinbase string `json:"coinbase"`
	Txid     string `json:"txid"`
	Vout     uint32 `json:"vout"`
	// Prevout is the spent output, given by Bitcoin Core 23 and later at
	// getblock verbosity 3.
	Prevout *rawOut `json:"prevout"`
}

type rawOut struct {
	Value        json.Number `json:"value"`
	N            uint32      `json:"n"`
	ScriptPubKey struct {
		Hex string `json:"hex"`
	} `json:"scriptPubKey"`
}

// decodeBlock parses a getblock answer. It reports ids=true, with the
// transaction ids in idb, when the node gave ids instead of transactions
// (verbosity 1, or a node that ignores higher verbosities).
func decodeBlock(data []byte) (b *rawBlock, idb *idBlock, err error) {
	b = new(rawBlock)
	err = json.Unmarshal(data, b)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && strings.HasPrefix(te.Field, "tx") && te.Value == "string" {
		idb = new(idBlock)
		if err := json.Unmarshal(data, idb); err != nil {
			return nil, nil, err
		}
		return nil, idb, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if len(b.RawTx) > 0 {
		if len(b.Tx) > 0 {
			return nil, nil, errors.New(`both "tx" and "rawtx" given`)
		}
		b.Tx, b.RawTx = b.RawTx, nil
	}
	return b, nil, nil
}

// txHash is a transaction id in the byte order it is displayed in.
// checkBlock refuses a block missing what every block has: a time, a
// transaction (the coinbase) and, in each transaction, inputs and
// outputs. A node or proxy that leaves them out would otherwise have its
// transfers lost without a word.
func checkBlock(b *rawBlock) error {
	if b.Time <= 0 {
		return errors.New("time: missing")
	}
	if len(b.Tx) == 0 {
		return errors.New("tx: no transactions (every block has its coinbase)")
	}
	for i := range b.Tx {
		tx := &b.Tx[i]
		switch {
		case len(tx.Vin) == 0:
			return fmt.Errorf("tx %d (%.64s): vin: no inputs", i, tx.Txid)
		case len(tx.Vout) == 0:
			return fmt.Errorf("tx %d (%.64s): vout: no outputs", i, tx.Txid)
		}
	}
	return nil
}

type txHash [32]byte

// parseTxid reads a 64-digit hex transaction id.
func parseTxid(s string) (txHash, error) {
	var h txHash
	if len(s) != 64 {
		return h, fmt.Errorf("txid %.80q: want 64 hex digits, have %d", s, len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("txid %.80q: %w", s, err)
	}
	return h, nil
}

// String returns the id in lower-case hex, as nodes print it.
func (h txHash) String() string { return hex.EncodeToString(h[:]) }

// satPerBTCDigits is log10 of the satoshi in one bitcoin.
const satPerBTCDigits = 8

// parseBTC converts a JSON number in bitcoin ("50.00000000" from Core,
// "1e-08" or "0.1" from btcd, which prints float64 in its shortest form) to
// satoshi exactly, without going through float64. It refuses negative values,
// fractions of a satoshi and values that overflow uint64.
func parseBTC(s string) (uint64, error) {
	if len(s) > 64 {
		return 0, fmt.Errorf("amount %.40q…: too long", s)
	}
	if s == "" {
		return 0, errors.New("empty amount")
	}
	mant := make([]byte, 0, 24) // significant digits, leading zeros dropped
	fracDigits := 0
	i := 0
	if s[0] == '-' {
		return 0, fmt.Errorf("amount %q: negative", s)
	}
	digits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
		if len(mant) > 0 || s[i] != '0' {
			mant = append(mant, s[i])
		}
	}
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digits++
			fracDigits++
			if len(mant) > 0 || s[i] != '0' {
				mant = append(mant, s[i])
			}
		}
	}
	if digits == 0 {
		return 0, fmt.Errorf("amount %q: no digits", s)
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		neg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			neg = s[i] == '-'
			i++
		}
		n := 0
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			n++
			if n > 4 {
				return 0, fmt.Errorf("amount %q: exponent out of range", s)
			}
			exp = exp*10 + int(s[i]-'0')
		}
		if n == 0 {
			return 0, fmt.Errorf("amount %q: no exponent digits", s)
		}
		if neg {
			exp = -exp
		}
	}
	if i != len(s) {
		return 0, fmt.Errorf("amount %q: not a decimal number", s)
	}
	// value = mant × 10^(exp − fracDigits) BTC = mant × 10^shift satoshi.
	shift := exp - fracDigits + satPerBTCDigits
	for shift < 0 && len(mant) > 0 {
		if mant[len(mant)-1] != '0' {
			return 0, fmt.Errorf("amount %q: finer than one satoshi", s)
		}
		mant = mant[:len(mant)-1]
		shift++
	}
	if len(mant) == 0 {
		return 0, nil
	}
	if len(mant)+shift > 20 {
		return 0, fmt.Errorf("amount %q: too large", s)
	}
	var v uint64
	for _, c := range mant {
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, fmt.Errorf("amount %q: too large", s)
		}
		v = v*10 + d
	}
	for ; shift > 0; shift-- {
		if v > math.MaxUint64/10 {
			return 0, fmt.Errorf("amount %q: too large", s)
		}
		v *= 10
	}
	return v, nil
}
