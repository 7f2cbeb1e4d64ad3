package csvlist

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/corpus"
	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

var fixedTime = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

type result struct {
	objects []*stix.Object
	rejects []*feed.LineError
	byType  map[string]int
	byName  map[string]*stix.Object // indicators by name
}

func (r *result) ofType(typ string) []*stix.Object {
	var out []*stix.Object
	for _, o := range r.objects {
		if o.Type == typ {
			out = append(out, o)
		}
	}
	return out
}

func read(t testing.TB, format feed.Format, src feed.Source) *result {
	t.Helper()
	if src.Time.IsZero() {
		src.Time = fixedTime
	}
	res := &result{byType: map[string]int{}, byName: map[string]*stix.Object{}}
	err := format.Read(context.Background(), src, func(it feed.Item) error {
		if it.Err != nil {
			var le *feed.LineError
			if !errors.As(it.Err, &le) {
				t.Fatalf("rejection is not a LineError: %v", it.Err)
			}
			if le.File == "" || le.Line <= 0 {
				t.Errorf("rejection without file and line: %v", it.Err)
			}
			res.rejects = append(res.rejects, le)
			return nil
		}
		if it.Object == nil {
			t.Fatal("item with neither object nor error")
		}
		if err := stix.Validate(it.Object); err != nil {
			t.Errorf("yielded invalid %s: %v", it.Object.ID, err)
		}
		res.objects = append(res.objects, it.Object)
		res.byType[it.Object.Type]++
		if it.Object.Type == "indicator" {
			res.byName[it.Object.String("name")] = it.Object
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return res
}

func readFile(t testing.TB, path string) *result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return read(t, Format, feed.Source{Path: path, R: f})
}

func hasRef(o *stix.Object, url string) bool {
	for _, r := range o.ExternalReferences {
		if r.URL == url {
			return true
		}
	}
	return false
}

func TestMaltrailDPRK(t *testing.T) {
	tests := []struct {
		file        string
		indicators  int
		rejects     int // path-only trails ("/update/49890878"): no host to match
		actor       string
		category    string
		value, ref  string // a known value and the reference above it
		wantPattern string
	}{
		{"static__malware__apt_lazarus.txt", 5349, 99, "lazarus", "malware",
			"celasllc.com", "https://securelist.com/operation-applejeus/87553/", "[domain-name:value = 'celasllc.com']"},
		{"static__malware__apt_kimsuky.txt", 25993, 111, "kimsuky", "malware", "", "", ""},
		{"static__malware__apt_bluenoroff.txt", 2107, 8, "bluenoroff", "malware", "", "", ""},
		{"static__malware__apt_stonefly.txt", 8, 0, "stonefly", "malware",
			"216.120.201.112:443", "https://www.virustotal.com/gui/ip-address/216.120.201.112/relations",
			"[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '216.120.201.112' AND network-traffic:dst_port = 443]"},
		{"static__malware__apt_onyxsleet.txt", 2, 0, "onyxsleet", "malware", "", "", ""},
		{"static__malware__apt_unc2970.txt", 13, 0, "unc2970", "malware", "", "", ""},
		{"static__malware__apt_unc4899.txt", 28, 0, "unc4899", "malware", "", "", ""},
		{"static__malware__konni.txt", 370, 17, "", "malware", "", "", ""},
		{"static__malware__android_lazarus.txt", 85, 0, "", "malware", "", "", ""},
		{"static__malware__hacked_3cx.txt", 25, 0, "", "malware", "", "", ""},
		{"static__suspicious__dprk_silivaccine.txt", 1, 1, "", "suspicious",
			"office360s.ignorelist.com", "https://research.checkpoint.com/silivaccine-a-look-inside-north-koreas-anti-virus/", ""},
		{"custom__dprk.txt", 1, 0, "", "", "175.45.177.138", "", "[ipv4-addr:value = '175.45.177.138']"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res := readFile(t, corpus.Path(t, "detect/iocs/maltrail/"+tt.file))
			if got := res.byType["indicator"]; got != tt.indicators {
				t.Errorf("indicators = %d, want %d", got, tt.indicators)
			}
			if got := len(res.rejects); got != tt.rejects {
				t.Errorf("rejects = %d, want %d (first: %v)", got, tt.rejects, res.rejects)
			}
			if tt.indicators > 50 && len(res.rejects)*100 > 5*(tt.indicators+len(res.rejects)) {
				t.Errorf("rejects %d exceed 5%%", len(res.rejects))
			}
			for _, r := range res.rejects {
				if !errors.Is(r, ErrPathOnly) {
					t.Errorf("unexpected rejection: %v", r)
				}
			}
			ids := res.ofType("identity")
			if len(ids) != 1 || ids[0].String("name") != "maltrail" {
				t.Fatalf("identities = %v", ids)
			}
			sets := res.ofType("intrusion-set")
			if tt.actor == "" {
				if len(sets) != 0 {
					t.Errorf("intrusion-sets %d, want none", len(sets))
				}
			} else {
				if len(sets) != 1 || sets[0].String("name") != tt.actor {
					t.Fatalf("intrusion-sets = %v, want one named %q", sets, tt.actor)
				}
				if want := stix.DeterministicID("intrusion-set", "actor", "maltrail", stix.NormalizeName(tt.actor)); sets[0].ID != want {
					t.Errorf("intrusion-set id %s, want %s", sets[0].ID, want)
				}
				if got := res.byType["relationship"]; got != tt.indicators {
					t.Errorf("relationships = %d, want one per indicator (%d)", got, tt.indicators)
				}
			}
			for _, o := range res.ofType("indicator") {
				if o.CreatedByRef != ids[0].ID || !o.Created.Equal(fixedTime) || !o.Modified.Equal(fixedTime) {
					t.Fatalf("indicator %s: created_by_ref %s created %v", o.ID, o.CreatedByRef, o.Created)
				}
				if tt.category != "" && (len(o.Labels) != 2 || o.Labels[1] != tt.category) {
					t.Fatalf("indicator %s labels %v", o.ID, o.Labels)
				}
			}
			if tt.value != "" {
				o := res.byName[tt.value]
				if o == nil {
					t.Fatalf("no indicator for %s", tt.value)
				}
				if tt.ref != "" && !hasRef(o, tt.ref) {
					t.Errorf("%s references %v, want %s", tt.value, o.ExternalReferences, tt.ref)
				}
				if tt.wantPattern != "" && o.String("pattern") != tt.wantPattern {
					t.Errorf("%s pattern %s", tt.value, o.String("pattern"))
				}
			}
		})
	}
}

func TestMaltrailDetails(t *testing.T) {
	res := readFile(t, corpus.Path(t, "detect/iocs/maltrail/static__malware__apt_lazarus.txt"))
	set := res.ofType("intrusion-set")[0]
	aliases := set.Strings("aliases")
	if len(aliases) < 50 || aliases[0] != "appleworm" || !strings.Contains(strings.Join(aliases, "|"), "tradertraitor") {
		t.Errorf("lazarus aliases %d: %v", len(aliases), aliases)
	}
	// Scheme-less URL trail kept as written, host lower-cased.
	if o := res.byName["engpro.xyz/images/detail.php"]; o == nil || o.String("pattern") != "[url:value = 'engpro.xyz/images/detail.php']" {
		t.Errorf("Engpro.xyz URL trail: %v", o)
	}
	if o := res.byName["http://137.117.57.244:8080/ServiceDeskPlus/products.do"]; o == nil {
		t.Error("URL with scheme and port missing")
	}
	// The indicator's id is derived from source, kind and value.
	o := res.byName["celasllc.com"]
	if want := stix.DeterministicID("indicator", "maltrail", "domain-name", "celasllc.com"); o.ID != want {
		t.Errorf("id %s, want %s", o.ID, want)
	}
	if o.String("description") != "lazarus (malware)" {
		t.Errorf("description %q", o.String("description"))
	}
}

func TestESETHashLists(t *testing.T) {
	tests := []struct {
		file  string
		n     int
		kind  string
		first string
	}{
		{"nukesped_lazarus_samples.sha256", 555, "SHA-256", "6471f3898e63c2a9af25284253dc087dfda94809182c45728b3adc40e238c7f6"},
		{"nukesped_lazarus_samples.md5", 555, "MD5", "0889a7ad0ad0822e9bce2ca316b57f4d"},
		{"scarcruft_samples.sha256", 5, "SHA-256", "486bd76669fc2c0adc25a5498b42c1df5fc90514866d78318f8954aa0c67eacc"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := corpus.Path(t, "detect/iocs/eset/"+tt.file)
			head, _ := os.ReadFile(path)
			if !Sniff(path, head) {
				t.Error("Sniff refused a hash list")
			}
			res := readFile(t, path)
			if res.byType["indicator"] != tt.n || len(res.rejects) != 0 {
				t.Fatalf("indicators %d rejects %d, want %d and 0", res.byType["indicator"], len(res.rejects), tt.n)
			}
			for _, o := range res.ofType("indicator") {
				if !strings.Contains(o.String("pattern"), tt.kind) {
					t.Fatalf("pattern %s is not %s", o.String("pattern"), tt.kind)
				}
			}
			if res.byName[tt.first] == nil {
				t.Errorf("%s missing", tt.first)
			}
		})
	}
}

