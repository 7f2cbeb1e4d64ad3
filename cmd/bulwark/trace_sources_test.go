package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
	"github.com/bulwark-intel/bulwark/internal/chain/taint"
)

// Without --unit, amounts are shown in the coin of the seed's chain.
func TestDisplayUnitFromSeed(t *testing.T) {
	g := graph.NewBuilder().Build()
	defer g.Close()
	decimals := map[string]int{"ETH": 18, "BTC": 8, "LTC": 8, "BCH": 8, "TRX": 6}
	for _, tc := range []struct{ seed, want string }{
		{"0x47666Fab8bd0Ac7003bce3f5C3585383F09486E2", "ETH"},
		{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "BTC"},
		{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "BTC"}, // also valid on Bitcoin Cash
		{"ltc1qg42tkwuuxefutzxezdkdel39gfstuap288mfea", "LTC"},
		{"LNf2JDiuunBz7GMDKFYHN4rq5meXWxiwfb", "LTC"},
		{"bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", "BCH"},
		{"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "TRX"},
	} {
		u, err := displayUnit(g, "", []taint.Seed{{Address: tc.seed}})
		if err != nil || u.Name != tc.want {
			t.Errorf("%s: unit %+v, %v; want %s", tc.seed, u, err, tc.want)
		}
		if want := decimals[tc.want]; u.Decimals != want {
			t.Errorf("%s: %d decimals, want %d", tc.seed, u.Decimals, want)
		}
	}
}

// An ethereum-etl export with traces.csv: the thief pays into a pool
// contract that already held a clean deposit, and a relayer's call makes
// the pool pay a recipient. Only the trace of that call shows the payout.
func TestTraceEthereumETLTraces(t *testing.T) {
	const (
		thief = "0x1111111111111111111111111111111111111111"
		clean = "0x2222222222222222222222222222222222222222"
		pool  = "0x3333333333333333333333333333333333333333"
		relay = "0x4444444444444444444444444444444444444444"
		recip = "0x5555555555555555555555555555555555555555"
		eth   = "000000000000000000" // 18 zeros
	)
	h := func(c string) string { return "0x" + strings.Repeat(c, 64) }
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("transactions.csv", "hash,block_number,block_timestamp,from_address,to_address,value,receipt_status\n"+
		h("a")+",10,1700000000,"+clean+","+pool+",3"+eth+",1\n"+
		h("b")+",11,1700000012,"+thief+","+pool+",9"+eth+",1\n"+
		h("c")+",12,1700000024,"+relay+","+pool+",0,1\n")
	out := mustRun(t, "trace", "--from", thief, "--graph", dir, "--model", "haircut", "--json")
	if strings.Contains(out, recip) {
		t.Fatalf("without traces the recipient is reached:\n%s", out)
	}
	write("traces.csv", "block_number,transaction_hash,from_address,to_address,value,trace_type,call_type,trace_address,status\n"+
		"10,"+h("a")+","+clean+","+pool+",3"+eth+",call,call,,1\n"+
		"11,"+h("b")+","+thief+","+pool+",9"+eth+",call,call,,1\n"+
		"12,"+h("c")+","+relay+","+pool+",0,call,call,,1\n"+
		"12,"+h("c")+","+pool+","+recip+",8"+eth+",call,call,0,1\n")
	// The pool held 3 clean and 9 stolen: poison passes all 8 on, haircut
	// 8 × 9/12 = 6, FIFO 5 after the clean 3.
	for model, want := range map[string]float64{"poison": 8, "haircut": 6, "fifo": 5} {
		out := mustRun(t, "trace", "--from", thief, "--graph", dir, "--model", model, "--json")
		var rep taint.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%s: %v\n%s", model, err, out)
		}
		got := -1.0
		for _, a := range rep.Addresses {
			if a.Address == recip {
				got = a.Amount
			}
		}
		if rep.Unit != "ETH" || math.Abs(got-want) > 1e-9 {
			t.Errorf("%s: the recipient has %g %s, want %g ETH", model, got, rep.Unit, want)
		}
	}
}

