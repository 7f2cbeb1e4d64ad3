package sigma

import (
	"runtime"
	"slices"
	"testing"
)

func TestDebugStats(t *testing.T) {
	rules, _ := loadAll(t, Options{Mapping: WindowsMapping})
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	rs := NewRuleSet(rules)
	t.Logf("atoms %d scans %d", len(rs.atoms), len(rs.scans))
	tot := 0
	seen := map[Logsource]bool{}
	for _, ev := range readZipEvents(t, zipCovenant, nil) {
		seen[ev.ls] = true
	}
	for c := range sysmonCategories {
		seen[Logsource{"windows", sysmonCategories[c], "sysmon"}] = true
	}
	for ls := range seen {
		g := rs.group(ls)
		gm := 0
		for _, sc := range g.scans {
			a := sc.ac
			m := len(a.rows)*4 + len(a.out)*(4*5+1) + len(a.kidClass)*6
			gm += m
			if m > 1<<20 {
				var p []string
				if sc.f != nil {
					p = sc.f.paths
				}
				t.Logf("   scan %v dash=%v pats %d states %d classes %d mem %d", p, sc.dash, len(sc.patAtoms), len(a.out), a.nClass, m)
			}
		}
		tot += gm
		t.Logf("%v: rules %d always %d scans %d automata %d bytes", ls, len(g.rules), len(g.always), len(g.scans), gm)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	t.Logf("automata bytes %d, heap growth %d", tot, ms1.HeapAlloc-ms0.HeapAlloc)
	runtime.KeepAlive(rs)
}

func TestDebugKeywords(t *testing.T) {
	rules, _ := loadAll(t, Options{Mapping: WindowsMapping})
	rs := NewRuleSet(rules)
	for _, ls := range []Logsource{{"windows", "process_creation", "sysmon"}, {"windows", "process_creation", "security"}} {
		g := rs.group(ls)
		for _, sc := range g.scans {
			var lits []string
			for _, pa := range sc.patAtoms {
				lits = append(lits, rs.atoms[pa[0]].lit)
			}
			if sc.f == nil {
				t.Logf("keyword scan dash=%v: %d patterns %q", sc.dash, len(lits), lits)
			} else {
				t.Logf("%v %d patterns", sc.f.paths, len(lits))
			}
		}
	}
}

func TestDebugBytes(t *testing.T) {
	rules, _ := loadAll(t, Options{Mapping: WindowsMapping})
	rs := NewRuleSet(rules)
	var proc []lsEvent
	for _, z := range []string{zipComsvcs, zipCovenant, zipMetasploit} {
		proc = append(proc, readZipEvents(t, z, isProcessCreation)...)
	}
	bytes := map[string]int{}
	e := NewEvaluator()
	for _, ev := range proc {
		g := rs.group(ev.ls)
		e.Reset(ev.ev)
		for _, sc := range g.scans {
			name := "keywords"
			if sc.f == nil {
				ev.ev.Keywords(func(s string) bool { bytes[name] += len(s); return false })
				continue
			}
			name = sc.f.paths[0]
			v := e.field(sc.f)
			if s, ok := v.str(); ok {
				bytes[name] += len(s)
			}
		}
	}
	for k, v := range bytes {
		t.Logf("%s %d", k, v/len(proc))
	}
}

func BenchmarkDebugKeywordScan(b *testing.B) {
	rules, _ := loadAll(b, Options{Mapping: WindowsMapping})
	rs := NewRuleSet(rules)
	evs := readZipEvents(b, zipComsvcs, isProcessCreation)
	g := rs.group(evs[0].ls)
	var kw, cmd *fieldScan
	for _, sc := range g.scans {
		if sc.f == nil {
			kw = sc
		} else if sc.f.paths[0] == "CommandLine" && cmd == nil {
			cmd = sc
		}
	}
	msg := evs[0].ev["Message"].(string)
	cl := evs[0].ev["CommandLine"].(string)
	b.Logf("msg %d cl %d", len(msg), len(cl))
	n := 0
	b.Run("kw", func(b *testing.B) {
		for b.Loop() {
			kw.ac.scan(msg, func(int32, int, int) { n++ })
		}
		b.ReportMetric(float64(len(msg))*float64(b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
	})
	b.Run("cmd", func(b *testing.B) {
		for b.Loop() {
			cmd.ac.scan(cl, func(int32, int, int) { n++ })
		}
		b.ReportMetric(float64(len(cl))*float64(b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
	})
}

func TestDebugCandidates(t *testing.T) {
	rules, _ := loadAll(t, Options{Mapping: WindowsMapping})
	rs := NewRuleSet(rules)
	var proc []lsEvent
	for _, z := range []string{zipComsvcs, zipCovenant, zipMetasploit} {
		proc = append(proc, readZipEvents(t, z, isProcessCreation)...)
	}
	sc := rs.NewScanner()
	cands := map[*Rule]int{}
	debugCandidate = func(r *Rule) { cands[r]++ }
	defer func() { debugCandidate = nil }()
	for _, ev := range proc {
		sc.Match(ev.ev, ev.ls)
	}
	type kv struct {
		r *Rule
		n int
	}
	var l []kv
	tot := 0
	for r, n := range cands {
		l = append(l, kv{r, n})
		tot += n
	}
	slices.SortFunc(l, func(a, b kv) int { return b.n - a.n })
	t.Logf("%d events, %d full evaluations", len(proc), tot)
	for _, x := range l[:min(len(l), 40)] {
		t.Logf("%5d %s | %s", x.n, x.r.Title, x.r.Condition)
	}
}
