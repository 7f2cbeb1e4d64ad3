package screen_test

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/chain/address"
	"github.com/bulwark-intel/bulwark/internal/chain/graph"
	"github.com/bulwark-intel/bulwark/internal/chain/screen"
	"github.com/bulwark-intel/bulwark/internal/corpus"
	"github.com/bulwark-intel/bulwark/internal/feed/ofac"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

type transfer struct {
	tx       string
	time     int64
	from, to string
	amount   uint64
}

func buildGraph(t testing.TB, ts []transfer) *graph.Graph {
	t.Helper()
	b := graph.NewBuilder()
	for _, x := range ts {
		if err := b.Add(graph.Transfer{Tx: x.tx, Block: uint64(x.time), Time: x.time, From: x.from, To: x.to, Amount: graph.AmountFromUint64(x.amount)}); err != nil {
			t.Fatal(err)
		}
	}
	return b.Build()
}

// exposureWorld lists S (sanctioned, severe) and M (a mixer, not a
// source); C is clean.
func exposureWorld(t *testing.T) (*screen.Index, map[string]string) {
	t.Helper()
	s := newStore(t, "c")
	names := map[string]string{"S": evm(0xa1), "M": evm(0xa2), "C": evm(0xc0), "A": evm(1), "B": evm(2), "D": evm(4),
		"E": evm(5), "F": evm(6), "G": evm(7), "H": evm(8)}
	put(t, s, "c",
		wallet(t, uid("indicator", 1), "OFAC SDN: S", names["S"], mClear, "", map[string]any{"labels": []string{"sanctioned"}}),
		wallet(t, uid("indicator", 2), "mixer", names["M"], mClear, "", map[string]any{"labels": []string{"mixer"}}))
	return load(t, s), names
}

func screenOne(t *testing.T, ix *screen.Index, addr string) screen.Result {
	t.Helper()
	res, err := ix.Screen(ctx, screen.Operator(stix.TLPNone), []string{addr})
	if err != nil {
		t.Fatal(err)
	}
	return res[0]
}

