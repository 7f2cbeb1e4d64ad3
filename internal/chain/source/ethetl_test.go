package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	hA     = "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	hAB    = "0xabababababababababababababababababababababababababababababababab"
	hF     = "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
	h8     = "0x8888888888888888888888888888888888888888888888888888888888888888"
	addrA  = "0x1111111111111111111111111111111111111111"
	addrB  = "0x2222222222222222222222222222222222222222"
	bybit  = "0x47666fab8bd0ac7003bce3f5c3585383f09486e2" // written in EIP-55 case in the fixtures
	usdt   = "0xdac17f958d2ee523a2206206994597c13d831ec7"
	two130 = "1361129467683753853853498429727072845824"
	two256 = "115792089237316195423570985008687907853269984665640564039457584007913129639936"
)

// ethTxWant are the transfers of testdata/eth/transactions.csv.
var ethTxWant = []string{
	hA + "|100|1700000000|" + addrA + "|" + addrB + "||1000000000000000000|-",
	hAB + "|100|1700000000|" + bybit + "|" + addrA + "||10000000000000000000000|-", // hash upper-case in the file
	hF + "|102|1700000024|" + addrB + "|" + addrA + "||" + two130 + "|-",           // > 2^128
	h8 + "|103|1700000036|" + addrB + "|" + bybit + "||42|-",                       // input field quoted over two lines
}

var ethTxProblems = []string{
	`testdata/eth/transactions.csv:8: value: amount "-5": not a decimal integer`,
	`testdata/eth/transactions.csv:9: block_number "abc" is not a block number`,
	`testdata/eth/transactions.csv:10: 10 fields, header has 21`,
	`testdata/eth/transactions.csv:11: from_address "0x47666fab8bd0Ac7003bce3f5C3585383F09486E2" is not an EVM address`,
	`testdata/eth/transactions.csv:12: value: amount "1111111111111111111111111111111111111111"…: more than 100 digits`,
	`testdata/eth/transactions.csv:13: value: amount "1.5e18": not a decimal integer`,
	`testdata/eth/transactions.csv:14: receipt_status "2" is not 0 or 1`,
	`testdata/eth/transactions.csv:17: hash "0x1234" is not a transaction hash`,
	`testdata/eth/transactions.csv:18: block_timestamp "yesterday" is not a time`,
}

// ethTokenWant are the transfers of testdata/eth/token_transfers.csv: block
// 100's time comes from transactions.csv, block 104's from blocks.csv.
var ethTokenWant = []string{
	hA + "|100|1700000000|" + addrB + "|" + bybit + "|" + usdt + "|5000000|-",
	hA + "|104|1700000048|" + bybit + "|" + addrA + "|" + usdt + "|" + two256 + "|-",
}

var ethTokenProblems = []string{
	`testdata/eth/token_transfers.csv:4: block 999 has no timestamp: load its blocks.csv or transactions.csv in the same call (rows of this block are skipped)`,
	`testdata/eth/token_transfers.csv:6: token_address "0xnot-a-token" is not an EVM address`,
}

func TestEthereumETLDirectory(t *testing.T) {
	var l Loader
	s, st := load(t, &l, "testdata/eth")
	diff(t, "transfers", s.lines(), append(append([]string{}, ethTxWant...), ethTokenWant...))
	diff(t, "problems", problems(st), append(append([]string{}, ethTxProblems...), ethTokenProblems...))
	// Rows: 16 transaction records (one spans two lines), 6 token transfers, 5 blocks.
	if st.Rows != 27 || st.Bad != 10 {
		t.Errorf("Rows = %d, Bad = %d; want 27, 10", st.Rows, st.Bad)
	}
	if got, want := skipped(st), "contract-creation=1 failed-transaction=1 no-block-timestamp=2 zero-value=2"; got != want {
		t.Errorf("skipped %s, want %s", got, want)
	}
	// blocks.csv is read first: the token transfers need its times.
	var order []string
	for _, f := range st.Files {
		order = append(order, filepath.Base(f.Path)+":"+string(f.Format))
	}
	want := "blocks.csv:ethereum-etl blocks transactions.csv:ethereum-etl transactions token_transfers.csv:ethereum-etl token_transfers"
	if strings.Join(order, " ") != want {
		t.Errorf("file order %v", order)
	}
}

func TestEthereumETLKeepZero(t *testing.T) {
	l := Loader{KeepZero: true}
	s, st := load(t, &l, "testdata/eth/transactions.csv")
	if len(s.ts) != 5 || st.Skipped[SkipZeroValue] != 0 {
		t.Fatalf("%d transfers, %d zero skipped; want 5, 0", len(s.ts), st.Skipped[SkipZeroValue])
	}
	if got := fmtTransfer(s.ts[2]); got != "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee|101|1700000012|"+addrA+"|"+addrB+"||0|-" {
		t.Errorf("zero transfer %s", got)
	}
}

