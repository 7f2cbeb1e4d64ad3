package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/chain/chaintest"
	"github.com/bulwark-intel/bulwark/internal/chain/graph"
	"github.com/bulwark-intel/bulwark/internal/chain/taint"
)

// The trace command over a real node: geth --dev and btcd on regtest with
// the theft and laundering of chaintest staged on them, read with --rpc,
// the exchange deposit labelled in a store given with --db. The amounts
// each model gives are derived in chaintest's ethstory.go and btcstory.go.

// exchangeStore imports an indicator that labels addr as an exchange
// deposit, the way a TagPack import would, and returns the store's path.
func exchangeStore(t *testing.T, dir, addr string) string {
	t.Helper()
	// Written by hand: the importer streams bundles and wants "type"
	// before "objects", which json.Marshal of a map does not give.
	bundle := fmt.Sprintf(`{"type":"bundle","id":"bundle--6f1d2c3b-0000-4000-8000-00000000b0b0","objects":[`+
		`{"type":"indicator","spec_version":"2.1","id":"indicator--6f1d2c3b-0000-4000-8000-00000000e0e0",`+
		`"created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","name":%q,"labels":["exchange"],`+
		`"pattern":%q,"pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"}]}`,
		chaintest.ExchangeName, fmt.Sprintf("[cryptocurrency-wallet:value = '%s']", addr))
	p := filepath.Join(dir, "labels.json")
	if err := os.WriteFile(p, []byte(bundle), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "labels.db")
	mustRun(t, "import", "--db", db, "--quiet", p)
	return db
}

// rpcTraceWant is what one model's report must hold, in the report's unit.
type rpcTraceWant struct {
	model string
	exit  float64
	// listed are the laundering addresses and their taint; no others may
	// be listed.
	listed map[string]float64
}

// checkRPCReport checks the JSON report of one model: the exchange is the
// one exit with the model's amount, reached first down the staged hops
// (path) and at best hops away; exactly the expected addresses are listed
// with their amounts. tol is the absolute tolerance of amounts.
func checkRPCReport(t *testing.T, out string, w rpcTraceWant, unit, seed, exchange string, path []string, hops int, tol float64) *taint.Report {
	t.Helper()
	var rep taint.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%s report: %v\n%.2000s", w.model, err, out)
	}
	if rep.Model != w.model || rep.Unit != unit || !slices.Equal(rep.Seeds, []string{seed}) {
		t.Errorf("%s report: model %q unit %q seeds %v", w.model, rep.Model, rep.Unit, rep.Seeds)
	}
	near := func(got, want float64) bool { return math.Abs(got-want) <= tol }
	if len(rep.Exits) != 1 || rep.Exits[0].Kind != "exchange" || rep.Exits[0].Service != chaintest.ExchangeName ||
		len(rep.Exits[0].Deposits) != 1 || rep.Exits[0].Deposits[0].Address != exchange {
		t.Fatalf("%s report: exits %+v, want the exchange deposit %s only", w.model, rep.Exits, exchange)
	}
	d := rep.Exits[0].Deposits[0]
	if !near(d.Amount, w.exit) || !near(rep.Totals.AtExits, w.exit) {
		t.Errorf("%s report: %g %s reached the exchange (totals %g), want %g", w.model, d.Amount, unit, rep.Totals.AtExits, w.exit)
	}
	if d.Hops != hops {
		t.Errorf("%s report: exchange %d hops from the theft, want %d", w.model, d.Hops, hops)
	}
	var got []string
	for i, s := range d.Path {
		if i == 0 {
			got = append(got, s.From)
		} else if s.From != got[len(got)-1] {
			t.Errorf("%s report: path step %d starts at %s, not where step %d ended", w.model, i, s.From, i-1)
		}
		got = append(got, s.To)
		if s.Tx == "" || s.Time == "" || s.Amount == "" {
			t.Errorf("%s report: path step %d lacks its transaction, time or amount: %+v", w.model, i, s)
		}
	}
	if !slices.Equal(got, path) {
		t.Errorf("%s report: path to the exchange\n  %v\nwant\n  %v", w.model, got, path)
	}
	finding := fmt.Sprintf("reached %s deposit %s", chaintest.ExchangeName, exchange)
	if len(rep.Findings) == 0 || !strings.Contains(rep.Findings[0], finding) || !strings.Contains(rep.Findings[0], fmt.Sprintf("%d hops from the theft", hops)) {
		t.Errorf("%s report: findings %q, want the first to say %q, %d hops", w.model, rep.Findings, finding, hops)
	}
	listed := map[string]float64{}
	for _, a := range rep.Addresses {
		listed[a.Address] = a.Amount
		want, ok := w.listed[a.Address]
		switch {
		case !ok:
			t.Errorf("%s report: lists %s (%g %s), outside the story", w.model, a.Address, a.Amount, unit)
		case !near(a.Amount, want):
			t.Errorf("%s report: %s has %g %s, want %g", w.model, a.Address, a.Amount, unit, want)
		}
	}
	for a, want := range w.listed {
		if _, ok := listed[a]; !ok {
			t.Errorf("%s report: %s (%g %s) not listed", w.model, a, want, unit)
		}
	}
	if rep.Totals.Listed != len(w.listed) || rep.Truncated != 0 {
		t.Errorf("%s report: %d listed (%d truncated), want %d", w.model, rep.Totals.Listed, rep.Truncated, len(w.listed))
	}
	t.Logf("%s: %s", w.model, rep.Findings[0])
	return &rep
}