func TestFBIBybitWallets(t *testing.T) {
	res := readFile(t, corpus.Path(t, "chain/fbi_bybit_psa250226/fbi_psa250226_bybit_eth_addresses.txt"))
	inds := res.ofType("indicator")
	if len(inds) != 51 || len(res.rejects) != 0 {
		t.Fatalf("indicators %d rejects %d, want 51 and 0", len(inds), len(res.rejects))
	}
	for _, o := range inds {
		if !strings.HasPrefix(o.String("pattern"), "[cryptocurrency-wallet:value = '0x") {
			t.Fatalf("pattern %s", o.String("pattern"))
		}
	}
	o := res.byName["0x51e9d833ecae4e8d9d8be17300aee6d3398c135d"]
	if o == nil || o.String("pattern") != "[cryptocurrency-wallet:value = '0x51e9d833ecae4e8d9d8be17300aee6d3398c135d']" {
		t.Errorf("first FBI address: %v", o)
	}
}

func TestOFACAddressesDetect(t *testing.T) {
	// Every Bitcoin and TRON address OFAC lists passes the checksum tests.
	for _, f := range []string{"sanctioned_addresses_XBT.txt", "sanctioned_addresses_TRX.txt"} {
		data, err := os.ReadFile(corpus.Path(t, "chain/ofac_0xB10C_lists/"+f))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, line := range strings.Fields(string(data)) {
			line = strings.Trim(line, `[]",`)
			if line == "" {
				continue
			}
			n++
			if kind, _, ok := Detect(line); !ok || kind != feed.KindWallet {
				_, err := Parse(line)
				t.Errorf("%s: %q not detected as a wallet: %v", f, line, err)
			}
		}
		if n < 5 {
			t.Errorf("%s: only %d addresses", f, n)
		}
	}
}