// USDT on TRON, as TronGrid's TRC-20 history gives it: the thief's page
// and the mule's, which repeats the transfer between them.
func TestTraceTronGrid(t *testing.T) {
	const (
		usdt  = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
		thief = "TBXSw8fM4jpQkGc6zZjsVABFpVN7UvXPdV"
		mule  = "TD5gsCwxykWsLN9aPrq2TAfNjByuZKYp4E"
		otc   = "TEdvoHEatmDKvTh3o9vBRB9Vdtbhn4QFhy"
	)
	entry := func(tx byte, ms int64, from, to, value string) string {
		return fmt.Sprintf(`{"transaction_id":"%s","token_info":{"symbol":"USDT","address":"%s","decimals":6},"block_timestamp":%d,"from":"%s","to":"%s","type":"Transfer","value":"%s"}`,
			strings.Repeat(string(tx), 64), usdt, ms, from, to, value)
	}
	page := func(entries ...string) string {
		return `{"data":[` + strings.Join(entries, ",") + `],"success":true}` + "\n"
	}
	path := filepath.Join(t.TempDir(), "usdt.json")
	body := page(entry('a', 1700000000000, thief, mule, "3000000000000")) +
		page(entry('a', 1700000000000, thief, mule, "3000000000000"), entry('b', 1700000060000, mule, otc, "2500000000000"))
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	// USDT is known: no --unit needed; --asset takes TRON's base58 form.
	out := mustRun(t, "trace", "--from", thief, "--graph", path, "--asset", usdt, "--model", "haircut", "--json")
	var rep taint.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := map[string]float64{}
	for _, a := range rep.Addresses {
		got[a.Address] = a.Amount
	}
	// Counted once although both pages list it.
	if rep.Unit != "USDT" || got[mule] != 3_000_000 || got[otc] != 2_500_000 {
		t.Errorf("unit %s, taint %v; want mule 3,000,000 and the OTC desk 2,500,000 USDT", rep.Unit, got)
	}
}

// Inputs that once gave silently wrong totals: sources named apart that
// overlap, a transaction seed's unit, a load mixing USD-valued ground truth
// with base-unit transfers, and --asset all over assets without USD values.
func TestTraceLoadPitfalls(t *testing.T) {
	const src = "../../internal/chain/source/testdata"
	seedTx := "0x" + strings.Repeat("b2", 32)
	stolen := func(args ...string) float64 {
		t.Helper()
		var rep taint.Report
		out := mustRun(t, append([]string{"trace", "--json"}, args...)...)
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return rep.Totals.Stolen
	}
	whole := stolen("--graph", src+"/eth_traces", "--from", seedTx)
	if whole != 100 {
		t.Fatalf("eth_traces: %v ETH stolen, want 100", whole)
	}
	for name, args := range map[string][]string{
		"traces named apart": {"--graph", src + "/eth_traces/transactions.csv", "--graph", src + "/eth_traces/traces.csv"},
		"a file twice":       {"--graph", src + "/eth_traces", "--graph", src + "/eth_traces/traces.csv"},
	} {
		if got := stolen(append(args, "--from", seedTx)...); got != whole {
			t.Errorf("%s: %v ETH stolen, want %v", name, got, whole)
		}
	}
	// --min is in ETH for a transaction seed too: 5 ETH keeps the 100.
	if got := stolen("--graph", src+"/eth_traces", "--from", seedTx, "--min", "5"); got != whole {
		t.Errorf("--min 5 with a transaction seed: %v stolen", got)
	}
	// A transaction seed earlier than an address seed's first payment
	// starts the trace without --start.
	if got := stolen("--graph", src+"/groundtruth/case-case.csv", "--from", "0x"+strings.Repeat("a", 64), "--from", "0x2222222222222222222222222222222222222222"); got <= 0 {
		t.Errorf("a transaction seed before an address seed: %v stolen", got)
	}
	_, errOut, err := bulwark(t, "trace", "--graph", src+"/groundtruth/case-case.csv", "--graph", src+"/eth", "--from", "0x1111111111111111111111111111111111111111")
	if err == nil || !strings.Contains(err.Error(), "have a USD value and the rest none") {
		t.Errorf("ground truth mixed with ethereum-etl: %v\n%s", err, errOut)
	}
	_, _, err = bulwark(t, "trace", "--graph", src+"/eth", "--asset", "all", "--from", "0x1111111111111111111111111111111111111111")
	if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "needs USD values") {
		t.Errorf("--asset all without USD values: %v", err)
	}
}