// checkTraceSTIX checks the bundle holds a theft-wallet indicator for the
// seed, a laundering-address indicator derived from it for every listed
// address and for nothing else (the exchange least of all), and a report
// that refers to them all.
func checkTraceSTIX(t *testing.T, path string, rep *taint.Report, seed string) {
	t.Helper()
	var bundle struct {
		Type    string
		Objects []struct {
			Type, ID, Name, Pattern string
			Labels                  []string
			RelationshipType        string              `json:"relationship_type"`
			SourceRef               string              `json:"source_ref"`
			TargetRef               string              `json:"target_ref"`
			ObjectRefs              []string            `json:"object_refs"`
			ObjectMarkingRefs       []string            `json:"object_marking_refs"`
			Trace                   *struct{ Hops int } `json:"x_bulwark_trace"`
		}
	}
	if err := json.Unmarshal([]byte(readFile(t, path)), &bundle); err != nil || bundle.Type != "bundle" {
		t.Fatalf("STIX output %s: %v (type %q)", path, err, bundle.Type)
	}
	want := map[string]bool{}
	for _, a := range rep.Addresses {
		want[a.Address] = true
	}
	pattern := func(a string) string { return fmt.Sprintf("[cryptocurrency-wallet:value = '%s']", a) }
	inds := map[string]string{} // address → indicator id
	var seedID string
	derived := map[string]string{}
	var refs []string
	for _, o := range bundle.Objects {
		switch o.Type {
		case "indicator":
			if len(o.ObjectMarkingRefs) == 0 {
				t.Errorf("indicator %s has no TLP marking", o.ID)
			}
			if o.Pattern == pattern(seed) {
				seedID = o.ID
				if !slices.Contains(o.Labels, "theft") {
					t.Errorf("seed indicator labels %v", o.Labels)
				}
				continue
			}
			a := strings.TrimSuffix(strings.TrimPrefix(o.Pattern, "[cryptocurrency-wallet:value = '"), "']")
			if !want[a] || o.Pattern != pattern(a) {
				t.Errorf("indicator %s for %q, which the report does not list", o.ID, o.Pattern)
				continue
			}
			if !strings.HasPrefix(o.Name, "Laundering address") || !slices.Contains(o.Labels, "laundering") || !slices.Contains(o.Labels, rep.Model) || o.Trace == nil {
				t.Errorf("laundering indicator %s: name %q labels %v trace %v", a, o.Name, o.Labels, o.Trace)
			}
			inds[a] = o.ID
		case "relationship":
			if o.RelationshipType == "derived-from" {
				derived[o.SourceRef] = o.TargetRef
			}
		case "report":
			refs = o.ObjectRefs
		}
	}
	if seedID == "" {
		t.Errorf("no theft-wallet indicator for %s", seed)
	}
	if len(inds) != len(want) {
		t.Errorf("%d laundering indicators for %d listed addresses", len(inds), len(want))
	}
	for a, id := range inds {
		if derived[id] != seedID {
			t.Errorf("indicator of %s derived from %q, want the theft wallet's %s", a, derived[id], seedID)
		}
		if !slices.Contains(refs, id) {
			t.Errorf("the report does not refer to the indicator of %s", a)
		}
	}
	if !slices.Contains(refs, seedID) {
		t.Errorf("the report does not refer to the theft wallet's indicator")
	}
}

