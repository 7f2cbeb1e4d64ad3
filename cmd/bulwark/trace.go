package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/bulwark-intel/bulwark/internal/chain/address"
	"github.com/bulwark-intel/bulwark/internal/chain/asset"
	"github.com/bulwark-intel/bulwark/internal/chain/graph"
	"github.com/bulwark-intel/bulwark/internal/chain/source"
	"github.com/bulwark-intel/bulwark/internal/chain/source/btcrpc"
	"github.com/bulwark-intel/bulwark/internal/chain/source/ethrpc"
	"github.com/bulwark-intel/bulwark/internal/chain/taint"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

func init() {
	register(command{name: "trace", usage: "trace stolen funds forward: trace --from ADDR|TX… --graph PATH|--rpc URL [--model haircut]", run: runTrace})
}

// listFlag collects a repeatable, comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

func runTrace(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "trace", "--from ADDR|TX… (--graph PATH… | --rpc URL) [flags]")
	var from, graphs listFlag
	fs.Var(&from, "from", "theft address or transaction hash (repeatable, comma-separated); ADDR=AMOUNT: AMOUNT of the address's funds (display unit) were stolen, and its payments carry them first")
	fs.Var(&graphs, "graph", "graph snapshot, or a source file or directory: ethereum-etl CSV, bitcoin-etl JSON lines, TronGrid JSON, ground-truth CSV, GEXF (repeatable)")
	rpcURL := fs.String("rpc", "", "node JSON-RPC URL to load the graph from (with --chain, --from-block, --to-block)")
	chain := fs.String("chain", "eth", "chain of --rpc: eth (and EVM chains) or btc")
	fromBlock := fs.Uint64("from-block", 0, "first block to load over --rpc")
	toBlock := fs.Uint64("to-block", 0, "last block to load over --rpc (0: the confirmed head)")
	rpcUser := fs.String("rpc-user", "", "Bitcoin RPC user")
	rpcPass := fs.String("rpc-password", os.Getenv("BULWARK_RPC_PASSWORD"), "Bitcoin RPC password (default $BULWARK_RPC_PASSWORD)")
	confirmations := fs.Int("confirmations", -1, "with --rpc: blocks below the node's head left unread because a reorganisation may still replace them; -1, the default, is none for a one-off load and, with --rpc-state, whose saved place must not be reorganised away, 12 on Ethereum and on Bitcoin the 5 that 6 confirmations leave")
	rpcState := fs.String("rpc-state", "", "with --rpc and --save-snapshot: a file recording the last block loaded; a later run loads only the blocks after it and adds them to the snapshot (use the same --internal each time)")
	internal := fs.Bool("internal", false, "with --rpc --chain eth: also load the ether contracts move inside transactions (mixer payouts, bridge releases), with debug_traceBlockByNumber; the node must serve its debug API")
	modelName := fs.String("model", "haircut", "taint model: poison, haircut or fifo")
	shortfall := fs.String("shortfall", "proportional", "haircut and fifo, a payment beyond what the graph shows an address holding: proportional (the missing funds are tainted in the share of all it received; for partial graphs) or clean (taint exactly conserved)")
	hops := fs.Int("hops", 10, "stop this many transfers from the theft: 1 to 250, or 0 for no limit")
	minValue := fs.Float64("min", 0, "drop taint under this value, in the display unit (see --unit)")
	threshold := fs.Float64("threshold", -1, "list (and make indicators of) addresses with at least this taint, in the display unit; -1, the default, takes --min")
	startFlag := fs.String("start", "", "time of the theft (RFC 3339 or Unix seconds; default: the first transfer of a seed)")
	endFlag := fs.String("end", "", "ignore transfers after this time")
	assetFlag := fs.String("asset", "auto", "asset to follow: auto (all when the graph has USD values; else the one asset the seeds send, or the native coin when they send several), native, all (needs USD values), or a token contract")
	unitFlag := fs.String("unit", "", "display unit NAME[:DECIMALS], e.g. ETH:18, BTC:8 (default: USD when the graph has USD values, else from the seed's chain)")
	db := fs.String("db", "", "store whose labelled wallets (exchanges, mixers, bridges) are terminals: a SQLite file or a postgres:// URL (default "+defaultDB+" when it exists)")
	limit := fs.Int("limit", 1000, "most addresses listed in the report")
	asJSON := fs.Bool("json", false, "print the JSON report instead of the summary")
	dotOut := fs.String("dot", "", "write a Graphviz DOT graph of the paths here")
	netOut := fs.String("graph-json", "", "write the node/edge JSON graph of the paths here")
	stixOut := fs.String("stix", "", "write a STIX 2.1 bundle (report and laundering-address indicators) here")
	tlpName := fs.String("tlp", "amber", "TLP of the STIX output")
	actor := fs.String("actor", "", "threat actor or intrusion set id the theft is attributed to (STIX output)")
	name := fs.String("name", "", "name of the theft for the STIX output, e.g. \"Harmony bridge theft\"")
	saveSnap := fs.String("save-snapshot", "", "write the loaded graph as a snapshot here, for fast reuse")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	from = append(from, rest...)
	if len(from) == 0 {
		return fmt.Errorf("%w: trace needs --from", errUsage)
	}
	if (len(graphs) == 0) == (*rpcURL == "") {
		return fmt.Errorf("%w: give --graph or --rpc (one of them)", errUsage)
	}
	if *rpcState != "" && (*rpcURL == "" || *saveSnap == "") {
		return fmt.Errorf("%w: --rpc-state goes with --rpc and --save-snapshot (the state says which blocks the snapshot holds)", errUsage)
	}
	var rule taint.Shortfall
	switch strings.ToLower(*shortfall) {
	case "proportional":
		rule = taint.Proportional
	case "clean":
		rule = taint.Clean
	default:
		return fmt.Errorf("%w: --shortfall %q: want proportional or clean", errUsage, *shortfall)
	}
	model, err := taint.ParseModel(*modelName)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	tlp, err := stix.ParseTLP(*tlpName)
	if err != nil {
		return fmt.Errorf("%w: --tlp: %v", errUsage, err)
	}
	start, err := parseWhen(*startFlag)
	if err != nil {
		return fmt.Errorf("%w: --start: %v", errUsage, err)
	}
	end, err := parseWhen(*endFlag)
	if err != nil {
		return fmt.Errorf("%w: --end: %v", errUsage, err)
	}

	if *hops < 0 || *hops > taint.MaxHopsLimit {
		return fmt.Errorf("%w: --hops %d: 1 to %d, or 0 for no limit", errUsage, *hops, taint.MaxHopsLimit)
	}
	if *db == "" {
		// The store the other commands use, when there is one: its
		// exchanges, mixers and bridges are the exits. Not created.
		if _, err := os.Stat(defaultDB); err == nil {
			*db = defaultDB
		}
	}

	t0 := time.Now()
	rpc := rpcSource{url: *rpcURL, chain: *chain, from: *fromBlock, to: *toBlock,
		user: *rpcUser, pass: *rpcPass, internal: *internal, confirmations: *confirmations}
	if *rpcState != "" {
		if rpc.inc, err = openIncrement(*rpcState, *saveSnap); err != nil {
			return err
		}
		defer rpc.inc.abandon()
	}
	g, err := loadGraph(ctx, e, graphs, rpc)
	if err != nil {
		return err
	}
	defer g.Close()
	fmt.Fprintf(e.stderr, "trace: %v loaded in %.1fs\n", g, time.Since(t0).Seconds())
	labels := taint.GraphLabels(g)
	if *saveSnap != "" {
		if rpc.inc != nil {
			if err := rpc.inc.prepare(g.NumEdges()); err != nil {
				return err
			}
		}
		if err := g.SaveSnapshot(*saveSnap); err != nil {
			return err
		}
		if rpc.inc != nil {
			if err := rpc.inc.commit(g.NumEdges()); err != nil {
				return err
			}
		}
	}
	if *db != "" {
		s, err := openStore(ctx, *db)
		if err != nil {
			return err
		}
		n, err := storeLabels(ctx, s, labels)
		s.Close()
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "trace: %d labelled service wallets from %s\n", n, *db)
	}

	seeds, err := traceSeeds(g, from)
	if err != nil {
		return err
	}
	oneAsset, asset, err := traceAsset(g, *assetFlag, seeds)
	if err != nil {
		return err
	}
	unit, err := displayUnit(g, *unitFlag, seeds)
	if err != nil {
		return fmt.Errorf("%w: --unit: %v", errUsage, err)
	}
	if oneAsset && asset != "" && *unitFlag == "" {
		unit = tokenUnit(asset)
	}
	if oneAsset {
		fmt.Fprintf(e.stderr, "trace: following %s only (--asset)\n", cmp.Or(asset, "the native coin"))
	}
	scale := math.Pow10(unit.Decimals)
	for i := range seeds {
		seeds[i].Amount *= scale
	}
	opt := taint.Options{Model: model, MaxHops: *hops, MinValue: *minValue * scale, Labels: labels, End: end, OneAsset: oneAsset, Asset: asset}
	opt.Shortfall = rule
	if *hops == 0 {
		opt.MaxHops = taint.Unlimited
	}
	opt.Start = start
	if start == 0 {
		opt.Start = firstSeedTime(g, seeds)
	}
	t1 := time.Now()
	res, err := taint.Trace(g, seeds, opt)
	if err != nil {
		return err
	}
	took := time.Since(t1)
	th := *threshold
	if th < 0 {
		th = *minValue
	}
	rep := taint.BuildReport(res, seeds, taint.ReportOptions{Unit: unit, Threshold: th * scale, Limit: *limit})
	fmt.Fprintf(e.stderr, "trace: %s over %d transfers in %.3fs: %d addresses tainted, %d listed\n",
		model, res.Scanned, took.Seconds(), rep.Totals.Tainted, rep.Totals.Listed)
	if rep.Totals.Unsent > 0 {
		fmt.Fprintf(e.stderr, "trace: the seeds with amounts did not pay out %s of them in the traced window; it stays with them\n",
			unit.Format(rep.Totals.Unsent))
	}

	if *dotOut != "" {
		if err := writeFileWith(*dotOut, rep.WriteDOT); err != nil {
			return err
		}
	}
	if *netOut != "" {
		if err := writeJSONFile(*netOut, rep.Net()); err != nil {
			return err
		}
	}
	if *stixOut != "" {
		// --limit shortens what is printed, not what is published: every
		// laundering address over the threshold becomes an indicator.
		full := rep
		if rep.Truncated > 0 {
			full = taint.BuildReport(res, seeds, taint.ReportOptions{Unit: unit, Threshold: th * scale, Limit: rep.Totals.Listed})
		}
		objs, err := taint.BuildSTIX(full, taint.STIXOptions{ActorRef: *actor, Name: *name, TLP: tlp})
		if err != nil {
			return err
		}
		var written int
		if err := writeFileWith(*stixOut, func(w io.Writer) (err error) { written, err = writeBundle(w, objs); return err }); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "trace: %d STIX objects written to %s (import with: bulwark import %s)\n", written, *stixOut, *stixOut)
	}
	if *asJSON {
		return rep.WriteJSON(e.stdout)
	}
	printTrace(e, rep)
	return nil
}

