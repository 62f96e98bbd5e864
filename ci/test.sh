#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every GoogleTest
# (ctest) and pytest test, then the GoogleTests again under ASan + UBSan.
# Exits non-zero on any failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO"

echo "== build (RelWithDebInfo) into build/"
build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== ctest"
(cd build && ctest --output-on-failure -j2 --timeout 300)
echo "== pytest"
PROCMOND_BUILD_DIR="$REPO/build" "$PY" -m pytest

echo "== ctest under address,undefined sanitizers (build-asan/)"
build build-asan -DCMAKE_BUILD_TYPE=Debug -DPROCMOND_SANITIZE=address,undefined
(cd build-asan && ctest --output-on-failure -j2 --timeout 600)
