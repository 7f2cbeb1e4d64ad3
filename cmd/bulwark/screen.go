package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
	"github.com/bulwark-intel/bulwark/internal/chain/screen"
	"github.com/bulwark-intel/bulwark/internal/chain/source"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

func init() {
	register(command{name: "screen", usage: "screen crypto addresses against DPRK-linked and sanctioned wallets, directly and through a transaction graph: screen ADDR… | --file F", run: runScreen})
}

func runScreen(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "screen", "[--db PATH] [--json] [--graph PATH [--hops 3]] ADDR… | --file F")
	db := dbFlag(fs)
	file := fs.String("file", "", "file with one address a line (- for stdin)")
	asJSON := fs.Bool("json", false, "JSON output")
	exposure := exposureFlags(fs)
	addrs, err := parse(fs, args)
	if err != nil {
		return err
	}
	graphPath, expOpts, err := exposure()
	if err != nil {
		return err
	}
	if *file != "" {
		more, err := readAddressFile(e, *file)
		if err != nil {
			return err
		}
		addrs = append(addrs, more...)
	}
	if len(addrs) == 0 {
		return fmt.Errorf("%w: screen needs addresses or --file", errUsage)
	}
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	ix := screen.NewIndex(s, screen.IndexOptions{RebuildEvery: -1})
	if _, err := ix.Update(ctx); err != nil {
		return err
	}
	g, err := attachScreenGraph(ctx, ix, graphPath, expOpts)
	if err != nil {
		return err
	}
	if g != nil {
		defer g.Close()
	}
	// The local operator reads its own store: everything it holds.
	pol := screen.Operator(stix.TLPNone)
	var all []screen.Result
	for start := 0; start < len(addrs); start += screen.MaxBatch {
		res, err := ix.Screen(ctx, pol, addrs[start:min(start+screen.MaxBatch, len(addrs))])
		if err != nil {
			return err
		}
		all = append(all, res...)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(all)
	}
	for _, r := range all {
		printScreen(e, r)
	}
	return nil
}

func readAddressFile(e *env, name string) ([]string, error) {
	f := e.stdin
	if name != "-" {
		fh, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		f = fh
	}
	var out []string
	br := bufio.NewReaderSize(f, 64<<10)
	for n := 1; ; n++ {
		line, long, err := readLine(br, maxAddressLine)
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff") // a byte-order mark
		}
		switch l := strings.TrimSpace(line); {
		case long:
			// No address is this long; it is screened as what it is, an
			// invalid input, and the rest of the file still is.
			out = append(out, fmt.Sprintf("%.40s… (line %d: over %d bytes)", l, n, maxAddressLine))
		case l != "" && !strings.HasPrefix(l, "#"):
			out = append(out, l)
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", name, n, err)
		}
	}
}

// maxAddressLine bounds a line of an address file.
const maxAddressLine = 64 << 10

