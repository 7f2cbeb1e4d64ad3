package tagpack

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/corpus"
	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/feed/feedtest"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

const ronin = "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"

var mtime = time.Date(2026, 5, 12, 8, 0, 0, 0, time.UTC)

type result = feedtest.Result

// run reads data as a TagPack and insists no object is yielded twice.
func run(t testing.TB, path string, data []byte, tlp stix.TLP) result {
	t.Helper()
	r := feedtest.Read(t, Format, feed.Source{Path: path, R: bytes.NewReader(data), Time: mtime, TLP: tlp})
	seen := map[string]bool{}
	for _, o := range r.Objects {
		if seen[o.ID] {
			t.Fatalf("object %s yielded twice", o.ID)
		}
		seen[o.ID] = true
	}
	return r
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func indicatorID(creator, title, currency, addr string) string {
	return stix.DeterministicID("indicator", "graphsense", creator, title, currency, addr)
}

func TestFixture(t *testing.T) {
	r := run(t, "testdata/pack.yaml", readFile(t, "testdata/pack.yaml"), stix.TLPNone)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	counts := map[string]int{}
	for _, o := range r.Objects {
		counts[o.Type]++
	}
	if counts["identity"] != 1 || counts["cryptocurrency-wallet"] != 3 || counts["indicator"] != 3 ||
		counts["relationship"] != 6 || counts["intrusion-set"] != 2 || len(r.Objects) != 15 {
		t.Errorf("counts %v (%d objects)", counts, len(r.Objects))
	}
	var msgs []string
	for _, it := range r.Rejects {
		msgs = append(msgs, it.Err.Error())
	}
	want := []string{
		"testdata/pack.yaml:28: tags[4].address: \"bad address with spaces\" is not an address: character ' ' at 3",
		"testdata/pack.yaml:29: tags[5].address: missing",
		"testdata/pack.yaml:30: tags[6].lastmod: \"yesterday\" is not a date",
		"testdata/pack.yaml:32: tags[7].: a tag is a mapping with an address",
	}
	if !slices.Equal(msgs, want) {
		t.Errorf("rejects:\n%s\nwant:\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
	}

	creator := stix.DeterministicID("identity", "bulwark tests")
	ind := r.ByID(indicatorID("Bulwark Tests", "Bulwark test pack", "ETH", "0x1111111111111111111111111111111111111111"))
	if ind == nil {
		t.Fatal("no first indicator")
	}
	if ind.Name() != "Test Actor group (ETH)" || ind.String("pattern") != "[cryptocurrency-wallet:value = '0x1111111111111111111111111111111111111111']" ||
		!slices.Equal(ind.Labels, []string{"perpetrator", "malicious-activity", "hack"}) || *ind.Confidence != 50 ||
		ind.String("x_bulwark_currency") != "ETH" || ind.String("x_bulwark_category") != "perpetrator" ||
		ind.CreatedByRef != creator || stix.FormatTimestamp(ind.Created) != "2024-03-01T00:00:00.000Z" ||
		!slices.Equal(ind.ObjectMarkingRefs, []string{stix.TLP2Amber}) ||
		ind.ExternalReferences[0].URL != "https://example.org/advisory" || ind.ExternalReferences[0].SourceName != "Bulwark test pack" {
		t.Errorf("indicator = %s", ind.Raw)
	}
	second := r.ByID(indicatorID("Bulwark Tests", "Bulwark test pack", "ETH", "0x2222222222222222222222222222222222222222"))
	if second == nil || *second.Confidence != 75 || stix.FormatTimestamp(second.Created) != "2024-04-02T00:00:00.000Z" ||
		!strings.Contains(second.String("description"), `Context: {"note": "second"}`) {
		t.Errorf("second = %v", second)
	}
	actor := stix.DeterministicID("intrusion-set", "graphsense-actor", "testactor")
	set := r.ByID(actor)
	if set == nil || set.Name() != "Test Actor group" || !slices.Equal(set.Strings("aliases"), []string{"Test Actor group", "testactor"}) {
		t.Errorf("actor = %v", set)
	}
	if !r.Rel("indicates", ind.ID, actor) || !r.Rel("indicates", second.ID, actor) {
		t.Error("indicators do not indicate the actor")
	}
	mixer := r.ByID(indicatorID("Bulwark Tests", "Bulwark test pack", "BTC", "bc1qfixturemixer00000000000000000000000000"))
	if mixer == nil || !slices.Equal(mixer.Labels, []string{"mixer", "malicious-activity", "sanctioned"}) ||
		mixer.Name() != "Fixture Mixer (BTC)" || mixer.ExternalReferences[0].Description != "not a url" {
		t.Errorf("mixer = %v", mixer)
	}
	sco, _ := feed.Observable(feed.KindWallet, "bc1qfixturemixer00000000000000000000000000")
	if !r.Rel("based-on", mixer.ID, sco.ID) {
		t.Error("no based-on for the mixer")
	}
	if !r.Rel("indicates", mixer.ID, stix.DeterministicID("intrusion-set", "graphsense-actor", "fixturemixer")) {
		t.Error("mixer does not indicate its actor")
	}

	// Source.TLP wins over is_public; re-import is identical.
	g := run(t, "testdata/pack.yaml", readFile(t, "testdata/pack.yaml"), stix.TLPGreen)
	for _, o := range g.ByType("indicator") {
		if !slices.Equal(o.ObjectMarkingRefs, []string{stix.TLP2Green}) {
			t.Errorf("TLP override: %v", o.ObjectMarkingRefs)
		}
	}
	again := run(t, "testdata/pack.yaml", readFile(t, "testdata/pack.yaml"), stix.TLPNone)
	for i := range r.Objects {
		if !bytes.Equal(r.Objects[i].Raw, again.Objects[i].Raw) {
			t.Fatalf("re-import differs: %s / %s", r.Objects[i].Raw, again.Objects[i].Raw)
		}
	}
}

func TestCorpus(t *testing.T) {
	dir := filepath.Dir(corpus.Path(t, "chain/graphsense_tagpacks/lazarus.yaml"))
	cases := []struct {
		file     string
		n        int
		actor    string
		label    string
		category string
	}{
		{"lazarus.yaml", 21, "lazarusgroup", "sanctioned", ""},
		{"lazarus2.yaml", 6, "lazarusgroup", "sanctioned", ""},
		{"ronin_bridge.yaml", 6, "", "hack", ""},
		{"blender_io.yaml", 45, "blenderio", "mixer", "mixing_service"},
		{"sinbad_io.yaml", 2, "sinbadio", "mixer", "mixing_service"},
		// 39 tags, one repeating an address with a trailing space.
		{"tornado_cash.yaml", 38, "tornado", "mixer", "mixing_service"},
		{"ofac.yaml", 572, "", "", "user"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			data := readFile(t, path)
			if !Format.Sniff(path, data[:min(len(data), feed.SniffBytes)]) {
				t.Error("not sniffed")
			}
			r := run(t, path, data, stix.TLPNone)
			if r.Err != nil || len(r.Rejects) > 0 {
				t.Fatalf("%v %v", r.Err, r.Rejects)
			}
			inds := r.ByType("indicator")
			if len(inds) != tc.n || len(r.ByType("cryptocurrency-wallet")) != tc.n {
				t.Errorf("%d indicators, want %d", len(inds), tc.n)
			}
			for _, o := range inds {
				if tc.label != "" && !slices.Contains(o.Labels, tc.label) {
					t.Fatalf("indicator lacks label %q: %s", tc.label, o.Raw)
				}
				if tc.category != "" && o.String("x_bulwark_category") != tc.category {
					t.Fatalf("category %q", o.String("x_bulwark_category"))
				}
				if !slices.Equal(o.ObjectMarkingRefs, []string{stix.TLP2Clear}) {
					t.Fatalf("marking %v", o.ObjectMarkingRefs)
				}
			}
			sets := r.ByType("intrusion-set")
			if tc.actor == "" {
				if len(sets) != 0 {
					t.Errorf("%d intrusion-sets without actor", len(sets))
				}
				return
			}
			if len(sets) != 1 || sets[0].ID != stix.DeterministicID("intrusion-set", "graphsense-actor", tc.actor) {
				t.Fatalf("intrusion-sets %v", sets)
			}
			for _, o := range inds {
				if !r.Rel("indicates", o.ID, sets[0].ID) {
					t.Fatalf("%s does not indicate the actor", o.Name())
				}
			}
		})
	}

	// Lazarus: the Ronin exploiter, case kept, and the actor named after the label.
	path := filepath.Join(dir, "lazarus.yaml")
	r := run(t, path, readFile(t, path), stix.TLPNone)
	ind := r.ByID(indicatorID("GraphSense Core Team", "OFAC Tagpack", "ETH", ronin))
	if ind == nil || ind.String("pattern") != "[cryptocurrency-wallet:value = '"+ronin+"']" || ind.Name() != "Lazarus group (ETH)" ||
		*ind.Confidence != 60 || stix.FormatTimestamp(ind.Created) != "2022-04-15T00:00:00.000Z" ||
		ind.ExternalReferences[0].URL != "https://www.treasury.gov/resource-center/sanctions/OFAC-Enforcement/Pages/20200302.aspx" {
		t.Fatalf("Ronin indicator = %v", ind)
	}
	set := r.ByType("intrusion-set")[0]
	if set.Name() != "Lazarus group" || !slices.Contains(set.Strings("aliases"), "Lazarus group") || !slices.Contains(set.Strings("aliases"), "lazarusgroup") {
		t.Errorf("actor = %s", set.Raw)
	}
	if r.ByType("identity")[0].Name() != "GraphSense Core Team" {
		t.Error("creator identity")
	}
	// Ronin bridge pack: labels per tag.
	path = filepath.Join(dir, "ronin_bridge.yaml")
	r = run(t, path, readFile(t, path), stix.TLPNone)
	ind = r.ByID(indicatorID("GraphSense Core Team", "Ronin bridge hack", "ETH", ronin))
	if ind == nil || ind.Name() != "Ronin bridge exploiter (ETH)" || !strings.Contains(ind.String("description"), "original address") {
		t.Errorf("Ronin bridge indicator = %v", ind)
	}
	// The OFAC pack (INTERPOL CNTL) has no date per tag: the header's.
	path = filepath.Join(dir, "ofac.yaml")
	r = run(t, path, readFile(t, path), stix.TLPNone)
	if o := r.ByType("indicator")[0]; stix.FormatTimestamp(o.Created) != "2024-02-26T00:00:00.000Z" || o.CreatedByRef != stix.DeterministicID("identity", "interpol cntl") {
		t.Errorf("ofac pack indicator = %s", o.Raw)
	}
	// sinbad.io has no lastmod: the file time.
	path = filepath.Join(dir, "sinbad_io.yaml")
	r = run(t, path, readFile(t, path), stix.TLPNone)
	if o := r.ByType("indicator")[0]; !o.Created.Equal(mtime) {
		t.Errorf("sinbad created %v, want the file time", o.Created)
	}
}

func TestHostile(t *testing.T) {
	bomb := `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
creator: x
tags: *i
`
	aliasTags := "creator: x\ntitle: t\nt: &t {address: '0x1111111111111111111111111111111111111111', currency: ETH}\ntags: [*t, *t, *t]\n"
	cases := []struct {
		name, in      string
		objs, rejects int
		err           string
	}{
		{"truncated", "creator: x\ntags:\n- address: '0x11", 0, 0, "YAML"},
		{"billion laughs", bomb, 0, 9, ""}, // the 9 aliased lists are not tags
		{"alias tags", aliasTags, 4, 0, ""},
		{"deep nesting", "creator: x\ntags: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n", 0, 0, "YAML"},
		{"tags not list", "creator: x\ntags: 5\n", 0, 0, "want a list"},
		{"no tags", "creator: x\n", 0, 0, "tags: missing"},
		{"not a mapping", "- a\n- b\n", 0, 0, "mapping"},
		{"empty", "", 0, 0, "empty"},
		{"wrong types", "creator: x\ntags:\n- address: [1, 2]\n- address: {a: 1}\n- 5\n- address: 0x1111111111111111111111111111111111111111\n  is_public: maybe\n", 0, 4, ""},
		{"no creator", "tags:\n- address: '0x1111111111111111111111111111111111111111'\n", 4, 1, ""},
		{"json", `{"creator": "x", "tags": [{"address": "0x1111111111111111111111111111111111111111"}]}`, 4, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan result, 1)
			go func() { done <- run(t, "h.yaml", []byte(tc.in), stix.TLPNone) }()
			var r result
			select {
			case r = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("reader did not finish")
			}
			if tc.err == "" && r.Err != nil && tc.name != "billion laughs" || tc.err != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), tc.err)) {
				t.Fatalf("err = %v, want %q", r.Err, tc.err)
			}
			if r.Err != nil && !strings.Contains(r.Err.Error(), "h.yaml") {
				t.Errorf("error %q does not name the file", r.Err)
			}
			if len(r.Objects) != tc.objs || len(r.Rejects) != tc.rejects {
				t.Errorf("%d objects, %d rejects %v; want %d, %d", len(r.Objects), len(r.Rejects), r.Rejects, tc.objs, tc.rejects)
			}
		})
	}
	// A 100 MB string is refused by size before parsing.
	big := append([]byte("creator: x\ntags:\n- address: '"), bytes.Repeat([]byte("a"), 100<<20)...)
	big = append(big, "'\n"...)
	r := run(t, "big.yaml", big, stix.TLPNone)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "larger than") {
		t.Errorf("100 MB: %v", r.Err)
	}
	// A 1 MB address within the size limit is a rejected tag.
	long := "creator: x\ntags:\n- address: '" + strings.Repeat("a", 1<<20) + "'\n- address: '0x1111111111111111111111111111111111111111'\n"
	r = run(t, "long.yaml", []byte(long), stix.TLPNone)
	if r.Err != nil || len(r.Rejects) != 1 || len(r.ByType("indicator")) != 1 {
		t.Errorf("long address: %v %v", r.Err, r.Rejects)
	}
}

