package taint

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// Unit says how to show the graph's value unit to people: USD, or a coin
// with its decimals (ETH 18, BTC 8). Base units are shown when unknown.
type Unit struct {
	Name     string
	Decimals int
}

// UnitFor picks the display unit of a graph: USD when it has USD values,
// else the given coin.
func UnitFor(g *graph.Graph, coin Unit) Unit {
	if g.HasUSD() {
		return Unit{Name: "USD"}
	}
	if coin.Name == "" {
		return Unit{Name: "base units"}
	}
	return coin
}

// Show converts a value in the graph's unit to the display unit.
func (u Unit) Show(v float64) float64 { return v / math.Pow10(u.Decimals) }

// Format renders a value already in the display unit with the unit's name
// ("12.4 ETH", "1200 USD").
func (u Unit) Format(x float64) string {
	var s string
	switch {
	case x >= 1000:
		s = strconv.FormatFloat(x, 'f', 0, 64)
	case x >= 1:
		s = strings.TrimRight(strings.TrimRight(strconv.FormatFloat(x, 'f', 2, 64), "0"), ".")
	case x > 0:
		s = strconv.FormatFloat(x, 'g', 3, 64)
	default:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	}
	return s + " " + u.Name
}

// ReportOptions choose what a report lists.
type ReportOptions struct {
	Unit Unit
	// Threshold is the least taint (in the graph's unit) for an address to
	// be listed; exits are always listed.
	Threshold float64
	// Limit caps the listed addresses (0: 1,000), largest taint first.
	Limit int
}

// Report is the JSON trace report.
type Report struct {
	Model     string       `json:"model"`
	Seeds     []string     `json:"seeds"`
	Start     string       `json:"start,omitempty"`
	End       string       `json:"end,omitempty"`
	MaxHops   int          `json:"max_hops"`
	Unit      string       `json:"unit"`
	Graph     ReportGraph  `json:"graph"`
	Totals    ReportTotals `json:"totals"`
	Findings  []string     `json:"findings"`
	Exits     []ExitGroup  `json:"exits"`
	Addresses []Tainted    `json:"addresses"`
	// Truncated counts tainted addresses over the threshold left out by Limit.
	Truncated int `json:"truncated,omitempty"`
}

// ReportGraph describes the graph traced.
type ReportGraph struct {
	Addresses int  `json:"addresses"`
	Transfers int  `json:"transfers"`
	Timed     bool `json:"timed"`
}

// ReportTotals sums the trace.
type ReportTotals struct {
	Stolen     float64 `json:"stolen"`      // what the seeds sent (address seeds) or the seed transfers carried
	Tainted    int     `json:"tainted"`     // addresses reached, seeds included
	Listed     int     `json:"listed"`      // addresses over the threshold
	AtExits    float64 `json:"at_exits"`    // taint that reached terminal services
	Dropped    float64 `json:"dropped"`     // dust under the minimum value
	BeyondHops float64 `json:"beyond_hops"` // taint that went on past the hop limit
	// Inferred is the taint the Proportional shortfall rule assumed for
	// payments beyond what the graph shows an address holding: part of the
	// amounts above, and the reason they can add up to more than Stolen.
	Inferred float64 `json:"inferred,omitempty"`
	// Unsent is what seeds with an amount did not pay out in the window.
	Unsent  float64 `json:"unsent,omitempty"`
	Scanned int64   `json:"edges_scanned"`
}

// Tainted is one address in the report.
type Tainted struct {
	Address string  `json:"address"`
	Amount  float64 `json:"amount"` // in the report's unit
	First   string  `json:"first_seen,omitempty"`
	// Hops is the fewest transfers, forward in time, over which taint
	// reached the address (with a hop limit; without one, the length of
	// Path). Path is the route by which taint reached it first, which can
	// be longer than Hops: a long route can arrive before a short one.
	Hops    int    `json:"hops"`
	Seed    bool   `json:"seed,omitempty"`
	Service string `json:"service,omitempty"`
	Kind    string `json:"kind,omitempty"`
	Path    []Step `json:"path,omitempty"`
}

