package screen_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/access"
	"github.com/bulwark-intel/bulwark/internal/chain/screen"
	"github.com/bulwark-intel/bulwark/internal/corpus"
	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/feed/ofac"
	"github.com/bulwark-intel/bulwark/internal/feed/stixfile"
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

func TestScreenFixture(t *testing.T) {
	s := openWith(t, stixfile.Format, "../../lookup/testdata/actors.json")
	res, err := screen.Screen(ctx, s, []string{
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
	res, err = screen.Screen(ctx, acc.ReaderFor(access.Viewer{Org: org}), []string{"0x1111111111111111111111111111111111111111", "0x098b716b8aaf21512996dc57eb0615e2383e2f96"})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Risk != screen.None || len(res[0].Reasons) != 0 {
		t.Errorf("RED evidence leaked: %+v", res[0])
	}
	if res[1].Risk != screen.Severe {
		t.Errorf("CLEAR evidence hidden: %+v", res[1])
	}
	if _, err := screen.Screen(ctx, s, make([]string, screen.MaxBatch+1)); err == nil {
		t.Error("oversized batch accepted")
	}
}

// Every OFAC-listed DPRK address of the corpus screens severe with its
// sanctioned entity. The entity map lower-cases addresses, so the
// addresses screened are the case-preserving per-asset lists' entries that
// the map gives a DPRK program.
func TestScreenOFACDPRK(t *testing.T) {
	path := corpus.Path(t, "chain/ofac_sdn_entity_map/sanctioned-addresses.json")
	s := openWith(t, ofac.Entities, path)
	var m struct {
		Addresses map[string]struct {
			Entries []struct{ Entity, Program string }
		}
	}
	b, err := os.ReadFile(path)
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
	lists, err := filepath.Glob(filepath.Join(corpus.Path(t, "chain/ofac_0xB10C_lists"), "sanctioned_addresses_*.txt"))
	if err != nil || len(lists) == 0 {
		t.Fatalf("no OFAC lists: %v", err)
	}
	seen := map[string]bool{}
	var addrs []string
	for _, l := range lists {
		b, err := os.ReadFile(l)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range strings.Fields(string(b)) {
			if entity[strings.ToLower(a)] != "" && !seen[a] {
				seen[a] = true
				addrs = append(addrs, a)
			}
		}
	}
	if len(addrs) < 40 {
		t.Fatalf("only %d DPRK addresses found in the OFAC lists", len(addrs))
	}
	res, err := screen.Screen(ctx, s, addrs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		want := entity[strings.ToLower(addrs[i])]
		found := false
		for _, reason := range r.Reasons {
			found = found || strings.Contains(reason.Actor, want) || strings.Contains(reason.Name, want)
		}
		if r.Error != "" || r.Risk != screen.Severe || !found {
			t.Errorf("%s: risk %s, error %q, reasons %+v, want severe naming %s", addrs[i], r.Risk, r.Error, r.Reasons, want)
		}
	}
	t.Logf("%d DPRK-program addresses from the OFAC lists screen severe with their entity", len(addrs))
}
