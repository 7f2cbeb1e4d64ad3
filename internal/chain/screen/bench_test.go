package screen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/chain/address"
	"github.com/bulwark-intel/bulwark/internal/chain/graph"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

// The screening benchmarks run over a generated index of BENCH_SCREEN_N
// addresses (default 10 million), one indicator each as the importers make
// them: 85 % EVM accounts, 15 % base58 strings; 1000 distinct names, four
// label sets and TLPs, 50 named creators, one collection.
//
//	go test -run '^$' -bench 'Index|Screen' -benchtime 3s ./internal/chain/screen/
//
// The index is built once per process; its memory (Go heap after a
// collection, and the index's own accounting) is reported as
// heap-bytes/addr and index-bytes/addr.

var (
	synthOnce sync.Once
	synthIx   *Index
	synthN    int
	synthHeap uint64
	synthTook time.Duration
)

// splitmix64 gives reproducible pseudo-random addresses.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

const b58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// synthAddr is the canonical address number i of the generated index;
// salt 1 gives addresses that are not in it.
func synthAddr(i, salt uint64) string {
	h := splitmix64(i*2 + salt)
	if h%100 < 85 {
		return fmt.Sprintf("0x%016x%016x%08x", splitmix64(h), splitmix64(h+1), uint32(splitmix64(h+2)))
	}
	b := make([]byte, 34)
	b[0] = '1'
	for j := 1; j < 34; j++ {
		h = splitmix64(h)
		b[j] = b58[h%58]
	}
	return string(b)
}

func synthIndex(tb testing.TB) *Index {
	synthOnce.Do(func() {
		n := 10_000_000
		if s := os.Getenv("BENCH_SCREEN_N"); s != "" {
			var err error
			if n, err = strconv.Atoi(s); err != nil {
				tb.Fatal(err)
			}
		}
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		synthIx, synthN = buildSynth(n), n
		synthTook = time.Since(start)
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		synthHeap = after.HeapAlloc - before.HeapAlloc
	})
	return synthIx
}

func buildSynth(n int) *Index {
	ix := NewIndex(nil, IndexOptions{SizeHint: n, RebuildEvery: -1})
	st := ix.st
	st.collNum["c"] = 0
	st.colls = append(st.colls, collState{id: "c", defaultTLP: stix.TLPAmber})
	names := make([]string, 1000)
	for i := range names {
		names[i] = fmt.Sprintf("GraphSense tag %d (ETH)", i)
	}
	labels := [][]string{{"sanctioned"}, {"perpetrator"}, {"mixer"}, {"exchange"}}
	grades := []uint8{gSevere, gHigh, gMedium, gLow}
	tlps := []stix.TLP{stix.TLPClear, stix.TLPGreen, stix.TLPAmber, stix.TLPNone}
	batch := make([]change, 0, applyBatch)
	var keys []byte
	flush := func() {
		st.reserve(batch, func() {}, func() {})
		for i := range batch {
			st.apply(&batch[i])
		}
		batch, keys = batch[:0], nil
	}
	// The creators are named, as the importers' identities are: a hit
	// shows its source's name.
	for i := range 50 {
		batch = append(batch, change{kind: kNamed, id: fmt.Sprintf("identity--00000000-0000-4000-8000-%012d", i),
			modified: 1, vis: visFacts{coll: 0, tlp: stix.TLPClear}, name: fmt.Sprintf("Partner CERT %d", i)})
	}
	for i := range n {
		if keys == nil {
			keys = make([]byte, 0, applyBatch*40)
		}
		start := len(keys)
		keys = appendKey(keys, synthAddr(uint64(i), 0))
		batch = append(batch, change{
			kind: kIndicator, id: fmt.Sprintf("indicator--%08x-0000-4000-8000-%012x", i>>16, i), modified: 1,
			vis:  visFacts{coll: 0, tlp: tlps[i%4], createdBy: fmt.Sprintf("identity--00000000-0000-4000-8000-%012d", i%50)},
			name: names[i%1000], labels: labels[i%4], grade: grades[i%4],
			keys: [][]byte{keys[start:len(keys):len(keys)]},
		})
		if len(batch) == applyBatch {
			flush()
		}
	}
	flush()
	ix.loaded.Store(true)
	return ix
}

func reportIndex(b *testing.B, ix *Index) {
	st := ix.Stats()
	b.ReportMetric(float64(synthHeap)/float64(synthN), "heap-bytes/addr")
	b.ReportMetric(float64(st.Bytes)/float64(synthN), "index-bytes/addr")
	b.Logf("index of %d addresses built in %v; Go heap %.0f MiB, index %.0f MiB", synthN, synthTook.Round(time.Millisecond), float64(synthHeap)/(1<<20), float64(st.Bytes)/(1<<20))
}

