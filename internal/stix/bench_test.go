package stix

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/corpus"
)

// BenchmarkDecodeAttack streams the whole Enterprise ATT&CK STIX 2.0 bundle
// and decodes (parses, upgrades and validates) every object: the hot path of
// importing it.
func BenchmarkDecodeAttack(b *testing.B) {
	path := corpus.Path(b, "attack/enterprise-attack-stix20.json")
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	objects := 0
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		br := NewBundleReader(f, 0)
		for {
			ro, err := br.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Decode(ro.Raw); err != nil {
				b.Fatalf("object %d line %d: %v", ro.Index, ro.Line, err)
			}
			objects++
		}
		f.Close()
	}
	b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "objects/s")
}
