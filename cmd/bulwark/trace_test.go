package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
	"github.com/bulwark-intel/bulwark/internal/chain/taint"
	"github.com/bulwark-intel/bulwark/internal/corpus"
)

// TestTraceCommand traces the Harmony bridge ground truth from one hacker
// address, writes every output, imports the STIX into a store and checks
// that a laundering address then screens as listed.
func TestTraceCommand(t *testing.T) {
	gt := corpus.Path(t, "chain/mftracer_ground_truth/HB-HB.csv")
	dir := t.TempDir()
	stixPath, dot, net, snap := filepath.Join(dir, "t.json"), filepath.Join(dir, "t.dot"), filepath.Join(dir, "n.json"), filepath.Join(dir, "g.snap")
	out := mustRun(t, "trace", "--from", "0x7A017E5E9672BC994DCB1A2A27D853C9C629F7C3", "--graph", gt, "--hops", "0",
		"--model", "haircut", "--threshold", "1000", "--stix", stixPath, "--dot", dot, "--graph-json", net,
		"--save-snapshot", snap, "--name", "Harmony bridge theft", "--tlp", "green", "--json")
	var rep taint.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	if rep.Unit != "USD" || rep.Totals.Stolen < 400000 || len(rep.Exits) == 0 || len(rep.Addresses) == 0 {
		t.Fatalf("report %+v", rep.Totals)
	}
	// Binance 14 receives most of this source's funds in the ground truth.
	if rep.Exits[0].Service != "Binance 14" || rep.Exits[0].Kind != "exchange" {
		t.Errorf("first exit %s (%s)", rep.Exits[0].Service, rep.Exits[0].Kind)
	}
	for _, p := range []string{dot, net, snap} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", p, err)
		}
	}
	// The snapshot traces the same.
	out2 := mustRun(t, "trace", "--from", "0x7a017e5e9672bc994dcb1a2a27d853c9c629f7c3", "--graph", snap, "--hops", "0", "--threshold", "1000", "--json")
	var rep2 taint.Report
	if err := json.Unmarshal([]byte(out2), &rep2); err != nil {
		t.Fatal(err)
	}
	if rep2.Totals.Listed != rep.Totals.Listed || rep2.Totals.AtExits != rep.Totals.AtExits {
		t.Errorf("snapshot trace differs: %+v vs %+v", rep2.Totals, rep.Totals)
	}

	db := filepath.Join(dir, "s.db")
	mustRun(t, "import", "--db", db, "--quiet", stixPath)
	laundering := rep.Addresses[0].Address
	screened := mustRun(t, "screen", "--db", db, "--json", laundering)
	if !strings.Contains(screened, "Laundering address: Harmony bridge theft") || strings.Contains(screened, `"risk": "none"`) {
		t.Errorf("laundering address does not screen as listed:\n%s", screened)
	}
	// An exchange deposit is never published as a laundering indicator.
	patterns := indicatorPatterns(t, stixPath)
	for _, p := range patterns {
		if strings.Contains(p, rep.Exits[0].Deposits[0].Address) {
			t.Errorf("exchange deposit made into an indicator: %s", p)
		}
	}
	if indicators := len(patterns); indicators != len(rep.Addresses)+1 {
		t.Errorf("%d indicators for %d listed addresses and one seed", indicators, len(rep.Addresses))
	}
}

