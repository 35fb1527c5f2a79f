#!/usr/bin/env bash
# Install what bench/edge needs beyond Go, on Debian: nginx (with its
# secure_link module, as Debian builds it) and wrk.
#
# Idempotent: when both are on PATH it only checks (no apt-get update),
# which takes well under a second. Runs as root, or uses sudo for apt-get.
# Debian's nginx package would start the system nginx on port 80 where
# services may start (not in containers with a policy-rc.d); the bench never
# uses that one: it runs its own nginx processes on 127.0.0.1.
#
# Prints one line per tool:
#   ok   <name> (<details>)
#   FAIL <name> (<why>)          and exits 1
set -euo pipefail

ok()   { printf 'ok   %s (%s)\n' "$1" "$2"; }
fail() { printf 'FAIL %s (%s)\n' "$1" "$2"; exit 1; }

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v taskset >/dev/null 2>&1 || missing+=(util-linux)
command -v curl >/dev/null 2>&1 || missing+=(curl)

if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || fail "${missing[*]}" "missing, and no apt-get to install them (install them by hand)"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || fail "${missing[*]}" "not root and no sudo to apt-get install them"
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq >/dev/null
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
[ -x "$nginx_bin" ] || fail nginx "not found after apt-get install"
"$nginx_bin" -V 2>&1 | grep -q -- '--with-http_secure_link_module' ||
  fail nginx "$nginx_bin is built without http_secure_link_module"
ok nginx "$nginx_bin: $("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //'), secure_link"
command -v wrk >/dev/null 2>&1 || fail wrk "not found after apt-get install"
ok wrk "$(command -v wrk): $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f2)"
