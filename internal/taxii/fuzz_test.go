package taxii

import (
	"testing"
	"time"
)

// FuzzParseFilters: any query string parses or is refused, never panics,
// and what parses respects the bounds.
func FuzzParseFilters(f *testing.F) {
	for _, s := range []string{
		"", "limit=7", "added_after=2024-01-01T00:00:00.000000Z&match[type]=indicator,malware",
		"match[version]=first,last,2024-01-01T00:00:00.123Z", "match[version]=all,all", "next=abc&limit=0",
		"match[id]=indicator--00000001-0000-4000-8000-000000000001", "%zz", "match[spec_version]=2.0,2.1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		fl, err := parseFilters(raw, listParams, 100)
		if err != nil {
			return
		}
		if fl.limit <= 0 || fl.limit > 100 {
			t.Fatalf("limit %d", fl.limit)
		}
		if len(fl.version.selectors()) == 0 {
			t.Fatal("no version selector")
		}
		_ = fl.key()
	})
}

// FuzzNextToken: no forged or mangled token verifies.
func FuzzNextToken(f *testing.F) {
	ts := newTokenSigner(time.Now, time.Hour)
	good := ts.sign("bind", time.Now())
	f.Add(good)
	f.Add("")
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		if _, err := ts.verify(tok, "bind"); err == nil && tok != good {
			// Only the issued token (or an identical encoding) may verify.
			if _, err2 := ts.verify(tok, "other"); err2 == nil {
				t.Fatalf("token %q verifies for any binding", tok)
			}
		}
	})
}

// FuzzCredential: Authorization headers never panic.
func FuzzCredential(f *testing.F) {
	for _, s := range []string{"Bearer x", "Basic YTpi", "Basic !!", "basic", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		_, _ = credential([]string{h})
	})
}
