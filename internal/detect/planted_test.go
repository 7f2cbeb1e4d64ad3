package detect

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/corpus"
	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/feed/csvlist"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

// loadList imports a corpus indicator list with the csvlist importer.
func loadList(t *testing.T, rel string) []*stix.Object {
	t.Helper()
	path := corpus.Path(t, rel)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*stix.Object
	err = csvlist.Read(context.Background(), feed.Source{Path: path, R: f}, func(it feed.Item) error {
		if it.Object != nil && it.Object.Type == "indicator" {
			out = append(out, it.Object)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// valuesOf picks the first n indicators whose pattern is `[kind:value = '…']`.
func valuesOf(objs []*stix.Object, prefix string, n int) []string {
	var out []string
	for _, o := range objs {
		p := o.String("pattern")
		if strings.HasPrefix(p, "["+prefix+" = '") && strings.HasSuffix(p, "']") {
			v := p[len(prefix)+5 : len(p)-2]
			if strings.Contains(v, "/") {
				continue
			}
			out = append(out, v)
			if len(out) == n {
				break
			}
		}
	}
	return out
}

func stringInput(name, data string) Input {
	return Input{Name: name, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(data)), nil }}
}

func TestPlanted(t *testing.T) {
	objs := loadList(t, "detect/iocs/maltrail/static__malware__apt_lazarus.txt")
	hashes := loadList(t, "detect/iocs/eset/nukesped_lazarus_samples.sha256")
	doms := valuesOf(objs, "domain-name:value", 4)
	ips := valuesOf(objs, "ipv4-addr:value", 3)
	shas := valuesOf(hashes, "file:hashes.'SHA-256'", 2)
	if len(doms) < 4 || len(ips) < 3 || len(shas) < 2 {
		t.Fatalf("corpus lists changed: %v %v %v", doms, ips, shas)
	}
	all := append(objs, hashes...)
	actors := map[string]string{}
	for _, o := range all {
		actors[o.ID] = "Lazarus Group"
	}
	idx, err := Compile(all, Options{Actors: actors})
	if err != nil {
		t.Fatal(err)
	}
	// Decoys that a substring matcher would take for the planted values.
	near := func(ip string) string { return "1" + ip + "9" }
	d, i, h := doms, ips, shas
	benign := "10.1.2.3"

	inputs := map[string]struct {
		format string
		data   string
		want   []string // planted values expected as hits, in order
	}{
		"zeek.tsv": {FormatZeek, "#separator \\x09\n#set_separator\t,\n#path\tdns\n" +
			"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tquery\tanswers\n" +
			"#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tvector[string]\n" +
			fmt.Sprintf("1700000000.1\tC1\t%s\t5353\t8.8.8.8\t53\twww.google.com\t142.250.1.1\n", benign) +
			fmt.Sprintf("1700000000.2\tC2\t%s\t5353\t8.8.8.8\t53\tcdn.%s\t%s,%s\n", benign, d[0], near(i[0]), i[1]) +
			fmt.Sprintf("1700000000.3\tC3\t%s\t5353\t8.8.8.8\t53\tnot%s\t(empty)\n", benign, d[1]) +
			"broken line\n",
			[]string{"cdn." + d[0], i[1]}},
		"zeek.json": {FormatZeekJSON, fmt.Sprintf(`{"_path":"dns","ts":"2024-01-01T00:00:00Z","id.orig_h":"%s","id.resp_h":"%s","query":"%s","answers":["%s"]}`+"\n", benign, near(i[2]), d[2], near(i[1])) +
			fmt.Sprintf(`{"_path":"http","ts":1.5,"id.orig_h":"%s","id.resp_h":"%s","host":"%s.example","uri":"/x"}`+"\n", benign, i[2], d[3]) +
			`{"_path":"dns", "query": ` + "\n",
			[]string{d[2], i[2]}},
		"eve.json": {FormatEVE, fmt.Sprintf(`{"timestamp":"2024-01-01T00:00:00.000000+0000","flow_id":1,"event_type":"dns","src_ip":"%s","dest_ip":"8.8.8.8","dns":{"type":"query","rrname":"A.%s"}}`+"\n", benign, strings.ToUpper(d[1])) +
			fmt.Sprintf(`{"timestamp":"t","flow_id":2,"event_type":"fileinfo","src_ip":"%s","dest_ip":"%s","fileinfo":{"filename":"setup.exe","sha256":"%s"}}`+"\n", near(i[0]), benign, strings.ToUpper(h[0])),
			[]string{"A." + strings.ToUpper(d[1]), strings.ToUpper(h[0])}},
		"win.json": {FormatWinJSON, fmt.Sprintf(`{"EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","Image":"C:\\Windows\\x.exe","DestinationIp":"%s","DestinationHostname":"x%s"}`+"\n", i[0], d[0]) +
			fmt.Sprintf(`{"Event":{"System":{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational"},"EventData":{"Hashes":"MD5=00000000000000000000000000000000,SHA256=%s","CommandLine":"run %s"}}}`+"\n", h[1], d[2]),
			[]string{i[0], "SHA256=" + h[1]}},
		"log.csv": {FormatCSV, "time,src,dst,domain,note\n" +
			fmt.Sprintf("t1,%s,%s,%s,\"quoted, %s\"\n", benign, near(i[1]), d[3], d[0]) +
			"t2,\"unterminated\n",
			[]string{d[3]}},
		"app.log": {FormatText, fmt.Sprintf("2024-01-01 connect to %s:443 from %s version v%s build %s.exe\n", i[1], benign, i[2], d[1]) +
			fmt.Sprintf("GET https://%s/path?q=1 referer http://not%s/ hash=%s ip %s\n", d[2], d[3], h[0], near(i[0])),
			[]string{i[1], "https://" + d[2] + "/path?q=1", h[0]}},
		"generic.jsonl": {FormatJSONL, fmt.Sprintf(`{"src_ip":"%s","dest_ip":"%s","url":"http://%s/a","sha256":"%s"}`+"\n", benign, i[0], "x"+d[1], h[1]) + "[1,2]\n",
			[]string{i[0], h[1]}},
	}
	for name, tc := range inputs {
		t.Run(name, func(t *testing.T) {
			in := stringInput(name, tc.data)
			var got []string
			sum, err := Scan(context.Background(), idx, []Input{in}, ScanOptions{Workers: 2}, func(h Hit) {
				got = append(got, h.Value)
				if h.Actor != "Lazarus Group" || h.IndicatorID == "" || h.Line == 0 {
					t.Errorf("hit %+v", h)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Formats[name] != tc.format {
				t.Errorf("format %q, want %q", sum.Formats[name], tc.format)
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("hits %q\nwant %q", got, tc.want)
			}
			if strings.Contains(tc.data, "broken") || strings.Contains(tc.data, "unterminated") || strings.Contains(tc.data, "[1,2]") || strings.Contains(tc.data, `"query": `) {
				if sum.Malformed != 1 || len(sum.MalformedLines) != 1 {
					t.Errorf("malformed %d %v", sum.Malformed, sum.MalformedLines)
				}
			}
		})
	}
}
