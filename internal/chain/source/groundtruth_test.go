package source

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestGroundTruth(t *testing.T) {
	ts := time.Date(2023, 1, 13, 20, 34, 11, 0, time.UTC).Unix()
	var l Loader
	s, st := load(t, &l, "testdata/groundtruth/case-case.csv")
	diff(t, "transfers", s.lines(), []string{
		hA + "|16400290|" + itoa(ts) + "|" + addrA + "|" + addrB + "||0|200000",
		"0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb|16400296|" + itoa(ts+72) + "|" + addrB + "|" + bybit + "||0|124000.5",
	})
	diff(t, "labels", s.labels, []string{
		addrA + "=Hacker 1 SRC",
		addrB + "=Hacker 2",
		bybit + "=Exchange, deposit",
	})
	diff(t, "problems", problems(st), []string{
		`testdata/groundtruth/case-case.csv:4: Timestamp "2023-02-30 00:00:00" is not a time`,
		`testdata/groundtruth/case-case.csv:5: Value_in_USD is empty`,
		`testdata/groundtruth/case-case.csv:6: Value_in_USD "-3" is not a non-negative number`,
		`testdata/groundtruth/case-case.csv:7: To "not-an-address" is not an address`,
		`testdata/groundtruth/case-case.csv:8: Value_in_USD "NaN" is not a non-negative number`,
		`testdata/groundtruth/case-case.csv:9: Block "" is not a block number`,
	})
	if st.Labels != 3 || st.Rows != 8 || st.Bad != 6 {
		t.Errorf("Labels = %d, Rows = %d, Bad = %d; want 3, 8, 6", st.Labels, st.Rows, st.Bad)
	}
	// A second load on the same Loader hands no label twice.
	s2, st2 := load(t, &l, "testdata/groundtruth/case-case.csv")
	if len(s2.labels) != 0 || st2.Labels != 0 {
		t.Errorf("labels handed again: %v", s2.labels)
	}
	// A sink without Labeler gets the transfers alone.
	a := &addOnly{}
	if _, err := Load(context.Background(), "testdata/groundtruth/case-case.csv", a); err != nil || a.n != 2 {
		t.Errorf("add-only sink: %d transfers, %v", a.n, err)
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// A directory holding the case CSV, its address lists and a README loads the
// transfers and lists the rest as ignored.
func TestGroundTruthDirectory(t *testing.T) {
	var l Loader
	s, st := load(t, &l, "testdata/groundtruth")
	if len(s.ts) != 2 {
		t.Errorf("%d transfers, want 2", len(s.ts))
	}
	var ign []string
	for _, p := range st.Ignored {
		ign = append(ign, p.String())
	}
	diff(t, "ignored", ign, []string{
		"testdata/groundtruth/README.md: not a data file",
		"testdata/groundtruth/case-source_addresses.csv: address list, not transfers",
		"testdata/groundtruth/case-terminal_addresses.csv: address list, not transfers",
	})
	_, err := Load(context.Background(), "testdata/groundtruth/case-source_addresses.csv", &addOnly{})
	if err == nil || !strings.Contains(err.Error(), "an address list, not transfers") {
		t.Errorf("loading an address list as transfers: %v", err)
	}
}

func TestReadAddressList(t *testing.T) {
	ctx := context.Background()
	// No header, no final newline, EIP-55 case.
	got, bad, err := ReadAddressFile(ctx, "testdata/groundtruth/case-source_addresses.csv")
	if err != nil || len(bad) != 0 {
		t.Fatalf("%v %v", bad, err)
	}
	diff(t, "source addresses", got, []string{addrA, bybit})
	// Header, blank line, comment, duplicate (in another case), a bad line.
	got, bad, err = ReadAddressFile(ctx, "testdata/groundtruth/case-terminal_addresses.csv")
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "terminal addresses", got, []string{bybit, "0x4444444444444444444444444444444444444444"})
	if len(bad) != 1 || bad[0].Line != 6 || !strings.Contains(bad[0].Reason, `"not-an-address" is not an address`) {
		t.Errorf("problems %v", bad)
	}
	// Other chains, a CSV with a label column, quoting and CRLF.
	got, bad, err = ReadAddressList(ctx, strings.NewReader("\xef\xbb\xbfaddress,label\r\n\"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4\",x\r\n1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa\r\n"), "mixed")
	if err != nil || len(bad) != 0 {
		t.Fatalf("%v %v", bad, err)
	}
	diff(t, "mixed", got, []string{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"})
	// An over-long line is an error, not a silent truncation.
	_, _, err = ReadAddressList(ctx, strings.NewReader(strings.Repeat("x", 70000)), "long")
	if err == nil || !strings.Contains(err.Error(), "long:1: line longer") {
		t.Errorf("long line: %v", err)
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1700000000", 1700000000, true},
		{"2023-01-13 20:34:11", 1673642051, true},
		{"2023-01-13T20:34:11", 1673642051, true},
		{"2023-01-13 20:34:11 UTC", 1673642051, true},
		{"2023-01-13T20:34:11Z", 1673642051, true},
		{"2023-01-13T22:34:11+02:00", 1673642051, true},
		{"2023-01-13 20:34:11.5 UTC", 1673642051, true},
		{"2023-01-13", 1673568000, true},
		{"2024-02-29 00:00:00", 1709164800, true},
		{"2023-02-29 00:00:00", 0, false},
		{"2023-13-01 00:00:00", 0, false},
		{"1969-12-31 23:59:59", 0, false},
		{"253402300800", 0, false},
		{"-1", 0, false},
		{"", 0, false},
		{"99999999999999999999999", 0, false},
		{"yesterday", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseTime([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseTime(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBlockTimes(t *testing.T) {
	var bt blockTimes
	for _, b := range []uint64{5, 5, 3, 9, 3, 7} {
		bt.add(b, int64(b*10))
	}
	bt.add(1, 999)
	bt.add(1, 1000) // consecutive duplicate: the first stays
	for _, b := range []uint64{1, 3, 5, 7, 9} {
		want := int64(b * 10)
		if b == 1 {
			want = 999
		}
		if got, ok := bt.lookup(b); !ok || got != want {
			t.Errorf("lookup(%d) = %d, %v; want %d", b, got, ok, want)
		}
	}
	for _, b := range []uint64{0, 2, 10} {
		if _, ok := bt.lookup(b); ok {
			t.Errorf("lookup(%d) found", b)
		}
	}
	if n := bt.len(); n != 5 {
		t.Errorf("len %d after compaction, want 5", n)
	}
	if !slices.IsSortedFunc(bt.bt, func(a, b blockTime) int { return int(a.block) - int(b.block) }) {
		t.Error("not sorted")
	}
}

// Only UTC is accepted by name: Go would read an unknown zone abbreviation
// as UTC+0 silently.
func TestParseTimeZoneNames(t *testing.T) {
	for _, s := range []string{"2023-01-13 20:34:11 EST", "2023-01-13 20:34:11.5 CET"} {
		if v, ok := parseTime([]byte(s)); ok {
			t.Errorf("parseTime(%q) = %d, want refusal", s, v)
		}
	}
}
