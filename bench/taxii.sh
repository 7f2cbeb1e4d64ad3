#!/usr/bin/env bash
# TAXII benchmark (issue 3): the 24,771 ATT&CK objects in one collection,
# served by `bulwark serve` over HTTPS on loopback (its self-signed
# certificate), driven by bench/taxiiload. Runs on SQLite, and on
# PostgreSQL when a server answers on 127.0.0.1:5432.
#   bash bench/taxii.sh
# Environment:
#   SQLITE_ONLY=1        skip PostgreSQL
#   INSECURE_HTTP=1      serve plain HTTP instead (to separate TLS's share)
#   BASELINE=path        also run this other bulwark binary (say, one built
#                        from an older commit) against the same databases,
#                        interleaved with the current one, for ratios
#   ROUNDS=n             repeat the page runs n times (default 1)
set -euo pipefail
cd "$(dirname "$0")/.."
bundle="${BUNDLE:-../shared/corpus/attack/enterprise-attack-stix20.json}"
pg="${BULWARK_PG_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
export PGOPTIONS="-c client_min_messages=warning"
out="bench/out"; mkdir -p "$out"
go build -o "$out/bulwark" ./cmd/bulwark
go build -o "$out/taxiiload" ./bench/taxiiload
bw="$out/bulwark"
scheme=https; flags=()
if [ -n "${INSECURE_HTTP:-}" ]; then scheme=http; flags=(--insecure-http); fi

setup() { # db → prints "token coll posts"
	local db="$1"
	"$bw" org add bench --clearance red --db "$db" >/dev/null
	"$bw" collection add attack --read bench --write bench --default-tlp clear --db "$db" >/dev/null
	"$bw" collection add posts --read bench --write bench --db "$db" >/dev/null
	"$bw" import --quiet --collection attack --db "$db" "$bundle" >/dev/null 2>&1
	local token coll posts
	token="$("$bw" token create bench --db "$db" 2>/dev/null | tail -n1 | awk '{print $NF}')"
	coll="$("$bw" collection list --db "$db" | awk '$2=="attack"{print $1}')"
	posts="$("$bw" collection list --db "$db" | awk '$2=="posts"{print $1}')"
	echo "$token $coll $posts"
}

serve_and_load() { # label binary db token coll posts post?
	local label="$1" bin="$2" db="$3" token="$4" coll="$5" posts="$6" post="$7" port=18480
	"$bin" serve "${flags[@]}" --listen "127.0.0.1:$port" --db "$db" >/dev/null 2>"$out/serve-$label.log" &
	local pid=$!
	for _ in $(seq 1 100); do curl -skf "$scheme://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
	local api="$scheme://127.0.0.1:$port/taxii2/api/"
	local load=("$out/taxiiload" -url "$api" -token "$token" -collection "$coll" -server-pid "$pid")
	echo "== $label ($scheme)"
	for _ in 1 2 3; do "${load[@]}" -mode all -limit 1000; done
	"${load[@]}" -mode pages -limit 100 -clients 1 -duration 10s
	"${load[@]}" -mode next -limit 100 -clients 1 -duration 10s
	"${load[@]}" -mode pages -limit 100 -clients 64 -duration 15s
	"${load[@]}" -mode next -limit 100 -clients 64 -duration 15s
	echo "server memory: $(awk '/VmHWM|VmRSS/{printf "%s %.0f MB  ", $1, $2/1024}' /proc/$pid/status)"
	if [ "$post" = post ]; then
		"$out/taxiiload" -url "$api" -token "$token" -collection "$posts" -mode post -n 10000
	fi
	kill "$pid"; wait "$pid" 2>/dev/null || true
}

run_backend() { # name db
	local name="$1" db="$2"
	read -r token coll posts < <(setup "$db")
	for round in $(seq 1 "${ROUNDS:-1}"); do
		if [ -n "${BASELINE:-}" ]; then
			serve_and_load "$name-baseline" "$BASELINE" "$db" "$token" "$coll" "$posts" no
		fi
		local post=no
		[ "$round" = 1 ] && post=post
		serve_and_load "$name" "$bw" "$db" "$token" "$coll" "$posts" "$post"
	done
}

rm -rf "$out/taxii-db"; mkdir -p "$out/taxii-db"
run_backend sqlite "$out/taxii-db/bulwark.db"
if [ -z "${SQLITE_ONLY:-}" ] && pg_isready -q -h 127.0.0.1 -p 5432; then
	schema="bench_taxii_$$"
	psql -q "$pg" -c "CREATE SCHEMA $schema" >/dev/null
	run_backend postgres "$pg&search_path=$schema"
	psql -q "$pg" -c "DROP SCHEMA $schema CASCADE" >/dev/null
fi
