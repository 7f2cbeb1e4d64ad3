package sigma

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

func FuzzParseRule(f *testing.F) {
	f.Add([]byte("title: t\nlogsource:\n  product: windows\ndetection:\n  s:\n    A|contains|all:\n      - x\n      - y\n  condition: s\n"))
	f.Add([]byte("title: t\nlogsource: {}\ndetection:\n  keywords: ['a*b', 'c\\\\?']\n  condition: keywords\n---\naction: global\n"))
	f.Add([]byte("title: c\ncorrelation:\n  type: event_count\n"))
	f.Add([]byte("title: t\nlogsource: {category: dns}\ndetection:\n  s: &a {A|re|i: '^x+$', B|cidr: 10.0.0.0/8}\n  f: *a\n  condition: s and not f\n"))
	f.Add([]byte("title: t\nlogsource: {}\ndetection:\n  s:\n    A|wide|base64offset|contains: cmd\n    B|windash: -x\n    C|gt: 3\n    D: null\n  condition: 1 of them\n"))
	ev := MapEvent{"A": "xxx", "B": "/x", "C": 4.0, "E": []any{"cmd", 1.0}}
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, _ := ParseRules(data, "fuzz.yml", Options{Mapping: WindowsMapping, Placeholders: map[string][]string{"p": {"v"}}})
		for _, r := range rules {
			r.Match(ev)
			r.Applies("windows", "process_creation", "sysmon")
		}
	})
}

func FuzzCondition(f *testing.F) {
	for _, s := range []string{"a", "a and not b", "1 of s*", "all of them and not (b or c)", "not not a", "((a))", "2 of them", "a | count() > 3", "any of _x"} {
		f.Add(s)
	}
	sels := map[string]*selection{}
	for i, n := range []string{"a", "b", "c", "s1", "s2", "_x"} {
		sels[n] = &selection{name: n, n: constNode(i%2 == 0)}
	}
	f.Fuzz(func(t *testing.T, cond string) {
		n, err := parseCondition(cond, sels)
		if err != nil {
			if n != nil {
				t.Fatal("node with error")
			}
			return
		}
		n.eval(NewEvaluator())
	})
}

// TestHostileInput: oversize files, truncated YAML, wrong types, huge values,
// deep nesting all give errors, never panics.
func TestHostileInput(t *testing.T) {
	base := "title: t\nlogsource: {product: windows}\ndetection:\n  s:\n    A: x\n  condition: s\n"
	cases := map[string]string{
		"truncated":        base[:len(base)/2],
		"not a map":        "- a\n- b\n",
		"title list":       "title: [a]\nlogsource: {}\ndetection: {s: {A: x}, condition: s}\n",
		"logsource scalar": "title: t\nlogsource: x\ndetection: {s: {A: x}, condition: s}\n",
		"detection list":   "title: t\nlogsource: {}\ndetection: [a]\n",
		"condition map":    "title: t\nlogsource: {}\ndetection: {s: {A: x}, condition: {a: b}}\n",
		"deep nesting":     "title: t\nlogsource: {}\ndetection:\n  s: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "\n  condition: s\n",
		"no title":         "logsource: {}\ndetection: {s: {A: x}, condition: s}\n",
		"oversize":         base + "# " + strings.Repeat("x", MaxRuleSize) + "\n",
		"empty":            "",
	}
	for name, src := range cases {
		rules, errs := ParseRules([]byte(src), "h.yml", Options{})
		if len(rules) != 0 || len(errs) == 0 {
			t.Errorf("%s: %d rules, %d errors", name, len(rules), len(errs))
			continue
		}
		if errs[0].File != "h.yml" || errs[0].Reason == "" {
			t.Errorf("%s: error without file or reason: %+v", name, errs[0])
		}
		t.Logf("%s: %v", name, errs[0])
	}
	// A 100 MB event value is matched without trouble.
	r, err := rule(t, "  s:\n    A|contains: needle\n  condition: s", Options{})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("a", 100<<20) + "needle"
	if !r.Match(MapEvent{"A": big}) {
		t.Error("100 MB value: no match")
	}
	// Multi-document: a rule, then a global action and a correlation.
	multi := base + "---\naction: global\n---\ntitle: c\ncorrelation: {type: event_count}\n---\n" + strings.Replace(base, "title: t", "title: u", 1)
	rules, errs := ParseRules([]byte(multi), "m.yml", Options{})
	if len(rules) != 2 || len(errs) != 2 || !errs[0].Unsupported || !strings.Contains(errs[1].Reason, "correlation") {
		t.Errorf("multi-document: %d rules, errors %v", len(rules), errs)
	}
}

