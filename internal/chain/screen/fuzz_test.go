package screen

import (
	"context"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/stix"
)

// FuzzAppendKey: index keys turn back into the text they came from, and
// only canonical EVM addresses take the compact form.
func FuzzAppendKey(f *testing.F) {
	for _, s := range []string{"0x098b716b8aaf21512996dc57eb0615e2383e2f96", "0x098B716B8Aaf21512996dC57EB0615e2383E2f96",
		"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "", "0x", "\x00abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := appendKey(nil, s)
		if len(s) <= maxKeyLen && keyString(k) != s && !(len(k) == 21 && k[0] == 0) {
			t.Fatalf("%q → %x → %q", s, k, keyString(k))
		}
		if len(k) == 21 && k[0] == 0 && len(s) == 42 && keyString(k) != s {
			t.Fatalf("compact key of %q reads back as %q", s, keyString(k))
		}
		if canonicalEVM(s) != (len(k) == 21 && k[0] == 0 && s[0] == '0') {
			t.Fatalf("%q: canonicalEVM %v, key %x", s, canonicalEVM(s), k)
		}
	})
}

// FuzzScreenInput: any input is answered, never a panic, and an input
// that parses is looked up under its canonical form.
func FuzzScreenInput(f *testing.F) {
	ix := NewIndex(nil, IndexOptions{RebuildEvery: -1})
	st := ix.st
	st.collNum["c"] = 0
	st.colls = append(st.colls, collState{id: "c"})
	ch := change{kind: kIndicator, id: "indicator--00000000-0000-4000-8000-000000000001", modified: 1,
		vis: visFacts{tlp: stix.TLPClear}, name: "listed", grade: gHigh,
		keys: [][]byte{appendKey(nil, "0x098b716b8aaf21512996dc57eb0615e2383e2f96"), appendKey(nil, "1a1zp1ep5qgefi2dmptftl5slmv7divfna")}}
	st.reserve([]change{ch}, func() {}, func() {})
	st.apply(&ch)
	for _, s := range []string{"0x098B716B8Aaf21512996dC57EB0615e2383E2f96", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "bogus", "", " 0x098b716b8aaf21512996dc57eb0615e2383e2f96 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		res, err := ix.Screen(context.Background(), Operator(stix.TLPNone), []string{s})
		if err != nil || len(res) != 1 {
			t.Fatal(err)
		}
		r := res[0]
		if (r.Error == "") == (r.Canonical == "") || (r.Error != "" && r.Risk != None) {
			t.Fatalf("%q: %+v", s, r)
		}
		if r.Canonical == "0x098b716b8aaf21512996dc57eb0615e2383e2f96" && r.Risk != High {
			t.Fatalf("%q: listed address not found: %+v", s, r)
		}
	})
}

// FuzzIndicatorID: an id kept as a UUID comes back as it was written.
func FuzzIndicatorID(f *testing.F) {
	f.Add("indicator--0123abcd-ef01-4234-8567-89abcdef0123")
	f.Add("indicator--ffffffff-ffff-ffff-ffff-ffffffffffff")
	f.Add("indicator--00000000-0000-0000-0000-00000000000G")
	f.Fuzz(func(t *testing.T, id string) {
		st := newState(0)
		ind, _ := st.newInd(id, 0)
		if got := st.indicatorID(ind); got != id {
			t.Fatalf("%q came back as %q", id, got)
		}
	})
}
