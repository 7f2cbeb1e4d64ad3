// Command screenload measures Bulwark's screening API (POST /api/v1/screen)
// on loopback. It is a benchmark driver for bench/screen.sh, not part of
// Bulwark.
//
//	screenload -gen DIR -n N      writes DIR/wallets.json, a STIX bundle of N
//	                              wallet indicators (85 % EVM, 15 % Bitcoin
//	                              P2PKH), and DIR/listed.txt, their addresses
//	screenload -url URL ...       drives the server
//	screenload -hello -listen A   serves a fixed screening answer and does
//	                              nothing else: the floor that the host's
//	                              loopback and Go's net/http set, measured
//	                              in the same run as Bulwark
//
// Each client holds one keep-alive connection (TCP, or TLS without
// certificate checks) and writes prepared requests itself, reading the
// responses with net/http's parser, so the driver spends little of the
// shared CPU. Requests draw addresses from the listed ones (-hit, default
// 5 %) and from random unlisted EVM addresses. Latency is measured per
// request, closed loop; the summary gives requests/s, addresses/s, p50,
// p99, p99.9 and max, and, with -server-pid, the server's CPU time per
// request.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/btcutil/base58"

	"github.com/bulwark-intel/bulwark/internal/server"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store/sqlite"
)

func main() {
	gen := flag.String("gen", "", "write a bundle of wallet indicators and their addresses into this directory, and exit")
	n := flag.Int("n", 100000, "indicators to generate (-gen)")
	target := flag.String("url", "http://127.0.0.1:8080", "server (http or https; certificates are not verified)")
	token := flag.String("token", "", "bearer token")
	listedPath := flag.String("listed", "", "file of listed addresses (one a line) to draw hits from")
	hit := flag.Float64("hit", 0.05, "share of addresses drawn from the listed ones")
	batch := flag.Int("batch", 1, "addresses per request")
	clients := flag.Int("clients", 8, "concurrent clients (connections)")
	dur := flag.Duration("duration", 10*time.Second, "how long to measure")
	warmup := flag.Duration("warmup", 2*time.Second, "unmeasured load before measuring")
	variants := flag.Int("variants", 4096, "distinct prepared requests per client")
	seed := flag.Uint64("seed", 1, "random seed")
	pid := flag.Int("server-pid", 0, "report this process's CPU time and resident memory (Linux)")
	serveDB := flag.String("serve", "", "instead of loading, serve this SQLite database's screening API on -listen without the access service (everything up to RED, no token): the screening path alone, for comparison with `bulwark serve`")
	listen := flag.String("listen", "127.0.0.1:18492", "address for -serve and -hello (loopback)")
	hello := flag.Bool("hello", false, "instead of loading, serve a fixed answer to POST /api/v1/screen on -listen: net/http alone, the floor for `bulwark serve`")
	flag.Parse()
	if *hello {
		if err := serveHello(*listen); err != nil {
			fail(err)
		}
		return
	}
	if *gen != "" {
		if err := generate(*gen, *n); err != nil {
			fail(err)
		}
		return
	}
	if *serveDB != "" {
		if err := serve(*serveDB, *listen); err != nil {
			fail(err)
		}
		return
	}
	u, err := url.Parse(*target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fail(fmt.Errorf("-url %q: want http(s)://host:port", *target))
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fail(fmt.Errorf("-url %q: this driver only loads loopback addresses", *target))
	}
	var listed []string
	if *listedPath != "" {
		b, err := os.ReadFile(*listedPath)
		if err != nil {
			fail(err)
		}
		listed = strings.Fields(string(b))
	}
	if len(listed) == 0 && *hit > 0 {
		fail(fmt.Errorf("-hit %.2f needs -listed", *hit))
	}

	var (
		mu             sync.Mutex
		lat            []time.Duration
		measure, stop  atomic.Bool
		hits, answered atomic.Int64
		wg             sync.WaitGroup
		ready          sync.WaitGroup
	)
	for i := 0; i < *clients; i++ {
		wg.Add(1)
		ready.Add(1)
		go func(i int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(*seed, uint64(i)))
			reqs := make([][]byte, *variants)
			for k := range reqs {
				reqs[k] = request(u, *token, body(r, listed, *hit, *batch))
			}
			conn, br := dial(u)
			ready.Done()
			var mine []time.Duration
			var buf bytes.Buffer
			for k := 0; !stop.Load(); k++ {
				t0 := time.Now()
				if _, err := conn.Write(reqs[k%len(reqs)]); err != nil {
					fail(err)
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					fail(err)
				}
				buf.Reset()
				_, err = buf.ReadFrom(resp.Body)
				resp.Body.Close()
				d := time.Since(t0)
				if err != nil {
					fail(err)
				}
				if resp.StatusCode != 200 {
					fail(fmt.Errorf("%d %.300s", resp.StatusCode, buf.Bytes()))
				}
				if measure.Load() {
					mine = append(mine, d)
					if k%64 == 0 { // check the answers now and then: cheap enough
						var out struct{ Results []struct{ Risk string } }
						if err := json.Unmarshal(buf.Bytes(), &out); err != nil || len(out.Results) != *batch {
							fail(fmt.Errorf("bad answer (%v): %.300s", err, buf.Bytes()))
						}
						answered.Add(int64(len(out.Results)))
						for _, x := range out.Results {
							if x.Risk != "none" {
								hits.Add(1)
							}
						}
					}
				}
			}
			conn.Close()
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}(i)
	}
	ready.Wait()
	time.Sleep(*warmup)
	cpu0, _ := procCPU(*pid)
	measure.Store(true)
	t0 := time.Now()
	time.Sleep(*dur)
	measure.Store(false)
	elapsed := time.Since(t0)
	cpu1, rss := procCPU(*pid)
	stop.Store(true)
	wg.Wait()
	if len(lat) == 0 {
		fail(fmt.Errorf("no request completed in %s", *dur))
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(float64(len(lat))*p))] }
	rps := float64(len(lat)) / elapsed.Seconds()
	fmt.Printf("%s, %d clients, %d address(es)/request: %d requests in %s = %.0f req/s (%.0f addresses/s); latency p50 %s p99 %s p99.9 %s max %s; %.1f %% of checked addresses listed\n",
		u.Scheme, *clients, *batch, len(lat), elapsed.Round(time.Millisecond), rps, rps*float64(*batch),
		q(0.50).Round(time.Microsecond), q(0.99).Round(time.Microsecond), q(0.999).Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond),
		100*float64(hits.Load())/float64(max(answered.Load(), 1)))
	if *pid > 0 {
		fmt.Printf("server pid %d: %.2f CPU-seconds per wall second, %.0f µs CPU per request, RSS %.0f MB\n",
			*pid, (cpu1-cpu0)/elapsed.Seconds(), (cpu1-cpu0)/float64(len(lat))*1e6, rss)
	}
}

