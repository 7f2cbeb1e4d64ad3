// Command tracebench opens a graph snapshot and times each taint model from
// one seed, printing edges per second (edges of the stream examined, divided
// by wall time), the tainted count, the time to open the snapshot and the
// process's resident memory. bench/trace.sh runs it beside python3-igraph.
//
//	go run ./bench/tracebench -snapshot pa.snap -seed-node 0 -runs 5
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
	"github.com/bulwark-intel/bulwark/internal/chain/taint"
)

func main() {
	path := flag.String("snapshot", "", "graph snapshot")
	seedNode := flag.Int("seed-node", 0, "node number of the seed address")
	runs := flag.Int("runs", 5, "runs per model")
	models := flag.String("models", "poison,haircut,fifo", "models to time")
	minValue := flag.Float64("min", 0, "minimum taint value")
	hops := flag.Int("hops", taint.MaxHopsLimit, "maximum hops")
	openOnly := flag.Bool("open-only", false, "only time opening the snapshot")
	clean := flag.Bool("clean-shortfall", false, "haircut/FIFO: payments beyond the visible balance are clean (generated graphs have no balance-consistent amounts)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile here")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}

	t0 := time.Now()
	g, err := graph.OpenSnapshot(*path)
	if err != nil {
		log.Fatal(err)
	}
	open := time.Since(t0)
	fmt.Printf("open %s: %v in %.2fs, RSS %d MB\n", *path, g, open.Seconds(), rssMB())
	if *openOnly {
		return
	}
	seed := g.Address(graph.NodeID(*seedNode))
	for _, name := range strings.Split(*models, ",") {
		m, err := taint.ParseModel(name)
		if err != nil {
			log.Fatal(err)
		}
		var times []time.Duration
		var r *taint.Result
		for range *runs {
			s := time.Now()
			opt := taint.Options{Model: m, MaxHops: *hops, MinValue: *minValue}
			if *clean {
				opt.Shortfall = taint.Clean
			}
			r, err = taint.Trace(g, []taint.Seed{{Address: seed}}, opt)
			if err != nil {
				log.Fatal(err)
			}
			times = append(times, time.Since(s))
		}
		// The first run is what a one-shot trace (the CLI) costs: its
		// arrays are fresh memory, which later runs reuse.
		first := times[0]
		slices.Sort(times)
		med := times[len(times)/2]
		fmt.Printf("%-8s median %.3fs best %.3fs first %.3fs: %.1f M edges/s (median), %d tainted of %d, RSS %d MB\n",
			m, med.Seconds(), times[0].Seconds(), first.Seconds(), float64(r.Scanned)/med.Seconds()/1e6, r.Len(), g.NumNodes(), rssMB())
	}
}

// rssMB reads the resident set size from /proc (Linux).
func rssMB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			var kb int
			fmt.Sscanf(strings.TrimSpace(l[6:]), "%d", &kb)
			return kb / 1024
		}
	}
	return 0
}