// A token_transfers.csv given alone takes block times from the blocks and
// transactions files beside it, without loading their transfers or
// reporting their bad rows.
func TestTokenTransfersAlone(t *testing.T) {
	var l Loader
	s, st := load(t, &l, "testdata/eth/token_transfers.csv")
	diff(t, "transfers", s.lines(), ethTokenWant)
	diff(t, "problems", problems(st), ethTokenProblems)
	if st.Rows != 6 || st.Bad != 1 {
		t.Errorf("Rows = %d, Bad = %d; want 6, 1", st.Rows, st.Bad)
	}
	timesOnly := 0
	for _, f := range st.Files {
		if f.TimesOnly {
			timesOnly++
			if f.Transfers != 0 {
				t.Errorf("%s: times-only file emitted %d transfers", f.Path, f.Transfers)
			}
		}
	}
	if timesOnly != 2 {
		t.Errorf("%d times-only files, want 2 (blocks.csv, transactions.csv)", timesOnly)
	}
}

// Streams: a Loader keeps block times across Read calls.
func TestTokenTransfersStream(t *testing.T) {
	tokens, err := os.ReadFile("testdata/eth/token_transfers.csv")
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := os.ReadFile("testdata/eth/blocks.csv")
	if err != nil {
		t.Fatal(err)
	}
	var fresh Loader
	s, st, err := read(t, &fresh, "tokens", string(tokens))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.ts) != 0 || st.Skipped[SkipNoBlockTime] != 4 {
		t.Errorf("without block times: %d transfers, %d no-time; want 0, 4", len(s.ts), st.Skipped[SkipNoBlockTime])
	}
	var l Loader
	if _, _, err := read(t, &l, "blocks", string(blocks)); err != nil {
		t.Fatal(err)
	}
	s, st, err = read(t, &l, "tokens", string(tokens))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.ts) != 2 || st.Skipped[SkipNoBlockTime] != 2 {
		t.Errorf("with blocks.csv: %d transfers, %d no-time; want 2, 2", len(s.ts), st.Skipped[SkipNoBlockTime])
	}
	if len(s.ts) > 0 && s.ts[0].Time != 1700000000 {
		t.Errorf("block 100 time %d", s.ts[0].Time)
	}
}

func TestEthereumETLOldExport(t *testing.T) {
	var l Loader
	s, st := load(t, &l, "testdata/eth_old")
	diff(t, "transfers", s.lines(), []string{hA + "|102|1700000024|" + addrA + "|" + addrB + "||77|-"})
	diff(t, "problems", problems(st), []string{
		"testdata/eth_old/transactions.csv: no receipt_status column: failed transactions cannot be told apart and are loaded",
		"testdata/eth_old/transactions.csv:3: block 500 has no timestamp: load its blocks.csv or transactions.csv in the same call (rows of this block are skipped)",
	})
}

// Columns are found by name, in any order and case, with a BOM and CRLF.
func TestEthereumETLColumnOrder(t *testing.T) {
	content := "\xef\xbb\xbfBlock_Timestamp,VALUE,to_address,receipt_status,from_address,block_number,hash\r\n" +
		"1700000000,7," + addrB + ",1," + addrA + ",100," + hA + "\r\n" +
		"2023-11-14 22:13:20 UTC,8," + addrB + ",," + addrA + ",100," + hA + "\r\n"
	var l Loader
	s, st, err := read(t, &l, "reordered.csv", content)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "transfers", s.lines(), []string{
		hA + "|100|1700000000|" + addrA + "|" + addrB + "||7|-",
		hA + "|100|1700000000|" + addrA + "|" + addrB + "||8|-",
	})
	if st.Bad != 0 {
		t.Errorf("bad rows: %v", problems(st))
	}
}

// A directory of gzipped files in the Hive layout of ethereum-etl's
// export_all loads like the plain files.
func TestEthereumETLGzipHive(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []struct{ src, dst string }{
		{"transactions.csv", "transactions/start_block=100/end_block=104/transactions_100_104.csv.gz"},
		{"token_transfers.csv", "token_transfers/start_block=100/end_block=104/token_transfers_100_104.csv.gz"},
		{"blocks.csv", "blocks/start_block=100/end_block=104/blocks_100_104.csv.gz"},
	} {
		b, err := os.ReadFile(filepath.Join("testdata/eth", f.src))
		if err != nil {
			t.Fatal(err)
		}
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(b)
		zw.Close()
		p := filepath.Join(dir, f.dst)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, z.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var l Loader
	s, st, err := func() (*sliceSink, Stats, error) {
		s := &sliceSink{}
		st, err := l.Load(context.Background(), dir, s)
		return s, st, err
	}()
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "transfers", s.lines(), append(append([]string{}, ethTxWant...), ethTokenWant...))
	if st.Bad != 10 {
		t.Errorf("Bad = %d, want 10", st.Bad)
	}
}