func TestLoki(t *testing.T) {
	dir := "detect/iocs/signature-base-loki/"
	c2 := readFile(t, corpus.Path(t, dir+"c2-iocs.dprk-subset.txt"))
	if c2.byType["indicator"] != 36 || len(c2.rejects) != 0 {
		t.Errorf("c2: %d indicators, %d rejects", c2.byType["indicator"], len(c2.rejects))
	}
	if ids := c2.ofType("identity"); len(ids) != 1 || ids[0].String("name") != "loki" {
		t.Errorf("c2 identity %v", ids)
	}
	o := c2.byName["krakenfolio.com"]
	if o == nil || !hasRef(o, "https://blog.google/threat-analysis-group/new-campaign-targeting-security-researchers/") ||
		!strings.HasPrefix(o.String("description"), "Lazarus Campaign targeting Security Researchers") {
		t.Errorf("krakenfolio.com: %v", o)
	}

	hashes := readFile(t, corpus.Path(t, dir+"hash-iocs.dprk-subset.txt"))
	if hashes.byType["indicator"] != 223 || len(hashes.rejects) != 0 {
		t.Errorf("hashes: %d indicators, %d rejects", hashes.byType["indicator"], len(hashes.rejects))
	}
	o = hashes.byName["b191cc4d73a247afe0a62a8c38dc9137"]
	if o == nil || !hasRef(o, "https://securelist.com/lazarus-threatneedle/100803/") ||
		!strings.HasPrefix(o.String("description"), `Threat Needle - Installer - %APPDATA%\Microsoft\DRM\logon.bin`) {
		t.Errorf("Threat Needle hash: %v", o)
	}
	if o := hashes.byName["c781f5fad9b47232b3606e4d374900cd"]; o == nil { // "C781…" upper-case in the file
		t.Error("upper-case MD5 not normalised")
	}

	names := readFile(t, corpus.Path(t, dir+"filename-iocs.dprk-subset.txt"))
	if len(names.objects) != 0 || len(names.rejects) != 6 {
		t.Errorf("filename-iocs: %d objects, %d rejects, want 0 and 6", len(names.objects), len(names.rejects))
	}
	for _, r := range names.rejects {
		if !errors.Is(r, errLokiRegex) {
			t.Errorf("filename-iocs rejection: %v", r)
		}
	}
}

