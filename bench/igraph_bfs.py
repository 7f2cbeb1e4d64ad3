# Peer for bench/trace.sh: breadth-first search of python3-igraph (Debian
# package) over the same edge list that bench/chaingen wrote for Bulwark.
#   /usr/bin/python3 bench/igraph_bfs.py EDGELIST RUNS
import resource, statistics, sys, time
import igraph

path, runs = sys.argv[1], int(sys.argv[2])
t = time.perf_counter()
g = igraph.Graph.Read_Edgelist(path, directed=True)
load = time.perf_counter() - t
times = []
for _ in range(runs):
    t = time.perf_counter()
    vids, _, _ = g.bfs(0, mode="out")
    times.append(time.perf_counter() - t)
med = statistics.median(times)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(f"igraph   median {med:.3f}s best {min(times):.3f}s: {g.ecount() / med / 1e6:.1f} M edges/s (median), "
      f"{len(vids)} reached of {g.vcount()}, load {load:.1f}s, peak RSS {rss} MB")