func printTrace(e *env, rep *taint.Report) {
	u := taint.Unit{Name: rep.Unit}
	fmt.Fprintf(e.stdout, "%s trace from %s: %s stolen, %d addresses tainted, %s reached services\n",
		rep.Model, strings.Join(rep.Seeds, ", "), u.Format(rep.Totals.Stolen), rep.Totals.Tainted, u.Format(rep.Totals.AtExits))
	if rep.Totals.Inferred > 0 {
		fmt.Fprintf(e.stdout, "  %s of the taint is inferred: addresses paid more than the graph shows them receiving, and the missing funds were taken as tainted in the share they had received (--shortfall clean to count them clean)\n",
			u.Format(rep.Totals.Inferred))
	}
	for _, f := range rep.Findings {
		fmt.Fprintln(e.stdout, "  "+f)
	}
	if len(rep.Addresses) > 0 {
		fmt.Fprintln(e.stdout, "laundering addresses (largest taint first):")
		for i, a := range rep.Addresses {
			if i == 20 {
				fmt.Fprintf(e.stdout, "  … %d more (--json for all)\n", len(rep.Addresses)-20+rep.Truncated)
				break
			}
			fmt.Fprintf(e.stdout, "  %-44s %14s  %2d hop(s)  first %s\n", a.Address, u.Format(a.Amount), a.Hops, a.First)
		}
	}
}

