#!/usr/bin/env bash
# TAXII benchmark (issue 3): the 24,771 ATT&CK objects in one collection,
# served by `bulwark serve` on loopback (plain HTTP, to measure the server
# rather than TLS), driven by bench/taxiiload. Runs on SQLite, and on
# PostgreSQL when a server answers on 127.0.0.1:5432.
#   bash bench/taxii.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bundle="${BUNDLE:-../shared/corpus/attack/enterprise-attack-stix20.json}"
pg="${BULWARK_PG_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
export PGOPTIONS="-c client_min_messages=warning"
out="bench/out"; mkdir -p "$out"
go build -o "$out/bulwark" ./cmd/bulwark
go build -o "$out/taxiiload" ./bench/taxiiload
bw="$out/bulwark"

run_backend() { # name db
	local name="$1" db="$2" port=18480
	"$bw" org add bench --clearance red --db "$db" >/dev/null
	"$bw" collection add attack --read bench --write bench --default-tlp clear --db "$db" >/dev/null
	"$bw" collection add posts --read bench --write bench --db "$db" >/dev/null
	"$bw" import --quiet --collection attack --db "$db" "$bundle" >/dev/null 2>&1
	local token coll posts
	token="$("$bw" token create bench --db "$db" 2>/dev/null | tail -n1 | awk '{print $NF}')"
	coll="$("$bw" collection list --db "$db" | awk '$2=="attack"{print $1}')"
	posts="$("$bw" collection list --db "$db" | awk '$2=="posts"{print $1}')"
	"$bw" serve --insecure-http --listen "127.0.0.1:$port" --db "$db" >/dev/null 2>"$out/serve-$name.log" &
	local pid=$!
	for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
	local api="http://127.0.0.1:$port/taxii2/api/"
	echo "== $name"
	for i in 1 2 3; do "$out/taxiiload" -url "$api" -token "$token" -collection "$coll" -mode all -limit 1000; done
	"$out/taxiiload" -url "$api" -token "$token" -collection "$coll" -mode pages -limit 100 -clients 1 -duration 10s
	"$out/taxiiload" -url "$api" -token "$token" -collection "$coll" -mode pages -limit 100 -clients 64 -duration 15s
	echo "server peak RSS: $(awk '/VmHWM/{print $2/1024 " MB"}' /proc/$pid/status)"
	"$out/taxiiload" -url "$api" -token "$token" -collection "$posts" -mode post -n 10000
	kill "$pid"; wait "$pid" 2>/dev/null || true
}

rm -rf "$out/taxii-db"; mkdir -p "$out/taxii-db"
run_backend sqlite "$out/taxii-db/bulwark.db"
if [ -z "${SQLITE_ONLY:-}" ] && pg_isready -q -h 127.0.0.1 -p 5432; then
	schema="bench_taxii_$$"
	psql -q "$pg" -c "CREATE SCHEMA $schema" >/dev/null
	run_backend postgres "$pg&search_path=$schema"
	psql -q "$pg" -c "DROP SCHEMA $schema CASCADE" >/dev/null
fi