func TestTraceRPCGeth(t *testing.T) {
	url := chaintest.StartGeth(t, chaintest.GethBinary(t), chaintest.GethOptions{LogRange: 5})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st := chaintest.StageEth(t, ctx, url)
	dir := t.TempDir()
	db := exchangeStore(t, dir, st.Exchange.Hex())

	thief, ex := st.Thief.Hex(), st.Exchange.Hex()
	s0, s1, s2 := st.Splits[0].Hex(), st.Splits[1].Hex(), st.Splits[2].Hex()
	h1, h2, h3 := st.Hops[1].Hex(), st.Hops[2].Hex(), st.Hops[3].Hex()
	p0, p1, p2 := st.Peels[0].Hex(), st.Peels[1].Hex(), st.Peels[2].Hex()
	consol, mule := st.Consol.Hex(), st.Mule.Hex()
	pool, recip := st.PoolHex(), st.Recipient.Hex()
	// In ETH. The thief sends ether and the token, so --asset auto follows
	// the native coin only: token base units never mix into ETH amounts.
	// --internal reads the mixing pool's payout to the recipient.
	const tol = 1e-9
	for _, w := range []rpcTraceWant{
		{"poison", 95, map[string]float64{s0: 30, s1: 30, s2: 39, p0: 1, h1: 37.8, p1: 2, h2: 39.9, p2: 3, h3: 36.8, consol: 96.1, mule: 0.1, pool: 0.9, recip: 0.8}},
		{"haircut", 85.5, map[string]float64{s0: 30, s1: 30, s2: 39, p0: 1, h1: 37.8, p1: 1.8, h2: 35.91, p2: 2.7, h3: 33.12, consol: 92.43, mule: 0.1, pool: 0.9, recip: 0.6}},
		{"fifo", 88.4, map[string]float64{s0: 30, s1: 30, s2: 39, p0: 1, h1: 37.8, h2: 37.7, p2: 0.8, h3: 36.8, consol: 96.1, mule: 0.1, pool: 0.9, recip: 0.5}},
	} {
		stixPath := filepath.Join(dir, w.model+".stix.json")
		out := mustRun(t, "trace", "--from", thief, "--rpc", url, "--chain", "eth", "--from-block", "0", "--internal",
			"--db", db, "--model", w.model, "--json", "--stix", stixPath)
		// The exchange's first taint came down the peel chain; its nearest
		// ether path is 3 hops (the ERC-20 leg, thief → mule → exchange,
		// is another asset, followed below with --asset).
		rep := checkRPCReport(t, out, w, "ETH", thief, ex, []string{thief, s2, h1, h2, h3, consol, ex}, 3, tol)
		for _, a := range []string{st.Dev, st.Victim.Hex(), st.Bystander.Hex(), st.TokenHex(), st.Relayer.Hex()} {
			if strings.Contains(out, a) {
				t.Errorf("%s report names %s, outside the laundering", w.model, a)
			}
		}
		checkTraceSTIX(t, stixPath, rep, thief)
	}

	// Incrementally: a first run reads up to a few blocks after the theft
	// and keeps its place in a state file beside the snapshot; a second
	// reads only the blocks after it. The second run's report is the one
	// a full load gives.
	var theftBlock uint64
	for _, tr := range st.Want {
		if tr.Tx == st.TheftTx {
			theftBlock = tr.Block
		}
	}
	if theftBlock == 0 {
		t.Fatal("the theft transaction is not among the staged transfers")
	}
	state, snap := filepath.Join(dir, "eth.state"), filepath.Join(dir, "eth.snap")
	incremental := func(extra ...string) string {
		t.Helper()
		return mustRun(t, append([]string{"trace", "--from", thief, "--rpc", url, "--chain", "eth", "--from-block", "0", "--internal",
			"--rpc-state", state, "--save-snapshot", snap, "--confirmations", "0", "--db", db, "--model", "haircut", "--json"}, extra...)...)
	}
	first := incremental("--to-block", strconv.FormatUint(theftBlock+4, 10))
	var part, whole, full taint.Report
	if err := json.Unmarshal([]byte(first), &part); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := bulwark(t, "trace", "--from", thief, "--rpc", url, "--chain", "eth", "--from-block", "0", "--internal",
		"--rpc-state", state, "--save-snapshot", snap, "--confirmations", "0", "--db", db, "--model", "haircut", "--json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, fmt.Sprintf("%d transfers loaded earlier", part.Graph.Transfers)) ||
		!strings.Contains(stderr, fmt.Sprintf("trace: blocks %d-", theftBlock+5)) {
		t.Errorf("the second run did not start from the first's snapshot and next block:\n%s", stderr)
	}
	second := incremental()
	if err := json.Unmarshal([]byte(second), &whole); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(mustRun(t, "trace", "--from", thief, "--rpc", url, "--chain", "eth", "--from-block", "0", "--internal",
		"--db", db, "--model", "haircut", "--json")), &full); err != nil {
		t.Fatal(err)
	}
	if part.Graph.Transfers >= full.Graph.Transfers || !reflect.DeepEqual(whole, full) {
		t.Errorf("incremental load: %d then %d transfers, report %+v; a full load: %d transfers, %+v",
			part.Graph.Transfers, whole.Graph.Transfers, whole.Totals, full.Graph.Transfers, full.Totals)
	}
	// A snapshot replaced behind the state's back is refused, not extended.
	mustRun(t, "trace", "--from", thief, "--rpc", url, "--chain", "eth", "--from-block", "0", "--to-block", strconv.FormatUint(theftBlock+2, 10),
		"--save-snapshot", snap, "--json")
	if _, _, err := bulwark(t, "trace", "--from", thief, "--rpc", url, "--chain", "eth", "--internal",
		"--rpc-state", state, "--save-snapshot", snap, "--json"); err == nil || !strings.Contains(err.Error(), "no longer describe the same blocks") {
		t.Errorf("a replaced snapshot: %v", err)
	}

	// The ERC-20 leg, followed with --asset: the thief's 2,500,000 USDT go
	// to the mule, which held 500,000 clean, and the mule pays the
	// exchange 2,400,000. Haircut: 2,400,000 · 2.5/3 = 2,000,000. FIFO:
	// the clean 500,000 leave first, so 1,900,000. Poison: all of it.
	tok := st.TokenHex()
	for _, w := range []rpcTraceWant{
		{"poison", 2_400_000, map[string]float64{mule: 2_500_000}},
		{"haircut", 2_000_000, map[string]float64{mule: 2_500_000}},
		{"fifo", 1_900_000, map[string]float64{mule: 2_500_000}},
	} {
		out := mustRun(t, "trace", "--from", thief, "--rpc", url, "--chain", "eth", "--from-block", "0",
			"--asset", tok, "--unit", "USDT:6", "--db", db, "--model", w.model, "--json")
		checkRPCReport(t, out, w, "USDT", thief, ex, []string{thief, mule, ex}, 2, 1e-6)
	}

	// Imported, the laundering indicators make the addresses screen as
	// listed.
	mustRun(t, "import", "--db", db, "--quiet", filepath.Join(dir, "haircut.stix.json"))
	screened := mustRun(t, "screen", "--db", db, "--json", p2)
	if !strings.Contains(screened, "Laundering address") || strings.Contains(screened, `"risk": "none"`) {
		t.Errorf("peel 2 does not screen as a laundering address:\n%s", screened)
	}
}

