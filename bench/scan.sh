#!/usr/bin/env bash
# Scan benchmark (issue 4): `bulwark scan` against ripgrep (`rg -F -f`, the
# tool analysts reach for) over the same generated Zeek DNS JSON-lines log
# with the same domain indicators, in one run. Prints both tools' MB/s, the
# ratio and peak memory, at 10,000 / 100,000 / 1,000,000 indicators.
#   bash bench/scan.sh [MB] [ROUNDS]   (needs ripgrep: apt-get install ripgrep)
#   SIZES="10000 100000" bash bench/scan.sh 500 3
# Each round runs every size once, ripgrep and bulwark back to back. This
# machine's speed changes by up to 2x from one minute to the next, so the
# summary compares each tool's best round (its speed when it was not
# slowed) as well as listing every round.
set -euo pipefail
cd "$(dirname "$0")/.."
mb="${1:-200}"
rounds="${2:-1}"
sizes="${SIZES:-10000 100000 1000000}"
out="bench/out/scan"; mkdir -p "$out"
command -v rg >/dev/null || { echo "ripgrep not installed (apt-get install ripgrep)"; exit 1; }
go build -o bench/out/bulwark ./cmd/bulwark
go build -o bench/out/scangen ./bench/scangen
for n in $sizes; do
	# The same seed gives the same log for every size: only the indicator
	# list grows (its first 1,000 names are the planted ones).
	bench/out/scangen -seed 1 -mb "$mb" -indicators "$n" -planted 1000 -log "$out/dns.json" -out "$out/ind-$n.txt"
done
bytes=$(stat -c %s "$out/dns.json")
echo "log: $((bytes / 1000000)) MB, $(wc -l < "$out/dns.json") lines; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
: > "$out/rounds.txt"
for r in $(seq 1 "$rounds"); do
	for n in $sizes; do
		/usr/bin/time -f "%e %M %U %S" -o "$out/rg.time" rg -F -c -f "$out/ind-$n.txt" "$out/dns.json" > "$out/rg.count" || true
		/usr/bin/time -f "%e %M %U %S" -o "$out/bw.time" bench/out/bulwark scan --format zeekjson --indicators "$out/ind-$n.txt" "$out/dns.json" > "$out/bw.hits" 2> "$out/bw.err"
		read -r rgs rgm rgu rgsy < "$out/rg.time"; read -r bws bwm bwu bwsy < "$out/bw.time"
		# bulwark's own summary: throughput of the scan proper, after loading.
		scanonly=$(sed -n 's/.*(\([0-9.]*\) MB\/s).*/\1/p' "$out/bw.err" | sed -n 1p)
		awk -v r="$r" -v n="$n" -v b="$bytes" -v rs="$rgs" -v rm="$rgm" -v rc="$(echo "$rgu + $rgsy" | bc)" -v bs="$bws" -v bm="$bwm" -v bc="$(echo "$bwu + $bwsy" | bc)" -v so="$scanonly" -v rh="$(cat "$out/rg.count")" -v bh="$(wc -l < "$out/bw.hits")" 'BEGIN {
			printf "round %d, %8d indicators: ripgrep %.1f MB/s (%.1f s cpu, %d MB RSS, %d matching lines) | bulwark %.1f MB/s end to end, %.1f MB/s scanning (%.1f s cpu, %d MB RSS, %d hits) | ratio %.1fx end to end, %.1fx scanning\n",
				r, n, b/1e6/rs, rc, rm/1024, rh, b/1e6/bs, so, bc, bm/1024, bh, rs/bs, so/(b/1e6/rs) }'
		echo "$n $rgs $bws $scanonly" >> "$out/rounds.txt"
	done
done
if [ "$rounds" -gt 1 ]; then
	echo "best of $rounds rounds:"
	sort -n "$out/rounds.txt" | awk -v b="$bytes" '
		{ if (!($1 in rg) || $2 < rg[$1]) rg[$1] = $2; if (!($1 in bw) || $3 < bw[$1]) bw[$1] = $3; if ($4 > sc[$1]) sc[$1] = $4; if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
		END { for (i = 1; i <= k; i++) { n = order[i]
			printf "%8d indicators: ripgrep %.1f MB/s | bulwark %.1f MB/s end to end, %.1f MB/s scanning | ratio %.1fx end to end, %.1fx scanning\n",
				n, b/1e6/rg[n], b/1e6/bw[n], sc[n], rg[n]/bw[n], sc[n]/(b/1e6/rg[n]) } }'
fi
