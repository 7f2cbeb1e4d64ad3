package taxii

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/access"
	"github.com/bulwark-intel/bulwark/internal/corpus"
	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/feed/stixfile"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
	"github.com/bulwark-intel/bulwark/internal/store/sqlite"
)

// BenchmarkObjectsPage serves random 100-object pages of the ATT&CK
// collection (24,771 objects) in-process, without the network, so the
// profile shows the server's own work. The store's result cache is warmed
// by one page before timing.
func BenchmarkObjectsPage(b *testing.B) { benchPages(b, false, true) }

// BenchmarkObjectsPageParallel is the same from 64 concurrent callers.
func BenchmarkObjectsPageParallel(b *testing.B) { benchPages(b, true, true) }

// BenchmarkObjectsPageSQL serves the pages without the result cache,
// straight from SQL, for comparison.
func BenchmarkObjectsPageSQL(b *testing.B) { benchPages(b, false, false) }

func benchPages(b *testing.B, parallel, cached bool) {
	path := corpus.Path(b, "attack/enterprise-attack-stix20.json")
	bctx := context.Background()
	st, err := sqlite.Open(bctx, filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	org, _ := st.CreateOrg(bctx, store.Org{Name: "bench", Clearance: stix.TLPRed})
	c, _ := st.CreateCollection(bctx, store.Collection{Title: "attack", DefaultTLP: stix.TLPClear})
	if err := st.SetGrant(bctx, store.Grant{Collection: c.ID, Org: org.ID, Read: true}); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := feed.Import(bctx, st, c.ID, stixfile.Format, feed.Source{Path: path, R: f}, 0); err != nil {
		b.Fatal(err)
	}
	f.Close()
	svc := access.New(st)
	tok, _, err := svc.NewToken(bctx, "bench", time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	page, err := st.Query(bctx, store.Query{Collection: c.ID, Limit: store.MaxLimit})
	if err != nil {
		b.Fatal(err)
	}
	var starts []string
	for _, r := range page.Records {
		starts = append(starts, stix.FormatTAXII(r.DateAdded))
	}
	if !cached {
		st.SetCacheLimit(0)
	}
	h := New(svc, Options{})
	one := func(r *rand.Rand) {
		u := root + "collections/" + c.ID + "/objects/?limit=100&added_after=" + url.QueryEscape(starts[r.IntN(len(starts))])
		req := httptest.NewRequest("GET", u, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", MediaType)
		w := &discard{h: http.Header{}, code: http.StatusOK}
		h.ServeHTTP(w, req)
		if w.code != http.StatusOK || w.n < 100_000 {
			b.Errorf("status %d, %d bytes", w.code, w.n)
		}
	}
	one(rand.New(rand.NewPCG(1, 1)))
	st.WaitBuilds()
	b.ResetTimer()
	if parallel {
		b.SetParallelism(32)
		var seed atomic.Uint64
		b.RunParallel(func(pb *testing.PB) {
			r := rand.New(rand.NewPCG(1, seed.Add(1)))
			for pb.Next() {
				one(r)
			}
		})
		return
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < b.N; i++ {
		one(r)
	}
}

// discard is a ResponseWriter that only counts, so that the benchmark
// measures the server and not a recorder growing a buffer.
type discard struct {
	h    http.Header
	code int
	n    int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(code int)        { d.code = code }
func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }
