package taint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

func launderingGraph(t *testing.T) *graph.Graph {
	t.Helper()
	b := graph.NewBuilder()
	rows := []struct {
		tx       string
		time     int64
		from, to string
		amount   string
	}{
		{"0x01", 1673642051, "0xthief", "0xhop1", "10000000000000000000"},
		{"0x02", 1673642111, "0xhop1", "0xhop2", "6000000000000000000"},
		{"0x02", 1673642111, "0xhop1", "0xhop3", "4000000000000000000"},
		{"0x03", 1673662260, "0xhop2", "0xexchange", "1240000000000000000"},
		{"0x04", 1673662300, "0xhop3", "0xtornado", "4000000000000000000"},
		{"0x05", 1673662400, "0xhop2", "0xhop4", "4760000000000000000"},
		{"0x06", 1673662500, "0xunrelated", "0xexchange", "50000000000000000000"}, // clean
	}
	for _, r := range rows {
		a, err := graph.ParseAmount(r.amount)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Add(graph.Transfer{Tx: r.tx, Time: r.time, From: r.from, To: r.to, Amount: a}); err != nil {
			t.Fatal(err)
		}
	}
	return b.Build()
}

func TestReport(t *testing.T) {
	g := launderingGraph(t)
	labels := map[string]Label{
		"0xexchange": {Kind: "exchange", Name: "Exchange X"},
		"0xtornado":  {Kind: "mixer", Name: "Tornado Cash"},
	}
	seeds := []Seed{{Address: "0xthief"}}
	r, err := Trace(g, seeds, Options{Model: Haircut, Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	rep := BuildReport(r, seeds, ReportOptions{Unit: Unit{Name: "ETH", Decimals: 18}, Threshold: 1e18})
	want := []string{
		"4 ETH entered Tornado Cash (0xtornado) at 2023-01-14 02:11 UTC, 3 hops from the theft",
		"1.24 ETH reached Exchange X deposit 0xexchange at 2023-01-14 02:11 UTC, 3 hops from the theft",
		"4 laundering addresses received at least 1 ETH of the funds",
	}
	if strings.Join(rep.Findings, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(rep.Findings, "\n"), strings.Join(want, "\n"))
	}
	// Without a threshold every laundering address is listed, and the
	// finding says so rather than "at least 0 ETH".
	rep0 := BuildReport(r, seeds, ReportOptions{Unit: Unit{Name: "ETH", Decimals: 18}})
	if last := rep0.Findings[len(rep0.Findings)-1]; last != fmt.Sprintf("%d laundering addresses received some of the funds", rep0.Totals.Listed) || rep0.Totals.Listed < 4 {
		t.Errorf("without a threshold: %q (%d listed)", last, rep0.Totals.Listed)
	}
	if rep.Totals.Stolen != 10 || rep.Totals.AtExits != 5.24 {
		t.Errorf("totals %+v", rep.Totals)
	}
	var listed []string
	for _, a := range rep.Addresses {
		listed = append(listed, a.Address)
	}
	if strings.Join(listed, " ") != "0xhop1 0xhop2 0xhop4 0xhop3" {
		t.Errorf("listed %v", listed)
	}
	ex := rep.Exits[1]
	if ex.Service != "Exchange X" || len(ex.Deposits[0].Path) != 3 || ex.Deposits[0].Path[2].Tx != "0x03" ||
		ex.Deposits[0].Path[2].Amount != "1240000000000000000" {
		t.Errorf("exchange exit %+v", ex)
	}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back.Model != "haircut" {
		t.Fatalf("JSON round trip: %v", err)
	}
	buf.Reset()
	if err := rep.WriteDOT(&buf); err != nil {
		t.Fatal(err)
	}
	dot := buf.String()
	for _, s := range []string{"digraph trace {", `"0xthief" -> "0xhop1"`, `"0xhop2" -> "0xexchange"`, "Tornado Cash"} {
		if !strings.Contains(dot, s) {
			t.Errorf("DOT lacks %q:\n%s", s, dot)
		}
	}
	if strings.Contains(dot, "0xunrelated") {
		t.Error("DOT shows an untainted address")
	}
	net := rep.Net()
	if len(net.Nodes) != 7 || len(net.Edges) != 6 {
		t.Errorf("net graph: %d nodes %d edges", len(net.Nodes), len(net.Edges))
	}

	actor := "intrusion-set--8a6f3b7e-2c1d-4a5b-9e8f-0123456789ab"
	objs, err := BuildSTIX(rep, STIXOptions{ActorRef: actor, Name: "test theft", TLP: stix.TLPAmber, Now: time.Date(2023, 1, 20, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	var patterns []string
	for _, o := range objs {
		if err := stix.Validate(o); err != nil {
			t.Errorf("%s invalid: %v", o.ID, err)
		}
		kinds[o.Type]++
		if o.Type == "indicator" {
			patterns = append(patterns, o.String("pattern"))
		}
		if got := o.Strings("object_marking_refs"); len(got) != 1 || got[0] != stix.TLPAmber.MarkingID() {
			t.Errorf("%s marked %v", o.ID, got)
		}
	}
	// One theft wallet, four laundering addresses; never the exchange or mixer.
	if kinds["indicator"] != 5 || kinds["relationship"] != 8 || kinds["report"] != 1 {
		t.Errorf("objects %v", kinds)
	}
	for _, p := range patterns {
		if strings.Contains(p, "exchange") || strings.Contains(p, "tornado") {
			t.Errorf("service made an indicator: %s", p)
		}
	}
	again, _ := BuildSTIX(rep, STIXOptions{ActorRef: actor, Name: "test theft", TLP: stix.TLPAmber, Now: time.Now()})
	if again[len(again)-1].ID != objs[len(objs)-1].ID || again[1].ID != objs[1].ID {
		t.Error("ids change between runs of the same trace")
	}
}

// What is stolen is what leaves the seeds: a UTXO transaction given as a
// seed counts its outputs, not also the inputs that funded them, and funds
// one seed address pays another count once.
func TestStolenCountsOnce(t *testing.T) {
	u := Unit{Name: "BTC", Decimals: 0}
	// A bitcoin transaction T spends 6,000 of a and 4,000 of c and pays
	// 3,000 to p and 6,900 to q (100 fee); p pays x.
	utxo := build(t, []tr{
		{1, "a", "tx:T", 6000, "T"},
		{1, "c", "tx:T", 4000, "T"},
		{1, "tx:T", "p", 3000, "T"},
		{1, "tx:T", "q", 6900, "T"},
		{2, "p", "tx:U", 3000, "U"},
		{2, "tx:U", "x", 3000, "U"},
	})
	// Two thief addresses: s1 pays 40 to s2 and 60 to y; s2 pays 90 on.
	acct := build(t, []tr{
		{1, "V", "s1", 100, "0x1"},
		{2, "s1", "s2", 40, "0x2"},
		{3, "s1", "y", 60, "0x3"},
		{4, "V", "s2", 50, "0x4"},
		{5, "s2", "z", 90, "0x5"},
	})
	for _, c := range []struct {
		name  string
		g     *graph.Graph
		seeds []Seed
		want  float64
	}{
		{"utxo transaction", utxo, []Seed{{Tx: "T"}}, 9900},
		{"seeds paying each other", acct, []Seed{{Address: "s1"}, {Address: "s2"}}, 150},
		{"a seed with an amount paying another", acct, []Seed{{Address: "s1", Amount: 70}, {Address: "s2"}}, 30 + 90},
	} {
		for _, m := range []Model{Poison, Haircut, FIFO} {
			r := mustTrace(t, c.g, c.seeds, Options{Model: m})
			if got := BuildReport(r, c.seeds, ReportOptions{Unit: u}).Totals.Stolen; got != c.want {
				t.Errorf("%s, %s: stolen %v, want %v", c.name, m, got, c.want)
			}
		}
	}
	// The transaction's inputs are not tainted by it.
	if got := amounts(mustTrace(t, utxo, []Seed{{Tx: "T"}}, Options{Model: Haircut}), "a", "c", "p", "q", "x"); !near(got, map[string]float64{"p": 3000, "q": 6900, "x": 3000}) {
		t.Errorf("utxo transaction seed: %v", got)
	}
}

// Cases an independent oracle of the documented models disagreed on,
// each with its amounts worked out by hand from the definitions.
func TestOracleCases(t *testing.T) {
	type want struct {
		amounts  map[string]float64
		stolen   float64
		inferred float64
	}
	for _, c := range []struct {
		name   string
		rows   []tr
		seeds  []Seed
		models []Model
		opt    Options
		addrs  []string
		want   want
	}{{
		// A seed transfer into an address unlimited poison's stream pass
		// had reached: A was listed twice and B lost its 20.
		name: "seed into a reached address", rows: []tr{{1, "S", "A", 10, "0x1"}, {2, "A", "B", 20, "0x2"}, {3, "C", "A", 30, "0xX"}},
		seeds: []Seed{{Address: "S"}, {Tx: "0xX"}}, models: []Model{Poison}, opt: Options{MaxHops: Unlimited},
		addrs: []string{"S", "A", "B", "C"}, want: want{amounts: map[string]float64{"S": 10, "A": 40, "B": 20}, stolen: 40},
	}, {
		// A pays all it holds (S's 100) in the seed transaction, then
		// holds only C's clean 100, which it pays D.
		name: "a tainted sender pays a seed transfer", rows: []tr{{1, "S", "A", 100, "0x1"}, {2, "A", "B", 100, "0xX"}, {3, "C", "A", 100, "0x3"}, {4, "A", "D", 100, "0x4"}},
		seeds: []Seed{{Address: "S"}, {Tx: "0xX"}}, models: []Model{Haircut, FIFO}, opt: Options{MaxHops: Unlimited, Shortfall: Clean},
		// The seed transaction carries A's 100 of S's taint: stolen once.
		addrs: []string{"A", "B", "D"}, want: want{amounts: map[string]float64{"A": 100, "B": 100}, stolen: 100},
	}, {
		// s1 pays s2 40 of its stolen 100; s2, a seed of 10, also gets 50
		// clean and pays z 90, of which 40 is s1's taint (haircut 90·40/90,
		// FIFO the 40 first in): z gets the larger of that and s2's 10, and
		// the 10 is not counted again.
		name: "a seed with an amount holding another seed's taint", rows: []tr{{1, "V", "s1", 100, "0x1"}, {2, "s1", "s2", 40, "0x2"}, {3, "s1", "y", 60, "0x3"}, {4, "V2", "s2", 50, "0x4"}, {5, "s2", "z", 90, "0x5"}},
		seeds: []Seed{{Address: "s1"}, {Address: "s2", Amount: 10}}, models: []Model{Haircut, FIFO}, opt: Options{MaxHops: Unlimited, Shortfall: Clean},
		addrs: []string{"y", "z"}, want: want{amounts: map[string]float64{"y": 60, "z": 40}, stolen: 100},
	}, {
		name: "a seed transaction after the end", rows: []tr{{6, "S", "B", 50, "0x1"}, {8, "V", "B", 30, "0xX"}},
		seeds: []Seed{{Address: "S"}, {Tx: "0xX"}}, models: []Model{Poison, Haircut}, opt: Options{End: 6, Shortfall: Clean},
		addrs: []string{"B"}, want: want{amounts: map[string]float64{"B": 50}, stolen: 50},
	}, {
		name: "a seed transaction an address seed sent", rows: []tr{{7, "S", "A", 33, "0xX"}},
		seeds: []Seed{{Address: "S"}, {Tx: "0xX"}}, models: []Model{Poison, Haircut, FIFO}, opt: Options{MaxHops: Unlimited, Shortfall: Clean},
		addrs: []string{"A"}, want: want{amounts: map[string]float64{"A": 33}, stolen: 33},
	}, {
		// B is at the limit (1 hop) and passes nothing: A has S's 72 only.
		name: "poison from an address at the hop limit", rows: []tr{{4, "S", "A", 72, "0x1"}, {6, "S", "B", 49, "0x2"}, {8, "B", "A", 43, "0x3"}},
		seeds: []Seed{{Address: "S"}}, models: []Model{Poison}, opt: Options{MaxHops: 1},
		addrs: []string{"A", "B"}, want: want{amounts: map[string]float64{"A": 72, "B": 49}, stolen: 121},
	}, {
		// A received 72 clean and 9 stolen, and paid 79 before the theft:
		// it holds 9 when it pays B 55. The 46 the graph does not show are
		// tainted in the share of all A received, 9/81: B gets
		// 9 + 46·9/81 = 14.11, of which 5.11 inferred.
		name: "proportional shortfall", rows: []tr{{1, "C", "A", 72, "0x1"}, {2, "A", "X", 79, "0x2"}, {3, "S", "A", 9, "0x3"}, {4, "A", "B", 55, "0x4"}},
		seeds: []Seed{{Address: "S"}}, models: []Model{Haircut, FIFO}, opt: Options{},
		addrs: []string{"A", "B"}, want: want{amounts: map[string]float64{"A": 9, "B": 9 + 46.0*9/81}, stolen: 9, inferred: 46.0 * 9 / 81},
	}} {
		g := build(t, c.rows)
		for _, m := range c.models {
			opt := c.opt
			opt.Model = m
			r := mustTrace(t, g, c.seeds, opt)
			rep := BuildReport(r, c.seeds, ReportOptions{Unit: Unit{Name: "u"}})
			if got := amounts(r, c.addrs...); !near(got, c.want.amounts) {
				t.Errorf("%s, %s: amounts %v, want %v", c.name, m, got, c.want.amounts)
			}
			if math.Abs(rep.Totals.Stolen-c.want.stolen) > 1e-9 || math.Abs(rep.Totals.Inferred-c.want.inferred) > 1e-9 {
				t.Errorf("%s, %s: stolen %v inferred %v, want %v and %v", c.name, m, rep.Totals.Stolen, rep.Totals.Inferred, c.want.stolen, c.want.inferred)
			}
			if rep.Totals.Tainted != r.Len() || len(rep.Addresses)+len(rep.Exits) > r.Len() {
				t.Errorf("%s, %s: %d tainted in the report, %d in the result", c.name, m, rep.Totals.Tainted, r.Len())
			}
		}
	}
	// A seed transaction before the start time contradicts the start.
	g := build(t, []tr{{3, "V", "B", 50, "0xX"}, {3, "S", "A", 88, "0x2"}, {5, "S", "E", 7, "0x3"}})
	if _, err := Trace(g, []Seed{{Address: "S"}, {Tx: "0xX"}}, Options{Start: 4}); err == nil {
		t.Error("a seed transaction before the start time accepted")
	}
	// Only the seed transaction's transfers of the asset followed count.
	b := graph.NewBuilder()
	for _, x := range []graph.Transfer{
		{Tx: "0xX", Time: 7, From: "A", To: "B", Amount: graph.AmountFromUint64(6)},
		{Tx: "0xX", Time: 7, From: "C", To: "B", Asset: "0xtok", Amount: graph.AmountFromUint64(60)},
	} {
		if err := b.Add(x); err != nil {
			t.Fatal(err)
		}
	}
	ga := b.Build()
	for _, m := range []Model{Poison, FIFO} {
		seeds := []Seed{{Tx: "0xX"}}
		r := mustTrace(t, ga, seeds, Options{Model: m, OneAsset: true, Asset: "0xtok", Shortfall: Clean})
		if got, st := amounts(r, "B"), BuildReport(r, seeds, ReportOptions{Unit: Unit{Name: "u"}}).Totals.Stolen; !near(got, map[string]float64{"B": 60}) || st != 60 {
			t.Errorf("asset filter, %s: amounts %v, stolen %v; want B 60, stolen 60", m, got, st)
		}
	}
}

// Dust is counted once: stolen funds a seed with an amount pays under the
// minimum are stolen and dropped, and dust one seed pays another stays
// among the seeds. So, under the clean shortfall rule with no hop limit,
// stolen = at exits + held + dropped.
func TestDustCountedOnce(t *testing.T) {
	for _, c := range []struct {
		name            string
		rows            []tr
		seeds           []Seed
		min             float64
		stolen, dropped float64
	}{
		{"a seed pays another dust", []tr{{2, "S1", "S2", 7, "0x1"}}, []Seed{{Address: "S1"}, {Address: "S2"}}, 10, 0, 0},
		{"the last part of an amount is dust", []tr{{4, "A", "X", 64, "0x1"}, {8, "A", "Y", 38, "0x2"}}, []Seed{{Address: "A", Amount: 66}}, 3, 66, 2},
	} {
		for _, m := range []Model{Haircut, FIFO} {
			r := mustTrace(t, build(t, c.rows), c.seeds, Options{Model: m, MinValue: c.min, Shortfall: Clean, MaxHops: Unlimited})
			tot := BuildReport(r, c.seeds, ReportOptions{Unit: Unit{Name: "u"}}).Totals
			if tot.Stolen != c.stolen || tot.Dropped != c.dropped {
				t.Errorf("%s, %s: stolen %v dropped %v, want %v and %v", c.name, m, tot.Stolen, tot.Dropped, c.stolen, c.dropped)
			}
		}
	}
}
