package detect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/corpus"
	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/feed/csvlist"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

// dumpIndex lists every indexed (kind, key) → indicator with what a hit on
// it reports, sorted: two indexes with the same dump match the same way.
func dumpIndex(x *Index) []string {
	var out []string
	for i := 0; i < x.ents.len(); i++ {
		e := x.ents.at(i)
		ind := x.Indicator(Ref(e.ind))
		key := fmt.Sprintf("cidr#%d", i)
		if e.klen > 0 {
			key = fmt.Sprintf("%q", x.ar.get(e.key, int(e.klen)))
		}
		out = append(out, fmt.Sprintf("%d %s → %s %q actor=%q tlp=%s sev=%s pat=%q", e.kind, key, ind.ID, ind.Name, ind.Actor, ind.TLP, ind.Severity, ind.Pattern))
	}
	for _, r := range x.unanchored {
		ind := x.Indicator(r)
		out = append(out, fmt.Sprintf("unanchored → %s %q %q", ind.ID, ind.Name, ind.Pattern))
	}
	sort.Strings(out)
	return out
}

// importerIndex indexes a list through the csvlist importer, as `bulwark
// import` would store it.
func importerIndex(t *testing.T, path, data string, src ListSource) (*Index, feed.Summary) {
	t.Helper()
	b := NewBuilder(Options{})
	var sum feed.Summary
	err := csvlist.Format.Read(context.Background(), feed.Source{Path: path, R: strings.NewReader(data), Name: src.Name, TLP: src.TLP}, func(it feed.Item) error {
		if it.Err != nil {
			sum.Rejected++
			return nil
		}
		b.Add(it.Object)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.Index(), sum
}

func listIndex(t *testing.T, path, data string, src ListSource) (*Index, ListStats, error) {
	t.Helper()
	b := NewBuilder(Options{})
	src.Path = path
	st, err := b.AddList(context.Background(), strings.NewReader(data), src)
	return b.Index(), st, err
}

func sameIndex(t *testing.T, name string, want, got *Index) {
	t.Helper()
	w, g := dumpIndex(want), dumpIndex(got)
	if strings.Join(w, "\n") == strings.Join(g, "\n") {
		return
	}
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			t.Errorf("%s: %d vs %d entries; first difference:\n importer %s\n AddList  %s", name, len(w), len(g), a, b)
			return
		}
	}
}

// TestAddListMatchesImporter: every list of the corpus indexed straight by
// AddList gives exactly the index the csvlist importer's objects give.
func TestAddListMatchesImporter(t *testing.T) {
	var files []string
	for _, dir := range []string{"detect/iocs/maltrail", "detect/iocs/eset", "detect/iocs/signature-base-loki", "chain/fbi_bybit_psa250226", "chain/ofac_0xB10C_lists"} {
		p := corpus.Path(t, dir)
		fs, _ := filepath.Glob(filepath.Join(p, "*"))
		for _, f := range fs {
			b := strings.ToLower(filepath.Base(f))
			if strings.HasPrefix(b, "license") || strings.HasPrefix(b, "upstream") || strings.HasSuffix(b, ".json") || strings.HasSuffix(b, ".md") {
				continue
			}
			files = append(files, f)
		}
	}
	if len(files) < 20 {
		t.Fatalf("only %d corpus lists", len(files))
	}
	total, nonEmpty := 0, 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := importerIndex(t, f, string(data), ListSource{})
		got, st, err := listIndex(t, f, string(data), ListSource{})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if strings.Contains(f, "filename-iocs") {
			if got.Len() != 0 || st.Rejected == 0 {
				t.Errorf("%s: Loki file-name regexes indexed: %d", f, got.Len())
			}
			continue
		}
		sameIndex(t, filepath.Base(f), want, got)
		total += got.Len()
		if want.Len() > 0 {
			nonEmpty++
		}
	}
	if nonEmpty < 20 || total < 10000 {
		t.Errorf("only %d lists with indicators, %d indicators", nonEmpty, total)
	}
	t.Logf("%d files, %d with indicators, %d indicators", len(files), nonEmpty, total)
}

