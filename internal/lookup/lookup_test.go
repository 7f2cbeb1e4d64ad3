package lookup_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/feed/stixfile"
	"github.com/bulwark-intel/bulwark/internal/lookup"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
	"github.com/bulwark-intel/bulwark/internal/store/sqlite"
)

func openFixture(t *testing.T) store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.CreateCollection(ctx, store.Collection{Title: "c"}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/actors.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, err := feed.Import(ctx, s, "c", stixfile.Format, feed.Source{Path: f.Name(), R: f}, 0)
	if err != nil || sum.Rejected != 0 {
		t.Fatalf("fixture import: %v %s %v", err, sum, sum.Examples)
	}
	return s
}

func TestActorMergesSources(t *testing.T) {
	s := openFixture(t)
	for _, q := range []string{"Hidden Cobra", "hidden-cobra", "Diamond Sleet", "Lazarus Group", "LAZARUS GROUP"} {
		t.Run(q, func(t *testing.T) {
			p, err := lookup.Actor(context.Background(), s, q, lookup.Filter{MaxTLP: stix.TLPAmber})
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != "Lazarus Group" || p.ExternalID != "G0032" {
				t.Errorf("profile is %q (%s), want Lazarus Group (G0032)", p.Name, p.ExternalID)
			}
			if len(p.Objects) != 3 {
				t.Errorf("merged %d objects, want ATT&CK, MISP and OFAC's: %+v", len(p.Objects), p.Objects)
			}
			for _, o := range p.Objects {
				if o.ID == "intrusion-set--00f67a77-86a4-4adf-be26-1a54fc713340" {
					t.Errorf("APT38 merged through the shared alias Bluenoroff")
				}
			}
			if p.Country != "KP" {
				t.Errorf("country %q", p.Country)
			}
			if len(p.Techniques) != 1 || p.Techniques[0].ExternalID != "T1566.001" {
				t.Errorf("techniques %+v", p.Techniques)
			}
			if len(p.Software) != 1 || p.Software[0].Name != "FALLCHILL" {
				t.Errorf("software %+v", p.Software)
			}
			if len(p.Wallets) != 1 {
				t.Fatalf("wallets %+v, want only the Ronin exploiter (the RED one is over the filter)", p.Wallets)
			}
			w := p.Wallets[0]
			if w.Address != "0x098B716B8Aaf21512996dC57EB0615e2383E2f96" || w.Asset != "ETH" || !slices.Equal(w.Sources, []string{"GraphSense", "OFAC"}) || w.TLP != "clear" {
				t.Errorf("wallet %+v", w)
			}
			if len(p.Reports) != 1 || p.Reports[0].Name != "Ronin bridge theft" {
				t.Errorf("reports %+v", p.Reports)
			}
		})
	}
}

func TestActorTLPFilter(t *testing.T) {
	s := openFixture(t)
	p, err := lookup.Actor(context.Background(), s, "ZINC", lookup.Filter{MaxTLP: stix.TLPRed})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Wallets) != 2 {
		t.Errorf("at RED the profile has %d wallets, want 2", len(p.Wallets))
	}
	if _, err := lookup.Actor(context.Background(), s, "No Such Group", lookup.Filter{}); err == nil {
		t.Error("unknown actor found")
	}
}

func TestValue(t *testing.T) {
	s := openFixture(t)
	ctx := context.Background()
	// Wallet lookups are case-sensitive only where the chain is: an ETH
	// address is found in any case.
	res, err := lookup.Value(ctx, s, "0x098b716b8aaf21512996dc57eb0615e2383e2f96", lookup.Filter{MaxTLP: stix.TLPGreen})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Indicators) != 2 {
		t.Fatalf("indicators %+v", res.Indicators)
	}
	if len(res.Actors) != 1 || res.Actors[0].Name != "LAZARUS GROUP" || res.Actors[0].Via != "indicates" {
		t.Errorf("actors %+v", res.Actors)
	}
	if len(res.Reports) != 1 {
		t.Errorf("reports %+v", res.Reports)
	}
	res, err = lookup.Value(ctx, s, "0x1111111111111111111111111111111111111111", lookup.Filter{MaxTLP: stix.TLPAmberStrict})
	if err != nil {
		t.Fatal(err)
	}
	if res.Found() {
		t.Errorf("a RED indicator leaked under an AMBER+STRICT filter: %+v", res.Indicators)
	}
}
