package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/lookup"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

func init() {
	register(command{name: "search", usage: "which indicators, actors and reports mention an IP, domain, hash or wallet", run: runSearch})
}

func runSearch(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "search", "[--json] [--max-tlp T] VALUE…")
	db := dbFlag(fs)
	asJSON := fs.Bool("json", false, "JSON output")
	maxTLP := fs.String("max-tlp", "red", "show nothing above this TLP")
	values, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(values) == 0 {
		fs.Usage()
		return fmt.Errorf("%w: search needs a VALUE", errUsage)
	}
	tlp, err := stix.ParseTLP(*maxTLP)
	if err != nil {
		return fmt.Errorf("%w: --max-tlp: %v", errUsage, err)
	}
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	var results []*lookup.ValueResult
	found := false
	for _, v := range values {
		res, err := lookup.Value(ctx, s, v, lookup.Filter{MaxTLP: tlp})
		if err != nil {
			return fmt.Errorf("searching %q: %w", v, err)
		}
		found = found || res.Found()
		results = append(results, res)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if len(results) == 1 {
			return enc.Encode(results[0])
		}
		return enc.Encode(results)
	}
	for i, res := range results {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		printValue(e.stdout, res)
	}
	if !found {
		return errNotFound
	}
	return nil
}

// errNotFound makes a search with no match exit non-zero, for scripts.
var errNotFound = fmt.Errorf("nothing found")

func printValue(w io.Writer, r *lookup.ValueResult) {
	fmt.Fprintf(w, "%s", r.Value)
	if r.Normalized != r.Value {
		fmt.Fprintf(w, " (as %s)", r.Normalized)
	}
	if !r.Found() {
		fmt.Fprintln(w, ": not found")
		return
	}
	fmt.Fprintf(w, ": %d indicator(s)\n", len(r.Indicators))
	for _, ind := range r.Indicators {
		fmt.Fprintf(w, "  %-12s %s  [TLP:%s]\n", ind.Type, ind.Name, strings.ToUpper(ind.TLP))
		if ind.Pattern != "" && ind.Pattern != ind.Name {
			fmt.Fprintf(w, "               %s\n", ind.Pattern)
		}
		if ind.Source != "" {
			fmt.Fprintf(w, "               from %s\n", ind.Source)
		}
	}
	section(w, "actors", r.Actors)
	section(w, "reports", r.Reports)
	section(w, "related", r.Related)
}

func section(w io.Writer, title string, refs []lookup.Ref) {
	if len(refs) == 0 {
		return
	}
	fmt.Fprintf(w, "  %s:\n", title)
	for _, r := range refs {
		line := "    " + r.Name
		if r.ExternalID != "" {
			line = "    " + r.ExternalID + " " + r.Name
		}
		if r.Via != "" {
			line += "  (" + r.Via + ")"
		}
		fmt.Fprintln(w, line)
	}
}
