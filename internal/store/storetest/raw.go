package storetest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
	"github.com/bulwark-intel/bulwark/internal/store/sqlstore"
)

var (
	markings = []string{"", stix.TLP2Clear, stix.TLP2Green, stix.TLP2Amber, stix.TLP2AmberStrict, stix.TLP2Red, stix.TLP1White, stix.TLP1Red}
	idents   = []string{"identity--00000000-0000-4000-8000-00000000000a", "identity--00000000-0000-4000-8000-00000000000b"}
)

// RawMatchesQuery is the property of sqlstore's QueryRaw result cache: for
// random scoped queries, paged through with cursors and added_after, it
// returns exactly the records (date_added and stored JSON) that Query
// returns, while objects are put and removed, half of the writes through
// cli, a second handle on server's database (as the command line writes
// to the database a running server reads). A cache that missed a write,
// or served a record the scope hides, fails here. Both backends run it.
func RawMatchesQuery(t *testing.T, server, cli *sqlstore.Store) {
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(7, 11))
	var colls []store.Collection
	for i, def := range []stix.TLP{stix.TLPAmber, stix.TLPClear} {
		c, err := server.CreateCollection(ctx, store.Collection{Title: fmt.Sprintf("c%d", i), DefaultTLP: def})
		if err != nil {
			t.Fatal(err)
		}
		colls = append(colls, c)
	}
	day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	object := func(n, ver int) *stix.Object {
		typ := []string{"indicator", "malware"}[n%2]
		m := map[string]any{
			"type": typ, "spec_version": "2.1", "id": fmt.Sprintf("%s--00000000-0000-4000-8000-%012d", typ, n),
			"created": stix.FormatTimestamp(day), "modified": stix.FormatTimestamp(day.Add(time.Duration(ver) * time.Hour)),
			"name": fmt.Sprintf("n%d v%d", n, ver),
		}
		if typ == "indicator" {
			m["pattern"], m["pattern_type"], m["valid_from"] = "[ipv4-addr:value = '10.0.0.1']", "stix", stix.FormatTimestamp(day)
		} else {
			m["is_family"] = false
		}
		if mk := markings[rnd.IntN(len(markings))]; mk != "" {
			m["object_marking_refs"] = []string{mk}
		}
		if rnd.IntN(2) == 0 {
			m["created_by_ref"] = idents[rnd.IntN(len(idents))]
		}
		if rnd.IntN(3) == 0 {
			m["x_bulwark_recipients"] = []string{idents[rnd.IntN(len(idents))]}
		}
		o, err := stix.FromMap(m)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	writer := func() *sqlstore.Store {
		if rnd.IntN(2) == 0 {
			return cli
		}
		return server
	}
	var shapes []store.Query
	for range 6 {
		q := store.Query{
			Versions: store.Versions{Mode: store.VersionMode(rnd.IntN(3))},
			MaxTLP:   stix.TLP(rnd.IntN(int(stix.TLPRed) + 1)),
		}
		if rnd.IntN(3) == 0 {
			q.Types = []string{[]string{"indicator", "malware"}[rnd.IntN(2)]}
		}
		if rnd.IntN(4) == 0 {
			q.SpecVersions = []string{"2.1"}
		}
		if rnd.IntN(2) == 0 {
			q.RedFor = idents[rnd.IntN(len(idents))]
		}
		shapes = append(shapes, q)
	}
	// RED visible to one identity only, and to everybody, over everything.
	shapes = append(shapes, store.Query{RedFor: idents[0]}, store.Query{RedFor: idents[1]}, store.Query{MaxTLP: stix.TLPAmber, RedFor: idents[0]})
	var added []time.Time
	for step := range 400 {
		c := colls[rnd.IntN(len(colls))]
		switch r := rnd.IntN(10); {
		case r < 4:
			var items []store.PutItem
			for range 1 + rnd.IntN(6) {
				items = append(items, store.PutItem{Object: object(rnd.IntN(30), rnd.IntN(4))})
			}
			if _, err := writer().Put(ctx, c.ID, items); err != nil {
				t.Fatal(err)
			}
		case r < 5:
			n := rnd.IntN(30)
			id := fmt.Sprintf("%s--00000000-0000-4000-8000-%012d", []string{"indicator", "malware"}[n%2], n)
			if _, err := writer().Remove(ctx, c.ID, id, store.Versions{Mode: store.VersionMode(rnd.IntN(3))}); err != nil {
				t.Fatal(err)
			}
		default:
			// A few query shapes, so cached lists are reused across writes.
			q := shapes[rnd.IntN(len(shapes))]
			q.Collection, q.Limit = c.ID, 1+rnd.IntN(7)
			if rnd.IntN(2) == 0 {
				q.Collection = c.Title
			}
			if len(added) > 0 && rnd.IntN(3) == 0 {
				q.AddedAfter = added[rnd.IntN(len(added))]
			}
			want := pageAll(t, q, func(q store.Query) ([]rawRec, store.Page) {
				p, err := server.Query(ctx, q)
				if err != nil {
					t.Fatalf("step %d: Query %+v: %v", step, q, err)
				}
				var out []rawRec
				for _, r := range p.Records {
					out = append(out, rawRec{r.DateAdded, r.Object.Raw})
					added = append(added, r.DateAdded)
				}
				return out, p
			})
			got := pageAll(t, q, func(q store.Query) ([]rawRec, store.Page) {
				var out []rawRec
				qctx := ctx
				if rnd.IntN(2) == 0 {
					qctx = server.WithRequest(ctx) // as the TAXII server asks
				}
				p, err := server.QueryRaw(qctx, q, func(at time.Time, raw []byte) error {
					out = append(out, rawRec{at, bytes.Clone(raw)})
					return nil
				})
				if err != nil {
					t.Fatalf("step %d: QueryRaw %+v: %v", step, q, err)
				}
				return out, p
			})
			if rnd.IntN(2) == 0 {
				server.WaitBuilds() // the next query of this shape is served from the cache
			}
			if len(got) != len(want) {
				t.Fatalf("step %d: query %+v: QueryRaw gave %d records, Query %d", step, q, len(got), len(want))
			}
			for i := range want {
				if !got[i].at.Equal(want[i].at) || !bytes.Equal(got[i].raw, want[i].raw) {
					t.Fatalf("step %d: query %+v: record %d differs:\n raw   %s %s\n query %s %s", step, q, i, got[i].at, got[i].raw, want[i].at, want[i].raw)
				}
			}
		}
	}
}

type rawRec struct {
	at  time.Time
	raw []byte
}

// pageAll follows cursors to the end, checking that no page exceeds the
// limit.
func pageAll(t *testing.T, q store.Query, page func(store.Query) ([]rawRec, store.Page)) []rawRec {
	t.Helper()
	var all []rawRec
	for range 1000 {
		recs, p := page(q)
		if len(recs) > q.Limit {
			t.Fatalf("query %+v: %d records over limit %d", q, len(recs), q.Limit)
		}
		all = append(all, recs...)
		if !p.More {
			return all
		}
		q.Cursor = p.Next
	}
	t.Fatalf("query %+v: paging does not end", q)
	return nil
}
