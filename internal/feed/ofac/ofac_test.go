package ofac

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

var mtime = time.Date(2024, 9, 27, 12, 0, 0, 0, time.UTC)

type result = feedtest.Result

func run(t testing.TB, f feed.Format, path string, data []byte) result {
	t.Helper()
	return feedtest.Read(t, f, feed.Source{Path: path, R: bytes.NewReader(data), Time: mtime})
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func indicatorFor(asset, addr string) string {
	return stix.DeterministicID("indicator", "ofac", asset, addr)
}

func TestXMLFixture(t *testing.T) {
	r := run(t, XML, "testdata/sdn_advanced.xml", readFile(t, "testdata/sdn_advanced.xml"))
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	// 1 identity, 5 wallets × (SCO + indicator + based-on), 3 parties, 6 links.
	counts := map[string]int{}
	for _, o := range r.Objects {
		counts[o.Type]++
	}
	want := map[string]int{"identity": 2, "cryptocurrency-wallet": 5, "indicator": 5, "relationship": 11, "intrusion-set": 2}
	if !mapsEqual(counts, want) {
		t.Errorf("object counts %v, want %v", counts, want)
	}
	if len(r.Objects) != 25 {
		t.Errorf("%d objects, want 25", len(r.Objects))
	}
	ids := map[string]bool{}
	for _, o := range r.Objects {
		if ids[o.ID] {
			t.Errorf("object %s yielded twice", o.ID)
		}
		ids[o.ID] = true
	}
	// The feature without an address is rejected with its line.
	if len(r.Rejects) != 1 {
		t.Fatalf("rejects %v, want 1", r.Rejects)
	}
	var le *feed.LineError
	if !errors.As(r.Rejects[0].Err, &le) || le.Line != 182 || !strings.Contains(le.Error(), "USDT") {
		t.Errorf("reject = %v, want line 182 about the empty USDT feature", r.Rejects[0].Err)
	}

	ofacID := stix.DeterministicID("identity", "ofac")
	published := "2025-01-10T00:00:00.000Z"
	if o := r.Objects[0]; o.ID != ofacID || o.Name() != "OFAC" || o.String("identity_class") != "organization" {
		t.Errorf("first object %s %q, want the OFAC identity", o.ID, o.Name())
	}

	lazarus := stix.DeterministicID("intrusion-set", "ofac-sdn", "27307")
	ls := r.ByID(lazarus)
	if ls == nil {
		t.Fatal("no LAZARUS GROUP intrusion-set")
	}
	if ls.Name() != "LAZARUS GROUP" || !slices.Equal(ls.Strings("aliases"), []string{"HIDDEN COBRA", "GUARDIANS OF PEACE"}) ||
		!slices.Equal(ls.Strings("x_bulwark_sdn_programs"), []string{"DPRK3"}) || ls.CreatedByRef != ofacID ||
		stix.FormatTimestamp(ls.Created) != published || ls.ExternalReferences[0].ExternalID != "27307" {
		t.Errorf("lazarus = %s", ls.Raw)
	}

	person := r.ByID(stix.DeterministicID("identity", "ofac-sdn", "90001"))
	if person == nil || person.Name() != "Ivan Petrovich TESTOVICH" || person.String("identity_class") != "individual" ||
		!slices.Equal(person.Strings("x_bulwark_aliases"), []string{"Vanya TESTOVICH"}) ||
		!slices.Equal(person.Strings("x_bulwark_sdn_programs"), []string{"CYBER2", "DPRK3"}) {
		t.Errorf("person = %v", person)
	}
	otc := stix.DeterministicID("intrusion-set", "ofac-sdn", "90002")
	if o := r.ByID(otc); o == nil || o.Name() != "SAMPLE OTC DESK LLC" || o.Has("aliases") {
		t.Errorf("otc = %v", o)
	}
	// The party without addresses yields nothing.
	if r.ByID(stix.DeterministicID("intrusion-set", "ofac-sdn", "90003")) != nil {
		t.Error("party without addresses imported")
	}

	ind := r.ByID(indicatorFor("ETH", ronin))
	if ind == nil {
		t.Fatal("no Ronin indicator")
	}
	checks := map[string]string{
		"name":            "OFAC SDN: LAZARUS GROUP (ETH)",
		"pattern":         "[cryptocurrency-wallet:value = '" + ronin + "']",
		"pattern_type":    "stix",
		"valid_from":      published,
		"x_bulwark_asset": "ETH",
		"created_by_ref":  ofacID,
		"created":         published,
		"modified":        published,
	}
	for k, v := range checks {
		if ind.String(k) != v {
			t.Errorf("indicator %s = %q, want %q", k, ind.String(k), v)
		}
	}
	if !slices.Equal(ind.Labels, []string{"sanctioned"}) || !slices.Equal(ind.ObjectMarkingRefs, []string{stix.TLP2Clear}) ||
		!slices.Equal(ind.Strings("x_bulwark_sdn_programs"), []string{"DPRK3"}) {
		t.Errorf("indicator = %s", ind.Raw)
	}
	sco, _ := feed.Observable(feed.KindWallet, ronin)
	if o := r.ByID(sco.ID); o == nil || o.String("value") != ronin {
		t.Errorf("Ronin SCO missing or lower-cased: %v", o)
	}
	if !slices.Contains(r.Rels("based-on"), [2]string{ind.ID, sco.ID}) {
		t.Error("no based-on from the Ronin indicator to its SCO")
	}
	if !slices.Contains(r.Rels("indicates"), [2]string{ind.ID, lazarus}) {
		t.Error("Ronin indicator does not indicate LAZARUS GROUP")
	}

	// The address listed for two parties: one indicator naming both.
	shared := r.ByID(indicatorFor("XBT", "bc1qtestfixtureshared0000000000000000000000"))
	if shared == nil || shared.Name() != "OFAC SDN: Ivan Petrovich TESTOVICH; SAMPLE OTC DESK LLC (XBT)" ||
		!slices.Equal(shared.Strings("x_bulwark_sdn_programs"), []string{"CYBER2", "DPRK3"}) {
		t.Errorf("shared = %v", shared)
	}
	if !slices.Contains(r.Rels("related-to"), [2]string{shared.ID, person.ID}) || !slices.Contains(r.Rels("indicates"), [2]string{shared.ID, otc}) {
		t.Error("shared address not linked to both parties")
	}
	if got := len(r.Rels("indicates")) + len(r.Rels("related-to")); got != 6 {
		t.Errorf("%d party links, want 6", got)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestXMLIdempotentAndDeltaNamespace(t *testing.T) {
	data := readFile(t, "testdata/sdn_advanced.xml")
	a := run(t, XML, "a.xml", data)
	b := run(t, XML, "b.xml", data)
	if len(a.Objects) != len(b.Objects) {
		t.Fatal("re-import differs in size")
	}
	for i := range a.Objects {
		if !bytes.Equal(a.Objects[i].Raw, b.Objects[i].Raw) {
			t.Errorf("re-import differs: %s vs %s", a.Objects[i].Raw, b.Objects[i].Raw)
		}
	}
	old := bytes.Replace(data, []byte(NamespaceAdvanced), []byte(NamespaceDelta), 1)
	c := run(t, XML, "old.xml", old)
	if c.Err != nil || len(c.Objects) != len(a.Objects) {
		t.Errorf("DeltaFile namespace: %v, %d objects", c.Err, len(c.Objects))
	}
	// Without DateOfIssue the file's time is used.
	i, j := bytes.Index(data, []byte("<DateOfIssue>")), bytes.Index(data, []byte("</DateOfIssue>"))
	nodate := append(slices.Clone(data[:i]), data[j+len("</DateOfIssue>"):]...)
	d := run(t, XML, "nodate.xml", nodate)
	if d.Err != nil || len(d.ByType("indicator")) != 5 || !d.ByType("indicator")[0].Created.Equal(mtime) {
		t.Errorf("no DateOfIssue: %v", d.Err)
	}
}

func TestXMLHostile(t *testing.T) {
	fixture := readFile(t, "testdata/sdn_advanced.xml")
	deep := "<Sanctions xmlns=\"" + NamespaceAdvanced + "\">" + strings.Repeat("<a>", 100000) + strings.Repeat("</a>", 100000) + "</Sanctions>"
	huge := make([]byte, 0, 100<<20+200)
	huge = append(huge, "<Sanctions xmlns=\"x-ofac\"><DistinctParties><DistinctParty FixedRef=\"1\"><Comment>"...)
	huge = append(huge, bytes.Repeat([]byte("A"), 100<<20)...)
	huge = append(huge, "</Comment></DistinctParty></DistinctParties></Sanctions>"...)
	hugeAttr := "<Sanctions xmlns=\"x-ofac\"><DistinctParty FixedRef=\"" + strings.Repeat("9", 2<<20) + "\"/></Sanctions>"
	cases := []struct {
		name, in, want string
	}{
		{"truncated", string(fixture[:len(fixture)/2]), "unexpected EOF"},
		{"deep nesting", deep, "nested deeper"},
		{"huge text node", string(huge), "longer than"},
		{"huge attribute", hugeAttr, "longer than"},
		{"entity", "<!DOCTYPE Sanctions [<!ENTITY a \"aaaa\">]><Sanctions xmlns=\"x-ofac\"><DateOfIssue><Year>&a;</Year></DateOfIssue></Sanctions>", "entity"},
		{"wrong root", "<Other/>", "not <Sanctions>"},
		{"empty", "", "no <Sanctions>"},
		{"not xml", "{\"a\":1}", "no <Sanctions>"},
		{"two roots", "<Sanctions xmlns=\"x-ofac\"/><Sanctions xmlns=\"x-ofac\"/>", "after the root"},
		{"foreign namespace", "<Sanctions xmlns=\"urn:other\"/>", "namespace"},
		{"bad charset", "<?xml version=\"1.0\" encoding=\"ISO-8859-7\"?><Sanctions/>", "encoding"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, XML, "hostile.xml", []byte(tc.in))
			if r.Err == nil || !strings.Contains(r.Err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", r.Err, tc.want)
			}
			if !strings.Contains(r.Err.Error(), "hostile.xml") {
				t.Errorf("error %q does not name the file", r.Err)
			}
			if len(r.Objects) != 0 {
				t.Errorf("%d objects yielded from a refused file", len(r.Objects))
			}
		})
	}
}

func TestXMLBadRecords(t *testing.T) {
	in := `<Sanctions xmlns="` + NamespaceAdvanced + `">
<DateOfIssue><Year>2025</Year><Month>13</Month><Day>1</Day></DateOfIssue>
<ReferenceValueSets><FeatureTypeValues><FeatureType ID="345">Digital Currency Address - ETH</FeatureType></FeatureTypeValues></ReferenceValueSets>
<DistinctParties>
<DistinctParty FixedRef="1"><Profile ID="1" PartySubTypeID="3"><Identity>
<Alias Primary="true"><DocumentedName><DocumentedNamePart><NamePartValue>GOOD CO</NamePartValue></DocumentedNamePart></DocumentedName></Alias></Identity>
<Feature FeatureTypeID="345"><FeatureVersion><VersionDetail>0xnot an address'</VersionDetail></FeatureVersion></Feature>
<Feature FeatureTypeID="345"><FeatureVersion><VersionDetail>0x1111111111111111111111111111111111111111</VersionDetail></FeatureVersion></Feature>
</Profile></DistinctParty>
<DistinctParty FixedRef="2"><Profile ID="2" PartySubTypeID="3">
<Feature FeatureTypeID="345"><FeatureVersion><VersionDetail>0x2222222222222222222222222222222222222222</VersionDetail></FeatureVersion></Feature>
</Profile></DistinctParty>
</DistinctParties></Sanctions>`
	r := run(t, XML, "bad.xml", []byte(in))
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	var msgs []string
	for _, it := range r.Rejects {
		msgs = append(msgs, it.Err.Error())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{"bad.xml: DateOfIssue: 2025-13-01 is not a date", "bad.xml:10: DistinctParty", "party 2 has no name", "bad.xml:7: address", "not an address"} {
		if !strings.Contains(all, want) {
			t.Errorf("rejections %q lack %q", all, want)
		}
	}
	if n := len(r.ByType("indicator")); n != 2 {
		t.Errorf("%d indicators, want 2 (the good address and the nameless party's)", n)
	}
	if o := r.ByID(indicatorFor("ETH", "0x2222222222222222222222222222222222222222")); o == nil || o.Name() != "OFAC SDN: a sanctioned ETH address" {
		t.Errorf("nameless party's indicator = %v", o)
	}
	if r.ByType("indicator")[0].Created != mtime {
		t.Error("bad DateOfIssue should fall back to the file time")
	}
}

func TestListCorpus(t *testing.T) {
	dir := filepath.Dir(corpus.Path(t, "chain/ofac_0xB10C_lists/sanctioned_addresses_ETH.txt"))
	want := map[string]int{"XBT": 435, "ETH": 152, "USDT": 26, "XMR": 3, "TRX": 6, "ARB": 1}
	for asset, n := range want {
		for _, ext := range []string{".txt", ".json"} {
			path := filepath.Join(dir, "sanctioned_addresses_"+asset+ext)
			data := readFile(t, path)
			if !List.Sniff(path, data) {
				t.Errorf("%s not sniffed as ofac-list", path)
			}
			if XML.Sniff(path, data) || Entities.Sniff(path, data) {
				t.Errorf("%s sniffed as another OFAC format", path)
			}
			r := run(t, List, path, data)
			if r.Err != nil || len(r.Rejects) > 0 {
				t.Fatalf("%s: %v %v", path, r.Err, r.Rejects)
			}
			inds := r.ByType("indicator")
			if len(inds) != n || len(r.ByType("cryptocurrency-wallet")) != n || len(r.Rels("based-on")) != n {
				t.Errorf("%s: %d indicators, want %d", path, len(inds), n)
			}
			for _, o := range inds {
				if o.String("x_bulwark_asset") != asset || !o.Created.Equal(identityCreated) || o.Name() != "OFAC SDN: a sanctioned "+asset+" address" {
					t.Fatalf("%s: indicator %s", path, o.Raw)
				}
			}
		}
	}
	path := filepath.Join(dir, "sanctioned_addresses_ETH.txt")
	r := run(t, List, path, readFile(t, path))
	ind := r.ByID(indicatorFor("ETH", ronin))
	if ind == nil || ind.String("pattern") != "[cryptocurrency-wallet:value = '"+ronin+"']" {
		t.Fatalf("Ronin address missing from the ETH list (case preserved): %v", ind)
	}
	// .txt and .json give the same objects.
	rj := run(t, List, filepath.Join(dir, "sanctioned_addresses_ETH.json"), readFile(t, filepath.Join(dir, "sanctioned_addresses_ETH.json")))
	for i := range r.Objects {
		if !bytes.Equal(r.Objects[i].Raw, rj.Objects[i].Raw) {
			t.Fatalf("txt and json differ at %d: %s vs %s", i, r.Objects[i].Raw, rj.Objects[i].Raw)
		}
	}
}

func TestListHostile(t *testing.T) {
	long := strings.Repeat("A", 10000)
	cases := []struct {
		name, path, in string
		objs, rejects  int
		err            string
	}{
		{"comments and blanks", "sanctioned_addresses_XBT.txt", "# header\n\n  1BoatSLRHtKNngkdXEeobR76b53LETtpyT  \r\n1BoatSLRHtKNngkdXEeobR76b53LETtpyT\n", 4, 0, ""},
		{"no final newline", "x.txt", "0x1111111111111111111111111111111111111111", 4, 0, ""},
		{"bad lines", "sanctioned_addresses_ETH.txt", "0x11 11\n" + long + "\nnot'anaddress0000000000\n0x1111111111111111111111111111111111111111\n", 4, 3, ""},
		{"json wrong types", "sanctioned_addresses_ETH.json", `["0x1111111111111111111111111111111111111111", 5, {"a":1}, null]`, 4, 3, ""},
		{"json truncated", "sanctioned_addresses_ETH.json", `["0x1111111111111111111111111111111111111111", "0x22`, 4, 0, "unexpected EOF"},
		{"json deep", "sanctioned_addresses_ETH.json", "[" + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "]", 0, 0, "exceeded max depth"},
		{"json object", "sanctioned_addresses_ETH.json", `[{"addr": "x"}`, 0, 1, "unexpected EOF"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, List, tc.path, []byte(tc.in))
			if tc.err == "" && r.Err != nil || tc.err != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), tc.err)) {
				t.Fatalf("err = %v, want %q", r.Err, tc.err)
			}
			if len(r.Objects) != tc.objs || len(r.Rejects) != tc.rejects {
				t.Errorf("%d objects, %d rejects %v; want %d, %d", len(r.Objects), len(r.Rejects), r.Rejects, tc.objs, tc.rejects)
			}
		})
	}
	// Line numbers of rejects.
	r := run(t, List, "sanctioned_addresses_ETH.txt", []byte("0x1111111111111111111111111111111111111111\n\nbad line\n"))
	if len(r.Rejects) != 1 || !strings.HasPrefix(r.Rejects[0].Err.Error(), "sanctioned_addresses_ETH.txt:3: address: ") {
		t.Errorf("rejects = %v", r.Rejects)
	}
	rj := run(t, List, "l.json", []byte("[\n\"0x1111111111111111111111111111111111111111\",\n  7\n]"))
	if len(rj.Rejects) != 1 || !strings.HasPrefix(rj.Rejects[0].Err.Error(), "l.json:3: [1]: ") {
		t.Errorf("rejects = %v", rj.Rejects)
	}
	// A 100 MB line and a 100 MB JSON string: refused without holding them.
	big := bytes.Repeat([]byte("B"), 100<<20)
	r = run(t, List, "sanctioned_addresses_XBT.txt", big)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "larger than") {
		t.Errorf("100 MB line: %v", r.Err)
	}
	bigJSON := append(append([]byte(`["`), big...), `"]`...)
	r = run(t, List, "sanctioned_addresses_XBT.json", bigJSON)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "larger than") {
		t.Errorf("100 MB JSON string: %v", r.Err)
	}
}