// indirect returns the indirect-exposure reason of r, or nil.
func indirect(r screen.Result) *screen.Reason {
	for i := range r.Reasons {
		if r.Reasons[i].Indirect != nil {
			return &r.Reasons[i]
		}
	}
	return nil
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// Shares by hand:
//
//	t10 S→A 100, t20 C→A 300          A holds 400, 100 from S: 0.25
//	t30 A→B 200                       B gets 200·0.25 = 50 listed
//	t40 C→B 50                        B: 50/250 = 0.2            → high
//	t50 S→A 400                       A: 500/800 = 0.625 (after B was paid)
//	t5  A→D 10                        before A received anything: 0
//	t60 B→E 100                       E: 100·0.2/100 = 0.2 at 3 hops
//	t70 E→F 100                       F: 4 hops: 0 with MaxHops 3
//	t75 C→G 490, t80 A→G 10           G: 10·0.625/500 = 1.25 %    → medium
//	t85 M→H 100                       a mixer is not a source       → none
func TestExposureHaircut(t *testing.T) {
	ix, n := exposureWorld(t)
	g := buildGraph(t, []transfer{
		{"0x05", 5, n["A"], n["D"], 10},
		{"0x10", 10, n["S"], n["A"], 100},
		{"0x20", 20, n["C"], n["A"], 300},
		{"0x30", 30, n["A"], n["B"], 200},
		{"0x40", 40, n["C"], n["B"], 50},
		{"0x50", 50, n["S"], n["A"], 400},
		{"0x60", 60, n["B"], n["E"], 100},
		{"0x70", 70, n["E"], n["F"], 100},
		{"0x75", 75, n["C"], n["G"], 490},
		{"0x80", 80, n["A"], n["G"], 10},
		{"0x85", 85, n["M"], n["H"], 100},
	})
	ix.AttachGraph(g, screen.ExposureOptions{})
	for _, tt := range []struct {
		who   string
		risk  string
		share float64
		hops  int
	}{
		{"A", screen.High, 0.625, 1},
		{"B", screen.High, 0.2, 2},
		{"D", screen.None, 0, 0},
		{"E", screen.High, 0.2, 3},
		{"F", screen.None, 0, 0},
		{"G", screen.Medium, 0.0125, 2},
		{"H", screen.None, 0, 0},
		{"C", screen.None, 0, 0},
	} {
		r := screenOne(t, ix, n[tt.who])
		ind := indirect(r)
		if r.Risk != tt.risk || (ind == nil) != (tt.share == 0) {
			t.Errorf("%s: risk %s, want %s: %+v", tt.who, r.Risk, tt.risk, r.Reasons)
			continue
		}
		if ind == nil {
			continue
		}
		x := ind.Indirect
		if !near(x.Share, tt.share) || x.Hops != tt.hops || x.Listed != n["S"] || x.Truncated {
			t.Errorf("%s: share %v hops %d listed %s truncated %v, want %v %d %s", tt.who, x.Share, x.Hops, x.Listed, x.Truncated, tt.share, tt.hops, n["S"])
		}
		if ind.Name != "OFAC SDN: S" || ind.TLP != "clear" || r.TLP != "clear" {
			t.Errorf("%s: evidence %+v", tt.who, ind)
		}
		if len(x.Path) != x.Hops || x.Path[0].From != n["S"] || x.Path[len(x.Path)-1].To != n[tt.who] {
			t.Errorf("%s: path %+v", tt.who, x.Path)
		}
	}
	// B's path, hop by hop.
	x := indirect(screenOne(t, ix, n["B"])).Indirect
	want := []screen.Hop{
		{From: n["S"], To: n["A"], Tx: "0x10", Time: "1970-01-01T00:00:10Z", Amount: "100"},
		{From: n["A"], To: n["B"], Tx: "0x30", Time: "1970-01-01T00:00:30Z", Amount: "200"},
	}
	for i := range want {
		if x.Path[i] != want[i] {
			t.Errorf("B hop %d: %+v, want %+v", i, x.Path[i], want[i])
		}
	}
	// Fewer hops allowed: E is out of reach.
	ix.AttachGraph(g, screen.ExposureOptions{MaxHops: 2})
	if r := screenOne(t, ix, n["E"]); r.Risk != screen.None {
		t.Errorf("E with 2 hops: %+v", r)
	}
	// Thresholds are configurable.
	ix.AttachGraph(g, screen.ExposureOptions{High: 0.5, Medium: 0.3})
	if r := screenOne(t, ix, n["B"]); r.Risk != screen.Low {
		t.Errorf("B with high at 50 %%, medium at 30 %%: %s", r.Risk)
	}
}

// UTXO transactions are pseudo-nodes: address → tx → address is one hop,
// and the path names the transaction.
func TestExposureUTXO(t *testing.T) {
	s := newStore(t, "c")
	const (
		src   = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
		clean = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
		x     = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
		y     = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
		z     = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
	)
	put(t, s, "c", wallet(t, uid("indicator", 1), "thief", src, mClear, "", nil))
	ix := load(t, s)
	h1, h2 := strings.Repeat("a", 63)+"1", strings.Repeat("b", 63)+"2"
	ix.AttachGraph(buildGraph(t, []transfer{
		{h1, 100, src, "tx:" + h1, 100},
		{h1, 100, clean, "tx:" + h1, 100},
		{h1, 100, "tx:" + h1, x, 150},
		{h1, 100, "tx:" + h1, y, 50},
		{h2, 200, x, "tx:" + h2, 150},
		{h2, 200, "tx:" + h2, z, 140},
	}), screen.ExposureOptions{MaxHops: 2})
	for addr, hops := range map[string]int{x: 1, y: 1, z: 2} {
		r := screenOne(t, ix, addr)
		ind := indirect(r)
		if r.Risk != screen.High || ind == nil || !near(ind.Indirect.Share, 0.5) || ind.Indirect.Hops != hops {
			t.Errorf("%s: %+v", addr, r)
			continue
		}
		p := ind.Indirect.Path
		if p[0].From != src || p[0].Tx != h1 || p[len(p)-1].To != addr {
			t.Errorf("%s: path %+v", addr, p)
		}
	}
	p := indirect(screenOne(t, ix, z)).Indirect.Path
	if p[1].From != x || p[1].Tx != h2 || p[1].Amount != "140" {
		t.Errorf("z's second hop: %+v", p[1])
	}
}

// A hub (an exchange wallet with thousands of deposits) on the way: its
// precomputed list of tainted deposits keeps the walk exact within a small
// budget; without it the budget runs out and the answer says so.
func TestExposureHub(t *testing.T) {
	ix, n := exposureWorld(t)
	hub := evm(0x7777)
	var ts []transfer
	for i := range 3000 {
		ts = append(ts, transfer{"", int64(100 + i), evm(0x10000 + i), hub, 10})
	}
	ts = append(ts, transfer{"0x01", 50, n["S"], hub, 30000}) // half of the hub's inflow
	ts = append(ts, transfer{"0x02", 5000, hub, n["A"], 1000})
	g := buildGraph(t, ts)
	ix.AttachGraph(g, screen.ExposureOptions{Budget: 500, HubDegree: 1024})
	r := screenOne(t, ix, n["A"])
	ind := indirect(r)
	if ind == nil || !near(ind.Indirect.Share, 0.5) || ind.Indirect.Truncated || ind.Indirect.Hops != 2 {
		t.Fatalf("through the hub: %+v", r)
	}
	ix.AttachGraph(g, screen.ExposureOptions{Budget: 500, HubDegree: 1 << 30})
	r = screenOne(t, ix, n["A"])
	if ind := indirect(r); ind != nil {
		t.Errorf("budget 500 over 3001 deposits without hub lists still found %+v", ind.Indirect)
	}
	ix.AttachGraph(g, screen.ExposureOptions{Budget: 5000, HubDegree: 1 << 30})
	if ind := indirect(screenOne(t, ix, n["A"])); ind == nil || !near(ind.Indirect.Share, 0.5) {
		t.Errorf("a budget large enough: %+v", ind)
	}
}

// Truncated answers are lower bounds and flagged.
func TestExposureTruncated(t *testing.T) {
	ix, n := exposureWorld(t)
	// A receives from S directly (cheap) and from 50 relays each fed by S.
	ts := []transfer{{"0x01", 1, n["S"], n["A"], 100}}
	for i := range 50 {
		r := evm(0x5000 + i)
		ts = append(ts, transfer{"", 2, n["S"], r, 10}, transfer{"", 3, r, n["A"], 10})
	}
	g := buildGraph(t, ts)
	ix.AttachGraph(g, screen.ExposureOptions{Budget: 51, HubDegree: 1 << 30})
	x := indirect(screenOne(t, ix, n["A"])).Indirect
	if !x.Truncated || x.Share <= 0 || x.Share > 1 {
		t.Errorf("small budget: %+v", x)
	}
	ix.AttachGraph(g, screen.ExposureOptions{HubDegree: 1 << 30})
	x = indirect(screenOne(t, ix, n["A"])).Indirect
	if x.Truncated || !near(x.Share, 1) {
		t.Errorf("full budget: %+v", x)
	}
}

// A graph without timestamps (GEXF) is screened by reachability: every
// in-transfer counts.
func TestExposureUntimed(t *testing.T) {
	ix, n := exposureWorld(t)
	ix.AttachGraph(buildGraph(t, []transfer{
		{"", 0, n["A"], n["B"], 200}, // before A's funds in edge order, still counts
		{"", 0, n["S"], n["A"], 100},
		{"", 0, n["C"], n["A"], 300},
		{"", 0, n["C"], n["B"], 50},
	}), screen.ExposureOptions{})
	x := indirect(screenOne(t, ix, n["B"])).Indirect
	if !near(x.Share, 0.2) || x.Hops != 2 {
		t.Errorf("untimed B: %+v", x)
	}
}

// The index changing (a new listing) reaches exposure: the precomputation
// is redone in the background and the next answers use it.
func TestExposureFollowsIndex(t *testing.T) {
	s := newStore(t, "c")
	ix := load(t, s)
	ix.AttachGraph(buildGraph(t, []transfer{{"0x01", 1, evm(1), evm(2), 100}}), screen.ExposureOptions{})
	if r := screenOne(t, ix, evm(2)); r.Risk != screen.None {
		t.Fatalf("before listing: %+v", r)
	}
	put(t, s, "c", wallet(t, uid("indicator", 1), "w", evm(1), mClear, "", nil))
	mustUpdate(t, ix)
	for i := 0; ; i++ {
		if r := screenOne(t, ix, evm(2)); r.Risk == screen.High {
			break
		}
		if i > 1000 {
			t.Fatal("exposure never picked up the new listing")
		}
		if err := ix.Exposure().Precompute(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// Amounts of different assets are not added in base units: a million
// USDT (10¹² base units) from S next to 0.01 ether (10¹⁶ wei) of clean
// funds is all of A's USDT inflow, not 0.01 % of a sum of units.
//
//	t10 S→A 1,000,000 USDT        A's USDT: 100 % from S        → high
//	t20 C→A 0.01 ETH              A's ether: 0 %
//	t30 A→B 400,000 USDT, t40 C→B 600,000 USDT     B: 40 %       → high
//	t50 S→D 1 ETH, t60 C→D 1 ETH, t70 C→D 10⁶ USDT D: ether 50 %, USDT 0 → high (ether)
func TestExposurePerAsset(t *testing.T) {
	ix, n := exposureWorld(t)
	const usdt = "0xdac17f958d2ee523a2206206994597c13d831ec7"
	b := graph.NewBuilder()
	for _, x := range []struct {
		time     int64
		from, to string
		asset    string
		amount   uint64
	}{
		{10, n["S"], n["A"], usdt, 1e12},
		{20, n["C"], n["A"], "", 1e16},
		{30, n["A"], n["B"], usdt, 4e11},
		{40, n["C"], n["B"], usdt, 6e11},
		{50, n["S"], n["D"], "", 1e18},
		{60, n["C"], n["D"], "", 1e18},
		{70, n["C"], n["D"], usdt, 1e12},
	} {
		if err := b.Add(graph.Transfer{Tx: "0x" + strings.Repeat("0", 62) + string(rune('0'+x.time/10)), Block: uint64(x.time), Time: x.time,
			From: x.from, To: x.to, Asset: x.asset, Amount: graph.AmountFromUint64(x.amount)}); err != nil {
			t.Fatal(err)
		}
	}
	g := b.Build()
	// Also with every address a hub (two in-transfers or more), whose
	// assets come from the in-transfers that may carry listed funds.
	for _, hub := range []int{0, 2} {
		ix.AttachGraph(g, screen.ExposureOptions{HubDegree: hub})
		for _, tt := range []struct {
			who   string
			share float64
			asset string
		}{
			{"A", 1, usdt},
			{"B", 0.4, usdt},
			{"D", 0.5, ""},
		} {
			r := screenOne(t, ix, n[tt.who])
			ind := indirect(r)
			if r.Risk != screen.High || ind == nil {
				t.Errorf("hub degree %d, %s: risk %s, reasons %+v", hub, tt.who, r.Risk, r.Reasons)
				continue
			}
			x := ind.Indirect
			if !near(x.Share, tt.share) || x.Asset == nil || *x.Asset != tt.asset || x.Listed != n["S"] {
				t.Errorf("hub degree %d, %s: share %v of asset %v from %s, want %v of %q", hub, tt.who, x.Share, x.Asset, x.Listed, tt.share, tt.asset)
			}
			if want := "of its inflow of " + map[string]string{usdt: usdt, "": "the native coin"}[tt.asset]; !strings.Contains(ind.Note, want) {
				t.Errorf("%s: note %q lacks %q", tt.who, ind.Note, want)
			}
		}
	}
}

// A listing and a graph that write a Bitcoin Cash address in different
// encodings still meet: the OFAC list gives cashaddr, the graph (loaded
// from a legacy-form export) has the same script as 1….
func TestExposureOtherEncoding(t *testing.T) {
	s := newStore(t, "c")
	importFile(t, s, ofac.List, corpus.Path(t, "chain/ofac_0xB10C_lists/sanctioned_addresses_BCH.txt"), time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC))
	ix := load(t, s)
	listed, err := address.ParseFor(address.BCH, "qpf2cphc5dkuclkqur7lhj2yuqq9pk3hmukle77vhq")
	if err != nil {
		t.Fatal(err)
	}
	legacy := address.Fold(listed)
	const x, clean = "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
	ix.AttachGraph(buildGraph(t, []transfer{
		{"0x01", 10, legacy, x, 300},
		{"0x02", 20, clean, x, 700},
	}), screen.ExposureOptions{})
	// x in either encoding: 30 % of its inflow from the listed address.
	for _, in := range []string{x, "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a"} {
		r := screenOne(t, ix, in)
		ind := indirect(r)
		if r.Risk != screen.High || ind == nil || !near(ind.Indirect.Share, 0.3) || ind.Indirect.Listed != legacy {
			t.Errorf("%s: risk %s, reasons %+v", in, r.Risk, r.Reasons)
		}
	}
	// The other way round: the list has 18M8bJW… in legacy form, the
	// graph names everything in cashaddr.
	cash := func(s string) string {
		a, err := address.ParseFor(address.BCH, s)
		if err != nil {
			t.Fatal(err)
		}
		return a.Canonical
	}
	src, y := cash("18M8bJWMzWHDBMxoLqjHHAffdRy4SrzkfB"), cash(x)
	ix.AttachGraph(buildGraph(t, []transfer{
		{"0x01", 10, src, y, 500},
		{"0x02", 20, cash(clean), y, 500},
	}), screen.ExposureOptions{})
	for _, in := range []string{y, x} {
		r := screenOne(t, ix, in)
		if ind := indirect(r); r.Risk != screen.High || ind == nil || !near(ind.Indirect.Share, 0.5) || ind.Indirect.Listed != src {
			t.Errorf("%s: risk %s, reasons %+v", in, r.Risk, r.Reasons)
		}
	}
}

// One unit of a token of unknown value airdropped from a listed address
// is all of that token's inflow, but no reason for high risk: it is
// reported, graded low.
func TestExposureDustToken(t *testing.T) {
	ix, n := exposureWorld(t)
	b := graph.NewBuilder()
	for i, x := range []graph.Transfer{
		{Time: 10, From: n["C"], To: n["A"], Amount: graph.AmountFromUint64(1e19)},
		{Time: 20, From: n["S"], To: n["A"], Asset: "0x00000000000000000000000000000000000000ff", Amount: graph.AmountFromUint64(1)},
	} {
		x.Tx, x.Block = fmt.Sprintf("0x%064x", i+1), uint64(x.Time)
		if err := b.Add(x); err != nil {
			t.Fatal(err)
		}
	}
	ix.AttachGraph(b.Build(), screen.ExposureOptions{})
	r := screenOne(t, ix, n["A"])
	ind := indirect(r)
	if r.Risk != screen.Low || ind == nil || !near(ind.Indirect.Share, 1) || !strings.Contains(ind.Note, "unknown value") {
		t.Errorf("dust token: risk %s, reasons %+v", r.Risk, r.Reasons)
	}
}

// An address the graph holds under two encodings is one address: its share
// is of the inflow of both nodes. 10 from a listed address into the legacy
// form and 990 of clean funds into the cashaddr form is 1 %, medium,
// whichever form is asked.
func TestExposureTwoEncodingsOneInflow(t *testing.T) {
	const src, x, clean = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
	a, err := address.ParseFor(address.BCH, x)
	if err != nil {
		t.Fatal(err)
	}
	xc := a.Canonical
	s := newStore(t, "c")
	put(t, s, "c", wallet(t, uid("indicator", 1), "thief", src, mClear, "", map[string]any{"labels": []string{"sanctioned"}}))
	ix := load(t, s)
	ix.AttachGraph(buildGraph(t, []transfer{
		{"0x01", 10, src, x, 10},
		{"0x02", 20, clean, xc, 990},
	}), screen.ExposureOptions{})
	for _, in := range []string{x, xc} {
		r := screenOne(t, ix, in)
		ind := indirect(r)
		if ind == nil || !near(ind.Indirect.Share, 0.01) || r.Risk != screen.Medium {
			t.Errorf("%s: risk %s, %+v; want medium at 1 %%", in, r.Risk, ind)
			continue
		}
		if p := ind.Indirect.Path; len(p) != 1 || p[0].From != src || p[0].To != x {
			t.Errorf("%s: path %+v, want %s → %s", in, p, src, x)
		}
	}
}

// Two assets with the same risk and share: which one the evidence names
// does not depend on listings the viewer may not see. R receives 10 USDT
// from H (listed RED), then 10 ether from S, 10 clean ether, 10 USDT from
// S: for a CLEAR viewer ether and USDT are both 50 % from S. With R a hub,
// its assets come from the in-transfers that may carry listed funds, H's
// among them.
func TestExposureTieIndependentOfHidden(t *testing.T) {
	const usdt = "0xdac17f958d2ee523a2206206994597c13d831ec7"
	S, H, C, R := evm(0xa1), evm(0xa4), evm(0xc0), evm(0xd1)
	b := graph.NewBuilder()
	for i, x := range []struct {
		tm       int64
		from, to string
		asset    string
	}{{1, H, R, usdt}, {2, S, R, ""}, {3, C, R, ""}, {4, S, R, usdt}} {
		if err := b.Add(graph.Transfer{Tx: evm(0x1000 + i), Time: x.tm, Block: uint64(x.tm), From: x.from, To: x.to, Asset: x.asset, Amount: graph.AmountFromUint64(10)}); err != nil {
			t.Fatal(err)
		}
	}
	g := b.Build()
	index := func(withH bool) *screen.Index {
		s := newStore(t, "c")
		put(t, s, "c", wallet(t, uid("indicator", 1), "S", S, mClear, "", map[string]any{"labels": []string{"sanctioned"}}))
		if withH {
			put(t, s, "c", wallet(t, uid("indicator", 2), "H", H, mRed, "", map[string]any{"labels": []string{"perpetrator"}}))
		}
		return load(t, s)
	}
	for _, hub := range []int{0, 2} {
		var got []string
		for _, withH := range []bool{true, false} {
			ix := index(withH)
			ix.AttachGraph(g, screen.ExposureOptions{HubDegree: hub})
			res, err := ix.Screen(ctx, screen.Operator(stix.TLPClear), []string{R})
			if err != nil {
				t.Fatal(err)
			}
			ind := indirect(res[0])
			if ind == nil || !near(ind.Indirect.Share, 0.5) {
				t.Fatalf("hub degree %d, H listed %v: %+v", hub, withH, res[0])
			}
			b, _ := json.Marshal(res[0])
			got = append(got, string(b))
		}
		if got[0] != got[1] {
			t.Errorf("hub degree %d: the CLEAR viewer's answer depends on H's RED listing:\n with: %s\n without: %s", hub, got[0], got[1])
		}
	}
}

// Over two encodings, the reason is marked with the most restricted
// listing whose funds count, on either node; and a budget that runs out
// before the second node counts its inflow as clean and says the share is
// a lower bound, rather than leaving the inflow out.
func TestExposureTwoEncodingsTLPAndBudget(t *testing.T) {
	const red, clear, x, clean = "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu", "1CounterpartyXXXXXXXXXXXXXXXUWLpVr"
	a, err := address.ParseFor(address.BCH, x)
	if err != nil {
		t.Fatal(err)
	}
	xc := a.Canonical
	s := newStore(t, "c")
	put(t, s, "c",
		wallet(t, uid("indicator", 1), "red", red, mRed, "", map[string]any{"labels": []string{"sanctioned"}}),
		wallet(t, uid("indicator", 2), "clear", clear, mClear, "", map[string]any{"labels": []string{"sanctioned"}}))
	ix := load(t, s)
	// legacy X: 50 from the RED listing; cashaddr X: 60 from the CLEAR one
	// and 890 clean. The share is 110 / 1,000 = 11 %, high only with the
	// RED funds.
	g := buildGraph(t, []transfer{
		{"0x01", 10, red, x, 50},
		{"0x02", 20, clear, xc, 60},
		{"0x03", 30, clean, xc, 890},
	})
	ix.AttachGraph(g, screen.ExposureOptions{})
	for _, in := range []string{x, xc} {
		r := screenOne(t, ix, in)
		ind := indirect(r)
		if ind == nil || !near(ind.Indirect.Share, 0.11) || ind.TLP != "red" || r.TLP != "red" {
			t.Errorf("%s: %+v, result TLP %s; want 11 %% at TLP red", in, ind, r.TLP)
		}
	}
	// A budget of one transfer: the first node walked uses it up.
	ix.AttachGraph(g, screen.ExposureOptions{Budget: 1})
	r := screenOne(t, ix, x)
	if ind := indirect(r); ind == nil || ind.Indirect.Share > 0.11+1e-9 || !ind.Indirect.Truncated {
		t.Errorf("budget 1: %+v; want a share of at most 11 %%, marked truncated", ind)
	}
}
