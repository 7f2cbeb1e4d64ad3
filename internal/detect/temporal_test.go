package detect

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/stix"
)

// TestTemporalPatterns plants event sequences for patterns over several
// observations (FOLLOWEDBY, AND, REPEATS, WITHIN) among decoys that have
// the right values in the wrong order, too far apart, or split across two
// logs, and checks each pattern hits exactly on the event completing it.
func TestTemporalPatterns(t *testing.T) {
	sha := strings.Repeat("ab", 32)
	objs := []*stix.Object{
		indicator(t, "stage", "([domain-name:value = 'stage1.example'] FOLLOWEDBY [ipv4-addr:value = '203.0.113.5']) WITHIN 60 SECONDS", nil),
		// Without parentheses the qualifier binds to the second observation
		// alone (STIXPattern.g4), so the pair may be any time apart.
		indicator(t, "loose", "[domain-name:value = 'stage1.example'] FOLLOWEDBY [ipv4-addr:value = '203.0.113.5'] WITHIN 60 SECONDS", nil),
		indicator(t, "dropper", fmt.Sprintf("[file:hashes.'SHA-256' = '%s'] AND [domain-name:value = 'c2.example']", sha), nil),
		indicator(t, "beacon", "[ipv4-addr:value = '198.51.100.7'] REPEATS 3 TIMES WITHIN 10 SECONDS", nil),
		indicator(t, "dga", "[domain-name:value LIKE '%.dga.example'] REPEATS 2 TIMES", nil),
		indicator(t, "plain", "[ipv4-addr:value = '192.0.2.1']", nil),
	}
	idx, err := Compile(objs, Options{})
	if err != nil || len(idx.Stats.Invalid) > 0 {
		t.Fatal(err, idx.Stats.Invalid)
	}
	if idx.Stats.Temporal != 5 || idx.Stats.Unanchored != 1 {
		t.Fatalf("stats %+v", idx.Stats)
	}
	dns := func(ts int, q string) string {
		return fmt.Sprintf(`{"_path":"dns","ts":%d.0,"uid":"C","id.orig_h":"10.0.0.2","id.resp_h":"10.0.0.53","query":"%s"}`+"\n", 1700000000+ts, q)
	}
	conn := func(ts int, ip string) string {
		return fmt.Sprintf(`{"_path":"conn","ts":%d.0,"uid":"C","id.orig_h":"10.0.0.2","id.resp_h":"%s","id.resp_p":443}`+"\n", 1700000000+ts, ip)
	}
	file := func(ts int, h string) string {
		return fmt.Sprintf(`{"_path":"files","ts":%d.0,"fuid":"F","tx_hosts":["10.9.9.9"],"sha256":"%s"}`+"\n", 1700000000+ts, h)
	}
	logA := dns(0, "stage1.example") + // 1
		conn(10, "203.0.113.5") + // 2: stage completes
		conn(20, "198.51.100.7") + // 3
		conn(25, "198.51.100.7") + // 4
		conn(40, "198.51.100.7") + // 5: 3 times, but over 20 s
		conn(42, "198.51.100.7") + // 6: 25, 40, 42: 17 s
		conn(45, "198.51.100.7") + // 7: 40, 42, 45: beacon
		dns(50, "c2.example") + // 8
		file(55, sha) + // 9: dropper (the other order)
		dns(100, "stage1.example") + // 10
		conn(200, "203.0.113.5") + // 11: 100 s later, outside WITHIN
		conn(201, "192.0.2.1") + // 12: plain hit
		dns(300, "a.dga.example") + // 13
		dns(301, "b.dga.example") // 14: dga
	logB := conn(0, "203.0.113.5") + // wrong order for stage
		dns(10, "stage1.example") +
		dns(20, "x.dga.example") // the other dga event is in logA
	want := map[string]string{"A": "02:loose 02:stage 07:beacon 09:dropper 11:loose 12:plain 14:dga", "B": ""}
	var got = map[string][]string{}
	names := map[string]string{}
	for r := 0; r < idx.Len(); r++ {
		ind := idx.Indicator(Ref(r))
		names[ind.ID] = ind.Name
	}
	for _, workers := range []int{1, 2} {
		got = map[string][]string{}
		_, err := Scan(context.Background(), idx, []Input{stringInput("A", logA), stringInput("B", logB)}, ScanOptions{Workers: workers, ChunkBytes: 300}, func(h Hit) {
			got[h.File] = append(got[h.File], fmt.Sprintf("%02d:%s", h.Line, names[h.IndicatorID]))
		})
		for f := range got {
			sort.Strings(got[f]) // hits of one line come in no set order
		}
		if err != nil {
			t.Fatal(err)
		}
		for f, w := range want {
			if g := strings.Join(got[f], " "); g != w {
				t.Errorf("%d workers, log %s: hits %q, want %q", workers, f, g, w)
			}
		}
	}
}
