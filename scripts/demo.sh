#!/usr/bin/env bash
# The `make run` demo: generate a key pair, sign a link, verify it, explain
# it, and show a refusal. Keys go to a fresh temporary directory that is
# removed at the end; nothing is sent anywhere.
set -euo pipefail
signet=${1:-bin/signet}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step signet keygen --out "$dir"
id=$("$signet" keygen --out "$dir" 2>/dev/null | head -1)
echo "$id"
url="https://d111111abcdef8.cloudfront.net/reports/2026/q3.pdf"

step signet sign --key "$dir/private_key.pem" --key-id "$id" --expires-in 1h "$url"
signed=$("$signet" sign --key "$dir/private_key.pem" --key-id "$id" --expires-in 1h "$url")
echo "$signed"

step signet verify --pubkey "$id=$dir/public_key.pem" '<the link above>'
"$signet" verify --pubkey "$id=$dir/public_key.pem" "$signed"

step signet explain '<the link above>'
"$signet" explain "$signed" || true

step signet verify ... '<the link with a parameter added after signing>'
"$signet" verify --pubkey "$id=$dir/public_key.pem" "$signed&page=2" || echo "(exit $?: refused, as CloudFront would)"

step signet sign ... --resource 'https://d111111abcdef8.cloudfront.net/videos/x/*' --cookies
"$signet" sign --key "$dir/private_key.pem" --key-id "$id" --expires-in 12h \
  --resource 'https://d111111abcdef8.cloudfront.net/videos/x/*' --cookies \
  https://d111111abcdef8.cloudfront.net/videos/x/index.m3u8 | sed -E 's/(=[A-Za-z0-9_~-]{24})[A-Za-z0-9_~-]+/\1.../'
