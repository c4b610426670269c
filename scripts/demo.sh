#!/usr/bin/env bash
# Builds wfp-host and the backfill plugin, then runs the demo: a fresh store with example schedules,
# served on http://127.0.0.1:8080, with example curl commands printed. Ctrl-C stops it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build"
"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target wfp-host wfp_backfill
exec "$build/bin/wfp-host" demo "$@"
