package sigma

import (
	"strings"
	"testing"
)

// rule builds a rule around a detection block (indented two spaces).
func rule(t testing.TB, detection string, opts Options) (*Rule, error) {
	t.Helper()
	src := "title: t\nid: 00000000-0000-0000-0000-000000000001\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n" + detection
	rs, errs := ParseRules([]byte(src), "test.yml", opts)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return rs[0], nil
}

var evProc = MapEvent{
	"Image":            `C:\Windows\System32\cmd.exe`,
	"CommandLine":      `cmd.exe /c whoami /all`,
	"ParentImage":      `C:\Program Files\Office\WINWORD.EXE`,
	"User":             `CORP\alice`,
	"EventID":          float64(1),
	"Port":             "445",
	"DestinationIp":    "10.1.2.3",
	"SourceIp":         "2001:db8::5",
	"Empty":            "",
	"Null":             nil,
	"Flag":             true,
	"Tags":             []any{"alpha", "beta"},
	"Star":             `a*b?c\d`,
	"Enc":              "cG93ZXJzaGVsbCAtZW5jb2RlZA==",
	"EncOff":           "xxSQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAyy",
	"Multi":            "line one\nline two",
	"TargetFilename":   `C:\Users\alice\cmd.exe`,
	"OriginalFileName": "Cmd.Exe",
	"Dash":             "net user /add \u2013force",
	"UtcTime":          "2024-03-05 14:07:09.123",
	"Nested":           map[string]any{"Inner": map[string]any{"Leaf": "deep"}},
	"id.orig_h":        "192.168.1.9",
}

