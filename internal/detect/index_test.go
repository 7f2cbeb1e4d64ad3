package detect

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/stix"
)

func indicator(t testing.TB, id, pat string, extra map[string]any) *stix.Object {
	t.Helper()
	m := map[string]any{"type": "indicator", "spec_version": "2.1",
		"id":      "indicator--" + fmt.Sprintf("%08d-0000-4000-8000-000000000000", len(id)*1000+int(id[0])),
		"created": "2024-01-01T00:00:00Z", "modified": "2024-01-01T00:00:00Z",
		"name": id, "pattern": pat, "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"}
	for k, v := range extra {
		m[k] = v
	}
	raw, _ := json.Marshal(m)
	o, err := stix.Parse(raw)
	if err != nil {
		t.Fatalf("%s: %v", pat, err)
	}
	return o
}

// matchNames runs the index over one event built from (target, value) pairs.
func matchNames(x *Index, fields ...any) []string {
	var ev Event
	ev.Reset(256)
	for i := 0; i < len(fields); i += 2 {
		ev.Add(fields[i].(*Target), []byte(fields[i+1].(string)))
	}
	ev.finish()
	var s Scratch
	var got []string
	x.Match(&ev, &s, func(f *Field, v []byte, r Ref) { got = append(got, x.Indicator(r).Name) })
	sort.Strings(got)
	return got
}

