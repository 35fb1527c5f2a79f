#!/usr/bin/env bash
# signet's edge against nginx with secure_link_md5, on this machine, in one
# run: 1 KiB objects behind signed links (warm: 10,000 distinct links cycled
# by wrk; cold: a new link on every request) with ECDSA and RSA keys, a
# 1 GiB download, and the edge cache cases (a miss from MinIO, coalescing,
# memory while streaming 2 GiB). Prints RPS, p99, server CPU per request and
# the signet/nginx ratios (see bench/edge/main.go for what each case does).
#
#   bench/edge/run.sh [--quick] [edgebench flags]
#
#   --quick             every case for a second or two (CI: the bench still runs)
#   -cases rate,big     only some groups (rate, big, cache)
#   -server-cpus 0 -client-cpus 1
#                       the CPUs servers and clients are pinned to
#   -keep               keep the work directory (configs, logs, links)
#   -h                  every flag
#
# Fairness: the server under test is pinned to one CPU and wrk to the other
# (taskset), nginx runs worker_processes 1 and signet GOMAXPROCS=1, so both
# have exactly one core; on a machine with more cores pass wider lists.
#
# It installs nginx and wrk with apt-get if they are missing
# (bench/edge/install.sh), builds MinIO into ~/.cache/signet if it is missing
# (scripts/install-minio.sh, about four minutes once), builds signet into
# bin/signet, and works in a temporary directory that it removes. A full run
# takes about 5 to 10 minutes; --quick about 1 to 2. It exits 1 only when
# something failed to run (a server that refuses a valid link or accepts a
# bad one, a failed request, a missing tool), never because of a figure.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export PATH="/usr/local/go/bin:$PATH:/usr/sbin"

bench/edge/install.sh
minio=""
if scripts/install-minio.sh >&2; then
  minio="$(scripts/install-minio.sh --print-path)"
fi

args=()
for a in "$@"; do
  case "$a" in
    --quick) args+=(-quick) ;;
    *) args+=("$a") ;;
  esac
done

tmp="$(mktemp -d)"
# edgebench stops its servers (each in a process group of its own) and
# removes its work directory when it ends or is interrupted. If it is
# killed outright, this trap does it from the state file edgebench keeps:
# "pgid N" per running server, "dir PATH" for the work directory; edgebench
# removes the file once it has cleaned up itself.
export EDGEBENCH_STATE="$tmp/state"
cleanup() {
  if [ -s "$EDGEBENCH_STATE" ]; then
    while read -r kind value; do
      case "$kind" in
        pgid) kill -KILL -- "-$value" 2>/dev/null || true ;;
        dir) rm -rf -- "$value" ;;
      esac
    done < "$EDGEBENCH_STATE"
  fi
  rm -rf -- "$tmp"
}
trap cleanup EXIT
go build -trimpath -o bin/signet ./cmd/signet
go build -o "$tmp/edgebench" ./bench/edge
rev="$(git describe --always --dirty 2>/dev/null || echo unknown)"
"$tmp/edgebench" -signet bin/signet -signet-rev "$rev" -minio "$minio" "${args[@]}"
