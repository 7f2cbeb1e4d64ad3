// Package storetest is the contract suite every store.Store backend must
// pass. A backend's test calls Run with a function that opens a fresh, empty
// store; each subtest opens its own, so subtests never see each other's data.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

// Run runs the whole contract suite. open must return a fresh, empty store;
// Run closes it when the subtest ends (cleanups registered by open run after
// that, so open may remove the database in t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Collections", testCollections},
		{"PutOutcomes", testPutOutcomes},
		{"PutBatchVersions", testPutBatchVersions},
		{"PutTwoCollections", testPutTwoCollections},
		{"RemovalsCounted", testRemovalsCounted},
		{"PutMissingCollection", testPutMissingCollection},
		{"PutAtomicNil", testPutAtomicNil},
		{"PutAtomicCancel", testPutAtomicCancel},
		{"DateAddedSequential", testDateAddedSequential},
		{"DateAddedConcurrent", testDateAddedConcurrent},
		{"ConcurrentCollections", testConcurrentCollections},
		{"Precision", testPrecision},
		{"Get", testGet},
		{"QueryPaging", testQueryPaging},
		{"QueryAddedAfter", testQueryAddedAfter},
		{"QueryFilters", testQueryFilters},
		{"QueryVersionsPerCollection", testQueryVersionsPerCollection},
		{"QueryTLP", testQueryTLP},
		{"QueryInvalidCursor", testQueryInvalidCursor},
		{"QueryAllCollections", testQueryAllCollections},
		{"ByValue", testByValue},
		{"ByName", testByName},
		{"Edges", testEdges},
		{"LatestAndStats", testLatestAndStats},
		{"Explore", testExplore},
		{"RawRoundTrip", testRawRoundTrip},
		{"FarFuture", testFarFuture},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// base is the instant test timestamps count from, in milliseconds.
var base = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
func ts(ms int) string    { return stix.FormatTimestamp(at(ms)) }

// build makes an object from properties and insists it is valid STIX, so the
// suite never tests the store with input an importer would have refused.
func build(t testing.TB, props map[string]any) *stix.Object {
	t.Helper()
	o, err := stix.FromMap(props)
	if err != nil {
		t.Fatalf("building %v: %v", props["id"], err)
	}
	if err := stix.Validate(o); err != nil {
		t.Fatalf("building %v: invalid: %v", props["id"], err)
	}
	return o
}

func id(typ, key string) string { return stix.DeterministicID(typ, key) }

// sdo builds a STIX domain object of version ver (modified = base + ver ms).
func sdo(t testing.TB, typ, key string, ver int, props map[string]any) *stix.Object {
	t.Helper()
	m := map[string]any{
		"type": typ, "spec_version": "2.1", "id": id(typ, key),
		"created": ts(0), "modified": ts(ver),
	}
	for k, v := range props {
		m[k] = v
	}
	if (typ == "threat-actor" || typ == "intrusion-set" || typ == "malware" || typ == "tool") && m["name"] == nil {
		m["name"] = key
	}
	if typ == "malware" && m["is_family"] == nil {
		m["is_family"] = true
	}
	return build(t, m)
}

func indicator(t testing.TB, key string, ver int, pattern string) *stix.Object {
	t.Helper()
	return sdo(t, "indicator", key, ver, map[string]any{
		"pattern": pattern, "pattern_type": "stix", "valid_from": ts(0),
	})
}

func rel(t testing.TB, key string, ver int, kind, src, dst string, extra map[string]any) *stix.Object {
	t.Helper()
	p := map[string]any{"relationship_type": kind, "source_ref": src, "target_ref": dst}
	for k, v := range extra {
		p[k] = v
	}
	return sdo(t, "relationship", key, ver, p)
}

func sco(t testing.TB, typ, value string) *stix.Object {
	t.Helper()
	return build(t, map[string]any{"type": typ, "spec_version": "2.1", "id": id(typ, value), "value": value})
}

func items(objs ...*stix.Object) []store.PutItem {
	out := make([]store.PutItem, len(objs))
	for i, o := range objs {
		out[i] = store.PutItem{Object: o, Source: fmt.Sprintf("storetest:%d", i+1)}
	}
	return out
}

