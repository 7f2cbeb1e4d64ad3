package pattern

import (
	"bufio"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/corpus"
)

// TestCorpus parses every pattern of the shared corpus (one a line; blank
// lines and lines starting with # are skipped) and checks the round trip.
func TestCorpus(t *testing.T) {
	f, err := os.Open(corpus.Path(t, "detect/stix-patterns.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), MaxLen+1)
	n := 0
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		n++
		p, err := Parse(s)
		if err != nil {
			t.Errorf("line %d: %v\n%s", line, err, s)
			continue
		}
		checkRoundTrip(t, s, p)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 60 {
		t.Errorf("parsed %d patterns, want 60", n)
	}
}

func checkRoundTrip(t *testing.T, src string, p *Pattern) {
	t.Helper()
	out := p.String()
	q, err := Parse(out)
	if err != nil {
		t.Errorf("String() of %q = %q does not re-parse: %v", src, out, err)
		return
	}
	if !reflect.DeepEqual(p, q) {
		t.Errorf("round trip of %q changed the AST: %q", src, out)
	}
	if out2 := q.String(); out2 != out {
		t.Errorf("String() not stable: %q then %q", out, out2)
	}
}
