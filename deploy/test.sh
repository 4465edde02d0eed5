#!/usr/bin/env bash
# Installs what is missing, builds podium and runs the whole test suite through ctest.
#   deploy/test.sh            Release build: unit, integration and interop tests
#   deploy/test.sh --asan     the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   deploy/test.sh --fuzz     every libFuzzer target for PODIUM_FUZZ_SECONDS (default 60) each
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache (when installed) then hits across checkouts in different directories.
export CCACHE_BASEDIR="$PWD"
preset=release
case "${1:-}" in
  "") ;;
  --asan) preset=asan ;;
  --fuzz) preset=fuzz ;;
  *) echo "usage: deploy/test.sh [--asan|--fuzz]" >&2; exit 2 ;;
esac
deploy/install-deps.sh
jobs=$(nproc)
if [[ "$preset" == fuzz ]]; then
  cmake --preset fuzz -DPODIUM_FUZZ_SECONDS="${PODIUM_FUZZ_SECONDS:-60}" >/dev/null
else
  cmake --preset "$preset" -DPODIUM_TESTS=ON >/dev/null  # deploy/run.sh may have turned them off
fi
if [[ "$preset" == fuzz ]]; then
  cmake --build --preset fuzz --target fuzzers -- -j"$jobs"
else
  cmake --build --preset "$preset" -- -j"$jobs"
fi
if [[ "$preset" == fuzz ]]; then
  # Fuzzers each use one core for their whole time budget.
  ctest --test-dir build/fuzz -L fuzz --output-on-failure -j"$jobs"
else
  ctest --preset "$preset" -j"$jobs"
fi
