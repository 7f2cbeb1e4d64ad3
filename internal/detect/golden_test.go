package detect

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/corpus"
	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/feed/csvlist"
	"github.com/bulwark-intel/bulwark/internal/sigma"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestGoldenCorpusScans scans real corpus logs with every SigmaHQ rule
// and the DPRK indicator lists, and compares the hits with golden files,
// so any change in what the engine reports shows up in review. Run with
// -update to accept a change.
func TestGoldenCorpusScans(t *testing.T) {
	if testing.Short() {
		t.Skip("loads every SigmaHQ rule")
	}
	sd := "detect/logs/otrf-security-datasets/"
	var winRules []*sigma.Rule
	for _, dir := range []string{"rules", "rules-emerging-threats", "rules-threat-hunting", "rules-dfir", "rules-compliance", "rules-placeholder"} {
		p := filepath.Join(corpus.Path(t, "detect/sigmahq"), dir)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		rs, _ := sigma.LoadDirWith(p, sigma.Options{Mapping: sigma.WindowsMapping})
		winRules = append(winRules, rs...)
	}
	if len(winRules) < 3000 {
		t.Fatalf("only %d SigmaHQ rules loaded", len(winRules))
	}
	idx := dprkIndex(t)
	tests := []struct {
		golden string
		in     func(t *testing.T) Input
		rules  []*sigma.Rule
	}{
		{"lsass_comsvcs.jsonl", func(t *testing.T) Input {
			return zipInput(t, corpus.Path(t, sd+"psh_lsass_memory_dump_comsvcs.zip"), "psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json")
		}, winRules},
		{"covenant_psremoting.jsonl", func(t *testing.T) Input {
			return zipInput(t, corpus.Path(t, sd+"covenant_psremoting_command.zip"), "covenant_psremoting_command_2020-08-06115603.json")
		}, winRules},
		{"wrccdc_dns.jsonl", func(t *testing.T) Input {
			return FileInput(corpus.Path(t, "detect/logs/zeek-wrccdc2018/zeek-json/dns.json.gz"))
		}, nil},
		{"stratosphere_http.jsonl", func(t *testing.T) Input {
			return FileInput(corpus.Path(t, "detect/logs/stratosphere-zeek/005-zeek-scenario-malicious/http.log"))
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			in := tc.in(t)
			var hits []Hit
			sum, err := Scan(context.Background(), idx, []Input{in}, ScanOptions{Rules: tc.rules, Workers: 2}, func(h Hit) {
				h.File = filepath.Base(h.File) // golden files must not hold local paths
				hits = append(hits, h)
			})
			if err != nil || len(sum.Errors) > 0 {
				t.Fatal(err, sum.Errors)
			}
			sort.SliceStable(hits, func(i, j int) bool {
				if hits[i].Line != hits[j].Line {
					return hits[i].Line < hits[j].Line
				}
				return hits[i].RuleID+hits[i].IndicatorID < hits[j].RuleID+hits[j].IndicatorID
			})
			var buf bytes.Buffer
			fmt.Fprintf(&buf, "# %d events, %d malformed, %d hits\n", sum.Events, sum.Malformed, len(hits))
			enc := json.NewEncoder(&buf)
			for _, h := range hits {
				if err := enc.Encode(h); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join("testdata", "golden", tc.golden)
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !bytes.Equal(want, buf.Bytes()) {
				t.Errorf("hits differ from %s (run with -update if the change is intended):\n%s", path, firstDiff(want, buf.Bytes()))
			}
		})
	}
}

// dprkIndex compiles the DPRK indicator lists of the corpus.
func dprkIndex(t *testing.T) *Index {
	t.Helper()
	var objs []*stix.Object
	actors := map[string]string{}
	names := map[string]string{}
	var rels [][2]string
	for _, rel := range []string{"detect/iocs/maltrail", "detect/iocs/eset/nukesped_lazarus_samples.sha256", "chain/fbi_bybit_psa250226/fbi_psa250226_bybit_eth_addresses.txt"} {
		p := corpus.Path(t, rel)
		files := []string{p}
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			files, _ = filepath.Glob(filepath.Join(p, "*.txt"))
		}
		for _, f := range files {
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			err = csvlist.Format.Read(context.Background(), feed.Source{Path: f, R: fh}, func(it feed.Item) error {
				if o := it.Object; o != nil {
					switch o.Type {
					case "indicator":
						objs = append(objs, o)
					case "intrusion-set":
						names[o.ID] = o.Name()
					case "relationship":
						rels = append(rels, [2]string{o.String("source_ref"), o.String("target_ref")})
					}
				}
				return nil
			})
			fh.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, r := range rels {
		if n := names[r[1]]; n != "" {
			actors[r[0]] = n
		}
	}
	idx, err := Compile(objs, Options{Actors: actors})
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func firstDiff(a, b []byte) string {
	al, bl := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y []byte
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if !bytes.Equal(x, y) {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, x, y)
		}
	}
	return ""
}