// loopbackOnly refuses a listen address off loopback.
func loopbackOnly(listen string) error {
	host, _, err := net.SplitHostPort(listen)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-listen %q: loopback only", listen)
	}
	return nil
}

// serveHello answers every screening request with one fixed result, after
// reading its body: what a request costs in the kernel and in net/http,
// with none of Bulwark's work (token, access policy, parsing, index).
func serveHello(listen string) error {
	if err := loopbackOnly(listen); err != nil {
		return err
	}
	answer := []byte(`{"results":[{"input":"0x0000000000000000000000000000000000000001","canonical":"0x0000000000000000000000000000000000000001","chains":["ethereum"],"risk":"none","tlp":"clear"}]}`)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/screen", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	srv := &http.Server{Addr: listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return srv.ListenAndServe()
}

// serve runs the API over a database without the access service.
func serve(db, listen string) error {
	if err := loopbackOnly(listen); err != nil {
		return err
	}
	ctx := context.Background()
	s, err := sqlite.Open(ctx, db)
	if err != nil {
		return err
	}
	defer s.Close()
	h := server.New(s, server.Options{MaxTLP: stix.TLPRed})
	srv := &http.Server{Addr: listen, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(os.Stderr, "screenload: serving %s on http://%s without access control\n", db, listen)
	return srv.ListenAndServe()
}

// dial opens the client's connection.
func dial(u *url.URL) (net.Conn, *bufio.Reader) {
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		fail(err)
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	if u.Scheme == "https" {
		tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // loopback benchmark against a self-signed certificate
		if err := tc.Handshake(); err != nil {
			fail(err)
		}
		c = tc
	}
	return c, bufio.NewReaderSize(c, 64<<10)
}

// body draws a batch: listed addresses with probability hit, else random
// unlisted EVM addresses.
func body(r *rand.Rand, listed []string, hit float64, n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"addresses":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		if len(listed) > 0 && r.Float64() < hit {
			fmt.Fprintf(&b, "%q", listed[r.IntN(len(listed))])
		} else {
			fmt.Fprintf(&b, `"0x%016x%016x%08x"`, r.Uint64(), r.Uint64(), r.Uint32())
		}
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func request(u *url.URL, token string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST /api/v1/screen HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", u.Host, len(body))
	if token != "" {
		fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", token)
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// generate writes n wallet indicators as a STIX bundle, and their
// addresses. Addresses derive from the index by SHA-256, so a given n
// always makes the same set.
func generate(dir string, n int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	bf, err := os.Create(filepath.Join(dir, "wallets.json"))
	if err != nil {
		return err
	}
	defer bf.Close()
	lf, err := os.Create(filepath.Join(dir, "listed.txt"))
	if err != nil {
		return err
	}
	defer lf.Close()
	bw, lw := bufio.NewWriterSize(bf, 1<<20), bufio.NewWriterSize(lf, 1<<20)
	labels := []string{"perpetrator", "sanctioned", "mixer", "exchange"}
	bw.WriteString(`{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000000","objects":[`)
	for i := 0; i < n; i++ {
		h := sha256.Sum256([]byte("screenload " + strconv.Itoa(i)))
		var addr string
		if h[31]%100 < 85 {
			addr = fmt.Sprintf("0x%x", h[:20])
		} else {
			addr = base58.CheckEncode(h[:20], 0x00)
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		fmt.Fprintf(bw, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-%04x-4%03x-8%03x-%012x","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"generated wallet %d","labels":[%q],"pattern":"[cryptocurrency-wallet:address = '%s']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","object_marking_refs":["marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"]}`,
			uint32(h[0])<<24|uint32(h[1])<<16|uint32(h[2])<<8|uint32(h[3]), uint16(h[4])<<8|uint16(h[5]), uint16(h[6])<<4&0xfff, uint16(h[7])<<4&0xfff, i, i%1000, labels[i%4], addr)
		fmt.Fprintln(lw, addr)
	}
	bw.WriteString("]}\n")
	if err := bw.Flush(); err != nil {
		return err
	}
	return lw.Flush()
}

// procCPU returns a process's user+system CPU seconds and resident MB.
func procCPU(pid int) (float64, float64) {
	if pid <= 0 {
		return 0, 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+2:]
	}
	f := strings.Fields(s)
	if len(f) < 22 {
		return 0, 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	rss, _ := strconv.ParseFloat(f[21], 64)
	return (ut + st) / 100, rss * float64(os.Getpagesize()) / (1 << 20)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "screenload:", err)
	os.Exit(1)
}