func TestSniff(t *testing.T) {
	fixture := readFile(t, "testdata/sdn_advanced.xml")
	cases := []struct {
		name string
		head string
		xml  bool
		list bool
		ent  bool
	}{
		{"sdn_advanced.xml", string(fixture), true, false, false},
		{"download.bin", string(fixture), true, false, false},
		{"addresses.txt", "0x098B716B8Aaf21512996dC57EB0615e2383E2f96\n1BoatSLRHtKNngkdXEeobR76b53LETtpyT\nbc1qtestfixtureshared0000000000000000000000\n", false, true, false},
		{"hashes.txt", "d41d8cd98f00b204e9800998ecf8427e\n", false, false, false},
		{"domains.txt", "example.com\nlazarus.example\n", false, false, false},
		{"list.json", `["0x098B716B8Aaf21512996dC57EB0615e2383E2f96"]`, false, true, false},
		{"strings.json", `["hello"]`, false, false, false},
		{"sanctioned_addresses_XMR.txt", "anything", false, true, false},
		{"map.json", `{"metadata":{"sdnListDate":"08/20/2026"},"addresses":{}}`, false, false, true},
		{"bundle.json", `{"type":"bundle","objects":[]}`, false, false, false},
		{"other.xml", `<SanctionsEntries xmlns="ofac"/>`, false, false, false},
		{"empty", "", false, false, false},
	}
	for _, tc := range cases {
		if got := XML.Sniff(tc.name, []byte(tc.head)); got != tc.xml {
			t.Errorf("XML.Sniff(%s) = %v", tc.name, got)
		}
		if got := List.Sniff(tc.name, []byte(tc.head)); got != tc.list {
			t.Errorf("List.Sniff(%s) = %v", tc.name, got)
		}
		if got := Entities.Sniff(tc.name, []byte(tc.head)); got != tc.ent {
			t.Errorf("Entities.Sniff(%s) = %v", tc.name, got)
		}
	}
}