func newColl(t testing.TB, s store.Store, title string, tlp stix.TLP) store.Collection {
	t.Helper()
	c, err := s.CreateCollection(context.Background(), store.Collection{Title: title, DefaultTLP: tlp})
	if err != nil {
		t.Fatalf("creating collection %q: %v", title, err)
	}
	return c
}

func put(t testing.TB, s store.Store, coll string, objs ...*stix.Object) store.PutResult {
	t.Helper()
	res, err := s.Put(context.Background(), coll, items(objs...))
	if err != nil {
		t.Fatalf("put into %s: %v", coll, err)
	}
	if len(res.Outcomes) != len(objs) {
		t.Fatalf("put into %s: %d outcomes for %d objects", coll, len(res.Outcomes), len(objs))
	}
	return res
}

func wantOutcomes(t testing.TB, res store.PutResult, want ...store.Outcome) {
	t.Helper()
	if fmt.Sprint(res.Outcomes) != fmt.Sprint(want) {
		t.Fatalf("outcomes = %v, want %v", res.Outcomes, want)
	}
	var c store.PutResult
	for _, o := range want {
		c.Count(o)
	}
	if res.Created != c.Created || res.NewVersions != c.NewVersions || res.Unchanged != c.Unchanged || res.Stale != c.Stale {
		t.Fatalf("tallies = %d/%d/%d/%d, want %d/%d/%d/%d", res.Created, res.NewVersions, res.Unchanged, res.Stale,
			c.Created, c.NewVersions, c.Unchanged, c.Stale)
	}
}

// queryAll pages through q to the end and checks the paging invariants on
// the way: pages no longer than the limit, More and Next agreeing.
func queryAll(t testing.TB, s store.Store, q store.Query) []store.Record {
	t.Helper()
	var out []store.Record
	for pages := 0; ; pages++ {
		if pages > 100000 {
			t.Fatal("query: paging does not end")
		}
		p, err := s.Query(context.Background(), q)
		if err != nil {
			t.Fatalf("query %+v: %v", q, err)
		}
		limit := q.Limit
		if limit <= 0 {
			limit = store.DefaultLimit
		}
		if len(p.Records) > limit {
			t.Fatalf("query: page of %d records over limit %d", len(p.Records), limit)
		}
		if p.More != (p.Next != "") {
			t.Fatalf("query: More=%v but Next=%q", p.More, p.Next)
		}
		if p.More && len(p.Records) != limit {
			t.Fatalf("query: short page (%d of %d) with More", len(p.Records), limit)
		}
		out = append(out, p.Records...)
		if !p.More {
			return out
		}
		q.Cursor = p.Next
	}
}

// key names a version: id and version instant.
func key(r store.Record) string {
	return r.Object.ID + "@" + r.Version.Format(time.RFC3339Nano)
}

func okey(o *stix.Object) string {
	return o.ID + "@" + o.Version().Format(time.RFC3339Nano)
}

func keys(recs []store.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = key(r)
	}
	return out
}

func okeys(objs ...*stix.Object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = okey(o)
	}
	return out
}

// sameSet compares as sets, reporting duplicates on either side.
func sameSet(t testing.TB, what string, got, want []string) {
	t.Helper()
	g := map[string]int{}
	for _, k := range got {
		g[k]++
		if g[k] == 2 {
			t.Errorf("%s: duplicate %s", what, k)
		}
	}
	w := map[string]bool{}
	for _, k := range want {
		w[k] = true
		if g[k] == 0 {
			t.Errorf("%s: missing %s", what, k)
		}
	}
	for k := range g {
		if !w[k] {
			t.Errorf("%s: unexpected %s", what, k)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

func sameList(t testing.TB, what string, got, want []string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s:\n got  %v\n want %v", what, got, want)
	}
}

func wantErr(t testing.TB, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

// strictlyIncreasing checks DateAdded order of a collection's records.
func strictlyIncreasing(t testing.TB, recs []store.Record) {
	t.Helper()
	for i := 1; i < len(recs); i++ {
		if !recs[i].DateAdded.After(recs[i-1].DateAdded) {
			t.Fatalf("date_added not strictly increasing at %d: %v then %v", i,
				recs[i-1].DateAdded.Format(time.RFC3339Nano), recs[i].DateAdded.Format(time.RFC3339Nano))
		}
	}
}
