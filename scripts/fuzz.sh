#!/usr/bin/env bash
# Run every fuzz target of the module for SECONDS each (default 10), one
# after another, then print how many inputs each one executed.
#
#   scripts/fuzz.sh [SECONDS]
#
# The targets are found with `go test -list`, so a new Fuzz function is run
# without touching this script. A failing target prints its whole output
# (go writes the failing input to <package>/testdata/fuzz/<Target>/ for a
# seed) and the script exits 1 after running the others.
#
# Go 1.26's fuzz coordinator can fail a run that found nothing, with a bare
# "context deadline exceeded" as the -fuzztime deadline fires
# (golang/go#75804, fixed in Go 1.27). Such a run is tried once more and its
# row says "ok (retried: coordinator deadline)"; if the retry fails the same
# way, the target fails. Everything else that is not a pass is a failure.
#
# scripts/fuzz_test.sh sources this file to test fuzz_verdict and fuzz_run.

GO="${GO:-go}"

# fuzz_verdict TARGET RC LOG NEW prints how one `go test -fuzz` run of
# TARGET ended, from its exit code RC, its output in the file LOG, and NEW,
# the files the run added under testdata/fuzz/TARGET/ (empty for none):
#
#   ok        it passed and wrote no failing input
#   deadline  the coordinator race and nothing else: no failing input
#             written, and the whole failure report is the two lines
#                 --- FAIL: TARGET (0.30s)
#                     context deadline exceeded
#   fail      anything else: a failing input written or named, a panic, a
#             failing seed, a target whose own check reports the deadline
#             (its line starts with file:line), a build error
fuzz_verdict() {
  local target=$1 rc=$2 log=$3 new=$4
  if [ -n "$new" ] || grep -q 'Failing input written to' "$log"; then
    echo fail
  elif [ "$rc" -eq 0 ]; then
    echo ok
  elif [ "$(grep -c -- '--- FAIL' "$log")" -eq 1 ] && ! grep -q 'panic:' "$log" &&
    [ "$(sed -n "/^--- FAIL: $target (/,/^FAIL\$/p" "$log" | sed '1d;$d')" = '    context deadline exceeded' ]; then
    echo deadline
  else
    echo fail
  fi
}

# fuzz_run PKG TARGET SECONDS fuzzes one target, retrying once after the
# coordinator race, and sets status (the summary's word for it) and execs.
# It prints the output of a failed run and returns 1 when the target
# failed. It leaves no file behind but the failing inputs go writes.
fuzz_run() {
  local pkg=$1 target=$2 secs=$3
  local corpus="$pkg/testdata/fuzz/$target" log before new rc verdict attempt
  log="$(mktemp)"
  status=FAIL
  for attempt in 1 2; do
    before="$(ls "$corpus" 2>/dev/null || true)"
    rc=0
    "$GO" test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "${secs}s" -fuzzminimizetime 5s >"$log" 2>&1 || rc=$?
    new="$(comm -13 <(printf '%s\n' "$before") <(ls "$corpus" 2>/dev/null || true) | grep . || true)"
    # go prints "fuzz: elapsed: 10s, execs: 123456 (12345/sec), ..."; the last one is the total.
    execs="$(grep -o 'execs: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2 || true)"
    verdict="$(fuzz_verdict "$target" "$rc" "$log" "$new")"
    case "$verdict/$attempt" in
      ok/1) status=ok ;;
      ok/2) status='ok (retried: coordinator deadline)' ;;
      deadline/1)
        echo "fuzz.sh: $target failed with a bare \"context deadline exceeded\" and wrote no input (golang/go#75804); trying once more"
        continue ;;
      deadline/2) status='FAIL (coordinator deadline twice)' ;;
    esac
    break
  done
  rc=0
  case "$status" in
    ok*) ;;
    *)
      cat "$log"
      for f in $new; do echo "fuzz.sh: $target wrote $corpus/$f"; done
      rc=1 ;;
  esac
  rm -f "$log"
  return "$rc"
}

# Sourced (by scripts/fuzz_test.sh): define the functions only.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  return 0
fi

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

secs="${1:-10}"
case "$secs" in
  ''|*[!0-9]*|0) echo "usage: scripts/fuzz.sh [SECONDS]  (a whole number > 0; got '$secs')" >&2; exit 2 ;;
esac
# Packages whose tests declare a fuzz target; each target is "pkg target".
mapfile -t pkgs < <(grep -rl --include='*_test.go' '^func Fuzz' cmd internal 2>/dev/null | xargs -r -n1 dirname | sort -u)
targets=()
for pkg in "${pkgs[@]}"; do
  while read -r t; do targets+=("./$pkg $t"); done < <("$GO" test "./$pkg" -list '^Fuzz' | grep '^Fuzz')
done
if [ "${#targets[@]}" -eq 0 ]; then
  echo "fuzz.sh: no fuzz targets found" >&2
  exit 1
fi

# fuzz_run's logs, and anything else that asks for a temporary file, go
# into a directory that is removed when the script exits, even when
# interrupted.
TMPDIR="$(mktemp -d)"
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT

rows=()
failed=0
retried=0
start=$SECONDS
for pt in "${targets[@]}"; do
  pkg=${pt% *} t=${pt#* }
  printf 'fuzz.sh: %s %s for %ss\n' "$pkg" "$t" "$secs"
  fuzz_run "$pkg" "$t" "$secs" || failed=1
  case "$status" in *retried*|*twice*) retried=$((retried + 1)) ;; esac
  rows+=("$(printf '%-18s %12s  %s' "$t" "${execs:-?}" "$status")")
done

printf '\n%-18s %12s  %s\n' target execs result
printf '%s\n' "${rows[@]}"
printf 'fuzz.sh: %d targets, %ss each, %d retried after the coordinator race, %ds in all\n' \
  "${#targets[@]}" "$secs" "$retried" "$((SECONDS - start))"
exit "$failed"