func TestEntitiesCorpus(t *testing.T) {
	path := corpus.Path(t, "chain/ofac_sdn_entity_map/sanctioned-addresses.json")
	data := readFile(t, path)
	if !Entities.Sniff(path, data[:min(len(data), feed.SniffBytes)]) || List.Sniff(path, data) {
		t.Error("entity map not sniffed as ofac-entities only")
	}
	m, err := LoadEntityMap(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != 961 || m.Date != time.Date(2026, 8, 20, 0, 0, 0, 0, time.UTC) {
		t.Errorf("map: %d addresses, date %v", m.Len(), m.Date)
	}
	e := m.Lookup(ronin)
	if len(e) != 1 || e[0].Entity != "LAZARUS GROUP" || e[0].UID != "27307" || e[0].Asset != "ETH" ||
		!slices.Equal(e[0].Programs, []string{"DPRK3"}) || !slices.Contains(e[0].AKAs, "HIDDEN COBRA") || e[0].Person() {
		t.Errorf("Ronin entry = %+v", e)
	}

	r := run(t, Entities, path, data)
	if r.Err != nil || len(r.Rejects) != 0 {
		t.Fatalf("%v %v", r.Err, r.Rejects)
	}
	// 961 addresses; 13 are listed under two or three entries, of which some
	// share one asset: count (asset, address) pairs from the data itself.
	var doc struct {
		Addresses map[string]struct {
			Entries []struct {
				Type, Program string
			}
		}
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	pairs, dprk := 0, 0
	for _, v := range doc.Addresses {
		seen := map[string]bool{}
		for _, e := range v.Entries {
			if !seen[e.Type] {
				seen[e.Type] = true
				pairs++
			}
			if strings.Contains(e.Program, "DPRK") {
				dprk++
			}
		}
	}
	if dprk != 125 {
		t.Errorf("%d DPRK-program entries in the corpus, README says 125", dprk)
	}
	if n := len(r.ByType("indicator")); n != pairs {
		t.Errorf("%d indicators, want %d", n, pairs)
	}
	if n := len(r.ByType("cryptocurrency-wallet")); n != 961 {
		t.Errorf("%d SCOs, want 961", n)
	}
	lower := strings.ToLower(ronin)
	ind := r.ByID(indicatorFor("ETH", lower))
	lazarus := stix.DeterministicID("intrusion-set", "ofac-sdn", "27307")
	if ind == nil || ind.Name() != "OFAC SDN: LAZARUS GROUP (ETH)" || !ind.Created.Equal(m.Date) {
		t.Fatalf("Ronin indicator = %v", ind)
	}
	if !slices.Contains(r.Rels("indicates"), [2]string{ind.ID, lazarus}) {
		t.Error("Ronin indicator does not indicate LAZARUS GROUP")
	}
	ls := r.ByID(lazarus)
	if ls == nil || ls.Name() != "LAZARUS GROUP" || !slices.Contains(ls.Strings("aliases"), "HIDDEN COBRA") {
		t.Errorf("lazarus = %v", ls)
	}
	// People become individual identities.
	k := r.ByID(stix.DeterministicID("identity", "ofac-sdn", "29585"))
	if k == nil || k.Name() != "Dmitrii KARASAVIDI" || k.String("identity_class") != "individual" {
		t.Errorf("KARASAVIDI = %v", k)
	}
	// The same SDN party as the XML would give (ids from the uid).
	if lazarus != stix.DeterministicID("intrusion-set", "ofac-sdn", "27307") {
		t.Error("id scheme")
	}
}

func TestEntitiesHostile(t *testing.T) {
	cases := []struct {
		name, in string
		objs     int
		rejects  int
		err      string
	}{
		{"wrong entry types", `{"metadata":{"sdnListDate":"01/02/2025"},"addresses":{
"0x1111111111111111111111111111111111111111":{"type":"Digital Currency Address - ETH","entries":[{"entity":"GOOD CO","program":"CYBER2","type":"Digital Currency Address - ETH","uid":"1"}]},
"0x2222222222222222222222222222222222222222":{"entries":"no"},
"0x3333333333333333333333333333333333333333":{"entries":[{"entity":"X","type":"Passport"}]},
"0x4444444444444444444444444444444444444444":{"entries":[]},
"0x5555555555555555555555555555555555555555":5}}`, 6, 4, ""},
		{"bad date", `{"metadata":{"sdnListDate":"2025-01-02"},"addresses":{}}`, 0, 1, ""},
		{"truncated", `{"metadata":{},"addresses":{"0x1111111111111111111111111111111111111111":{"entries":[{"entity":"GOOD CO","type":"Digital Currency Address - ETH"}]},"0x22`, 6, 0, "unexpected EOF"},
		{"not object", `[1,2]`, 0, 0, "not a JSON object"},
		{"no addresses", `{"metadata":{}}`, 0, 0, "addresses: missing"},
		{"addresses array", `{"addresses":[]}`, 0, 0, "want an object"},
		{"deep", `{"addresses":{"a":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}}`, 0, 0, "exceeded max depth"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, Entities, "map.json", []byte(tc.in))
			if tc.err == "" && r.Err != nil || tc.err != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), tc.err)) {
				t.Fatalf("err = %v, want %q", r.Err, tc.err)
			}
			if len(r.Objects) != tc.objs || len(r.Rejects) != tc.rejects {
				t.Errorf("%d objects, %d rejects %v; want %d, %d", len(r.Objects), len(r.Rejects), r.Rejects, tc.objs, tc.rejects)
			}
		})
	}
	r := run(t, Entities, "map.json", []byte("{\"addresses\":{\n\"a\":{\"entries\":\"no\"}}}"))
	if len(r.Rejects) != 1 || !strings.HasPrefix(r.Rejects[0].Err.Error(), "map.json:2: addresses.a: ") {
		t.Errorf("rejects = %v", r.Rejects)
	}
	big := `{"addresses":{"` + strings.Repeat("x", 100<<20) + `":{}}}`
	r = run(t, Entities, "map.json", []byte(big))
	if r.Err == nil || !strings.Contains(r.Err.Error(), "larger than") {
		t.Errorf("100 MB key: %v", r.Err)
	}
}

