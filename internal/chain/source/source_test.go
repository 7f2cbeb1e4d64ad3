package source

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// sliceSink is the in-memory Sink of the tests: it keeps every transfer and
// label in order.
type sliceSink struct {
	ts     []graph.Transfer
	labels []string // "address=label"
}

func (s *sliceSink) Add(t graph.Transfer) error {
	s.ts = append(s.ts, t)
	return nil
}

func (s *sliceSink) Label(addr, label string) error {
	s.labels = append(s.labels, addr+"="+label)
	return nil
}

// lines renders the transfers one a line for exact comparison.
func (s *sliceSink) lines() []string {
	out := make([]string, len(s.ts))
	for i, t := range s.ts {
		out[i] = fmtTransfer(t)
	}
	return out
}

// fmtTransfer renders tx|block|time|from|to|asset|amount|usd ("-" without).
func fmtTransfer(t graph.Transfer) string {
	usd := "-"
	if t.HasUSD {
		usd = strconv.FormatFloat(t.USD, 'f', -1, 64)
	}
	return fmt.Sprintf("%s|%d|%d|%s|%s|%s|%s|%s", t.Tx, t.Block, t.Time, t.From, t.To, t.Asset, t.Amount, usd)
}

// addOnly is a sink without the Labeler capability.
type addOnly struct{ n int }

func (a *addOnly) Add(graph.Transfer) error { a.n++; return nil }

func problems(st Stats) []string {
	out := make([]string, len(st.Problems))
	for i, p := range st.Problems {
		out[i] = p.String()
	}
	return out
}

func diff(t *testing.T, what string, got, want []string) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	t.Errorf("%s differ:\n got (%d):\n  %s\nwant (%d):\n  %s", what, len(got), strings.Join(got, "\n  "), len(want), strings.Join(want, "\n  "))
}

func load(t *testing.T, l *Loader, path string) (*sliceSink, Stats) {
	t.Helper()
	s := &sliceSink{}
	st, err := l.Load(context.Background(), path, s)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	if int(st.Transfers) != len(s.ts) {
		t.Fatalf("Stats.Transfers = %d, sink got %d", st.Transfers, len(s.ts))
	}
	return s, st
}

func read(t *testing.T, l *Loader, name, content string) (*sliceSink, Stats, error) {
	t.Helper()
	s := &sliceSink{}
	st, err := l.Read(context.Background(), strings.NewReader(content), name, s)
	return s, st, err
}

func skipped(st Stats) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(st.Skipped)) {
		if st.Skipped[k] != 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, st.Skipped[k]))
		}
	}
	return strings.Join(parts, " ")
}

func TestDetect(t *testing.T) {
	tests := []struct {
		file string
		want Format
	}{
		{"eth/transactions.csv", FormatEthTransactions},
		{"eth/token_transfers.csv", FormatEthTokenTransfers},
		{"eth/blocks.csv", FormatEthBlocks},
		{"eth_old/transactions.csv", FormatEthTransactions},
		{"btc/transactions.json", FormatBitcoinETL},
		{"groundtruth/case-case.csv", FormatGroundTruth},
		{"groundtruth/case-source_addresses.csv", FormatAddressList},
		{"groundtruth/case-terminal_addresses.csv", FormatAddressList},
		{"groundtruth/README.md", FormatUnknown},
		{"gexf/small.gexf", FormatGEXF},
		{"hostile/unknown.csv", FormatUnknown},
	}
	for _, tt := range tests {
		b, err := os.ReadFile(filepath.Join("testdata", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		if got := Detect(tt.file, b); got != tt.want {
			t.Errorf("Detect(%s) = %q, want %q", tt.file, got, tt.want)
		}
	}
	inline := []struct {
		name, head string
		want       Format
	}{
		{"x.csv", "", FormatUnknown},
		{"x.json", `{"type":"block","number":1,"timestamp":2}` + "\n", FormatBitcoinETL},
		{"x.json", `{"type":"block","number":1}` + "\n", FormatUnknown},
		{"x.json", `{"foo":1}`, FormatUnknown},
		{"x.json", `[1,2]`, FormatUnknown},
		{"x.xml", `<?xml version="1.0"?><svg/>`, FormatUnknown},
		{"x.csv", "\xef\xbb\xbfTimestamp,Block,Tx_hash,From,To\n", FormatGroundTruth},
		{"x.csv", "0x1111111111111111111111111111111111111111", FormatAddressList},
		{"x.csv", "address,label\n0x1111111111111111111111111111111111111111,x\n", FormatUnknown},
	}
	for _, tt := range inline {
		if got := Detect(tt.name, []byte(tt.head)); got != tt.want {
			t.Errorf("Detect(%q) = %q, want %q", tt.head, got, tt.want)
		}
	}
}

func TestSinkErrorStops(t *testing.T) {
	boom := errors.New("boom")
	s := &failSink{after: 1, err: boom}
	st, err := Load(context.Background(), "testdata/eth/transactions.csv", s)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if !strings.Contains(err.Error(), "transactions.csv:3") {
		t.Errorf("error %q does not name the file and line", err)
	}
	if st.Transfers != 1 {
		t.Errorf("Transfers = %d, want 1", st.Transfers)
	}
}

type failSink struct {
	after, n int
	err      error
}

func (f *failSink) Add(graph.Transfer) error {
	if f.n >= f.after {
		return f.err
	}
	f.n++
	return nil
}

func TestLabelerErrorStops(t *testing.T) {
	boom := errors.New("labels full")
	_, err := Load(context.Background(), "testdata/groundtruth/case-case.csv", &labelFail{err: boom})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
}

type labelFail struct {
	addOnly
	err error
}

func (l *labelFail) Label(string, string) error { return l.err }

func TestCancel(t *testing.T) {
	// Enough rows to pass a cancellation check.
	var b strings.Builder
	b.WriteString("Timestamp,Block,Tx_hash,From,From_label,To,To_label,Value_in_USD\n")
	for i := range 10000 {
		fmt.Fprintf(&b, "2023-01-13 20:34:11,%d,0x%064x,0x%040x,,0x%040x,,1.5\n", i, i, i, i+1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var l Loader
	st, err := l.Read(ctx, strings.NewReader(b.String()), "big.csv", &addOnly{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if st.Rows >= 10000 {
		t.Errorf("read all %d rows despite cancellation", st.Rows)
	}
}

func TestStatsString(t *testing.T) {
	st := Stats{Files: make([]FileStats, 2), Rows: 10, Transfers: 7, Bad: 1, Labels: 3,
		Skipped: map[string]int64{SkipZeroValue: 1, SkipFailed: 1}}
	want := "2 files, 10 rows, 7 transfers, 1 bad, 1 failed-transaction, 1 zero-value, 3 labels"
	if got := st.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	p := Problem{File: "a.csv", Line: 3, Reason: "bad"}
	if p.String() != "a.csv:3: bad" {
		t.Errorf("Problem.String() = %q", p.String())
	}
	if (Problem{File: "a.csv", Reason: "x"}).String() != "a.csv: x" {
		t.Error("file-level Problem.String()")
	}
}