// TestTraceLimitAndShortfall: --limit shortens the report but not the
// STIX output, and the taint the default shortfall rule infers is counted
// apart, and is none under --shortfall clean, where the exits cannot
// receive more than was stolen.
func TestTraceLimitAndShortfall(t *testing.T) {
	gt := corpus.Path(t, "chain/mftracer_ground_truth/HB-HB.csv")
	stixPath := filepath.Join(t.TempDir(), "t.json")
	const seed = "0x7a017e5e9672bc994dcb1a2a27d853c9c629f7c3"
	trace := func(from string, args ...string) taint.Report {
		t.Helper()
		out := mustRun(t, append([]string{"trace", "--from", from, "--graph", gt,
			"--hops", "0", "--threshold", "1000", "--json"}, args...)...)
		var rep taint.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("report: %v\n%s", err, out)
		}
		return rep
	}
	rep := trace(seed, "--limit", "5", "--stix", stixPath)
	if len(rep.Addresses) != 5 || rep.Totals.Listed <= 5 || rep.Truncated != rep.Totals.Listed-5 {
		t.Fatalf("limit 5: %d listed, %d shown, %d truncated", rep.Totals.Listed, len(rep.Addresses), rep.Truncated)
	}
	if indicators := len(indicatorPatterns(t, stixPath)); indicators != rep.Totals.Listed+1 {
		t.Errorf("%d indicators for %d addresses over the threshold and one seed", indicators, rep.Totals.Listed)
	}

	// The ground truth shows laundering addresses paying out more than it
	// shows them receiving: the default rule infers taint for that.
	if rep.Totals.Inferred <= 0 {
		t.Errorf("proportional: nothing inferred (%+v)", rep.Totals)
	}
	// A seed address with an amount: its payments carry that much, first.
	part := trace(seed+"=100000", "--shortfall", "clean")
	if math.Abs(part.Totals.Stolen-100000) > 1e-6 || part.Totals.AtExits > 100000*(1+1e-9) || part.Totals.AtExits <= 0 ||
		!slices.Equal(part.Seeds, []string{seed}) {
		t.Errorf("seed with 100000 USD: totals %+v, seeds %v", part.Totals, part.Seeds)
	}
	clean := trace(seed, "--shortfall", "clean")
	if clean.Totals.Inferred != 0 {
		t.Errorf("clean: inferred %v", clean.Totals.Inferred)
	}
	if clean.Totals.AtExits > clean.Totals.Stolen*(1+1e-9) || clean.Totals.AtExits <= 0 {
		t.Errorf("clean: %v at exits of %v stolen", clean.Totals.AtExits, clean.Totals.Stolen)
	}
}

func TestTraceUsage(t *testing.T) {
	gt := corpus.Path(t, "chain/mftracer_ground_truth/HB-HB.csv")
	for _, args := range [][]string{
		{"trace"},
		{"trace", "--from", "0x00"},
		{"trace", "--from", "0x00", "--graph", "x", "--rpc", "http://127.0.0.1:1"},
		{"trace", "--from", "0x00", "--graph", "x", "--model", "lifo"},
		{"trace", "--from", "0x00", "--graph", "x", "--shortfall", "dirty"},
		{"trace", "--from", "0x00=abc", "--graph", gt},
		{"trace", "--from", "0x00=-5", "--graph", gt},
		{"trace", "--from", "0x00", "--rpc", "http://127.0.0.1:1", "--rpc-state", "s.json"},
		{"trace", "--from", "0x00", "--graph", "x", "--rpc-state", "s.json", "--save-snapshot", "g.snap"},
		{"trace", "--from", "0x00", "--graph", gt, "--hops", "300"},
		{"trace", "--from", "0x00", "--graph", gt, "--hops", "-2"},
	} {
		if _, _, err := bulwark(t, args...); !errors.Is(err, errUsage) {
			t.Errorf("%v: %v", args, err)
		}
	}
	if _, _, err := bulwark(t, "trace", "--from", "0x0000000000000000000000000000000000000001", "--graph", gt); err == nil || !strings.Contains(err.Error(), "not in the graph") {
		t.Errorf("unknown seed: %v", err)
	}
}