// BenchmarkIndexLookup measures index lookups of canonical addresses (what
// Screen does after parsing), one per op, in batches of lockChunk under the
// read lock as Screen makes them, on one goroutine: lookups/cpu-s is per
// core. In hit the results are kept, as Screen's caller may, so every
// batch carves its reasons from fresh memory; in hit-reused they are dead
// after the batch, as in the server (ScreenBatch with a pooled Batch).
func BenchmarkIndexLookup(b *testing.B) {
	ix := synthIndex(b)
	pol := Operator(stix.TLPNone)
	// mixed is what an exchange's traffic looks like: one address in 20
	// listed (as bench/screen.sh sends), on the server's path.
	for _, mode := range []struct {
		name  string
		salt  uint64
		reuse bool
	}{{"hit", 0, false}, {"hit-reused", 0, true}, {"miss", 1, false}, {"mixed", 2, true}} {
		b.Run(mode.name, func(b *testing.B) {
			addrs := benchAddrs(mode.salt)
			reportIndex(b, ix)
			var sc scratch
			res := make([]Result, lockChunk)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; {
				ix.mu.RLock()
				st := ix.st
				v := pol.resolve(st)
				n := 0
				for ; n < lockChunk && i < b.N; n, i = n+1, i+1 {
					res[n] = Result{Canonical: addrs[i%len(addrs)], Risk: None}
				}
				if mode.reuse {
					sc.rewind()
				}
				st.directBatch(&v, res[:n], &sc)
				ix.mu.RUnlock()
				if mode.salt == 0 && (res[0].Risk == None || res[0].Reasons[0].Source == "") {
					b.Fatalf("a listed address was not found with its source: %+v", res[0])
				}
				if mode.salt == 2 && n >= 20 {
					listed := 0
					for _, r := range res[:n] {
						if r.Risk != None {
							listed++
						}
					}
					if listed < n/20-2 || listed > n/20+2 { // the 64 Ki addresses wrap mid-pattern
						b.Fatalf("%d of %d listed, want one in 20", listed, n)
					}
				}
			}
			reportRates(b, cpu0, "lookups")
		})
	}
}

// reportRates reports ops per wall second and per CPU second of the
// process (which the benchmark keeps on one goroutine: per core).
func reportRates(b *testing.B, cpu0 time.Duration, what string) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), what+"/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), what+"/cpu-s")
	}
}

// benchAddrs draws 64 Ki canonical addresses from the generated index
// (salt 0), from outside it (salt 1), or one in 20 from it and the rest
// from outside (salt 2).
func benchAddrs(salt uint64) []string {
	addrs := make([]string, 1<<16)
	for i := range addrs {
		s := salt
		if salt == 2 {
			s = min(uint64(i%20), 1)
		}
		addrs[i] = synthAddr(splitmix64(uint64(i))%uint64(synthN), s)
	}
	return addrs
}

// BenchmarkBaselineMap is the reference for BenchmarkIndexLookup in the
// same run: a Go map from the same canonical address strings to an
// indicator number (no evidence, no access decision), and its memory.
func BenchmarkBaselineMap(b *testing.B) {
	synthIndex(b)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	m := make(map[string]uint32, synthN)
	for i := range synthN {
		m[synthAddr(uint64(i), 0)] = uint32(i)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	for _, mode := range []struct {
		name string
		salt uint64
	}{{"hit", 0}, {"miss", 1}} {
		b.Run(mode.name, func(b *testing.B) {
			addrs := benchAddrs(mode.salt)
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(synthN), "heap-bytes/addr")
			found := 0
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := range b.N {
				if _, ok := m[addrs[i%len(addrs)]]; ok {
					found++
				}
			}
			reportRates(b, cpu0, "lookups")
			if (mode.salt == 0) != (found == b.N) {
				b.Fatalf("%d of %d found", found, b.N)
			}
		})
	}
	runtime.KeepAlive(m)
}

// BenchmarkScreen measures screening end to end (parsing and validating
// the inputs, lookups, evidence) on batches of 1000 addresses: 5 % listed,
// the rest not; EVM in canonical form, EVM with EIP-55 checksums, and a
// Bitcoin mix. ns/op is per batch. Each batch is screened into one reused
// Batch, as the server does.
func BenchmarkScreen(b *testing.B) {
	ix := synthIndex(b)
	pol := Operator(stix.TLPNone)
	for _, kind := range []string{"evm-canonical", "evm-checksummed", "mixed"} {
		b.Run(kind, func(b *testing.B) {
			batch := make([]string, 1000)
			for i := range batch {
				salt := uint64(1)
				if i%20 == 0 {
					salt = 0
				}
				var a string
				for try := uint64(0); a == "" || a[0] != '0'; try++ { // EVM ones
					a = synthAddr(splitmix64(uint64(i)<<8+try)%uint64(synthN), salt)
				}
				switch {
				case kind == "evm-checksummed":
					a = checksummed(a)
				case kind == "mixed" && i%2 == 1:
					a = []string{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
						"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"}[i%4]
				}
				batch[i] = a
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			var into Batch
			for i := 0; i < b.N; i++ {
				err := ix.ScreenBatch(context.Background(), pol, batch, &into)
				if err != nil || into.Results[0].Risk == None {
					b.Fatal("listed address not found", err)
				}
			}
			b.ReportMetric(float64(b.N)*float64(len(batch))/b.Elapsed().Seconds(), "addrs/s")
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(b.N)*float64(len(batch))/cpu.Seconds(), "addrs/cpu-s")
			}
		})
	}
}

