#!/usr/bin/env bash
# Build the AWS Lambda Runtime Interface Emulator, under which the test of
# docs/lambda.md's "Run it locally" (internal/e2e/lambda_test.go) runs the
# real signet-lambda bootstrap, at a pinned version, from the Go module
# proxy, into a cache outside the repo:
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/signet/aws-lambda-rie-<version>/aws-lambda-rie
#
# internal/testenv/rie.go looks for the binary at the same path (keep
# RIE_VERSION and testenv.RIEVersion equal; TestRIEVersion checks), or at
# $SIGNET_RIE.
#
# Idempotent: when the binary is there and `go version -m` finds the
# emulator's module at RIE_VERSION in it, it only checks (the emulator has
# no version flag: any argument starts it). A build takes about a minute.
#
# Prints one line:
#   ok   aws-lambda-rie (<path>: <module> <version>[, built in Ns])
#   FAIL aws-lambda-rie (<why>)        and exits 1
#
# Usage: scripts/install-rie.sh [--print-path]
#   --print-path  print the binary's path and exit, building nothing
set -euo pipefail

# The module proxy serves the emulator's commits, not its release tags, so
# it is pinned by pseudo-version: the commit of 2026-10-30, which builds
# with Go 1.26. docs/lambda.md's install line names the same version.
RIE_VERSION="v0.0.0-20261030222936-bef5c4ba774d"

source "$(dirname "${BASH_SOURCE[0]}")/go-binary.sh"
go_binary aws-lambda-rie github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie "$RIE_VERSION" "" "$@"