func TestTraceRPCBtcd(t *testing.T) {
	st := chaintest.StageBtc(t, chaintest.BtcdBinary(t))
	dir := t.TempDir()
	ex := st.Exchange.Addr
	db := exchangeStore(t, dir, ex)
	a := func(w *chaintest.Wallet) string { return w.Addr }
	thief, merged := a(st.Thief), a(st.Merged)
	// In BTC; see chaintest's btcstory.go for the derivations.
	haircut := func(sat float64) float64 { return sat * 3_674_991_000 / 4_049_990_000 / 1e8 }
	common := func(peelOff2, hop2, hop3, peelOff3, m float64) map[string]float64 {
		return map[string]float64{
			a(st.SplitA): 10, a(st.SplitB): 10, a(st.SplitC): 10, a(st.Peel0): 9.9998,
			a(st.Hop1): 9, a(st.PeelOff1): 0.9997,
			a(st.PeelOff2): peelOff2, a(st.Hop2): hop2, a(st.Hop3): hop3, a(st.PeelOff3): peelOff3, merged: m,
		}
	}
	path := []string{thief, st.Split.Node(), a(st.Peel0), st.Peel1.Node(), a(st.Hop1), st.Peel2.Node(), a(st.Hop2),
		st.Peel3.Node(), a(st.Hop3), st.Consolidation.Node(), merged, st.Deposit.Node(), ex}
	for _, w := range []rpcTraceWant{
		{"poison", 40.4997, common(1.5, 8.4999, 7.4999, 0.9999, 40.4998)},
		{"haircut", haircut(4_049_970_000), common(1.35, 7.64991, 6.74991, 0.89991, haircut(4_049_980_000))},
		{"fifo", 37.4997, common(0.5, 8.4999, 7.4999, 0.9999, 37.4998)},
	} {
		stixPath := filepath.Join(dir, w.model+".stix.json")
		out := mustRun(t, "trace", "--from", thief, "--rpc", st.Node.URL, "--chain", "btc",
			"--rpc-user", st.Node.User, "--rpc-password", st.Node.Password,
			"--from-block", strconv.FormatInt(st.TheftHeight, 10),
			"--db", db, "--model", w.model, "--json", "--stix", stixPath)
		rep := checkRPCReport(t, out, w, "BTC", thief, ex, path, 3, 1e-9)
		for _, addr := range []string{a(st.Miner), a(st.Victim), a(st.Clean), a(st.Bystander)} {
			if strings.Contains(out, addr) {
				t.Errorf("%s report names %s, outside the laundering", w.model, addr)
			}
		}
		checkTraceSTIX(t, stixPath, rep, thief)
		if strings.Contains(readFile(t, stixPath), graph.TxNodePrefix) {
			t.Errorf("%s STIX output has an indicator for a transaction node", w.model)
		}
	}

	// Incrementally, as with geth: two blocks past the theft, then the
	// rest; the report is a full load's.
	args := []string{"trace", "--from", thief, "--rpc", st.Node.URL, "--chain", "btc",
		"--rpc-user", st.Node.User, "--rpc-password", st.Node.Password,
		"--from-block", strconv.FormatInt(st.TheftHeight, 10), "--db", db, "--model", "haircut", "--json"}
	incremental := append(slices.Clone(args), "--rpc-state", filepath.Join(dir, "btc.state"),
		"--save-snapshot", filepath.Join(dir, "btc.snap"), "--confirmations", "0")
	var part, whole, full taint.Report
	for _, x := range []struct {
		rep  *taint.Report
		args []string
	}{
		{&part, append(slices.Clone(incremental), "--to-block", strconv.FormatInt(st.TheftHeight+2, 10))},
		{&whole, incremental},
		{&full, args},
	} {
		if err := json.Unmarshal([]byte(mustRun(t, x.args...)), x.rep); err != nil {
			t.Fatal(err)
		}
	}
	if part.Graph.Transfers >= full.Graph.Transfers || !reflect.DeepEqual(whole, full) {
		t.Errorf("incremental load: %d then %d transfers, report %+v; a full load: %d transfers, %+v",
			part.Graph.Transfers, whole.Graph.Transfers, whole.Totals, full.Graph.Transfers, full.Totals)
	}
}
