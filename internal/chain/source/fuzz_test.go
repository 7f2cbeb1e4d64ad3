package source

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// readAllCSV splits s with csvReader; a nil record marks a bad one.
func readAllCSV(s string, max int) [][]string {
	cr := csvReader{lr: lineReader{br: bufio.NewReaderSize(strings.NewReader(s), 16), max: max}}
	var out [][]string
	for {
		f, long, err := cr.read()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				out = append(out, nil)
			}
			return out
		}
		if long {
			out = append(out, nil)
			continue
		}
		rec := make([]string, len(f))
		for i, x := range f {
			rec[i] = string(x)
		}
		out = append(out, rec)
	}
}

func FuzzCSV(f *testing.F) {
	for _, s := range []string{"a,b\n", `"a""b",c` + "\n", "\"x\ny\",z\r\n", "a,\"\"\n\n", `a"b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := readAllCSV(s, 1<<20)
		r := csv.NewReader(strings.NewReader(s))
		r.FieldsPerRecord = -1
		want, err := r.ReadAll()
		if err != nil {
			return // encoding/csv refuses; ours is lenient by design
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d records, encoding/csv %d: %q vs %q", s, len(got), len(want), got, want)
		}
		for i := range want {
			if len(got[i]) != len(want[i]) || strings.Join(got[i], "\x00") != strings.Join(want[i], "\x00") {
				t.Fatalf("%q record %d: %q, encoding/csv %q", s, i, got[i], want[i])
			}
		}
	})
}

// FuzzAmount checks the allocation-free fast path against graph.ParseAmount.
func FuzzAmount(f *testing.F) {
	for _, s := range []string{"0", "1", "18446744073709551615", "18446744073709551616", "99999999999999999999999999999999999999",
		"340282366920938463463374607431768211456", "0x10", "", "-1", "1.5", "007"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var l Loader
		got, err := l.amount([]byte(s))
		want, werr := graph.ParseAmount(s)
		if (err == nil) != (werr == nil) {
			t.Fatalf("%q: err %v, ParseAmount err %v", s, err, werr)
		}
		if err == nil && got.Cmp(want) != 0 {
			t.Fatalf("%q: %s, ParseAmount %s", s, got, want)
		}
	})
}

// checkSink asserts the invariants every loader keeps, whatever the input.
type checkSink struct {
	t   *testing.T
	n   int
	evm bool // addresses and hashes must be EVM-canonical
}

func (c *checkSink) Add(tr graph.Transfer) error {
	c.n++
	if tr.From == "" || tr.To == "" {
		c.t.Fatalf("empty endpoint: %+v", tr)
	}
	if tr.Time < 0 || tr.Time > maxUnix {
		c.t.Fatalf("time out of range: %+v", tr)
	}
	if tr.HasUSD && tr.USD < 0 {
		c.t.Fatalf("negative USD: %+v", tr)
	}
	if c.evm {
		for _, a := range []string{tr.From, tr.To} {
			if len(a) != 42 || strings.ToLower(a) != a || !strings.HasPrefix(a, "0x") {
				c.t.Fatalf("non-canonical address %q", a)
			}
		}
		if tr.Tx != strings.ToLower(tr.Tx) || len(tr.Tx) != 66 {
			c.t.Fatalf("non-canonical hash %q", tr.Tx)
		}
	}
	return nil
}

func (c *checkSink) Label(addr, label string) error {
	if addr == "" || label == "" || len(label) > maxLabelBytes {
		c.t.Fatalf("label %q=%q", addr, label)
	}
	return nil
}

// fuzzRead reads data as the given format and checks the stats against the
// sink.
func fuzzRead(t *testing.T, f Format, data []byte, evm bool) {
	l := Loader{MaxLineBytes: 4096, MaxProblems: 5}
	sink := &checkSink{t: t, evm: evm}
	var st Stats
	r := l.newRun(context.Background(), sink, &st)
	br, closeFn, err := openStream(strings.NewReader(string(data)))
	if err != nil {
		return
	}
	defer closeFn()
	r.beginFile("fuzz", f, false)
	_ = r.finish(r.readFormat(br, f, false))
	if int(st.Transfers) != sink.n {
		t.Fatalf("Stats.Transfers %d, sink %d", st.Transfers, sink.n)
	}
	// A bad row is a row, except one damage report per file (XML syntax,
	// cut-off gzip) and GEXF nodes.
	if st.Bad > st.Rows+1+st.Files[0].Nodes || len(st.Problems) > 5 {
		t.Fatalf("Bad %d > Rows %d + 1 + Nodes %d, or %d problems", st.Bad, st.Rows, st.Files[0].Nodes, len(st.Problems))
	}
	if f != FormatBitcoinETL && st.Transfers > st.Rows {
		t.Fatalf("%d transfers from %d rows", st.Transfers, st.Rows)
	}
}

func addFiles(f *testing.F, globs ...string) {
	for _, g := range globs {
		files, _ := filepath.Glob(filepath.Join("testdata", g))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
}

func FuzzEthereumETLTransactions(f *testing.F) {
	addFiles(f, "eth/transactions.csv", "eth_old/transactions.csv")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, FormatEthTransactions, data, true) })
}

func FuzzEthereumETLTokenTransfers(f *testing.F) {
	addFiles(f, "eth/token_transfers.csv", "hostile/*.csv")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, FormatEthTokenTransfers, data, true)
		fuzzRead(t, FormatEthBlocks, data, true)
	})
}

func FuzzEthereumETLTraces(f *testing.F) {
	addFiles(f, "eth_traces/traces.csv")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, FormatEthTraces, data, true) })
}

func FuzzTronGrid(f *testing.F) {
	f.Add([]byte(`{"data":[{"transaction_id":"` + strings.Repeat("ab", 32) + `","token_info":{"address":"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"},` +
		`"block_timestamp":1700000000000,"from":"TBXSw8fM4jpQkGc6zZjsVABFpVN7UvXPdV","to":"TD5gsCwxykWsLN9aPrq2TAfNjByuZKYp4E","type":"Transfer","value":"7"}]}`))
	f.Add([]byte(`{"data":[{"ret":[{"contractRet":"SUCCESS"}],"txID":"` + strings.Repeat("cd", 32) + `","blockNumber":5,"block_timestamp":1700000000000,` +
		`"raw_data":{"contract":[{"parameter":{"value":{"amount":9,"owner_address":"41` + strings.Repeat("11", 20) + `","to_address":"41` + strings.Repeat("22", 20) + `"}},"type":"TransferContract"}]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, FormatTronGrid, data, false) })
}

func FuzzBitcoinETL(f *testing.F) {
	addFiles(f, "btc/*.json")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, FormatBitcoinETL, data, false) })
}