func TestMatchTable(t *testing.T) {
	opts := Options{Placeholders: map[string][]string{"admins": {"alice", "bob"}, "dom": {"CORP"}}}
	cases := []struct {
		name string
		det  string
		want bool
	}{
		// plain values, case and wildcards
		{"exact", "  s:\n    Image: 'C:\\Windows\\System32\\cmd.exe'\n  condition: s", true},
		{"exact case-insensitive", "  s:\n    Image: 'c:\\windows\\system32\\CMD.EXE'\n  condition: s", true},
		{"exact mismatch", "  s:\n    Image: 'C:\\Windows\\cmd.exe'\n  condition: s", false},
		{"wildcard star", "  s:\n    Image: '*\\cmd.exe'\n  condition: s", true},
		{"wildcard q", "  s:\n    Image: '*\\cm?.exe'\n  condition: s", true},
		{"wildcard q one char only", "  s:\n    Image: '*\\c?.exe'\n  condition: s", false},
		{"wildcard middle", "  s:\n    Image: 'C:*\\cmd.*'\n  condition: s", true},
		{"escaped star literal", "  s:\n    Star: 'a\\*b\\?c\\d'\n  condition: s", true},
		{"escaped star not wildcard", "  s:\n    Star: 'a\\*b\\?c'\n  condition: s", false},
		{"escaped backslash", "  s:\n    Star: 'a\\*b\\?c\\\\d'\n  condition: s", true},
		{"lone star any", "  s:\n    Image: '*'\n  condition: s", true},
		{"lone star absent", "  s:\n    Missing: '*'\n  condition: s", false},
		{"list OR", "  s:\n    Image:\n      - '*\\powershell.exe'\n      - '*\\cmd.exe'\n  condition: s", true},
		{"list OR none", "  s:\n    Image:\n      - '*\\powershell.exe'\n      - '*\\pwsh.exe'\n  condition: s", false},
		{"map AND", "  s:\n    Image|endswith: '\\cmd.exe'\n    User: 'corp\\alice'\n  condition: s", true},
		{"map AND one fails", "  s:\n    Image|endswith: '\\cmd.exe'\n    User: 'corp\\bob'\n  condition: s", false},
		{"list of maps OR", "  s:\n    - Image|endswith: '\\x.exe'\n    - User: 'corp\\alice'\n  condition: s", true},
		{"list of maps none", "  s:\n    - Image|endswith: '\\x.exe'\n    - User: 'bob'\n  condition: s", false},
		{"null absent", "  s:\n    Missing: null\n  condition: s", true},
		{"null is null", "  s:\n    'Null': null\n  condition: s", true},
		{"null present", "  s:\n    Image: null\n  condition: s", false},
		{"empty string", "  s:\n    Empty: ''\n  condition: s", true},
		{"empty string vs value", "  s:\n    Image: ''\n  condition: s", false},
		{"empty string vs absent", "  s:\n    Missing: ''\n  condition: s", false},
		{"number equals float", "  s:\n    EventID: 1\n  condition: s", true},
		{"number equals string", "  s:\n    Port: 445\n  condition: s", true},
		{"number mismatch", "  s:\n    EventID: 4688\n  condition: s", false},
		{"number list", "  s:\n    EventID:\n      - 4688\n      - 1\n  condition: s", true},
		{"bool", "  s:\n    Flag: true\n  condition: s", true},
		{"bool false", "  s:\n    Flag: false\n  condition: s", false},
		{"array any element", "  s:\n    Tags: beta\n  condition: s", true},
		{"array no element", "  s:\n    Tags: gamma\n  condition: s", false},
		{"nested path", "  s:\n    Nested.Inner.Leaf: deep\n  condition: s", true},
		{"dotted flat key", "  s:\n    id.orig_h|startswith: '192.168.'\n  condition: s", true},
		{"field name case-insensitive", "  s:\n    commandline|contains: whoami\n  condition: s", true},
		// keywords
		{"keywords list", "  keywords:\n    - whoami\n    - nothing\n  condition: keywords", true},
		{"keywords none", "  keywords:\n    - mimikatz\n  condition: keywords", false},
		{"keyword scalar", "  keywords: 'WHOAMI'\n  condition: keywords", true},
		{"keyword nested value", "  keywords:\n    - deep\n  condition: keywords", true},
		{"keywords all", "  keywords:\n    '|all':\n      - whoami\n      - winword\n  condition: keywords", true},
		{"keywords all fails", "  keywords:\n    '|all':\n      - whoami\n      - mimikatz\n  condition: keywords", false},
		// modifiers
		{"contains", "  s:\n    CommandLine|contains: 'WHOAMI'\n  condition: s", true},
		{"contains miss", "  s:\n    CommandLine|contains: 'net user'\n  condition: s", false},
		{"startswith", "  s:\n    CommandLine|startswith: 'CMD.exe /c'\n  condition: s", true},
		{"startswith miss", "  s:\n    CommandLine|startswith: '/c'\n  condition: s", false},
		{"endswith", "  s:\n    CommandLine|endswith: '/ALL'\n  condition: s", true},
		{"endswith miss", "  s:\n    CommandLine|endswith: 'whoami'\n  condition: s", false},
		{"contains wildcard inside", "  s:\n    CommandLine|contains: 'cmd*whoami'\n  condition: s", true},
		{"contains all", "  s:\n    CommandLine|contains|all:\n      - whoami\n      - '/all'\n  condition: s", true},
		{"contains all one missing", "  s:\n    CommandLine|contains|all:\n      - whoami\n      - '/priv'\n  condition: s", false},
		{"cased match", "  s:\n    OriginalFileName|cased: 'Cmd.Exe'\n  condition: s", true},
		{"cased mismatch", "  s:\n    OriginalFileName|cased: 'cmd.exe'\n  condition: s", false},
		{"cased contains", "  s:\n    OriginalFileName|contains|cased: 'd.E'\n  condition: s", true},
		{"re", "  s:\n    CommandLine|re: 'who[a-z]+ /all$'\n  condition: s", true},
		{"re case-sensitive", "  s:\n    CommandLine|re: 'WHOAMI'\n  condition: s", false},
		{"re i", "  s:\n    CommandLine|re|i: 'WHOAMI'\n  condition: s", true},
		{"re m", "  s:\n    Multi|re|m: '^line two$'\n  condition: s", true},
		{"re without m", "  s:\n    Multi|re: '^line two$'\n  condition: s", false},
		{"re s", "  s:\n    Multi|re|s: 'one.line'\n  condition: s", true},
		{"re without s", "  s:\n    Multi|re: 'one.line'\n  condition: s", false},
		{"windash slash matches dash", "  s:\n    CommandLine|windash|contains: ' -c '\n  condition: s", true},
		{"windash en dash", "  s:\n    Dash|windash|contains: '-force'\n  condition: s", true},
		{"windash dash in value", "  s:\n    Dash|windash|contains: '/add'\n  condition: s", true},
		{"no windash", "  s:\n    CommandLine|contains: ' -c '\n  condition: s", false},
		{"cidr v4", "  s:\n    DestinationIp|cidr: '10.0.0.0/8'\n  condition: s", true},
		{"cidr v4 miss", "  s:\n    DestinationIp|cidr: '10.2.0.0/16'\n  condition: s", false},
		{"cidr v6", "  s:\n    SourceIp|cidr: '2001:db8::/32'\n  condition: s", true},
		{"cidr list", "  s:\n    DestinationIp|cidr:\n      - '192.168.0.0/16'\n      - '10.1.2.0/24'\n  condition: s", true},
		{"base64", "  s:\n    Enc|base64: 'powershell -encoded'\n  condition: s", true},
		{"base64 mismatch", "  s:\n    Enc|base64: 'powershell'\n  condition: s", false},
		{"base64 contains", "  s:\n    Enc|base64|contains: 'powershell -encoded'\n  condition: s", true},
		{"base64offset wide", "  s:\n    EncOff|wide|base64offset|contains: 'IEX (New-Object'\n  condition: s", true},
		{"base64offset plain", "  s:\n    Enc|base64offset|contains: 'shell'\n  condition: s", true},
		{"base64offset miss", "  s:\n    Enc|base64offset|contains: 'bash'\n  condition: s", false},
		{"utf16le raw", "  s:\n    Wide|utf16le: 'cmd'\n  condition: s", false},
		{"exists true", "  s:\n    Image|exists: true\n  condition: s", true},
		{"exists false", "  s:\n    Missing|exists: false\n  condition: s", true},
		{"exists null counts", "  s:\n    'Null|exists': true\n  condition: s", true},
		{"exists absent", "  s:\n    Missing|exists: true\n  condition: s", false},
		{"gt", "  s:\n    Port|gt: 400\n  condition: s", true},
		{"gte equal", "  s:\n    Port|gte: 445\n  condition: s", true},
		{"lt", "  s:\n    EventID|lt: 2\n  condition: s", true},
		{"lte miss", "  s:\n    Port|lte: 100\n  condition: s", false},
		{"gt non numeric", "  s:\n    Image|gt: 1\n  condition: s", false},
		{"fieldref equal", "  s:\n    Image|endswith|fieldref: Image\n  condition: s", true},
		{"fieldref endswith", "  s:\n    TargetFilename|endswith|fieldref: OriginalFileName\n  condition: s", true},
		{"fieldref differ", "  s:\n    Image|fieldref: ParentImage\n  condition: s", false},
		{"expand", "  s:\n    User|expand: 'CORP\\%admins%'\n  condition: s", true},
		{"expand two placeholders", "  s:\n    User|expand: '%dom%\\%admins%'\n  condition: s", true},
		{"expand miss", "  s:\n    ParentImage|expand: '%admins%'\n  condition: s", false},
		{"neq", "  s:\n    User|neq: 'corp\\bob'\n  condition: s", true},
		{"neq equal", "  s:\n    User|neq: 'CORP\\alice'\n  condition: s", false},
		{"neq absent", "  s:\n    Missing|neq: x\n  condition: s", false},
		{"neq number", "  s:\n    EventID|neq: 4688\n  condition: s", true},
		{"hour", "  s:\n    UtcTime|hour: 14\n  condition: s", true},
		{"month gt", "  s:\n    UtcTime|month|gt: 3\n  condition: s", false},
		{"year gte", "  s:\n    UtcTime|year|gte: 2024\n  condition: s", true},
		// conditions
		{"and", "  a:\n    Image|endswith: cmd.exe\n  b:\n    User|contains: alice\n  condition: a and b", true},
		{"or", "  a:\n    Image|endswith: x.exe\n  b:\n    User|contains: alice\n  condition: a or b", true},
		{"not", "  a:\n    Image|endswith: x.exe\n  condition: not a", true},
		{"and not", "  a:\n    Image|endswith: cmd.exe\n  f:\n    ParentImage|endswith: winword.exe\n  condition: a and not f", false},
		{"precedence and over or", "  a:\n    Image|endswith: x.exe\n  b:\n    User|contains: alice\n  c:\n    Image|endswith: y.exe\n  condition: a and c or b", true},
		{"precedence parens", "  a:\n    Image|endswith: x.exe\n  b:\n    User|contains: alice\n  c:\n    Image|endswith: y.exe\n  condition: a and (c or b)", false},
		{"not binds tighter than and", "  a:\n    Image|endswith: x.exe\n  b:\n    User|contains: alice\n  condition: not a and b", true},
		{"not of parens", "  a:\n    Image|endswith: x.exe\n  b:\n    User|contains: alice\n  condition: not (a or b)", false},
		{"1 of pattern", "  sel_a:\n    Image|endswith: x.exe\n  sel_b:\n    User|contains: alice\n  condition: 1 of sel_*", true},
		{"all of pattern", "  sel_a:\n    Image|endswith: x.exe\n  sel_b:\n    User|contains: alice\n  condition: all of sel_*", false},
		{"all of pattern true", "  sel_a:\n    Image|endswith: cmd.exe\n  sel_b:\n    User|contains: alice\n  other:\n    User: nobody\n  condition: all of sel_*", true},
		{"1 of them", "  a:\n    Image|endswith: x.exe\n  b:\n    User|contains: alice\n  condition: 1 of them", true},
		{"all of them", "  a:\n    Image|endswith: x.exe\n  b:\n    User|contains: alice\n  condition: all of them", false},
		{"them skips underscore", "  a:\n    Image|endswith: cmd.exe\n  _b:\n    User: nobody\n  condition: all of them", true},
		{"any of", "  a:\n    Image|endswith: x.exe\n  b:\n    User|contains: alice\n  condition: any of them", true},
		{"2 of", "  a:\n    Image|endswith: cmd.exe\n  b:\n    User|contains: alice\n  c:\n    User: x\n  condition: 2 of them", true},
		{"3 of", "  a:\n    Image|endswith: cmd.exe\n  b:\n    User|contains: alice\n  c:\n    User: x\n  condition: 3 of them", false},
		{"not 1 of", "  f_a:\n    Image|endswith: x.exe\n  f_b:\n    User: bob\n  condition: not 1 of f_*", true},
		{"condition list is OR", "  a:\n    Image|endswith: x.exe\n  b:\n    User|contains: alice\n  condition:\n    - a\n    - b", true},
		{"keywords case-insensitive operators", "  a:\n    Image|endswith: cmd.exe\n  b:\n    User|contains: alice\n  condition: a AND NOT (b Or a)", false},
		{"real shape", "  selection_img:\n    - Image|endswith: '\\cmd.exe'\n    - OriginalFileName: 'Cmd.Exe'\n  selection_cli:\n    CommandLine|contains|windash: '-c '\n  filter_main_parent:\n    ParentImage|startswith: 'C:\\Program Files\\Office\\'\n  condition: all of selection_* and not 1 of filter_main_*", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := rule(t, c.det, opts)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got := r.Match(evProc); got != c.want {
				t.Errorf("match = %v, want %v (condition %q)", got, c.want, r.Condition)
			}
		})
	}
}

