package pattern

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		in, canon string
	}{
		{"[file:name = 'a']", "[file:name = 'a']"},
		{"[file:name=='a']", "[file:name = 'a']"},
		{"[file:name<>'a']", "[file:name != 'a']"},
		{"  [ file : name = 'a' ]  ", "[file:name = 'a']"},
		{"[file:name = 'it\\'s \\\\ here']", "[file:name = 'it\\'s \\\\ here']"},
		{"[file:size = +5]", "[file:size = 5]"},
		{"[file:size = -5]", "[file:size = -5]"},
		{"[file:size < .5]", "[file:size < 0.5]"},
		{"[file:size < -0.25]", "[file:size < -0.25]"},
		{"[file:x = true AND file:y != false]", "[file:x = true AND file:y != false]"},
		{"[artifact:payload_bin = b'dGVzdA==']", "[artifact:payload_bin = b'dGVzdA==']"},
		{"[file:magic_number_hex = h'FFD8']", "[file:magic_number_hex = h'ffd8']"},
		{"[file:created > t'2020-01-02T03:04:05.500Z']", "[file:created > t'2020-01-02T03:04:05.5Z']"},
		{"[file:name IN ('a', 'b', 3)]", "[file:name IN ('a', 'b', 3)]"},
		{"[file:name IN ()]", "[file:name IN ()]"},
		{"[file:name NOT IN ('a')]", "[file:name NOT IN ('a')]"},
		{"[file:name NOT = 'a']", "[file:name NOT = 'a']"},
		{"[file:size NOT > 3]", "[file:size NOT > 3]"},
		{"[file:name LIKE 'a%_']", "[file:name LIKE 'a%_']"},
		{"[file:name NOT MATCHES '^a']", "[file:name NOT MATCHES '^a']"},
		{"[ipv4-addr:value ISSUBSET '10.0.0.0/8']", "[ipv4-addr:value ISSUBSET '10.0.0.0/8']"},
		{"[ipv4-addr:value NOT ISSUPERSET '10.0.0.0/8']", "[ipv4-addr:value NOT ISSUPERSET '10.0.0.0/8']"},
		{"[EXISTS file:name]", "[EXISTS file:name]"},
		{"[file:'name' = 'a']", "[file:name = 'a']"},
		{"[file:hashes.'SHA-256' = 'x']", "[file:hashes.'SHA-256' = 'x']"},
		{"[file:hashes.SHA-256 = 'x']", "[file:hashes.'SHA-256' = 'x']"},
		{"[file:x.'AND' = 1]", "[file:x.'AND' = 1]"},
		{"[file:x[0].y[*].z[-1] = 1]", "[file:x[0].y[*].z[-1] = 1]"},
		{"[network-traffic:src_ref.value = '1.2.3.4']", "[network-traffic:src_ref.value = '1.2.3.4']"},
		{"[a:b = 1 OR a:c = 2 AND a:d = 3]", "[a:b = 1 OR a:c = 2 AND a:d = 3]"},
		{"[(a:b = 1 OR a:c = 2) AND a:d = 3]", "[(a:b = 1 OR a:c = 2) AND a:d = 3]"},
		{"[((a:b = 1))]", "[a:b = 1]"},
		{"[a:b = 1 AND (a:c = 2 AND a:d = 3)]", "[a:b = 1 AND a:c = 2 AND a:d = 3]"},
		{"[a:b = 1] AND [a:c = 2] OR [a:d = 3]", "[a:b = 1] AND [a:c = 2] OR [a:d = 3]"},
		{"[a:b = 1] AND ([a:c = 2] OR [a:d = 3])", "[a:b = 1] AND ([a:c = 2] OR [a:d = 3])"},
		{"[a:b = 1] FOLLOWEDBY [a:c = 2] OR [a:d = 3]", "[a:b = 1] FOLLOWEDBY [a:c = 2] OR [a:d = 3]"},
		{"([a:b = 1] FOLLOWEDBY [a:c = 2]) AND [a:d = 3]", "([a:b = 1] FOLLOWEDBY [a:c = 2]) AND [a:d = 3]"},
		{"[a:b = 1] WITHIN 5 SECONDS", "[a:b = 1] WITHIN 5 SECONDS"},
		{"[a:b = 1] WITHIN 2.5 SECONDS", "[a:b = 1] WITHIN 2.5 SECONDS"},
		{"[a:b = 1] REPEATS 3 TIMES WITHIN 60 SECONDS", "[a:b = 1] REPEATS 3 TIMES WITHIN 60 SECONDS"},
		{"([a:b = 1] REPEATS 3 TIMES) WITHIN 60 SECONDS", "[a:b = 1] REPEATS 3 TIMES WITHIN 60 SECONDS"},
		{"[a:b = 1] START t'2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00Z'", "[a:b = 1] START t'2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00Z'"},
		{"[a:b = 1] START '2020-01-01T00:00:00Z' STOP '2020-01-02T00:00:00Z'", "[a:b = 1] START t'2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00Z'"},
		{"([a:b = 1] AND [a:c = 2]) REPEATS 2 TIMES", "([a:b = 1] AND [a:c = 2]) REPEATS 2 TIMES"},
		{"[a:b = 1] /* comment */ AND // line\n [a:c = 2]", "[a:b = 1] AND [a:c = 2]"},
		{"[a:b\u00a0=\u30001]", "[a:b = 1]"},
		{"[a:b = 'Инвестиционный']", "[a:b = 'Инвестиционный']"},
		{"[a:b = 1.0]", "[a:b = 1.0]"},
	}
	for _, tt := range tests {
		p, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := p.String(); got != tt.canon {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.canon)
		}
		checkRoundTrip(t, tt.in, p)
	}
}

