package screen

import (
	"encoding/hex"
	"math/rand/v2"
	"testing"
)

func TestHex8Exhaustive(t *testing.T) {
	// every byte value in every position against the table decoder
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			b := []byte("0123abcd")
			b[pos] = byte(c)
			v, ok := hex8(string(b))
			want, err := hex.DecodeString(string(b))
			lowerOK := err == nil
			for _, x := range b {
				if x >= 'A' && x <= 'F' {
					lowerOK = false
				}
			}
			if ok != lowerOK {
				t.Fatalf("%q: ok %v want %v", b, ok, lowerOK)
			}
			if ok && (byte(v) != want[0] || byte(v>>8) != want[1] || byte(v>>16) != want[2] || byte(v>>24) != want[3]) {
				t.Fatalf("%q: %08x want %x", b, v, want)
			}
		}
	}
}

// TestPutIndicatorID checks the word-at-a-time spelling of ids against
// encoding/hex on random UUIDs and on every byte value.
func TestPutIndicatorID(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var u [16]byte
	b := make([]byte, indicatorIDLen)
	for i := range 1000 {
		for j := range u {
			u[j] = byte(r.Uint32())
			if i < 256 {
				u[j] = byte(i) // every byte value in every position
			}
		}
		h := hex.EncodeToString(u[:])
		want := "indicator--" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
		putIndicatorID(b, &u)
		if string(b) != want {
			t.Fatalf("%x: got %s, want %s", u, b, want)
		}
	}
}
