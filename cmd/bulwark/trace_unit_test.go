package main

import (
	"testing"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
	"github.com/bulwark-intel/bulwark/internal/chain/taint"
)

// Without --unit, amounts are shown in the coin of the seed's chain.
func TestDisplayUnitFromSeed(t *testing.T) {
	g := graph.NewBuilder().Build()
	defer g.Close()
	for _, tc := range []struct{ seed, want string }{
		{"0x47666Fab8bd0Ac7003bce3f5C3585383F09486E2", "ETH"},
		{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "BTC"},
		{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "BTC"}, // also valid on Bitcoin Cash
		{"ltc1qg42tkwuuxefutzxezdkdel39gfstuap288mfea", "LTC"},
		{"LNf2JDiuunBz7GMDKFYHN4rq5meXWxiwfb", "LTC"},
		{"bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a", "BCH"},
	} {
		u, err := displayUnit(g, "", []taint.Seed{{Address: tc.seed}})
		if err != nil || u.Name != tc.want {
			t.Errorf("%s: unit %+v, %v; want %s", tc.seed, u, err, tc.want)
		}
		if tc.want != "ETH" && u.Decimals != 8 {
			t.Errorf("%s: %d decimals, want 8", tc.seed, u.Decimals)
		}
	}
}
