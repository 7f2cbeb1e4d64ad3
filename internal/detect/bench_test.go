package detect

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
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

// domainListIndex builds an index of n domain indicators straight from a list,
// as `bulwark scan --indicators LIST` does, and returns the domains.
func domainListIndex(tb testing.TB, n int) (*Index, []string) {
	r := rand.New(rand.NewSource(7))
	doms := make([]string, n)
	var list bytes.Buffer
	for i := range doms {
		doms[i] = fmt.Sprintf("ioc%d-%x.example", i, r.Int63()&0xffffff)
		list.WriteString(doms[i])
		list.WriteByte('\n')
	}
	b := NewBuilder(Options{})
	if _, err := b.AddList(context.Background(), &list, ListSource{Path: "bench.txt"}); err != nil {
		tb.Fatal(err)
	}
	return b.Index(), doms
}

// BenchmarkScanDNS scans 50 MB of Zeek DNS JSON against 10,000 and
// 100,000 domain indicators (BULWARK_BENCH_SIZES="10000,1000000" changes
// the sizes) and reports MB/s: throughput must not depend on the size.
// The same log (with the same planted names) serves every size.
func BenchmarkScanDNS(b *testing.B) {
	sizes := []int{10000, 100000}
	if s := os.Getenv("BULWARK_BENCH_SIZES"); s != "" {
		sizes = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				b.Fatal(err)
			}
			sizes = append(sizes, n)
		}
	}
	_, planted := domainListIndex(b, 1000)
	data := genDNS(1, 50<<20, planted)
	in := Input{Name: "dns.json", Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
	for _, n := range sizes {
		idx, _ := domainListIndex(b, n) // the first 1000 are the planted ones
		b.Run(fmt.Sprintf("indicators=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			var hits int64
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				sum, err := Scan(context.Background(), idx, []Input{in}, ScanOptions{}, nil)
				if err != nil {
					b.Fatal(err)
				}
				hits = sum.Hits
			}
			// On a shared machine wall time swings with other jobs; the
			// CPU time spent per MB is the steadier figure to compare.
			b.ReportMetric(float64(len(data))/1e6*float64(b.N)/(cpuTime()-cpu0).Seconds(), "MB/cpu-s")
			b.ReportMetric(float64(hits), "hits")
		})
	}
}

// BenchmarkAddList indexes a list of BULWARK_BENCH_N (default 100,000)
// domains straight from its text and reports the heap the index keeps.
func BenchmarkAddList(b *testing.B) {
	n := 100000
	if s := os.Getenv("BULWARK_BENCH_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	r := rand.New(rand.NewSource(7))
	var list bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&list, "ioc%d-%x.example\n", i, r.Int63()&0xffffff)
	}
	b.SetBytes(int64(list.Len()))
	b.ResetTimer()
	var x *Index
	for i := 0; i < b.N; i++ {
		x = nil
		bl := NewBuilder(Options{})
		if _, err := bl.AddList(context.Background(), bytes.NewReader(list.Bytes()), ListSource{Path: "bench.txt"}); err != nil {
			b.Fatal(err)
		}
		x = bl.Index()
	}
	b.StopTimer()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/float64(n), "heap-B/indicator")
	b.ReportMetric(float64(x.Bytes())/float64(n), "index-B/indicator")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/indicator")
	runtime.KeepAlive(x)
}

// BenchmarkMatchDomain looks up DNS query names (one in 1000 an indicator's
// subdomain) in indexes of 10,000 and 1,000,000 domains, without reading
// any log: the part of a scan whose cost could grow with the index. On a
// shared machine compare cpu-ns/op.
func BenchmarkMatchDomain(b *testing.B) {
	r := rand.New(rand.NewSource(3))
	word := func(n int) string {
		const a = "abcdefghijklmnopqrstuvwxyz0123456789"
		buf := make([]byte, n)
		for i := range buf {
			buf[i] = a[r.Intn(len(a))]
		}
		return string(buf)
	}
	_, planted := domainListIndex(b, 1000)
	queries := make([][]byte, 1<<16)
	for i := range queries {
		q := word(4+r.Intn(8)) + "." + word(3+r.Intn(10)) + ".com"
		if r.Intn(1000) == 0 {
			q = "www." + planted[r.Intn(len(planted))]
		}
		queries[i] = []byte(q)
	}
	t := &Target{Name: "query", Kind: KindDomain}
	for _, n := range []int{10000, 1000000} {
		idx, _ := domainListIndex(b, n)
		b.Run(fmt.Sprintf("indicators=%d", n), func(b *testing.B) {
			var ev Event
			var s Scratch
			hits := 0
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				ev.Reset(64)
				ev.Add(t, queries[i&(len(queries)-1)])
				idx.Match(&ev, &s, func(*Field, []byte, Ref) { hits++ })
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkJSONScanLine is the field scanner alone, one goroutine, over
// Zeek DNS lines: the part of a JSON scan that does not depend on the
// indicators. Compare minimums over -count runs on a noisy machine.
func BenchmarkJSONScanLine(b *testing.B) {
	_, planted := domainListIndex(b, 1000)
	data := genDNS(1, 4<<20, planted)
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	p, err := newParser(FormatZeekJSON, nil)
	if err != nil {
		b.Fatal(err)
	}
	var ev Event
	var js jscan
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		for _, l := range lines {
			ev.Reset(len(l))
			if err := p.parse(l, nil, &ev, &js); err != nil {
				b.Fatal(err)
			}
		}
	}
}
