// Command taxiiload measures a TAXII 2.1 server: paging a whole collection,
// 100-object pages from N concurrent clients (random added_after starts, or
// following next tokens), and one large POST. It is a benchmark driver for
// bench/taxii.sh, not part of Bulwark.
//
// Each client keeps one keep-alive connection (HTTPS or HTTP) and reuses a
// body buffer, so the driver spends as little of the shared CPU as it can;
// it reports how many connections it opened, so a server that closes
// connections (and makes every request pay a TCP and TLS handshake) shows.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const mediaType = "application/taxii+json;version=2.1"

var newConns, reusedConns atomic.Int64

// trace counts connections opened and reused.
var trace = &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
	if i.Reused {
		reusedConns.Add(1)
	} else {
		newConns.Add(1)
	}
}}

type client struct {
	c     *http.Client
	token string
	buf   bytes.Buffer
}

// get fetches u into the client's buffer, failing on anything but 200.
func (cl *client) get(u string) (http.Header, []byte) {
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", u, nil)
	if err != nil {
		fail(err)
	}
	req.Header.Set("Accept", mediaType)
	req.Header.Set("Authorization", "Bearer "+cl.token)
	resp, err := cl.c.Do(req)
	if err != nil {
		fail(err)
	}
	cl.buf.Reset()
	_, err = cl.buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		fail(fmt.Errorf("GET %s: reading body: %w", u, err))
	}
	if resp.StatusCode != 200 {
		fail(fmt.Errorf("GET %s: %d %s", u, resp.StatusCode, cl.buf.Bytes()))
	}
	return resp.Header, cl.buf.Bytes()
}

