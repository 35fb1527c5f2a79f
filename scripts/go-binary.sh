# go_binary: build a Go program the tests run, at a pinned version, from the
# Go module proxy, into a cache outside the repo. Sourced by
# scripts/install-minio.sh, scripts/install-pebble.sh and
# scripts/install-rie.sh; internal/testenv looks for the binaries at the
# same paths.
#
#   go_binary NAME PACKAGE VERSION VERSION_FLAG [--print-path] [-- GO_INSTALL_FLAGS...]
#
# builds PACKAGE@VERSION with `go install` into
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/signet/NAME-VERSION/NAME
#
# unless the binary is there and answers `NAME VERSION_FLAG`, and prints
# one line:
#   ok   NAME (<path>: <first line of VERSION_FLAG's output>[, built in Ns])
# A program with no version flag (run with any argument, it starts a server)
# passes "" as VERSION_FLAG: then `go version -m` must find the module at
# VERSION in the binary, and the line shows "<module> <version>".
#   FAIL NAME (<why>)                 and exits 1
# With --print-path it prints the binary's path instead, building nothing.
go_binary() {
  local name="$1" pkg="$2" version="$3" flag="$4"
  shift 4
  local cache="${XDG_CACHE_HOME:-$HOME/.cache}/signet/$name-$version"
  local bin="$cache/$name" ver log start
  if [ "${1:-}" = "--print-path" ]; then
    printf '%s\n' "$bin"
    exit 0
  fi
  [ "${1:-}" = "--" ] && shift
  probe() {
    if [ -n "$flag" ]; then
      "$bin" "$flag" 2>/dev/null | head -n 1
    else
      go version -m "$bin" 2>/dev/null |
        awk -v v="$version" '$1 == "mod" && $3 == v {print $2 " " $3; ok = 1} END {exit !ok}'
    fi
  }

  if [ -x "$bin" ] && ver="$(probe)"; then
    printf 'ok   %s (%s)\n' "$name" "$bin: $ver"
    return 0
  fi

  command -v go >/dev/null 2>&1 || { printf 'FAIL %s (go is not on PATH)\n' "$name"; exit 1; }
  mkdir -p "$cache"
  log="$(mktemp)"
  start=$SECONDS
  # GOFLAGS is cleared so a developer's -mod=vendor or similar cannot leak
  # in; GOTOOLCHAIN=local builds with the Go already installed, never
  # downloading one.
  if ! GOBIN="$cache" GOFLAGS= GOTOOLCHAIN=local CGO_ENABLED=0 \
       go install -trimpath "$@" "$pkg@$version" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    rm -f "$log"
    printf 'FAIL %s (go install %s@%s failed)\n' "$name" "$pkg" "$version"
    exit 1
  fi
  rm -f "$log"
  ver="$(probe)" ||
    { printf 'FAIL %s (%s %s failed after the build)\n' "$name" "$bin" "${flag:-version check}"; exit 1; }
  printf 'ok   %s (%s)\n' "$name" "$bin: $ver, built in $((SECONDS - start))s"
}
