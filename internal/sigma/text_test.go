package sigma

import (
	"testing"
)

func TestRuleText(t *testing.T) {
	one := "title: One\nid: 00000000-0000-4000-8000-000000000001\nlogsource: {product: windows}\ndetection:\n  sel: {Image|endswith: '\\x.exe'}\n  condition: sel\n"
	two := "# second\ntitle: Two\nlogsource: {product: windows}\ndetection:\n  sel: [a, b]\n  condition: sel\n"
	tests := []struct {
		name, data string
		want       []string
	}{
		{"single document", one, []string{one}},
		{"leading comment and marker", "# rules\n---\n" + one, []string{one}},
		{"two documents, a trailing marker", one + "---\n" + two + "...\n---\n", []string{one, two}},
		{"a correlation between", one + "---\ntitle: c\ncorrelation: {type: event_count}\n---\n" + two, []string{one, two}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rules, errs := ParseRules([]byte(tc.data), "r.yml", Options{})
			if len(rules) != len(tc.want) {
				t.Fatalf("%d rules, errors %v", len(rules), errs)
			}
			for i, r := range rules {
				if r.Text != tc.want[i] {
					t.Errorf("rule %d text:\n%q\nwant\n%q", i, r.Text, tc.want[i])
				}
				if _, err := ParseRule([]byte(r.Text)); err != nil {
					t.Errorf("rule %d text does not parse alone: %v", i, err)
				}
			}
		})
	}
}
