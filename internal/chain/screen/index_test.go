package screen_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/chain/screen"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
	"github.com/bulwark-intel/bulwark/internal/store/sqlite"
)

func newStore(t testing.TB, colls ...string) store.Store {
	t.Helper()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, c := range colls {
		if _, err := s.CreateCollection(ctx, store.Collection{Title: c}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// risks screens addrs as the operator and returns their risks.
func risks(t *testing.T, ix *screen.Index, addrs ...string) []string {
	t.Helper()
	res, err := ix.Screen(ctx, screen.Operator(stix.TLPNone), addrs)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(res))
	for i, r := range res {
		out[i] = r.Risk
	}
	return out
}

func mustUpdate(t *testing.T, ix *screen.Index) screen.UpdateStats {
	t.Helper()
	us, err := ix.Update(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return us
}

// The index follows the store: new listings, new versions (another
// address, other labels), revocations, attribution arriving after its
// indicator, new collections, and stale versions that must not win.
func TestIndexUpdates(t *testing.T) {
	s := newStore(t, "c")
	ix := load(t, s)
	a, b, c := evm(1), evm(2), evm(3)
	if got := risks(t, ix, a); got[0] != screen.None {
		t.Fatalf("empty index: %v", got)
	}
	id := uid("indicator", 1)
	put(t, s, "c", wallet(t, id, "w", a, mClear, "", nil))
	if us := mustUpdate(t, ix); us.Applied != 1 || us.Rebuilt {
		t.Errorf("update: %+v", us)
	}
	if got := risks(t, ix, a, b); got[0] != screen.High || got[1] != screen.None {
		t.Errorf("after add: %v", got)
	}
	// A new version moves the listing to b and makes it a mixer.
	put(t, s, "c", wallet(t, id, "w", b, mClear, "", map[string]any{"modified": "2024-02-01T00:00:00.000Z", "labels": []string{"mixer"}}))
	mustUpdate(t, ix)
	if got := risks(t, ix, a, b); got[0] != screen.None || got[1] != screen.Medium {
		t.Errorf("after new version: %v", got)
	}
	// An older version arriving later changes nothing.
	put(t, s, "c", wallet(t, id, "w", c, mClear, "", map[string]any{"modified": "2024-01-15T00:00:00.000Z"}))
	mustUpdate(t, ix)
	if got := risks(t, ix, b, c); got[0] != screen.Medium || got[1] != screen.None {
		t.Errorf("after stale version: %v", got)
	}
	// Attribution arrives after the indicator: severe.
	put(t, s, "c", namedObj(t, "intrusion-set", uid("intrusion-set", 9), "LAZARUS GROUP", mClear),
		relObj(t, uid("relationship", 9), "indicates", id, uid("intrusion-set", 9), mClear, ""))
	mustUpdate(t, ix)
	res, err := ix.Screen(ctx, screen.Operator(stix.TLPNone), []string{b})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Risk != screen.Severe || res[0].Reasons[0].Actor != "LAZARUS GROUP" {
		t.Errorf("after attribution: %+v", res[0])
	}
	// The actor is renamed.
	put(t, s, "c", withProps(t, namedObj(t, "intrusion-set", uid("intrusion-set", 9), "Lazarus", mClear), map[string]any{"modified": "2024-03-01T00:00:00.000Z"}))
	mustUpdate(t, ix)
	if res, _ = ix.Screen(ctx, screen.Operator(stix.TLPNone), []string{b}); res[0].Reasons[0].Actor != "Lazarus" {
		t.Errorf("after rename: %+v", res[0])
	}
	// The relationship is revoked: back to medium.
	put(t, s, "c", withProps(t, relObj(t, uid("relationship", 9), "indicates", id, uid("intrusion-set", 9), mClear, ""), map[string]any{"modified": "2024-03-01T00:00:00.000Z", "revoked": true}))
	mustUpdate(t, ix)
	if got := risks(t, ix, b); got[0] != screen.Medium {
		t.Errorf("after relationship revoked: %v", got)
	}
	// The indicator is revoked.
	put(t, s, "c", wallet(t, id, "w", b, mClear, "", map[string]any{"modified": "2024-04-01T00:00:00.000Z", "revoked": true}))
	mustUpdate(t, ix)
	if got := risks(t, ix, a, b, c); got[0] != screen.None || got[1] != screen.None || got[2] != screen.None {
		t.Errorf("after revocation: %v", got)
	}
	// A collection created after the first load.
	if _, err := s.CreateCollection(ctx, store.Collection{Title: "late"}); err != nil {
		t.Fatal(err)
	}
	put(t, s, "late", wallet(t, uid("indicator", 2), "late", c, mClear, "", nil))
	mustUpdate(t, ix)
	if got := risks(t, ix, c); got[0] != screen.High {
		t.Errorf("new collection: %v", got)
	}
	// Nothing new: nothing applied.
	if us := mustUpdate(t, ix); us.Applied != 0 || us.Records != 0 {
		t.Errorf("idle update: %+v", us)
	}
	st := ix.Stats()
	if st.Indicators != 2 || st.Listings != 2 || st.Addresses != 3 || st.Bytes <= 0 {
		t.Errorf("stats: %+v", st)
	}
}

// An object taken out of a collection (TAXII DELETE) is not an addition:
// the collection's removal count tells the next Update to reload, so the
// listing is gone from screening as soon as from every other read.
func TestIndexSeesRemovals(t *testing.T) {
	s := newStore(t, "c")
	put(t, s, "c", wallet(t, uid("indicator", 1), "w", evm(1), mClear, "", nil))
	put(t, s, "c", wallet(t, uid("indicator", 2), "w2", evm(2), mClear, "", nil))
	ix := screen.NewIndex(s, screen.IndexOptions{RebuildEvery: -1, RemovalGap: -1})
	mustUpdate(t, ix)
	// A second index spaces reloads for removals by an hour.
	slow := screen.NewIndex(s, screen.IndexOptions{RebuildEvery: -1, RemovalGap: time.Hour})
	mustUpdate(t, slow)
	coll, err := s.Collection(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	// Without a removal, updates poll.
	if us := mustUpdate(t, ix); us.Rebuilt {
		t.Fatalf("an update without removals reloaded: %+v", us)
	}
	if n, err := s.Remove(ctx, coll.ID, uid("indicator", 1), store.Versions{Mode: store.All}); err != nil || n != 1 {
		t.Fatalf("remove: %d %v", n, err)
	}
	if us := mustUpdate(t, ix); !us.Rebuilt {
		t.Errorf("the update after a removal did not reload: %+v", us)
	}
	if got := risks(t, ix, evm(1), evm(2)); got[0] != screen.None || got[1] != screen.High {
		t.Errorf("after the removal: %v, want none for the removed listing and high for the other", got)
	}
	if us := mustUpdate(t, ix); us.Rebuilt {
		t.Errorf("an update with no new removal reloaded again: %+v", us)
	}
	// Within the gap the slow index keeps the removed listing, and still
	// takes additions.
	put(t, s, "c", wallet(t, uid("indicator", 3), "w3", evm(3), mClear, "", nil))
	if us := mustUpdate(t, slow); us.Rebuilt {
		t.Errorf("a reload for a removal within the gap: %+v", us)
	}
	if got := risks(t, slow, evm(1), evm(3)); got[0] != screen.High || got[1] != screen.High {
		t.Errorf("within the gap: %v, want the removed listing kept and the new one added", got)
	}
}

// Many listings of one address, across collections and indicators, and
// one indicator listing many addresses.
func TestIndexManyListings(t *testing.T) {
	s := newStore(t, "c1", "c2")
	var objs []*stix.Object
	for i := range 40 {
		objs = append(objs, wallet(t, uid("indicator", 100+i), "shared", evm(7), mClear, "", nil))
	}
	put(t, s, "c1", objs...)
	put(t, s, "c2", objs[:10]...)
	pattern := "["
	for i := range 300 {
		if i > 0 {
			pattern += " OR "
		}
		pattern += "cryptocurrency-wallet:address = '" + evm(1000+i) + "'"
	}
	pattern += "]"
	put(t, s, "c1", stixObj(t, map[string]any{"type": "indicator", "id": uid("indicator", 999), "name": "many",
		"pattern": pattern, "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z", "labels": []string{"mixer"}}))
	ix := load(t, s)
	res, err := ix.Screen(ctx, screen.Operator(stix.TLPNone), []string{evm(7), evm(1000), evm(1299), evm(1300)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res[0].Reasons) != 40 || res[1].Risk != screen.Medium || res[2].Risk != screen.Medium || res[3].Risk != screen.None {
		t.Errorf("got %d reasons, %s, %s, %s", len(res[0].Reasons), res[1].Risk, res[2].Risk, res[3].Risk)
	}
	// Revoke half of the shared ones in c1: c2's copies of the first ten
	// still list the address.
	var rev []*stix.Object
	for i := range 20 {
		rev = append(rev, withProps(t, objs[i], map[string]any{"modified": "2024-05-01T00:00:00.000Z", "revoked": true}))
	}
	put(t, s, "c1", rev...)
	mustUpdate(t, ix)
	res, _ = ix.Screen(ctx, screen.Operator(stix.TLPNone), []string{evm(7)})
	if len(res[0].Reasons) != 30 {
		t.Errorf("after revoking 20 in c1: %d reasons, want 30 (20 live in c1, 10 in c2)", len(res[0].Reasons))
	}
}

// Screening goes on while the index updates and rebuilds (run with -race).
func TestIndexConcurrent(t *testing.T) {
	s := newStore(t, "c")
	ix := load(t, s)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			addrs := []string{evm(1), evm(2), evm(3), "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"}
			for ctx.Err() == nil {
				if _, err := ix.Screen(ctx, screen.Operator(stix.TLPNone), addrs); err != nil && ctx.Err() == nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := range 30 {
		put(t, s, "c", wallet(t, uid("indicator", i), "w", evm(i%4), mClear, "", nil))
		if i%10 == 9 {
			if _, err := ix.Rebuild(ctx); err != nil {
				t.Fatal(err)
			}
		} else {
			mustUpdate(t, ix)
		}
	}
	cancel()
	wg.Wait()
	if got := risks(t, ix, evm(3)); got[0] != screen.High {
		t.Errorf("after concurrent updates: %v", got)
	}
}

// Refresh loads on first use and then updates in the background.
func TestIndexRefresh(t *testing.T) {
	s := newStore(t, "c")
	ix := screen.NewIndex(s, screen.IndexOptions{RebuildEvery: -1})
	put(t, s, "c", wallet(t, uid("indicator", 1), "w", evm(1), mClear, "", nil))
	if err := ix.Refresh(ctx, time.Hour); err != nil || !ix.Loaded() {
		t.Fatal(err)
	}
	if got := risks(t, ix, evm(1)); got[0] != screen.High {
		t.Errorf("after first refresh: %v", got)
	}
	put(t, s, "c", wallet(t, uid("indicator", 2), "w", evm(2), mClear, "", nil))
	deadline := time.Now().Add(10 * time.Second)
	for risks(t, ix, evm(2))[0] != screen.High {
		if time.Now().After(deadline) {
			t.Fatal("background refresh never saw the new listing")
		}
		if err := ix.Refresh(ctx, 0); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A Batch screened into again gives what a fresh Screen gives, whatever
// it held before, and once warm allocates nothing for valid addresses.
func TestScreenBatchReuse(t *testing.T) {
	s := newStore(t, "c")
	var objs []*stix.Object
	for i := range 600 {
		objs = append(objs, wallet(t, uid("indicator", i), fmt.Sprintf("wallet %d", i), evm(i%500), mClear, "", nil))
	}
	put(t, s, "c", objs...)
	ix := load(t, s)
	pol := screen.Operator(stix.TLPNone)
	// Batches of different sizes and hit patterns, so later ones land on
	// slabs earlier ones filled: listed once, twice (i < 100), unlisted,
	// invalid.
	batches := [][]string{}
	for n, step := range []int{1, 3, 7, 2} {
		var b []string
		for i := n; i < 1200; i += step {
			b = append(b, evm(i))
		}
		b = append(b, "not an address")
		batches = append(batches, b)
	}
	var batch screen.Batch
	for round := range 2 {
		for k, addrs := range batches {
			want, err := ix.Screen(ctx, pol, addrs)
			if err != nil {
				t.Fatal(err)
			}
			if err := ix.ScreenBatch(ctx, pol, addrs, &batch); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(batch.Results, want) {
				t.Fatalf("round %d, batch %d: reused Batch differs from Screen", round, k)
			}
			if round == 0 && k == 0 && (len(want[1].Reasons) != 2 || want[600].Risk != screen.None) {
				t.Fatalf("fixture: %+v %+v", want[1], want[600])
			}
		}
	}
	// Valid addresses (an invalid one's error message is made for it).
	valid := batches[0][:len(batches[0])-1]
	if allocs := testing.AllocsPerRun(20, func() {
		if err := ix.ScreenBatch(ctx, pol, valid, &batch); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("a warm Batch allocates %.0f times a call, want 0", allocs)
	}
}
