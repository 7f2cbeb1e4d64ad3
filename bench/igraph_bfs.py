# Peer for bench/trace.sh: breadth-first search of python3-igraph (Debian
# package) over the same edge list that bench/chaingen wrote for Bulwark.
#   /usr/bin/python3 bench/igraph_bfs.py EDGELIST RUNS
#   /usr/bin/python3 bench/igraph_bfs.py EDGELIST serve
# In serve mode it loads the graph, prints "ready EDGES NODES", then runs
# one search per line read from stdin and prints "SECONDS REACHED", so that
# tracebench -peer can alternate its runs with Bulwark's on the same host
# phase (this machine is shared and its speed swings for minutes at a time).
import resource, statistics, sys, time
import igraph

path, runs = sys.argv[1], sys.argv[2]
t = time.perf_counter()
g = igraph.Graph.Read_Edgelist(path, directed=True)
load = time.perf_counter() - t


def bfs():
    t = time.perf_counter()
    vids, _, _ = g.bfs(0, mode="out")
    return time.perf_counter() - t, len(vids)


if runs == "serve":
    print(f"ready {g.ecount()} {g.vcount()}", flush=True)
    for _ in sys.stdin:
        took, reached = bfs()
        print(f"{took:.6f} {reached}", flush=True)
    sys.exit(0)

times = []
for _ in range(int(runs)):
    took, reached = bfs()
    times.append(took)
med = statistics.median(times)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(f"igraph   median {med:.3f}s best {min(times):.3f}s: {g.ecount() / med / 1e6:.1f} M edges/s (median), "
      f"{reached} reached of {g.vcount()}, load {load:.1f}s, peak RSS {rss} MB")