func TestParseAST(t *testing.T) {
	p := MustParse("[file:hashes.'SHA-256' = 'ab' AND file:size > 10] FOLLOWEDBY [process:pid IN (1, 2)] WITHIN 300 SECONDS")
	want := &Pattern{Root: &ObsBinary{Op: ObsFollowedBy, Operands: []ObsExpr{
		&Bracket{Expr: &CompBinary{Op: And, Operands: []CompExpr{
			&Comparison{Path: Path{Type: "file", Steps: []Step{{Kind: StepKey, Key: "hashes"}, {Kind: StepKey, Key: "SHA-256"}}},
				Op: OpEq, Value: Literal{Kind: LitString, Str: "ab"}},
			&Comparison{Path: Path{Type: "file", Steps: []Step{{Kind: StepKey, Key: "size"}}},
				Op: OpGt, Value: Literal{Kind: LitInt, Int: 10}},
		}}},
		&Qualified{Expr: &Bracket{Expr: &Comparison{Path: Path{Type: "process", Steps: []Step{{Kind: StepKey, Key: "pid"}}},
			Op: OpIn, Set: []Literal{{Kind: LitInt, Int: 1}, {Kind: LitInt, Int: 2}}}},
			Qualifiers: []Qualifier{{Kind: QualWithin, Seconds: 300}}},
	}}}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("AST mismatch:\n got %#v\nwant %#v", p.Root, want.Root)
	}
	q := MustParse("[a:b = 1] START t'2020-01-01T00:00:00Z' STOP t'2020-01-01T00:00:01.25Z'").Root.(*Qualified).Qualifiers[0]
	if !q.Start.Equal(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) || q.Stop.Sub(q.Start) != 1250*time.Millisecond {
		t.Errorf("START/STOP = %v %v", q.Start, q.Stop)
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		in  string
		pos int
		msg string
	}{
		{"", 0, "empty pattern"},
		{"   ", 0, "empty pattern"},
		{"file:name = 'a'", 0, "expected '[' or '('"},
		{"[file:name = 'a'", 16, "expected ']' after comparison, got end of pattern"},
		{"[file:name = 'a' OR]", 19, "expected an object path"},
		{"[file:name = 'a' FOO]", 17, "expected ']' after comparison, got 'FOO'"},
		{"[file:name = 'a' and file:size = 1]", 17, "keywords are upper-case: AND"},
		{"[file:name = 'a'] and [file:size = 1]", 18, "keywords are upper-case: AND"},
		{"[file:name = 'a'] followedby [a:b = 1]", 18, "FOLLOWEDBY"},
		{"[file:name 'a']", 11, "expected a comparison operator after object path, got ''a''"},
		{"[file:name = ]", 13, "expected a literal"},
		{"[file:name = 'a]", 13, "unterminated string"},
		{"[file:name = 'a\\n']", 15, "invalid escape '\\n'"},
		{"[file name = 'a']", 6, "expected ':' after object type 'file'"},
		{"[file: = 'a']", 7, "expected a property name after ':'"},
		{"[file:name. = 'a']", 12, "expected a property name after '.'"},
		{"[file:name[x] = 'a']", 11, "expected an index or '*'"},
		{"[file:name[1 = 'a']", 13, "expected ']' after list index"},
		{"[file:name = 01]", 13, "leading zeros"},
		{"[file:name = 1.]", 13, "digits must follow the decimal point"},
		{"[file:name = 99999999999999999999]", 13, "out of range"},
		{"[file:name = 12abc]", 13, "invalid number"},
		{"[file:name = h'abc']", 13, "even number of digits"},
		{"[file:name = h'zz']", 13, "invalid hex"},
		{"[file:name = b'***']", 15, "invalid base64 character"},
		{"[file:name = b'abc']", 13, "invalid base64"},
		{"[file:name = b'']", 13, "empty binary literal"},
		{"[file:name = t'2020-13-01T00:00:00Z']", 13, "invalid timestamp"},
		{"[file:name = t'2020-01-01 00:00:00']", 13, "invalid timestamp"},
		{"[file:name > true]", 13, "boolean cannot be ordered"},
		{"[file:name LIKE 5]", 16, "expected a string after LIKE"},
		{"[file:name MATCHES h'00']", 19, "expected a string after MATCHES"},
		{"[file:name IN 'a']", 14, "expected '(' after IN"},
		{"[file:name IN ('a' 'b')]", 19, "expected ',' or ')' in set"},
		{"[file:name IN ('a',)]", 19, "expected a literal in set"},
		{"[NOT file:name = 'a']", 1, "NOT goes between the object path"},
		{"[NOT EXISTS file:name]", 1, "NOT EXISTS"},
		{"[file:name EXISTS]", 11, "EXISTS comes before the object path"},
		{"[AND:x = 1]", 1, "keyword AND"},
		{"[a:b = 1] WITHIN 0 SECONDS", 17, "positive"},
		{"[a:b = 1] WITHIN -5 SECONDS", 17, "positive"},
		{"[a:b = 1] WITHIN 5", 18, "expected SECONDS"},
		{"[a:b = 1] WITHIN 5 seconds", 19, "keywords are upper-case: SECONDS"},
		{"[a:b = 1] REPEATS 0 TIMES", 18, "positive"},
		{"[a:b = 1] REPEATS 1.5 TIMES", 18, "expected an integer after REPEATS"},
		{"[a:b = 1] REPEATS 2", 19, "expected TIMES"},
		{"[a:b = 1] START t'2020-01-02T00:00:00Z' STOP t'2020-01-01T00:00:00Z'", 45, "STOP must be later than START"},
		{"[a:b = 1] START t'2020-01-02T00:00:00Z'", 39, "expected STOP"},
		{"[a:b = 1] START 5 STOP 6", 16, "expected a timestamp"},
		{"[a:b = 1] [a:c = 2]", 10, "unexpected '[' after observation expression"},
		{"([a:b = 1]", 10, "expected ')' after observation expression"},
		{"[a:b = 1])", 9, "unexpected ')'"},
		{"[(a:b = 1]", 9, "expected ')' after comparison"},
		{"[a:b = 1] AND", 13, "expected '[' or '('"},
		{"[a:b ! 1]", 5, "unexpected '!'"},
		{"[a:b = 1] /* open", 10, "unterminated /* comment"},
		{"[a:b = 'x' # ]", 11, "unexpected character '#'"},
		{"[a:b = 1] \xff", 10, "invalid UTF-8"},
		{strings.Repeat("(", 300) + "[a:b = 1]" + strings.Repeat(")", 300), 256, "nesting deeper than 256"},
		{"[" + strings.Repeat("(", 300) + "a:b = 1" + strings.Repeat(")", 300) + "]", 256, "nesting deeper"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) = %v, want *Error", tt.in, err)
			continue
		}
		if pe.Pos != tt.pos || !strings.Contains(pe.Msg, tt.msg) {
			t.Errorf("Parse(%q):\n got %v\nwant position %d: ...%s...", tt.in, err, tt.pos, tt.msg)
		}
		if !strings.HasPrefix(err.Error(), "pattern: position ") {
			t.Errorf("error %q lacks the position prefix", err)
		}
	}
}

