package source

import (
	"strings"
	"testing"
)

func TestBitcoinETL(t *testing.T) {
	const (
		g   = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
		p   = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
		w   = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4" // upper-case in the file
		v   = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
		blk = "|700000|1631333672|"
	)
	h := func(c string) string { return strings.Repeat(c, 64) }
	tx := func(c string) string { return "tx:" + h(c) }
	want := []string{
		// Coinbase: the input has no sender, the output leaves the tx node.
		h("a") + blk + tx("a") + "|" + g + "||625000000|-",
		// Inputs in order, then outputs in order; the OP_RETURN output (0) is skipped.
		h("b") + blk + w + "|" + tx("b") + "||3000|-",
		h("b") + blk + g + "|" + tx("b") + "||2000|-",
		h("b") + blk + tx("b") + "|" + p + "||4000|-",
		h("b") + blk + tx("b") + "|multisig:" + g + "+" + v + "||500|-",
		h("b") + blk + tx("b") + "|nonstandard:" + h("b") + ":2||400|-",
		// Not enriched: the input is skipped, the output (value as a string) kept.
		h("d") + blk + tx("d") + "|" + v + "||12345|-",
		// Time from the preceding block line.
		h("2") + "|700001|1631334000|" + v + "|" + tx("2") + "||7000|-",
		h("2") + "|700001|1631334000|" + tx("2") + "|" + g + "||6000|-",
		// Spends tx b's non-standard output: the same node name.
		h("3") + blk + "nonstandard:" + h("b") + ":2|" + tx("3") + "||400|-",
		h("3") + blk + tx("3") + "|" + g + "||300|-",
		// A block carrying its transactions, with a date-time timestamp.
		h("4") + "|700002|1631334600|" + g + "|" + tx("4") + "||900|-",
		h("4") + "|700002|1631334600|" + tx("4") + "|" + p + "||800|-",
		// Amounts beyond 2^128 stay exact.
		h("5") + blk + g + "|" + tx("5") + "||5|-",
		h("5") + blk + tx("5") + "|" + v + "||1606938044258990275541962092341162602522202993782792835301376|-",
	}
	var l Loader
	s, st := load(t, &l, "testdata/btc/transactions.json")
	diff(t, "transfers", s.lines(), want)
	diff(t, "problems", problems(st), []string{
		`testdata/btc/transactions.json:4: tx ` + h("e") + ` output 0: address "1NotAnAddressAtAll": address "1NotAnAddressAtAll": invalid character at position 16: 'l' not in the base58 alphabet`,
		`testdata/btc/transactions.json:5: JSON: unexpected end of JSON input`,
		`testdata/btc/transactions.json:6: type "receipt" is neither transaction nor block`,
		`testdata/btc/transactions.json:7: tx ` + h("1") + ` input 0: value: amount "1.5": not a decimal integer`,
	})
	if st.Rows != 12 || st.Bad != 4 {
		t.Errorf("Rows = %d, Bad = %d; want 12, 4", st.Rows, st.Bad)
	}
	if got, want := skipped(st), "coinbase-input=1 input-without-value=1 zero-value=1"; got != want {
		t.Errorf("skipped %s, want %s", got, want)
	}
}

