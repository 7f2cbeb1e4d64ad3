package sigma

import (
	"archive/zip"
	"bufio"
	"encoding/json"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/corpus"
)

// sigmaHQDirs returns the rules* directories of the SigmaHQ corpus.
func sigmaHQDirs(t testing.TB) []string {
	root := corpus.Path(t, "detect/sigmahq")
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), "rules") {
			dirs = append(dirs, filepath.Join(root, e.Name()))
		}
	}
	if len(dirs) != 5 {
		t.Fatalf("found %d rules* dirs, want 5", len(dirs))
	}
	return dirs
}

func loadAll(t testing.TB, opts Options) ([]*Rule, []LoadError) {
	var rules []*Rule
	var errs []LoadError
	for _, d := range sigmaHQDirs(t) {
		r, e := LoadDirWith(d, opts)
		rules = append(rules, r...)
		errs = append(errs, e...)
	}
	return rules, errs
}

// reasonClass groups a reason for logging by dropping the specifics.
func reasonClass(r string) string {
	if i := strings.Index(r, ": "); i >= 0 && strings.HasPrefix(r, "detection.") {
		r = r[i+2:]
	}
	if i := strings.Index(r, "%"); i >= 0 {
		r = r[:i]
	}
	return r
}

func TestSigmaHQCorpus(t *testing.T) {
	rules, errs := loadAll(t, Options{Mapping: WindowsMapping})
	groups := map[string]int{}
	for _, e := range errs {
		if !e.Unsupported {
			t.Errorf("malformed: %v", &e)
			continue
		}
		groups[reasonClass(e.Reason)]++
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("unsupported x%d: %s", groups[k], k)
	}
	for _, e := range errs {
		t.Logf("  %v", &e)
	}
	t.Logf("loaded %d rules, %d unsupported", len(rules), len(errs))
	// 3,780 rule files: every one loads except the 25 whose expand
	// placeholders have no configured values (there are no correlation rules
	// in this snapshot).
	if len(rules) != 3755 || len(errs) != 25 || groups["expand: no value configured for placeholder "] != 25 {
		t.Errorf("loaded %d, unsupported %d (%v); want 3755 and 25 expand placeholders", len(rules), len(errs), groups)
	}
}

// With every placeholder configured, all 3,780 rules load.
func TestSigmaHQCorpusPlaceholders(t *testing.T) {
	re := regexp.MustCompile(`%([A-Za-z0-9_-]+)%`)
	ph := map[string][]string{}
	for _, d := range sigmaHQDirs(t) {
		filepath.WalkDir(d, func(p string, de fs.DirEntry, err error) error {
			if err != nil || de.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				ph[m[1]] = []string{"value-of-" + m[1]}
			}
			return nil
		})
	}
	rules, errs := loadAll(t, Options{Mapping: WindowsMapping, Placeholders: ph})
	for _, e := range errs {
		t.Errorf("%v", &e)
	}
	if len(rules) != 3780 {
		t.Errorf("loaded %d rules, want 3780", len(rules))
	}
}

func TestDPRKRules(t *testing.T) {
	rules, errs := LoadDirWith(corpus.Path(t, "detect/sigma-dprk"), Options{Mapping: WindowsMapping})
	for _, e := range errs {
		t.Errorf("%v", &e)
	}
	if len(rules) != 50 {
		t.Fatalf("loaded %d DPRK rules, want 50", len(rules))
	}
	var baby *Rule
	for _, r := range rules {
		if r.Title == "Potential Baby Shark Malware Activity" {
			baby = r
		}
	}
	if baby == nil || !baby.Applies("windows", "process_creation", "sysmon") || baby.Applies("windows", "image_load", "sysmon") {
		t.Fatalf("BabyShark rule missing or logsource wrong: %+v", baby)
	}
	hit := MapEvent{"Image": `C:\Windows\System32\cmd.exe`, "CommandLine": `cmd.exe /c reg query "HKEY_CURRENT_USER\Software\Microsoft\Terminal Server Client\Default"`}
	miss := MapEvent{"Image": `C:\Windows\System32\cmd.exe`, "CommandLine": `cmd.exe /c reg query "HKEY_CURRENT_USER\Software\Microsoft"`}
	if !baby.Match(hit) || baby.Match(miss) {
		t.Error("BabyShark rule: wrong verdicts")
	}
}