func TestSniff(t *testing.T) {
	cases := []struct {
		name, head string
		want       bool
	}{
		{"pack.yaml", "title: x\ncreator: y\ntags:\n- address: abc\n", true},
		{"pack.txt", "title: x\ncreator: y\ntags:\n- address: abc\n", true},
		{"rule.yml", "title: x\ndetection:\n  sel:\n    a: b\ntags:\n- attack.t1059\n", false},
		{"bundle.json", `{"tags": [{"address": "x"}]}`, false},
		{"list.txt", "0x1111111111111111111111111111111111111111\n", false},
	}
	for _, tc := range cases {
		if got := Format.Sniff(tc.name, []byte(tc.head)); got != tc.want {
			t.Errorf("Sniff(%s) = %v", tc.name, got)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add(readFile(f, "testdata/pack.yaml"))
	f.Add([]byte("creator: x\nt: &t {address: '0x1111111111111111111111111111111111111111'}\ntags: [*t, *t]\n"))
	f.Add([]byte("creator: x\ntags:\n- address: 0x11\n  lastmod: 2024-02-30\n  is_public: no\n  confidence: web_crawl\n---\ncreator: y\ntags: []\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = Format.Read(context.Background(), feed.Source{Path: "f.yaml", R: bytes.NewReader(data), Time: mtime}, func(it feed.Item) error {
			if it.Err == nil {
				if it.Object == nil {
					t.Fatal("item with neither object nor error")
				}
				if err := stix.Validate(it.Object); err != nil {
					t.Fatalf("invalid object: %v", err)
				}
			}
			return nil
		})
		Format.Sniff("f.yaml", data)
	})
}
