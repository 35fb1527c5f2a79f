#!/usr/bin/env bash
# signet vs `openssl speed` on one core, in one run: sign and verify rates for
# RSA-2048 and ECDSA P-256, raw crypto and the cfsign paths, with ratios.
#
#   bench/crypto/run.sh [-d 3s] [-openssl /usr/bin/openssl]
#
# Takes about 40 s with the default 3 s per operation. This directory is its
# own module (replace => ../..), so the main module's go.mod stays as it is.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export GOMAXPROCS=1
bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/crypto" .
"$bin/crypto" "$@"