// readZipLines returns the JSON events of the first file in a corpus zip.
func readZipLines(t testing.TB, rel string) []map[string]any {
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
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d: %v", len(out)+1, err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// nest rewrites a flat Security-Datasets event into evtx_dump's shape.
func nest(m map[string]any) map[string]any {
	sys := map[string]any{"EventID": map[string]any{"#text": m["EventID"], "#attributes": map[string]any{"Qualifiers": ""}}, "Channel": m["Channel"], "Computer": m["Hostname"], "Provider": map[string]any{"#attributes": map[string]any{"Name": m["SourceName"]}}}
	data := map[string]any{}
	for k, v := range m {
		switch k {
		case "EventID", "Channel", "Hostname", "SourceName", "Message", "@timestamp", "@version", "host", "port", "tags":
		default:
			data[k] = v
		}
	}
	return map[string]any{"Event": map[string]any{"System": sys, "EventData": data}}
}

// TestSecurityDatasets runs every Windows SigmaHQ rule on OTRF's real
// comsvcs.dll MiniDump capture (flat JSON, and the same events reshaped as
// evtx_dump writes them) and expects the same, known hits.
func TestSecurityDatasets(t *testing.T) {
	events := readZipLines(t, "detect/logs/otrf-security-datasets/psh_lsass_memory_dump_comsvcs.zip")
	rules, _ := loadAll(t, Options{Mapping: WindowsMapping})
	run := func(shape func(map[string]any) map[string]any) map[string]int {
		hits := map[string]int{}
		e := NewEvaluator()
		for _, raw := range events {
			ch, _ := raw["Channel"].(string)
			id, _ := raw["EventID"].(float64)
			product, category, service := WindowsLogsource(ch, int(id))
			e.Reset(MapEvent(shape(raw)))
			for _, r := range rules {
				if r.Applies(product, category, service) && e.Match(r) {
					hits[r.ID+" "+r.Title]++
				}
			}
		}
		return hits
	}
	flat := run(func(m map[string]any) map[string]any { return m })
	nested := run(nest)
	keys := make([]string, 0, len(flat))
	for k := range flat {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("%4d %s", flat[k], k)
	}
	// Reviewed by hand: the capture is rundll32 comsvcs.dll MiniDump of
	// LSASS launched from PowerShell, plus a Security log clear.
	want := map[string]int{
		"0e277796-5f23-4e49-a490-483131d4f6e1": 2, // Dbghelp/Dbgcore DLL loaded by suspicious process
		"3a525307-d100-48ae-b3b9-0964699d7f97": 1, // DMP/HDMP file creation
		"4a1b6da0-d94f-4fc3-98fc-2d9cb9e5ee76": 3, // suspicious AccessMask requested from LSASS
		"5ef9853e-4d0e-4a70-846f-a9ca37d876da": 1, // credential dumping via LSASS
		"646ea171-dded-4578-8a4d-65e9822892e3": 2, // process memory dump via comsvcs.dll
		"962fe167-e48d-4fd6-9974-11e5b9a5d6d1": 1, // LSASS access from non-system account
		"a49fa4d5-11db-418c-8473-1e014a8dd462": 2, // LSASS memory dump via comsvcs DLL
		"a5a2d357-1ab8-4675-a967-ef9990a59391": 1, // LSASS process memory dump files
		"cf879ffb-793a-4753-9a14-bc8f37cc90df": 2, // potential Qakbot rundll32 execution
		"d99b79d2-0a6f-4f46-ad8b-260b6e17f982": 1, // Security event log cleared
		"e4b6d2a7-d8a4-4f19-acbd-943c16d90647": 2, // suspicious PowerShell child process
		"e593cf51-88db-4ee1-b920-37e89012a3c9": 2, // suspicious rundll32 activity
		"ffa6861c-4461-4f59-8a41-578c39f3f23e": 2, // LSASS dump keyword in command line
	}
	got := map[string]int{}
	for k, n := range flat {
		got[k[:36]] = n
	}
	if !maps.Equal(got, want) {
		t.Errorf("%d events: hits %v, want %v", len(events), got, want)
	}
	if !maps.Equal(flat, nested) {
		t.Errorf("flat and evtx_dump-shaped events disagree:\nflat   %v\nnested %v", flat, nested)
	}
}
