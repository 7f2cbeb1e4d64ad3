#!/usr/bin/env bash
# Prints the path of a geth binary for the Ethereum node tests, building it
# from the Go module proxy into a per-user cache the first time. Build output
# goes to stderr so that callers can write BULWARK_GETH="$(.ci/geth.sh)".
#
# The version is pinned to the go-ethereum module the tests link against, so
# the node and the test's transaction signing agree on the fork rules.
set -euo pipefail

version="v1.17.10"
dir="${XDG_CACHE_HOME:-$HOME/.cache}/bulwark-tools/geth-${version}"
bin="${dir}/geth"

# A binary that does not run (truncated, wrong architecture) is rebuilt.
if ! { [ -x "$bin" ] && "$bin" version >/dev/null 2>&1; }; then
	mkdir -p "$dir"
	# Build into a scratch directory and rename, so an interrupted build or
	# a concurrent caller never sees a half-written binary.
	tmp="$(mktemp -d "${dir}/.build.XXXXXX")"
	trap 'rm -rf "$tmp"' EXIT
	echo "building geth ${version} into ${dir}" >&2
	start=$(date +%s)
	# Outside any module: go install pkg@version uses geth's own go.mod.
	(cd "$tmp" && GOBIN="$tmp" GOFLAGS=-buildvcs=false \
		go install "github.com/ethereum/go-ethereum/cmd/geth@${version}") >&2
	mv -f "$tmp/geth" "$bin"
	echo "built geth in $(($(date +%s) - start)) s" >&2
fi

"$bin" version >/dev/null 2>&1 || { echo "geth built at $bin does not run" >&2; exit 1; }
echo "$bin"