func checksummed(a string) string {
	p, err := address.Parse(a)
	if err != nil {
		panic(err)
	}
	return p.Display()
}

// BenchmarkExposure screens addresses of a preferential-attachment
// transfer graph (hubs like exchanges; BENCH_SCREEN_GRAPH names a snapshot
// to use instead, e.g. one from bench/chaingen) with 1,000 random nodes
// listed as sanctioned, MaxHops 3 and the default budget. It reports the
// precomputation (one pass over the graph) and the per-address cost of
// indirect exposure; ns/op is per batch of 100 addresses.
func BenchmarkExposure(b *testing.B) {
	var g *graph.Graph
	if p := os.Getenv("BENCH_SCREEN_GRAPH"); p != "" {
		var err error
		if g, err = graph.OpenSnapshot(p); err != nil {
			b.Fatal(err)
		}
		defer g.Close()
	} else {
		g = paGraph(b, 200_000, 10)
	}
	ix := NewIndex(nil, IndexOptions{RebuildEvery: -1})
	st := ix.st
	st.collNum["c"] = 0
	st.colls = append(st.colls, collState{id: "c"})
	rng := rand.New(rand.NewPCG(1, 2))
	var batch []change
	for i := range 1000 {
		node := uint32(rng.IntN(g.NumNodes()))
		batch = append(batch, change{kind: kIndicator, id: fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", i), modified: 1,
			vis: visFacts{tlp: stix.TLPClear}, name: "listed", grade: gSevere, keys: [][]byte{appendKey(nil, g.Address(node))}})
	}
	st.reserve(batch, func() {}, func() {})
	for i := range batch {
		st.apply(&batch[i])
	}
	ix.loaded.Store(true)
	e := ix.AttachGraph(g, ExposureOptions{})
	start := time.Now()
	if err := e.Precompute(context.Background()); err != nil {
		b.Fatal(err)
	}
	es := e.Stats()
	b.Logf("graph: %d nodes, %d transfers; precomputation %v, %d sources in the graph, %d hubs with %d tainted in-transfers, %.0f MiB",
		g.NumNodes(), g.NumEdges(), time.Since(start).Round(time.Millisecond), es.Sources, es.Hubs, es.HubEdges, float64(es.Bytes)/(1<<20))
	addrs := make([]string, 100)
	pol := Operator(stix.TLPNone)
	exposed, truncated := 0, 0
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		for k := range addrs {
			addrs[k] = g.Address(uint32(rng.IntN(g.NumNodes())))
		}
		res, err := ix.Screen(context.Background(), pol, addrs)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			for _, reason := range r.Reasons {
				if reason.Indirect != nil {
					exposed++
					if reason.Indirect.Truncated {
						truncated++
					}
				}
			}
		}
	}
	n := float64(b.N * len(addrs))
	b.ReportMetric(n/b.Elapsed().Seconds(), "addrs/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(n/cpu.Seconds(), "addrs/cpu-s")
	}
	b.ReportMetric(100*float64(exposed)/n, "%exposed")
	b.ReportMetric(100*float64(truncated)/n, "%truncated")
}

// paGraph makes a directed preferential-attachment graph: node v is paid
// by m earlier nodes picked in proportion to their degree, at increasing
// times.
func paGraph(tb testing.TB, n, m int) *graph.Graph {
	rng := rand.New(rand.NewPCG(7, 7))
	bld := graph.NewBuilder()
	addr := func(i int) string { return fmt.Sprintf("0x%040x", uint64(i)*0x9e3779b97f4a7c15) }
	ends := []int{0}
	t := int64(1_600_000_000)
	for v := 1; v < n; v++ {
		for range m {
			u := ends[rng.IntN(len(ends))]
			from, to := u, v
			if rng.IntN(2) == 0 {
				from, to = v, u
			}
			t++
			if err := bld.Add(graph.Transfer{Time: t, From: addr(from), To: addr(to), Amount: graph.AmountFromUint64(1 + rng.Uint64N(1e18))}); err != nil {
				tb.Fatal(err)
			}
			ends = append(ends, u, v)
		}
	}
	return bld.Build()
}
