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

source "$(dirname "${BASH_SOURCE[0]}")/go-binary.sh"
go_binary minio github.com/minio/minio "$MINIO_VERSION" --version "$@"
