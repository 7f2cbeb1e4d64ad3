package source

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/corpus"
)

// The Harmony bridge laundering case of the MFTracer ground truth.
func TestCorpusGroundTruthHB(t *testing.T) {
	p := corpus.Path(t, "chain/mftracer_ground_truth/HB-HB.csv")
	var l Loader
	s, st := load(t, &l, p)
	if len(s.ts) != 3887 || st.Rows != 3887 || st.Bad != 0 {
		t.Fatalf("%d transfers, %d rows, %d bad (%v); want 3887, 3887, 0", len(s.ts), st.Rows, st.Bad, problems(st))
	}
	// The first row, exactly:
	// 2023-01-13 20:34:11,16400290,0x1360…c9b3,0x7a01…f7c3,Harmony Bridge Hacker 45 SRC,0x4e54…c1d9,Harmony Bridge Hacker 46,200000.0
	want := "0x1360f8668647d623a9132d1fec566cc3f0cf870b0aa3b77b4ae152cb8b74c9b3|16400290|" +
		itoa(time.Date(2023, 1, 13, 20, 34, 11, 0, time.UTC).Unix()) +
		"|0x7a017e5e9672bc994dcb1a2a27d853c9c629f7c3|0x4e548fd843a3016dba3656d914772f5c57e8c1d9||0|200000"
	if got := fmtTransfer(s.ts[0]); got != want {
		t.Errorf("first transfer\n got %s\nwant %s", got, want)
	}
	// The third row's USD keeps its decimals.
	if s.ts[2].USD != 200991.72078 {
		t.Errorf("third transfer USD %v", s.ts[2].USD)
	}
	labels := map[string]string{}
	for _, kv := range s.labels {
		a, l, _ := strings.Cut(kv, "=")
		labels[a] = l
	}
	if labels["0x7a017e5e9672bc994dcb1a2a27d853c9c629f7c3"] != "Harmony Bridge Hacker 45 SRC" {
		t.Errorf("label of the first sender: %q", labels["0x7a017e5e9672bc994dcb1a2a27d853c9c629f7c3"])
	}
	if len(labels) < 100 {
		t.Errorf("only %d labelled addresses", len(labels))
	}
	// The laundering ran in January and February 2023 (UTC).
	lo, hi := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC).Unix()
	for i, tr := range s.ts {
		if tr.Time < lo || tr.Time >= hi || !tr.HasUSD {
			t.Fatalf("row %d: %s", i+2, fmtTransfer(tr))
		}
	}
}

// Every case of the ground truth loads without a bad row, and each case's
// source and terminal lists read without problems. (The lists have one
// address more than SOURCES.txt says: it counted newlines, and the files
// lack the final one.)
func TestCorpusGroundTruthAll(t *testing.T) {
	dir := corpus.Path(t, "chain/mftracer_ground_truth")
	var l Loader
	s, st := load(t, &l, dir)
	if st.Bad != 0 || len(s.ts) != 292+1080+3887+135+1307 {
		t.Errorf("%d transfers, %d bad: %v", len(s.ts), st.Bad, problems(st))
	}
	seen := map[string]bool{}
	for _, tr := range s.ts {
		seen[tr.From], seen[tr.To] = true, true
	}
	for _, c := range []struct {
		name             string
		source, terminal int
	}{{"HB", 14, 14}, {"Atomic", 17, 101}, {"54m", 2, 13}, {"LIFI", 1, 33}, {"XScam", 7, 465}} {
		for _, kind := range []string{"source", "terminal"} {
			p := filepath.Join(dir, c.name+"-"+kind+"_addresses.csv")
			addrs, bad, err := ReadAddressFile(context.Background(), p)
			if err != nil || len(bad) != 0 {
				t.Errorf("%s: %v %v", p, bad, err)
			}
			want := c.source
			if kind == "terminal" {
				want = c.terminal
			}
			if len(addrs) != want {
				t.Errorf("%s: %d addresses, want %d", p, len(addrs), want)
			}
			missing := 0
			for _, a := range addrs {
				if !seen[a] {
					missing++
				}
			}
			if missing > 0 {
				t.Logf("%s: %d of %d addresses in no transfer", p, missing, len(addrs))
			}
		}
	}
}

// The Bybit laundering network (NetworkX GEXF).
func TestCorpusBybitGEXF(t *testing.T) {
	p := corpus.Path(t, "chain/bybit_incident_tna/transaction_network.gexf")
	var l Loader
	s, st := load(t, &l, p)
	if len(s.ts) != 14416 || st.Bad != 0 || st.Files[0].Nodes != 11340 {
		t.Fatalf("%d transfers, %d bad, %d nodes; want 14416, 0, 11340", len(s.ts), st.Bad, st.Files[0].Nodes)
	}
	first := s.ts[0]
	if first.From != "0x47666fab8bd0ac7003bce3f5c3585383f09486e2" || first.To != "0x09278b36863be4ccd3d0c22d643e8062d7a11377" ||
		first.Amount.String() != "10000000000000000000000" || first.Time != 0 || first.Tx != "" {
		t.Errorf("first edge %s", fmtTransfer(first))
	}
	nodes := map[string]bool{}
	for _, tr := range s.ts {
		nodes[tr.From], nodes[tr.To] = true, true
	}
	if len(nodes) != 11340 {
		t.Errorf("%d distinct endpoints, want 11340", len(nodes))
	}
	// The Bybit directory also holds CSVs of account features: with
	// SkipUnknown they are listed and the network loads.
	l2 := Loader{SkipUnknown: true}
	s2, st2 := load(t, &l2, filepath.Dir(p))
	if len(s2.ts) != 14416 || len(st2.Ignored) == 0 {
		t.Errorf("directory: %d transfers, ignored %v", len(s2.ts), st2.Ignored)
	}
}