func TestIndex(t *testing.T) {
	ip := &Target{Name: "ip", Kind: KindIP}
	dst := &Target{Name: "dst", Kind: KindIP, Role: RoleDst}
	dport := &Target{Name: "dport", Kind: KindDstPort}
	dom := &Target{Name: "query", Kind: KindDomain}
	host := &Target{Name: "host", Kind: KindHost}
	uri := &Target{Name: "uri", Kind: KindURI}
	u := &Target{Name: "url", Kind: KindURL}
	hashes := &Target{Name: "Hashes", Kind: KindHashes}
	sha := &Target{Name: "sha256", Kind: KindSHA256}
	mail := &Target{Name: "from", Kind: KindEmail}
	wal := &Target{Name: "addr", Kind: KindWallet}
	cmd := &Target{Name: "CommandLine", Kind: KindOther, Path: "process:command_line"}

	objs := []*stix.Object{
		indicator(t, "ip1", "[ipv4-addr:value = '1.2.3.4']", nil),
		indicator(t, "net", "[ipv4-addr:value = '10.20.0.0/16']", nil),
		indicator(t, "net8", "[ipv4-addr:value ISSUBSET '10.0.0.0/8']", nil),
		indicator(t, "v6", "[ipv6-addr:value = '2001:DB8::1']", nil),
		indicator(t, "evil", "[domain-name:value = 'Evil.COM']", nil),
		indicator(t, "url1", "[url:value = 'HTTP://Bad.Example.org:80/x/y.php?a=1']", nil),
		indicator(t, "urlns", "[url:value = 'payload.example.net/dl/a.bin']", nil),
		indicator(t, "sha", "[file:hashes.'SHA-256' = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']", nil),
		indicator(t, "md5", "[file:hashes.MD5 = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb']", nil),
		indicator(t, "mail", "[email-addr:value = 'Recruiter@Lure.example']", nil),
		indicator(t, "evm", "[cryptocurrency-wallet:value = '0x098B716B8Aaf21512996dC57EB0615e2383E2f96']", nil),
		indicator(t, "btc", "[cryptocurrency-wallet:value = '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2']", nil),
		indicator(t, "sock", "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '5.6.7.8' AND network-traffic:dst_port = 443]", nil),
		indicator(t, "like", "[domain-name:value LIKE '%.dprk-like.example']", nil),
		indicator(t, "cmd", "[process:command_line = 'evil.exe -x']", nil),
		indicator(t, "or", "[ipv4-addr:value = '9.9.9.9' OR domain-name:value = 'or.example'] OR [url:value = 'http://or.example/z']", nil),
		indicator(t, "expired", "[ipv4-addr:value = '7.7.7.7']", map[string]any{"valid_until": "2024-06-01T00:00:00Z"}),
		indicator(t, "revoked", "[ipv4-addr:value = '8.8.4.4']", map[string]any{"revoked": true}),
	}
	x, err := Compile(objs, Options{Now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if x.Stats.Expired != 1 || x.Stats.Revoked != 1 || x.Stats.Unanchored != 1 || x.Stats.Candidates != 1 || len(x.Stats.Invalid) != 0 {
		t.Fatalf("stats %+v", x.Stats)
	}
	tests := []struct {
		name   string
		fields []any
		want   string
	}{
		{"ip exact", []any{ip, "1.2.3.4"}, "ip1"},
		{"ip no substring", []any{ip, "11.2.3.45"}, ""},
		{"ip prefix of other", []any{ip, "1.2.3.40"}, ""},
		{"ip leading zero is not 1.2.3.4", []any{ip, "01.2.3.4"}, ""},
		{"cidr /16 and /8", []any{ip, "10.20.30.40"}, "net,net8"},
		{"cidr /8 only", []any{ip, "10.21.0.1"}, "net8"},
		{"outside cidr", []any{ip, "11.20.0.1"}, ""},
		{"ipv6 normalised", []any{ip, "2001:db8:0:0::1"}, "v6"},
		{"domain exact, case", []any{dom, "EVIL.com."}, "evil"},
		{"domain parent", []any{dom, "a.b.evil.com"}, "evil"},
		{"not a label boundary", []any{dom, "notevil.com"}, ""},
		{"suffix only", []any{dom, "evil.com.au"}, ""},
		{"host as IP", []any{host, "1.2.3.4:8080"}, "ip1"},
		{"host domain with port", []any{host, "x.evil.com:8443"}, "evil"},
		{"url normalised", []any{u, "http://BAD.example.org/x/y.php?a=1"}, "url1"},
		{"url other query", []any{u, "http://bad.example.org/x/y.php?a=2"}, ""},
		{"url host is domain", []any{u, "https://www.evil.com/login"}, "evil"},
		{"scheme-less indicator, any scheme", []any{u, "https://payload.example.net/dl/a.bin"}, "urlns"},
		{"host+uri joined", []any{host, "payload.example.net", uri, "/dl/a.bin"}, "urlns"},
		{"sha256 upper", []any{sha, strings.Repeat("A", 64)}, "sha"},
		{"sysmon hashes", []any{hashes, "SHA1=00,MD5=BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB,IMPHASH=11"}, "md5"},
		{"hash prefix", []any{sha, strings.Repeat("a", 63)}, ""},
		{"email in angle brackets", []any{mail, "HR <recruiter@lure.EXAMPLE>"}, "mail"},
		{"evm any case", []any{wal, "0x098b716b8aaf21512996dc57eb0615e2383e2f96"}, "evm"},
		{"base58 case kept", []any{wal, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"}, "btc"},
		{"base58 other case", []any{wal, "1bvbmseystwetqtfn5au4m4gfg7xjanvn2"}, ""},
		{"socket confirmed", []any{dst, "5.6.7.8", dport, "443"}, "sock"},
		{"socket wrong port", []any{dst, "5.6.7.8", dport, "80"}, ""},
		{"unanchored LIKE", []any{dom, "c2.dprk-like.example"}, "like"},
		{"other path exact", []any{cmd, "evil.exe -x"}, "cmd"},
		{"or across brackets", []any{u, "http://or.example/z"}, "or"},
		{"or domain", []any{dom, "sub.or.example"}, "or"},
		{"expired skipped", []any{ip, "7.7.7.7"}, ""},
		{"revoked skipped", []any{ip, "8.8.4.4"}, ""},
		{"once per indicator", []any{ip, "1.2.3.4", host, "1.2.3.4"}, "ip1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(matchNames(x, tc.fields...), ",")
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCompileInvalid(t *testing.T) {
	x, _ := Compile([]*stix.Object{
		indicator(t, "bad", "[ipv4-addr:value = '1.2.3.4'", nil),
		indicator(t, "ok", "[ipv4-addr:value = '1.2.3.4']", nil),
	}, Options{})
	if len(x.Stats.Invalid) != 1 || x.Stats.Indicators != 1 {
		t.Fatalf("%+v", x.Stats)
	}
}

// TestLargeIndex: past the size where look-ups go through the filter,
// every indexed value is still found, and near misses are not.
func TestLargeIndex(t *testing.T) {
	n := 2*filterMin + 123
	x, doms := domainListIndex(t, n)
	if x.tab.filter == nil {
		t.Fatal("no filter on a large table")
	}
	dom := &Target{Name: "query", Kind: KindDomain}
	for i, d := range doms {
		var want string
		if i%7 == 0 {
			want = d // the name itself
		}
		if got := strings.Join(matchNames(x, dom, "a."+d), ","); got != d {
			t.Fatalf("a.%s: got %q", d, got)
		}
		if want != "" {
			if got := strings.Join(matchNames(x, dom, want), ","); got != d {
				t.Fatalf("%s: got %q", want, got)
			}
		}
		if i%11 == 0 {
			if got := matchNames(x, dom, "x"+d); len(got) != 0 {
				t.Fatalf("x%s matched %v", d, got)
			}
		}
	}
	if x.Len() != n || x.Stats.Direct != n {
		t.Errorf("%d indexed, stats %+v", x.Len(), x.Stats)
	}
}

func TestFormatTime(t *testing.T) {
	for in, want := range map[string]string{
		"1700000000.100000":    "2023-11-14T22:13:20.1Z",
		"1700000000":           "2023-11-14T22:13:20Z",
		"1.7e9":                "2023-11-14T22:13:20Z",
		"2024-01-01T00:00:00Z": "2024-01-01T00:00:00Z",
		"":                     "",
	} {
		if got := formatTime([]byte(in)); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// TestActors: "indicates" relationships name an indicator's actor
// whatever order objects come in, the group before its malware.
func TestActors(t *testing.T) {
	obj := func(raw string) *stix.Object {
		o, err := stix.Parse([]byte(raw))
		if err != nil {
			t.Fatalf("%v: %s", err, raw)
		}
		return o
	}
	const ts = `"spec_version":"2.1","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z"`
	named := func(typ, id, name string) *stix.Object {
		extra := ""
		if typ == "malware" {
			extra = `,"is_family":true`
		}
		return obj(`{"type":"` + typ + `","id":"` + typ + `--` + id + `",` + ts + `,"name":"` + name + `"` + extra + `}`)
	}
	rel := func(n int, src, dst string) *stix.Object {
		return obj(fmt.Sprintf(`{"type":"relationship","id":"relationship--%08d-0000-4000-8000-000000000000",%s,"relationship_type":"indicates","source_ref":"%s","target_ref":"%s"}`, n, ts, src, dst))
	}
	a := indicator(t, "a", "[domain-name:value = 'a.example']", nil)
	b := indicator(t, "bb", "[domain-name:value = 'b.example']", nil)
	c := indicator(t, "ccc", "[domain-name:value = 'c.example']", nil)
	lazarus := named("intrusion-set", "10000000-0000-4000-8000-000000000000", "Lazarus Group")
	applejeus := named("malware", "20000000-0000-4000-8000-000000000000", "AppleJeus")
	objs := []*stix.Object{
		rel(1, a.ID, applejeus.ID), // relationships before their ends
		rel(2, b.ID, applejeus.ID),
		a, b, c,
		rel(3, a.ID, lazarus.ID),
		applejeus, lazarus, // names last
		rel(4, c.ID, "intrusion-set--30000000-0000-4000-8000-000000000000"), // never named
	}
	x, _ := Compile(objs, Options{})
	got := map[string]string{}
	for r := 0; r < x.Len(); r++ {
		ind := x.Indicator(Ref(r))
		got[ind.Name] = ind.Actor
	}
	want := map[string]string{"a": "Lazarus Group", "bb": "AppleJeus", "ccc": ""}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("actors %v, want %v", got, want)
	}
	if x.Stats.NotSTIX != 6 || x.Stats.Indicators != 3 {
		t.Errorf("stats %+v", x.Stats)
	}
}
