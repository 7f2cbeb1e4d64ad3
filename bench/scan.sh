#!/usr/bin/env bash
# Scan benchmark (issue 4): `bulwark scan` against ripgrep (`rg -F -f`, the
# tool analysts reach for) over the same generated Zeek DNS JSON-lines log
# with the same domain indicators, in one run. Prints both tools' MB/s, the
# ratio and peak memory, at 10,000 / 100,000 / 1,000,000 indicators.
#   bash bench/scan.sh [MB]      (needs ripgrep: apt-get install ripgrep)
set -euo pipefail
cd "$(dirname "$0")/.."
mb="${1:-200}"
out="bench/out/scan"; mkdir -p "$out"
command -v rg >/dev/null || { echo "ripgrep not installed (apt-get install ripgrep)"; exit 1; }
go build -o bench/out/bulwark ./cmd/bulwark
go build -o bench/out/scangen ./bench/scangen
for n in 10000 100000 1000000; do
	bench/out/scangen -seed 1 -mb "$mb" -indicators "$n" -planted 1000 -log "$out/dns.json" -out "$out/ind-$n.txt"
	bytes=$(stat -c %s "$out/dns.json")
	/usr/bin/time -f "%e %M" -o "$out/rg.time" rg -F -c -f "$out/ind-$n.txt" "$out/dns.json" > "$out/rg.count" || true
	/usr/bin/time -f "%e %M" -o "$out/bw.time" bench/out/bulwark scan --format zeekjson --indicators "$out/ind-$n.txt" "$out/dns.json" > "$out/bw.hits" 2> "$out/bw.err"
	read -r rgs rgm < "$out/rg.time"; read -r bws bwm < "$out/bw.time"
	# bulwark's own summary: throughput of the scan proper, after loading.
	scanonly=$(sed -n 's/.*(\([0-9.]*\) MB\/s).*/\1/p' "$out/bw.err" | head -n1)
	awk -v n="$n" -v b="$bytes" -v rs="$rgs" -v rm="$rgm" -v bs="$bws" -v bm="$bwm" -v so="$scanonly" -v rh="$(cat "$out/rg.count")" -v bh="$(wc -l < "$out/bw.hits")" 'BEGIN {
		printf "%8d indicators, %d MB: ripgrep %.1f MB/s (%d MB RSS, %d matching lines) | bulwark %.1f MB/s end to end, %.1f MB/s scanning (%d MB RSS, %d hits) | ratio %.1fx end to end, %.1fx scanning\n",
			n, b/1e6, b/1e6/rs, rm/1024, rh, b/1e6/bs, so, bm/1024, bh, rs/bs, so/(b/1e6/rs) }'
done
