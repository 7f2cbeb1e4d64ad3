package screen_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/bulwark-intel/bulwark/internal/access"
	"github.com/bulwark-intel/bulwark/internal/chain/address"
	"github.com/bulwark-intel/bulwark/internal/chain/screen"
	"github.com/bulwark-intel/bulwark/internal/corpus"
	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/feed/csvlist"
	"github.com/bulwark-intel/bulwark/internal/feed/ofac"
	"github.com/bulwark-intel/bulwark/internal/feed/stixfile"
	"github.com/bulwark-intel/bulwark/internal/feed/tagpack"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
	"github.com/bulwark-intel/bulwark/internal/store/sqlite"
)

var ctx = context.Background()

func openWith(t *testing.T, format feed.Format, path string) store.Store {
	t.Helper()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.CreateCollection(ctx, store.Collection{Title: "c"}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := feed.Import(ctx, s, "c", format, feed.Source{Path: path, R: f}, 0); err != nil {
		t.Fatal(err)
	}
	return s
}

// load builds an index over s.
func load(t testing.TB, s screen.Store) *screen.Index {
	t.Helper()
	ix := screen.NewIndex(s, screen.IndexOptions{RebuildEvery: -1})
	if _, err := ix.Update(ctx); err != nil {
		t.Fatal(err)
	}
	return ix
}

func TestScreenFixture(t *testing.T) {
	s := openWith(t, stixfile.Format, "../../lookup/testdata/actors.json")
	ix := load(t, s)
	res, err := ix.Screen(ctx, screen.Operator(stix.TLPNone), []string{
		"0x098b716b8aaf21512996dc57eb0615e2383e2f96", // Ronin exploiter, lower case
		"0x1111111111111111111111111111111111111111", // RED in the fixture
		"0x2222222222222222222222222222222222222222", // valid, unlisted
		"0x098B716B8Aaf21512996dC57EB0615e2383E2f97", // bad EIP-55 checksum
		"not an address",
	})
	if err != nil {
		t.Fatal(err)
	}
	ronin := res[0]
	if ronin.Risk != screen.Severe || ronin.Canonical != "0x098b716b8aaf21512996dc57eb0615e2383e2f96" || ronin.Chains[0] != "ETH" {
		t.Errorf("ronin: %+v", ronin)
	}
	var actor bool
	for _, r := range ronin.Reasons {
		actor = actor || r.Actor == "LAZARUS GROUP"
	}
	if !actor || len(ronin.Reasons) != 2 {
		t.Errorf("ronin evidence: %+v", ronin.Reasons)
	}
	if res[1].Risk == screen.None || res[2].Risk != screen.None || res[2].Error != "" {
		t.Errorf("red %+v / unlisted %+v", res[1], res[2])
	}
	if res[3].Error == "" || !strings.Contains(res[3].Error, "EIP-55") || res[4].Error == "" {
		t.Errorf("invalid inputs: %+v / %+v", res[3], res[4])
	}
	// Through the access policy, an organisation cleared GREEN gets no RED
	// evidence: the address is simply not listed for it.
	org, _ := s.CreateOrg(ctx, store.Org{Name: "bank", Clearance: stix.TLPGreen})
	c, _ := s.Collection(ctx, "c")
	if err := s.SetGrant(ctx, store.Grant{Collection: c.ID, Org: org.ID, Read: true}); err != nil {
		t.Fatal(err)
	}
	acc := access.New(s)
	defer acc.Close()
	pol, err := screen.PolicyFor(ctx, acc, access.Viewer{Org: org})
	if err != nil {
		t.Fatal(err)
	}
	res, err = ix.Screen(ctx, pol, []string{"0x1111111111111111111111111111111111111111", "0x098b716b8aaf21512996dc57eb0615e2383e2f96"})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Risk != screen.None || len(res[0].Reasons) != 0 {
		t.Errorf("RED evidence leaked: %+v", res[0])
	}
	if res[1].Risk != screen.Severe {
		t.Errorf("CLEAR evidence hidden: %+v", res[1])
	}
	if _, err := ix.Screen(ctx, pol, make([]string, screen.MaxBatch+1)); err == nil {
		t.Error("oversized batch accepted")
	}
}

// importFile imports one corpus file into collection c of s, dating
// objects without a date of their own at when.
func importFile(t *testing.T, s store.Store, format feed.Format, path string, when time.Time) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := feed.Import(ctx, s, "c", format, feed.Source{Path: path, R: f, Time: when}, 0); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// ofacDPRK loads the three OFAC shapes of the corpus — the per-asset lists
// (case-preserving), the SDN entity map (names the entity, lower-cases
// addresses) and GraphSense's OFAC TagPack — into one store, and returns
// it with the DPRK addresses to screen (canonical form → entity). The
// addresses are every one of the lists and the TagPack that the map gives
// a DPRK program, and the map's own where they are valid as written (hex).
func ofacDPRK(t *testing.T) (store.Store, map[string]string) {
	t.Helper()
	mapPath := corpus.Path(t, "chain/ofac_sdn_entity_map/sanctioned-addresses.json")
	lists, err := filepath.Glob(filepath.Join(corpus.Path(t, "chain/ofac_0xB10C_lists"), "sanctioned_addresses_*.txt"))
	if err != nil || len(lists) == 0 {
		t.Fatalf("no OFAC lists: %v", err)
	}
	yamlPath := corpus.Path(t, "chain/graphsense_tagpacks/ofac.yaml")
	s := newStore(t, "c")
	// The lists' files are newer than the map's SDN date, as in a fresh
	// checkout; the lists carry no date of their own and are dated before
	// every dated source, so the map's indicators, which name the entity,
	// stay whatever the order of imports.
	listDate := time.Now().UTC()
	importFile(t, s, ofac.Entities, mapPath, time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, l := range lists {
		importFile(t, s, ofac.List, l, listDate)
	}
	importFile(t, s, tagpack.Format, yamlPath, listDate)

	var m struct {
		Addresses map[string]struct {
			Entries []struct{ Entity, Program string }
		}
	}
	b, err := os.ReadFile(mapPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	entity := map[string]string{} // lower-cased address → DPRK entity
	for a, v := range m.Addresses {
		for _, e := range v.Entries {
			if strings.Contains(e.Program, "DPRK") {
				entity[strings.ToLower(a)] = e.Entity
			}
		}
	}
	out := map[string]string{}
	add := func(a string) {
		if ent := entity[strings.ToLower(a)]; ent != "" {
			if p, err := address.Parse(a); err == nil {
				out[p.Canonical] = ent
			}
		}
	}
	for _, l := range lists {
		b, err := os.ReadFile(l)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range strings.Fields(string(b)) {
			add(a)
		}
	}
	var pack struct{ Tags []struct{ Address string } }
	b, err = os.ReadFile(yamlPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &pack); err != nil {
		t.Fatal(err)
	}
	fromYAML := 0
	for _, tag := range pack.Tags {
		if entity[strings.ToLower(tag.Address)] != "" {
			fromYAML++
		}
		add(tag.Address)
	}
	for a := range m.Addresses {
		add(a)
	}
	if len(out) < 40 || fromYAML == 0 {
		t.Fatalf("only %d DPRK addresses found (%d in the TagPack)", len(out), fromYAML)
	}
	return s, out
}

// Every OFAC-listed DPRK address of the corpus screens severe with its
// sanctioned entity.
func TestScreenOFACDPRK(t *testing.T) {
	s, dprk := ofacDPRK(t)
	var addrs []string
	for a := range dprk {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	res, err := load(t, s).Screen(ctx, screen.Operator(stix.TLPNone), addrs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		want := dprk[addrs[i]]
		found := false
		for _, reason := range r.Reasons {
			found = found || strings.Contains(reason.Actor, want) || strings.Contains(reason.Name, want)
		}
		if r.Error != "" || r.Risk != screen.Severe || !found {
			t.Errorf("%s: risk %s, error %q, reasons %+v, want severe naming %s", addrs[i], r.Risk, r.Error, r.Reasons, want)
		}
	}
	t.Logf("%d DPRK-program addresses from the OFAC lists, entity map and TagPack screen severe with their entity", len(addrs))
}

// Addresses one and two hops downstream of every OFAC-listed DPRK address
// screen high, with the path back to the listed address as evidence.
//
// The test graph gives each listed address d two fresh downstream
// addresses: d sends 100 to x1, which also gets 100 of clean funds (share
// 0.5), then x1 sends 60 to x2, which also gets 40 of clean funds after
// (share 60·0.5/100 = 0.3).
func TestScreenOFACDownstream(t *testing.T) {
	s, dprk := ofacDPRK(t)
	var listed []string
	for a := range dprk {
		listed = append(listed, a)
	}
	sort.Strings(listed)
	clean := evm(0xc1ea)
	var ts []transfer
	var x1, x2 []string
	for i, d := range listed {
		a, b := evm(0xd00000+i), evm(0xe00000+i)
		x1, x2 = append(x1, a), append(x2, b)
		t0 := int64(1_600_000_000 + 10*i)
		tx := func(k int) string { return fmt.Sprintf("0x%064x", 4*i+k) }
		ts = append(ts,
			transfer{tx(0), t0, d, a, 100},
			transfer{tx(1), t0 + 1, clean, a, 100},
			transfer{tx(2), t0 + 2, a, b, 60},
			transfer{tx(3), t0 + 3, clean, b, 40})
	}
	ix := load(t, s)
	ix.AttachGraph(buildGraph(t, ts), screen.ExposureOptions{})
	for _, hop := range []struct {
		addrs []string
		share float64
	}{{x1, 0.5}, {x2, 0.3}} {
		res, err := ix.Screen(ctx, screen.Operator(stix.TLPNone), hop.addrs)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			d := listed[i]
			ind := indirect(r)
			if r.Risk != screen.High || ind == nil {
				t.Errorf("%s downstream of %s: risk %s, reasons %+v", r.Canonical, d, r.Risk, r.Reasons)
				continue
			}
			x := ind.Indirect
			wantHops := 1
			if hop.share < 0.5 {
				wantHops = 2
			}
			if !near(x.Share, hop.share) || x.Hops != wantHops || x.Listed != d || x.Path[0].From != d || x.Path[len(x.Path)-1].To != r.Canonical {
				t.Errorf("%s downstream of %s: %+v", r.Canonical, d, x)
			}
			named := false
			for _, l := range x.Listing {
				named = named || strings.Contains(l.Actor+l.Name, dprk[d])
			}
			if !named || ind.TLP != "clear" {
				t.Errorf("%s: evidence does not name %s: %+v", r.Canonical, dprk[d], ind)
			}
		}
	}
	t.Logf("%d addresses one hop and %d two hops downstream of the DPRK listings screen high", len(x1), len(x2))
}

// A Bitcoin Cash or Litecoin address screens as listed whichever of its
// chain's encodings the list and the query use: the OFAC BCH list mixes
// legacy and cashaddr, and exchanges show cashaddr and Litecoin's M….
func TestScreenOtherEncodings(t *testing.T) {
	s := newStore(t, "c")
	day := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	var listed, other []string
	for _, chain := range []address.Chain{address.BCH, address.LTC} {
		path := corpus.Path(t, "chain/ofac_0xB10C_lists/sanctioned_addresses_"+string(chain)+".txt")
		importFile(t, s, ofac.List, path, day)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Fields(string(b)) {
			a, err := address.ParseFor(chain, l)
			if err != nil {
				t.Fatal(err)
			}
			p, err := address.Parse(l)
			if err != nil {
				t.Fatal(err)
			}
			// The same script in the chain's other encoding, if it has one.
			alt := a.Canonical
			if alt == p.Canonical {
				alt = address.Fold(a)
			}
			if alt == p.Canonical {
				continue // Litecoin L…: one encoding
			}
			listed, other = append(listed, l), append(other, alt)
		}
	}
	if len(other) < 7 {
		t.Fatalf("only %d addresses with a second encoding", len(other))
	}
	ix := load(t, s)
	want, err := ix.Screen(ctx, screen.Operator(stix.TLPNone), listed)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ix.Screen(ctx, screen.Operator(stix.TLPNone), other)
	if err != nil {
		t.Fatal(err)
	}
	for i := range other {
		if want[i].Risk != screen.Severe || got[i].Risk != want[i].Risk || len(got[i].Reasons) != len(want[i].Reasons) {
			t.Errorf("%s (listed as %s): risk %s with %d reasons, listed form %s with %d", other[i], listed[i],
				got[i].Risk, len(got[i].Reasons), want[i].Risk, len(want[i].Reasons))
		}
		if got[i].Input != other[i] {
			t.Errorf("input %s answered as %s", other[i], got[i].Input)
		}
	}
	t.Logf("%d listed addresses screen severe in their other encoding too", len(other))
}

// A list imported with a TLP marks its source's identity too, so the
// evidence, which names the source, is not raised to the collection's
// default (AMBER here) above the listing's CLEAR.
func TestListSourceMarkedWithItsTLP(t *testing.T) {
	s := newStore(t, "c")
	const addr = "0x098b716b8aaf21512996dc57eb0615e2383e2f96"
	body := "address,category\n" + addr + ",scam\n"
	if _, err := feed.Import(ctx, s, "c", csvlist.Format, feed.Source{Path: "scam-wallets.csv", R: strings.NewReader(body), TLP: stix.TLPClear}, 0); err != nil {
		t.Fatal(err)
	}
	res, err := load(t, s).Screen(ctx, screen.Operator(stix.TLPNone), []string{addr})
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; len(r.Reasons) != 1 || r.Reasons[0].Source != "scam-wallets" || r.Reasons[0].TLP != "clear" || r.TLP != "clear" {
		t.Errorf("%+v", r)
	}
}
