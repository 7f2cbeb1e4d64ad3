package server

import (
	"encoding/json"
	"slices"
	"testing"
)

// FuzzParseAddresses: the fast request reader either declines or agrees
// with encoding/json.
func FuzzParseAddresses(f *testing.F) {
	for _, s := range []string{`{"addresses":["0x1","bc1q"]}`, ` { "addresses" : [ ] } `, `{"addresses":["a\"b"]}`,
		`{"addresses":null}`, `{"addresses":["x"],"more":1}`, `{"addresses":["\xff"]}`, `{"addresses":["é"]} x`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := parseAddresses(b)
		if !ok {
			return
		}
		var in struct {
			Addresses []string `json:"addresses"`
		}
		if err := json.Unmarshal(b, &in); err != nil {
			t.Fatalf("%q: fast path took what encoding/json refuses (%v)", b, err)
		}
		if len(got) > 10000 {
			return // refused as too many either way
		}
		if !slices.Equal(got, in.Addresses) && !(len(got) == 0 && len(in.Addresses) == 0) {
			t.Fatalf("%q: fast %q, encoding/json %q", b, got, in.Addresses)
		}
	})
}