// rpcSource is a node to load the graph from; url "" means none.
type rpcSource struct {
	url, chain string
	from, to   uint64
	user, pass string     // Bitcoin
	internal   bool       // Ethereum: internal transfers too
	inc        *increment // nil: load from --from-block, keep no state
	// confirmations is the blocks below the head left unread; negative
	// takes none for a one-off load and the loader's default with state.
	confirmations int
}

// loadGraph opens a snapshot, reads source files, or reads blocks from a
// node. Labels the sources carry (ground-truth CSV) are kept in the graph.
func loadGraph(ctx context.Context, e *env, paths []string, rpc rpcSource) (*graph.Graph, error) {
	if len(paths) == 1 {
		if head, err := readHead(paths[0], 8); err == nil && graph.IsSnapshot(head) {
			return graph.OpenSnapshot(paths[0])
		}
	}
	b := graph.NewBuilder()
	sink := b
	if rpc.url != "" {
		var statePath string
		if rpc.inc != nil {
			statePath = rpc.inc.work
			if rpc.inc.base != "" {
				base, err := graph.OpenSnapshot(rpc.inc.base)
				if err != nil {
					return nil, fmt.Errorf("--rpc-state: the snapshot of the earlier runs: %w", err)
				}
				if err := rpc.inc.check(base); err != nil {
					base.Close()
					return nil, err
				}
				err = b.AddGraph(base)
				base.Close()
				if err != nil {
					return nil, fmt.Errorf("--rpc-state: %s: %w", rpc.inc.base, err)
				}
				fmt.Fprintf(e.stderr, "trace: %s: %d transfers loaded earlier\n", rpc.inc.base, b.Len())
			}
		}
		// ethrpc: 0 is its default, negative none; btcrpc: 1 is the tip,
		// 0 its default.
		ethConf, btcConf := -1, 1
		switch {
		case rpc.confirmations > 0:
			ethConf, btcConf = rpc.confirmations, rpc.confirmations+1
		case rpc.confirmations < 0 && rpc.inc != nil:
			ethConf, btcConf = 0, 0
		}
		switch strings.ToLower(rpc.chain) {
		case "eth", "ethereum", "evm":
			l, err := ethrpc.New(ethrpc.Config{URL: rpc.url, StatePath: statePath, From: rpc.from, To: rpc.to, Confirmations: ethConf, Internal: rpc.internal})
			if err != nil {
				return nil, err
			}
			st, err := l.Sync(ctx, sink)
			if err != nil {
				return nil, fmt.Errorf("rpc %s: %w", rpc.url, rpc.inc.named(err))
			}
			if st.Blocks == 0 {
				fmt.Fprintf(e.stderr, "trace: no block to read (the node's head, less --confirmations, is loaded already)\n")
			} else {
				fmt.Fprintf(e.stderr, "trace: blocks %d-%d: %d native, %d internal and %d token transfers\n", st.From, st.To, st.Native, st.Internal, st.Token)
			}
		case "btc", "bitcoin":
			if rpc.internal {
				return nil, fmt.Errorf("%w: --internal is for --chain eth (UTXO transactions have no internal transfers)", errUsage)
			}
			l, err := btcrpc.New(btcrpc.Config{URL: rpc.url, User: rpc.user, Password: rpc.pass, StartHeight: rpc.from, StopHeight: rpc.to, Confirmations: btcConf, StateFile: statePath})
			if err != nil {
				return nil, err
			}
			if _, err := l.Run(ctx, sink); err != nil {
				return nil, fmt.Errorf("rpc %s: %w", rpc.url, rpc.inc.named(err))
			}
		default:
			return nil, fmt.Errorf("%w: --chain %q (want eth or btc)", errUsage, rpc.chain)
		}
		return b.Build(), nil
	}
	var l source.Loader
	l.SkipUnknown = true
	// One load, so that a file named twice is read once, a traces.csv
	// supersedes a transactions.csv named apart from it, and overlapping
	// exports count a transfer once.
	st, err := l.LoadAll(ctx, paths, sink)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(e.stderr, "trace: %s: %v\n", strings.Join(paths, ", "), st)
	if st.Rekeyed {
		fmt.Fprintf(e.stderr, "trace:   files of one export format hold blocks in common: loaded again with every transfer keyed, so a transfer two files give counts once\n")
	}
	for _, pr := range st.Problems {
		fmt.Fprintf(e.stderr, "trace:   %v\n", pr)
	}
	for _, pr := range st.Ignored {
		if strings.HasPrefix(pr.Reason, "read already") {
			fmt.Fprintf(e.stderr, "trace:   %v\n", pr)
		}
	}
	// Amounts are compared in USD only when every transfer has a USD
	// value; a load that mixes USD-only rows (ground truth) with others
	// would count the former as nothing.
	if n, with := b.Len(), b.USDValued(); with > 0 && with < n {
		return nil, fmt.Errorf("%s: %d of %d transfers have a USD value and the rest none: amounts could not be compared (load the ground truth apart from other sources)", strings.Join(paths, ", "), with, n)
	}
	return b.Build(), nil
}

