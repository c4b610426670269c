#!/usr/bin/env bash
# Builds wfp and runs the whole test suite (unit, ABI conformance, end-to-end, conformance files).
# Usage: scripts/test.sh [BUILD_DIR]   (default: build). Installs missing Debian packages first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
"$root/scripts/install-deps.sh"
jobs=$(nproc)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWFP_BUILD_BENCHMARKS=ON
cmake --build "$build" -j"$jobs"
ctest --test-dir "$build" --output-on-failure -j"$jobs" --timeout 900
