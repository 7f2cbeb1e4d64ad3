package screen

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

func sampleResults() []Result {
	return []Result{
		{Input: "bogus", Risk: None, Error: "unrecognised address format"},
		{Input: "0xabc", Canonical: "0xabc", Chains: evmChains, Risk: None},
		{Input: "x", Canonical: "x", Chains: []string{"BTC"}, Risk: Severe, TLP: "amber", Reasons: []Reason{
			{Indicator: "indicator--1", Name: "OFAC <SDN> & \"co\"\n\t\x01\u2028\u2029é\xff", Labels: []string{"sanctioned", "a"}, TLP: "clear", Risk: Severe, Actor: "LAZARUS", Source: "OFAC"},
			{Indicator: "indicator--2", TLP: "amber", Risk: High, Note: "n", Indirect: &Indirect{Share: 0.1 + 0.2, Hops: 2, Listed: "0x1",
				Listing: []Reason{{Indicator: "i", TLP: "clear", Risk: High}},
				Path:    []Hop{{From: "a", To: "b", Tx: "t", Time: "2024", Amount: "1", Asset: "tok", USD: 12.5}, {From: "b", To: "c", Amount: "0"}}, Truncated: true, Asset: new("0xdac17f958d2ee523a2206206994597c13d831ec7")}},
			{Indicator: "indicator--3", TLP: "red", Risk: Low, Indirect: &Indirect{Share: 1e-9, Asset: new("")}},
			{Indicator: "indicator--4", TLP: "red", Risk: Low, Indirect: &Indirect{Share: 1e22, Path: []Hop{}}},
		}},
	}
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	rs := sampleResults()
	want, err := json.Marshal(rs)
	if err != nil {
		t.Fatal(err)
	}
	if got := AppendJSON(nil, rs); !bytes.Equal(got, want) {
		t.Errorf("AppendJSON:\n%s\nencoding/json:\n%s", got, want)
	}
	for _, f := range []float64{0, 1, -1, 0.5, 1e-7, 123456789, 1e20, 1e21, 5e-324, math.MaxFloat64, 0.30000000000000004} {
		want, _ := json.Marshal(f)
		if got := appendFloat(nil, f); !bytes.Equal(got, want) {
			t.Errorf("%v: %s, want %s", f, got, want)
		}
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("0x098b716b8aaf21512996dc57eb0615e2383e2f96", "name <&>", "\xff\u2028", 0.25)
	f.Fuzz(func(t *testing.T, a, b, c string, share float64) {
		if math.IsNaN(share) || math.IsInf(share, 0) {
			return
		}
		rs := []Result{{Input: a, Canonical: b, Chains: []string{c, a}, Risk: c, Error: b,
			Reasons: []Reason{{Indicator: a, Name: b, Source: c, Actor: a, Labels: []string{b}, TLP: c, Risk: a, Note: b,
				Indirect: &Indirect{Share: share, Hops: len(a), Listed: b, Path: []Hop{{From: a, To: b, Tx: c, Time: a, Amount: b, Asset: c, USD: share}}, Asset: &c}}}, TLP: a}}
		want, err := json.Marshal(rs)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendJSON(nil, rs); !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON:\n%s\nencoding/json:\n%s", got, want)
		}
	})
}