// storeLabels adds every wallet the store labels as a service.
func storeLabels(ctx context.Context, r store.Reader, labels map[string]taint.Label) (int, error) {
	n := 0
	q := store.Query{Types: []string{"indicator"}, Limit: store.MaxLimit}
	for {
		page, err := r.Query(ctx, q)
		if err != nil {
			return n, err
		}
		for _, rec := range page.Records {
			o := rec.Object
			if o.Revoked {
				continue
			}
			kind := ""
			for _, l := range o.Labels {
				if k := taint.ClassifyLabel(l); k != "" && k != "perpetrator" {
					kind = k
					break
				}
			}
			if kind == "" {
				continue
			}
			for _, pv := range stix.PatternValues(o.String("pattern")) {
				if !strings.HasPrefix(pv.Path, "cryptocurrency-wallet:") {
					continue
				}
				a := pv.Value
				if p, err := address.Parse(a); err == nil {
					a = p.Canonical
				}
				if _, ok := labels[a]; !ok {
					labels[a] = taint.Label{Kind: kind, Name: o.String("name")}
					n++
				}
			}
		}
		if !page.More {
			return n, nil
		}
		q.Cursor = page.Next
	}
}

// traceSeeds turns --from values into seeds: a 32-byte hash is a
// transaction, anything else an address (canonicalised when it parses),
// with ADDR=AMOUNT an address of which AMOUNT (in the display unit, scaled
// by the caller) was stolen.
func traceSeeds(g *graph.Graph, from []string) ([]taint.Seed, error) {
	var seeds []taint.Seed
	for _, f := range from {
		var amount float64
		if a, n, ok := strings.Cut(f, "="); ok {
			x, err := strconv.ParseFloat(n, 64)
			if err != nil || !(x > 0) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("%w: --from %s: the amount after = must be a positive number", errUsage, f)
			}
			f, amount = a, x
		}
		if taint.IsTxHash(f) {
			if amount > 0 {
				return nil, fmt.Errorf("%w: --from %s: a transaction seed carries its own amounts", errUsage, f)
			}
			if _, ok := g.LookupTx(f); ok {
				seeds = append(seeds, taint.Seed{Tx: f})
				continue
			}
		}
		a := f
		if _, ok := g.Lookup(a); !ok {
			if p, err := address.Parse(f); err == nil {
				a = p.Canonical
			}
		}
		if _, ok := g.Lookup(a); !ok {
			return nil, fmt.Errorf("--from %s: not in the graph", f)
		}
		seeds = append(seeds, taint.Seed{Address: a, Amount: amount})
	}
	return seeds, nil
}

