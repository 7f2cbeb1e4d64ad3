package taint

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

type tr struct {
	time     int64
	from, to string
	value    uint64
	tx       string
}

func build(t *testing.T, rows []tr) *graph.Graph {
	t.Helper()
	b := graph.NewBuilder()
	for _, r := range rows {
		if err := b.Add(graph.Transfer{Tx: r.tx, Time: r.time, From: r.from, To: r.to, Amount: graph.AmountFromUint64(r.value)}); err != nil {
			t.Fatal(err)
		}
	}
	return b.Build()
}

// mustTrace is Trace, failing the test on an error.
func mustTrace(t *testing.T, g *graph.Graph, seeds []Seed, opt Options) *Result {
	t.Helper()
	r, err := Trace(g, seeds, opt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// amounts returns the taint per address, for the addresses asked.
func amounts(r *Result, addrs ...string) map[string]float64 {
	out := map[string]float64{}
	for _, a := range addrs {
		id, ok := r.Graph.Lookup(a)
		if !ok {
			continue
		}
		if n, ok := r.Node(id); ok {
			out[a] = n.Amount
		}
	}
	return out
}

func near(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || math.Abs(v-w) > 1e-9*math.Max(1, math.Abs(w)) {
			return false
		}
	}
	return true
}

// The package documentation's worked example: S steals 100 into T, which
// also holds 900 clean from C, then pays A 10 and B 990.
func TestDocumentedExample(t *testing.T) {
	stolenFirst := []tr{
		{10, "S", "T", 100, ""},
		{20, "C", "T", 900, ""},
		{30, "T", "A", 10, ""},
		{40, "T", "B", 990, ""},
	}
	cleanFirst := []tr{
		{5, "C", "T", 900, ""},
		{10, "S", "T", 100, ""},
		{30, "T", "A", 10, ""},
		{40, "T", "B", 990, ""},
	}
	cases := []struct {
		name  string
		rows  []tr
		model Model
		want  map[string]float64
	}{
		{"poison", stolenFirst, Poison, map[string]float64{"T": 100, "A": 10, "B": 990}},
		{"haircut", stolenFirst, Haircut, map[string]float64{"T": 100, "A": 1, "B": 99}},
		{"fifo stolen first", stolenFirst, FIFO, map[string]float64{"T": 100, "A": 10, "B": 90}},
		{"fifo clean first", cleanFirst, FIFO, map[string]float64{"T": 100, "B": 100}},
		{"haircut clean first", cleanFirst, Haircut, map[string]float64{"T": 100, "A": 1, "B": 99}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := build(t, c.rows)
			r, err := Trace(g, []Seed{{Address: "S"}}, Options{Model: c.model})
			if err != nil {
				t.Fatal(err)
			}
			got := amounts(r, "T", "A", "B", "C")
			if !near(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			if n, _ := r.Node(mustID(t, g, "S")); !n.Seed || n.Hops != 0 {
				t.Errorf("seed record %+v", n)
			}
		})
	}
}

func mustID(t *testing.T, g *graph.Graph, a string) graph.NodeID {
	t.Helper()
	id, ok := g.Lookup(a)
	if !ok {
		t.Fatalf("%s not in graph", a)
	}
	return id
}

// Funds leave an address only after they arrived: a payment made before
// the taint came carries none, in every model.
func TestForwardInTimeOnly(t *testing.T) {
	g := build(t, []tr{
		{5, "C", "T", 500, ""},
		{8, "T", "early", 50, ""}, // before the theft reaches T
		{10, "S", "T", 100, ""},
		{12, "T", "late", 550, ""},
	})
	for _, m := range []Model{Poison, Haircut, FIFO} {
		r, err := Trace(g, []Seed{{Address: "S"}}, Options{Model: m})
		if err != nil {
			t.Fatal(err)
		}
		got := amounts(r, "early", "late")
		if _, ok := got["early"]; ok {
			t.Errorf("%s: payment before the theft tainted: %v", m, got)
		}
		// T holds 450 clean + 100 stolen when it pays 550.
		want := map[Model]float64{Poison: 550, Haircut: 100, FIFO: 100}[m]
		if math.Abs(got["late"]-want) > 1e-9 {
			t.Errorf("%s: late got %v want %v", m, got["late"], want)
		}
	}
}

// A UTXO transaction: inputs P (5 clean) then T (3 stolen) into the
// transaction's pseudo-node, outputs O1 4 then O2 4. FIFO lines them up:
// O1 takes P's 4, O2 takes P's last 1 and T's 3. Haircut gives each 3/8.
// Transfers into the pseudo-node do not count as a hop.
func TestUTXOTransaction(t *testing.T) {
	rows := []tr{
		{1, "S", "T", 3, "a1"},
		{2, "P", "tx:b2", 5, "b2"},
		{2, "T", "tx:b2", 3, "b2"},
		{2, "tx:b2", "O1", 4, "b2"},
		{2, "tx:b2", "O2", 4, "b2"},
	}
	g := build(t, rows)
	for m, want := range map[Model]map[string]float64{
		FIFO:    {"T": 3, "tx:b2": 3, "O2": 3},
		Haircut: {"T": 3, "tx:b2": 3, "O1": 1.5, "O2": 1.5},
		Poison:  {"T": 3, "tx:b2": 3, "O1": 4, "O2": 4},
	} {
		r, err := Trace(g, []Seed{{Address: "S"}}, Options{Model: m})
		if err != nil {
			t.Fatal(err)
		}
		if got := amounts(r, "T", "tx:b2", "O1", "O2", "P"); !near(got, want) {
			t.Errorf("%s: got %v want %v", m, got, want)
		}
		if n, ok := r.Node(mustID(t, g, "O2")); !ok || n.Hops != 2 {
			t.Errorf("%s: O2 hops %+v", m, n)
		}
	}
}

func TestStopsAndExits(t *testing.T) {
	g := build(t, []tr{
		{1, "S", "h1", 100, ""},
		{2, "h1", "h2", 100, ""},
		{3, "h2", "h3", 60, ""},
		{3, "h2", "dust", 1, ""},
		{4, "h3", "binance", 60, ""},
		{5, "binance", "customer", 60, ""}, // an exchange's payout is not the thief's
		{6, "h2", "h4", 39, ""},
		{7, "h4", "tornado", 39, ""},
	})
	labels := map[string]Label{
		"binance": {Kind: "exchange", Name: "Binance"},
		"tornado": {Kind: "mixer", Name: "Tornado Cash"},
	}
	for _, m := range []Model{Poison, Haircut, FIFO} {
		r, err := Trace(g, []Seed{{Address: "S"}}, Options{Model: m, MinValue: 2, Labels: labels})
		if err != nil {
			t.Fatal(err)
		}
		got := amounts(r, "h3", "binance", "customer", "dust", "tornado")
		want := map[string]float64{"h3": 60, "binance": 60, "tornado": 39}
		if !near(got, want) {
			t.Errorf("%s: got %v want %v", m, got, want)
		}
		var exits []string
		for _, e := range r.Exits() {
			exits = append(exits, e.Label.Name)
		}
		slices.Sort(exits)
		if !slices.Equal(exits, []string{"Binance", "Tornado Cash"}) {
			t.Errorf("%s: exits %v", m, exits)
		}
		b, _ := r.Node(mustID(t, g, "binance"))
		if b.Hops != 4 {
			t.Errorf("%s: binance at %d hops", m, b.Hops)
		}
		path := r.Path(b.ID)
		var hops []string
		for _, e := range path {
			hops = append(hops, g.Address(g.To(e)))
		}
		if !slices.Equal(hops, []string{"h1", "h2", "h3", "binance"}) {
			t.Errorf("%s: path %v", m, hops)
		}
		if r.Dropped != 1 {
			t.Errorf("%s: dropped %v, want the 1 of dust", m, r.Dropped)
		}
		// Two hops stop before h3.
		r2, err := Trace(g, []Seed{{Address: "S"}}, Options{Model: m, MaxHops: 2, Labels: labels})
		if err != nil {
			t.Fatal(err)
		}
		if got := amounts(r2, "h2", "h3"); !near(got, map[string]float64{"h2": 100}) {
			t.Errorf("%s with 2 hops: %v", m, got)
		}
		// A window that ends before h3 is paid.
		r3, err := Trace(g, []Seed{{Address: "S"}}, Options{Model: m, End: 2})
		if err != nil {
			t.Fatal(err)
		}
		if got := amounts(r3, "h2", "h3"); !near(got, map[string]float64{"h2": 100}) {
			t.Errorf("%s window: %v", m, got)
		}
	}
}

func TestSeedTransaction(t *testing.T) {
	g := build(t, []tr{
		{1, "V", "thief", 70, "0xtheft"},
		{1, "V", "thief2", 30, "0xtheft"},
		{2, "thief", "a", 70, "0x2"},
		{3, "other", "thief2", 30, "0x3"},
		{4, "thief2", "b", 60, "0x4"},
	})
	for m, want := range map[Model]map[string]float64{
		Poison:  {"thief": 70, "thief2": 30, "a": 70, "b": 60},
		Haircut: {"thief": 70, "thief2": 30, "a": 70, "b": 30},
		FIFO:    {"thief": 70, "thief2": 30, "a": 70, "b": 30},
	} {
		if got := amounts(mustTrace(t, g, []Seed{{Tx: "0xTHEFT"}}, Options{Model: m}), "thief", "thief2", "a", "b", "V"); !near(got, want) {
			t.Errorf("%s: got %v want %v", m, got, want)
		}
	}
}

func TestUntimedReach(t *testing.T) {
	b := graph.NewBuilder()
	for _, e := range [][2]string{{"s", "a"}, {"a", "b"}, {"b", "c"}, {"x", "y"}} {
		b.Add(graph.Transfer{From: e[0], To: e[1], Amount: graph.AmountFromUint64(1)})
	}
	g := b.Build()
	r, err := Trace(g, []Seed{{Address: "s"}}, Options{Model: Poison, MaxHops: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := amounts(r, "a", "b", "c", "y"); !near(got, map[string]float64{"a": 1, "b": 1}) {
		t.Fatalf("reach: %v", got)
	}
	if _, err := Trace(g, []Seed{{Address: "s"}}, Options{Model: Haircut}); err == nil {
		t.Fatal("haircut on a graph without times accepted")
	}
}

func TestBadSeeds(t *testing.T) {
	g := build(t, []tr{{1, "a", "b", 1, "0x1"}})
	for name, seeds := range map[string][]Seed{
		"none":       nil,
		"unknown":    {{Address: "zz"}},
		"unknown tx": {{Tx: "0x9"}},
		"empty":      {{}},
	} {
		if _, err := Trace(g, seeds, Options{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := Trace(g, []Seed{{Address: "a"}}, Options{MaxHops: 251}); err == nil {
		t.Error("max hops over the limit accepted")
	}
}

// The unlimited-hops poison (bitsets) and the hop-counting poison taint the
// same addresses on random graphs, and haircut conserves the stolen value.
func TestRandomGraphsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for round := range 200 {
		nodes := 2 + rng.IntN(30)
		b := graph.NewBuilder()
		for range rng.IntN(120) {
			u, v := rng.IntN(nodes), rng.IntN(nodes)
			if u == v {
				continue
			}
			b.Add(graph.Transfer{
				From: fmt.Sprint("n", u), To: fmt.Sprint("n", v),
				Time: 1 + rng.Int64N(50), Amount: graph.AmountFromUint64(1 + rng.Uint64N(100)),
			})
		}
		b.Add(graph.Transfer{From: "n0", To: "n1", Time: 1, Amount: graph.AmountFromUint64(1)})
		g := b.Build()
		seed := []Seed{{Address: "n0"}}
		labels := map[string]Label{"n5": {Kind: "exchange", Name: "X"}}
		fast, err := Trace(g, seed, Options{Model: Poison, MaxHops: Unlimited, Labels: labels})
		if err != nil {
			t.Fatal(err)
		}
		slow, err := Trace(g, seed, Options{Model: Poison, MaxHops: MaxHopsLimit, Labels: labels})
		if err != nil {
			t.Fatal(err)
		}
		set := func(r *Result) []string {
			var s []string
			for i := range r.Len() {
				s = append(s, r.At(i).Address)
			}
			slices.Sort(s)
			return s
		}
		if a, b := set(fast), set(slow); !slices.Equal(a, b) {
			t.Fatalf("round %d: unlimited %v, counted %v", round, a, b)
		}
		for i := range fast.Len() {
			n := fast.At(i)
			if m, _ := slow.Node(n.ID); math.Abs(m.Amount-n.Amount) > 1e-9 {
				t.Fatalf("round %d: %s amount %v vs %v", round, n.Address, n.Amount, m.Amount)
			}
		}
		// Haircut: what the seed sent is held somewhere, or dropped.
		hc, err := Trace(g, seed, Options{Model: Haircut, MaxHops: MaxHopsLimit})
		if err != nil {
			t.Fatal(err)
		}
		sent := hc.At(0).Amount
		var held float64
		for i := 0; i < hc.Len(); i++ {
			held += heldOf(hc.t.acc, hc.At(i).ID)
		}
		if math.Abs(held+hc.Dropped+hc.Beyond-sent-hc.Inferred) > 1e-6*math.Max(1, sent) {
			t.Fatalf("round %d: seed sent %v + inferred %v, held %v + dropped %v + beyond %v", round, sent, hc.Inferred, held, hc.Dropped, hc.Beyond)
		}
		// With the clean shortfall rule nothing is inferred: exact conservation.
		hc, err = Trace(g, seed, Options{Model: Haircut, MaxHops: MaxHopsLimit, Shortfall: Clean})
		if err != nil {
			t.Fatal(err)
		}
		held = 0
		for i := 0; i < hc.Len(); i++ {
			held += heldOf(hc.t.acc, hc.At(i).ID)
		}
		if hc.Inferred != 0 || math.Abs(held+hc.Dropped+hc.Beyond-sent) > 1e-6*math.Max(1, sent) {
			t.Fatalf("round %d clean: seed sent %v, held %v + dropped %v + beyond %v, inferred %v", round, sent, held, hc.Dropped, hc.Beyond, hc.Inferred)
		}
	}
}

// A trace restricted to one asset ignores the others: base units of ETH
// and of a token are not comparable.
func TestOneAsset(t *testing.T) {
	b := graph.NewBuilder()
	add := func(ts int64, from, to, asset string, v uint64) {
		if err := b.Add(graph.Transfer{Time: ts, From: from, To: to, Asset: asset, Amount: graph.AmountFromUint64(v)}); err != nil {
			t.Fatal(err)
		}
	}
	add(1, "S", "T", "", 100)
	add(2, "T", "A", "", 100)
	add(3, "T", "B", "0xusdt", 5000) // T's tokens are not the stolen ether
	add(4, "S", "C", "0xusdt", 7)
	g := b.Build()
	for _, m := range []Model{Poison, Haircut, FIFO} {
		r, err := Trace(g, []Seed{{Address: "S"}}, Options{Model: m, OneAsset: true, Asset: ""})
		if err != nil {
			t.Fatal(err)
		}
		if got := amounts(r, "T", "A", "B", "C"); !near(got, map[string]float64{"T": 100, "A": 100}) {
			t.Errorf("%s native: %v", m, got)
		}
		r, err = Trace(g, []Seed{{Address: "S"}}, Options{Model: m, OneAsset: true, Asset: "0xusdt"})
		if err != nil {
			t.Fatal(err)
		}
		if got := amounts(r, "T", "A", "B", "C"); !near(got, map[string]float64{"C": 7}) {
			t.Errorf("%s token: %v", m, got)
		}
	}
	if _, err := Trace(g, []Seed{{Address: "S"}}, Options{OneAsset: true, Asset: "0xdai"}); err == nil {
		t.Error("unknown asset accepted")
	}
}

// heldOf returns the tainted part v holds at the end of a haircut trace.
func heldOf(s *packed[acct], v graph.NodeID) float64 {
	if a := s.get(v); a != nil {
		return a.held
	}
	return 0
}

// The hop-limited poison trace (a scan that skips to candidate transfers)
// agrees with a plain walk over the stream, transfer by transfer, on which
// addresses taint reaches and at how many hops, with several seeds,
// terminals and small hop limits, where the limit decides.
func TestHopLimitedPoisonByWalk(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 3))
	for round := range 300 {
		nodes := 3 + rng.IntN(25)
		b := graph.NewBuilder()
		txs := rng.IntN(80)
		for k := range txs {
			// Transactions of one to three transfers at one time.
			at := 1 + rng.Int64N(60)
			for range 1 + rng.IntN(3) {
				u, v := rng.IntN(nodes), rng.IntN(nodes)
				if u != v {
					b.Add(graph.Transfer{Tx: fmt.Sprint("t", k), From: fmt.Sprint("n", u), To: fmt.Sprint("n", v),
						Time: at, Amount: graph.AmountFromUint64(1 + rng.Uint64N(9))})
				}
			}
		}
		g := b.Build()
		var seeds []Seed
		src := map[graph.NodeID]bool{}
		for range rng.IntN(3) {
			a := fmt.Sprint("n", rng.IntN(nodes))
			if id, ok := g.Lookup(a); ok && !src[id] {
				src[id] = true
				seeds = append(seeds, Seed{Address: a})
			}
		}
		// Stolen transactions: their transfers are the theft, wherever
		// their senders stand.
		seedEdge := map[uint32]bool{}
		for range rng.IntN(3) {
			h := fmt.Sprint("t", rng.IntN(max(txs, 1)))
			if tx, ok := g.LookupTx(h); ok {
				seeds = append(seeds, Seed{Tx: h})
				for _, e := range g.TxEdges(tx) {
					seedEdge[e] = true
				}
			}
		}
		if len(seeds) == 0 {
			continue
		}
		labels := map[string]Label{}
		term := map[graph.NodeID]bool{}
		for range rng.IntN(3) {
			a := fmt.Sprint("n", rng.IntN(nodes))
			if id, ok := g.Lookup(a); ok && !src[id] {
				labels[a], term[id] = Label{Kind: "exchange", Name: "X"}, true
			}
		}
		maxH := 1 + rng.IntN(4)
		r, err := Trace(g, seeds, Options{Model: Poison, MaxHops: maxH, Labels: labels})
		if err != nil {
			t.Fatal(err)
		}

		// The walk: each transfer in time order passes taint from a
		// tainted sender under the limit that is not a terminal.
		want := map[graph.NodeID]int{}
		for id := range src {
			want[id] = 0
		}
		from, to, _ := g.Stream()
		for i := range from {
			u, v := from[i], to[i]
			h, ok := want[u]
			if seedEdge[uint32(i)] {
				h, ok = 0, true
			} else if !ok || h >= maxH || term[u] {
				continue
			}
			if cur, ok := want[v]; !ok || h+1 < cur {
				want[v] = h + 1
			}
		}
		got := map[graph.NodeID]int{}
		for i := range r.Len() {
			n := r.At(i)
			got[n.ID] = n.Hops
		}
		if len(got) != len(want) {
			t.Fatalf("round %d (max hops %d): trace reached %v, the walk %v", round, maxH, got, want)
		}
		for id, h := range want {
			if got[id] != h {
				t.Fatalf("round %d (max hops %d): %s at %d hops, the walk says %d", round, maxH, g.Address(id), got[id], h)
			}
		}
	}
}

// An address seed with an amount: T, which held 50 of its own, received
// 100 stolen; its payments from the start carry the 100 first, so the 60
// to A is stolen, 40 of the 70 to B, and the 20 to C2 is T's own. By
// hand: haircut, B holds 40 of 70 and pays E 35 → 20; FIFO, B's queue is
// 40 stolen then 30 clean, so its 35 to E are all stolen; poison taints
// E with the whole 35. A pays D 30, all of it stolen in every model.
func TestSeedAmount(t *testing.T) {
	g := build(t, []tr{
		{1, "C", "T", 50, "0x1"},
		{2, "V", "T", 100, "0x2"},
		{3, "T", "A", 60, "0x3"},
		{4, "T", "B", 70, "0x4"},
		{5, "T", "C2", 20, "0x5"},
		{6, "A", "D", 30, "0x6"},
		{7, "B", "E", 35, "0x7"},
	})
	for m, want := range map[Model]map[string]float64{
		Poison:  {"A": 60, "B": 40, "D": 30, "E": 35},
		Haircut: {"A": 60, "B": 40, "D": 30, "E": 20},
		FIFO:    {"A": 60, "B": 40, "D": 30, "E": 35},
	} {
		for _, hops := range []int{Unlimited, 10} {
			r := mustTrace(t, g, []Seed{{Address: "T", Amount: 100}}, Options{Model: m, Start: 3, MaxHops: hops})
			if got := amounts(r, "T", "A", "B", "C2", "D", "E", "C", "V"); !near(got, want) {
				t.Errorf("%s, hops %d: got %v want %v", m, hops, got, want)
			}
			if rep := BuildReport(r, []Seed{{Address: "T", Amount: 100}}, ReportOptions{}); rep.Totals.Stolen != 100 || rep.Totals.Unsent != 0 {
				t.Errorf("%s: report says %v stolen, %v unsent", m, rep.Totals.Stolen, rep.Totals.Unsent)
			}
		}
	}
	// Without an amount, everything T sends from the start is stolen.
	r := mustTrace(t, g, []Seed{{Address: "T"}}, Options{Model: Haircut, Start: 3})
	if got := amounts(r, "A", "B", "C2"); !near(got, map[string]float64{"A": 60, "B": 70, "C2": 20}) {
		t.Errorf("uncapped: %v", got)
	}
	// More than T pays out: all 150 it pays is stolen, 50 stays unsent.
	r = mustTrace(t, g, []Seed{{Address: "T", Amount: 200}}, Options{Model: Haircut, Start: 3})
	if got := amounts(r, "A", "B", "C2"); !near(got, map[string]float64{"A": 60, "B": 70, "C2": 20}) || r.Unsent != 50 {
		t.Errorf("amount over what T pays: %v, %v unsent", got, r.Unsent)
	}
	for _, bad := range []float64{-1, math.NaN(), math.Inf(1)} {
		if _, err := Trace(g, []Seed{{Address: "T", Amount: bad}}, Options{Model: Haircut}); err == nil {
			t.Errorf("amount %v accepted", bad)
		}
	}
	if _, err := Trace(g, []Seed{{Address: "T", Amount: 100}, {Address: "T"}}, Options{Model: Haircut}); err == nil {
		t.Error("a seed address given twice accepted")
	}
	// A zero-value payment (address poisoning) carries nothing, and stolen
	// funds under the minimum are dropped: T pays Z 0 and Y 5 first.
	g = build(t, []tr{
		{2, "V", "T", 100, "0x2"},
		{3, "T", "Z", 0, "0x3"},
		{4, "T", "Y", 5, "0x4"},
		{5, "T", "A", 60, "0x5"},
	})
	for _, m := range []Model{Poison, Haircut, FIFO} {
		r := mustTrace(t, g, []Seed{{Address: "T", Amount: 50}}, Options{Model: m, Start: 3, MinValue: 10})
		if got := amounts(r, "Z", "Y", "A"); !near(got, map[string]float64{"A": 45}) || r.Dropped != 5 || r.Unsent != 0 {
			t.Errorf("%s: got %v, dropped %v, unsent %v; want A 45, 5 dropped", m, got, r.Dropped, r.Unsent)
		}
	}
}
