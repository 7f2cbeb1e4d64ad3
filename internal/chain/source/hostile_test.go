package source

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHostileFiles(t *testing.T) {
	t.Run("truncated gzip", func(t *testing.T) {
		var l Loader
		s, st := load(t, &l, "testdata/hostile/truncated.csv.gz")
		// What was decompressed before the cut stays loaded.
		if len(s.ts) == 0 || len(s.ts) >= len(ethTxWant) {
			t.Errorf("%d transfers from the first half", len(s.ts))
		}
		last := st.Problems[len(st.Problems)-1].String()
		if !strings.HasPrefix(last, "testdata/hostile/truncated.csv.gz: input is damaged or cut off: unexpected EOF") {
			t.Errorf("last problem %q", last)
		}
	})
	t.Run("unterminated quote", func(t *testing.T) {
		var l Loader
		s, st := load(t, &l, "testdata/hostile/unterminated.csv")
		if len(s.ts) != 1 {
			t.Errorf("%d transfers, want 1", len(s.ts))
		}
		diff(t, "problems", problems(st), []string{"testdata/hostile/unterminated.csv:3: quoted field not closed before the end of input"})
	})
	t.Run("long record", func(t *testing.T) {
		l := Loader{MaxLineBytes: 1000}
		s, st := load(t, &l, "testdata/hostile/longline.csv")
		if len(s.ts) != 1 {
			t.Errorf("%d transfers, want 1", len(s.ts))
		}
		diff(t, "problems", problems(st), []string{"testdata/hostile/longline.csv:2: record longer than 1000 bytes"})
	})
	t.Run("missing column", func(t *testing.T) {
		_, err := Load(context.Background(), "testdata/hostile/missing_column.csv", &addOnly{})
		if err == nil || err.Error() != `source: testdata/hostile/missing_column.csv: header has no "block_number" column` {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("unknown file", func(t *testing.T) {
		_, err := Load(context.Background(), "testdata/hostile/unknown.csv", &addOnly{})
		if err == nil || !strings.Contains(err.Error(), "testdata/hostile/unknown.csv: not in a known format") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := Load(context.Background(), "testdata/nope.csv", &addOnly{})
		if !os.IsNotExist(unwrapAll(err)) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("unknown in directory", func(t *testing.T) {
		// hostile/ holds unknown.csv, missing_column.csv (an ethereum-etl
		// header without block_number) and GEXF/CSV fixtures.
		_, err := Load(context.Background(), "testdata/hostile", &addOnly{})
		if err == nil || !strings.Contains(err.Error(), "not in a known format (set SkipUnknown to skip such files)") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("skip unknown", func(t *testing.T) {
		dir := t.TempDir()
		copyFile(t, "testdata/hostile/unknown.csv", filepath.Join(dir, "unknown.csv"))
		copyFile(t, "testdata/gexf/small.gexf", filepath.Join(dir, "g.gexf"))
		copyFile(t, "testdata/gexf/small.gexf", filepath.Join(dir, ".hidden/g.gexf"))
		l := Loader{SkipUnknown: true}
		s, st := load(t, &l, dir)
		if len(s.ts) != len(gexfWant) {
			t.Errorf("%d transfers, want %d (hidden directory skipped)", len(s.ts), len(gexfWant))
		}
		if len(st.Ignored) != 1 || st.Ignored[0].Reason != "unknown format" {
			t.Errorf("ignored %v", st.Ignored)
		}
	})
	t.Run("empty directory", func(t *testing.T) {
		_, err := Load(context.Background(), t.TempDir(), &addOnly{})
		if err == nil || !strings.Contains(err.Error(), "no file in a known transfer format") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("empty stream", func(t *testing.T) {
		var l Loader
		if _, _, err := read(t, &l, "empty", ""); err == nil {
			t.Error("empty stream accepted")
		}
		// A header alone is a valid, empty file.
		s, st, err := read(t, &l, "hdr", "token_address,from_address,to_address,value,transaction_hash,log_index,block_number\n")
		if err != nil || len(s.ts) != 0 || st.Rows != 0 {
			t.Errorf("header only: %v %d %d", err, len(s.ts), st.Rows)
		}
	})
	t.Run("problems bounded", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("Timestamp,Block,Tx_hash,From,To,Value_in_USD\n")
		for range 500 {
			b.WriteString("x,1,2,3,4,5\n")
		}
		l := Loader{MaxProblems: 7}
		_, st, err := read(t, &l, "bad.csv", b.String())
		if err != nil {
			t.Fatal(err)
		}
		if st.Bad != 500 || len(st.Problems) != 7 {
			t.Errorf("Bad = %d, %d problems kept; want 500, 7", st.Bad, len(st.Problems))
		}
	})
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The CSV splitter agrees with encoding/csv on well-formed input; see
// FuzzCSV for the general property.
func TestCSVReader(t *testing.T) {
	tests := []struct {
		in   string
		want [][]string
	}{
		{"a,b,c\n", [][]string{{"a", "b", "c"}}},
		{"a,,c\r\n\r\n,\n", [][]string{{"a", "", "c"}, {"", ""}}},
		{`"a,b","c""d",""` + "\n", [][]string{{"a,b", `c"d`, ""}}},
		{"\"multi\nline\",x\ny,z", [][]string{{"multi\nline", "x"}, {"y", "z"}}},
		{"\"crlf\r\ninside\",x\r\n", [][]string{{"crlf\ninside", "x"}}},
		{`a"b,c` + "\n", [][]string{{`a"b`, "c"}}}, // stray quote kept (encoding/csv refuses)
	}
	for _, tt := range tests {
		got := readAllCSV(tt.in, 1<<20)
		if len(got) != len(tt.want) {
			t.Errorf("%q: %q, want %q", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if strings.Join(got[i], "|") != strings.Join(tt.want[i], "|") || len(got[i]) != len(tt.want[i]) {
				t.Errorf("%q record %d: %q, want %q", tt.in, i, got[i], tt.want[i])
			}
		}
	}
}