// readLine reads one line without its end, keeping at most max bytes of
// it; long says it was longer.
func readLine(br *bufio.Reader, max int) (line string, long bool, err error) {
	var b []byte
	total := 0
	for {
		chunk, err := br.ReadSlice('\n')
		body := bytes.TrimSuffix(chunk, []byte("\n")) // only a line's last chunk has one
		total += len(body)
		if room := max - len(b); room > 0 {
			b = append(b, body[:min(len(body), room)]...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return strings.TrimSuffix(string(b), "\r"), total > max, err
	}
}

// exposureFlags adds the indirect-exposure flags (screen, serve); the
// function it returns reads them once the flags are parsed.
func exposureFlags(fs *flag.FlagSet) func() (graphPath string, o screen.ExposureOptions, err error) {
	graphPath := fs.String("graph", "", "transaction graph for indirect exposure: a snapshot, or one source file or directory (ethereum-etl CSV, bitcoin-etl JSON lines, TronGrid JSON, ground-truth CSV, GEXF)")
	hops := fs.Int("hops", 3, "with --graph: hops walked back from each address")
	high := fs.Float64("high", 0.10, "with --graph: share of inflow from listed addresses from which exposure is high")
	medium := fs.Float64("medium", 0.01, "with --graph: share from which exposure is medium")
	budget := fs.Int("budget", 200_000, "with --graph: transfers examined per address at most")
	return func() (string, screen.ExposureOptions, error) {
		if *graphPath == "" {
			return "", screen.ExposureOptions{}, nil // the exposure flags mean nothing without a graph
		}
		if *budget < 1 {
			return "", screen.ExposureOptions{}, fmt.Errorf("%w: --budget: at least 1", errUsage)
		}
		if *hops < 1 || *hops > 16 {
			return "", screen.ExposureOptions{}, fmt.Errorf("%w: --hops: 1 to 16", errUsage)
		}
		if *high <= 0 || *high > 1 || *medium <= 0 || *medium > *high {
			return "", screen.ExposureOptions{}, fmt.Errorf("%w: want 0 < --medium <= --high <= 1", errUsage)
		}
		return *graphPath, screen.ExposureOptions{MaxHops: *hops, High: *high, Medium: *medium, Budget: *budget}, nil
	}
}

// attachScreenGraph loads the graph at path, when one is given, and lets
// ix use it for indirect exposure; the caller closes the graph.
func attachScreenGraph(ctx context.Context, ix *screen.Index, path string, o screen.ExposureOptions) (*graph.Graph, error) {
	if path == "" {
		return nil, nil
	}
	g, err := screenGraph(ctx, path)
	if err != nil {
		return nil, err
	}
	ix.AttachGraph(g, o)
	return g, nil
}

// screenGraph opens a snapshot, or loads source files into a graph.
func screenGraph(ctx context.Context, path string) (*graph.Graph, error) {
	if head, err := readHead(path, 8); err == nil && graph.IsSnapshot(head) {
		return graph.OpenSnapshot(path)
	}
	b := graph.NewBuilder()
	if _, err := source.Load(ctx, path, b); err != nil {
		return nil, err
	}
	return b.Build(), nil
}

func printScreen(e *env, r screen.Result) {
	if r.Error != "" {
		fmt.Fprintf(e.stdout, "%-8s %s  invalid: %s\n", "-", r.Input, r.Error)
		return
	}
	fmt.Fprintf(e.stdout, "%-8s %s  (%s)\n", strings.ToUpper(r.Risk), r.Canonical, strings.Join(r.Chains, "/"))
	for _, reason := range r.Reasons {
		if x := reason.Indirect; x != nil {
			line := fmt.Sprintf("         %s: %.3g%% of its inflow traces back to %s (%s", reason.Risk, 100*x.Share, x.Listed, reason.Name)
			if reason.Actor != "" {
				line += ", attributed to " + reason.Actor
			}
			line += ")"
			if x.Truncated {
				line += ", at least (work budget reached)"
			}
			fmt.Fprintf(e.stdout, "%s [TLP:%s]\n", line, strings.ToUpper(reason.TLP))
			for _, h := range x.Path {
				amt := h.Amount
				if h.USD > 0 {
					amt = fmt.Sprintf("%.2f USD", h.USD)
				} else if h.Asset != "" {
					amt += " of " + h.Asset
				}
				fmt.Fprintf(e.stdout, "           %s → %s  %s  %s  tx %s\n", h.From, h.To, amt, h.Time, h.Tx)
			}
			continue
		}
		line := "         " + reason.Risk + ": " + reason.Name
		if reason.Actor != "" {
			line += " — attributed to " + reason.Actor
		}
		if reason.Source != "" {
			line += " — listed by " + reason.Source
		}
		if reason.Note != "" {
			line += " (" + reason.Note + ")"
		}
		fmt.Fprintf(e.stdout, "%s [TLP:%s]\n", line, strings.ToUpper(reason.TLP))
	}
}