func TestMatchEncodings(t *testing.T) {
	// Values built here so the test does not depend on hand-encoded bytes.
	wide := utf16Bytes("cmd", false, false)
	if wide != "c\x00m\x00d\x00" {
		t.Fatalf("utf16le = %q", wide)
	}
	if got := utf16Bytes("cmd", true, false); got != "\x00c\x00m\x00d" {
		t.Fatalf("utf16be = %q", got)
	}
	if got := utf16Bytes("cmd", false, true); got != "\xff\xfec\x00m\x00d\x00" {
		t.Fatalf("utf16 = %q", got)
	}
	ev := MapEvent{"W": "x" + wide + "y"}
	r, err := rule(t, "  s:\n    W|utf16le|contains: cmd\n  condition: s", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Match(ev) {
		t.Error("utf16le|contains did not match")
	}
	// base64offset: every alignment of "cmd" inside a longer encoded string.
	for _, prefix := range []string{"", "a", "ab", "abc"} {
		enc := encode("base64", []string{prefix + "/c whoami" + "zz"})[0]
		r, err := rule(t, "  s:\n    B|base64offset|contains: '/c whoami'\n  condition: s", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Match(MapEvent{"B": enc}) {
			t.Errorf("base64offset missed with prefix %q (%s)", prefix, enc)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, det   string
		unsupported bool
		reason      string
	}{
		{"unknown selection", "  s:\n    A: b\n  condition: t", false, `unknown selection "t"`},
		{"unbalanced", "  s:\n    A: b\n  condition: (s", false, "missing )"},
		{"trailing", "  s:\n    A: b\n  condition: s s", false, `unexpected "s"`},
		{"dangling and", "  s:\n    A: b\n  condition: s and", false, "unexpected end"},
		{"pattern matches none", "  s:\n    A: b\n  condition: 1 of x*", false, "matches no selection"},
		{"bad quantifier", "  s:\n    A: b\n  condition: some of s", false, "before 'of'"},
		{"aggregation", "  s:\n    A: b\n  condition: s | count() > 5", true, "aggregation"},
		{"near", "  s:\n    A: b\n  condition: near s", true, "near"},
		{"no condition", "  s:\n    A: b\n", false, "missing condition"},
		{"unknown modifier", "  s:\n    A|sha256: b\n  condition: s", true, `unknown modifier "sha256"`},
		{"flag without re", "  s:\n    A|i: b\n  condition: s", false, "must follow re"},
		{"bad regex", "  s:\n    A|re: '(?<=x)y'\n  condition: s", true, "RE2"},
		{"bad cidr", "  s:\n    A|cidr: '10.0.0.0/33'\n  condition: s", false, "cidr"},
		{"gt string", "  s:\n    A|gt: abc\n  condition: s", false, "needs a number"},
		{"exists not bool", "  s:\n    A|exists: maybe\n  condition: s", false, "true or false"},
		{"unknown placeholder", "  s:\n    A|expand: '%nope%'\n  condition: s", true, "%nope%"},
		{"nested map value", "  s:\n    A:\n      B: c\n  condition: s", false, "scalar"},
		{"empty list", "  s:\n    A: []\n  condition: s", false, "empty value list"},
		{"wildcard base64", "  s:\n    A|base64: 'a*'\n  condition: s", false, "cannot be encoded"},
		{"deep parens", "  s:\n    A: b\n  condition: " + strings.Repeat("(", 100) + "s" + strings.Repeat(")", 100), false, "nested deeper"},
		{"deep not", "  s:\n    A: b\n  condition: " + strings.Repeat("not ", 100) + "s", false, "nested deeper"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := rule(t, c.det, Options{})
			if err == nil {
				t.Fatal("no error")
			}
			e := err.(*Error)
			if e.Unsupported != c.unsupported || !strings.Contains(e.Reason, c.reason) {
				t.Errorf("got %v (unsupported=%v), want %q unsupported=%v", e, e.Unsupported, c.reason, c.unsupported)
			}
			if e.File != "test.yml" {
				t.Errorf("file = %q", e.File)
			}
		})
	}
}
