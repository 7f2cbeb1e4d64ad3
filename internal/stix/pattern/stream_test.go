package pattern

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

// ev is one stream event: a single SCO of the given type and value, at
// t0 + sec seconds.
type ev struct {
	sec float64
	typ string
	val string
}

func (e ev) obs() *Observation {
	return &Observation{
		Time:    t0.Add(time.Duration(e.sec * float64(time.Second))),
		Objects: map[string]map[string]any{"0": {"type": e.typ, "value": e.val}},
	}
}

// run feeds events and returns, for every event that completed the
// pattern, its index and the observations of the first match.
func run(t *testing.T, pat string, evs []ev) map[int][]uint64 {
	t.Helper()
	s := NewStream(MustCompile(pat))
	got := map[int][]uint64{}
	for i, e := range evs {
		if ms := s.Feed(e.obs()); len(ms) > 0 {
			got[i] = ms[0].Seqs
		}
	}
	return got
}

func TestStream(t *testing.T) {
	a := func(s float64) ev { return ev{s, "domain-name", "a.example"} }
	b := func(s float64) ev { return ev{s, "domain-name", "b.example"} }
	c := func(s float64) ev { return ev{s, "domain-name", "c.example"} }
	x := func(s float64) ev { return ev{s, "domain-name", "noise.example"} }
	const A, B, C = "[domain-name:value = 'a.example']", "[domain-name:value = 'b.example']", "[domain-name:value = 'c.example']"
	tests := []struct {
		name string
		pat  string
		evs  []ev
		want map[int][]uint64
	}{
		{"single", A, []ev{x(0), a(1), x(2), a(3)}, map[int][]uint64{1: {1}, 3: {3}}},
		{"and any order", A + " AND " + B, []ev{b(0), x(1), a(2)}, map[int][]uint64{2: {0, 2}}},
		{"and needs two observations", "[domain-name:value = 'a.example'] AND [domain-name:value LIKE 'a%']", []ev{a(0), a(1)}, map[int][]uint64{1: {0, 1}}},
		{"or", A + " OR " + B, []ev{x(0), b(1), a(2)}, map[int][]uint64{1: {1}, 2: {2}}},
		{"followedby order", A + " FOLLOWEDBY " + B, []ev{b(0), a(1), x(2), b(3)}, map[int][]uint64{3: {1, 3}}},
		{"followedby wrong order", A + " FOLLOWEDBY " + B, []ev{b(0), a(1)}, map[int][]uint64{}},
		{"followedby chain", A + " FOLLOWEDBY " + B + " FOLLOWEDBY " + C, []ev{a(0), c(1), b(2), c(3)}, map[int][]uint64{3: {0, 2, 3}}},
		{"followedby within", "(" + A + " FOLLOWEDBY " + B + ") WITHIN 10 SECONDS", []ev{a(0), b(11), a(20), b(30)}, map[int][]uint64{3: {2, 3}}},
		{"within expiry", "(" + A + " AND " + B + ") WITHIN 5 SECONDS", []ev{a(0), b(5.5), a(6), x(100), b(101)}, map[int][]uint64{2: {1, 2}}},
		{"within boundary inclusive", "(" + A + " AND " + B + ") WITHIN 5 SECONDS", []ev{a(0), b(5)}, map[int][]uint64{1: {0, 1}}},
		{"repeats", A + " REPEATS 3 TIMES", []ev{a(0), x(1), a(2), a(3), a(4)}, map[int][]uint64{3: {0, 2, 3}, 4: {2, 3, 4}}},
		{"repeats within", A + " REPEATS 3 TIMES WITHIN 10 SECONDS", []ev{a(0), a(5), a(11), a(12), a(30)}, map[int][]uint64{3: {1, 2, 3}}},
		{"repeats of and", "(" + A + " AND " + B + ") REPEATS 2 TIMES", []ev{a(0), b(1), a(2), b(3)}, map[int][]uint64{3: {0, 1, 2, 3}}},
		{"start stop", A + " START t'2024-03-01T12:00:10Z' STOP t'2024-03-01T12:00:20Z'", []ev{a(5), a(10), a(19.9), a(20), a(25)}, map[int][]uint64{1: {1}, 2: {2}}},
		{"start stop and", "(" + A + " AND " + B + ") START t'2024-03-01T12:00:10Z' STOP t'2024-03-01T12:00:20Z'", []ev{a(5), b(12), a(15), b(25)}, map[int][]uint64{2: {1, 2}}},
		{"and of followedby", "(" + A + " FOLLOWEDBY " + B + ") AND " + C, []ev{c(0), b(1), a(2), b(3)}, map[int][]uint64{3: {0, 2, 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, tt.pat, tt.evs)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s:\n got %v\nwant %v", tt.pat, got, tt.want)
			}
		})
	}
}

// TestStreamBounded feeds many matching observations to patterns that keep
// partial matches and checks that memory stays bounded.
func TestStreamBounded(t *testing.T) {
	a := ev{0, "domain-name", "a.example"}
	for _, pat := range []string{
		"([domain-name:value = 'a.example'] AND [domain-name:value = 'b.example']) WITHIN 60 SECONDS",
		"[domain-name:value = 'a.example'] FOLLOWEDBY [domain-name:value = 'b.example']",
		"[domain-name:value = 'a.example'] REPEATS 1000000 TIMES",
	} {
		s := NewStream(MustCompile(pat))
		s.MaxPartial = 100
		for i := 0; i < 5000; i++ {
			e := a
			e.sec = float64(i)
			s.Feed(e.obs())
		}
		for i, st := range s.stored {
			if len(st) > 100 {
				t.Errorf("%s: node %d keeps %d bindings", pat, i, len(st))
			}
		}
		if pat[1] == '(' && len(s.stored[0]) > 61 {
			t.Errorf("%s: WITHIN did not expire: %d", pat, len(s.stored[0]))
		}
	}
}

func ExampleStream() {
	m := MustCompile("[ipv4-addr:value = '198.51.100.7'] FOLLOWEDBY [domain-name:value = 'evil.example'] WITHIN 60 SECONDS")
	s := NewStream(m)
	at := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, o := range []map[string]any{
		{"type": "ipv4-addr", "value": "198.51.100.7"},
		{"type": "domain-name", "value": "evil.example"},
	} {
		obs := &Observation{Time: at.Add(time.Duration(i) * 10 * time.Second), Objects: map[string]map[string]any{"0": o}}
		for _, m := range s.Feed(obs) {
			fmt.Println("match: observations", m.Seqs, "span", m.Last.Sub(m.First))
		}
	}
	// Output: match: observations [0 1] span 10s
}

func TestStreamOrKeepsNothing(t *testing.T) {
	s := NewStream(MustCompile("[domain-name:value = 'a.example'] OR [domain-name:value = 'b.example']"))
	for i := 0; i < 10; i++ {
		if len(s.Feed(ev{float64(i), "domain-name", "a.example"}.obs())) != 1 {
			t.Fatal("no match")
		}
	}
	for i, st := range s.stored {
		if len(st) != 0 {
			t.Errorf("node %d keeps %d bindings no one needs", i, len(st))
		}
	}
}
