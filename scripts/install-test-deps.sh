#!/usr/bin/env bash
# Install what signet's tests need beyond the Go toolchain, on Debian 12.
#
# Idempotent: when everything is already there it only checks (no apt-get
# update, no npm), which takes well under a second. Runs as root (CI and the
# dev machines); otherwise it uses sudo for apt-get when it has to install.
# It writes nothing outside the repo except package-manager caches.
#
# Prints one line per dependency:
#   ok   <name> (<details>)
#   FAIL <name> (<why>)          and exits 1
#
# How the Go tests find the interop reference signers (interop/README.md):
#   python: the first of $SIGNET_PYTHON, python3, /usr/bin/python3 that
#           imports both botocore and cryptography (this script checks the
#           same order and reports the one the tests will use);
#   node:   `node` on PATH, running interop/js/sign.mjs with the modules
#           installed below in interop/js/node_modules.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

ok()   { printf 'ok   %s (%s)\n' "$1" "$2"; }
fail() { printf 'FAIL %s (%s)\n' "$1" "$2"; exit 1; }

# apt_install PKG...: apt-get update (once per run) and install.
APT_UPDATED=0
apt_install() {
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || fail "$1" "not root and no sudo to apt-get install $*"
    sudo=(sudo)
  fi
  if [ "$APT_UPDATED" -eq 0 ]; then
    "${sudo[@]}" apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# find_python_with MODULES: the first of $SIGNET_PYTHON, python3 and
# /usr/bin/python3 that imports MODULES (a Python import list), the order
# the Go tests (internal/testenv) look in.
find_python_with() {
  local py
  for py in "${SIGNET_PYTHON:-}" python3 /usr/bin/python3; do
    [ -n "$py" ] || continue
    if command -v "$py" >/dev/null 2>&1 &&
       "$py" -c "import $1" >/dev/null 2>&1; then
      printf '%s\n' "$py"
      return 0
    fi
  done
  return 1
}

# --- 1. python3 with botocore and cryptography (interop/botocore_sign.py) ---
find_python() { find_python_with 'botocore, cryptography'; }
note=""
if ! PY="$(find_python)"; then
  apt_install python3 python3-botocore python3-cryptography
  note=", installed python3-botocore python3-cryptography"
  PY="$(find_python)" || fail botocore "no python3 imports botocore and cryptography even after apt-get install"
fi
PY_PATH="$(command -v "$PY")"
BOTO_VER="$("$PY" "$ROOT/interop/botocore_sign.py" --version)" ||
  fail botocore "$PY interop/botocore_sign.py --version failed"
CRYPTO_VER="$("$PY" -c 'import cryptography; print(cryptography.__version__)')"
ok botocore "python3 $PY_PATH: $BOTO_VER, cryptography $CRYPTO_VER$note"

# --- 2. node + @aws-sdk/cloudfront-signer (interop/js) ---
note=""
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  # Debian 12 ships node 18; the package asks for >= 20 but works on 18.
  apt_install nodejs npm
  note=", installed nodejs npm"
fi
JS="$ROOT/interop/js"
if [ ! -f "$JS/node_modules/.package-lock.json" ] ||
   [ "$JS/package-lock.json" -nt "$JS/node_modules/.package-lock.json" ] ||
   [ "$JS/package.json" -nt "$JS/node_modules/.package-lock.json" ]; then
  log="$(mktemp)"
  if ! (cd "$JS" && npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    fail cloudfront-signer "npm ci in interop/js failed"
  fi
  rm -f "$log"
  note="$note, npm ci"
fi
JS_VER="$(cd "$JS" && node sign.mjs --version)" ||
  fail cloudfront-signer "node interop/js/sign.mjs --version failed"
ok cloudfront-signer "node $(node --version): $JS_VER$note"

# --- 3. openssl (key generation and signature checks in tests) ---
note=""
if ! command -v openssl >/dev/null 2>&1; then
  apt_install openssl
  note=", installed openssl"
fi
ok openssl "$(openssl version)$note"

# --- 3b. curl (the README's quick start, run by internal/e2e) ---
note=""
if ! command -v curl >/dev/null 2>&1; then
  apt_install curl ca-certificates
  note=", installed curl"
fi
ok curl "$(curl --version | head -n 1 | cut -d' ' -f1-2)$note"

# --- 3c. zsh and fish (signet completion's tests run each shell; bash is here) ---
for sh in zsh fish; do
  note=""
  if ! command -v "$sh" >/dev/null 2>&1; then
    apt_install "$sh"
    note=", installed $sh"
  fi
  ok "$sh" "$("$sh" --version | head -n 1)$note"
done

# --- 4. MinIO for the S3 origin's tests (scripts/install-minio.sh) ---
# Built from the Go module proxy at a pinned version into
# ${XDG_CACHE_HOME:-$HOME/.cache}/signet/ (about four minutes the first
# time, a --version check after that); internal/testenv finds it there.
"$ROOT/scripts/install-minio.sh" || exit 1

# --- 5. moto, the AWS emulator the key-source tests run against ---
# internal/testenv.MotoPython looks in the same order: $SIGNET_PYTHON,
# python3, /usr/bin/python3, for one that imports moto and moto.server
# (moto 5 with its server extras ships with this machine's python3). PyPI
# is out of reach; Debian's python3-moto is installed when some python
# lacks moto and the archive has it (bookworm does not).
find_moto() { find_python_with 'moto, moto.server'; }
note=""
if ! MOTO_PY="$(find_moto)"; then
  if [ "$APT_UPDATED" -eq 0 ]; then
    sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  if [ -n "$(apt-cache policy python3-moto 2>/dev/null | awk '/Candidate:/ && $2 != "(none)" {print $2}')" ]; then
    apt_install python3-moto python3-flask python3-flask-cors
    note=", installed python3-moto"
  fi
  MOTO_PY="$(find_moto)" ||
    fail moto "no python3 imports moto and moto.server, and Debian has no python3-moto; point SIGNET_PYTHON at a python with moto 5"
fi
MOTO_VER="$("$MOTO_PY" -c 'import moto; print(moto.__version__)')"
ok moto "python3 $(command -v "$MOTO_PY"): moto $MOTO_VER$note"

# --- 6. Pebble, the ACME CA the end-to-end ACME test issues from ---
# Built from the Go module proxy at a pinned version into
# ${XDG_CACHE_HOME:-$HOME/.cache}/signet/ (about half a minute the first
# time, a -version check after that); internal/testenv finds it there.
"$ROOT/scripts/install-pebble.sh" || exit 1

# --- 7. The AWS Lambda Runtime Interface Emulator (docs/lambda.md) ---
# Built from the Go module proxy at a pinned version into
# ${XDG_CACHE_HOME:-$HOME/.cache}/signet/ (about a minute the first time,
# a `go version -m` check after that); internal/testenv finds it there.
"$ROOT/scripts/install-rie.sh" || exit 1

# --- 8. systemd-analyze, which checks packaging/signet.service ---
# It runs without a booted systemd (TestSystemdUnit in internal/e2e).
note=""
if ! command -v systemd-analyze >/dev/null 2>&1; then
  apt_install systemd
  note=", installed systemd"
fi
ok systemd-analyze "$(systemd-analyze --version | head -n 1)$note"

# --- 9. PostgreSQL, which internal/state's tests run a private server of ---
# testenv.PostgresBin looks for initdb and postgres on PATH, then in
# /usr/local/bin and /usr/lib/postgresql/15/bin (Debian's postgresql-15,
# which does not put them on PATH). Each test run starts its own server
# with initdb in a temporary directory, as the postgres user when root.
find_pg_bin() {
  local d
  for d in $(printf '%s' "$PATH" | tr ':' ' ') /usr/local/bin /usr/lib/postgresql/15/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then
      printf '%s\n' "$d"
      return 0
    fi
  done
  return 1
}
note=""
if ! PG_BIN="$(find_pg_bin)"; then
  apt_install postgresql
  note=", installed postgresql"
  PG_BIN="$(find_pg_bin)" || fail postgresql "no initdb and postgres in PATH, /usr/local/bin or /usr/lib/postgresql/15/bin even after apt-get install"
fi
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  fail postgresql "running as root and there is no postgres user to run the test server as"
fi
ok postgresql "$PG_BIN: $("$PG_BIN/postgres" --version)$note"

# --- 10. More test dependencies go here. ---
# Pattern: check cheaply first (command -v / an import / a file), install only
# when missing with `apt_install PKG...` (it runs apt-get update once per run),
# then print exactly one `ok NAME (details)` line, or `fail NAME (why)`.
