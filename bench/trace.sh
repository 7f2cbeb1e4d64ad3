#!/usr/bin/env bash
# Tracing benchmark (issue 5): Bulwark's taint models against python3-igraph's
# breadth-first search on the same generated 20-million-edge directed
# preferential-attachment graph, in one run; prints edges/s and the ratio.
#   bash bench/trace.sh            (needs: apt-get install python3-igraph)
#   bash bench/trace.sh big        also builds a 100-million-transfer snapshot and times opening it
set -euo pipefail
cd "$(dirname "$0")/.."
out="bench/out/trace"; mkdir -p "$out"
/usr/bin/python3 -c 'import igraph' 2>/dev/null || { echo "python3-igraph not installed (apt-get install python3-igraph)"; exit 1; }
go build -o bench/out/chaingen ./bench/chaingen
go build -o bench/out/tracebench ./bench/tracebench
n="${N:-2000000}"; m="${M:-10}"; runs="${RUNS:-7}"
if [ ! -s "$out/pa-$n-$m.snap" ]; then
	bench/out/chaingen -n "$n" -m "$m" -seed 1 -snapshot "$out/pa-$n-$m.snap" -edgelist "$out/pa-$n-$m.txt"
fi
ig=$(/usr/bin/python3 bench/igraph_bfs.py "$out/pa-$n-$m.txt" "$runs")
echo "$ig"
bw=$(bench/out/tracebench -snapshot "$out/pa-$n-$m.snap" -runs "$runs" -hops -1 -models poison)
bw="$bw
$(bench/out/tracebench -snapshot "$out/pa-$n-$m.snap" -runs "$runs" -hops -1 -min 1e16 -clean-shortfall -models haircut,fifo | tail -n2)"
echo "$bw"
bw10=$(bench/out/tracebench -snapshot "$out/pa-$n-$m.snap" -runs "$runs" -hops 10 -models poison | tail -n1)
echo "hops≤10: $bw10"
igr=$(sed -n 's/.*: \([0-9.]*\) M edges\/s.*/\1/p' <<<"$ig")
while read -r line; do
	r=$(sed -n 's/.*: \([0-9.]*\) M edges\/s.*/\1/p' <<<"$line")
	[ -n "$r" ] && awk -v m="$(awk '{print $1}' <<<"$line")" -v r="$r" -v i="$igr" 'BEGIN { printf "%-8s %.1f M edges/s = %.1fx igraph BFS (%.1f M edges/s)\n", m, r, r/i, i }'
done <<<"$bw"
if [ "${1:-}" = big ]; then
	big="$out/pa-10000000-10.snap"
	[ -s "$big" ] || bench/out/chaingen -n 10000000 -m 10 -seed 1 -sorted -snapshot "$big"
	sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
	bench/out/tracebench -snapshot "$big" -open-only
	bench/out/tracebench -snapshot "$big" -runs 3 -hops -1
fi