func TestAddListCases(t *testing.T) {
	tests := []struct {
		name, path, data string
		src              ListSource
		values, rejected int
	}{
		{"loki value;comment, named by its comment", "c2-iocs.txt",
			"# LOKI C2 IOCs\n\n# Lazarus campaign https://example.org/report\nevil.example;Lazarus C2\n10.1.2.3;first\n10.1.2.3;again\nnot a value;x\n",
			ListSource{}, 2, 1},
		{"maltrail, actor from the file name, host:port, CIDR", "trails/static/malware/apt_lazarus.txt",
			"\xef\xbb\xbf# Copyright (c) 2014-2025 Maltrail developers\n# Reference: https://example.org/x\nbad.example\r\n203.0.113.7:8443\n198.51.100.0/24\nhttp://dl.example/a.bin\n",
			ListSource{}, 4, 0},
		{"flattened maltrail, TLP and a source name", "static__malware__apt_kimsuky.txt",
			"kimsuky.example\n0x098B716B8Aaf21512996dC57EB0615e2383E2f96\nd41d8cd98f00b204e9800998ecf8427e\n",
			ListSource{Name: "partner feed", TLP: stix.TLPAmber}, 3, 0},
		{"value and a comment after a space; junk", "list.txt",
			"a.example some note\n\x00bin\n\xff\xfe\nsetup.exe\n1.2.3\n",
			ListSource{}, 1, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, _ := importerIndex(t, tc.path, tc.data, tc.src)
			got, st, err := listIndex(t, tc.path, tc.data, tc.src)
			if err != nil {
				t.Fatal(err)
			}
			if st.Values != tc.values || st.Rejected != tc.rejected {
				t.Errorf("values %d rejected %d, want %d and %d: %v", st.Values, st.Rejected, tc.values, tc.rejected, st.Examples)
			}
			sameIndex(t, tc.name, want, got)
		})
	}
}

func TestAddListLongLine(t *testing.T) {
	data := "a.example\n" + strings.Repeat("x", listMaxLine+10) + "\nb.example\n"
	x, st, err := listIndex(t, "l.txt", data, ListSource{})
	if err != nil || x.Len() != 2 || st.Rejected != 1 || st.Lines != 3 {
		t.Fatalf("%v: %d indexed, %+v", err, x.Len(), st)
	}
}

func TestAddListNotList(t *testing.T) {
	for _, tc := range []struct{ path, data string }{
		{"iocs.csv", "evil.example\n"},
		{"iocs.txt", "# header\nvalue,type,actor\nevil.example,domain,Lazarus\n"},
		{"iocs.txt", "evil.example,Lazarus\n"},
	} {
		if LooksLikeList(tc.path, []byte(tc.data)) {
			t.Errorf("%s %q looks like a list", tc.path, tc.data)
		}
		x, _, err := listIndex(t, tc.path, tc.data, ListSource{})
		if !errors.Is(err, ErrNotList) || x.Len() != 0 {
			t.Errorf("%s %q: %v, %d indexed", tc.path, tc.data, err, x.Len())
		}
	}
	for _, data := range []string{"# c\n\nevil.example\n", "http://a.example/x?a=1,2\n", "evil.example;note, with comma\n"} {
		if !LooksLikeList("l.txt", []byte(data)) {
			t.Errorf("%q is not taken for a list", data)
		}
	}
}

func FuzzAddList(f *testing.F) {
	f.Add("# LOKI\nevil.example;c\n1.2.3.4:80\n10.0.0.0/8\n")
	f.Add("\xef\xbb\xbfa.b\r\n#x\n\x00")
	f.Fuzz(func(t *testing.T, data string) {
		b := NewBuilder(Options{})
		_, err := b.AddList(context.Background(), strings.NewReader(data), ListSource{Path: "static__malware__apt_x.txt"})
		if err != nil && !errors.Is(err, ErrNotList) {
			t.Fatal(err)
		}
		x := b.Index()
		for r := 0; r < x.Len(); r++ {
			if ind := x.Indicator(Ref(r)); !strings.HasPrefix(ind.ID, "indicator--") {
				t.Fatalf("id %q", ind.ID)
			}
		}
	})
}