func TestVolexityCSV(t *testing.T) {
	res := readFile(t, corpus.Path(t, "detect/iocs/volexity-3cx/iocs.csv"))
	// 23 hostnames, 5 e-mail addresses, 6 files × (SHA-256, SHA-1, MD5).
	if res.byType["indicator"] != 46 || len(res.rejects) != 0 {
		t.Fatalf("indicators %d rejects %v", res.byType["indicator"], res.rejects)
	}
	if o := res.byName["philip.je@proton.me"]; o == nil || o.String("pattern") != "[email-addr:value = 'philip.je@proton.me']" {
		t.Errorf("email: %v", o)
	}
	o := res.byName["7faea2b01796b80d180399040bb69835"]
	if o == nil || o.String("description") != "ICONIC Stealer payload" {
		t.Errorf("ICONIC MD5: %v", o)
	}
}

func TestCSVFixture(t *testing.T) {
	res := readFile(t, "testdata/indicators.csv")
	if got := res.byType["indicator"]; got != 8 {
		t.Errorf("indicators = %d, want 8: %v", got, keys(res.byName))
	}
	if got := res.byType["intrusion-set"]; got != 2 {
		t.Errorf("intrusion-sets = %d, want 2", got)
	}
	if got := res.byType["relationship"]; got != 4 {
		t.Errorf("relationships = %d, want 4", got)
	}
	wantRejects := map[int]string{
		11: "column indicator", 13: "record", 14: "column type", 15: "column tlp",
		16: "column first_seen", 17: "column confidence", 18: "column indicator", 19: "column indicator",
	}
	if len(res.rejects) != len(wantRejects) {
		t.Errorf("rejects = %d, want %d: %v", len(res.rejects), len(wantRejects), res.rejects)
	}
	for _, r := range res.rejects {
		if wantRejects[r.Line] != r.Field {
			t.Errorf("reject %v: want field %q at line %d", r, wantRejects[r.Line], r.Line)
		}
	}
	ids := res.ofType("identity")
	if len(ids) != 1 || ids[0].String("name") != "indicators" {
		t.Fatalf("identity %v", ids)
	}

	d := res.byName["update-check.example-bad.com"]
	if d == nil {
		t.Fatal("domain missing")
	}
	if d.String("description") != `Staging domain, seen in "AppleJeus" lures` || *d.Confidence != 85 ||
		d.String("valid_from") != "2024-03-01T00:00:00.000Z" || len(d.ObjectMarkingRefs) != 1 || d.ObjectMarkingRefs[0] != stix.TLP2Amber {
		t.Errorf("domain row: %s", d.Raw)
	}
	ip := res.byName["198.51.100.23"]
	if ip == nil || ip.String("description") != "C2 server" || ip.ObjectMarkingRefs[0] != stix.TLP2Green {
		t.Errorf("ip row (first occurrence wins): %v", ip)
	}
	if u := res.byName["https://login-portal.example-bad.net/auth?id=1"]; u == nil || len(u.ObjectMarkingRefs) != 0 {
		t.Errorf("defanged URL: %v", u)
	}
	if res.byName["0x098b716b8aaf21512996dc57eb0615e2383e2f96"] == nil {
		t.Error("ETH address missing")
	}
	if res.byName["evil.zip"] == nil {
		t.Error("declared domain evil.zip missing")
	}
	if c := res.byName["203.0.113.0/24"]; c == nil || c.String("pattern") != "[ipv4-addr:value = '203.0.113.0/24']" {
		t.Errorf("CIDR: %v", c)
	}
	if h := res.byName["d41d8cd98f00b204e9800998ecf8427e"]; h == nil || h.String("description") != "A description\nspanning two lines" {
		t.Errorf("multi-line record: %v", h)
	}
	if res.byName["mail.example-bad.com"] == nil {
		t.Error("detected domain missing")
	}

	var lazarus string
	for _, o := range res.ofType("intrusion-set") {
		if o.String("name") == "Lazarus Group" {
			lazarus = o.ID
		}
	}
	n := 0
	for _, r := range res.ofType("relationship") {
		if r.String("target_ref") == lazarus && r.String("relationship_type") == "indicates" {
			n++
		}
	}
	if n != 3 {
		t.Errorf("indicates Lazarus Group: %d, want 3", n)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestHeaderlessCSV(t *testing.T) {
	res := readFile(t, "testdata/noheader.csv")
	if res.byType["indicator"] != 3 || len(res.rejects) != 1 || res.rejects[0].Line != 4 || res.rejects[0].Field != "column 1" {
		t.Fatalf("indicators %d rejects %v", res.byType["indicator"], res.rejects)
	}
	if o := res.byName["evil-one.example.com"]; o == nil || o.String("description") != "seen 2024" {
		t.Errorf("first row: %v", o)
	}
	// Without a .csv name the first data line decides.
	f, _ := os.ReadFile("testdata/noheader.csv")
	res2 := read(t, Format, feed.Source{Path: "list", R: bytes.NewReader(f)})
	if res2.byType["indicator"] != 3 {
		t.Errorf("auto-detected CSV: %d indicators", res2.byType["indicator"])
	}
}

func TestIdempotent(t *testing.T) {
	path := "testdata/indicators.csv"
	a, b := readFile(t, path), readFile(t, path)
	if len(a.objects) != len(b.objects) {
		t.Fatal("different object counts")
	}
	for i := range a.objects {
		if !bytes.Equal(a.objects[i].Raw, b.objects[i].Raw) {
			t.Errorf("object %d differs:\n%s\n%s", i, a.objects[i].Raw, b.objects[i].Raw)
		}
	}
}

func TestSourceOptions(t *testing.T) {
	res := read(t, Text, feed.Source{Path: "x.list", R: strings.NewReader("evil.com\n"), Name: "Partner X", TLP: stix.TLPRed})
	o := res.byName["evil.com"]
	if o == nil || len(o.ObjectMarkingRefs) != 1 || o.ObjectMarkingRefs[0] != stix.TLP2Red {
		t.Fatalf("TLP not applied: %v", o)
	}
	if o.ID != stix.DeterministicID("indicator", "Partner X", "domain-name", "evil.com") {
		t.Error("id not derived from the source name")
	}
	if id := res.ofType("identity"); len(id) != 1 || id[0].String("name") != "Partner X" || o.CreatedByRef != id[0].ID {
		t.Errorf("identity %v", id)
	}
	// Text never switches to CSV: the comma line is one (bad) value.
	res = read(t, Text, feed.Source{Path: "x.csv", R: strings.NewReader("value,type\nevil.com,domain\n")})
	if len(res.rejects) != 2 {
		t.Errorf("Text on CSV: %d rejects", len(res.rejects))
	}
}

// repeatReader yields n bytes of b repeated, without allocating them.
type repeatReader struct {
	b byte
	n int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	for i := range p {
		p[i] = r.b
	}
	r.n -= int64(len(p))
	return len(p), nil
}

func TestHostile(t *testing.T) {
	garbage := make([]byte, 1<<20)
	rand.New(rand.NewSource(1)).Read(garbage)
	tests := []struct {
		name       string
		path       string
		r          io.Reader
		indicators int
		rejects    int
		rejectLine int // line of the first rejection
	}{
		{"100 MB line", "big.txt", io.MultiReader(strings.NewReader("first.example.com\n"), &repeatReader{'a', 100 << 20},
			strings.NewReader("\nlast.example.com\n")), 2, 1, 2},
		{"1 MB line in CSV", "big.csv", io.MultiReader(strings.NewReader("value,type\nfirst.example.com,domain\n"), &repeatReader{'x', 1 << 20},
			strings.NewReader("\nlast.example.com,domain\n")), 2, 1, 3},
		{"NUL bytes", "nul.txt", strings.NewReader("evil.com\x00\nok.example.com\n\x00\x00\x00\n"), 1, 2, 1},
		{"CRLF", "crlf.txt", strings.NewReader("# c\r\nevil.com\r\n\r\n1.2.3.4\r\n"), 2, 0, 0},
		{"unterminated quote", "q.csv", strings.NewReader("value,description\nevil.com,\"never closed\nok.example.com,fine\n"), 0, 1, 2},
		{"bare quote", "q2.csv", strings.NewReader("value,description\nevil.com,a \"quoted\" word\"\nok.example.com,fine\n"), 1, 1, 2},
		{"binary garbage", "garbage.bin", bytes.NewReader(garbage), 0, -1, 1},
		{"only comments", "c.txt", strings.NewReader("# nothing\n#\n"), 0, 0, 0},
		{"empty", "e.txt", strings.NewReader(""), 0, 0, 0},
		{"no final newline", "n.txt", strings.NewReader("evil.com"), 1, 0, 0},
		{"BOM", "bom.csv", strings.NewReader("\xef\xbb\xbfValue,TLP\nevil.com,TLP:GREEN\n"), 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := read(t, Format, feed.Source{Path: tt.path, R: tt.r})
			if got := res.byType["indicator"]; got != tt.indicators {
				t.Errorf("indicators = %d, want %d", got, tt.indicators)
			}
			if tt.rejects >= 0 && len(res.rejects) != tt.rejects {
				t.Errorf("rejects = %d, want %d: %v", len(res.rejects), tt.rejects, res.rejects)
			}
			if tt.rejects != 0 && (len(res.rejects) == 0 || res.rejects[0].Line != tt.rejectLine) {
				t.Errorf("first rejection %v, want line %d", res.rejects, tt.rejectLine)
			}
		})
	}
}

func TestLongLineMessage(t *testing.T) {
	res := read(t, Format, feed.Source{Path: "big.txt", R: io.MultiReader(&repeatReader{'a', 1 << 20}, strings.NewReader("\n"))})
	if len(res.rejects) != 1 || !strings.Contains(res.rejects[0].Error(), "big.txt:1: line: line longer than 65536 bytes") {
		t.Errorf("rejects %v", res.rejects)
	}
}

func TestContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Read(ctx, feed.Source{Path: "x", R: &repeatReader{'\n', 1 << 20}, Time: fixedTime}, func(feed.Item) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name, head string
		want       bool
	}{
		{"iocs.csv", "value,entity_type,description\n", true},
		{"list", "# comment\nevil.com\n1.2.3.4\nhttp://x.example.org/a\n", true},
		{"samples.sha256", "6471f3898e63c2a9af25284253dc087dfda94809182c45728b3adc40e238c7f6\n", true},
		{"wallets", "0x51E9d833Ecae4E8D9D8Be17300AEE6D3398C135D\n", true},
		{"export", "Indicator,Type\nevil.com,domain\n", true},
		{"bundle.txt", `{"type":"bundle","objects":[]}`, false},
		{"arr.csv", "[1,2]", false},
		{"feed.txt", "<?xml version=\"1.0\"?><x/>", false},
		{"tagpack.txt", "title: Lazarus\ntags:\n  - address: 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa\n", false},
		{"doc.yaml", "---\nfoo: bar\n", false},
		{"LICENSE.txt", "Permission is hereby granted\nfree of charge\n", false},
		{"notes", "hello world\nthis is prose\n", false},
		{"bin", "evil.com\x00\x01", false},
		{"empty", "", false},
		{"rules", "alert http any any -> any any (msg:\"x\";)\n", false},
	}
	for _, tt := range tests {
		if got := Sniff(tt.name, []byte(tt.head)); got != tt.want {
			t.Errorf("Sniff(%q, %q) = %v, want %v", tt.name, tt.head, got, tt.want)
		}
	}
}

