#!/usr/bin/env bash
# Runs every fuzz target of the module (func Fuzz… in a _test.go file) for
# FUZZTIME each (default 30s), one after another. A finding stops the run
# and leaves its input under the package's testdata/fuzz.
#   bash bench/fuzz.sh            FUZZTIME=5m bash bench/fuzz.sh
# Go 1.26's fuzz coordinator can end a run with a bare "context deadline
# exceeded" as -fuzztime expires (golang/go#75804, fixed in Go 1.27); such a
# run, which wrote no failing input, is reported and the next target runs.
set -euo pipefail
cd "$(dirname "$0")/.."
t="${FUZZTIME:-30s}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
grep -rl --include='*_test.go' '^func Fuzz' cmd internal | sort | while read -r f; do
	pkg="./$(dirname "$f")"
	for name in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | cut -d' ' -f2); do
		echo "== $pkg $name ($t)"
		if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$t" "$pkg" >"$log" 2>&1; then
			tail -n 1 "$log"
		elif grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
			echo "   ended by the fuzz coordinator's deadline race (golang/go#75804), no failing input: not a finding"
		else
			cat "$log"
			exit 1
		fi
	done
done
