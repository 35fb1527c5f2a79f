#!/usr/bin/env bash
# Build Pebble, Let's Encrypt's ACME test CA, which the ACME end-to-end test
# (internal/e2e/acme_test.go) issues certificates from, at a pinned version,
# from the Go module proxy, into a cache outside the repo:
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/signet/pebble-<version>/pebble
#
# internal/testenv/pebble.go looks for the binary at the same path (from the
# same version string: keep PEBBLE_VERSION and testenv.PebbleVersion equal),
# or at $SIGNET_PEBBLE.
#
# Idempotent: when the binary is there and `pebble -version` runs, it only
# checks. A build takes about half a minute on two cores.
#
# Prints one line:
#   ok   pebble (<path>: Pebble version: <version>[, built in Ns])
#   FAIL pebble (<why>)                 and exits 1
#
# Usage: scripts/install-pebble.sh [--print-path]
#   --print-path  print the binary's path and exit, building nothing
set -euo pipefail

# The newest release in December 2026; it builds with Go 1.26.
PEBBLE_VERSION="v2.10.3"

source "$(dirname "${BASH_SOURCE[0]}")/go-binary.sh"
# The version is stamped as Pebble's own release builds do, for -version.
go_binary pebble github.com/letsencrypt/pebble/v2/cmd/pebble "$PEBBLE_VERSION" -version "$@" \
  -- -ldflags "-X main.version=$PEBBLE_VERSION"
