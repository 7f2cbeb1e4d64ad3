package csvlist

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

// dottedQuadSplit is the obvious form of dottedQuadShape, the reference.
func dottedQuadSplit(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if len(p) == 0 || len(p) > 3 || !allDigits(p) {
			return false
		}
	}
	return true
}

func TestIPShapeShortcuts(t *testing.T) {
	alphabet := "0123456789../:%abfx["
	rng := rand.New(rand.NewPCG(5, 6))
	for n := 0; n < 300000; n++ {
		b := make([]byte, rng.IntN(18))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		s := string(b)
		if got, want := dottedQuadShape(s), dottedQuadSplit(s); got != want {
			t.Fatalf("dottedQuadShape(%q) = %v, want %v", s, got, want)
		}
		if notIPShaped(s) {
			// Nothing the address parsers accept may be skipped.
			if _, err := netip.ParseAddr(s); err == nil {
				t.Fatalf("%q skipped but is an address", s)
			}
			if _, err := netip.ParsePrefix(s); err == nil {
				t.Fatalf("%q skipped but is a prefix", s)
			}
			if _, err := netip.ParseAddrPort(s); err == nil {
				t.Fatalf("%q skipped but is an address and port", s)
			}
			if host, _, _ := strings.Cut(s, ":"); dottedQuadSplit(host) {
				t.Fatalf("%q skipped but is dotted-quad shaped", s)
			}
			if addr, bits, _ := strings.Cut(s, "/"); dottedQuadSplit(addr) && allDigits(bits) {
				t.Fatalf("%q skipped but is dotted-quad shaped", s)
			}
		}
	}
}
