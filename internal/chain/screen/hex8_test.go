package screen

import (
	"encoding/hex"
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
