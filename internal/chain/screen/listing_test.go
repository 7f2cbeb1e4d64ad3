package screen

import (
	"fmt"
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

// TestSourceNamePerBatch: a batch remembers its creators' names, and the
// next batch (after the lock was let go) sees a rename.
func TestSourceNamePerBatch(t *testing.T) {
	st := newState(0)
	st.collNum["c"] = 0
	st.colls = append(st.colls, collState{id: "c", defaultTLP: stix.TLPClear})
	const creator = "identity--00000000-0000-4000-8000-000000000001"
	name := func(n string, modified int64) {
		ch := change{kind: kNamed, id: creator, modified: modified, name: n}
		if !st.apply(&ch) {
			t.Fatalf("name %q not applied", n)
		}
	}
	name("Partner CERT", 1)
	addrs := []string{"0x098b716b8aaf21512996dc57eb0615e2383e2f96", "0xa0e1c89ef1a489c9c7de96311ed5ce5d32c20e4b"}
	for i, a := range addrs {
		ch := change{kind: kIndicator, id: fmt.Sprintf("indicator--0123abcd-ef01-4234-8567-89abcdef012%d", i), modified: 1,
			vis: visFacts{createdBy: creator}, name: "w", grade: gHigh, keys: [][]byte{appendKey(nil, a)}}
		if !st.apply(&ch) {
			t.Fatal("indicator not applied")
		}
	}
	pol := Operator(stix.TLPNone)
	var sc scratch
	screenAll := func() []Result {
		out := make([]Result, len(addrs))
		for i, a := range addrs {
			parseInput(&out[i], a)
		}
		v := pol.resolve(st)
		st.directBatch(&v, out, &sc)
		return out
	}
	for _, r := range screenAll() {
		if len(r.Reasons) != 1 || r.Reasons[0].Source != "Partner CERT" {
			t.Fatalf("first batch: %+v", r)
		}
	}
	name("Partner CERT (renamed)", 2)
	for _, r := range screenAll() {
		if len(r.Reasons) != 1 || r.Reasons[0].Source != "Partner CERT (renamed)" {
			t.Fatalf("after the rename: %+v", r)
		}
	}
	if sc.namesOn {
		t.Error("the name cache stays on after the batch")
	}
}
