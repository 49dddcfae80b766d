#!/usr/bin/env bash
# Installs what copydesk needs, builds it, and runs every test: the Release
# build, then the whole suite again under AddressSanitizer + UBSan.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"

echo "== release build and tests"
BUILD_DIR="$root/build" "$root/scripts/build.sh" -DCOPYDESK_WERROR=ON
ctest --test-dir "$root/build" --output-on-failure -j"$(nproc)"

echo "== ASan + UBSan build and tests"
BUILD_DIR="$root/build-sanitize" BUILD_TYPE=Debug "$root/scripts/build.sh" \
  -DCOPYDESK_SANITIZE=ON -DCOPYDESK_WERROR=ON
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$root/build-sanitize" --output-on-failure -j"$(nproc)"
echo "== all tests passed"
