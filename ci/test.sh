#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every GoogleTest
# (ctest) and pytest test, the quick form of the performance suite (perf/:
# measured, then judged against baselines/), then the GoogleTests again under
# ASan + UBSan.
# Exits non-zero on any failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO"

echo "== build (RelWithDebInfo) into build/"
build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== ctest"
(cd build && ctest --output-on-failure -j2 --timeout 300)
echo "== pytest (all but the performance suite)"
PROCMOND_BUILD_DIR="$REPO/build" "$PY" -m pytest -m "not perf"
echo "== the performance suite, quick form (perf/, pytest -m 'perf and quick'; a few minutes)"
PROCMOND_BUILD_DIR="$REPO/build" "$PY" -m pytest perf -m "perf and quick" -rs

echo "== ctest under address,undefined sanitizers (build-asan/)"
build build-asan -DCMAKE_BUILD_TYPE=Debug -DPROCMOND_SANITIZE=address,undefined
(cd build-asan && ctest --output-on-failure -j2 --timeout 600)
