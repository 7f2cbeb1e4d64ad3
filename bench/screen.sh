#!/usr/bin/env bash
# Screening benchmark (issue 5): POST /api/v1/screen on loopback, driven by
# bench/screenload (Go, same machine) and, when installed, by wrk
# (apt-get install wrk).
#
# A store gets N generated wallet indicators (default 100,000: 85 % EVM,
# 15 % Bitcoin, CLEAR, in one collection) and the OFAC SDN entity map of
# the corpus; an organisation cleared AMBER with a read grant asks with its
# token, so every request pays authentication and the access decision.
# `bulwark serve` runs with plain HTTP and with HTTPS (its default, the
# self-signed certificate), one after the other. Per scheme:
#   single address per request, 1, 4 and 16 clients (target ≥ 20,000 req/s, p99 < 2 ms)
#   1,000 addresses per request, 1 and 2 clients   (target p99 < 5 ms)
# 5 % of the addresses are listed, the rest random unlisted EVM addresses.
# With wrk, each single-address case over plain HTTP is followed by the same
# case against the floor (screenload -hello: net/http answering a fixed
# body, no work), which says how much of the host's HTTP capacity Bulwark
# uses. Then the same API without the access service (screenload -serve,
# plain HTTP, no token), to show what the per-request access decision costs.
# The in-process benchmarks (10 million addresses) are Go benchmarks:
#   go test ./internal/chain/screen/ -run '^$' -bench 'Index|Screen|Baseline' -benchtime 3s
#
#   bash bench/screen.sh
# Environment:
#   N=100000        generated listings
#   ROUNDS=1        repeat the whole run
#   SCHEMES="http https"
#   DURATION=10s    measured time per case
#   NO_BASELINE=1   skip the run without the access service (screenload -serve)
set -euo pipefail
cd "$(dirname "$0")/.."
out="bench/out"; mkdir -p "$out"
go build -o "$out/bulwark" ./cmd/bulwark
go build -o "$out/screenload" ./bench/screenload
bw="$out/bulwark"
n="${N:-100000}"
dur="${DURATION:-10s}"
entitymap="../shared/corpus/chain/ofac_sdn_entity_map/sanctioned-addresses.json"

dir="$out/screen"; rm -rf "$dir"; mkdir -p "$dir"
"$out/screenload" -gen "$dir" -n "$n"
db="$dir/bulwark.db"
"$bw" org add bench --clearance amber --db "$db" >/dev/null
"$bw" collection add wallets --read bench --default-tlp clear --db "$db" >/dev/null
t0=$(date +%s.%N)
"$bw" import --quiet --collection wallets --db "$db" "$dir/wallets.json" >/dev/null 2>&1
[ -f "$entitymap" ] && "$bw" import --quiet --collection wallets --db "$db" "$entitymap" >/dev/null 2>&1
echo "imported $n generated listings (+ the OFAC entity map) in $(echo "$(date +%s.%N) - $t0" | bc) s"
token="$("$bw" token create bench --db "$db" 2>/dev/null | awk '/^token:/{print $2}')"

