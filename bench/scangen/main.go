// Command scangen writes a deterministic Zeek-style DNS JSON-lines log and
// a list of domain indicators for the scan benchmark (bench/scan.sh):
// -indicators domains under made-up TLD-like suffixes, -planted of them
// queried somewhere in the log (sometimes as a subdomain), the rest of the
// traffic unrelated names. Same seed, same bytes; the log does not depend
// on -indicators.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
)

func main() {
	seed := flag.Uint64("seed", 1, "random seed")
	mb := flag.Int("mb", 100, "log size in MB")
	n := flag.Int("indicators", 100000, "number of indicators")
	planted := flag.Int("planted", 1000, "indicators that occur in the log")
	logPath := flag.String("log", "dns.json", "log file to write")
	indPath := flag.String("out", "indicators.txt", "indicator file to write")
	flag.Parse()
	if *planted > *n {
		*planted = *n
	}
	// The indicators and the log draw from two streams, so the log is the
	// same whatever the number of indicators, and the first -planted
	// indicators are the same names in every list.
	ri := rand.New(rand.NewPCG(*seed, 7))
	rl := rand.New(rand.NewPCG(*seed, 8))
	r := ri
	word := func(min, max int) string {
		const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
		b := make([]byte, min+r.IntN(max-min+1))
		for i := range b {
			b[i] = letters[r.IntN(26)]
			if i > 0 {
				b[i] = letters[r.IntN(len(letters))]
			}
		}
		return string(b)
	}
	tlds := []string{"com", "net", "org", "io", "info", "xyz", "top", "kr", "co", "biz"}
	inds := make([]string, *n)
	for i := range inds {
		inds[i] = word(6, 14) + "." + tlds[r.IntN(len(tlds))]
	}
	f, err := os.Create(*indPath)
	if err != nil {
		panic(err)
	}
	w := bufio.NewWriter(f)
	for _, d := range inds {
		fmt.Fprintln(w, d)
	}
	w.Flush()
	f.Close()

	r = rl
	lf, err := os.Create(*logPath)
	if err != nil {
		panic(err)
	}
	lw := bufio.NewWriterSize(lf, 1<<20)
	limit := int64(*mb) << 20
	var written int64
	ts := 1700000000.0
	for line := 0; written < limit; line++ {
		q := word(3, 10) + "." + word(4, 12) + "." + tlds[r.IntN(len(tlds))]
		if *planted > 0 && r.IntN(1000) == 0 {
			d := inds[r.IntN(*planted)]
			if r.IntN(2) == 0 {
				d = "cdn." + d
			}
			q = d
		}
		ts += r.Float64()
		s := fmt.Sprintf(`{"ts":%.6f,"uid":"C%s","id.orig_h":"10.%d.%d.%d","id.orig_p":%d,"id.resp_h":"10.0.0.53","id.resp_p":53,"proto":"udp","trans_id":%d,"query":"%s","qclass":1,"qclass_name":"C_INTERNET","qtype":1,"qtype_name":"A","rcode":0,"rcode_name":"NOERROR","AA":false,"TC":false,"RD":true,"RA":true,"Z":0,"answers":["192.0.2.%d"],"TTLs":[300.0],"rejected":false}`+"\n",
			ts, word(17, 17), r.IntN(256), r.IntN(256), r.IntN(256), 1024+r.IntN(60000), r.IntN(65536), q, r.IntN(256))
		n, _ := lw.WriteString(s)
		written += int64(n)
	}
	lw.Flush()
	lf.Close()
}
