package screen

import (
	"testing"

	"github.com/bulwark-intel/bulwark/internal/stix"
)

// TestListingCopies: every listing of an indicator carries its UUID and
// attribution, whichever came first: the listing in another collection or
// the relationship.
func TestListingCopies(t *testing.T) {
	st := newState(0)
	for i, id := range []string{"c0", "c1", "c2"} {
		st.collNum[id] = uint16(i)
		st.colls = append(st.colls, collState{id: id, defaultTLP: stix.TLPClear})
	}
	const ind = "indicator--0123abcd-ef01-4234-8567-89abcdef0123"
	listIn := func(coll uint16) {
		t.Helper()
		ch := change{kind: kIndicator, id: ind, modified: 1, vis: visFacts{coll: coll},
			name: "w", grade: gHigh, keys: [][]byte{appendKey(nil, "0x098b716b8aaf21512996dc57eb0615e2383e2f96")}}
		if !st.apply(&ch) {
			t.Fatalf("listing in collection %d not applied", coll)
		}
	}
	relate := func(modified int64, revoked bool) {
		t.Helper()
		ch := change{kind: kRelationship, id: "relationship--00000000-0000-4000-8000-000000000001", modified: modified,
			revoked: revoked, src: ind, dst: "intrusion-set--00000000-0000-4000-8000-000000000002", attrib: true}
		if !st.apply(&ch) {
			t.Fatal("relationship not applied")
		}
	}
	check := func(step string, n int, attributed bool) {
		t.Helper()
		i, ok := st.findInd(ind)
		if !ok {
			t.Fatalf("%s: indicator not found by its id", step)
		}
		if got := st.indicatorID(i); got != ind {
			t.Fatalf("%s: id %q", step, got)
		}
		seen := 0
		for p := st.ind(i).first; p != 0; p = st.listing(p - 1).next {
			l := st.listing(p - 1)
			seen++
			if l.ind != i || l.attributed != attributed {
				t.Errorf("%s: listing in collection %d: ind %d attributed %v, want %d %v", step, l.coll, l.ind, l.attributed, i, attributed)
			}
			b := make([]byte, indicatorIDLen)
			if putIndicatorID(b, &l.uuid); string(b) != ind {
				t.Errorf("%s: listing in collection %d spells %s", step, l.coll, b)
			}
		}
		if seen != n {
			t.Errorf("%s: %d listings, want %d", step, seen, n)
		}
	}
	listIn(0)
	check("first listing", 1, false)
	listIn(1)
	check("second collection", 2, false)
	relate(1, false)
	check("attributed", 2, true)
	listIn(2)
	check("third collection after attribution", 3, true)
	relate(2, true)
	check("relationship revoked", 3, false)
}