// Step is one transfer on a path.
type Step struct {
	From   string  `json:"from"`
	To     string  `json:"to"`
	Tx     string  `json:"tx,omitempty"`
	Block  uint64  `json:"block,omitempty"`
	Time   string  `json:"time,omitempty"`
	Asset  string  `json:"asset,omitempty"`
	Amount string  `json:"amount"` // exact, in the asset's base units
	Value  float64 `json:"value"`  // in the report's unit
}

// ExitGroup gathers the deposits at one service.
type ExitGroup struct {
	Service  string    `json:"service"`
	Kind     string    `json:"kind"`
	Amount   float64   `json:"amount"`
	Deposits []Tainted `json:"deposits"`
}

func fmtTime(t int64, timed bool) string {
	if !timed || t <= 0 {
		return ""
	}
	return time.Unix(t, 0).UTC().Format(time.RFC3339)
}

// BuildReport turns a result into a report.
func BuildReport(r *Result, seeds []Seed, opt ReportOptions) *Report {
	g := r.Graph
	timed := g.Timed()
	u := opt.Unit
	if u.Name == "" {
		u = UnitFor(g, Unit{})
	}
	if opt.Limit <= 0 {
		opt.Limit = 1000
	}
	rep := &Report{
		Model:   r.Model.String(),
		MaxHops: r.Options.MaxHops,
		Unit:    u.Name,
		Graph:   ReportGraph{Addresses: g.NumNodes(), Transfers: g.NumEdges(), Timed: timed},
	}
	for _, s := range seeds {
		rep.Seeds = append(rep.Seeds, cmp.Or(s.Address, s.Tx))
	}
	rep.Start = fmtTime(r.Options.Start, timed)
	rep.End = fmtTime(r.Options.End, timed)
	rep.Totals = ReportTotals{
		Tainted:    r.Len(),
		Dropped:    u.Show(r.Dropped),
		BeyondHops: u.Show(r.Beyond),
		Inferred:   u.Show(r.Inferred),
		Unsent:     u.Show(r.Unsent),
		Scanned:    r.Scanned,
	}
	tainted := func(n Node) Tainted {
		t := Tainted{Address: n.Address, Amount: u.Show(n.Amount), First: fmtTime(n.First, timed), Hops: n.Hops, Seed: n.Seed}
		if n.Label != nil {
			t.Service, t.Kind = n.Label.Name, n.Label.Kind
		}
		for _, e := range r.Path(n.ID) {
			t.Path = append(t.Path, step(g, e, u))
		}
		return t
	}
	var listed []Node
	groups := map[string]*ExitGroup{}
	for i := range r.Len() {
		n := r.At(i)
		switch {
		case n.Seed:
			rep.Totals.Stolen += u.Show(n.Amount)
		case n.Label != nil && n.Label.Terminal():
			eg := groups[n.Label.Name]
			if eg == nil {
				eg = &ExitGroup{Service: n.Label.Name, Kind: n.Label.Kind}
				groups[n.Label.Name] = eg
			}
			eg.Amount += u.Show(n.Amount)
			eg.Deposits = append(eg.Deposits, tainted(n))
			rep.Totals.AtExits += u.Show(n.Amount)
		case n.Amount >= opt.Threshold && !g.IsTxNode(n.ID):
			listed = append(listed, n)
		}
	}
	rep.Totals.Stolen += u.Show(r.t.seedDust - r.t.seedCovered)
	for e := range r.t.seedEdge {
		// Funds paid to a source are counted when they leave the sources,
		// and a seed transaction a source sent is in what it sent.
		if !r.t.source[g.To(e)] && !r.t.source[g.From(e)] {
			rep.Totals.Stolen += u.Show(r.t.seedValue(e))
		}
	}
	rep.Totals.Listed = len(listed)
	slices.SortStableFunc(listed, func(a, b Node) int { return cmp.Compare(b.Amount, a.Amount) })
	if len(listed) > opt.Limit {
		rep.Truncated = len(listed) - opt.Limit
		listed = listed[:opt.Limit]
	}
	for _, n := range listed {
		rep.Addresses = append(rep.Addresses, tainted(n))
	}
	for _, eg := range groups {
		slices.SortStableFunc(eg.Deposits, func(a, b Tainted) int { return cmp.Compare(b.Amount, a.Amount) })
		rep.Exits = append(rep.Exits, *eg)
	}
	slices.SortFunc(rep.Exits, func(a, b ExitGroup) int {
		return cmp.Or(cmp.Compare(b.Amount, a.Amount), cmp.Compare(a.Service, b.Service))
	})
	rep.Findings = findings(rep, u, u.Show(opt.Threshold))
	return rep
}