func TestBitcoinETLHostile(t *testing.T) {
	h := strings.Repeat("a", 64)
	tests := []struct {
		name, line, problem string
	}{
		{"no hash", `{"inputs":[],"outputs":[]}`, `hash "" is not a transaction hash`},
		{"0x hash", `{"hash":"0x` + h[:62] + `","block_timestamp":1,"inputs":[],"outputs":[]}`, "is not a transaction hash"},
		{"no time", `{"hash":"` + h + `","inputs":[],"outputs":[]}`, "has neither block_timestamp nor block_number"},
		{"unknown block", `{"hash":"` + h + `","block_number":5,"inputs":[],"outputs":[]}`, "block 5 has no timestamp"},
		{"bad time", `{"hash":"` + h + `","block_timestamp":-1,"outputs":[]}`, `block_timestamp "-1" is not a time`},
		{"huge time", `{"hash":"` + h + `","block_timestamp":99999999999999,"outputs":[]}`, "is not a time"},
		{"output no value", `{"hash":"` + h + `","block_timestamp":1,"outputs":[{"addresses":["1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"]}]}`, "output 0 has no value"},
		{"negative", `{"hash":"` + h + `","block_timestamp":1,"outputs":[{"addresses":["1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"],"value":-1}]}`, "not a decimal integer"},
		{"wrong type", `{"hash":"` + h + `","block_timestamp":1,"outputs":[{"addresses":"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa","value":1}]}`, "JSON: json: cannot unmarshal string"},
		{"too many keys", `{"hash":"` + h + `","block_timestamp":1,"outputs":[{"addresses":["` + strings.Repeat(`1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa","`, 21) + `1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"],"value":1}]}`, "22 addresses"},
		{"bad index", `{"hash":"` + h + `","block_timestamp":1,"outputs":[{"addresses":[],"index":"x","value":1}]}`, `index "x" is not an output index`},
		{"block no number", `{"type":"block","timestamp":1,"transactions":[]}`, "block without number"},
		{"trailing data", `{"type":"block","number":1,"timestamp":2}` + "\n" + `{"type":"transaction"} trailing`, "JSON: invalid character 't' after top-level value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l Loader
			s, st, err := read(t, &l, "x.json", tt.line+"\n")
			if err != nil {
				t.Fatal(err)
			}
			if len(s.ts) != 0 || st.Bad != 1 && st.Skipped[SkipNoBlockTime] != 1 {
				t.Errorf("%d transfers, %d bad", len(s.ts), st.Bad)
			}
			if len(st.Problems) != 1 || !strings.Contains(st.Problems[0].Reason, tt.problem) {
				t.Errorf("problems %v, want one containing %q", problems(st), tt.problem)
			}
		})
	}
}

// A JSON line longer than the limit is a bad row; the next line is read.
func TestBitcoinETLLongLine(t *testing.T) {
	h := strings.Repeat("a", 64)
	good := `{"hash":"` + h + `","block_timestamp":1,"outputs":[{"addresses":["1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"],"value":1}]}`
	long := `{"hash":"` + h + `","pad":"` + strings.Repeat("x", 5000) + `"}`
	l := Loader{MaxLineBytes: 1000}
	s, st, err := read(t, &l, "x.json", good+"\n"+long+"\n"+good)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.ts) != 2 || st.Bad != 1 {
		t.Errorf("%d transfers, %d bad; want 2, 1", len(s.ts), st.Bad)
	}
	diff(t, "problems", problems(st), []string{"x.json:2: line longer than 1000 bytes"})
}

// bitcoin-etl exports Litecoin and Bitcoin Cash in the same format
// (--chain litecoin, bitcoin_cash); their addresses take their canonical
// forms, a Bitcoin Cash address its cashaddr prefix.
func TestBitcoinETLForks(t *testing.T) {
	h := func(c string) string { return strings.Repeat(c, 64) }
	tx := func(c string) string { return "tx:" + h(c) }
	const (
		ltc = "|2500000|1690000000|"
		bch = "|800000|1690000600|"
	)
	want := []string{
		h("c") + ltc + "LNf2JDiuunBz7GMDKFYHN4rq5meXWxiwfb|" + tx("c") + "||150000000|-",
		h("c") + ltc + tx("c") + "|ltc1qg42tkwuuxefutzxezdkdel39gfstuap288mfea||100000000|-",
		h("c") + ltc + tx("c") + "|M8yFL6SFC6TreATegTyuSYkDfDRbisdpT3||49990000|-",
		h("d") + bch + "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a|" + tx("d") + "||70000|-",
		h("d") + bch + tx("d") + "|bitcoincash:ppm2qsznhks23z7629mms6s4cwef74vcwvn0h829pq||60000|-",
	}
	var l Loader
	s, st := load(t, &l, "testdata/btc_forks/transactions.json")
	diff(t, "transfers", s.lines(), want)
	diff(t, "problems", problems(st), nil)
}
