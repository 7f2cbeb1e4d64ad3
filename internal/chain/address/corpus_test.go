package address

import (
	"errors"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/corpus"
)

// readList returns the whitespace-separated entries of a corpus list.
func readList(t *testing.T, rel string) []string {
	t.Helper()
	b, err := os.ReadFile(corpus.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

// TestOFACLists parses every address in the OFAC lists (0xB10C's extraction
// of the SDN list) for the chain the list is for. One entry of the XBT list
// is in fact a TRON address (OFAC's record lists it as XBT); it is the only
// failure and is asserted as such.
func TestOFACLists(t *testing.T) {
	tests := []struct {
		file     string
		chain    Chain
		n        int
		kinds    map[Kind]int
		failures map[string]error // address -> expected error
	}{
		{"XBT", BTC, 435, map[Kind]int{P2PKH: 196, P2SH: 158, P2WPKH: 72, P2WSH: 8},
			map[string]error{"TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq": ErrWrongChain}},
		{"ETH", ETH, 152, map[Kind]int{Account: 152}, nil},
		{"TRX", TRX, 6, map[Kind]int{Account: 6}, nil},
		{"LTC", LTC, 10, map[Kind]int{P2PKH: 9, P2SH: 1}, nil},
		{"BCH", BCH, 7, map[Kind]int{P2PKH: 7}, nil},
		{"BSV", BSV, 1, map[Kind]int{P2PKH: 1}, nil},
		{"ETC", ETC, 1, map[Kind]int{Account: 1}, nil},
		{"BSC", BSC, 1, map[Kind]int{Account: 1}, nil},
		{"ARB", ARB, 1, map[Kind]int{Account: 1}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			list := readList(t, "chain/ofac_0xB10C_lists/sanctioned_addresses_"+tt.file+".txt")
			if len(list) != tt.n {
				t.Errorf("%d addresses, want %d", len(list), tt.n)
			}
			kinds := map[Kind]int{}
			failed := 0
			seen := map[string]bool{}
			for _, s := range list {
				a, err := ParseFor(tt.chain, s)
				if err != nil {
					failed++
					t.Logf("%s does not parse as %s: %v", s, tt.chain, err)
					if want, ok := tt.failures[s]; !ok || !errors.Is(err, want) {
						t.Errorf("%s: %v", s, err)
					}
					continue
				}
				kinds[a.Kind]++
				if seen[a.Canonical] {
					t.Errorf("%s: canonical %s seen twice", s, a.Canonical)
				}
				seen[a.Canonical] = true
				if a.Network != Mainnet {
					t.Errorf("%s: network %s", s, a.Network)
				}
				// Parse without the chain must list it among the candidates.
				p, err := Parse(s)
				if err != nil || !p.Has(tt.chain) {
					t.Errorf("Parse(%s) = %v, %v; want %s among chains", s, p.Chains, err, tt.chain)
				}
				// The canonical form is stable under ParseFor.
				if b, err := ParseFor(tt.chain, a.Canonical); err != nil || b.Canonical != a.Canonical {
					t.Errorf("ParseFor(%s, %s) = %q, %v", tt.chain, a.Canonical, b.Canonical, err)
				}
			}
			if failed != len(tt.failures) {
				t.Errorf("%d failures, want %d", failed, len(tt.failures))
			}
			if !maps.Equal(kinds, tt.kinds) {
				t.Errorf("kinds %v, want %v", kinds, tt.kinds)
			}
		})
	}
}

// TestOFACStablecoins: the USDT/USDC lists mix Ethereum, TRON and Omni
// (Bitcoin) addresses; every one must parse, and detection must sort them.
func TestOFACStablecoins(t *testing.T) {
	for _, tt := range []struct {
		file  string
		first map[Chain]int
	}{
		{"USDT", map[Chain]int{ETH: 8, TRX: 11, BTC: 7}},
		{"USDC", map[Chain]int{ETH: 2}},
	} {
		got := map[Chain]int{}
		for _, s := range readList(t, "chain/ofac_0xB10C_lists/sanctioned_addresses_"+tt.file+".txt") {
			a, err := Parse(s)
			if err != nil {
				t.Errorf("%s %s: %v", tt.file, s, err)
				continue
			}
			got[a.Chain()]++
		}
		if !maps.Equal(got, tt.first) {
			t.Errorf("%s: chains %v, want %v", tt.file, got, tt.first)
		}
	}
}

// TestOFACBCHForms: the BCH list mixes one legacy address and cashaddr
// without prefix; ParseFor(BCH) brings all to prefixed cashaddr.
func TestOFACBCHForms(t *testing.T) {
	list := readList(t, "chain/ofac_0xB10C_lists/sanctioned_addresses_BCH.txt")
	a, err := ParseFor(BCH, "18M8bJWMzWHDBMxoLqjHHAffdRy4SrzkfB")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.Canonical, "bitcoincash:q") {
		t.Errorf("legacy BCH canonical %s, want cashaddr", a.Canonical)
	}
	if !slices.Contains(list, "18M8bJWMzWHDBMxoLqjHHAffdRy4SrzkfB") {
		t.Errorf("legacy address not in list")
	}
	for _, s := range list {
		a, err := ParseFor(BCH, s)
		if err != nil || !strings.HasPrefix(a.Canonical, "bitcoincash:") {
			t.Errorf("%s: %q, %v", s, a.Canonical, err)
		}
	}
}

// TestFBIBybit: the 51 Ethereum addresses of FBI PSA 250226 (Bybit theft).
func TestFBIBybit(t *testing.T) {
	list := readList(t, "chain/fbi_bybit_psa250226/fbi_psa250226_bybit_eth_addresses.txt")
	if len(list) != 51 {
		t.Fatalf("%d addresses, want 51", len(list))
	}
	seen := map[string]bool{}
	for _, s := range list {
		a, err := ParseFor(ETH, s)
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		seen[a.Canonical] = true
		if a.Display() != s && strings.ToLower(s) != s && strings.ToUpper(s[2:]) != s[2:] {
			t.Errorf("%s: EIP-55 display %s differs from the checksummed input", s, a.Display())
		}
	}
	if len(seen) != 51 {
		t.Errorf("%d distinct canonical addresses, want 51", len(seen))
	}
}