// procEvents generates realistic Sysmon event 1 records, flat as in
// Security-Datasets, from a fixed seed.
func procEvents(n int) []MapEvent {
	rng := rand.New(rand.NewSource(42))
	images := []string{`C:\Windows\System32\cmd.exe`, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, `C:\Windows\System32\rundll32.exe`, `C:\Program Files\Google\Chrome\Application\chrome.exe`, `C:\Windows\System32\svchost.exe`, `C:\Windows\System32\conhost.exe`}
	cmds := []string{`cmd.exe /c whoami /all`, `powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\Scripts\backup.ps1`, `"C:\Windows\System32\rundll32.exe" C:\Windows\System32\shell32.dll,Control_RunDLL`, `"chrome.exe" --type=renderer --lang=en-US --field-trial-handle=1234`, `C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule`, `\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1`}
	parents := []string{`C:\Windows\explorer.exe`, `C:\Windows\System32\services.exe`, `C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`, `C:\Windows\System32\cmd.exe`}
	out := make([]MapEvent, n)
	for i := range out {
		k := rng.Intn(len(images))
		p := parents[rng.Intn(len(parents))]
		out[i] = MapEvent{
			"EventID": float64(1), "Channel": "Microsoft-Windows-Sysmon/Operational", "SourceName": "Microsoft-Windows-Sysmon",
			"Hostname": "WORKSTATION5", "UtcTime": "2020-10-18 23:50:05.910", "RuleName": "-",
			"ProcessGuid": fmt.Sprintf("{39e4a257-d4ad-5f8c-%04x-000000000700}", rng.Intn(65536)), "ProcessId": fmt.Sprint(rng.Intn(9000) + 100),
			"Image": images[k], "CommandLine": cmds[k], "OriginalFileName": images[k][strings.LastIndexByte(images[k], '\\')+1:],
			"FileVersion": "10.0.18362.1 (WinBuild.160101.0800)", "Description": "Windows host process", "Product": "Microsoft® Windows® Operating System", "Company": "Microsoft Corporation",
			"CurrentDirectory": `C:\Users\wardog\`, "User": `WORKSTATION5\wardog`, "LogonGuid": "{39e4a257-f1ac-5f8b-d961-0c0000000000}", "LogonId": "0xc61d9",
			"TerminalSessionId": "2", "IntegrityLevel": "High", "Hashes": "SHA1=7662A8D2F23C3474DEC6EF8E2B0365B0B86714EE,MD5=F68AF942FD7CCC0E7BAB1A2335D2AD26",
			"ParentProcessGuid": "{39e4a257-d445-5f8c-2c03-000000000700}", "ParentProcessId": "6100", "ParentImage": p, "ParentCommandLine": p,
		}
	}
	return out
}

// BenchmarkProcessCreation evaluates every SigmaHQ windows process_creation
// rule on generated Sysmon event 1 records and reports events/s.
func BenchmarkProcessCreation(b *testing.B) {
	all, _ := loadAll(b, Options{Mapping: WindowsMapping})
	var rules []*Rule
	for _, r := range all {
		if r.Applies("windows", "process_creation", "sysmon") && r.Logsource.Category == "process_creation" {
			rules = append(rules, r)
		}
	}
	events := procEvents(64)
	e := NewEvaluator()
	hits := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.Reset(events[i%len(events)])
		for _, r := range rules {
			if e.Match(r) {
				hits++
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(len(rules)), "rules")
	b.ReportMetric(float64(hits)/float64(b.N), "hits/event")
}

// BenchmarkSecurityDatasets runs every Windows SigmaHQ rule, chosen per event
// by logsource, over OTRF's real comsvcs capture (Sysmon and Security events).
func BenchmarkSecurityDatasets(b *testing.B) {
	raw := readZipLines(b, "detect/logs/otrf-security-datasets/psh_lsass_memory_dump_comsvcs.zip")
	all, _ := loadAll(b, Options{Mapping: WindowsMapping})
	type item struct {
		ev    MapEvent
		rules []*Rule
	}
	byLS := map[[3]string][]*Rule{}
	items := make([]item, len(raw))
	for i, m := range raw {
		ch, _ := m["Channel"].(string)
		id, _ := m["EventID"].(float64)
		p, c, s := WindowsLogsource(ch, int(id))
		k := [3]string{p, c, s}
		if _, ok := byLS[k]; !ok {
			for _, r := range all {
				if r.Applies(p, c, s) {
					byLS[k] = append(byLS[k], r)
				}
			}
		}
		items[i] = item{MapEvent(m), byLS[k]}
	}
	e := NewEvaluator()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		it := items[i%len(items)]
		e.Reset(it.ev)
		for _, r := range it.rules {
			e.Match(r)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
