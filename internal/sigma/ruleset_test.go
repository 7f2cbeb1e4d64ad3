package sigma

import (
	"archive/zip"
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/corpus"
)

// lsEvent is an event with the logsource it is scanned under.
type lsEvent struct {
	ev MapEvent
	ls Logsource
}

func windowsEvent(m map[string]any) lsEvent {
	ch, _ := m["Channel"].(string)
	id, _ := m["EventID"].(float64)
	p, c, s := WindowsLogsource(ch, int(id))
	return lsEvent{MapEvent(m), Logsource{p, c, s}}
}

// readZipEvents streams the JSON lines of the first file in a corpus zip and
// keeps those keep accepts (every one if keep is nil), so the 106 MB capture
// need not be held in memory.
func readZipEvents(t testing.TB, rel string, keep func(i int, m map[string]any) bool) []lsEvent {
	zr, err := zip.OpenReader(corpus.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []lsEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for i := 0; sc.Scan(); i++ {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s line %d: %v", rel, i+1, err)
		}
		if keep == nil || keep(i, m) {
			out = append(out, windowsEvent(m))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func isProcessCreation(_ int, m map[string]any) bool {
	ch, _ := m["Channel"].(string)
	id, _ := m["EventID"].(float64)
	_, c, _ := WindowsLogsource(ch, int(id))
	return c == "process_creation"
}

const (
	zipComsvcs    = "detect/logs/otrf-security-datasets/psh_lsass_memory_dump_comsvcs.zip"
	zipCovenant   = "detect/logs/otrf-security-datasets/covenant_psremoting_command.zip"
	zipMetasploit = "detect/logs/otrf-security-datasets/metasploit_logonpasswords_lsass_memory_dump.zip"
)

// ruleEvents builds, for every rule, events whose fields satisfy the rule's
// string tests (all of them, filters included), so that many rules match and
// the prefilter is exercised where it matters: on events a rule does match.
// Variants upper-case the values, prefix them with non-ASCII text and turn
// dashes into slashes.
func ruleEvents(rules []*Rule) []lsEvent {
	var out []lsEvent
	rng := rand.New(rand.NewSource(7))
	for _, r := range rules {
		fields := map[string]string{}
		var walk func(n node)
		walk = func(n node) {
			switch x := n.(type) {
			case *selection:
				walk(x.n)
			case andNode:
				for _, c := range x {
					walk(c)
				}
			case orNode:
				walk(x[rng.Intn(len(x))])
			case notNode:
				if rng.Intn(2) == 0 {
					walk(x.n)
				}
			case countNode:
				for _, c := range x.nodes {
					walk(c)
				}
			case *fieldMatch:
				var ms []matcher
				if x.all {
					ms = x.ms
				} else {
					ms = []matcher{x.ms[rng.Intn(len(x.ms))]}
				}
				for _, m := range ms {
					if a, ok := m.(anyMatcher); ok {
						m = a[rng.Intn(len(a))]
					}
					sm, ok := m.(*strMatcher)
					if !ok {
						continue
					}
					v := sampleValue(sm)
					name := x.f.paths[0]
					if old, ok := fields[name]; ok && x.all {
						v = old + " " + v
					}
					fields[name] = v
				}
			}
		}
		walk(r.cond)
		ls := r.Logsource
		for variant := 0; variant < 4; variant++ {
			ev := MapEvent{}
			for k, v := range fields {
				switch variant {
				case 1:
					v = strings.ToUpper(v)
				case 2:
					v = "é\u2013" + v + "Ü"
				case 3:
					v = strings.ReplaceAll(v, "-", "/")
				}
				ev[k] = v
			}
			out = append(out, lsEvent{ev, ls})
		}
	}
	return out
}

// sampleValue returns a string the matcher accepts.
func sampleValue(m *strMatcher) string {
	switch m.kind {
	case smExact:
		return m.lit
	case smPrefix:
		return m.lit + " tail"
	case smSuffix:
		return `C:\head\` + m.lit
	case smContains:
		return "head " + m.lit + " tail"
	case smGlob:
		var b strings.Builder
		for _, g := range m.glob {
			switch g.kind {
			case 0:
				b.WriteByte(g.b)
			case 1:
				b.WriteByte('q')
			default:
				b.WriteString("xx")
			}
		}
		return b.String()
	}
	return "any"
}

// ruleMatchHits evaluates every rule with Rule.Match, one call per rule.
func ruleMatchHits(rules []*Rule, ev lsEvent) []*Rule {
	var hits []*Rule
	for _, r := range rules {
		if r.Applies(ev.ls.Product, ev.ls.Category, ev.ls.Service) && r.Match(ev.ev) {
			hits = append(hits, r)
		}
	}
	return hits
}

// oldHits evaluates every rule the old way, rule by rule, with one
// Evaluator sharing field lookups as TestSecurityDatasets does (Rule.Match
// is Evaluator.Match on a pooled Evaluator; sharing keeps the 22,000-event
// comparison fast).
func oldHits(rules []*Rule, ev lsEvent) []*Rule {
	var hits []*Rule
	e := NewEvaluator()
	e.Reset(ev.ev)
	for _, r := range rules {
		if r.Applies(ev.ls.Product, ev.ls.Category, ev.ls.Service) && e.Match(r) {
			hits = append(hits, r)
		}
	}
	return hits
}

func titles(rs []*Rule) string {
	var b []string
	for _, r := range rs {
		b = append(b, r.ID+" "+r.Title)
	}
	return strings.Join(b, "; ")
}

// TestRuleSetEquivalence runs every SigmaHQ rule both ways, rule by rule and
// through a RuleSet, on real Security-Datasets events, generated Sysmon
// events and events built to match each rule, and requires identical hits.
func TestRuleSetEquivalence(t *testing.T) {
	rules, _ := loadAll(t, Options{Mapping: WindowsMapping})
	rs := NewRuleSet(rules)
	var events []lsEvent
	add := func(name string, evs []lsEvent) {
		t.Logf("%s: %d events", name, len(evs))
		events = append(events, evs...)
	}
	comsvcs := readZipEvents(t, zipComsvcs, nil)
	add("comsvcs", comsvcs)
	var nested []lsEvent
	for _, e := range comsvcs {
		nested = append(nested, lsEvent{MapEvent(nest(e.ev)), e.ls})
	}
	add("comsvcs nested", nested)
	add("covenant", readZipEvents(t, zipCovenant, nil))
	if !testing.Short() {
		// Every process creation and every 25th other event.
		add("metasploit", readZipEvents(t, zipMetasploit, func(i int, m map[string]any) bool {
			return i%25 == 0 || isProcessCreation(i, m)
		}))
	}
	var gen []lsEvent
	for _, e := range procEvents(500) {
		gen = append(gen, lsEvent{e, Logsource{"windows", "process_creation", "sysmon"}})
	}
	add("generated sysmon 1", gen)
	add("built from rules", ruleEvents(rules))

	sc := rs.NewScanner()
	total, mismatches := 0, 0
	for i, ev := range events {
		want := oldHits(rules, ev)
		got := sc.Match(ev.ev, ev.ls)
		total += len(want)
		if !slices.Equal(got, want) {
			mismatches++
			if mismatches <= 10 {
				t.Errorf("event %d (%v) %v:\nold    %s\nruleset %s", i, ev.ls, ev.ev, titles(want), titles(got))
			}
		}
	}
	t.Logf("%d events, %d hits, %d mismatches", len(events), total, mismatches)
	if total < 10000 {
		t.Errorf("only %d hits: the equivalence test exercises too few matches", total)
	}

	// ScanParallel reports the same hits.
	var mu sync.Mutex
	par := make([][]*Rule, len(events))
	rs.ScanParallel(len(events), 2, func(i int) (Event, Logsource) { return events[i].ev, events[i].ls }, func(i int, r *Rule) {
		mu.Lock()
		par[i] = append(par[i], r)
		mu.Unlock()
	})
	for i, ev := range events[:min(len(events), 5000)] {
		if want := sc.Match(ev.ev, ev.ls); !slices.Equal(par[i], want) {
			t.Fatalf("ScanParallel event %d: %s, want %s", i, titles(par[i]), titles(want))
		}
	}
}

// TestRuleSetSecurityDatasets checks the known hits of the comsvcs capture
// through a RuleSet (see TestSecurityDatasets).
func TestRuleSetSecurityDatasets(t *testing.T) {
	rules, _ := loadAll(t, Options{Mapping: WindowsMapping})
	rs := NewRuleSet(rules)
	sc := rs.NewScanner()
	hits := map[string]int{}
	for _, ev := range readZipEvents(t, zipComsvcs, nil) {
		for _, r := range sc.Match(ev.ev, ev.ls) {
			hits[r.ID]++
		}
	}
	if len(hits) != 13 || hits["646ea171-dded-4578-8a4d-65e9822892e3"] != 2 || hits["d99b79d2-0a6f-4f46-ad8b-260b6e17f982"] != 1 {
		t.Errorf("hits %v", hits)
	}
}

func TestRuleSetSmall(t *testing.T) {
	det := []string{
		"  s:\n    Image|endswith: '\\cmd.exe'\n    CommandLine|contains: whoami\n  condition: s",
		"  s:\n    CommandLine|windash|contains: ' -c '\n  condition: s",
		"  s:\n    Image|re: 'cmd\\.exe$'\n  condition: s",
		"  s:\n    Tags: beta\n  condition: s",
		"  s:\n    OriginalFileName|cased: 'Cmd.Exe'\n  condition: s",
		"  s:\n    Image: 'C:*\\cmd.*'\n  condition: s",
		"  a:\n    Image|endswith: x.exe\n  condition: not a",
		"  a:\n    Image|endswith: cmd.exe\n  f:\n    ParentImage|endswith: winword.exe\n  condition: a and not f",
		"  s:\n    Dash|windash|contains: '-force'\n  condition: s",
		"  s:\n    Image|startswith: 'c:\\windows\\'\n    User|endswith: alice\n  condition: s",
		"  s:\n    CommandLine: 'cmd.exe /c whoami'\n  condition: s",
		"  s:\n    Image|contains|all:\n      - system32\n      - windows\n  condition: s",
	}
	var rules []*Rule
	for i, d := range det {
		r, err := rule(t, d, Options{})
		if err != nil {
			t.Fatal(err)
		}
		r.ID = fmt.Sprint(i)
		rules = append(rules, r)
	}
	rs := NewRuleSet(rules)
	ls := Logsource{"windows", "process_creation", "sysmon"}
	got := titles(rs.Scan(evProc, ls))
	want := titles(oldHits(rules, lsEvent{evProc, ls}))
	if got != want || want == "" {
		t.Errorf("got %s, want %s", got, want)
	}
	// Index of the rules that match evProc, as reviewed in TestMatchTable.
	var ids []string
	for _, r := range rs.Scan(evProc, ls) {
		ids = append(ids, r.ID)
	}
	if s := strings.Join(ids, ","); s != "0,1,2,3,4,5,6,8,9,11" {
		t.Errorf("matching rules %s", s)
	}
	// A logsource no rule is written for.
	if h := rs.Scan(evProc, Logsource{"linux", "process_creation", ""}); len(h) != 0 {
		t.Errorf("linux event matched %s", titles(h))
	}
}

// BenchmarkRuleSetProcessCreation is BenchmarkProcessCreation through a
// RuleSet, on one core and on all.
func BenchmarkRuleSetProcessCreation(b *testing.B) {
	all, _ := loadAll(b, Options{Mapping: WindowsMapping})
	var rules []*Rule
	for _, r := range all {
		if r.Applies("windows", "process_creation", "sysmon") && r.Logsource.Category == "process_creation" {
			rules = append(rules, r)
		}
	}
	rs := NewRuleSet(rules)
	events := procEvents(64)
	ls := Logsource{"windows", "process_creation", "sysmon"}
	rs.Prepare(ls) // compile the group outside the timing
	b.Run("serial", func(b *testing.B) {
		sc := rs.NewScanner()
		hits := 0
		for i := 0; b.Loop(); i++ {
			hits += len(sc.Match(events[i%len(events)], ls))
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(float64(len(rules)), "rules")
		b.ReportMetric(float64(hits)/float64(b.N), "hits/event")
	})
	b.Run("parallel", func(b *testing.B) {
		b.ResetTimer()
		rs.ScanParallel(b.N, 0, func(i int) (Event, Logsource) { return events[i%len(events)], ls }, func(int, *Rule) {})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}

// BenchmarkRuleSetSecurityDatasets runs SigmaHQ's Windows rules over real
// Security-Datasets events: "process_creation" is every process creation
// event (Sysmon 1, Security 4688) of the three OTRF captures against the
// process_creation rules; "all" is every event of the comsvcs and covenant
// captures against every Windows rule, chosen by logsource.
func BenchmarkRuleSetSecurityDatasets(b *testing.B) {
	all, _ := loadAll(b, Options{Mapping: WindowsMapping})
	var proc []lsEvent
	for _, z := range []string{zipComsvcs, zipCovenant, zipMetasploit} {
		proc = append(proc, readZipEvents(b, z, isProcessCreation)...)
	}
	mixed := append(readZipEvents(b, zipComsvcs, nil), readZipEvents(b, zipCovenant, nil)...)
	var every []lsEvent
	for _, z := range []string{zipComsvcs, zipCovenant, zipMetasploit} {
		every = append(every, readZipEvents(b, z, nil)...)
	}
	var procRules []*Rule
	for _, r := range all {
		if r.Logsource.Product == "windows" && r.Logsource.Category == "process_creation" {
			procRules = append(procRules, r)
		}
	}
	rsAll, rsProc := NewRuleSet(all), NewRuleSet(procRules)
	for _, set := range []struct {
		name   string
		events []lsEvent
		rules  []*Rule
		rs     *RuleSet
	}{
		{"process_creation", proc, all, rsAll},
		{"all", mixed, all, rsAll},
		// The case as written: the Windows process_creation rules
		// over every event of the captures, each event seen by the rules
		// its logsource selects.
		{"every_event", every, procRules, rsProc},
		// The strictest reading: those rules over the process creation
		// events alone, the only ones they apply to.
		{"process_creation_rules", proc, procRules, rsProc},
	} {
		events, rs, all := set.events, set.rs, set.rules
		for _, ev := range events {
			rs.Prepare(ev.ls) // compile the groups outside the timing
		}
		b.Run(set.name+"/serial", func(b *testing.B) {
			sc := rs.NewScanner()
			hits := 0
			for i := 0; b.Loop(); i++ {
				ev := events[i%len(events)]
				hits += len(sc.Match(ev.ev, ev.ls))
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(hits)/float64(b.N), "hits/event")
			b.ReportMetric(float64(len(events)), "distinct-events")
		})
		b.Run(set.name+"/parallel", func(b *testing.B) {
			b.ResetTimer()
			rs.ScanParallel(b.N, 0, func(i int) (Event, Logsource) {
				ev := events[i%len(events)]
				return ev.ev, ev.ls
			}, func(int, *Rule) {})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
		b.Run(set.name+"/rule-by-rule", func(b *testing.B) {
			e := NewEvaluator()
			for i := 0; b.Loop(); i++ {
				ev := events[i%len(events)]
				e.Reset(ev.ev)
				for _, r := range all {
					if r.Applies(ev.ls.Product, ev.ls.Category, ev.ls.Service) {
						e.Match(r)
					}
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// TestACAutomaton compares the automaton with a naive search of the view
// (lower-cased, dashes folded) on random patterns and texts over a small
// alphabet with non-ASCII runes (many overlaps), both as a plain DFA and with
// sparse deep states.
func TestACAutomaton(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	alpha := []string{"a", "b", "A", "B", "/", "-", "c", "\x00", "é", "É", "\u2013", "®", "\xff"}
	word := func(n int, ascii bool) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			k := rng.Intn(len(alpha))
			if ascii {
				k = rng.Intn(8)
			}
			b.WriteString(alpha[k])
		}
		return b.String()
	}
	for round := 0; round < 300; round++ {
		dash := round%2 == 1
		seen := map[string]bool{}
		var pats []string
		np := 1 + rng.Intn(40)
		if round%10 == 0 {
			np = 3000 // over the dense budget: sparse states
		}
		for len(pats) < np {
			size := 1 + rng.Intn(12)
			if round%4 == 2 {
				size = 4 + rng.Intn(9) // long patterns only: Wu-Manber shifts
			}
			p := textView(word(size, round%3 == 0), false, dash)
			if !seen[p] {
				seen[p] = true
				pats = append(pats, p)
			}
		}
		a := newACAutomaton(pats, dash)
		if round%4 == 2 && a.shift == nil {
			t.Fatalf("round %d: no shift table", round)
		}
		for k := 0; k < 20; k++ {
			text := word(rng.Intn(120), k%2 == 0)
			view := textView(text, false, dash)
			type occ struct{ p, start int }
			var got, want []occ
			hit := func(p int32, start, end int) {
				if end-start != len(pats[p]) {
					t.Fatalf("pattern %q reported over [%d,%d)", pats[p], start, end)
				}
				got = append(got, occ{int(p), start})
			}
			if !a.scan(text, hit) {
				if view == text || isASCII(text) {
					t.Fatalf("text %q refused", text)
				}
				got = got[:0]
				a.scanFolded(view, hit)
			}
			for pi, p := range pats {
				for i := 0; i+len(p) <= len(view); i++ {
					if view[i:i+len(p)] == p {
						want = append(want, occ{pi, i})
					}
				}
			}
			cmp := func(x, y occ) int {
				if x.start+len(pats[x.p]) != y.start+len(pats[y.p]) {
					return x.start + len(pats[x.p]) - y.start - len(pats[y.p])
				}
				return x.p - y.p
			}
			slices.SortFunc(got, cmp)
			slices.SortFunc(want, cmp)
			if !slices.Equal(got, want) {
				t.Fatalf("round %d text %q: got %v, want %v", round, text, got, want)
			}
		}
	}
	a := newACAutomaton([]string{"x"}, false)
	for text, ok := range map[string]bool{"é x": true, "É x": false, "\xff x": false, "a\u2013x": true} {
		if a.scan(text, func(int32, int, int) {}) != ok {
			t.Errorf("scan(%q) = %v", text, !ok)
		}
	}
	if newACAutomaton([]string{"x"}, true).scan("a\u2013x", func(int32, int, int) {}) {
		t.Errorf("dash scan accepted an en dash")
	}
}

// fuzzDetections exercise every matcher kind the prefilter looks into.
var fuzzDetections = []string{
	"  s:\n    Image|endswith: '\\cmd.exe'\n    CommandLine|contains: whoami\n  condition: s",
	"  s:\n    CommandLine|windash|contains: ' -c '\n  condition: s",
	"  s:\n    CommandLine|windash|startswith: '-enc'\n  condition: s",
	"  s:\n    Image|re: 'cmd\\.exe$'\n  condition: s",
	"  s:\n    CommandLine|re: '(?i)inv[o0]ke-(?:expression|webrequest)'\n  condition: s",
	"  s:\n    CommandLine|re: '\\w+`\\w+'\n  condition: s",
	"  s:\n    Tags: beta\n  condition: s",
	"  s:\n    OriginalFileName|cased: 'Cmd.Exe'\n  condition: s",
	"  s:\n    OriginalFileName|cased|contains: 'É'\n  condition: s",
	"  s:\n    Image: 'C:*\\cm?.*'\n  condition: s",
	"  a:\n    Image|endswith: x.exe\n  condition: not a",
	"  a:\n    Image|endswith: cmd.exe\n  f:\n    CommandLine|contains: winword\n  condition: a and not f",
	"  s:\n    Image|startswith: 'c:\\windows\\'\n    CommandLine|endswith: '/all'\n  condition: s",
	"  s:\n    CommandLine: 'cmd.exe /c whoami'\n  condition: s",
	"  s:\n    CommandLine|contains|all:\n      - who\n      - ami\n  condition: s",
	"  s:\n    CommandLine|base64offset|contains: 'whoami'\n  condition: s",
	"  s:\n    CommandLine|wide|base64|contains: 'cmd'\n  condition: s",
	"  s:\n    CommandLine|utf16le|contains: 'cmd'\n  condition: s",
	"  keywords:\n    - mimikatz\n    - 'ÉTÉ'\n  condition: keywords",
	"  keywords:\n    '|all':\n      - sekurlsa\n      - '::'\n  condition: keywords",
	"  s:\n    CommandLine|contains: 'straße'\n  condition: s",
	"  s:\n    CommandLine|contains: 'k'\n  condition: s",
	"  s:\n    CommandLine|re: '(?i)kelvin'\n  condition: s",
	"  s1:\n    Image|endswith: '.exe'\n  s2:\n    CommandLine|contains: ' /c '\n  s3:\n    Tags: alpha\n  condition: 2 of s*",
	"  s:\n    CommandLine|fieldref: Image\n  condition: s",
	"  s:\n    CommandLine: 42\n  condition: s",
	"  s:\n    CommandLine|contains: ''\n  condition: s",
}

func fuzzRules(t testing.TB) []*Rule {
	var rules []*Rule
	for i, d := range fuzzDetections {
		r, err := rule(t, d, Options{})
		if err != nil {
			t.Fatalf("detection %d: %v", i, err)
		}
		r.ID = fmt.Sprint(i)
		rules = append(rules, r)
	}
	return rules
}

// FuzzRuleSet checks that a RuleSet reports exactly what rule-by-rule
// evaluation reports, on arbitrary bytes: upper-case and non-ASCII runes,
// invalid UTF-8, dashes of every width, list values.
func FuzzRuleSet(f *testing.F) {
	rules := fuzzRules(f)
	rs := NewRuleSet(rules)
	sc := rs.NewScanner()
	ls := Logsource{"windows", "process_creation", "sysmon"}
	f.Add(`C:\Windows\System32\cmd.exe`, `cmd.exe /c whoami /all`, "Cmd.Exe")
	f.Add(`C:\x\CMD.EXE`, "powershell -ENC dwBoAG8AYQBtAGkA sekurlsa::logonpasswords", "\xff\xfe")
	f.Add("\u212aELVIN.exe", "IN`V`o`Ke-eXp`ResSIOn \u2013c STRASSE", "ÉTÉ")
	f.Add("42", "42", "mimikatz")
	f.Fuzz(func(t *testing.T, image, cmd, other string) {
		for _, ev := range []MapEvent{
			{"Image": image, "CommandLine": cmd, "OriginalFileName": other, "Tags": []any{other, "beta"}},
			{"image": cmd, "COMMANDLINE": other, "originalfilename": image, "Tags": other},
		} {
			want := ruleMatchHits(rules, lsEvent{ev, ls})
			if got := sc.Match(ev, ls); !slices.Equal(got, want) {
				t.Fatalf("%q: ruleset %s, rule by rule %s", ev, titles(got), titles(want))
			}
		}
	})
}

// TestRuleSetParallel scans from several goroutines at once, compiling
// groups concurrently (run it with -race).
func TestRuleSetParallel(t *testing.T) {
	rules := fuzzRules(t)
	rs := NewRuleSet(rules)
	events := procEvents(400)
	logsources := []Logsource{{"windows", "process_creation", "sysmon"}, {"windows", "process_creation", "security"}, {"windows", "", ""}, {"linux", "process_creation", ""}}
	var mu sync.Mutex
	got := make([][]*Rule, len(events))
	rs.ScanParallel(len(events), 4, func(i int) (Event, Logsource) { return events[i], logsources[i%len(logsources)] }, func(i int, r *Rule) {
		mu.Lock()
		got[i] = append(got[i], r)
		mu.Unlock()
	})
	total := 0
	for i, ev := range events {
		want := ruleMatchHits(rules, lsEvent{ev, logsources[i%len(logsources)]})
		total += len(want)
		if !slices.Equal(got[i], want) {
			t.Fatalf("event %d: %s, want %s", i, titles(got[i]), titles(want))
		}
	}
	if total == 0 {
		t.Fatal("no hits")
	}
}
