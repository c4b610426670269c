#!/usr/bin/env bash
# Fuzzes each libFuzzer target for a short fixed time, as CI does (see .ci/run):
#   wfp_fuzz_request  (the route's request parser)          corpus fuzz/backfill/corpus
#   wfp_fuzz_schedule (schedule definition + cron parser)   corpus fuzz/schedule/corpus
#   wfp_fuzz_fixture  (the fixture loader, Store::Seed)     corpus fuzz/fixture/corpus
# Each run works on a COPY of the checked-in corpus (the repository does not grow); any crash, leak,
# sanitizer report or timeout fails the script and leaves the reproducer in $WFP_FUZZ_OUT
# (default build-fuzz/fuzz-out/<target>/); turn it into a regular test.
# Env: WFP_FUZZ_SECONDS (default 60 per target), WFP_FUZZ_DIR (default build-fuzz), WFP_JOBS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${WFP_FUZZ_DIR:-$root/build-fuzz}
seconds=${WFP_FUZZ_SECONDS:-60}
jobs=${WFP_JOBS:-$(nproc)}
out=${WFP_FUZZ_OUT:-$build/fuzz-out}

t0=$(date +%s)
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWFP_FUZZ=ON \
  -DWFP_BUILD_TESTS=OFF -DWFP_BUILD_BENCHMARKS=OFF
targets=(wfp_fuzz_request wfp_fuzz_schedule wfp_fuzz_fixture)
cmake --build "$build" -j"$jobs" --target "${targets[@]}"
t1=$(date +%s)
echo "fuzz: build $((t1 - t0)) s"

declare -A corpus=(
  [wfp_fuzz_request]=fuzz/backfill/corpus
  [wfp_fuzz_schedule]=fuzz/schedule/corpus
  [wfp_fuzz_fixture]=fuzz/fixture/corpus
)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for t in "${targets[@]}"; do
  work="$out/$t"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp -r "$root/${corpus[$t]}/." "$work/corpus/"
  echo "fuzz: $t for ${seconds} s on a copy of ${corpus[$t]} ($(ls "$work/corpus" | wc -l) inputs)"
  s=$(date +%s)
  if ! "$build/bin/$t" "$work/corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=8192 -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
      >"$work/log.txt" 2>&1; then
    status=1
    echo "fuzz: $t FAILED; reproducer(s):"
    ls -l "$work/artifacts"
    tail -n 60 "$work/log.txt"
  else
    echo "fuzz: $t clean ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$work/log.txt" \
      | grep -o '[0-9]*$') runs, $(( $(date +%s) - s )) s)"
  fi
done
echo "fuzz: total $(( $(date +%s) - t0 )) s"
exit $status
