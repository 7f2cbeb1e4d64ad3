package btcrpc

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"
)

func TestParseBTC(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		err  string
	}{
		{in: "50.00000000", want: 5_000_000_000},
		{in: "50", want: 5_000_000_000},
		{in: "0", want: 0},
		{in: "0.0", want: 0},
		{in: "0.00000001", want: 1},
		{in: "1e-08", want: 1}, // btcd prints float64 in shortest form
		{in: "1.5e-07", want: 15},
		{in: "2.1e+07", want: 2_100_000_000_000_000},
		{in: "1E2", want: 10_000_000_000},
		{in: "0.1", want: 10_000_000},
		{in: "39.9999", want: 3_999_990_000},
		{in: "20999999.9769", want: 2_099_999_997_690_000},
		{in: "0.000000010000", want: 1},
		{in: "000.5", want: 50_000_000},
		{in: "184467440737.09551615", want: math.MaxUint64},
		{in: "184467440737.09551616", err: "too large"},
		{in: "1e20", err: "too large"},
		{in: "0.000000001", err: "finer than one satoshi"},
		{in: "1e-9", err: "finer than one satoshi"},
		{in: "1e-99999", err: "exponent out of range"},
		{in: "-1", err: "negative"},
		{in: "", err: "empty"},
		{in: ".", err: "no digits"},
		{in: "1e", err: "no exponent digits"},
		{in: "1.2.3", err: "not a decimal number"},
		{in: "0x10", err: "not a decimal number"},
		{in: " 1", err: "no digits"},
		{in: strings.Repeat("1", 70), err: "too long"},
		{in: "0." + strings.Repeat("0", 50) + "1", err: "finer than one satoshi"},
	}
	for _, tc := range tests {
		got, err := parseBTC(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseBTC(%q) = %d, %v; want error containing %q", tc.in, got, err, tc.err)
			}
		case err != nil:
			t.Errorf("parseBTC(%q): %v", tc.in, err)
		case got != tc.want:
			t.Errorf("parseBTC(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// TestParseBTCFloatRoundTrip checks that every amount btcd can print (its
// float64 value in shortest form, as encoding/json writes it) reads back as
// the exact satoshi amount.
func TestParseBTCFloatRoundTrip(t *testing.T) {
	for _, sat := range []uint64{0, 1, 7, 10, 99, 546, 1_000, 12_345_678, 99_999_999, 100_000_000, 123_456_789_012, 2_099_999_997_690_000} {
		b, err := json.Marshal(float64(sat) / 1e8)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseBTC(string(b))
		if err != nil || got != sat {
			t.Errorf("%d sat printed as %s reads back as %d, %v", sat, b, got, err)
		}
	}
}

func FuzzParseBTC(f *testing.F) {
	for _, s := range []string{"50.00000000", "1e-08", "0.1", "184467440737.09551615", "1E+2", "-0", "1e-9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseBTC(s)
		if err != nil {
			return
		}
		// Whatever parses must equal the exact decimal value × 10^8.
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("parseBTC(%q) = %d but big.Rat cannot read it", s, v)
		}
		r.Mul(r, new(big.Rat).SetInt64(100_000_000))
		if !r.IsInt() || r.Num().Cmp(new(big.Int).SetUint64(v)) != 0 {
			t.Fatalf("parseBTC(%q) = %d, exact value %s", s, v, r.RatString())
		}
	})
}

func TestDecodeBlock(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		txs     int
		ids     int
		wantErr bool
	}{
		{"core verbose", `{"hash":"h","height":1,"time":5,"tx":[{"txid":"a","vin":[],"vout":[]}]}`, 1, 0, false},
		{"btcd rawtx", `{"hash":"h","height":1,"time":5,"rawtx":[{"txid":"a"},{"txid":"b"}]}`, 2, 0, false},
		{"ids", `{"hash":"h","height":1,"time":5,"tx":["a","b","c"]}`, 0, 3, false},
		{"both tx and rawtx", `{"tx":[{"txid":"a"}],"rawtx":[{"txid":"b"}]}`, 0, 0, true},
		{"mixed", `{"tx":[{"txid":"a"},"b"]}`, 0, 0, true},
		{"not json", `{"tx":`, 0, 0, true},
		{"value not a number", `{"tx":[{"vout":[{"value":"abc"}]}]}`, 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, ids, err := decodeBlock([]byte(tc.in))
			if tc.wantErr {
				if err == nil {
					t.Fatalf("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.ids > 0 {
				if ids == nil || len(ids.Tx) != tc.ids || b != nil {
					t.Fatalf("got block %v ids %v, want %d ids", b, ids, tc.ids)
				}
				return
			}
			if b == nil || len(b.Tx) != tc.txs || b.RawTx != nil {
				t.Fatalf("got %+v, want %d transactions", b, tc.txs)
			}
		})
	}
}

func TestParseTxid(t *testing.T) {
	id := strings.Repeat("ab", 32)
	h, err := parseTxid(id)
	if err != nil || h.String() != id {
		t.Fatalf("parseTxid(%s) = %s, %v", id, h, err)
	}
	if h, err := parseTxid(strings.ToUpper(id)); err != nil || h.String() != id {
		t.Errorf("upper case: %s, %v", h, err)
	}
	for _, bad := range []string{"", id[:62], id + "00", strings.Repeat("zz", 32)} {
		if _, err := parseTxid(bad); err == nil {
			t.Errorf("parseTxid(%q): no error", bad)
		}
	}
}

// FuzzProcessBlock feeds arbitrary getblock answers through decoding and
// the transfer builder: hostile input must give an error, never a panic.
func FuzzProcessBlock(f *testing.F) {
	tx := strings.Repeat("11", 32)
	f.Add(`{"hash":"h","height":3,"time":9,"tx":[{"txid":"` + tx + `","vin":[{"coinbase":"00"}],"vout":[{"value":1e-08,"n":0,"scriptPubKey":{"hex":"` + scriptP2WPKH + `"}}]}]}`)
	f.Add(`{"hash":"h","height":3,"time":9,"tx":[{"txid":"` + tx + `","vin":[{"txid":"` + tx + `","vout":0,"prevout":{"value":2,"scriptPubKey":{"hex":"51"}}}],"vout":[]}]}`)
	f.Add(`{"hash":"h","height":3,"tx":["` + tx + `"]}`)
	f.Fuzz(func(t *testing.T, in string) {
		b, _, err := decodeBlock([]byte(in))
		if err != nil || b == nil {
			return
		}
		l := &Loader{net: mainNet, haveNet: true, utxo: map[outpoint]prevOut{}}
		l.cfg.MaxOutpoints = 10
		l.cfg.KeepZeroValue = true
		txids, missing, err := l.scan(b)
		if err != nil || len(missing) > 0 {
			return
		}
		out, _, err := l.transfers(b, txids, nil)
		if err != nil {
			return
		}
		for _, tr := range out {
			if !strings.HasPrefix(tr.From, "tx:") && !strings.HasPrefix(tr.To, "tx:") {
				t.Fatalf("transfer %+v touches no tx node", tr)
			}
			if _, err := strconv.ParseUint(tr.Amount.String(), 10, 64); err != nil {
				t.Fatalf("amount %s", tr.Amount)
			}
		}
	})
}