func FuzzGroundTruth(f *testing.F) {
	addFiles(f, "groundtruth/case-case.csv")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, FormatGroundTruth, data, false) })
}

func FuzzGEXF(f *testing.F) {
	addFiles(f, "gexf/*.gexf", "hostile/*.gexf")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, FormatGEXF, data, false) })
}

// FuzzRead goes through detection and any reader, gzip included.
func FuzzRead(f *testing.F) {
	addFiles(f, "*/*")
	f.Fuzz(func(t *testing.T, data []byte) {
		var l Loader
		_ = Detect("x", data)
		sink := &checkSink{t: t}
		st, _ := l.Read(context.Background(), strings.NewReader(string(data)), "fuzz", sink)
		if int(st.Transfers) != sink.n {
			t.Fatalf("Stats.Transfers %d, sink %d", st.Transfers, sink.n)
		}
	})
}

func FuzzAddressList(f *testing.F) {
	addFiles(f, "groundtruth/*addresses.csv")
	f.Fuzz(func(t *testing.T, data []byte) {
		addrs, bad, err := ReadAddressList(context.Background(), strings.NewReader(string(data)), "fuzz")
		seen := map[string]bool{}
		for _, a := range addrs {
			if a == "" || seen[a] {
				t.Fatalf("empty or duplicate address %q", a)
			}
			seen[a] = true
		}
		for _, p := range bad {
			if p.Line < 1 {
				t.Fatalf("problem without line: %v", p)
			}
		}
		_ = err
	})
}
