package detect

import (
	"math/rand/v2"
	"testing"
)

// strEndBytewise is strEnd one byte at a time: the reference the
// word-at-a-time scan must agree with.
func strEndBytewise(b []byte, i int) (int, bool, bool) {
	esc := false
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j, esc, true
		case c == '\\':
			esc = true
			j++
		case c < 0x20:
			return 0, false, false
		}
	}
	return 0, false, false
}

func TestStrEndAgreesWithBytewise(t *testing.T) {
	alphabet := []byte("ab\"\\\x00\x1f\x20\x7f\x80\xc3\xa9\xffz.")
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 200000; n++ {
		b := make([]byte, 1+rng.IntN(40))
		b[0] = '"'
		for k := 1; k < len(b); k++ {
			if rng.IntN(4) == 0 {
				b[k] = alphabet[rng.IntN(len(alphabet))]
			} else {
				b[k] = 'a' + byte(rng.IntN(26))
			}
		}
		wantEnd, wantEsc, wantOK := strEndBytewise(b, 0)
		end, esc, err := strEnd(b, 0)
		if (err == nil) != wantOK || end != wantEnd || esc != wantEsc {
			t.Fatalf("strEnd(%q) = %d, %v, %v; byte by byte %d, %v, ok=%v", b, end, esc, err, wantEnd, wantEsc, wantOK)
		}
	}
}

func TestJSONMapLookup(t *testing.T) {
	ip, dom := &Target{Name: "ip"}, &Target{Name: "dom"}
	m := newJSONMap(map[string]*Target{"id.orig_h": ip, "a.b.query": dom, "x": ip})
	for _, c := range []struct {
		key    string
		t      *Target
		prefix bool
	}{
		{"id.orig_h", ip, false},
		{"id", nil, true},
		{"a", nil, true},
		{"a.b", nil, true},
		{"a.b.query", dom, false},
		{"x", ip, false},
		{"id.orig_p", nil, false},
		{"id.orig_hh", nil, false},
		{"y", nil, false},
		{"", nil, false},
	} {
		jk := m.lookup([]byte(c.key))
		if jk.t != c.t || jk.prefix != c.prefix {
			t.Errorf("lookup(%q) = %v, %v; want %v, %v", c.key, jk.t, jk.prefix, c.t, c.prefix)
		}
	}
}

// TestKeyPredictionMatchesFreshScan feeds one scanner lines whose keys
// change order, nest, escape and share prefixes, and checks each line
// gives what a scanner that never saw the previous lines gives.
func TestKeyPredictionMatchesFreshScan(t *testing.T) {
	ip, dom, other := &Target{Name: "ip", Kind: KindIP}, &Target{Name: "dom", Kind: KindDomain}, &Target{Name: "o", Kind: KindOther}
	m := newJSONMap(map[string]*Target{"id.orig_h": ip, "query": dom, "q": other, "a.b": dom, "a\"x": other})
	keys := []string{`"id.orig_h"`, `"id"`, `"query"`, `"queryx"`, `"q"`, `"qu\u0065ry"`, `"a"`, `"a\"x"`, `"zz"`, `"id.orig_hh"`}
	vals := []string{`"1.2.3.4"`, `"evil.com"`, `7`, `{"orig_h":"5.6.7.8","b":"x.org"}`, `{"b":"sub.evil.com"}`, `["9.9.9.9","a.b"]`, `null`}
	rng := rand.New(rand.NewPCG(3, 4))
	var shared jscan
	shared.m = m
	var prev []byte
	for n := 0; n < 20000; n++ {
		line := []byte{'{'}
		k := 1 + rng.IntN(6)
		for j := 0; j < k; j++ {
			if j > 0 {
				line = append(line, ',')
			}
			// Repeat the previous line's shape most of the time.
			line = append(line, keys[(j+rng.IntN(2)*rng.IntN(len(keys)))%len(keys)]...)
			line = append(line, ':')
			line = append(line, vals[rng.IntN(len(vals))]...)
		}
		line = append(line, '}')
		var evShared, evFresh Event
		evShared.Reset(len(line))
		evFresh.Reset(len(line))
		shared.ev = &evShared
		errShared := shared.scanLine(line)
		fresh := jscan{m: m, ev: &evFresh}
		errFresh := fresh.scanLine(line)
		if (errShared == nil) != (errFresh == nil) {
			t.Fatalf("%s (after %s): error %v with prediction, %v without", line, prev, errShared, errFresh)
		}
		if len(evShared.Fields) != len(evFresh.Fields) {
			t.Fatalf("%s: %d fields with prediction, %d without", line, len(evShared.Fields), len(evFresh.Fields))
		}
		prev = line
		for i := range evShared.Fields {
			a, b := evShared.Fields[i], evFresh.Fields[i]
			if a.T != b.T || string(a.Value) != string(b.Value) {
				t.Fatalf("%s: field %d is %s=%s with prediction, %s=%s without", line, i, a.T.Name, a.Value, b.T.Name, b.Value)
			}
		}
	}
}
