package screen_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/access"
	"github.com/bulwark-intel/bulwark/internal/chain/graph"
	"github.com/bulwark-intel/bulwark/internal/chain/screen"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
	"github.com/bulwark-intel/bulwark/internal/store/sqlite"
)

// stixObj builds and validates one object from properties.
func stixObj(t testing.TB, m map[string]any) *stix.Object {
	t.Helper()
	if _, ok := m["spec_version"]; !ok {
		m["spec_version"] = "2.1"
	}
	if _, ok := m["created"]; !ok && m["type"] != "cryptocurrency-wallet" {
		m["created"] = "2024-01-01T00:00:00.000Z"
	}
	if _, ok := m["modified"]; !ok && m["type"] != "cryptocurrency-wallet" {
		m["modified"] = m["created"]
	}
	o, err := stix.FromMap(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := stix.Validate(o); err != nil {
		t.Fatalf("%s: %v", m["id"], err)
	}
	return o
}

// wallet builds an indicator listing addr. tlp is a marking id or "".
func wallet(t testing.TB, id, name, addr, tlp, createdBy string, extra map[string]any) *stix.Object {
	m := map[string]any{"type": "indicator", "id": id, "name": name,
		"pattern": fmt.Sprintf("[cryptocurrency-wallet:address = '%s']", addr), "pattern_type": "stix",
		"valid_from": "2024-01-01T00:00:00Z", "labels": []string{"perpetrator"}}
	if tlp != "" {
		m["object_marking_refs"] = []string{tlp}
	}
	if createdBy != "" {
		m["created_by_ref"] = createdBy
	}
	for k, v := range extra {
		m[k] = v
	}
	return stixObj(t, m)
}

func relObj(t testing.TB, id, typ, src, dst, tlp, createdBy string) *stix.Object {
	m := map[string]any{"type": "relationship", "id": id, "relationship_type": typ, "source_ref": src, "target_ref": dst}
	if tlp != "" {
		m["object_marking_refs"] = []string{tlp}
	}
	if createdBy != "" {
		m["created_by_ref"] = createdBy
	}
	return stixObj(t, m)
}

func namedObj(t testing.TB, typ, id, name, tlp string) *stix.Object {
	m := map[string]any{"type": typ, "id": id, "name": name}
	if typ == "identity" {
		m["identity_class"] = "organization"
	}
	if tlp != "" {
		m["object_marking_refs"] = []string{tlp}
	}
	return stixObj(t, m)
}

func withProps(t testing.TB, o *stix.Object, props map[string]any) *stix.Object {
	t.Helper()
	o, err := o.WithProps(props)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func put(t testing.TB, s store.Store, coll string, objs ...*stix.Object) {
	t.Helper()
	items := make([]store.PutItem, len(objs))
	for i, o := range objs {
		items[i] = store.PutItem{Object: o, Source: "test"}
	}
	if _, err := s.Put(ctx, coll, items); err != nil {
		t.Fatal(err)
	}
}

func uid(prefix string, n int) string {
	return fmt.Sprintf("%s--00000000-0000-4000-8000-%012d", prefix, n)
}

func evm(n int) string { return fmt.Sprintf("0x%040x", n) }

// accessWorld is a hub with several organisations, clearances, a secret
// collection, a public one, RED objects with and without recipients, and
// attribution that only some may see.
type accessWorld struct {
	s    store.Store
	acc  *access.Service
	ix   *screen.Index
	orgs map[string]store.Org
	// want[org][address] = the indicator ids the organisation may see.
	want map[string]map[string][]string
}

const (
	mClear  = stix.TLP2Clear
	mGreen  = stix.TLP2Green
	mAmber  = stix.TLP2Amber
	mStrict = stix.TLP2AmberStrict
	mRed    = stix.TLP2Red
)

func newAccessWorld(t *testing.T) *accessWorld {
	t.Helper()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	w := &accessWorld{s: s, acc: access.New(s), orgs: map[string]store.Org{}}
	t.Cleanup(func() { w.acc.Close() })
	for _, o := range []store.Org{
		{Name: "bank", Clearance: stix.TLPGreen, Identity: uid("identity", 101)},
		{Name: "exchange", Clearance: stix.TLPAmber, Identity: uid("identity", 102)},
		{Name: "cert", Clearance: stix.TLPRed, Identity: uid("identity", 103)},
		{Name: "ncsc", Clearance: stix.TLPRed, Identity: uid("identity", 104)},
		{Name: "outsider", Clearance: stix.TLPRed, Identity: uid("identity", 105)}, // no grant anywhere
		{Name: "admin", Clearance: stix.TLPRed, Admin: true, Identity: uid("identity", 106)},
	} {
		org, err := s.CreateOrg(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		w.orgs[o.Name] = org
	}
	coll := func(title string, c store.Collection, readers ...string) {
		c.Title = title
		if _, err := access.CreateCollection(ctx, s, c, readers, nil); err != nil {
			t.Fatal(err)
		}
	}
	coll("shared", store.Collection{}, "bank", "exchange", "cert", "ncsc")
	coll("secret", store.Collection{DefaultTLP: stix.TLPClear}, "cert") // not granted to the others
	coll("public", store.Collection{Public: true})
	coll("redroom", store.Collection{DefaultTLP: stix.TLPRed}, "cert", "ncsc")

	cert, ncsc := w.orgs["cert"].Identity, w.orgs["ncsc"].Identity
	put(t, s, "shared",
		namedObj(t, "identity", uid("identity", 201), "Open Source Feed", mClear),
		namedObj(t, "identity", uid("identity", 202), "Confidential Partner", mAmber),
		namedObj(t, "intrusion-set", uid("intrusion-set", 301), "LAZARUS GROUP", mClear),
		withProps(t, namedObj(t, "intrusion-set", uid("intrusion-set", 302), "SECRET UNIT 180", mRed), map[string]any{"created_by_ref": cert}),
		wallet(t, uid("indicator", 1), "clear wallet", evm(1), mClear, uid("identity", 201), nil),
		wallet(t, uid("indicator", 2), "green wallet", evm(2), mGreen, uid("identity", 202), nil),
		wallet(t, uid("indicator", 3), "amber wallet", evm(3), mAmber, "", nil),
		wallet(t, uid("indicator", 4), "strict wallet", evm(4), mStrict, "", nil),
		wallet(t, uid("indicator", 5), "unmarked wallet", evm(5), "", "", nil), // collection default: AMBER
		wallet(t, uid("indicator", 6), "red wallet", evm(6), mRed, cert, nil),
		wallet(t, uid("indicator", 7), "red wallet for ncsc", evm(7), mRed, cert, map[string]any{"x_bulwark_recipients": []string{ncsc}}),
		// A CLEAR listing attributed only through a RED relationship to a
		// RED actor: only RED viewers learn it is Unit 180's.
		wallet(t, uid("indicator", 8), "attributed wallet", evm(8), mClear, "", map[string]any{"labels": []string{"mixer"}}),
		relObj(t, uid("relationship", 401), "indicates", uid("indicator", 8), uid("intrusion-set", 302), mRed, cert),
		// A CLEAR attribution to a CLEAR actor.
		wallet(t, uid("indicator", 9), "lazarus wallet", evm(9), mClear, "", map[string]any{"labels": []string{"exchange"}}),
		relObj(t, uid("relationship", 402), "indicates", uid("indicator", 9), uid("intrusion-set", 301), mClear, ""),
		// The same address listed at GREEN here and CLEAR in public.
		wallet(t, uid("indicator", 10), "twice listed", evm(10), mGreen, "", nil),
		// Recipients count by position, empty ones too (the stores'
		// rule): ncsc at position 1001 is not one, at position 6 it is.
		wallet(t, uid("indicator", 11), "red, ncsc 1001st", evm(11), mRed, cert, map[string]any{"x_bulwark_recipients": recipientsAt(1000, ncsc)}),
		wallet(t, uid("indicator", 12), "red, ncsc 6th", evm(12), mRed, cert, map[string]any{"x_bulwark_recipients": recipientsAt(5, ncsc)}),
	)
	put(t, s, "secret", wallet(t, uid("indicator", 20), "secret wallet", evm(20), "", "", nil)) // default CLEAR, but nobody else may read the collection
	put(t, s, "public",
		wallet(t, uid("indicator", 30), "public wallet", evm(30), mClear, "", nil),
		wallet(t, uid("indicator", 31), "public green wallet", evm(31), mGreen, "", nil),
		// A later version, CLEAR, only in the public collection.
		wallet(t, uid("indicator", 10), "twice listed", evm(10), mClear, "", map[string]any{"modified": "2024-02-01T00:00:00.000Z"}),
	)
	// Unmarked in a RED collection: RED by default, and recipients count
	// only on objects marked RED themselves (the store's rule), so ncsc,
	// though named, does not see it; its creator does.
	put(t, s, "redroom", wallet(t, uid("indicator", 40), "default red", evm(40), "", cert, map[string]any{"x_bulwark_recipients": []string{ncsc}}))

	w.ix = load(t, s)
	w.want = map[string]map[string][]string{
		"bank":      {evm(1): {"1"}, evm(2): {"2"}, evm(8): {"8"}, evm(9): {"9"}, evm(10): {"10"}, evm(30): {"30"}},
		"exchange":  {evm(1): {"1"}, evm(2): {"2"}, evm(3): {"3"}, evm(5): {"5"}, evm(8): {"8"}, evm(9): {"9"}, evm(10): {"10"}, evm(30): {"30"}},
		"cert":      {evm(1): {"1"}, evm(2): {"2"}, evm(3): {"3"}, evm(4): {"4"}, evm(5): {"5"}, evm(6): {"6"}, evm(7): {"7"}, evm(8): {"8"}, evm(9): {"9"}, evm(10): {"10"}, evm(11): {"11"}, evm(12): {"12"}, evm(20): {"20"}, evm(30): {"30"}, evm(40): {"40"}},
		"ncsc":      {evm(1): {"1"}, evm(2): {"2"}, evm(3): {"3"}, evm(4): {"4"}, evm(5): {"5"}, evm(7): {"7"}, evm(8): {"8"}, evm(9): {"9"}, evm(10): {"10"}, evm(12): {"12"}, evm(30): {"30"}},
		"outsider":  {evm(10): {"10"}, evm(30): {"30"}}, // public collection, CLEAR only
		"anonymous": {evm(10): {"10"}, evm(30): {"30"}},
		"admin":     {evm(1): {"1"}, evm(2): {"2"}, evm(3): {"3"}, evm(4): {"4"}, evm(5): {"5"}, evm(6): {"6"}, evm(7): {"7"}, evm(8): {"8"}, evm(9): {"9"}, evm(10): {"10"}, evm(11): {"11"}, evm(12): {"12"}, evm(20): {"20"}, evm(30): {"30"}, evm(31): {"31"}, evm(40): {"40"}},
	}
	return w
}

func (w *accessWorld) viewer(name string) access.Viewer {
	if name == "anonymous" {
		return access.Anonymous
	}
	return access.Viewer{Org: w.orgs[name]}
}

func (w *accessWorld) screenAs(t *testing.T, name string, addrs []string) []screen.Result {
	t.Helper()
	pol, err := screen.PolicyFor(ctx, w.acc, w.viewer(name))
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.ix.Screen(ctx, pol, addrs)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

var clearance = map[string]stix.TLP{"bank": stix.TLPGreen, "exchange": stix.TLPAmber, "cert": stix.TLPRed,
	"ncsc": stix.TLPRed, "outsider": stix.TLPRed, "anonymous": stix.TLPClear, "admin": stix.TLPRed}

func allAddrs() []string {
	var out []string
	for _, n := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 20, 30, 31, 40, 99} {
		out = append(out, evm(n))
	}
	return out
}

// Every organisation gets exactly the listings the access policy lets it
// read — no more (clearance, RED recipients, ungranted collections) and
// no less — and the same set the access package's own value search gives.
func TestAccessEvidencePerViewer(t *testing.T) {
	w := newAccessWorld(t)
	addrs := allAddrs()
	for org, want := range w.want {
		t.Run(org, func(t *testing.T) {
			res := w.screenAs(t, org, addrs)
			rd := w.acc.ReaderFor(w.viewer(org))
			for _, r := range res {
				var got []string
				for _, reason := range r.Reasons {
					got = append(got, strings.TrimLeft(strings.TrimPrefix(reason.Indicator, "indicator--00000000-0000-4000-8000-"), "0"))
					tlp, err := stix.ParseTLP(reason.TLP)
					if err != nil || tlp > clearance[org] {
						t.Errorf("%s: evidence at TLP %q above clearance %s", r.Canonical, reason.TLP, clearance[org])
					}
				}
				sort.Strings(got)
				if !slices.Equal(got, want[r.Canonical]) {
					t.Errorf("%s: sees %v, want %v", r.Canonical, got, want[r.Canonical])
				}
				if (len(got) == 0) != (r.Risk == screen.None) {
					t.Errorf("%s: risk %s with evidence %v", r.Canonical, r.Risk, got)
				}
				// Oracle: the access package's value search.
				recs, err := rd.ByValue(ctx, r.Canonical, 100)
				if err != nil {
					t.Fatal(err)
				}
				var oracle []string
				for _, rec := range recs {
					if rec.Object.Type == "indicator" {
						oracle = append(oracle, strings.TrimLeft(strings.TrimPrefix(rec.Object.ID, "indicator--00000000-0000-4000-8000-"), "0"))
					}
				}
				sort.Strings(oracle)
				if !slices.Equal(got, oracle) {
					t.Errorf("%s: index shows %v, the access package's search %v", r.Canonical, got, oracle)
				}
			}
		})
	}
}

// Attribution, actor names and source names leak neither through the
// evidence nor through the risk grade.
func TestAccessAttributionAndNames(t *testing.T) {
	w := newAccessWorld(t)
	for _, org := range []string{"bank", "exchange", "ncsc", "cert", "admin"} {
		res := w.screenAs(t, org, []string{evm(8), evm(9), evm(1), evm(2)})
		unit180, lazarus, src1, src2 := res[0], res[1], res[2], res[3]
		red := clearance[org] == stix.TLPRed && org != "ncsc" // ncsc is no recipient of the RED relationship
		if red {
			if unit180.Risk != screen.Severe || unit180.Reasons[0].Actor != "SECRET UNIT 180" {
				t.Errorf("%s: attributed mixer: %+v", org, unit180)
			}
		} else {
			if unit180.Risk != screen.Medium || unit180.Reasons[0].Actor != "" {
				t.Errorf("%s: a hidden attribution shows (risk %s, actor %q)", org, unit180.Risk, unit180.Reasons[0].Actor)
			}
		}
		if lazarus.Risk != screen.Severe || lazarus.Reasons[0].Actor != "LAZARUS GROUP" {
			t.Errorf("%s: CLEAR attribution: %+v", org, lazarus)
		}
		if src1.Reasons[0].Source != "Open Source Feed" {
			t.Errorf("%s: CLEAR source name: %+v", org, src1.Reasons[0])
		}
		wantSrc := "Confidential Partner"
		if org == "bank" {
			wantSrc = "" // the identity is AMBER, the bank GREEN
		}
		if src2.Reasons[0].Source != wantSrc {
			t.Errorf("%s: AMBER source name %q, want %q", org, src2.Reasons[0].Source, wantSrc)
		}
		for _, r := range res {
			for _, reason := range r.Reasons {
				if !red && strings.Contains(reason.Actor+reason.Name+reason.Source, "180") {
					t.Errorf("%s: leaked %+v", org, reason)
				}
			}
		}
	}
}

// The least restricted visible listing is shown; a viewer who sees both
// copies of an indicator gets it once.
func TestAccessLeastRestricted(t *testing.T) {
	w := newAccessWorld(t)
	for org, tlp := range map[string]string{"bank": "clear", "admin": "clear", "anonymous": "clear"} {
		res := w.screenAs(t, org, []string{evm(10)})
		if len(res[0].Reasons) != 1 || res[0].Reasons[0].TLP != tlp || res[0].TLP != tlp {
			t.Errorf("%s: %+v", org, res[0])
		}
	}
}

// Policy changes apply to the very next policy: a grant taken away hides
// the collection's evidence, a clearance raised shows more.
func TestAccessPolicyChanges(t *testing.T) {
	w := newAccessWorld(t)
	shared, err := w.s.Collection(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	if res := w.screenAs(t, "bank", []string{evm(1)}); res[0].Risk == screen.None {
		t.Fatal("bank does not see the shared CLEAR listing")
	}
	if err := w.s.SetGrant(ctx, store.Grant{Collection: shared.ID, Org: w.orgs["bank"].ID}); err != nil {
		t.Fatal(err)
	}
	if res := w.screenAs(t, "bank", []string{evm(1), evm(2)}); res[0].Risk != screen.None || res[1].Risk != screen.None {
		t.Errorf("grant revoked, still sees %+v", res)
	}
	// A server cap over every viewer (--max-tlp).
	pol, err := screen.PolicyFor(ctx, w.acc, w.viewer("admin"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.ix.Screen(ctx, pol.Cap(stix.TLPGreen), allAddrs())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		for _, reason := range r.Reasons {
			if tlp, _ := stix.ParseTLP(reason.TLP); tlp > stix.TLPGreen {
				t.Errorf("cap GREEN, shown %s: %+v", reason.TLP, reason)
			}
		}
	}
	// The zero policy sees nothing.
	res, err = w.ix.Screen(ctx, screen.Policy{}, allAddrs())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Risk != screen.None {
			t.Errorf("zero policy sees %+v", r)
		}
	}
}

// Indirect exposure counts only sources the viewer may see: funds from a
// RED-only listing make no exposure, not even a share, for the others.
func TestAccessIndirect(t *testing.T) {
	w := newAccessWorld(t)
	b := graph.NewBuilder()
	add := func(tx string, ts int64, from, to string, amt uint64) {
		t.Helper()
		if err := b.Add(graph.Transfer{Tx: tx, Time: ts, From: from, To: to, Amount: graph.AmountFromUint64(amt)}); err != nil {
			t.Fatal(err)
		}
	}
	add("0x01", 10, evm(6), evm(100), 100)  // evm(6): RED, cert's own
	add("0x02", 20, evm(1), evm(101), 100)  // evm(1): CLEAR
	add("0x03", 30, evm(20), evm(102), 100) // evm(20): the secret collection
	w.ix.AttachGraph(b.Build(), screen.ExposureOptions{})
	for org, want := range map[string][3]string{
		"bank":     {screen.None, screen.High, screen.None},
		"ncsc":     {screen.None, screen.High, screen.None},
		"cert":     {screen.High, screen.High, screen.High},
		"outsider": {screen.None, screen.None, screen.None},
	} {
		res := w.screenAs(t, org, []string{evm(100), evm(101), evm(102)})
		for i, r := range res {
			if r.Risk != want[i] {
				t.Errorf("%s: %s risk %s, want %s: %+v", org, r.Canonical, r.Risk, want[i], r.Reasons)
			}
			for _, reason := range r.Reasons {
				if tlp, _ := stix.ParseTLP(reason.TLP); tlp > clearance[org] {
					t.Errorf("%s: indirect evidence at %s", org, reason.TLP)
				}
			}
		}
	}
	res := w.screenAs(t, "cert", []string{evm(100)})
	if r := res[0]; r.TLP != "red" || r.Reasons[0].TLP != "red" || r.Reasons[0].Indirect == nil || r.Reasons[0].Indirect.Listed != evm(6) {
		t.Errorf("cert: indirect evidence from a RED listing: %+v", r)
	}
}

// recipientsAt is an x_bulwark_recipients list with who at position n
// (from 0): first an empty entry, then other identities.
func recipientsAt(n int, who string) []string {
	out := []string{""}
	for i := 1; i < n; i++ {
		out = append(out, fmt.Sprintf("identity--00000000-0000-4000-8000-%012d", 900000+i))
	}
	return append(out, who)
}

// A reason is marked with the most restricted of what it tells: the
// listing, and the source's and actors' names when it gives them. A viewer
// who passes a reason on at its TLP passes on nothing more restricted.
func TestAccessReasonTLPCoversItsNames(t *testing.T) {
	w := newAccessWorld(t)
	for _, c := range []struct {
		org, addr          string
		source, actor, tlp string
	}{
		{"exchange", evm(2), "Confidential Partner", "", "amber"}, // GREEN listing, AMBER creator
		{"bank", evm(2), "", "", "green"},                         // the creator's name hidden
		{"cert", evm(8), "", "SECRET UNIT 180", "red"},            // CLEAR listing, RED attribution
		{"exchange", evm(8), "", "", "clear"},
		{"exchange", evm(1), "Open Source Feed", "", "clear"},
	} {
		res := w.screenAs(t, c.org, []string{c.addr})[0]
		if len(res.Reasons) != 1 {
			t.Errorf("%s %s: reasons %+v", c.org, c.addr, res.Reasons)
			continue
		}
		r := res.Reasons[0]
		if r.Source != c.source || r.Actor != c.actor || r.TLP != c.tlp || res.TLP != c.tlp {
			t.Errorf("%s %s: source %q actor %q reason TLP %s result TLP %s; want %q %q %s", c.org, c.addr, r.Source, r.Actor, r.TLP, res.TLP, c.source, c.actor, c.tlp)
		}
	}
}
