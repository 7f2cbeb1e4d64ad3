package csvlist

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

func FuzzDetect(f *testing.F) {
	for _, s := range []string{"evil.com", "hxxp://evil[.]com/a", "1.2.3.4", "10.0.0.0/8", "2001:db8::1", "1.2.3.4:443",
		"0x51E9d833Ecae4E8D9D8Be17300AEE6D3398C135D", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "bc1q05aktddf9ce4p7hh3stgsf253m4vweu7nkhtmw",
		"TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre", "a@b.com", "d41d8cd98f00b204e9800998ecf8427e", "xn--oi2b61z32a.xn--3e0b707e",
		"evil.com:443/x", "http://[::1]:80/", "setup.exe", "010.1.1.1", "/path"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kind, v, ok := Detect(s)
		if !ok {
			return
		}
		// Normalisation is idempotent and yields a buildable pattern.
		k2, v2, ok2 := Detect(v)
		if !ok2 || k2 != kind || v2 != v {
			t.Fatalf("Detect(%q) = %s %q, but Detect(%q) = %s %q %v", s, kind, v, v, k2, v2, ok2)
		}
		p, err := feed.Pattern(kind, v)
		if err != nil {
			t.Fatal(err)
		}
		if err := stix.CheckPatternSyntax(p); err != nil {
			t.Fatalf("pattern %s: %v", p, err)
		}
	})
}

func FuzzRead(f *testing.F) {
	f.Add("list.txt", "# Reference: https://example.org/r\nevil.com\n1.2.3.4:80\nhash;comment\n")
	f.Add("x.csv", "value,type,actor,tlp\nevil.com,domain,Lazarus,amber\n\"a\nb\",ip,,\n")
	f.Add("x", "evil.com,c2\n")
	f.Add("filename-iocs.txt", "# REGEX;SCORE\n\\\\evil\\.exe;80\n")
	f.Add("y.csv", "ioc\n\"\"\"\n\x00\xff\n")
	f.Fuzz(func(t *testing.T, name, content string) {
		src := feed.Source{Path: name, R: strings.NewReader(content), Time: fixedTime}
		err := Read(context.Background(), src, func(it feed.Item) error {
			if it.Err != nil {
				var le *feed.LineError
				if !errors.As(it.Err, &le) {
					t.Fatalf("rejection is not a LineError: %v", it.Err)
				}
				return nil
			}
			if err := stix.Validate(it.Object); err != nil {
				t.Fatalf("invalid object: %v\n%s", err, it.Object.Raw)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		Sniff(name, []byte(content))
	})
}
