package pattern

import (
	"reflect"
	"testing"
	"time"
)

// FuzzParse checks that Parse never panics and that whatever parses prints
// to a canonical form that parses again to the same canonical form. Compile
// and a short stream must not panic either.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"[file:hashes.'SHA-256' = 'aec0']",
		"[a:b = 1] AND [a:c != 2] OR [a:d < 3.5] FOLLOWEDBY [a:e >= -4]",
		"([a:b = 1] FOLLOWEDBY [a:c = 2]) WITHIN 300 SECONDS REPEATS 2 TIMES",
		"[a:b = 1] START t'2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00.5Z'",
		"[(a:b IN ('x', 2, true) OR a:c NOT LIKE 'a%_') AND EXISTS a:d.e[*].f[0]]",
		"[a:b MATCHES '^x\\\\.y$' AND a:c ISSUBSET '10.0.0.0/8' AND a:d NOT ISSUPERSET '::/0']",
		"[a:b = b'dGVzdA==' OR a:c = h'00ff' OR a:src_ref.value = 'x']",
		"[a:'q\\'k'.'AND' = 'it\\'s \\\\']",
		"[a:b = 1] /* c */ // d\n",
		"[a:b = 1] WITHIN 0.5 SECONDS",
	} {
		f.Add(s)
	}
	obs := &Observation{Time: time.Unix(0, 0), Objects: map[string]map[string]any{
		"0": {"type": "a", "b": "x", "c": 1.0, "d": []any{"0"}, "src_ref": "0"},
	}}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		out := p.String()
		q, err := Parse(out)
		if err != nil {
			t.Fatalf("%q printed as %q, which fails: %v", s, out, err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("%q: AST changed after printing as %q", s, out)
		}
		if out2 := q.String(); out2 != out {
			t.Fatalf("%q: %q re-prints as %q", s, out, out2)
		}
		if m, err := Compile(p); err == nil {
			st := NewStream(m)
			for i := 0; i < 3; i++ {
				o := *obs
				o.Time = o.Time.Add(time.Duration(i) * time.Second)
				st.Feed(&o)
			}
			m.MatchObservation(obs)
		}
	})
}