// indicatorPatterns returns the patterns of the indicators in a STIX
// bundle file.
func indicatorPatterns(t *testing.T, path string) []string {
	t.Helper()
	var bundle struct {
		Objects []struct{ Type, Pattern string }
	}
	if err := json.Unmarshal([]byte(readFile(t, path)), &bundle); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range bundle.Objects {
		if o.Type == "indicator" {
			out = append(out, o.Pattern)
		}
	}
	return out
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The bookkeeping of --rpc-state, without a node: a first run has no base;
// a state needs its snapshot and the record of what that held; a snapshot
// that changed since is refused; commit moves the loader's copy into place
// and records the new count; abandon drops the copy.
func TestIncrementState(t *testing.T) {
	dir := t.TempDir()
	state, snap := filepath.Join(dir, "s.json"), filepath.Join(dir, "g.snap")
	inc, err := openIncrement(state, snap)
	if err != nil || inc.base != "" {
		t.Fatalf("first run: %+v, %v", inc, err)
	}
	b := graph.NewBuilder()
	for i := range 3 {
		if err := b.Add(graph.Transfer{Tx: fmt.Sprintf("0x%064x", i+1), Time: int64(i + 1), From: "a", To: "b", Amount: graph.AmountFromUint64(1)}); err != nil {
			t.Fatal(err)
		}
	}
	g := b.Build()
	if err := g.SaveSnapshot(snap); err != nil {
		t.Fatal(err)
	}
	// The loader saved its place in the copy; the snapshot is saved.
	if err := os.WriteFile(inc.work, []byte(`{"next":7}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := inc.commit(g.NumEdges()); err != nil {
		t.Fatal(err)
	}
	if readFile(t, state) != `{"next":7}` || readFile(t, inc.meta) != `{"transfers":3}` {
		t.Fatalf("after commit: state %q, record %q", readFile(t, state), readFile(t, inc.meta))
	}
	if _, err := os.Stat(inc.work); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the loader's copy outlived commit: %v", err)
	}

	// The next run starts from a copy of the state and checks the base.
	inc, err = openIncrement(state, snap)
	if err != nil || inc.base != snap || inc.transfers != 3 || readFile(t, inc.work) != `{"next":7}` {
		t.Fatalf("second run: %+v, %v", inc, err)
	}
	if err := inc.check(g); err != nil {
		t.Errorf("matching snapshot refused: %v", err)
	}
	other := graph.NewBuilder()
	if err := other.Add(graph.Transfer{Tx: "0x" + strings.Repeat("9", 64), Time: 9, From: "c", To: "d", Amount: graph.AmountFromUint64(1)}); err != nil {
		t.Fatal(err)
	}
	if err := inc.check(other.Build()); err == nil || !strings.Contains(err.Error(), "no longer describe the same blocks") {
		t.Errorf("a snapshot of another size: %v", err)
	}
	inc.abandon()
	if _, err := os.Stat(inc.work); !errors.Is(err, os.ErrNotExist) || readFile(t, state) != `{"next":7}` {
		t.Errorf("abandon: copy %v, state %q", err, readFile(t, state))
	}

	// A state without its record, or without its snapshot, is refused.
	os.Remove(inc.meta)
	if _, err := openIncrement(state, snap); err == nil {
		t.Error("a state without the snapshot's record accepted")
	}
	if _, err := openIncrement(state, filepath.Join(dir, "missing.snap")); err == nil {
		t.Error("a state without its snapshot accepted")
	}
}

// A run killed at any step of its commit leaves files the next run takes
// up: the new snapshot with its state when the snapshot was replaced, the
// old ones when it was not.
func TestIncrementCrashRecovery(t *testing.T) {
	snapOf := func(t *testing.T, path string, n int) {
		t.Helper()
		b := graph.NewBuilder()
		for i := range n {
			if err := b.Add(graph.Transfer{Tx: fmt.Sprintf("0x%064x", i+1), Time: int64(i + 1), From: "a", To: "b", Amount: graph.AmountFromUint64(1)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Build().SaveSnapshot(path); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name      string
		stop      int // steps of the second run's commit done: 1 journal, 2 snapshot, 3 state moved, 4 count; 5: 2, then abandon
		wantState string
		wantN     int
	}{
		{"after the journal", 1, `{"next":7}`, 3},
		{"after the snapshot", 2, `{"next":9}`, 5},
		{"after moving the state", 3, `{"next":9}`, 5},
		{"after the count", 4, `{"next":9}`, 5},
		// The snapshot replaced, then the commit failed and the run
		// abandoned its copy: the journal keeps it for the next run.
		{"abandoned after the snapshot", 5, `{"next":9}`, 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			state, snap := filepath.Join(dir, "s.json"), filepath.Join(dir, "g.snap")
			// A first run that completed: 3 transfers, next block 7.
			inc, err := openIncrement(state, snap)
			if err != nil {
				t.Fatal(err)
			}
			snapOf(t, snap, 3)
			os.WriteFile(inc.work, []byte(`{"next":7}`), 0o600)
			if err := inc.prepare(3); err != nil {
				t.Fatal(err)
			}
			if err := inc.commit(3); err != nil {
				t.Fatal(err)
			}
			// A second run loads up to block 9 (5 transfers) and dies.
			inc, err = openIncrement(state, snap)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(inc.work, []byte(`{"next":9}`), 0o600)
			steps := []func(){
				func() { inc.prepare(5) },
				func() { snapOf(t, snap, 5) },
				func() { os.Rename(inc.work, inc.state) },
				func() { writeMeta(inc.meta, 5) },
			}
			if c.stop == 5 {
				steps[0]()
				steps[1]()
				inc.abandon()
			} else {
				for _, step := range steps[:c.stop] {
					step()
				}
			}
			// The next run.
			inc, err = openIncrement(state, snap)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			g, err := graph.OpenSnapshot(snap)
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			if err := inc.check(g); err != nil || inc.transfers != c.wantN || readFile(t, state) != c.wantState || readFile(t, inc.work) != c.wantState {
				t.Errorf("check %v, %d transfers, state %q, copy %q; want %d and %q", err, inc.transfers, readFile(t, state), readFile(t, inc.work), c.wantN, c.wantState)
			}
			if _, err := os.Stat(inc.pending); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the journal outlived recovery: %v", err)
			}
		})
	}
}
