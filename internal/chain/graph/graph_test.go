package graph

import (
	"bytes"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

func amt(t testing.TB, s string) Amount {
	t.Helper()
	a, err := ParseAmount(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// sample is a small laundering-shaped graph given out of order, with one
// transaction split across two loader calls (native value, then a token
// transfer of the same transaction, as ethereum-etl exports them).
func sample(t testing.TB) *Graph {
	t.Helper()
	b := NewBuilder()
	add := func(tr Transfer) {
		t.Helper()
		if err := b.Add(tr); err != nil {
			t.Fatal(err)
		}
	}
	add(Transfer{Tx: "0xCC", Block: 12, Time: 300, From: "b", To: "c", Amount: amt(t, "40")})
	add(Transfer{Tx: "0xaa", Block: 10, Time: 100, From: "victim", To: "thief", Amount: amt(t, "100000000000000000000")}) // 100 ETH: over 64 bits
	add(Transfer{Tx: "0xbb", Block: 11, Time: 200, From: "thief", To: "a", Amount: amt(t, "60")})
	add(Transfer{Tx: "0xbb", Block: 11, Time: 200, From: "thief", To: "b", Amount: amt(t, "40")})
	add(Transfer{Tx: "", Block: 0, Time: 200, From: "x", To: "y", Amount: amt(t, "1")})
	add(Transfer{Tx: "0xcc", Block: 12, Time: 300, From: "b", To: "c", Asset: "0xtoken", Amount: amt(t, "115792089237316195423570985008687907853269984665640564039457584007913129639935")}) // 2^256-1
	add(Transfer{Tx: "0xdd", Block: 13, Time: 400, From: "c", To: "exchange", Amount: amt(t, "75557863725914323419135")})                                                                   // 2^76-1: the side table
	b.Label("exchange", "Binance 14")
	b.Label("exchange", "second label ignored")
	b.Label("thief", "Harmony Bridge Hacker")
	return b.Build()
}

func TestBuildOrderAndColumns(t *testing.T) {
	g := sample(t)
	if g.NumEdges() != 7 || g.NumNodes() != 8 || g.NumTx() != 4 || !g.Timed() {
		t.Fatalf("got %v timed=%v", g, g.Timed())
	}
	type row struct {
		from, to, tx, asset, amount string
		time                        int64
		block                       uint64
	}
	var got []row
	for e := uint32(0); e < uint32(g.NumEdges()); e++ {
		ed := g.Edge(e)
		got = append(got, row{g.Address(ed.From), g.Address(ed.To), ed.Tx, ed.Asset, ed.Amount.String(), ed.Time, ed.Block})
	}
	want := []row{
		{"victim", "thief", "0xaa", "", "100000000000000000000", 100, 10},
		{"x", "y", "", "", "1", 200, 0}, // block 0 sorts before block 11 at the same second
		{"thief", "a", "0xbb", "", "60", 200, 11},
		{"thief", "b", "0xbb", "", "40", 200, 11},
		{"b", "c", "0xcc", "", "40", 300, 12},
		{"b", "c", "0xcc", "0xtoken", "115792089237316195423570985008687907853269984665640564039457584007913129639935", 300, 12},
		{"c", "exchange", "0xdd", "", "75557863725914323419135", 400, 13},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("edges:\n got %v\nwant %v", got, want)
	}
	thief, ok := g.Lookup("thief")
	if !ok {
		t.Fatal("thief not found")
	}
	ex, _ := g.Lookup("exchange")
	if g.Label(ex) != "Binance 14" || g.Label(thief) != "Harmony Bridge Hacker" {
		t.Errorf("labels %q %q", g.Label(ex), g.Label(thief))
	}
	if _, ok := g.Lookup("nobody"); ok {
		t.Fatal("found an address never added")
	}
	if out := g.Out(thief); !slices.Equal(out, []uint32{2, 3}) {
		t.Errorf("Out(thief) = %v", out)
	}
	if in := g.In(thief); !slices.Equal(in, []uint32{0}) {
		t.Errorf("In(thief) = %v", in)
	}
	if tx, ok := g.LookupTx("0xCC"); !ok || !slices.Equal(g.TxEdges(tx), []uint32{4, 5}) {
		t.Errorf("tx 0xcc edges = %v", g.TxEdges(tx))
	}
	if g.FirstAt(200) != 1 || g.FirstAt(201) != 4 || g.FirstAt(1000) != 7 || g.FirstAt(0) != 0 {
		t.Errorf("FirstAt: %d %d %d", g.FirstAt(200), g.FirstAt(201), g.FirstAt(1000))
	}
	if v := g.Value(0); v != 1e20 {
		t.Errorf("Value(0) = %v", v)
	}
	edges, _, _ := g.MemoryBytes()
	if per := edges / int64(g.NumEdges()); per != 32 {
		t.Errorf("edge bytes per transfer = %d, want 32", per)
	}
}

func TestAmountBoundaries(t *testing.T) {
	for _, s := range []string{"0", "1", "18446744073709551615", "18446744073709551616",
		"75557863725914323419134", "75557863725914323419135", "340282366920938463463374607431768211455",
		"340282366920938463463374607431768211456", "0x10", "0xffffffffffffffffffffffffffffffffff"} {
		a := amt(t, s)
		want, _ := new(big.Int).SetString(s, 0)
		if a.Big().Cmp(want) != 0 {
			t.Errorf("%s parsed as %s", s, a)
		}
		b := NewBuilder()
		if err := b.Add(Transfer{From: "a", To: "b", Time: 1, Amount: a}); err != nil {
			t.Fatal(err)
		}
		g := b.Build()
		if got := g.Amount(0); got.Big().Cmp(want) != 0 {
			t.Errorf("%s stored as %s", s, got)
		}
	}
	for _, bad := range []string{"", "-1", "1.5", "12a", "0x", "0xzz", "1e18", string(bytes.Repeat([]byte("9"), 101))} {
		if _, err := ParseAmount(bad); err == nil {
			t.Errorf("ParseAmount(%q) accepted", bad)
		}
	}
}

func TestBuilderRefuses(t *testing.T) {
	for name, tr := range map[string]Transfer{
		"empty from":    {To: "b", Time: 1},
		"empty to":      {From: "a", Time: 1},
		"negative time": {From: "a", To: "b", Time: -1},
		"time past u32": {From: "a", To: "b", Time: 1 << 33},
		"negative usd":  {From: "a", To: "b", Time: 1, USD: -3, HasUSD: true},
	} {
		if err := NewBuilder().Add(tr); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestUntimedAndUSD(t *testing.T) {
	b := NewBuilder()
	b.Add(Transfer{From: "a", To: "b", Amount: AmountFromUint64(5)})
	if g := b.Build(); g.Timed() || g.HasUSD() {
		t.Fatal("graph without times or USD claims them")
	}
	b.Add(Transfer{From: "a", To: "b", Time: 5, USD: 10.5, HasUSD: true})
	b.Add(Transfer{From: "b", To: "c", Time: 6, USD: 4, HasUSD: true})
	g := b.Build()
	if !g.HasUSD() || g.Value(0) != 10.5 || g.Value(1) != 4 {
		t.Fatalf("USD graph: %v %v %v", g.HasUSD(), g.Value(0), g.Value(1))
	}
}

func TestTxNode(t *testing.T) {
	b := NewBuilder()
	b.Add(Transfer{Tx: "ab", From: "bc1qin", To: "tx:ab", Time: 9, Amount: AmountFromUint64(10)})
	b.Add(Transfer{Tx: "ab", From: "tx:ab", To: "bc1qout", Time: 9, Amount: AmountFromUint64(9)})
	g := b.Build()
	n, _ := g.Lookup("tx:ab")
	a, _ := g.Lookup("bc1qin")
	if !g.IsTxNode(n) || g.IsTxNode(a) {
		t.Fatal("IsTxNode wrong")
	}
}

// reopen saves g as a snapshot and opens it.
func reopen(t *testing.T, g *Graph) (h *Graph, path string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "g.snap")
	if err := g.SaveSnapshot(path); err != nil {
		t.Fatal(err)
	}
	h, err := OpenSnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h, path
}

func TestSnapshotRoundTrip(t *testing.T) {
	g := sample(t)
	h, path := reopen(t, g)
	if h.NumEdges() != g.NumEdges() || h.NumNodes() != g.NumNodes() || h.NumTx() != g.NumTx() || h.Timed() != g.Timed() {
		t.Fatalf("sizes differ: %v vs %v", h, g)
	}
	for e := uint32(0); e < uint32(g.NumEdges()); e++ {
		a, b := g.Edge(e), h.Edge(e)
		if a.Amount.Cmp(b.Amount) != 0 || a.Tx != b.Tx || a.Asset != b.Asset || a.From != b.From || a.To != b.To || a.Time != b.Time || a.Block != b.Block {
			t.Errorf("edge %d: %+v vs %+v", e, a, b)
		}
		// The float value, from the columns or the side table's
		// derived values, is the exact amount's, rounded once.
		want, _ := new(big.Float).SetInt(a.Amount.Big()).Float64()
		for _, x := range []*Graph{g, h} {
			usd, lo, hi := x.Values()
			if v, va := x.Value(e), x.ValueAt(usd, lo, hi, e); v != want || va != want {
				t.Errorf("edge %d (%s): Value %v, ValueAt %v, want %v", e, a.Amount, v, va, want)
			}
		}
	}
	for id := NodeID(0); id < NodeID(g.NumNodes()); id++ {
		addr := g.Address(id)
		if got, ok := h.Lookup(addr); !ok || got != id {
			t.Errorf("Lookup(%s) = %d %v", addr, got, ok)
		}
		if g.Label(id) != h.Label(id) {
			t.Errorf("label of %s: %q vs %q", addr, g.Label(id), h.Label(id))
		}
		if !slices.Equal(g.Out(id), h.Out(id)) || !slices.Equal(g.In(id), h.In(id)) {
			t.Errorf("adjacency of %s differs", addr)
		}
	}
	// The same bytes decode from an unaligned buffer too (copied columns).
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	shifted := append([]byte{0}, raw...)[1:]
	if u, err := ReadSnapshot(shifted); err != nil || u.NumEdges() != g.NumEdges() {
		t.Fatalf("unaligned read: %v", err)
	}
}

func TestSnapshotDamage(t *testing.T) {
	var buf bytes.Buffer
	if err := sample(t).WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	cases := map[string][]byte{
		"empty":     nil,
		"truncated": good[:len(good)/2],
		"magic":     append([]byte("XXXXXXXX"), good[8:]...),
	}
	// A flipped byte in the header fails the checksum.
	h := slices.Clone(good)
	h[20] ^= 0xff
	cases["header byte"] = h
	for name, data := range cases {
		if _, err := ReadSnapshot(data); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A flipped byte in the edge columns must never cause a panic: it is
	// either caught by the structural check or yields a graph whose
	// accessors stay in bounds.
	for i := headerSize(); i < len(good); i++ {
		d := slices.Clone(good)
		d[i] ^= 0x80
		g, err := ReadSnapshot(d)
		if err != nil {
			continue
		}
		walk(g)
	}
}

// walk calls every accessor on every node and edge.
func walk(g *Graph) {
	for e := uint32(0); e < uint32(g.NumEdges()); e++ {
		_ = g.Edge(e)
		_ = g.Value(e)
	}
	for id := NodeID(0); id < NodeID(g.NumNodes()); id++ {
		g.Lookup(g.Address(id))
		_, _ = g.Out(id), g.In(id)
		g.IsTxNode(id)
	}
	for t := uint32(0); t < uint32(g.NumTx()); t++ {
		g.TxEdges(t)
		g.TxHash(t)
	}
}

func FuzzReadSnapshot(f *testing.F) {
	var buf bytes.Buffer
	if err := sample(f).WriteSnapshot(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := ReadSnapshot(data)
		if err != nil {
			return
		}
		walk(g)
	})
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"0", "123", "0xff", "340282366920938463463374607431768211456"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAmount(s)
		if err != nil {
			return
		}
		base, digits := 10, s
		if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
			base, digits = 16, s[2:]
		}
		want, ok := new(big.Int).SetString(digits, base)
		if !ok || want.Cmp(a.Big()) != 0 {
			t.Fatalf("%q: got %s want %s", s, a, want)
		}
	})
}

// A snapshot extended with AddGraph and newer transfers is the graph
// built from all of them at once: same edges in the same order, labels
// and adjacency.
func TestAddGraphExtends(t *testing.T) {
	g := sample(t)
	h, _ := reopen(t, g)
	later := []Transfer{
		{Tx: "0xee", Block: 14, Time: 500, From: "exchange", To: "a", Amount: amt(t, "5"), USD: 1.5, HasUSD: true},
		{Tx: "0xff", Block: 15, Time: 600, From: "a", To: "new", Asset: "0xtoken", Amount: amt(t, "7")},
	}
	b := NewBuilder()
	if err := b.AddGraph(h); err != nil {
		t.Fatal(err)
	}
	for _, tr := range later {
		if err := b.Add(tr); err != nil {
			t.Fatal(err)
		}
	}
	got := b.Build()
	if got.NumEdges() != g.NumEdges()+len(later) || got.NumNodes() != g.NumNodes()+1 {
		t.Fatalf("extended %v, from %v", got, g)
	}
	// The later transfers come last, as given.
	for i, tr := range later {
		ed := got.Edge(uint32(g.NumEdges() + i))
		if ed.Tx != tr.Tx || ed.Time != tr.Time || got.Address(ed.From) != tr.From || got.Address(ed.To) != tr.To ||
			ed.Asset != tr.Asset || ed.Amount.Cmp(tr.Amount) != 0 || ed.HasUSD != tr.HasUSD || ed.Block != tr.Block {
			t.Errorf("later transfer %d: %+v, want %+v", i, ed, tr)
		}
	}
	// The earlier graph's edges keep their order and values.
	for e := range uint32(g.NumEdges()) {
		a, b := g.Edge(e), got.Edge(e)
		if a.Amount.Cmp(b.Amount) != 0 || a.Tx != b.Tx || g.Address(a.From) != got.Address(b.From) || a.Time != b.Time {
			t.Errorf("earlier edge %d moved: %+v vs %+v", e, a, b)
		}
	}
	for _, addr := range []string{"exchange", "thief"} {
		x, _ := got.Lookup(addr)
		y, _ := g.Lookup(addr)
		if got.Label(x) != g.Label(y) || got.Label(x) == "" {
			t.Errorf("label of %s: %q, want %q", addr, got.Label(x), g.Label(y))
		}
	}
}
