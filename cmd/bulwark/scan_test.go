package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/stix"
)

// lockedBuffer is a buffer a command writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func hitsOf(t *testing.T, out string) []map[string]any {
	t.Helper()
	var hits []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var h map[string]any
		if err := json.Unmarshal([]byte(l), &h); err != nil {
			t.Fatalf("hit %q: %v", l, err)
		}
		hits = append(hits, h)
	}
	return hits
}

func bundleObjects(t *testing.T, path string) map[string][]*stix.Object {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b struct{ Objects []json.RawMessage }
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	out := map[string][]*stix.Object{}
	for _, r := range b.Objects {
		o, err := stix.Parse(r)
		if err != nil {
			t.Fatalf("%v: %s", err, r)
		}
		out[o.Type] = append(out[o.Type], o)
	}
	return out
}

// TestScanListIndicators: a plain list is indexed straight, yet its hits
// name the indicator ids and actor `bulwark import` gives the same list,
// and scanning the store after that import reports the same.
func TestScanListIndicators(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "static__malware__apt_lazarus.txt")
	writeFile(t, list, "# Copyright (c) 2014-2025 Maltrail developers\n# Reference: https://example.org/lazarus\ncelasllc.com\n203.0.113.0/24\nnot-an-indicator\n")
	logf := filepath.Join(dir, "dns.json")
	writeFile(t, logf, `{"ts":1700000000.1,"id.orig_h":"192.168.1.5","id.resp_h":"203.0.113.77","query":"update.celasllc.com"}
{"ts":1700000001.1,"id.orig_h":"192.168.1.6","id.resp_h":"10.0.0.1","query":"notcelasllc.com"}
`)
	out, errOut, err := bulwark(t, "scan", "--indicators", list, logf)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	fromList := hitsOf(t, out)
	if len(fromList) != 2 || !strings.Contains(errOut, "2 values indexed, 1 lines rejected") {
		t.Fatalf("hits:\n%s\n%s", out, errOut)
	}
	db := filepath.Join(dir, "s.db")
	mustRun(t, "import", "--db", db, "--quiet", list)
	out, errOut, err = bulwark(t, "scan", "--db", db, logf)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	fromStore := hitsOf(t, out)
	if len(fromStore) != len(fromList) {
		t.Fatalf("store hits:\n%s", out)
	}
	for i := range fromList {
		a, b := fromList[i], fromStore[i]
		for _, k := range []string{"indicator_id", "indicator_name", "actor", "value", "line"} {
			if a[k] != b[k] {
				t.Errorf("hit %d %s: list %v, store %v", i, k, a[k], b[k])
			}
		}
		if a["actor"] != "lazarus" {
			t.Errorf("hit %d actor %v", i, a["actor"])
		}
	}
}

// TestScanFollow runs `scan --follow` while the test appends to the log,
// then interrupts it: hits arrive as lines are written, and the sightings
// of the whole run are written on the way out.
func TestScanFollow(t *testing.T) {
	dir := t.TempDir()
	ind := filepath.Join(dir, "iocs.txt")
	writeFile(t, ind, "celasllc.com\n")
	logf := filepath.Join(dir, "dns.json")
	line := func(ts int, q string) string {
		return `{"ts":` + strconv.Itoa(ts) + `.5,"uid":"C1","id.orig_h":"192.168.1.5","query":"` + q + `"}` + "\n"
	}
	writeFile(t, logf, line(1700000000, "update.celasllc.com"))
	bundle := filepath.Join(dir, "sightings.json")
	var out, errOut lockedBuffer
	e := &env{stdout: &out, stderr: &errOut, stdin: strings.NewReader("")}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, e, []string{"scan", "--indicators", ind, "--follow", "--identity", "Upbit SOC", "--sightings", bundle, logf})
	}()
	waitHits := func(n int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for len(hitsOf(t, out.String())) < n {
			if time.Now().After(deadline) {
				t.Fatalf("waited for %d hits; output:\n%s\n%s", n, out.String(), errOut.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitHits(1)
	f, err := os.OpenFile(logf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(line(1700000100, "example.org") + line(1700000200, "cdn.celasllc.com"))
	f.Close()
	waitHits(2)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("scan --follow ended with %v\n%s", err, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("scan --follow did not stop")
	}
	hits := hitsOf(t, out.String())
	if len(hits) != 2 || hits[1]["value"] != "cdn.celasllc.com" || hits[1]["line"] != float64(3) {
		t.Errorf("hits: %s", out.String())
	}
	objs := bundleObjects(t, bundle)
	if len(objs["sighting"]) != 1 || !strings.Contains(string(objs["sighting"][0].Raw), `"count":2`) {
		t.Errorf("sightings: %v", objs)
	}
}

// TestScanSigmaSightings: a Sigma rule hit is reported as a sighting of an
// indicator built for the rule.
func TestScanSigmaSightings(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules")
	if err := os.Mkdir(rules, 0o700); err != nil {
		t.Fatal(err)
	}
	rule := "title: Rundll32 comsvcs MiniDump\nid: 00000000-0000-4000-8000-000000000001\nlevel: high\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel:\n    Image|endswith: '\\rundll32.exe'\n    CommandLine|contains: comsvcs\n  condition: sel\n"
	writeFile(t, filepath.Join(rules, "r.yml"), rule)
	ind := filepath.Join(dir, "iocs.txt")
	writeFile(t, ind, "celasllc.com\n")
	logf := filepath.Join(dir, "sysmon.json")
	writeFile(t, logf, `{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","UtcTime":"2023-11-14 21:00:00.500","Image":"C:\\Windows\\System32\\rundll32.exe","CommandLine":"rundll32 comsvcs.dll, MiniDump 624 x full"}`+"\n")
	bundle := filepath.Join(dir, "s.json")
	for range 2 {
		mustRun(t, "scan", "--indicators", ind, "--rules", rules, "--identity", "Upbit SOC", "--sightings", bundle, logf)
	}
	objs := bundleObjects(t, bundle)
	if len(objs["indicator"]) != 1 || len(objs["sighting"]) != 1 {
		t.Fatalf("objects: %v", objs)
	}
	in, sg := objs["indicator"][0], objs["sighting"][0]
	if in.String("pattern_type") != "sigma" || in.String("pattern") != rule || sg.String("sighting_of_ref") != in.ID || len(sg.Strings("observed_data_refs")) != 1 {
		t.Errorf("indicator %s\nsighting %s", in.Raw, sg.Raw)
	}
}
