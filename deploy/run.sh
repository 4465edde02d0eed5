#!/usr/bin/env bash
# Installs what is missing, builds podium (Release) and starts `podium serve`.
#   deploy/run.sh                      the embedded default config (everything on 127.0.0.1)
#   deploy/run.sh --config FILE        your config
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache (when installed) then hits across checkouts in different directories.
export CCACHE_BASEDIR="$PWD"
deploy/install-deps.sh --build
# Only the binary: the tests' dependencies (GoogleTest, browsers, coturn) are not needed to run.
cmake --preset release -DPODIUM_TESTS=OFF >/dev/null
cmake --build --preset release --target podium -- -j"$(nproc)" >/dev/null
echo "built build/release/podium; starting it (Ctrl-C stops it)"
exec build/release/podium serve "$@"
