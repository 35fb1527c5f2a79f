#!/usr/bin/env bash
# Run every fuzz target of the module for SECONDS each (default 10), one
# after another, then print how many inputs each one executed.
#
#   scripts/fuzz.sh [SECONDS]
#
# The targets are found with `go test -list`, so a new Fuzz function is run
# without touching this script. A failing target prints its whole output
# (go writes the failing input to testdata/fuzz/<Target>/ for a seed) and
# the script exits 1 after running the others.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

secs="${1:-10}"
case "$secs" in
  ''|*[!0-9]*|0) echo "usage: scripts/fuzz.sh [SECONDS]  (a whole number > 0; got '$secs')" >&2; exit 2 ;;
esac
GO="${GO:-go}"
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

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
rows=()
failed=0
start=$SECONDS
for pt in "${targets[@]}"; do
  pkg=${pt% *} t=${pt#* }
  printf 'fuzz.sh: %s %s for %ss\n' "$pkg" "$t" "$secs"
  status=ok
  if ! "$GO" test "$pkg" -run '^$' -fuzz "^${t}\$" -fuzztime "${secs}s" -fuzzminimizetime 5s >"$log" 2>&1; then
    status=FAIL
    failed=1
    cat "$log"
  fi
  # go prints "fuzz: elapsed: 10s, execs: 123456 (12345/sec), ..."; the last one is the total.
  execs="$(grep -o 'execs: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)"
  rows+=("$(printf '%-18s %12s %8s' "$t" "${execs:-?}" "$status")")
done

printf '\n%-18s %12s %8s\n' target execs result
printf '%s\n' "${rows[@]}"
printf 'fuzz.sh: %d targets, %ss each, %ds in all\n' "${#targets[@]}" "$secs" "$((SECONDS - start))"
exit "$failed"
