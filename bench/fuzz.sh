#!/usr/bin/env bash
# Runs every fuzz target of the module (func Fuzz… in a _test.go file) for
# FUZZTIME each (default 30s), one after another; a failure stops the run
# and leaves its input under the package's testdata/fuzz.
#   bash bench/fuzz.sh            FUZZTIME=5m bash bench/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
t="${FUZZTIME:-30s}"
grep -rl --include='*_test.go' '^func Fuzz' cmd internal | sort | while read -r f; do
	pkg="./$(dirname "$f")"
	for name in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | cut -d' ' -f2); do
		echo "== $pkg $name ($t)"
		go test -run '^$' -fuzz "^${name}\$" -fuzztime "$t" "$pkg"
	done
done
