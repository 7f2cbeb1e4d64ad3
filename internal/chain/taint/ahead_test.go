package taint

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// The lookahead must hand out exactly the transfers that touch taint as
// known when the loop reaches them, plus the seeds, in stream order,
// however taint grows inside a block.
func TestLookaheadPicks(t *testing.T) {
	const nodes, edges = 300, 5000
	for trial := range 50 {
		rng := rand.New(rand.NewPCG(uint64(trial), 7))
		from, to := make([]uint32, edges), make([]uint32, edges)
		for i := range from {
			from[i], to[i] = rng.Uint32N(nodes), rng.Uint32N(nodes)
		}
		var seeds []uint32
		for i := uint32(0); i < edges; i += 1 + rng.Uint32N(900) {
			seeds = append(seeds, i)
		}
		seeds = append(seeds, graph.NoTx)
		start, end := rng.Uint32N(100), uint32(edges)-rng.Uint32N(100)
		for len(seeds) > 1 && seeds[0] < start {
			seeds = seeds[1:]
		}

		// What the loop must see: walk the stream edge by edge; a handed
		// out transfer reaches its receiver now and then.
		seenRef := make([]uint64, bitsetWords(nodes))
		seen := make([]uint64, len(seenRef))
		reach := func(set []uint64, v uint32) bool {
			if has(set, v) {
				return false
			}
			set[v/64] |= 1 << (v % 64)
			return true
		}
		reach(seenRef, 0)
		reach(seen, 0)
		decide := rand.New(rand.NewPCG(uint64(trial), 9))
		var want []uint32
		for i, k := start, 0; i < end; i++ {
			isSeed := seeds[k] == i
			if isSeed {
				k++
			}
			if isSeed || has(seenRef, from[i]) || has(seenRef, to[i]) {
				want = append(want, i)
				if decide.IntN(3) == 0 {
					reach(seenRef, to[i])
				}
			}
		}

		la := &lookahead{from: from, to: to, seen: seen, hops: make([]uint8, nodes), idx: make([]int32, nodes),
			lo: make([]uint64, edges), hi: make([]uint32, edges), seeds: seeds}
		decide = rand.New(rand.NewPCG(uint64(trial), 9))
		reached := 1
		var got []uint32
		for b := start; b < end; b += aheadBlock {
			la.block(b, min(b+aheadBlock, end), reached)
			for {
				i, ok := la.next(reached)
				if !ok {
					break
				}
				got = append(got, i)
				if decide.IntN(3) == 0 && reach(seen, to[i]) {
					reached++
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d: handed out %d transfers, want %d\n got %v\nwant %v", trial, len(got), len(want), got, want)
		}
	}
}