// Each cache holds only what its check accepted: a Bitcoin address or a
// GEXF node name seen earlier is no EVM address for ethereum-etl.
func TestAddressCachesAreSeparate(t *testing.T) {
	var l Loader
	doc := `<gexf><graph defaultedgetype="directed"><edges><edge source="1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa" target="mixer" weight="1"/></edges></graph></gexf>`
	if s, _, err := read(t, &l, "g.gexf", doc); err != nil || len(s.ts) != 1 {
		t.Fatalf("gexf: %v", err)
	}
	csv := "token_address,from_address,to_address,value,transaction_hash,log_index,block_number,block_timestamp\n" +
		usdt + ",1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa," + addrB + ",1," + hA + ",0,1,1\n" +
		usdt + "," + addrA + ",mixer,1," + hA + ",0,1,1\n"
	s, st, err := read(t, &l, "t.csv", csv)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.ts) != 0 || st.Bad != 2 {
		t.Errorf("%d transfers, %d bad; want 0, 2", len(s.ts), st.Bad)
	}
}

// Reading ethereum-etl rows allocates only the strings a Transfer needs:
// the transaction hash (addresses repeat and are shared).
func TestEthereumETLAllocs(t *testing.T) {
	const n = 2000
	data := synthEthTransactions(n)
	var l Loader
	sink := &countingSink{}
	allocs := testing.AllocsPerRun(3, func() {
		if _, err := l.Read(context.Background(), bytes.NewReader(data), "tx.csv", sink); err != nil {
			t.Fatal(err)
		}
	})
	if perRow := allocs / n; perRow > 1.1 {
		t.Errorf("%.0f allocations for %d rows (%.2f a row), want at most 1.1", allocs, n, perRow)
	}
}

// testdata/eth_traces is a mixer withdrawal as ethereum-etl exports it: a
// deposit into a pool contract (0x3333…), then a relayer's call whose
// internal transfers pay the recipient and the relayer's fee, beside the
// trace kinds that move nothing or must not count.
func TestEthereumETLTraces(t *testing.T) {
	const (
		hA    = "0xa1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
		hB    = "0xb2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"
		hD    = "0xd4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4"
		pool  = "0x3333333333333333333333333333333333333333"
		relay = "0x4444444444444444444444444444444444444444"
		newC  = "0x7777777777777777777777777777777777777777"
	)
	want := []string{
		hA + "|200|1700001000|" + addrA + "|" + pool + "||100000000000000000000|-", // the deposit: top-level trace
		hB + "|201|1700001012|" + pool + "|" + addrB + "||99000000000000000000|-",  // internal: the withdrawal
		hB + "|201|1700001012|" + pool + "|" + relay + "||1000000000000000000|-",   // internal: the relayer's fee
		hD + "|202|1700001024|" + addrA + "|" + newC + "||3|-",                     // a contract's endowment
		hD + "|202|1700001024|" + newC + "|" + bybit + "||7|-",                     // its selfdestruct
	}
	wantProblems := []string{
		`testdata/eth_traces/transactions.csv: read for block timestamps only: the traces in this load hold its transfers, and the internal ones too`,
		`testdata/eth_traces/traces.csv:12: trace_type "frob" is not call, create, suicide, reward, genesis or daofork`,
		`testdata/eth_traces/traces.csv:13: status "2" is not 0 or 1`,
		`testdata/eth_traces/traces.csv:14: transaction_hash "" is not a transaction hash`,
		`testdata/eth_traces/traces.csv:15: block 203 has no timestamp: load its blocks.csv or transactions.csv in the same call (rows of this block are skipped)`,
		`testdata/eth_traces/traces.csv:16: to_address is empty`,
	}
	var l Loader
	s, st := load(t, &l, "testdata/eth_traces")
	diff(t, "transfers", s.lines(), want)
	diff(t, "problems", problems(st), wantProblems)
	if got, want := skipped(st), "failed-transaction=1 issuance=1 no-block-timestamp=1 no-value-moved=2 zero-value=1"; got != want {
		t.Errorf("skipped %s, want %s", got, want)
	}
	for _, f := range st.Files {
		if f.Format == FormatEthTransactions && (!f.TimesOnly || f.Transfers != 0) {
			t.Errorf("transactions.csv beside traces: times only %v, %d transfers; want true, 0", f.TimesOnly, f.Transfers)
		}
	}
	if st.Rows != 16 || st.Bad != 4 {
		t.Errorf("Rows = %d, Bad = %d; want 16 (15 traces, 1 block; times-only rows are not counted), 4", st.Rows, st.Bad)
	}

	// Given alone, traces.csv takes its block times from the files beside
	// it and loads the same transfers.
	var l2 Loader
	s2, _ := load(t, &l2, "testdata/eth_traces/traces.csv")
	diff(t, "traces.csv alone", s2.lines(), want)
}