func TestSniffCorpus(t *testing.T) {
	for rel, want := range map[string]bool{
		"detect/iocs/eset/nukesped_lazarus_lazarus_3cx.json":      false,
		"detect/iocs/volexity-3cx/suri.rules":                     false,
		"detect/iocs/maltrail/LICENSE-MIT.txt":                    false,
		"detect/iocs/maltrail/static__malware__apt_lazarus.txt":   true,
		"detect/iocs/signature-base-loki/c2-iocs.dprk-subset.txt": true,
	} {
		path := corpus.Path(t, rel)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, feed.SniffBytes)
		n, _ := io.ReadFull(f, head)
		f.Close()
		if got := Sniff(filepath.Base(path), head[:n]); got != want {
			t.Errorf("Sniff(%s) = %v, want %v", rel, got, want)
		}
	}
}

func TestOpenQuote(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`a,b`, false},
		{`a,"b`, true},
		{`a,"b""c`, true},
		{`a,"b""c"`, false},
		{`a,"b"""`, false},
		{`a,b"c`, false},
		{`a, "b`, true},
		{"a,\"b\nc\",d", false},
		{`"`, true},
		{`""`, false},
	}
	for _, tt := range tests {
		if got := openQuote(tt.in, ','); got != tt.want {
			t.Errorf("openQuote(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