func TestParseHostile(t *testing.T) {
	// Longer than MaxLen: refused before any work.
	big := "[a:b = '" + strings.Repeat("x", MaxLen) + "']"
	if _, err := Parse(big); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("oversized pattern: %v", err)
	}
	// Just under the limit: a long flat chain parses (no recursion per
	// operand) and prints.
	var b strings.Builder
	for b.Len() < MaxLen-100 {
		if b.Len() > 0 {
			b.WriteString(" OR ")
		}
		b.WriteString("[a:b = 1]")
	}
	p, err := Parse(b.String())
	if err != nil {
		t.Fatal(err)
	}
	if got := len(p.Root.(*ObsBinary).Operands); got < 70000 {
		t.Errorf("operands = %d", got)
	}
	if p.String() != b.String() {
		t.Error("long chain does not print back")
	}
	// Nesting exactly at the limit is fine.
	s := strings.Repeat("(", MaxDepth-1) + "[a:b = 1]" + strings.Repeat(")", MaxDepth-1)
	if _, err := Parse(s); err != nil {
		t.Errorf("depth %d: %v", MaxDepth, err)
	}
	// Many unclosed brackets, truncated input.
	for _, s := range []string{strings.Repeat("[", 100000), strings.Repeat("(", 100000), "[a:b = 1] WITHIN", "[a:b IN (1,", "[a:b = t'"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%.20q) succeeded", s)
		}
	}
}