func TestTLPAndName(t *testing.T) {
	var objs []*stix.Object
	err := List.Read(context.Background(), feed.Source{Path: "sanctioned_addresses_ETH.txt", R: strings.NewReader(ronin + "\n"), Time: mtime, TLP: stix.TLPGreen, Name: "Treasury mirror"},
		func(it feed.Item) error {
			if it.Object != nil {
				objs = append(objs, it.Object)
			}
			if it.Prov.Source != "Treasury mirror" {
				t.Errorf("provenance source %q", it.Prov.Source)
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if objs[0].Name() != "Treasury mirror" {
		t.Errorf("identity name %q", objs[0].Name())
	}
	for _, o := range objs {
		if !stix.IsSCO(o.Type) && !slices.Equal(o.ObjectMarkingRefs, []string{stix.TLP2Green}) {
			t.Errorf("%s marked %v", o.Type, o.ObjectMarkingRefs)
		}
	}
}

func TestYieldErrorStops(t *testing.T) {
	stop := errors.New("stop")
	for _, f := range []struct {
		f    feed.Format
		path string
	}{{XML, "testdata/sdn_advanced.xml"}} {
		n := 0
		err := f.f.Read(context.Background(), feed.Source{Path: f.path, R: bytes.NewReader(readFile(t, f.path)), Time: mtime}, func(feed.Item) error {
			n++
			if n == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 3 {
			t.Errorf("%s: err %v after %d items", f.f.Name, err, n)
		}
	}
}
