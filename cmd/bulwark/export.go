package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

func init() {
	register(command{name: "export", usage: "write a STIX 2.1 bundle of a collection or query, at most --max-tlp (default green)", run: runExport})
}

func runExport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "export", "[--collection C] [--type T,…] [--id ID,…] [--max-tlp green] [--versions last|first|all] [--out FILE]")
	db := dbFlag(fs)
	coll := fs.String("collection", "", "collection id or title (default: every collection)")
	types := fs.String("type", "", "comma-separated STIX types")
	ids := fs.String("id", "", "comma-separated object ids")
	maxTLP := fs.String("max-tlp", "green", "most restrictive TLP exported; amber+strict and red only when named here")
	versions := fs.String("versions", "last", "which versions: last, first or all")
	out := fs.String("out", "-", "output file, - for stdout")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: export takes no arguments (got %q)", errUsage, pos[0])
	}
	tlp, err := stix.ParseTLP(*maxTLP)
	if err != nil {
		return fmt.Errorf("%w: --max-tlp: %v", errUsage, err)
	}
	q := store.Query{Collection: *coll, Types: splitList(*types), IDs: splitList(*ids), MaxTLP: tlp, Limit: store.MaxLimit}
	switch *versions {
	case "last":
	case "first":
		q.Versions.Mode = store.First
	case "all":
		q.Versions.Mode = store.All
	default:
		return fmt.Errorf("%w: --versions must be last, first or all", errUsage)
	}
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	if q.Collection != "" {
		c, err := s.Collection(ctx, q.Collection)
		if err != nil {
			return err
		}
		q.Collection = c.ID
	}
	var w io.Writer = e.stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	n, err := export(ctx, s, q, w)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "exported %d objects at TLP:%s or below\n", n, strings.ToUpper(tlp.String()))
	return nil
}

// export streams the query's results as one bundle, adding the TLP marking
// definitions the objects reference so the bundle stands on its own. The
// store applies MaxTLP in the query; an object over it is never read.
func export(ctx context.Context, r store.Reader, q store.Query, w io.Writer) (int, error) {
	bw := stix.NewBundleWriter(w)
	used := map[stix.TLP]bool{}
	seen := map[string]bool{} // an object in two collections is written once
	for {
		page, err := r.Query(ctx, q)
		if err != nil {
			return bw.Count(), err
		}
		for _, rec := range page.Records {
			// Belt and braces: the query already filtered on the level.
			if q.MaxTLP != stix.TLPNone && rec.EffectiveTLP > q.MaxTLP {
				return bw.Count(), fmt.Errorf("export: store returned %s at TLP:%s over the limit", rec.Object.ID, rec.EffectiveTLP)
			}
			key := rec.Object.ID + "|" + rec.Version.String()
			if seen[key] {
				continue
			}
			seen[key] = true
			if rec.Object.Type == "marking-definition" {
				if t, ok := stix.TLPOfMarking(rec.Object.ID); ok {
					used[t] = false // the store's own copy is written
					seen["tlp|"+t.String()] = true
				}
			}
			for _, ref := range rec.Object.ObjectMarkingRefs {
				if t, ok := stix.TLPOfMarking(ref); ok && ref == t.MarkingID() && !seen["tlp|"+t.String()] {
					used[t] = true
				}
			}
			if err := bw.Write(rec.Object.Raw); err != nil {
				return bw.Count(), err
			}
		}
		if !page.More {
			break
		}
		q.Cursor = page.Next
	}
	// A level whose definition the store held was written with it and
	// cleared from used above.
	if err := writeMarkingDefs(bw, used); err != nil {
		return bw.Count(), err
	}
	return bw.Count(), bw.Close()
}

// writeMarkingDefs writes the TLP marking definitions used names, in TLP
// order, so a bundle carries the definitions its objects refer to.
func writeMarkingDefs(bw *stix.BundleWriter, used map[stix.TLP]bool) error {
	for t := stix.TLPClear; t <= stix.TLPRed; t++ {
		if used[t] {
			if err := bw.Write(stix.TLPMarkingDefinition(t).Raw); err != nil {
				return err
			}
		}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