// traceAsset picks the asset to follow. Base units of different assets do
// not add up, so without USD values a trace follows one: by default the one
// the seeds send (the native coin when they send several).
func traceAsset(g *graph.Graph, flag string, seeds []taint.Seed) (one bool, asset string, err error) {
	switch strings.ToLower(flag) {
	case "all":
		// Without USD values the amounts of different assets are in
		// different units (wei, token base units) and do not add up.
		if !g.HasUSD() && g.NumAssets() > 1 {
			return false, "", fmt.Errorf("%w: --asset all adds up different assets, which needs USD values; this graph has %d assets and none: follow one with --asset native or --asset TOKEN", errUsage, g.NumAssets())
		}
		return false, "", nil
	case "native":
		return true, "", nil
	case "auto", "":
	default:
		// Token contracts are keyed by their canonical address: lower
		// case for EVM chains, base58 as written for TRON.
		a := strings.ToLower(flag)
		if p, err := address.Parse(flag); err == nil {
			a = p.Canonical
		}
		if _, ok := g.LookupAsset(a); !ok {
			return false, "", fmt.Errorf("%w: --asset %s has no transfers in the graph", errUsage, flag)
		}
		return true, a, nil
	}
	if g.HasUSD() || g.NumAssets() <= 1 {
		return false, "", nil
	}
	sent := map[string]bool{}
	for _, s := range seeds {
		for _, e := range seedTransfers(g, s) {
			sent[g.AssetOf(e)] = true
		}
	}
	if len(sent) == 1 {
		for a := range sent {
			return true, a, nil
		}
	}
	return true, "", nil
}

