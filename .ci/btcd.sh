#!/usr/bin/env bash
# Builds btcd from the Go module proxy into a cache directory, once, and prints
# that directory (the binary is <dir>/btcd). A later call finds the binary and
# prints the directory without building. The end-to-end test of
# internal/chain/source/btcrpc runs it on regtest:
#
#	export BULWARK_BTCD="$(bash .ci/btcd.sh)/btcd"
#
# Logs go to stderr so that stdout is only the directory.
set -euo pipefail

# The version is that of github.com/btcsuite/btcd in go.mod, whose wire,
# txscript and chaincfg the test signs its transactions with.
root="$(cd "$(dirname "$0")/.." && pwd)"
version="${BULWARK_BTCD_VERSION:-$(awk '$1 == "github.com/btcsuite/btcd" { print $2; exit }' "$root/go.mod")}"
version="${version:-v0.24.2}"
dir="${XDG_CACHE_HOME:-$HOME/.cache}/bulwark-tools/btcd-${version}"

if [ -x "$dir/btcd" ]; then
	echo "$dir"
	exit 0
fi

export PATH="/usr/local/go/bin:$PATH"
mkdir -p "$(dirname "$dir")"
# Build into a scratch directory and rename it into place, so a build that is
# interrupted never leaves a half-written binary where the next call looks.
tmp="$(mktemp -d "$(dirname "$dir")/.btcd-${version}.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
echo "building btcd ${version} into $dir" >&2
# "go install pkg@version" builds with btcd's own go.mod, whatever module the
# current directory is in; GOFLAGS and GOWORK of the caller are kept out.
(cd "$tmp" && CGO_ENABLED=0 GOBIN="$tmp" GOFLAGS= GOWORK=off go install -trimpath "github.com/btcsuite/btcd@${version}") >&2
"$tmp/btcd" --version >&2
if ! mv -T "$tmp" "$dir" 2>/dev/null; then
	# Another build finished first; its binary is as good as ours.
	[ -x "$dir/btcd" ]
fi
echo "built btcd ${version} in $(($(date +%s) - start)) s" >&2
echo "$dir"
