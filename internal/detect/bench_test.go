package detect

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/stix"
)

// genDNS writes deterministic Zeek-style DNS JSON lines until size bytes;
// one query in 1000 is an indicator's subdomain.
func genDNS(seed int64, size int, domains []string) []byte {
	r := rand.New(rand.NewSource(seed))
	var b bytes.Buffer
	word := func(n int) string {
		const a = "abcdefghijklmnopqrstuvwxyz0123456789"
		buf := make([]byte, n)
		for i := range buf {
			buf[i] = a[r.Intn(len(a))]
		}
		return string(buf)
	}
	for i := 0; b.Len() < size; i++ {
		q := word(4+r.Intn(8)) + "." + word(3+r.Intn(10)) + ".com"
		if r.Intn(1000) == 0 {
			q = "www." + domains[r.Intn(len(domains))]
		}
		fmt.Fprintf(&b, `{"_path":"dns","ts":"2024-03-24T17:15:20.%06dZ","uid":"C%s","id.orig_h":"10.%d.%d.%d","id.orig_p":%d,"id.resp_h":"10.0.0.100","id.resp_p":53,"proto":"udp","trans_id":%d,"rtt":0.000870,"query":"%s","qclass":1,"qclass_name":"C_INTERNET","qtype":1,"qtype_name":"A","rcode":0,"rcode_name":"NOERROR","AA":false,"TC":false,"RD":true,"RA":true,"Z":0,"answers":["%d.%d.%d.%d"],"TTLs":[300.0],"rejected":false}`+"\n",
			i%1000000, word(17), r.Intn(256), r.Intn(256), r.Intn(256), 1024+r.Intn(60000), r.Intn(65536), q,
			r.Intn(223)+1, r.Intn(256), r.Intn(256), r.Intn(256))
	}
	return b.Bytes()
}

func domainIndicators(tb testing.TB, n int) ([]*stix.Object, []string) {
	r := rand.New(rand.NewSource(7))
	objs := make([]*stix.Object, 0, n)
	doms := make([]string, 0, n)
	for i := 0; i < n; i++ {
		d := fmt.Sprintf("ioc%d-%x.example", i, r.Int63())
		doms = append(doms, d)
		raw := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-0000-4000-8000-000000000000","created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","pattern":"[domain-name:value = '%s']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`, i, d)
		o, err := stix.Parse([]byte(raw))
		if err != nil {
			tb.Fatal(err)
		}
		objs = append(objs, o)
	}
	return objs, doms
}

// BenchmarkScanDNS scans 50 MB of Zeek DNS JSON with 100,000 domain
// indicators and reports MB/s.
func BenchmarkScanDNS(b *testing.B) {
	objs, doms := domainIndicators(b, 100000)
	idx, err := Compile(objs, Options{})
	if err != nil {
		b.Fatal(err)
	}
	data := genDNS(1, 50<<20, doms)
	in := Input{Name: "dns.json", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	var hits int64
	for i := 0; i < b.N; i++ {
		sum, err := Scan(context.Background(), idx, []Input{in}, ScanOptions{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		hits = sum.Hits
	}
	b.ReportMetric(float64(hits), "hits")
}
