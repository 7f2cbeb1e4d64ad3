package taint

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// benchGraph is a directed preferential-attachment transfer graph with
// random times and amounts, like bench/chaingen's, small enough to build in
// a benchmark: 200,000 addresses and 2 million transfers.
var benchGraph = sync.OnceValue(func() *graph.Graph {
	const n, m = 200_000, 10
	rng := rand.New(rand.NewPCG(1, 0xb01))
	b := graph.NewBuilder()
	addr := make([]string, n)
	for i := range addr {
		addr[i] = fmt.Sprintf("0x%040x", uint64(i)*0x9e3779b97f4a7c15)
	}
	ends := []uint32{0}
	for v := 1; v < n; v++ {
		for range min(m, v) {
			u := ends[rng.IntN(len(ends))]
			b.Add(graph.Transfer{From: addr[u], To: addr[v], Time: 1_600_000_000 + rng.Int64N(365*86400),
				Amount: graph.AmountFromUint64(1 + rng.Uint64N(1e18))})
			ends = append(ends, u, uint32(v))
		}
	}
	return b.Build()
})

func benchModel(b *testing.B, m Model, hops int, minValue float64) {
	g := benchGraph()
	seed := []Seed{{Address: g.Address(0)}}
	b.ResetTimer()
	var scanned int64
	for b.Loop() {
		r, err := Trace(g, seed, Options{Model: m, MaxHops: hops, MinValue: minValue})
		if err != nil {
			b.Fatal(err)
		}
		scanned += r.Scanned
	}
	b.ReportMetric(float64(scanned)/b.Elapsed().Seconds()/1e6, "Medges/s")
}

func BenchmarkPoisonUnlimited(b *testing.B) { benchModel(b, Poison, Unlimited, 0) }
func BenchmarkPoison10Hops(b *testing.B)    { benchModel(b, Poison, 10, 0) }
func BenchmarkHaircut(b *testing.B)         { benchModel(b, Haircut, Unlimited, 1e15) }
func BenchmarkFIFO(b *testing.B)            { benchModel(b, FIFO, Unlimited, 1e15) }
