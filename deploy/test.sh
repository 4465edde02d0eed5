#!/usr/bin/env bash
# Installs what is missing, builds podium and runs the whole test suite through ctest.
#   deploy/test.sh            Release build: unit, integration and interop tests
#   deploy/test.sh --asan     the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   deploy/test.sh --tsan     ThreadSanitizer: the relay's and the SFU's multi-threaded unit
#                             tests and the integration tests labelled `tsan`
#   deploy/test.sh --fuzz     every libFuzzer target for PODIUM_FUZZ_SECONDS (default 60) each
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache (when installed) then hits across checkouts in different directories.
export CCACHE_BASEDIR="$PWD"
preset=release
case "${1:-}" in
  "") ;;
  --asan) preset=asan ;;
  --tsan) preset=tsan ;;
  --fuzz) preset=fuzz ;;
  *) echo "usage: deploy/test.sh [--asan|--tsan|--fuzz]" >&2; exit 2 ;;
esac
deploy/install-deps.sh
jobs=$(nproc)
if [[ "$preset" == fuzz ]]; then
  cmake --preset fuzz -DPODIUM_FUZZ_SECONDS="${PODIUM_FUZZ_SECONDS:-60}" >/dev/null
else
  cmake --preset "$preset" -DPODIUM_TESTS=ON >/dev/null  # deploy/run.sh may have turned them off
fi
# ThreadSanitizer builds only what its tests run: the binaries and the unit tests of the parts
# that run threads (relay workers, the SFU's media thread and its callers, the HTTP server).
tsan_units=(common_tests relay_tests sfu_tests signaling_tests)
if [[ "$preset" == fuzz ]]; then
  cmake --build --preset fuzz --target fuzzers -- -j"$jobs"
elif [[ "$preset" == tsan ]]; then
  cmake --build --preset tsan --target podium podium-load "${tsan_units[@]}" -- -j"$jobs"
else
  cmake --build --preset "$preset" -- -j"$jobs"
fi
if [[ "$preset" == fuzz ]]; then
  # Fuzzers each use one core for their whole time budget.
  ctest --test-dir build/fuzz -L fuzz --output-on-failure -j"$jobs"
elif [[ "$preset" == tsan ]]; then
  # Any report fails the run: the process stops at the first race (exit 66), and the
  # integration tests check podium's exit status. Suppressions name only third-party code.
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp"
  for unit in "${tsan_units[@]}"; do
    echo "== $unit (ThreadSanitizer)"
    timeout 600 "build/tsan/tests/$unit" --gtest_brief=1
  done
  ctest --preset tsan -L tsan -j"$jobs"
else
  ctest --preset "$preset" -j"$jobs"
fi