# wrk_case single|batch CONNECTIONS: wrk against $url with $token, one
# address (one in twenty listed) or 1,000 (5 % listed) per request.
# wrk_case KIND CONNECTIONS [URL LABEL]: one wrk run against $url, or URL.
wrk_case() {
	local kind="$1" c="$2" script="$dir/wrk-$1.lua" target="${3:-$url}" label="${4:-$1}"
	if [ ! -f "$script" ]; then
		cat > "$script" <<LUA
local listed = {}
for line in io.lines("$dir/listed.txt") do
  listed[#listed + 1] = line
  if #listed >= 20000 then break end
end
local n = 0
local function addr(k)
  if k % 20 == 0 then return listed[(k / 20) % #listed + 1] end
  return string.format("0x%040x", (k * 2654435761) % 2^52)
end
local bodies = {}
if "$kind" == "batch" then
  for b = 1, 16 do
    local a = {}
    for i = 1, 1000 do a[i] = '"' .. addr(b * 1000 + i) .. '"' end
    bodies[b] = '{"addresses":[' .. table.concat(a, ",") .. ']}'
  end
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local body = bodies[n % 16 + 1]
  if body == nil then body = '{"addresses":["' .. addr(n) .. '"]}' end
  return wrk.format(nil, "/api/v1/screen", nil, body)
end
LUA
	fi
	printf "wrk, %-6s x %d connections: " "$label" "$c"
	wrk -t 1 -c "$c" -d "$dur" --latency -H "Authorization: Bearer $token" -s "$script" "$target" |
		awk '/^ +50%/{p50=$2} /^ +99%/{p99=$2} /Requests\/sec/{rps=$2} /Non-2xx/{bad=$NF} END {printf "%s req/s, p50 %s, p99 %s%s\n", rps, p50, p99, bad ? ", " bad " non-2xx" : ""}'
}

port=18490
# The floor: a Go server that reads each request and writes a fixed answer,
# nothing else (screenload -hello). On a shared 2-core virtual machine the
# kernel's loopback and net/http bound single-address throughput; wrk runs
# against it alternate with those against Bulwark, so both see the same
# phase of the host.
floor=""
if command -v wrk >/dev/null; then
	"$out/screenload" -hello -listen "127.0.0.1:$((port + 2))" 2>/dev/null &
	floor_pid=$!
	trap 'kill $floor_pid 2>/dev/null || true' EXIT
	floor="http://127.0.0.1:$((port + 2))"
	for _ in $(seq 1 100); do curl -sf "$floor/healthz" >/dev/null && break; sleep 0.1; done
fi
for round in $(seq 1 "${ROUNDS:-1}"); do
	for scheme in ${SCHEMES:-http https}; do
		flags=()
		[ "$scheme" = http ] && flags=(--insecure-http)
		"$bw" serve "${flags[@]}" --listen "127.0.0.1:$port" --db "$db" >/dev/null 2>"$out/serve-screen.log" &
		pid=$!
		for _ in $(seq 1 100); do curl -skf "$scheme://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
		url="$scheme://127.0.0.1:$port"
		# The first screening request loads the index; time it.
		t0=$(date +%s.%N)
		curl -skf -H "Authorization: Bearer $token" -d '{"addresses":["0x0000000000000000000000000000000000000001"]}' "$url/api/v1/screen" >/dev/null
		echo "== round $round, $scheme: index loaded by the first request in $(echo "$(date +%s.%N) - $t0" | bc) s"
		load=("$out/screenload" -url "$url" -token "$token" -listed "$dir/listed.txt" -server-pid "$pid" -duration "$dur")
		"${load[@]}" -batch 1 -clients 1
		"${load[@]}" -batch 1 -clients 4
		"${load[@]}" -batch 1 -clients 16
		"${load[@]}" -batch 1000 -clients 1 -variants 64
		"${load[@]}" -batch 1000 -clients 2 -variants 64
		if command -v wrk >/dev/null; then
			# wrk (C, one event-loop thread) leaves more of the two cores to
			# the server than the Go load generator does.
			for c in 1 2 3 4; do
				wrk_case single "$c"
				[ "$scheme" = http ] && wrk_case single "$c" "$floor" floor
			done
			for c in 1 2; do wrk_case batch "$c"; done
		fi
		echo "server memory: $(awk '/VmHWM|VmRSS/{printf "%s %.0f MB  ", $1, $2/1024}' /proc/$pid/status)"
		kill "$pid"; wait "$pid" 2>/dev/null || true
	done
	if [ -z "${NO_BASELINE:-}" ]; then
		# The same API without the access service (plain HTTP, no token):
		# what the per-request access decision costs.
		"$out/screenload" -serve "$db" -listen "127.0.0.1:$((port + 1))" 2>"$out/serve-screen-noaccess.log" &
		pid=$!
		url="http://127.0.0.1:$((port + 1))"
		for _ in $(seq 1 100); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.1; done
		curl -sf -d '{"addresses":["0x0000000000000000000000000000000000000001"]}' "$url/api/v1/screen" >/dev/null
		echo "== round $round, http without the access service"
		load=("$out/screenload" -url "$url" -listed "$dir/listed.txt" -server-pid "$pid" -duration "$dur")
		"${load[@]}" -batch 1 -clients 1
		"${load[@]}" -batch 1 -clients 4
		"${load[@]}" -batch 1 -clients 16
		"${load[@]}" -batch 1000 -clients 1 -variants 64
		kill "$pid"; wait "$pid" 2>/dev/null || true
	fi
done