// tokenUnit is the display unit of a followed token: a known token's
// symbol and decimals (package asset), else base units.
func tokenUnit(contract string) taint.Unit {
	if t, ok := asset.Known(contract); ok {
		return taint.Unit{Name: t.Symbol, Decimals: t.Decimals}
	}
	return taint.Unit{Name: "units of " + contract}
}

// seedTransfers are the transfers a seed starts from, in stream order: an
// address's payments, or a transaction's transfers.
func seedTransfers(g *graph.Graph, s taint.Seed) []uint32 {
	if s.Address != "" {
		if id, ok := g.Lookup(s.Address); ok {
			return g.Out(id)
		}
		return nil
	}
	if tx, ok := g.LookupTx(s.Tx); ok {
		return g.TxEdges(tx)
	}
	return nil
}

// firstSeedTime is the time of the first transfer of any seed.
func firstSeedTime(g *graph.Graph, seeds []taint.Seed) int64 {
	var t int64 = math.MaxInt64
	for _, s := range seeds {
		if es := seedTransfers(g, s); len(es) > 0 {
			t = min(t, g.Time(es[0]))
		}
	}
	if t == math.MaxInt64 {
		return 0
	}
	return t
}

func displayUnit(g *graph.Graph, flag string, seeds []taint.Seed) (taint.Unit, error) {
	if flag != "" {
		name, dec, ok := strings.Cut(flag, ":")
		u := taint.Unit{Name: name}
		if ok {
			d, err := strconv.Atoi(dec)
			if err != nil || d < 0 || d > 30 {
				return u, fmt.Errorf("decimals %q", dec)
			}
			u.Decimals = d
		}
		return u, nil
	}
	coin := taint.Unit{}
	for _, s := range seeds {
		a := s.Address
		if s.Tx != "" {
			// A transaction seed: the chain of the addresses it pays.
			if tx, ok := g.LookupTx(s.Tx); ok {
				for _, e := range g.TxEdges(tx) {
					if to := g.To(e); !g.IsTxNode(to) {
						a = g.Address(to)
						break
					}
				}
			}
		}
		if p, err := address.Parse(a); err == nil {
			switch {
			case p.Chain().IsEVM():
				coin = taint.Unit{Name: "ETH", Decimals: 18}
			case p.Has(address.BTC): // first: a legacy address is valid on Bitcoin Cash too
				coin = taint.Unit{Name: "BTC", Decimals: 8}
			case p.Has(address.LTC):
				coin = taint.Unit{Name: "LTC", Decimals: 8}
			case p.Has(address.BCH):
				coin = taint.Unit{Name: "BCH", Decimals: 8}
			case p.Has(address.TRX):
				coin = taint.Unit{Name: "TRX", Decimals: 6}
			}
		}
	}
	return taint.UnitFor(g, coin), nil
}

// parseWhen reads RFC 3339 or Unix seconds; "" is 0.
func parseWhen(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Unix(), nil
		}
	}
	return 0, errors.New("want RFC 3339 (2023-01-13T20:34:11Z) or Unix seconds")
}

func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	k, err := f.Read(b)
	return b[:k], err
}

// writeFileWith creates path and fills it with write.
func writeFileWith(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

func writeJSONFile(path string, v any) error {
	return writeFileWith(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}

// writeBundle writes objects as one bundle, with the TLP marking
// definitions they use so the file stands on its own.
func writeBundle(w io.Writer, objs []*stix.Object) (int, error) {
	bw := stix.NewBundleWriter(w)
	used := map[stix.TLP]bool{}
	for _, o := range objs {
		for _, ref := range o.ObjectMarkingRefs {
			if t, ok := stix.TLPOfMarking(ref); ok {
				used[t] = true
			}
		}
	}
	if err := writeMarkingDefs(bw, used); err != nil {
		return 0, err
	}
	for _, o := range objs {
		if err := bw.Write(o.Raw); err != nil {
			return 0, err
		}
	}
	// The objects and the TLP marking definitions they use.
	return len(objs) + len(used), bw.Close()
}
