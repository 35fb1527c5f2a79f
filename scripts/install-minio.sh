#!/usr/bin/env bash
# Build the MinIO server the S3 integration tests run against, at a pinned
# version, from the Go module proxy, into a cache outside the repo:
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/signet/minio-<version>/minio
#
# internal/testenv/minio.go looks for the binary at the same path (from the
# same version string: keep MINIO_VERSION and testenv.MinIOVersion equal), or
# at $SIGNET_MINIO.
#
# Idempotent: when the binary is there and `minio --version` runs, it only
# checks. A build takes about four minutes on two cores.
#
# Prints one line:
#   ok   minio (<path>: <version line>[, built in Ns])
#   FAIL minio (<why>)                 and exits 1
#
# Usage: scripts/install-minio.sh [--print-path]
#   --print-path  print the binary's path and exit, building nothing
set -euo pipefail

# MinIO tags releases as RELEASE.<date>, which are not semver, so the module
# proxy serves pseudo-versions only. This one, commit 7aac2a2c5b7c of
# 2026-02-12, is what @latest resolved to in November 2026; it builds with
# Go 1.26.
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/signet/minio-$MINIO_VERSION"
BIN="$CACHE/minio"

ok()   { printf 'ok   %s (%s)\n' "$1" "$2"; }
fail() { printf 'FAIL %s (%s)\n' "$1" "$2"; exit 1; }

if [ "${1:-}" = "--print-path" ]; then
  printf '%s\n' "$BIN"
  exit 0
fi

if [ -x "$BIN" ] && ver="$("$BIN" --version 2>/dev/null | head -n 1)"; then
  ok minio "$BIN: $ver"
  exit 0
fi

command -v go >/dev/null 2>&1 || fail minio "go is not on PATH"
mkdir -p "$CACHE"
log="$(mktemp)"
start=$SECONDS
# GOFLAGS is cleared so a developer's -mod=vendor or similar cannot leak in;
# GOTOOLCHAIN=local builds with the Go already installed, never downloading one.
if ! GOBIN="$CACHE" GOFLAGS= GOTOOLCHAIN=local CGO_ENABLED=0 \
     go install -trimpath "github.com/minio/minio@$MINIO_VERSION" >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  rm -f "$log"
  fail minio "go install github.com/minio/minio@$MINIO_VERSION failed"
fi
rm -f "$log"
ver="$("$BIN" --version 2>/dev/null | head -n 1)" || fail minio "$BIN --version failed after the build"
ok minio "$BIN: $ver, built in $((SECONDS - start))s"
