// Command taxiiload measures a TAXII 2.1 server: paging a whole collection,
// random 100-object pages from N concurrent clients, and one large POST.
// It is a benchmark driver for bench/taxii.sh, not part of Bulwark.
package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"
)

const mediaType = "application/taxii+json;version=2.1"

func main() {
	base := flag.String("url", "http://127.0.0.1:8080/taxii2/api/", "API root")
	token := flag.String("token", "", "bearer token")
	coll := flag.String("collection", "", "collection id")
	mode := flag.String("mode", "all", "all | pages | post")
	clients := flag.Int("clients", 1, "concurrent clients (pages)")
	dur := flag.Duration("duration", 10*time.Second, "how long (pages)")
	limit := flag.Int("limit", 1000, "page size (all, pages)")
	n := flag.Int("n", 10000, "objects (post)")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	tr := &http.Transport{MaxIdleConnsPerHost: 256, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // loopback benchmark
	c := &http.Client{Transport: tr, Timeout: time.Minute}
	objects := *base + "collections/" + *coll + "/objects/"
	get := func(u string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Accept", mediaType)
		req.Header.Set("Authorization", "Bearer "+*token)
		resp, err := c.Do(req)
		if err != nil {
			fail(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			fail(fmt.Errorf("GET %s: %d %s", u, resp.StatusCode, b))
		}
		return resp, b
	}
	switch *mode {
	case "all":
		start := time.Now()
		total, pages, next := 0, 0, ""
		for {
			u := objects + "?limit=" + fmt.Sprint(*limit)
			if next != "" {
				u += "&next=" + url.QueryEscape(next)
			}
			_, b := get(u)
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
	case "pages":
		// Starting points: every date_added of the collection, from the manifest.
		var starts []string
		next := ""
		for {
			u := *base + "collections/" + *coll + "/manifest/?limit=10000"
			if next != "" {
				u += "&next=" + url.QueryEscape(next)
			}
			_, b := get(u)
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
		var mu sync.Mutex
		var lat []time.Duration
		deadline := time.Now().Add(*dur)
		var wg sync.WaitGroup
		for i := 0; i < *clients; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r := rand.New(rand.NewPCG(*seed, uint64(i)))
				var mine []time.Duration
				for time.Now().Before(deadline) {
					at := starts[r.IntN(len(starts))]
					t0 := time.Now()
					get(objects + "?limit=" + fmt.Sprint(*limit) + "&added_after=" + url.QueryEscape(at))
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}(i)
		}
		wg.Wait()
		slices.Sort(lat)
		q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(float64(len(lat))*p))] }
		fmt.Printf("%d clients, %d-object pages: %d pages in %s = %.0f pages/s; p50 %s p99 %s\n",
			*clients, *limit, len(lat), *dur, float64(len(lat))/dur.Seconds(), q(0.50).Round(10*time.Microsecond), q(0.99).Round(10*time.Microsecond))
	case "post":
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
		resp, err := c.Do(req)
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
			_, b := get(*base + "status/" + st.ID + "/")
			_ = json.Unmarshal(b, &st)
		}
		fmt.Printf("POST %d objects (%.1f MB): complete in %.3f s, %d succeeded, %d failed\n",
			*n, float64(buf.Len())/(1<<20), time.Since(start).Seconds(), st.SuccessCount, st.FailureCount)
	default:
		fail(fmt.Errorf("unknown mode %q", *mode))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "taxiiload:", err)
	os.Exit(1)
}
