// Command chaingen generates a deterministic directed preferential-attachment
// transfer graph for the tracing benchmarks: node v joins and is paid by m
// earlier nodes chosen in proportion to their degree (so hubs, like
// exchanges, pay and are paid a lot), each transfer with a random time and
// amount. It writes the graph as a Bulwark snapshot and, for the peer tool,
// as a plain edge list that python3-igraph reads with Graph.Read_Edgelist.
//
//	go run ./bench/chaingen -n 2000000 -m 10 -seed 1 -snapshot pa.snap -edgelist pa.txt
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

func main() {
	n := flag.Int("n", 2_000_000, "nodes")
	m := flag.Int("m", 10, "transfers paid to each new node")
	seed := flag.Uint64("seed", 1, "random seed")
	span := flag.Int64("span", 365*24*3600, "seconds over which transfer times spread")
	snap := flag.String("snapshot", "", "write a graph snapshot here")
	edges := flag.String("edgelist", "", "write a 'from to' edge list here (0-based node numbers)")
	sorted := flag.Bool("sorted", false, "give transfers increasing times (no sort at build: for the 100M-transfer snapshot)")
	flag.Parse()
	if *n < 2 || *m < 1 {
		log.Fatal("need n ≥ 2 and m ≥ 1")
	}
	start := time.Now()
	rng := rand.New(rand.NewPCG(*seed, 0xb01))
	var el *bufio.Writer
	if *edges != "" {
		f, err := os.Create(*edges)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		el = bufio.NewWriterSize(f, 1<<20)
		defer el.Flush()
	}
	b := graph.NewBuilder()
	addr := make([]string, *n)
	for i := range addr {
		addr[i] = fmt.Sprintf("0x%040x", uint64(i)*0x9e3779b97f4a7c15)
		if _, err := b.Node(addr[i]); err != nil {
			log.Fatal(err)
		}
	}
	// ends lists every transfer's endpoints, so a uniform pick from it is a
	// pick in proportion to degree.
	ends := make([]uint32, 0, 2*(*n)*(*m))
	ends = append(ends, 0)
	const t0 = 1_600_000_000
	var line []byte
	for v := 1; v < *n; v++ {
		k := min(*m, v)
		for j := 0; j < k; j++ {
			u := ends[rng.IntN(len(ends))]
			tr := graph.Transfer{
				From:   addr[u],
				To:     addr[v],
				Time:   t0 + rng.Int64N(*span),
				Amount: graph.AmountFromUint64(1 + rng.Uint64N(1e18)),
			}
			if *sorted {
				tr.Time = t0 + int64(float64(v)/float64(*n)*float64(*span))
			}
			if err := b.Add(tr); err != nil {
				log.Fatal(err)
			}
			ends = append(ends, u, uint32(v))
			if el != nil {
				line = strconv.AppendUint(line[:0], uint64(u), 10)
				line = append(line, ' ')
				line = strconv.AppendUint(line, uint64(v), 10)
				line = append(line, '\n')
				el.Write(line)
			}
		}
	}
	ends = nil
	g := b.Build()
	e, nb, side := g.MemoryBytes()
	fmt.Fprintf(os.Stderr, "chaingen: %v in %.1fs; memory %d B/transfer in edges, %.0f MB nodes, %.0f MB side tables\n",
		g, time.Since(start).Seconds(), e/int64(max(1, g.NumEdges())), float64(nb)/1e6, float64(side)/1e6)
	if *snap != "" {
		if err := g.SaveSnapshot(*snap); err != nil {
			log.Fatal(err)
		}
	}
}
