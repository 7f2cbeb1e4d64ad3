package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A load of several paths reads every transfer once: a file named twice,
// a traces.csv named apart from its transactions.csv, overlapping exports
// of one format and both parties' TronGrid histories.
func TestLoadAllOnce(t *testing.T) {
	dir := t.TempDir()
	copyFile := func(src, dst string) string {
		t.Helper()
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst = filepath.Join(dir, dst)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return dst
	}
	// A second export of the same blocks, in a directory of its own.
	for _, f := range []string{"blocks.csv", "transactions.csv", "token_transfers.csv"} {
		copyFile(filepath.Join("testdata/eth", f), filepath.Join("again", f))
	}
	tron := copyFile("testdata/trongrid/usdt.json", "other-party/usdt.json")

	for _, c := range []struct {
		name  string
		paths []string
		want  []string // loaded alone, in one load
		dups  bool     // duplicates are counted
		twice bool     // a file is reported as read already
	}{
		{"traces named apart", []string{"testdata/eth_traces/transactions.csv", "testdata/eth_traces/traces.csv"}, []string{"testdata/eth_traces"}, false, false},
		{"directory and a file in it", []string{"testdata/eth", "testdata/eth/transactions.csv"}, []string{"testdata/eth"}, false, true},
		{"file twice", []string{"testdata/groundtruth/case-case.csv", "./testdata/groundtruth/case-case.csv"}, []string{"testdata/groundtruth/case-case.csv"}, false, true},
		{"both parties' histories", []string{"testdata/trongrid/usdt.json", tron}, []string{"testdata/trongrid/usdt.json"}, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var l, lw Loader
			got, st := loadAll(t, &l, c.paths)
			want, wst := loadAll(t, &lw, c.want)
			diff(t, "transfers", sortedLines(got), sortedLines(want))
			if d := st.Skipped[SkipDuplicate]; (d > 0) != c.dups {
				t.Errorf("%d duplicates skipped", d)
			}
			// Every transfer of the second copy, and twice what a copy
			// repeats within itself (TronGrid's own check).
			if n := 2*wst.Skipped[SkipDuplicate] + int64(len(want.ts)); c.dups && st.Skipped[SkipDuplicate] != n {
				t.Errorf("%d duplicates skipped, want %d", st.Skipped[SkipDuplicate], n)
			}
			twice := slices.ContainsFunc(st.Ignored, func(p Problem) bool { return strings.HasPrefix(p.Reason, "read already") })
			if twice != c.twice {
				t.Errorf("reported read already: %v, want %v (%v)", twice, c.twice, st.Ignored)
			}
		})
	}
}