func step(g *graph.Graph, e uint32, u Unit) Step {
	ed := g.Edge(e)
	return Step{
		From:   g.Address(ed.From),
		To:     g.Address(ed.To),
		Tx:     ed.Tx,
		Block:  ed.Block,
		Time:   fmtTime(ed.Time, g.Timed()),
		Asset:  ed.Asset,
		Amount: ed.Amount.String(),
		Value:  u.Show(g.Value(e)),
	}
}

// findings writes the sentences an analyst reads first: where the money
// went out, and where it entered mixers and bridges.
func findings(rep *Report, u Unit, threshold float64) []string {
	var out []string
	hopWord := func(h int) string {
		if h == 1 {
			return "1 hop"
		}
		return fmt.Sprintf("%d hops", h)
	}
	for _, eg := range rep.Exits {
		for _, d := range eg.Deposits {
			when := ""
			if d.First != "" {
				t, _ := time.Parse(time.RFC3339, d.First)
				when = " at " + t.Format("2006-01-02 15:04 UTC")
			}
			amount := u.Format(d.Amount)
			switch eg.Kind {
			case "mixer":
				out = append(out, fmt.Sprintf("%s entered %s (%s)%s, %s from the theft", amount, eg.Service, d.Address, when, hopWord(d.Hops)))
			case "bridge":
				out = append(out, fmt.Sprintf("%s bridged via %s (%s)%s, %s from the theft", amount, eg.Service, d.Address, when, hopWord(d.Hops)))
			default:
				out = append(out, fmt.Sprintf("%s reached %s %s %s%s, %s from the theft", amount, eg.Service, depositWord(eg.Kind), d.Address, when, hopWord(d.Hops)))
			}
		}
	}
	if len(rep.Exits) == 0 {
		out = append(out, "no tainted funds reached a labelled service")
	}
	if threshold > 0 {
		out = append(out, fmt.Sprintf("%d laundering addresses received at least %s of the funds", rep.Totals.Listed, u.Format(threshold)))
	} else {
		out = append(out, fmt.Sprintf("%d laundering addresses received some of the funds", rep.Totals.Listed))
	}
	return out
}

func depositWord(kind string) string {
	if kind == "exchange" {
		return "deposit"
	}
	return kind
}

// WriteJSON writes the report as indented JSON.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// NetGraph is the node/edge JSON a UI draws: the union of the listed
// addresses' and exits' paths.
type NetGraph struct {
	Nodes []NetNode `json:"nodes"`
	Edges []NetEdge `json:"edges"`
}

// NetNode is one address in a NetGraph.
type NetNode struct {
	ID      string  `json:"id"`
	Amount  float64 `json:"amount"`
	Hops    int     `json:"hops"`
	Seed    bool    `json:"seed,omitempty"`
	Service string  `json:"service,omitempty"`
	Kind    string  `json:"kind,omitempty"`
}

// NetEdge is one transfer in a NetGraph.
type NetEdge struct {
	Source string  `json:"source"`
	Target string  `json:"target"`
	Tx     string  `json:"tx,omitempty"`
	Time   string  `json:"time,omitempty"`
	Amount string  `json:"amount"`
	Asset  string  `json:"asset,omitempty"`
	Value  float64 `json:"value"`
}

