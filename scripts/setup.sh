#!/usr/bin/env bash
# Installs the Debian packages copydesk builds and tests with. Idempotent: quiet when all are present.
set -euo pipefail
# libclang-rt-14-dev: clang's sanitizer and libFuzzer runtimes (COPYDESK_FUZZ), only
# recommended by clang, so not pulled in with --no-install-recommends.
packages=(build-essential cmake pkg-config clang libclang-rt-14-dev
          libxxhash-dev libcurl4-openssl-dev libcjson-dev libutf8proc-dev libxml2-dev
          zlib1g-dev libzstd-dev libcmocka-dev gzip zstd python3)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "setup: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
