package source

import (
	"strings"
	"testing"
)

func TestTronGrid(t *testing.T) {
	const (
		usdt   = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
		thief  = "TBXSw8fM4jpQkGc6zZjsVABFpVN7UvXPdV"
		mule   = "TD5gsCwxykWsLN9aPrq2TAfNjByuZKYp4E"
		otc    = "TEdvoHEatmDKvTh3o9vBRB9Vdtbhn4QFhy"
		victim = "TGCAjMXComunWZEXCT1LPBdcYbDVuyexBv"
		other  = "THkQfRopincF6emzbk6VMC7jTHqJ8MP8g7"
	)
	h := func(c string) string { return strings.Repeat(c, 32) }
	want := []string{
		h("a1") + "|0|1700000000|" + victim + "|" + thief + "|" + usdt + "|5000000000000|-",
		h("b2") + "|0|1700000060|" + thief + "|" + mule + "|" + usdt + "|3000000000000|-",
		// Page 2, compact: b2 again (the mule's history) is a duplicate.
		h("e5") + "|0|1700000240|" + mule + "|" + otc + "|" + usdt + "|2999000000000|-",
		// An upper-case id is lower-cased; 2^256-1 stays exact.
		h("a7") + "|0|1700000360|" + mule + "|" + other + "|" + usdt + "|115792089237316195423570985008687907853269984665640564039457584007913129639935|-",
	}
	var l Loader
	s, st := load(t, &l, "testdata/trongrid/usdt.json")
	if len(st.Files) != 1 || st.Files[0].Format != FormatTronGrid {
		t.Fatalf("files %+v, want one %q", st.Files, FormatTronGrid)
	}
	diff(t, "transfers", s.lines(), want)
	diff(t, "problems", problems(st), []string{
		`testdata/trongrid/usdt.json: page 2 entry 3: to "TNotAnAddress" is not a TRON address`,
		`testdata/trongrid/usdt.json: page 2 entry 5: transaction_id "zz" is not a transaction id`,
		`testdata/trongrid/usdt.json: page 2 entry 6: value: amount "1.5": not a decimal integer`,
		`testdata/trongrid/usdt.json: page 3: TronGrid answered with an error, not transfers ("rate limited")`,
	})
	if got, want := skipped(st), "duplicate=1 not-a-transfer=1 zero-value=1"; got != want {
		t.Errorf("skipped %s, want %s", got, want)
	}
	if st.Rows != 10 || st.Bad != 3 {
		t.Errorf("Rows = %d, Bad = %d; want 10, 3", st.Rows, st.Bad)
	}
}

func TestTronGridHostile(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"cut off", `{"data":[{"transaction_id":"` + strings.Repeat("a", 64) + `","token_info":{"address":"x"`, "page 1: JSON"},
		{"timestamp in the year 300000", `{"data":[{"transaction_id":"` + strings.Repeat("a", 64) + `","token_info":{"address":"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"},"from":"TBXSw8fM4jpQkGc6zZjsVABFpVN7UvXPdV","to":"TD5gsCwxykWsLN9aPrq2TAfNjByuZKYp4E","type":"Transfer","value":"1","block_timestamp":9999999999999999}]}`, "is not a time in milliseconds"},
		{"evm address", `{"data":[{"transaction_id":"` + strings.Repeat("a", 64) + `","token_info":{"address":"0xdac17f958d2ee523a2206206994597c13d831ec7"},"from":"TBXSw8fM4jpQkGc6zZjsVABFpVN7UvXPdV","to":"TD5gsCwxykWsLN9aPrq2TAfNjByuZKYp4E","type":"Transfer","value":"1","block_timestamp":1}]}`, "token_info.address"},
		{"odd type", `{"data":[{"transaction_id":"` + strings.Repeat("a", 64) + `","token_info":{},"type":"Mint\u001b[31m"}]}`, "neither Transfer nor Approval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l Loader
			l.MaxLineBytes = 1 << 12
			sink := &sliceSink{}
			st, err := l.Read(t.Context(), strings.NewReader(tc.in), "x.json", sink)
			if err != nil {
				t.Fatal(err)
			}
			ps := problems(st)
			if len(ps) != 1 || !strings.Contains(ps[0], tc.want) || strings.ContainsAny(ps[0], "\x1b\n") {
				t.Errorf("problems %q, want one mentioning %q", ps, tc.want)
			}
			if len(sink.ts) != 0 {
				t.Errorf("%d transfers", len(sink.ts))
			}
		})
	}
	// A page over the size limit is refused without reading it all.
	var l Loader
	l.MaxLineBytes = 1 << 12
	big := `{"data":[` + strings.Repeat(`{"type":"Approval"},`, 1000) + `{"type":"Approval"}]}`
	st, _ := l.Read(t.Context(), strings.NewReader(`{"data":[{"transaction_id":"x","token_info":{}}]}`+big), "x.json", &sliceSink{})
	if ps := problems(st); len(ps) != 2 || !strings.Contains(ps[1], "page 2: longer than 4096 bytes") {
		t.Errorf("problems %q, want page 2 refused as too long", ps)
	}
}

// TRX itself, from the transaction history: owner and recipient in TRON's
// hex form come out in base58.
func TestTronGridNative(t *testing.T) {
	const (
		thief = "TBXSw8fM4jpQkGc6zZjsVABFpVN7UvXPdV" // 41 11…11
		mule  = "TD5gsCwxykWsLN9aPrq2TAfNjByuZKYp4E" // 41 22…22
		otc   = "TEdvoHEatmDKvTh3o9vBRB9Vdtbhn4QFhy" // 41 33…33
	)
	h := func(c string) string { return strings.Repeat(c, 32) }
	want := []string{
		h("c1") + "|56000000|1700000000|" + thief + "|" + mule + "||250000000|-",
		h("c4") + "|56000030|1700000090|" + mule + "|" + otc + "||249000000|-",
	}
	var l Loader
	s, st := load(t, &l, "testdata/trongrid/trx.json")
	diff(t, "transfers", s.lines(), want)
	diff(t, "problems", problems(st), []string{
		`testdata/trongrid/trx.json: page 1 entry 5: to_address "41zz" is not a TRON address`,
	})
	if got, want := skipped(st), "duplicate=2 failed-transaction=1 not-a-transfer=1"; got != want {
		t.Errorf("skipped %s, want %s", got, want)
	}
}