// Net returns the report's paths as one node/edge graph.
func (rep *Report) Net() NetGraph {
	var ng NetGraph
	nodes := map[string]int{}
	edges := map[[3]string]bool{}
	addNode := func(t Tainted) {
		if i, ok := nodes[t.Address]; ok {
			if ng.Nodes[i].Amount == 0 {
				ng.Nodes[i] = NetNode{ID: t.Address, Amount: t.Amount, Hops: t.Hops, Seed: t.Seed, Service: t.Service, Kind: t.Kind}
			}
			return
		}
		nodes[t.Address] = len(ng.Nodes)
		ng.Nodes = append(ng.Nodes, NetNode{ID: t.Address, Amount: t.Amount, Hops: t.Hops, Seed: t.Seed, Service: t.Service, Kind: t.Kind})
	}
	addPath := func(t Tainted) {
		for i, s := range t.Path {
			if _, ok := nodes[s.From]; !ok {
				addNode(Tainted{Address: s.From, Hops: i, Seed: i == 0})
			}
			if _, ok := nodes[s.To]; !ok {
				addNode(Tainted{Address: s.To, Hops: i + 1})
			}
			k := [3]string{s.From, s.To, s.Tx + "/" + s.Amount + "/" + s.Asset}
			if !edges[k] {
				edges[k] = true
				ng.Edges = append(ng.Edges, NetEdge{Source: s.From, Target: s.To, Tx: s.Tx, Time: s.Time, Amount: s.Amount, Asset: s.Asset, Value: s.Value})
			}
		}
	}
	for _, t := range rep.Addresses {
		addNode(t)
	}
	for _, eg := range rep.Exits {
		for _, d := range eg.Deposits {
			addNode(d)
		}
	}
	for _, t := range rep.Addresses {
		addPath(t)
	}
	for _, eg := range rep.Exits {
		for _, d := range eg.Deposits {
			addPath(d)
		}
	}
	return ng
}

// WriteDOT writes the report's paths as a Graphviz digraph: seeds red,
// exits by kind, edges labelled with value and time.
func (rep *Report) WriteDOT(w io.Writer) error {
	ng := rep.Net()
	var b strings.Builder
	b.WriteString("digraph trace {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\", fontsize=10];\n")
	for _, n := range ng.Nodes {
		label := n.ID
		if len(label) > 14 {
			label = label[:8] + "…" + label[len(label)-4:]
		}
		attrs := ""
		switch {
		case n.Seed:
			attrs = ", style=filled, fillcolor=\"#f4a6a6\""
		case n.Kind == "exchange":
			attrs = ", style=filled, fillcolor=\"#a6c8f4\""
		case n.Kind == "mixer" || n.Kind == "bridge":
			attrs = ", style=filled, fillcolor=\"#f4e2a6\""
		}
		if n.Service != "" {
			label = n.Service + "\\n" + label
		}
		fmt.Fprintf(&b, "  %s [label=%s%s];\n", dotQuote(n.ID), dotQuote(label+"\\n"+strconv.FormatFloat(n.Amount, 'g', 4, 64)+" "+rep.Unit), attrs)
	}
	for _, e := range ng.Edges {
		fmt.Fprintf(&b, "  %s -> %s [label=%s];\n", dotQuote(e.Source), dotQuote(e.Target),
			dotQuote(strconv.FormatFloat(e.Value, 'g', 4, 64)+" "+rep.Unit+"\\n"+e.Time))
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// dotQuote quotes an identifier for DOT; addresses and labels come from
// hostile data, so quotes and backslashes other than our \n are escaped.
func dotQuote(s string) string {
	s = strings.ReplaceAll(s, `"`, `\"`)
	s = strings.ReplaceAll(s, "\n", " ")
	return `"` + s + `"`
}
