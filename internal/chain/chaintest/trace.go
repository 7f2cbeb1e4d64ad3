package chaintest

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
	"github.com/bulwark-intel/bulwark/internal/chain/taint"
)

// modelWant is the taint one address receives under poison, haircut and
// FIFO (indexed by taint.Model), in the graph's base units; untainted
// means the model leaves the address clean.
type modelWant [3]float64

const untainted = -1

var models = []taint.Model{taint.Poison, taint.Haircut, taint.FIFO}

// ExchangeName is the service name the checks give the exchange's label.
const ExchangeName = "Story Exchange"

// traceCase is what a trace of a staged story must find.
type traceCase struct {
	name   string
	seed   string
	start  int64
	exit   string            // the exchange deposit, labelled as an exchange
	names  map[string]string // story names of addresses, for messages
	stolen modelWant         // what the thief paid out after the theft
	// want holds every address a model may taint other than the seed and
	// UTXO transaction nodes: anything else tainted is an error.
	want  map[string]modelWant
	hops  map[string]int
	paths map[string][]string // the first-taint path, seed first, as addresses
	// outside are addresses in the graph that no model may taint.
	outside []string
}

// theftTime is the time of the first transfer of tx.
func theftTime(t testing.TB, transfers []graph.Transfer, tx string) int64 {
	t.Helper()
	for _, tr := range transfers {
		if tr.Tx == tx {
			if tr.Time == 0 {
				t.Fatalf("theft %s has no time", tx)
			}
			return tr.Time
		}
	}
	t.Fatalf("the theft %s is not among the %d transfers read", tx, len(transfers))
	return 0
}

// near compares float taint with what the hand computation gives: the
// tracer works in float64 over amounts of up to 10^23 wei, so only
// rounding may differ.
func near(got, want float64) bool {
	return math.Abs(got-want) <= 1e-12*math.Max(math.Abs(want), 1)
}

func checkTrace(t testing.TB, g *graph.Graph, c traceCase) {
	t.Helper()
	name := func(a string) string {
		if n, ok := c.names[a]; ok {
			return n
		}
		if strings.HasPrefix(a, graph.TxNodePrefix) && len(a) > 15 {
			return a[:15] + "…"
		}
		return a
	}
	labels := map[string]taint.Label{c.exit: {Kind: "exchange", Name: ExchangeName}}
	for _, a := range append([]string{c.seed, c.exit}, c.outside...) {
		if _, ok := g.Lookup(a); !ok {
			t.Fatalf("%s: %s (%s) is not in the graph", c.name, name(a), a)
		}
	}
	for _, model := range models {
		res, err := taint.Trace(g, []taint.Seed{{Address: c.seed}}, taint.Options{
			Model: model, Start: c.start, MaxHops: 10, Labels: labels,
		})
		if err != nil {
			t.Fatalf("%s %s: %v", c.name, model, err)
		}
		where := func(a string) string { return fmt.Sprintf("%s %s: %s", c.name, model, name(a)) }
		seed, _ := g.Lookup(c.seed)
		if n, ok := res.Node(seed); !ok || !n.Seed || !near(n.Amount, c.stolen[model]) {
			t.Errorf("%s: seed %+v (tainted %v), want it to have sent %.0f", where(c.seed), n, ok, c.stolen[model])
		}
		if res.Dropped != 0 || res.Beyond != 0 || res.Inferred != 0 {
			t.Errorf("%s %s: dropped %g, beyond the hop limit %g, inferred %g; want none", c.name, model, res.Dropped, res.Beyond, res.Inferred)
		}
		// Nothing outside the story.
		for i := range res.Len() {
			n := res.At(i)
			if n.Seed || g.IsTxNode(n.ID) {
				continue
			}
			if w, ok := c.want[n.Address]; !ok || w[model] == untainted {
				t.Errorf("%s tainted with %.0f, want clean", where(n.Address), n.Amount)
			}
		}
		for _, a := range c.outside {
			id, _ := g.Lookup(a)
			if n, ok := res.Node(id); ok {
				t.Errorf("%s (outside the story) tainted with %.0f", where(a), n.Amount)
			}
		}
		for a, w := range c.want {
			id, inGraph := g.Lookup(a)
			if !inGraph {
				t.Errorf("%s: not in the graph", where(a))
				continue
			}
			n, ok := res.Node(id)
			switch {
			case w[model] == untainted && ok:
				t.Errorf("%s tainted with %.0f, want clean", where(a), n.Amount)
			case w[model] == untainted:
			case !ok:
				t.Errorf("%s not tainted, want %.0f", where(a), w[model])
			default:
				if !near(n.Amount, w[model]) {
					t.Errorf("%s taint %.0f, want %.0f", where(a), n.Amount, w[model])
				}
				if h, ok := c.hops[a]; ok && n.Hops != h {
					t.Errorf("%s %d hops, want %d", where(a), n.Hops, h)
				}
			}
		}
		// The exchange is the one exit, with the model's amount.
		exits := res.Exits()
		if len(exits) != 1 || exits[0].Address != c.exit || exits[0].Label == nil || exits[0].Label.Kind != "exchange" {
			t.Errorf("%s %s: exits %+v, want only the exchange %s", c.name, model, exits, c.exit)
		} else if !near(exits[0].Amount, c.want[c.exit][model]) {
			t.Errorf("%s: exit amount %.0f, want %.0f", where(c.exit), exits[0].Amount, c.want[c.exit][model])
		}
		for a, want := range c.paths {
			if c.want[a][model] == untainted {
				continue
			}
			id, _ := g.Lookup(a)
			var got []string
			for i, e := range res.Path(id) {
				if i == 0 {
					got = append(got, g.Address(g.From(e)))
				}
				got = append(got, g.Address(g.To(e)))
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s path\n  %s\nwant\n  %s", where(a), names(got, name), names(want, name))
			}
		}
	}

	// The label is what stops the taint: traced without it, poison runs
	// through the exchange to whoever it paid (its hot wallet, when the
	// graph has the sweep) and reports no exit.
	res, err := taint.Trace(g, []taint.Seed{{Address: c.seed}}, taint.Options{Model: taint.Poison, Start: c.start, MaxHops: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Exits()) != 0 {
		t.Errorf("%s unlabelled: exits %+v", c.name, res.Exits())
	}
	exit, _ := g.Lookup(c.exit)
	for _, beyond := range receivers(g, exit) {
		if _, ok := res.Node(beyond); !ok {
			t.Errorf("%s unlabelled: %s, paid by the exchange, is not tainted", c.name, name(g.Address(beyond)))
		}
	}
}

// receivers lists who v paid, looking through UTXO transaction nodes.
func receivers(g *graph.Graph, v graph.NodeID) []graph.NodeID {
	var out []graph.NodeID
	for _, e := range g.Out(v) {
		w := g.To(e)
		if g.IsTxNode(w) {
			out = append(out, receivers(g, w)...)
			continue
		}
		out = append(out, w)
	}
	return out
}

func names(path []string, name func(string) string) string {
	s := make([]string, len(path))
	for i, a := range path {
		s[i] = name(a)
	}
	return strings.Join(s, " → ")
}