// Identical transfers within one file are kept: a transaction may pay an
// address twice the same amount.
func TestLoadAllKeepsRepeatsInAFile(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("testdata/groundtruth/case-case.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	doubled := lines[0] + lines[1] + lines[1] // the header, a row twice
	for _, name := range []string{"a-a.csv", "b-b.csv"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(doubled), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var l Loader
	s, st := loadAll(t, &l, []string{filepath.Join(dir, "a-a.csv"), filepath.Join(dir, "b-b.csv")})
	if len(s.ts) != 2 || st.Skipped[SkipDuplicate] != 2 {
		t.Errorf("%d transfers, %d duplicates; want 2 (the file's own repeat) and 2 (the other file's)", len(s.ts), st.Skipped[SkipDuplicate])
	}
}

// Exports by block: two that hold blocks in common are refused (their
// common transfers would count twice); two of different blocks load side by
// side, and a traces.csv supersedes only the transactions.csv of its own
// export.
func TestLoadAllExportsByBlock(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"blocks.csv", "transactions.csv", "token_transfers.csv"} {
		b, err := os.ReadFile(filepath.Join("testdata/eth", f))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(dir, "again"), 0o755)
		if err := os.WriteFile(filepath.Join(dir, "again", f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var l Loader
	_, err := l.LoadAll(context.Background(), []string{"testdata/eth", filepath.Join(dir, "again")}, &sliceSink{})
	if !errors.Is(err, ErrOverlap) || !strings.Contains(err.Error(), "blocks 100-103") {
		t.Errorf("overlapping exports into a sink that cannot start over: %v", err)
	}
	// A sink that can start over gets the load again with every transfer
	// keyed: the second export's copies count once.
	var lr, l1 Loader
	rs := &resetSink{}
	st, err := lr.LoadAll(context.Background(), []string{"testdata/eth", filepath.Join(dir, "again")}, rs)
	one, _ := loadAll(t, &l1, []string{"testdata/eth"})
	if err != nil || !st.Rekeyed {
		t.Fatalf("overlapping exports: %v, rekeyed %v", err, st.Rekeyed)
	}
	diff(t, "rekeyed transfers", sortedLines(&rs.sliceSink), sortedLines(one))
	// Shards of one export that share a boundary block but no transfer
	// load whole.
	b, err := os.ReadFile("testdata/eth/transactions.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimRight(string(b), "\n"), "\n")
	shard := filepath.Join(dir, "shards")
	os.MkdirAll(shard, 0o755)
	os.WriteFile(filepath.Join(shard, "tx-000.csv"), []byte(lines[0]+strings.Join(lines[1:len(lines)/2+1], "")), 0o644)
	os.WriteFile(filepath.Join(shard, "tx-001.csv"), []byte(lines[0]+strings.Join(lines[len(lines)/2+1:], "")+"\n"), 0o644)
	var ls, lw Loader
	rs = &resetSink{}
	if _, err := ls.LoadAll(context.Background(), []string{shard}, rs); err != nil {
		t.Fatal(err)
	}
	whole, _ := loadAll(t, &lw, []string{"testdata/eth/transactions.csv"})
	diff(t, "sharded transfers", sortedLines(&rs.sliceSink), sortedLines(whole))
	var la, lb, lc Loader
	both, _ := loadAll(t, &la, []string{"testdata/eth", "testdata/eth_traces"})
	eth, _ := loadAll(t, &lb, []string{"testdata/eth"})
	traces, _ := loadAll(t, &lc, []string{"testdata/eth_traces"})
	diff(t, "transfers", sortedLines(both), slices.Sorted(slices.Values(append(eth.lines(), traces.lines()...))))
}

// resetSink is a sink that can start over, as graph.Builder can.
type resetSink struct{ sliceSink }

func (r *resetSink) Reset() { r.sliceSink = sliceSink{} }

// ethereum-etl's partitioned layout puts each kind of file in a folder of
// its own: a traces folder supersedes the transactions folder of the same
// export (one path argument).
func TestLoadAllPartitionedLayout(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []struct{ src, dst string }{
		{"blocks.csv", "blocks/start_block=200/end_block=203/blocks_200_203.csv"},
		{"transactions.csv", "transactions/start_block=200/end_block=203/transactions_200_203.csv"},
		{"traces.csv", "traces/start_block=200/end_block=203/traces_200_203.csv"},
	} {
		b, err := os.ReadFile(filepath.Join("testdata/eth_traces", f.src))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, f.dst)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var l, lw Loader
	got, _ := loadAll(t, &l, []string{dir})
	want, _ := loadAll(t, &lw, []string{"testdata/eth_traces"})
	diff(t, "transfers", sortedLines(got), sortedLines(want))
}

func loadAll(t *testing.T, l *Loader, paths []string) (*sliceSink, Stats) {
	t.Helper()
	s := &sliceSink{}
	st, err := l.LoadAll(context.Background(), paths, s)
	if err != nil {
		t.Fatalf("LoadAll(%v): %v", paths, err)
	}
	return s, st
}

func sortedLines(s *sliceSink) []string { return slices.Sorted(slices.Values(s.lines())) }
