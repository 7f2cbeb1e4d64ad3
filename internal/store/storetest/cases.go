package storetest

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

var ctx = context.Background()

func testCollections(t *testing.T, s store.Store) {
	first, err := s.CreateCollection(ctx, store.Collection{Title: "zeta"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uuid.Parse(first.ID); err != nil {
		t.Errorf("generated id %q is not a UUID", first.ID)
	}
	if first.DefaultTLP != stix.TLPAmber {
		t.Errorf("default TLP = %v, want amber", first.DefaultTLP)
	}
	if first.Created.IsZero() {
		t.Error("Created not set")
	}

	explicit := store.Collection{
		ID: "91a7b528-80eb-42ed-a74d-c6fbd5a26116", Title: "DPRK crypto theft",
		Description: "wallets and exchanges", DefaultTLP: stix.TLPGreen, Public: true,
	}
	second, err := s.CreateCollection(ctx, explicit)
	if err != nil {
		t.Fatal(err)
	}
	if second.ID != explicit.ID || second.DefaultTLP != stix.TLPGreen || !second.Public || second.Description != explicit.Description {
		t.Errorf("created %+v, want fields of %+v", second, explicit)
	}
	third := newColl(t, s, "alpha", stix.TLPRed)

	for _, look := range []string{second.ID, second.Title} {
		got, err := s.Collection(ctx, look)
		if err != nil {
			t.Fatalf("Collection(%q): %v", look, err)
		}
		if !sameColl(got, second) {
			t.Errorf("Collection(%q) = %+v, want %+v", look, got, second)
		}
	}
	_, err = s.Collection(ctx, "no such collection")
	wantErr(t, "missing collection", err, store.ErrNotFound)
	_, err = s.Collection(ctx, uuid.NewString())
	wantErr(t, "missing collection id", err, store.ErrNotFound)

	_, err = s.CreateCollection(ctx, store.Collection{Title: "zeta"})
	wantErr(t, "duplicate title", err, store.ErrCollectionExists)
	_, err = s.CreateCollection(ctx, store.Collection{ID: explicit.ID, Title: "other"})
	wantErr(t, "duplicate id", err, store.ErrCollectionExists)
	for _, bad := range []store.Collection{
		{ID: "not-a-uuid", Title: "bad"},
		{ID: "91a7b528-80eb-42ed-a74d", Title: "bad"},
		{Title: ""},
		{Title: "   "},
	} {
		_, err = s.CreateCollection(ctx, bad)
		wantErr(t, fmt.Sprintf("bad collection %+v", bad), err, store.ErrInvalidCollection)
	}

	list, err := s.ListCollections(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, c := range list {
		titles = append(titles, c.Title)
	}
	sameList(t, "collections in creation order", titles, []string{"zeta", "DPRK crypto theft", "alpha"})
	if !sameColl(list[2], third) {
		t.Errorf("listed %+v, created %+v", list[2], third)
	}
}

func sameColl(a, b store.Collection) bool {
	ca, cb := a.Created, b.Created
	a.Created, b.Created = time.Time{}, time.Time{}
	return a == b && ca.Equal(cb)
}

func testPutOutcomes(t *testing.T, s store.Store) {
	c := newColl(t, s, "outcomes", 0)
	v1 := indicator(t, "ind", 100, "[domain-name:value = 'v1.example.com']")
	v2 := indicator(t, "ind", 200, "[domain-name:value = 'v2.example.com']")
	v0 := indicator(t, "ind", 50, "[domain-name:value = 'v0.example.com']")

	if res, err := s.Put(ctx, c.ID, nil); err != nil || len(res.Outcomes) != 0 {
		t.Fatalf("empty put: %+v, %v", res, err)
	}
	wantOutcomes(t, put(t, s, c.ID, v1), store.Created)
	before := queryAll(t, s, store.Query{Collection: c.ID, Versions: store.Versions{Mode: store.All}})
	if len(before) != 1 || before[0].Collection != c.ID || before[0].DateAdded.IsZero() {
		t.Fatalf("after create: %+v", before)
	}

	// Re-putting the same version changes nothing, including date_added.
	wantOutcomes(t, put(t, s, c.ID, v1), store.Unchanged)
	wantOutcomes(t, put(t, s, c.Title, v1), store.Unchanged)
	after := queryAll(t, s, store.Query{Collection: c.ID, Versions: store.Versions{Mode: store.All}})
	if len(after) != 1 || !after[0].DateAdded.Equal(before[0].DateAdded) {
		t.Fatalf("re-put changed the collection: before %v, after %v", keys(before), keys(after))
	}
	if st, err := s.Stats(ctx); err != nil || st.Versions != 1 || st.Objects != 1 {
		t.Fatalf("stats after re-put: %+v, %v", st, err)
	}

	wantOutcomes(t, put(t, s, c.ID, v2), store.NewVersion)
	// Older than the current version: history only.
	wantOutcomes(t, put(t, s, c.ID, v0), store.Stale)
	wantOutcomes(t, put(t, s, c.ID, v0, v1, v2), store.Unchanged, store.Unchanged, store.Unchanged)

	all, err := s.Get(ctx, v1.ID, store.Versions{Mode: store.All})
	if err != nil {
		t.Fatal(err)
	}
	sameList(t, "Get All", keys(all), okeys(v0, v1, v2))
	last, err := s.Get(ctx, v1.ID, store.Versions{Mode: store.Last})
	if err != nil {
		t.Fatal(err)
	}
	sameList(t, "Get Last", keys(last), okeys(v2))
	first, err := s.Get(ctx, v1.ID, store.Versions{Mode: store.First})
	if err != nil {
		t.Fatal(err)
	}
	sameList(t, "Get First (the stale version is the oldest)", keys(first), okeys(v0))
	lat, err := s.Latest(ctx, []string{v1.ID})
	if err != nil {
		t.Fatal(err)
	}
	sameList(t, "Latest", keys(lat), okeys(v2))
	inColl := queryAll(t, s, store.Query{Collection: c.ID})
	sameList(t, "Query Last", keys(inColl), okeys(v2))
	inColl = queryAll(t, s, store.Query{Collection: c.ID, Versions: store.Versions{Mode: store.All}})
	sameList(t, "Query All in date_added order", keys(inColl), okeys(v1, v2, v0))
	// Only the current version is indexed for lookups.
	for value, want := range map[string][]string{
		"v0.example.com": nil, "v1.example.com": nil, "v2.example.com": okeys(v2),
	} {
		recs, err := s.ByValue(ctx, value, 0)
		if err != nil {
			t.Fatal(err)
		}
		sameSet(t, "ByValue "+value, keys(recs), want)
	}
	if st, err := s.Stats(ctx); err != nil || st.Versions != 3 || st.Objects != 1 || st.ByType["indicator"] != 1 {
		t.Fatalf("stats: %+v, %v", st, err)
	}
}

func testPutBatchVersions(t *testing.T, s store.Store) {
	c := newColl(t, s, "batch", 0)
	a1, a2 := sdo(t, "malware", "a", 1, nil), sdo(t, "malware", "a", 2, nil)
	b1, b2 := sdo(t, "malware", "b", 1, nil), sdo(t, "malware", "b", 2, nil)
	d1 := sdo(t, "malware", "d", 1, nil)
	wantOutcomes(t, put(t, s, c.ID, a1, a2, b2, b1, d1, d1),
		store.Created, store.NewVersion, store.Created, store.Stale, store.Created, store.Unchanged)
	for _, tc := range []struct {
		id   string
		last *stix.Object
		all  []*stix.Object
	}{{a1.ID, a2, []*stix.Object{a1, a2}}, {b1.ID, b2, []*stix.Object{b1, b2}}, {d1.ID, d1, []*stix.Object{d1}}} {
		last, err := s.Get(ctx, tc.id, store.Versions{})
		if err != nil {
			t.Fatal(err)
		}
		sameList(t, "last of "+tc.id, keys(last), okeys(tc.last))
		all, err := s.Get(ctx, tc.id, store.Versions{Mode: store.All})
		if err != nil {
			t.Fatal(err)
		}
		sameList(t, "all of "+tc.id, keys(all), okeys(tc.all...))
	}
	recs := queryAll(t, s, store.Query{Collection: c.ID, Versions: store.Versions{Mode: store.All}})
	sameList(t, "memberships in batch order", keys(recs), okeys(a1, a2, b2, b1, d1))
	strictlyIncreasing(t, recs)
	st, err := s.Stats(ctx)
	if err != nil || st.Objects != 3 || st.Versions != 5 || st.ByType["malware"] != 3 {
		t.Fatalf("stats: %+v, %v", st, err)
	}
	// A later batch superseding a version stored earlier, twice over.
	a3, a4 := sdo(t, "malware", "a", 3, nil), sdo(t, "malware", "a", 4, nil)
	wantOutcomes(t, put(t, s, c.ID, a4, a3), store.NewVersion, store.Stale)
	latest, err := s.Latest(ctx, []string{a1.ID, b1.ID, d1.ID})
	if err != nil {
		t.Fatal(err)
	}
	sameSet(t, "latest", keys(latest), okeys(a4, b2, d1))
}

func testPutTwoCollections(t *testing.T, s store.Store) {
	a, b := newColl(t, s, "A", 0), newColl(t, s, "B", 0)
	o := sdo(t, "threat-actor", "Lazarus", 1, nil)
	wantOutcomes(t, put(t, s, a.ID, o), store.Created)
	time.Sleep(2 * time.Millisecond)
	wantOutcomes(t, put(t, s, b.ID, o), store.Unchanged)
	ra := queryAll(t, s, store.Query{Collection: a.ID})
	rb := queryAll(t, s, store.Query{Collection: b.ID})
	if len(ra) != 1 || len(rb) != 1 {
		t.Fatalf("memberships: %d in A, %d in B", len(ra), len(rb))
	}
	if ra[0].Collection != a.ID || rb[0].Collection != b.ID {
		t.Errorf("Collection fields %q, %q", ra[0].Collection, rb[0].Collection)
	}
	if !rb[0].DateAdded.After(ra[0].DateAdded) {
		t.Errorf("date_added in B %v not after A %v", rb[0].DateAdded, ra[0].DateAdded)
	}
	got, err := s.Get(ctx, o.ID, store.Versions{Mode: store.All})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].DateAdded.Equal(ra[0].DateAdded) || got[0].Collection != "" {
		t.Errorf("Get: %d records, date_added %v (want first added %v), collection %q", len(got), got[0].DateAdded, ra[0].DateAdded, got[0].Collection)
	}
	if st, err := s.Stats(ctx); err != nil || st.Versions != 1 || st.Collections != 2 {
		t.Fatalf("stats: %+v, %v", st, err)
	}
}

// A Remove that takes something out raises the collection's Removals, and
// only that collection's: readers that follow additions reload on it.
func testRemovalsCounted(t *testing.T, s store.Store) {
	a, b := newColl(t, s, "A", 0), newColl(t, s, "B", 0)
	o := sdo(t, "threat-actor", "Lazarus", 1, nil)
	put(t, s, a.ID, o)
	put(t, s, b.ID, o)
	removals := func() map[string]int64 {
		t.Helper()
		cs, err := s.ListCollections(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int64{}
		for _, c := range cs {
			out[c.Title] = c.Removals
		}
		return out
	}
	if got := removals(); got["A"] != 0 || got["B"] != 0 {
		t.Fatalf("before any removal: %v", got)
	}
	if n, err := s.Remove(ctx, a.ID, "threat-actor--00000000-0000-4000-8000-000000000000", store.Versions{Mode: store.All}); err != nil || n != 0 {
		t.Fatalf("removing what is not there: %d, %v", n, err)
	}
	if n, err := s.Remove(ctx, a.ID, o.ID, store.Versions{Mode: store.All}); err != nil || n != 1 {
		t.Fatalf("remove: %d, %v", n, err)
	}
	if got := removals(); got["A"] != 1 || got["B"] != 0 {
		t.Errorf("after one removal from A: %v, want A 1 and B 0", got)
	}
}

func testPutMissingCollection(t *testing.T, s store.Store) {
	newColl(t, s, "present", 0)
	_, err := s.Put(ctx, "absent", items(sdo(t, "malware", "x", 1, nil)))
	wantErr(t, "put into missing collection", err, store.ErrNotFound)
	_, err = s.Put(ctx, uuid.NewString(), items(sdo(t, "malware", "x", 1, nil)))
	wantErr(t, "put into missing collection id", err, store.ErrNotFound)
	if st, err := s.Stats(ctx); err != nil || st.Versions != 0 {
		t.Fatalf("stats: %+v, %v", st, err)
	}
}

// countStored reports how many of objs are stored at all and how many are
// members of the collection.
func countStored(t *testing.T, s store.Store, coll string, objs []*stix.Object) (stored, members int) {
	t.Helper()
	ids := make([]string, len(objs))
	for i, o := range objs {
		ids[i] = o.ID
	}
	recs, err := s.Latest(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	return len(recs), len(queryAll(t, s, store.Query{Collection: coll, IDs: ids, Versions: store.Versions{Mode: store.All}, Limit: store.MaxLimit}))
}

func testPutAtomicNil(t *testing.T, s store.Store) {
	c := newColl(t, s, "atomic", 0)
	var objs []*stix.Object
	for i := range 10 {
		objs = append(objs, indicator(t, fmt.Sprint("n", i), 1, fmt.Sprintf("[ipv4-addr:value = '10.0.0.%d']", i)))
	}
	batch := items(objs...)
	batch[7].Object = nil
	if _, err := s.Put(ctx, c.ID, batch); err == nil {
		t.Fatal("put with a nil object succeeded")
	}
	if st, m := countStored(t, s, c.ID, objs); st != 0 || m != 0 {
		t.Fatalf("failed batch left %d objects, %d memberships", st, m)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Put(canceled, c.ID, items(objs[:3]...)); err == nil {
		t.Fatal("put with a canceled context succeeded")
	}
	if st, m := countStored(t, s, c.ID, objs); st != 0 || m != 0 {
		t.Fatalf("canceled batch left %d objects, %d memberships", st, m)
	}
	if st, err := s.Stats(ctx); err != nil || st.Versions != 0 {
		t.Fatalf("stats: %+v, %v", st, err)
	}
}

// testPutAtomicCancel cancels large batches at varying points while they are
// being written: each must end all stored or not at all, never partly.
func testPutAtomicCancel(t *testing.T, s store.Store) {
	c := newColl(t, s, "cancel", 0)
	const n = 3000
	failed := 0
	for round, delay := range []time.Duration{0, 200 * time.Microsecond, time.Millisecond, 3 * time.Millisecond, 10 * time.Millisecond, 30 * time.Millisecond, 100 * time.Millisecond} {
		objs := make([]*stix.Object, n)
		for i := range objs {
			objs[i] = indicator(t, fmt.Sprintf("r%d-%d", round, i), 1, fmt.Sprintf("[domain-name:value = 'r%d-%d.example.org']", round, i))
		}
		cctx, cancel := context.WithTimeout(ctx, delay)
		_, err := s.Put(cctx, c.ID, items(objs...))
		cancel()
		stored, members := countStored(t, s, c.ID, objs)
		switch {
		case err == nil && (stored != n || members != n):
			t.Fatalf("round %d: put succeeded but %d/%d stored, %d members", round, stored, n, members)
		case err != nil && !((stored == 0 && members == 0) || (stored == n && members == n)):
			t.Fatalf("round %d: put failed (%v) and left a partial batch: %d stored, %d members", round, err, stored, members)
		case err != nil:
			failed++
		}
	}
	if failed == 0 {
		t.Log("no Put was interrupted; atomicity not exercised")
	}
}

func testDateAddedSequential(t *testing.T, s store.Store) {
	c := newColl(t, s, "seq", 0)
	other := newColl(t, s, "other", 0)
	var want []*stix.Object
	for i := range 60 {
		var batch []*stix.Object
		for j := range i%3 + 1 {
			batch = append(batch, sdo(t, "malware", fmt.Sprint(i, "-", j), 1, nil))
		}
		put(t, s, c.ID, batch...)
		put(t, s, other.ID, batch[0])
		want = append(want, batch...)
	}
	recs := queryAll(t, s, store.Query{Collection: c.ID, Limit: 11})
	sameList(t, "order of addition", keys(recs), okeys(want...))
	strictlyIncreasing(t, recs)
	strictlyIncreasing(t, queryAll(t, s, store.Query{Collection: other.ID, Limit: 11}))
}

func testDateAddedConcurrent(t *testing.T, s store.Store) {
	c := newColl(t, s, "concurrent", 0)
	const workers, puts, per = 6, 20, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*puts)
	var all []*stix.Object
	batches := make([][][]*stix.Object, workers)
	for w := range workers {
		for p := range puts {
			var b []*stix.Object
			for k := range per {
				b = append(b, indicator(t, fmt.Sprint(w, "-", p, "-", k), 1, fmt.Sprintf("[ipv4-addr:value = '10.%d.%d.%d']", w, p, k)))
			}
			batches[w] = append(batches[w], b)
			all = append(all, b...)
		}
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, b := range batches[w] {
				if _, err := s.Put(ctx, c.ID, items(b...)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent put: %v", err)
	}
	recs := queryAll(t, s, store.Query{Collection: c.ID, Limit: 37})
	sameSet(t, "concurrently added", keys(recs), okeys(all...))
	strictlyIncreasing(t, recs)
	// Each batch's objects are contiguous: a batch commits as one.
	pos := map[string]int{}
	for i, r := range recs {
		pos[r.Object.ID] = i
	}
	for w := range batches {
		for _, b := range batches[w] {
			for k := 1; k < len(b); k++ {
				if pos[b[k].ID] != pos[b[0].ID]+k {
					t.Fatalf("batch %s… interleaved with another", b[0].ID)
				}
			}
		}
	}
}

// testConcurrentCollections puts overlapping versions of the same objects
// into several collections at once: no Put may fail, every version is stored
// once, and each object ends with exactly one latest version, the newest.
func testConcurrentCollections(t *testing.T, s store.Store) {
	const workers, objects, versions = 4, 30, 4
	colls := make([]store.Collection, workers)
	for w := range colls {
		colls[w] = newColl(t, s, fmt.Sprint("c", w), 0)
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers*versions)
	for w := range workers {
		var batches [][]*stix.Object
		for v := range versions {
			var b []*stix.Object
			for o := range objects {
				// Each worker walks the versions in its own order.
				b = append(b, sdo(t, "malware", fmt.Sprint("m", o), 1+(v+w)%versions, nil))
			}
			batches = append(batches, b)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, b := range batches {
				if _, err := s.Put(ctx, colls[w].ID, items(b...)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent put: %v", err)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Objects != objects || st.Versions != objects*versions {
		t.Fatalf("stats %+v, want %d objects, %d versions", st, objects, objects*versions)
	}
	latest := queryAll(t, s, store.Query{Limit: 7})
	var want []*stix.Object
	for o := range objects {
		want = append(want, sdo(t, "malware", fmt.Sprint("m", o), versions, nil))
	}
	sameSet(t, "latest after concurrent puts", keys(latest), okeys(want...))
	all := queryAll(t, s, store.Query{Versions: store.Versions{Mode: store.All}, Limit: 9})
	if len(all) != objects*versions {
		t.Fatalf("%d versions anywhere, want %d", len(all), objects*versions)
	}
	for i := 1; i < len(all); i++ {
		if all[i].DateAdded.Before(all[i-1].DateAdded) {
			t.Fatalf("across collections, not in date_added order at %d", i)
		}
	}
	for _, c := range colls {
		recs := queryAll(t, s, store.Query{Collection: c.ID, Versions: store.Versions{Mode: store.All}})
		if len(recs) != objects*versions {
			t.Fatalf("%s holds %d versions, want %d", c.Title, len(recs), objects*versions)
		}
		strictlyIncreasing(t, recs)
	}
}

func testPrecision(t *testing.T, s store.Store) {
	c := newColl(t, s, "precision", 0)
	raw := `{"type":"malware","spec_version":"2.1","id":"malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061","created":"2024-03-05T06:07:08.123Z","modified":"2024-03-05T06:07:08.124Z","name":"AppleJeus","is_family":true}`
	micro := `{"type":"malware","spec_version":"2.1","id":"malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061","created":"2024-03-05T06:07:08.123Z","modified":"2024-03-05T06:07:08.124001Z","name":"AppleJeus","is_family":true}`
	o1, err := stix.Decode([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	o2, err := stix.Decode([]byte(micro))
	if err != nil {
		t.Fatal(err)
	}
	// One microsecond apart: two versions, not one.
	wantOutcomes(t, put(t, s, c.ID, o1, o2), store.Created, store.NewVersion)
	v1 := time.Date(2024, 3, 5, 6, 7, 8, 124_000_000, time.UTC)
	got, err := s.Get(ctx, o1.ID, store.Versions{At: []time.Time{v1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || string(got[0].Object.Raw) != raw || !got[0].Version.Equal(v1) {
		t.Fatalf("Get At %v: %d records, raw %s", v1, len(got), got[0].Object.Raw)
	}
	if got[0].Object.Modified.Format(time.RFC3339Nano) != "2024-03-05T06:07:08.124Z" {
		t.Errorf("modified read back as %v", got[0].Object.Modified)
	}
	got, err = s.Get(ctx, o1.ID, store.Versions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(got[0].Object.Raw) != micro {
		t.Fatalf("latest raw %s", got[0].Object.Raw)
	}
	_, err = s.Get(ctx, o1.ID, store.Versions{At: []time.Time{v1.Add(time.Millisecond)}})
	wantErr(t, "Get At a version not stored", err, store.ErrNotFound)
}

func testGet(t *testing.T, s store.Store) {
	c := newColl(t, s, "get", 0)
	creator := sdo(t, "identity", "creator", 1, map[string]any{"name": "Bulwark", "identity_class": "organization"})
	mk := func(ver int) *stix.Object {
		return sdo(t, "intrusion-set", "Kimsuky", ver, map[string]any{
			"created_by_ref": creator.ID, "object_marking_refs": []string{stix.TLP2Green},
		})
	}
	v1, v2, v3 := mk(10), mk(20), mk(30)
	put(t, s, c.ID, creator)
	for _, v := range []*stix.Object{v1, v2, v3} {
		put(t, s, c.ID, v)
	}
	for _, tc := range []struct {
		name string
		v    store.Versions
		want []*stix.Object
	}{
		{"all", store.Versions{Mode: store.All}, []*stix.Object{v1, v2, v3}},
		{"first", store.Versions{Mode: store.First}, []*stix.Object{v1}},
		{"last", store.Versions{Mode: store.Last}, []*stix.Object{v3}},
		{"at one", store.Versions{At: []time.Time{at(20)}}, []*stix.Object{v2}},
		{"at two, unordered", store.Versions{At: []time.Time{at(30), at(10)}}, []*stix.Object{v1, v3}},
		{"at overrides mode", store.Versions{Mode: store.Last, At: []time.Time{at(10)}}, []*stix.Object{v1}},
	} {
		got, err := s.Get(ctx, v1.ID, tc.v)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		sameList(t, tc.name, keys(got), okeys(tc.want...))
		for _, r := range got {
			if r.TLP != stix.TLPGreen || r.EffectiveTLP != stix.TLPGreen || r.CreatedBy != creator.ID || r.Source != "storetest:1" || r.DateAdded.IsZero() || r.Collection != "" {
				t.Errorf("%s: record fields %+v", tc.name, r)
			}
		}
	}
	_, err := s.Get(ctx, v1.ID, store.Versions{At: []time.Time{at(15)}})
	wantErr(t, "Get At missing version", err, store.ErrNotFound)
	_, err = s.Get(ctx, id("intrusion-set", "nobody"), store.Versions{})
	wantErr(t, "Get missing id", err, store.ErrNotFound)
	_, err = s.Get(ctx, "", store.Versions{})
	wantErr(t, "Get empty id", err, store.ErrNotFound)
}

func testQueryPaging(t *testing.T, s store.Store) {
	c := newColl(t, s, "paging", 0)
	const n = 2500
	var all []*stix.Object
	for b := 0; b < n; b += 500 {
		var batch []*stix.Object
		for i := b; i < b+500; i++ {
			batch = append(batch, indicator(t, fmt.Sprint("p", i), 1, fmt.Sprintf("[ipv4-addr:value = '10.1.%d.%d']", i/256, i%256)))
		}
		put(t, s, c.ID, batch...)
		all = append(all, batch...)
	}
	for _, limit := range []int{100, 7, 1000, 2500, 5000} {
		recs := queryAll(t, s, store.Query{Collection: c.ID, Limit: limit})
		sameList(t, fmt.Sprintf("limit %d", limit), keys(recs), okeys(all...))
		strictlyIncreasing(t, recs)
	}
	p, err := s.Query(ctx, store.Query{Collection: c.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != store.DefaultLimit || !p.More {
		t.Errorf("default limit: %d records, More=%v", len(p.Records), p.More)
	}
	// The last page of an exact multiple has no More.
	p, err = s.Query(ctx, store.Query{Collection: c.ID, Limit: n})
	if err != nil || len(p.Records) != n || p.More || p.Next != "" {
		t.Errorf("exact page: %d records, More=%v, Next=%q, err %v", len(p.Records), p.More, p.Next, err)
	}
	// A cursor stays valid when more objects arrive after it was issued.
	p, err = s.Query(ctx, store.Query{Collection: c.ID, Limit: 2400})
	if err != nil {
		t.Fatal(err)
	}
	late := sdo(t, "malware", "late", 1, nil)
	put(t, s, c.ID, late)
	rest := queryAll(t, s, store.Query{Collection: c.ID, Limit: 50, Cursor: p.Next})
	sameList(t, "after cursor", keys(rest), okeys(append(append([]*stix.Object{}, all[2400:]...), late)...))
	_, err = s.Query(ctx, store.Query{Collection: "missing"})
	wantErr(t, "query missing collection", err, store.ErrNotFound)
}

func testQueryAddedAfter(t *testing.T, s store.Store) {
	c := newColl(t, s, "after", 0)
	var objs []*stix.Object
	for i := range 30 {
		objs = append(objs, sdo(t, "tool", fmt.Sprint("t", i), 1, nil))
	}
	put(t, s, c.ID, objs[:10]...)
	put(t, s, c.ID, objs[10:20]...)
	put(t, s, c.ID, objs[20:]...)
	recs := queryAll(t, s, store.Query{Collection: c.ID})
	for _, k := range []int{0, 9, 10, 17, 28} {
		got := queryAll(t, s, store.Query{Collection: c.ID, AddedAfter: recs[k].DateAdded, Limit: 4})
		sameList(t, fmt.Sprintf("added after #%d", k), keys(got), keys(recs[k+1:]))
	}
	got := queryAll(t, s, store.Query{Collection: c.ID, AddedAfter: recs[29].DateAdded})
	if len(got) != 0 {
		t.Errorf("after the last: %d records", len(got))
	}
	got = queryAll(t, s, store.Query{Collection: c.ID, AddedAfter: recs[0].DateAdded.Add(-time.Microsecond)})
	sameList(t, "just before the first", keys(got), keys(recs))
	// AddedAfter and a cursor together: the later bound wins.
	p, err := s.Query(ctx, store.Query{Collection: c.ID, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	got = queryAll(t, s, store.Query{Collection: c.ID, Cursor: p.Next, AddedAfter: recs[14].DateAdded})
	sameList(t, "cursor and later added_after", keys(got), keys(recs[15:]))
	got = queryAll(t, s, store.Query{Collection: c.ID, Cursor: p.Next, AddedAfter: recs[1].DateAdded})
	sameList(t, "cursor and earlier added_after", keys(got), keys(recs[5:]))
}

func testQueryFilters(t *testing.T, s store.Store) {
	c := newColl(t, s, "filters", 0)
	ind := indicator(t, "i", 1, "[ipv4-addr:value = '198.51.100.7']")
	mal := sdo(t, "malware", "m", 1, nil)
	mal2 := sdo(t, "malware", "m", 2, nil)
	ta := sdo(t, "threat-actor", "t", 1, nil)
	ip := sco(t, "ipv4-addr", "198.51.100.7")
	put(t, s, c.ID, ind, mal, ta, ip)
	put(t, s, c.ID, mal2)
	for _, tc := range []struct {
		name string
		q    store.Query
		want []*stix.Object
	}{
		{"types", store.Query{Types: []string{"malware", "ipv4-addr"}}, []*stix.Object{ip, mal2}},
		{"types all versions", store.Query{Types: []string{"malware"}, Versions: store.Versions{Mode: store.All}}, []*stix.Object{mal, mal2}},
		{"unknown type", store.Query{Types: []string{"campaign"}}, nil},
		{"ids", store.Query{IDs: []string{ta.ID, ind.ID, id("tool", "absent")}}, []*stix.Object{ind, ta}},
		{"ids and types", store.Query{IDs: []string{ta.ID, ind.ID}, Types: []string{"indicator"}}, []*stix.Object{ind}},
		{"spec 2.1", store.Query{SpecVersions: []string{"2.1"}}, []*stix.Object{ind, ta, ip, mal2}},
		{"spec 2.0", store.Query{SpecVersions: []string{"2.0"}}, nil},
		{"first", store.Query{IDs: []string{mal.ID}, Versions: store.Versions{Mode: store.First}}, []*stix.Object{mal}},
		{"at", store.Query{Versions: store.Versions{At: []time.Time{at(2)}}}, []*stix.Object{mal2}},
	} {
		for _, coll := range []string{c.ID, ""} {
			q := tc.q
			q.Collection = coll
			got := queryAll(t, s, q)
			sameList(t, tc.name+" in "+coll, keys(got), okeys(tc.want...))
		}
	}
}

func testQueryVersionsPerCollection(t *testing.T, s store.Store) {
	a, b := newColl(t, s, "A", 0), newColl(t, s, "B", 0)
	v1, v2 := sdo(t, "campaign", "c", 1, map[string]any{"name": "Dream Job"}), sdo(t, "campaign", "c", 2, map[string]any{"name": "Dream Job"})
	put(t, s, a.ID, v1)
	put(t, s, b.ID, v2)
	for _, tc := range []struct {
		coll string
		mode store.VersionMode
		want *stix.Object
	}{
		{a.ID, store.Last, v1}, {a.ID, store.First, v1}, {b.ID, store.Last, v2}, {b.ID, store.First, v2},
		{"", store.Last, v2}, {"", store.First, v1},
	} {
		got := queryAll(t, s, store.Query{Collection: tc.coll, Versions: store.Versions{Mode: tc.mode}})
		sameList(t, fmt.Sprintf("mode %d in %q", tc.mode, tc.coll), keys(got), okeys(tc.want))
	}
	sameList(t, "all in A", keys(queryAll(t, s, store.Query{Collection: a.ID, Versions: store.Versions{Mode: store.All}})), okeys(v1))
	sameList(t, "all anywhere", keys(queryAll(t, s, store.Query{Versions: store.Versions{Mode: store.All}})), okeys(v1, v2))
	got := queryAll(t, s, store.Query{Collection: a.ID, Versions: store.Versions{At: []time.Time{at(2)}}})
	if len(got) != 0 {
		t.Errorf("version 2 found in A: %v", keys(got))
	}
	// Once v2 joins A too, it is A's last and v1 its first.
	put(t, s, a.ID, v2)
	sameList(t, "A last after v2 joined", keys(queryAll(t, s, store.Query{Collection: a.ID})), okeys(v2))
	sameList(t, "A first after v2 joined", keys(queryAll(t, s, store.Query{Collection: a.ID, Versions: store.Versions{Mode: store.First}})), okeys(v1))
}

func testQueryTLP(t *testing.T, s store.Store) {
	green := newColl(t, s, "green default", stix.TLPGreen)
	red := newColl(t, s, "red default", stix.TLPRed)
	mk := func(key string, tlp stix.TLP) *stix.Object {
		var p map[string]any
		if tlp != stix.TLPNone {
			p = map[string]any{"object_marking_refs": []string{tlp.MarkingID()}}
		}
		return sdo(t, "malware", key, 1, p)
	}
	unmarked, clear, amber, strict, redObj := mk("unmarked", 0), mk("clear", stix.TLPClear), mk("amber", stix.TLPAmber), mk("strict", stix.TLPAmberStrict), mk("red", stix.TLPRed)
	objs := []*stix.Object{unmarked, clear, amber, strict, redObj}
	put(t, s, green.ID, objs...)
	put(t, s, red.ID, unmarked, clear)

	recs := queryAll(t, s, store.Query{Collection: green.ID})
	wantEff := []stix.TLP{stix.TLPGreen, stix.TLPClear, stix.TLPAmber, stix.TLPAmberStrict, stix.TLPRed}
	wantTLP := []stix.TLP{stix.TLPNone, stix.TLPClear, stix.TLPAmber, stix.TLPAmberStrict, stix.TLPRed}
	for i, r := range recs {
		if r.EffectiveTLP != wantEff[i] || r.TLP != wantTLP[i] {
			t.Errorf("%s: TLP %v effective %v, want %v, %v", r.Object.ID, r.TLP, r.EffectiveTLP, wantTLP[i], wantEff[i])
		}
	}
	for _, tc := range []struct {
		coll string
		max  stix.TLP
		want []*stix.Object
	}{
		{green.ID, stix.TLPClear, []*stix.Object{clear}},
		{green.ID, stix.TLPGreen, []*stix.Object{unmarked, clear}},
		{green.ID, stix.TLPAmber, []*stix.Object{unmarked, clear, amber}},
		{green.ID, stix.TLPAmberStrict, []*stix.Object{unmarked, clear, amber, strict}},
		{green.ID, stix.TLPRed, objs},
		{red.ID, stix.TLPAmber, []*stix.Object{clear}},
		{red.ID, stix.TLPRed, []*stix.Object{unmarked, clear}},
	} {
		got := queryAll(t, s, store.Query{Collection: tc.coll, MaxTLP: tc.max, Limit: 2})
		sameList(t, fmt.Sprintf("max %v in %s", tc.max, tc.coll), keys(got), okeys(tc.want...))
	}
	for _, r := range queryAll(t, s, store.Query{Collection: red.ID}) {
		if r.Object.ID == unmarked.ID && r.EffectiveTLP != stix.TLPRed {
			t.Errorf("unmarked in red collection: effective %v", r.EffectiveTLP)
		}
	}
	// Outside a collection an unmarked object has no default: it is never
	// served below AMBER.
	got := queryAll(t, s, store.Query{MaxTLP: stix.TLPGreen})
	sameList(t, "max green anywhere", keys(got), okeys(clear))
}

func testQueryInvalidCursor(t *testing.T, s store.Store) {
	a, b := newColl(t, s, "A", 0), newColl(t, s, "B", 0)
	for _, c := range []store.Collection{a, b} {
		var objs []*stix.Object
		for i := range 5 {
			objs = append(objs, sdo(t, "tool", fmt.Sprint(c.Title, i), 1, nil))
		}
		put(t, s, c.ID, objs...)
	}
	pa, err := s.Query(ctx, store.Query{Collection: a.ID, Limit: 2})
	if err != nil || pa.Next == "" {
		t.Fatalf("page of A: %+v, %v", pa, err)
	}
	pall, err := s.Query(ctx, store.Query{Limit: 2})
	if err != nil || pall.Next == "" {
		t.Fatalf("page of all: %+v, %v", pall, err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	for _, tc := range []struct {
		name, coll, cursor string
	}{
		{"garbage", a.ID, "%%%not base64%%%"},
		{"one byte", a.ID, enc([]byte("c"))},
		{"no collection part", a.ID, enc([]byte("c1700000000000000"))},
		{"random bytes", a.ID, enc([]byte{0xff, 0x00, 0x13, 0x37})},
		{"text", a.ID, enc([]byte("hello world"))},
		{"other collection's", b.ID, pa.Next},
		{"all-collections cursor in a collection", a.ID, pall.Next},
		{"collection cursor across collections", "", pa.Next},
		{"garbage across collections", "", "AAAA"},
		{"truncated", a.ID, pa.Next[:len(pa.Next)/2]},
		{"extended", a.ID, pa.Next + "QQ"},
	} {
		_, err := s.Query(ctx, store.Query{Collection: tc.coll, Cursor: tc.cursor})
		wantErr(t, tc.name+" cursor", err, store.ErrInvalidCursor)
	}
}

func testQueryAllCollections(t *testing.T, s store.Store) {
	a, b := newColl(t, s, "A", 0), newColl(t, s, "B", 0)
	var inA, inB, want []*stix.Object
	for i := range 300 {
		inA = append(inA, sdo(t, "malware", fmt.Sprint("a", i), 1, nil))
	}
	for i := range 150 {
		inB = append(inB, sdo(t, "malware", fmt.Sprint("b", i), 1, nil))
	}
	inB = append(inB, inA[100:150]...) // shared: one version, two memberships
	put(t, s, a.ID, inA[:200]...)
	put(t, s, b.ID, inB...)
	put(t, s, a.ID, inA[200:]...)
	// A new version of a shared object, into B only.
	newer := sdo(t, "malware", "a120", 2, nil)
	put(t, s, b.ID, newer)
	want = append(append(append(want, inA...), inB[:150]...), newer)
	for _, limit := range []int{45, 1000} {
		recs := queryAll(t, s, store.Query{Versions: store.Versions{Mode: store.All}, Limit: limit})
		sameSet(t, fmt.Sprintf("all versions anywhere, limit %d", limit), keys(recs), okeys(want...))
		for i, r := range recs {
			if r.Collection != "" || r.DateAdded.IsZero() {
				t.Fatalf("record %s: collection %q, date_added %v", key(r), r.Collection, r.DateAdded)
			}
			if i > 0 && r.DateAdded.Before(recs[i-1].DateAdded) {
				t.Fatalf("not in date_added order at %d: %v after %v", i, r.DateAdded, recs[i-1].DateAdded)
			}
		}
	}
	latest := queryAll(t, s, store.Query{Limit: 33})
	if len(latest) != 450 {
		t.Fatalf("latest anywhere: %d records, want 450", len(latest))
	}
	// AddedAfter across collections counts from when a version was first added.
	recsA := queryAll(t, s, store.Query{Collection: a.ID})
	cut := recsA[199].DateAdded
	got := queryAll(t, s, store.Query{AddedAfter: cut, Versions: store.Versions{Mode: store.All}, Limit: 70})
	sameSet(t, "added after first batch", keys(got), okeys(append(append(append([]*stix.Object{}, inB[:150]...), inA[200:]...), newer)...))
}

func testByValue(t *testing.T, s store.Store) {
	c := newColl(t, s, "values", 0)
	ind := indicator(t, "i", 1, "[domain-name:value = 'EVIL.Example.com'] OR [ipv6-addr:value = '2001:db8:0:0:0:0:0:1'] OR [file:hashes.'SHA-256' = 'AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F']")
	dom := sco(t, "domain-name", "Evil.example.COM")
	ip6 := sco(t, "ipv6-addr", "2001:DB8::1")
	ip4 := sco(t, "ipv4-addr", "203.0.113.9")
	file := build(t, map[string]any{"type": "file", "spec_version": "2.1", "id": id("file", "f"), "hashes": map[string]string{"MD5": "D41D8CD98F00B204E9800998ECF8427E"}})
	url := sco(t, "url", "HTTPS://Evil.Example.com/Path/Payload.exe")
	other := indicator(t, "other", 1, "[ipv4-addr:value = '203.0.113.9'] AND [url:value = 'https://evil.example.com/Path/Payload.exe']")
	put(t, s, c.ID, ind, dom, ip6, ip4, file, url, other)
	for _, tc := range []struct {
		value string
		want  []*stix.Object
	}{
		{"evil.example.com", []*stix.Object{ind, dom}},
		{"  EVIL.EXAMPLE.COM ", []*stix.Object{ind, dom}},
		{"2001:0db8::0001", []*stix.Object{ind, ip6}},
		{"2001:db8:0:0:0:0:0:1", []*stix.Object{ind, ip6}},
		{"aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f", []*stix.Object{ind}},
		{"d41d8cd98f00b204e9800998ecf8427e", []*stix.Object{file}},
		{"203.0.113.9", []*stix.Object{ip4, other}},
		{"::ffff:203.0.113.9", []*stix.Object{ip4, other}},
		{"https://EVIL.example.com/Path/Payload.exe", []*stix.Object{url, other}},
		{"https://evil.example.com/path/payload.exe", nil},
		{"example.com", nil},
		{"", nil},
	} {
		got, err := s.ByValue(ctx, tc.value, 0)
		if err != nil {
			t.Fatalf("ByValue(%q): %v", tc.value, err)
		}
		sameSet(t, fmt.Sprintf("ByValue(%q)", tc.value), keys(got), okeys(tc.want...))
	}
	if got, err := s.ByValue(ctx, "evil.example.com", 1); err != nil || len(got) != 1 {
		t.Errorf("limit 1: %d records, %v", len(got), err)
	}
	// A new version that no longer mentions the domain drops out of its lookups.
	ind2 := indicator(t, "i", 2, "[domain-name:value = 'benign.example.net']")
	put(t, s, c.ID, ind2)
	for value, want := range map[string][]*stix.Object{
		"evil.example.com": {dom}, "benign.example.net": {ind2}, "2001:db8::1": {ip6},
	} {
		got, err := s.ByValue(ctx, value, 0)
		if err != nil {
			t.Fatal(err)
		}
		sameSet(t, "after new version: "+value, keys(got), okeys(want...))
	}
}

func testByName(t *testing.T, s store.Store) {
	c := newColl(t, s, "names", 0)
	lazarus := sdo(t, "intrusion-set", "lazarus", 1, map[string]any{"name": "Lazarus Group", "aliases": []string{"Lazarus Group", "Hidden Cobra", "ZINC"}})
	hc := sdo(t, "threat-actor", "hc", 1, map[string]any{"name": "HIDDEN COBRA"})
	mitre := sdo(t, "intrusion-set", "g0032", 1, map[string]any{"name": "Lazarus", "x_mitre_aliases": []string{"Labyrinth Chollima"}})
	tool := sdo(t, "tool", "cobra", 1, map[string]any{"name": "Cobra"})
	put(t, s, c.ID, lazarus, hc, mitre, tool)
	for _, tc := range []struct {
		name string
		want []*stix.Object
	}{
		{"Hidden Cobra", []*stix.Object{lazarus, hc}},
		{"hidden-cobra", []*stix.Object{lazarus, hc}},
		{"HIDDENCOBRA", []*stix.Object{lazarus, hc}},
		{"zinc", []*stix.Object{lazarus}},
		{"Lazarus group", []*stix.Object{lazarus}},
		{"lazarus", []*stix.Object{mitre}},
		{"Labyrinth-Chollima", []*stix.Object{mitre}},
		{"cobra", []*stix.Object{tool}},
		{"Andariel", nil},
		{"--", nil},
	} {
		got, err := s.ByName(ctx, tc.name)
		if err != nil {
			t.Fatalf("ByName(%q): %v", tc.name, err)
		}
		sameSet(t, fmt.Sprintf("ByName(%q)", tc.name), keys(got), okeys(tc.want...))
	}
	lazarus2 := sdo(t, "intrusion-set", "lazarus", 2, map[string]any{"name": "Lazarus Group", "aliases": []string{"Hidden Cobra", "Diamond Sleet"}})
	put(t, s, c.ID, lazarus2)
	for name, want := range map[string][]*stix.Object{
		"zinc": nil, "diamond sleet": {lazarus2}, "hidden cobra": {lazarus2, hc},
	} {
		got, err := s.ByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		sameSet(t, "after new version: "+name, keys(got), okeys(want...))
	}
}

// graph is a small "everything about actor X" neighbourhood:
//
//	indicator I -indicates-> malware M <-uses- actor A -uses-> tool T (revoked)
//	A -attributed-to-> X (v1), superseded by A -attributed-to-> Y (v2)
//	report R refs A and M; I -indicates-> infrastructure N (2 hops from A via M? no: via I)
type graph struct {
	a, m, t, x, y, i, n, r                        *stix.Object
	uses, usesTool, attr1, attr2, indicates, indN *stix.Object
}

func buildGraph(t *testing.T, s store.Store) graph {
	c := newColl(t, s, "graph", 0)
	var g graph
	g.a = sdo(t, "threat-actor", "Lazarus", 1, nil)
	g.m = sdo(t, "malware", "AppleJeus", 1, nil)
	g.t = sdo(t, "tool", "Mimikatz", 1, nil)
	g.x = sdo(t, "identity", "X", 1, map[string]any{"name": "X", "identity_class": "organization"})
	g.y = sdo(t, "identity", "Y", 1, map[string]any{"name": "Y", "identity_class": "organization"})
	g.i = indicator(t, "ind", 1, "[domain-name:value = 'celasllc.com']")
	g.n = sdo(t, "infrastructure", "C2", 1, map[string]any{"name": "C2"})
	g.uses = rel(t, "uses", 1, "uses", g.a.ID, g.m.ID, nil)
	g.usesTool = rel(t, "usesTool", 1, "uses", g.a.ID, g.t.ID, map[string]any{"revoked": true})
	g.attr1 = rel(t, "attr", 1, "attributed-to", g.a.ID, g.x.ID, nil)
	g.attr2 = rel(t, "attr", 2, "attributed-to", g.a.ID, g.y.ID, nil)
	g.indicates = rel(t, "indicates", 1, "indicates", g.i.ID, g.m.ID, nil)
	g.indN = rel(t, "indN", 1, "indicates", g.i.ID, g.n.ID, nil)
	g.r = sdo(t, "report", "R", 1, map[string]any{"name": "Operation AppleJeus", "published": ts(1), "object_refs": []string{g.a.ID, g.m.ID}})
	put(t, s, c.ID, g.a, g.m, g.t, g.x, g.y, g.i, g.n, g.uses, g.usesTool, g.attr1, g.indicates, g.indN, g.r)
	put(t, s, c.ID, g.attr2)
	return g
}

func edgeKeys(es []stix.Edge) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Source + " " + e.Kind + " " + e.Target + " " + e.Via
	}
	return out
}

func relEdge(r *stix.Object) stix.Edge {
	return stix.Edge{Source: r.String("source_ref"), Target: r.String("target_ref"), Kind: r.String("relationship_type"), Via: r.ID}
}

func testEdges(t *testing.T, s store.Store) {
	g := buildGraph(t, s)
	refA := stix.Edge{Source: g.r.ID, Target: g.a.ID, Kind: "object-ref"}
	refM := stix.Edge{Source: g.r.ID, Target: g.m.ID, Kind: "object-ref"}
	for _, tc := range []struct {
		name string
		ids  []string
		want []stix.Edge
	}{
		{"actor", []string{g.a.ID}, []stix.Edge{relEdge(g.uses), relEdge(g.attr2), refA}},
		{"malware", []string{g.m.ID}, []stix.Edge{relEdge(g.uses), relEdge(g.indicates), refM}},
		{"actor and malware", []string{g.a.ID, g.m.ID}, []stix.Edge{relEdge(g.uses), relEdge(g.attr2), refA, relEdge(g.indicates), refM}},
		{"superseded target", []string{g.x.ID}, nil},
		{"revoked target", []string{g.t.ID}, nil},
		{"report", []string{g.r.ID}, []stix.Edge{refA, refM}},
		{"none", nil, nil},
		{"unknown", []string{id("malware", "nope")}, nil},
	} {
		got, err := s.Edges(ctx, tc.ids)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		sameSet(t, "edges of "+tc.name, edgeKeys(got), edgeKeys(tc.want))
	}
	// Revoking the "uses" relationship removes its edge.
	revoked, err := g.uses.WithProps(map[string]any{"modified": ts(5), "revoked": true})
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, "graph", revoked)
	got, err := s.Edges(ctx, []string{g.m.ID})
	if err != nil {
		t.Fatal(err)
	}
	sameSet(t, "edges of malware after revocation", edgeKeys(got), edgeKeys([]stix.Edge{relEdge(g.indicates), refM}))
}

func testLatestAndStats(t *testing.T, s store.Store) {
	g := buildGraph(t, s)
	got, err := s.Latest(ctx, []string{g.a.ID, g.attr1.ID, id("tool", "missing"), g.a.ID})
	if err != nil {
		t.Fatal(err)
	}
	sameSet(t, "latest", keys(got), okeys(g.a, g.attr2))
	if got, err := s.Latest(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("Latest(nil) = %d, %v", len(got), err)
	}
	// More ids than one SQL statement takes.
	many := make([]string, 0, 5000)
	for i := range 5000 {
		many = append(many, id("malware", fmt.Sprint(i)))
	}
	many = append(many, g.m.ID)
	if got, err := s.Latest(ctx, many); err != nil || len(got) != 1 {
		t.Errorf("Latest(5001 ids) = %d, %v", len(got), err)
	}
	if got, err := s.Edges(ctx, many); err != nil || len(got) != 3 {
		t.Errorf("Edges(5001 ids) = %d, %v", len(got), err)
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Stats{Objects: 13, Versions: 14, Collections: 1, ByType: map[string]int64{
		"threat-actor": 1, "malware": 1, "tool": 1, "identity": 2, "indicator": 1, "infrastructure": 1, "relationship": 5, "report": 1,
	}}
	if fmt.Sprint(st) != fmt.Sprint(want) {
		t.Errorf("stats = %+v, want %+v", st, want)
	}
}

func testExplore(t *testing.T, s store.Store) {
	g := buildGraph(t, s)
	ids := func(n *store.Neighbourhood) []string {
		var out []string
		for k, r := range n.Objects {
			if r.Object == nil || r.Object.ID != k {
				t.Fatalf("object %s: record %+v", k, r)
			}
			out = append(out, k)
		}
		return out
	}
	n, err := store.Explore(ctx, s, g.a.ID, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n.Root.Object.ID != g.a.ID {
		t.Errorf("root %s", n.Root.Object.ID)
	}
	one := []string{g.a.ID, g.m.ID, g.y.ID, g.r.ID, g.uses.ID, g.attr2.ID}
	sameSet(t, "1 hop", ids(n), one)
	if n.Hops[g.m.ID] != 1 || n.Hops[g.a.ID] != 0 {
		t.Errorf("hops %v", n.Hops)
	}
	n, err = store.Explore(ctx, s, g.a.ID, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameSet(t, "2 hops", ids(n), append(one, g.i.ID, g.indicates.ID))
	if n.Hops[g.i.ID] != 2 {
		t.Errorf("indicator at hop %d", n.Hops[g.i.ID])
	}
	n, err = store.Explore(ctx, s, g.a.ID, 3, map[string]bool{g.m.ID: true})
	if err != nil {
		t.Fatal(err)
	}
	sameSet(t, "3 hops skipping the malware", ids(n), []string{g.a.ID, g.y.ID, g.r.ID, g.uses.ID, g.attr2.ID})
	n, err = store.Explore(ctx, s, g.a.ID, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameSet(t, "3 hops", ids(n), append(one, g.i.ID, g.indicates.ID, g.n.ID, g.indN.ID))
	_, err = store.Explore(ctx, s, id("threat-actor", "nobody"), 2, nil)
	wantErr(t, "explore missing", err, store.ErrNotFound)
}

func testRawRoundTrip(t *testing.T, s store.Store) {
	c := newColl(t, s, "raw", 0)
	raws := []string{
		// Custom properties of every JSON kind, unicode, escapes and numbers
		// written in forms a re-encoder would change.
		`{"type":"malware","spec_version":"2.1","id":"malware--6f3c4d1e-2b6a-4f0e-9c1d-7a8b9c0d1e2f","created":"2023-01-01T00:00:00.000Z","modified":"2023-01-02T00:00:00.000Z","name":"라자루스 \u0026 \"Co\"","is_family":false,"x_bulwark_score":1.50,"x_bulwark_big":12345678901234567890,"x_bulwark_exp":1e3,"x_bulwark_nested":{"z":[1,{"a":null}],"a":true},"x_bulwark_empty":{},"x_bulwark_list":[]}`,
		`{"type":"x-acme-widget","spec_version":"2.1","id":"x-acme-widget--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d","created":"2023-01-01T00:00:00Z","modified":"2023-06-01T12:00:00.5Z","x_acme_wallet":"1BoatSLRHtKNngkdXEeobR76b53LETtpyT","labels":["custom"]}`,
	}
	var objs []*stix.Object
	for _, raw := range raws {
		o, err := stix.Decode([]byte(raw))
		if err != nil {
			t.Fatalf("decoding %s: %v", raw, err)
		}
		if string(o.Raw) != raw {
			t.Fatalf("fixture is not compact JSON: %s", o.Raw)
		}
		objs = append(objs, o)
	}
	put(t, s, c.ID, objs...)
	for i, o := range objs {
		got, err := s.Get(ctx, o.ID, store.Versions{})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[0].Object.Raw, []byte(raws[i])) {
			t.Errorf("Get raw:\n got  %s\n want %s", got[0].Object.Raw, raws[i])
		}
	}
	recs := queryAll(t, s, store.Query{Collection: c.ID, Types: []string{"x-acme-widget"}})
	if len(recs) != 1 || string(recs[0].Object.Raw) != raws[1] || recs[0].Object.Type != "x-acme-widget" {
		t.Fatalf("query custom type: %v", keys(recs))
	}
	if recs[0].Object.String("x_acme_wallet") != "1BoatSLRHtKNngkdXEeobR76b53LETtpyT" {
		t.Errorf("custom property read back as %q", recs[0].Object.String("x_acme_wallet"))
	}
	if st, err := s.Stats(ctx); err != nil || st.ByType["x-acme-widget"] != 1 {
		t.Errorf("stats: %+v, %v", st, err)
	}
}

// testFarFuture: STIX timestamps run to year 9999; versions that far out
// must still order correctly and come back as given.
func testFarFuture(t *testing.T, s store.Store) {
	c := newColl(t, s, "future", 0)
	mk := func(modified string) *stix.Object {
		return build(t, map[string]any{
			"type": "intrusion-set", "spec_version": "2.1", "id": id("intrusion-set", "future"),
			"created": "2024-01-01T00:00:00.000Z", "modified": modified, "name": "Future " + modified,
		})
	}
	near, far := mk("2300-06-01T00:00:00.000Z"), mk("9999-12-31T23:59:59.999Z")
	wantOutcomes(t, put(t, s, c.ID, far), store.Created)
	wantOutcomes(t, put(t, s, c.ID, near), store.Stale)
	recs, err := s.Get(ctx, far.ID, store.Versions{Mode: store.Last})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Object.String("modified") != "9999-12-31T23:59:59.999Z" || recs[0].Version.Year() != 9999 {
		t.Fatalf("last version: %+v", recs)
	}
}
