package stix

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
)

func FuzzBundleReader(f *testing.F) {
	f.Add([]byte(bundleText))
	f.Add([]byte("[" + urlObj(0) + "," + urlObj(1) + "]"))
	f.Add([]byte(urlObj(2)))
	f.Add([]byte(`{"type":"bundle","objects":[{"a":[[[`))
	f.Add([]byte(`{"objects":[],"type":"bundle","id":5}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		br := NewBundleReader(bytes.NewReader(data), 1<<16)
		for i := 0; i < 1<<16; i++ {
			ro, err := br.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) && err.Error() == "" {
					t.Fatal("empty error")
				}
				return
			}
			if !json.Valid(ro.Raw) || ro.Index != i || ro.Line < 1 {
				t.Fatalf("object %d (index %d line %d) invalid: %q", i, ro.Index, ro.Line, ro.Raw)
			}
		}
		t.Fatal("reader did not end")
	})
}

func FuzzDecode(f *testing.F) {
	for _, m := range []map[string]any{identity, indicator, relationship, sighting, observedData, statement, netTraffic,
		tlp1(TLP1Red, "red"), tlp2(TLP2Amber, "amber")} {
		raw, _ := json.Marshal(m)
		f.Add(raw)
	}
	f.Add([]byte(`{"type":"malware","id":"malware--` + fixedUUID + `","created":"2016-05-12T08:17:27Z","modified":"2016-05-12T08:17:27Z","labels":["x"],"name":"a"}`))
	f.Add([]byte(`{"a":1 2}`))
	f.Add([]byte("{\"type\":\"url\",\"id\":\"url--" + fixedUUID + "\",\"value\":\"\\u00e9\xff\"}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := Decode(data)
		// Parse accepts exactly what encoding/json accepts as an object,
		// and Raw is its compact form.
		if p, perr := Parse(data); perr == nil {
			var want bytes.Buffer
			if cerr := json.Compact(&want, bytes.TrimSpace(data)); cerr != nil || !bytes.Equal(want.Bytes(), p.Raw) {
				t.Fatalf("Parse accepted %q (compact %v): Raw %q", data, cerr, p.Raw)
			}
			var m map[string]json.RawMessage
			if json.Unmarshal(data, &m) != nil || len(m) != len(p.props) {
				t.Fatalf("props differ from encoding/json for %q", data)
			}
		} else if errors.Is(perr, ErrNotObject) == false && json.Valid(data) && bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
			var pe *PropertyError
			if !errors.As(perr, &pe) {
				t.Fatalf("Parse refused valid JSON object %q: %v", data, perr)
			}
		}
		if err != nil {
			return
		}
		if verr := Validate(o); verr != nil {
			t.Fatalf("Decode succeeded but Validate: %v", verr)
		}
		o2, err := Parse(o.Raw)
		if err != nil {
			t.Fatalf("Parse(o.Raw): %v", err)
		}
		if !bytes.Equal(o2.Raw, o.Raw) {
			t.Fatalf("Raw not stable")
		}
		_ = IndexValues(o)
		_ = Names(o)
		_ = Refs(o)
	})
}

func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"2016-05-12T08:17:27Z", "2016-05-12T08:17:27.123Z", "2016-02-30T00:00:00Z", "2016-05-12T08:17:27+00:00", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := ParseTimestamp(s)
		if err != nil {
			return
		}
		if s[len(s)-1] != 'Z' || ts.Location().String() != "UTC" {
			t.Fatalf("accepted %q as %v", s, ts)
		}
		back, err := ParseTimestamp(FormatTAXII(ts))
		if err != nil || !back.Equal(ts.Truncate(1000)) {
			t.Fatalf("%q: FormatTAXII round trip %v %v", s, back, err)
		}
	})
}

func FuzzPatternValues(f *testing.F) {
	for _, s := range []string{
		"[ipv4-addr:value = '198.51.100.3']",
		"[file:hashes.'SHA-256' = 'aa' OR file:name IN ('a\\'b', 'c')] FOLLOWEDBY [url:value = 'http://x.test/'] WITHIN 10 SECONDS",
		"[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Foo' AND NOT x:y = 'z']",
		"[a:b[*].c = t'2020-01-01T00:00:00Z']", "[", "'", "[x:y = h'00']",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		vals := PatternValues(p)
		err := CheckPatternSyntax(p)
		if _, lerr := lexPattern(p); lerr != nil && (err == nil || vals != nil) {
			t.Fatalf("unlexable %q: syntax %v, values %v", p, err, vals)
		}
		for _, v := range vals {
			if v.Path == "" {
				t.Fatalf("%q: value %q without path", p, v.Value)
			}
		}
	})
}

// FuzzParseStored: whatever Parse accepts, ParseStored reads back alike.
func FuzzParseStored(f *testing.F) {
	f.Add([]byte(`{"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","labels":["a","b"],"x":{"y":[1,"}"]}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		o, err := Parse(raw)
		if err != nil {
			return
		}
		s, err := ParseStored(o.Raw)
		if err != nil {
			t.Fatalf("ParseStored refused what Parse accepted: %v", err)
		}
		if s.ID != o.ID || s.Type != o.Type || len(s.PropNames()) != len(o.PropNames()) || s.VersionString() != o.VersionString() {
			t.Fatalf("ParseStored differs from Parse")
		}
	})
}