// envelopeHead reads more and next from an envelope. Bulwark writes them
// before the objects, so the head of the body is enough; otherwise the
// whole body is decoded.
func envelopeHead(b []byte) (more bool, next string) {
	head := b[:min(len(b), 256)]
	if bytes.HasPrefix(head, []byte(`{"more":`)) {
		more = bytes.HasPrefix(head[8:], []byte("true"))
		if i := bytes.Index(head, []byte(`"next":"`)); i >= 0 {
			rest := head[i+8:]
			if j := bytes.IndexByte(rest, '"'); j >= 0 {
				return more, string(rest[:j])
			}
		} else if !more {
			return false, ""
		}
	}
	var env struct {
		More bool   `json:"more"`
		Next string `json:"next"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		fail(err)
	}
	return env.More, env.Next
}

func main() {
	base := flag.String("url", "http://127.0.0.1:8080/taxii2/api/", "API root (http or https; certificates are not verified)")
	token := flag.String("token", "", "bearer token")
	coll := flag.String("collection", "", "collection id")
	mode := flag.String("mode", "all", "all | pages (random added_after) | next (follow next tokens from random starts) | post")
	clients := flag.Int("clients", 1, "concurrent clients (pages, next)")
	dur := flag.Duration("duration", 10*time.Second, "how long to measure (pages, next)")
	warmup := flag.Duration("warmup", time.Second, "unmeasured load before measuring (pages, next)")
	limit := flag.Int("limit", 1000, "page size (all, pages, next)")
	n := flag.Int("n", 10000, "objects (post)")
	seed := flag.Uint64("seed", 1, "random seed")
	pid := flag.Int("server-pid", 0, "report this process's CPU time and resident memory over the measurement (Linux)")
	flag.Parse()
	tr := &http.Transport{
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     time.Minute,
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true, ClientSessionCache: tls.NewLRUClientSessionCache(256)}, //nolint:gosec // loopback benchmark
	}
	hc := &http.Client{Transport: tr, Timeout: time.Minute}
	newClient := func() *client { return &client{c: hc, token: *token} }
	objects := *base + "collections/" + *coll + "/objects/"
	lim := strconv.Itoa(*limit)
	switch *mode {
	case "all":
		cl := newClient()
		start := time.Now()
		total, pages, next := 0, 0, ""
		for {
			u := objects + "?limit=" + lim
			if next != "" {
				u += "&next=" + url.QueryEscape(next)
			}
			_, b := cl.get(u)
			var env struct {
				More    bool              `json:"more"`
				Next    string            `json:"next"`
				Objects []json.RawMessage `json:"objects"`
			}
			if err := json.Unmarshal(b, &env); err != nil {
				fail(err)
			}
			total += len(env.Objects)
			pages++
			if !env.More {
				break
			}
			next = env.Next
		}
		fmt.Printf("paged %d objects in %d pages of %d in %.3f s\n", total, pages, *limit, time.Since(start).Seconds())
	case "pages", "next":
		starts := dateAddedValues(newClient(), *base+"collections/"+*coll+"/manifest/")
		var (
			mu       sync.Mutex
			lat      []time.Duration
			measure  atomic.Bool
			stop     atomic.Bool
			followed atomic.Int64
			wg       sync.WaitGroup
		)
		for i := 0; i < *clients; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				cl := newClient()
				r := rand.New(rand.NewPCG(*seed, uint64(i)))
				var mine []time.Duration
				at, next := "", ""
				for !stop.Load() {
					if next == "" {
						at = url.QueryEscape(starts[r.IntN(len(starts))])
					}
					u := objects + "?limit=" + lim + "&added_after=" + at
					if next != "" {
						u += "&next=" + url.QueryEscape(next)
					}
					t0 := time.Now()
					_, b := cl.get(u)
					d := time.Since(t0)
					wasNext := next != ""
					next = ""
					if *mode == "next" {
						if more, tok := envelopeHead(b); more {
							next = tok
						}
					}
					if measure.Load() {
						mine = append(mine, d)
						if wasNext {
							followed.Add(1)
						}
					}
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}(i)
		}
		time.Sleep(*warmup)
		cpu0, _ := procCPU(*pid)
		newConns.Store(0)
		reusedConns.Store(0)
		measure.Store(true)
		t0 := time.Now()
		time.Sleep(*dur)
		measure.Store(false)
		elapsed := time.Since(t0)
		cpu1, rss := procCPU(*pid)
		stop.Store(true)
		wg.Wait()
		slices.Sort(lat)
		q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(float64(len(lat))*p))] }
		if len(lat) == 0 {
			fail(fmt.Errorf("no page completed in %s", *dur))
		}
		how := "random added_after"
		if *mode == "next" {
			how = fmt.Sprintf("next tokens, %d of %d pages reached through next", followed.Load(), len(lat))
		}
		fmt.Printf("%d clients, %d-object pages (%s): %d pages in %s = %.0f pages/s; p50 %s p99 %s max %s; connections: %d new, %d reused\n",
			*clients, *limit, how, len(lat), elapsed.Round(time.Millisecond), float64(len(lat))/elapsed.Seconds(),
			q(0.50).Round(10*time.Microsecond), q(0.99).Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond),
			newConns.Load(), reusedConns.Load())
		if *pid > 0 {
			fmt.Printf("server pid %d: %.2f CPU-seconds per wall second (%.0f µs CPU per page), RSS %.0f MB at the end\n",
				*pid, (cpu1-cpu0)/elapsed.Seconds(), (cpu1-cpu0)/float64(len(lat))*1e6, rss)
		}
	case "post":
		cl := newClient()
		var buf bytes.Buffer
		buf.WriteString(`{"objects":[`)
		now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
		for i := 0; i < *n; i++ {
			if i > 0 {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-0000-4000-8000-%012x","created":%q,"modified":%q,"pattern":"[ipv4-addr:value = '10.%d.%d.%d']","pattern_type":"stix","valid_from":%q,"object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}`,
				*seed, i, now, now, i>>16&255, i>>8&255, i&255, now)
		}
		buf.WriteString(`]}`)
		start := time.Now()
		req, _ := http.NewRequest("POST", objects, bytes.NewReader(buf.Bytes()))
		req.Header.Set("Accept", mediaType)
		req.Header.Set("Content-Type", mediaType)
		req.Header.Set("Authorization", "Bearer "+*token)
		resp, err := hc.Do(req)
		if err != nil {
			fail(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var st struct {
			ID           string `json:"id"`
			Status       string `json:"status"`
			SuccessCount int    `json:"success_count"`
			FailureCount int    `json:"failure_count"`
		}
		if err := json.Unmarshal(b, &st); err != nil || resp.StatusCode != 202 {
			fail(fmt.Errorf("POST: %d %s", resp.StatusCode, b))
		}
		for st.Status != "complete" {
			time.Sleep(10 * time.Millisecond)
			_, b := cl.get(*base + "status/" + st.ID + "/")
			_ = json.Unmarshal(b, &st)
		}
		fmt.Printf("POST %d objects (%.1f MB): complete in %.3f s, %d succeeded, %d failed\n",
			*n, float64(buf.Len())/(1<<20), time.Since(start).Seconds(), st.SuccessCount, st.FailureCount)
	default:
		fail(fmt.Errorf("unknown mode %q", *mode))
	}
}

// dateAddedValues reads every date_added of the collection from its
// manifest: the starting points of random pages.
func dateAddedValues(cl *client, manifest string) []string {
	var starts []string
	next := ""
	for {
		u := manifest + "?limit=10000"
		if next != "" {
			u += "&next=" + url.QueryEscape(next)
		}
		_, b := cl.get(u)
		var m struct {
			More    bool   `json:"more"`
			Next    string `json:"next"`
			Objects []struct {
				DateAdded string `json:"date_added"`
			} `json:"objects"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			fail(err)
		}
		for _, o := range m.Objects {
			starts = append(starts, o.DateAdded)
		}
		if !m.More {
			break
		}
		next = m.Next
	}
	if len(starts) == 0 {
		fail(fmt.Errorf("empty collection"))
	}
	return starts
}

// procCPU returns a process's user+system CPU seconds and its resident
// memory in MB, from /proc (zeros elsewhere or without a pid).
func procCPU(pid int) (cpu, rssMB float64) {
	if pid <= 0 {
		return 0, 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0
	}
	// Fields after the command name, which is in parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 22 {
		return 0, 0
	}
	ut, _ := strconv.ParseFloat(string(f[11]), 64)
	st, _ := strconv.ParseFloat(string(f[12]), 64)
	rss, _ := strconv.ParseFloat(string(f[21]), 64)
	const hz = 100 // USER_HZ on Linux
	return (ut + st) / hz, rss * float64(os.Getpagesize()) / (1 << 20)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "taxiiload:", err)
	os.Exit(1)
}
