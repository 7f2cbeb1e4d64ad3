#!/usr/bin/env bash
# Import benchmark (issue 2): the ATT&CK Enterprise bundle (24,771 objects,
# STIX 2.0, 33 MB) decoded and validated only (--dry-run), imported into
# SQLite, and imported into PostgreSQL, by the same binary in one run.
# Prints wall time and peak RSS of each and the store/decode ratio.
#   bash bench/import.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
bundle="${BUNDLE:-../shared/corpus/attack/enterprise-attack-stix20.json}"
export PGOPTIONS="-c client_min_messages=warning"
pg="${BULWARK_PG_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
out="bench/out"; mkdir -p "$out"
go build -o "$out/bulwark" ./cmd/bulwark

measure() { # label, command… -> "label seconds maxrss_kb"
	local label="$1"; shift
	/usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" >/dev/null 2>"$out/stderr.txt" || { cat "$out/stderr.txt"; exit 1; }
	echo "$label $(cat "$out/time.txt")"
}

for i in $(seq 1 "$runs"); do
	measure decode "$out/bulwark" import --quiet --dry-run "$bundle"
	rm -rf "$out/db"; mkdir -p "$out/db"
	measure sqlite "$out/bulwark" import --quiet --db "$out/db/bulwark.db" "$bundle"
	if pg_isready -q -h 127.0.0.1 -p 5432; then
		schema="bench_$$_$i"
		psql -q "$pg" -c "CREATE SCHEMA $schema" >/dev/null
		measure postgres "$out/bulwark" import --quiet --db "$pg&search_path=$schema" "$bundle"
		psql -q "$pg" -c "DROP SCHEMA $schema CASCADE" >/dev/null
	fi
done | tee "$out/import.txt"

awk '{ t[$1] += $2; n[$1]++; if ($3 > m[$1]) m[$1] = $3 }
     END { for (k in t) printf "%-9s mean %.2f s  peak RSS %d MB\n", k, t[k]/n[k], m[k]/1024;
           if (n["decode"] && n["sqlite"]) printf "sqlite/decode ratio %.2f\n", (t["sqlite"]/n["sqlite"])/(t["decode"]/n["decode"]) }' "$out/import.txt"
