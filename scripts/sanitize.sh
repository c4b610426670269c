#!/usr/bin/env bash
# Runs the test suite under sanitizers, as CI does after the normal build (see .ci/run).
#  1. AddressSanitizer + UndefinedBehaviorSanitizer (build-asan): every unit, ABI-conformance, end-to-end
#     and reliability test. wfp-host and libwfp_backfill.so are both instrumented, so the e2e suites
#     check the real process too. Left out, by label/pattern:
#       - openapi.document, .responses, .redocly, .typed_client, .prism, .version: check the document
#                       and outside tools; no C++ under test that the e2e suites do not already drive.
#                       openapi.npm_ci must stay: it installs ajv for the e2e suites, which validate
#                       every response they receive (CTest does not add a fixture's setup test that -E
#                       excludes; CI failed on that once).
#       - e2e.pg.*    : the same suites as e2e.* with the PostgreSQL store; the PostgreSQL store's C++
#                       runs under ASan in wfp_store_test's PostgreSQL cases and reliability.pg.*.
#       - packaging.* : configures/installs a second CMake project; tests install rules, not memory.
#       - abi.header_hash* : a hash of a header file, no code runs.
#     The PostgreSQL cases run too: CTest's fixture starts a throwaway cluster for build-asan.
#  2. ThreadSanitizer (build-tsan): the tests with threads: the server (in-process Beast server, the
#     backfill client), the host runtime (foreign-thread respond, concurrent calls) and the store
#     (concurrent connections, BUSY mapping), the metrics registry (plugins record from any thread while
#     /metrics is scraped), the store on SQLite and, when the PostgreSQL server is
#     installed, on a throwaway cluster that this script starts and stops (scripts/pg-cluster.sh).
# Usage: scripts/sanitize.sh [asan|tsan|all]   (default all). Build dirs: WFP_ASAN_DIR, WFP_TSAN_DIR.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
what=${1:-all}
jobs=${WFP_JOBS:-$(nproc)}
asan_dir=${WFP_ASAN_DIR:-$root/build-asan}
tsan_dir=${WFP_TSAN_DIR:-$root/build-tsan}

# Leaks are errors; halt at the first report so ctest sees a failing test. The UBSan runtime prints a
# stack. strict_string_checks catches reads past a NUL in C-string APIs. intercept_tls_get_addr=0: with
# GCC 12's sanitizer runtime on Debian 12's glibc, LeakSanitizer records a bogus dynamic-TLS range for
# the dlopen'ed plugin and its tracer crashes at exit ("Tracer caught signal 11", "DTLS ... at
# 0x...20c-0x1...30e" with LSAN_OPTIONS=verbosity=1), deterministically for some requests (6 of every
# 5th schedule conformance case). Without the interception, dynamic TLS is simply not a root: a block
# reachable only from it would be reported as a leak, never hidden.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:check_initialization_order=1:detect_stack_use_after_return=1:intercept_tls_get_addr=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

stamp() { date +%s; }

# The tests the ASan run leaves out (see the top). tests/repo/sanitize_selection.py reads this line and
# checks that every test kept still has the setup test of each fixture it requires.
asan_exclude='^(openapi\.(document|responses|redocly|typed_client|prism|version)|browser\.|repo\.|mutants\.|packaging\.|abi\.header_hash|abi\.frozen|e2e\.pg\.)'

run_asan() {
  local t0; t0=$(stamp)
  cmake -S "$root" -B "$asan_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWFP_SANITIZE=address,undefined \
    -DWFP_BUILD_BENCHMARKS=OFF
  # Default target = libraries, wfp-host, test plugins and test executables (no benchmarks).
  cmake --build "$asan_dir" -j"$jobs"
  local t1; t1=$(stamp)
  # The crash-safety test kills wfp-host mid-backfill; under ASan (3-5x slower) a smaller backfill and
  # one round of kills are enough to run the instrumented recovery path (the normal run does more).
  # Left out: the checks of files and outside tools (the OpenAPI tools, the browser, the repository's
  # self-containment, the mutants' applicability, packaging, the header hash): they test no C++ path
  # that the normal run does not, and they would only run slower here.
  # The ABI matrix runs every 10th route case in each pairing: every struct and function still
  # crosses in every pairing, at a tenth of the cost.
  # The conformance files run every 5th case for the same reason (the normal run checks them all).
  WFP_MATRIX_CASE_STRIDE=${WFP_MATRIX_CASE_STRIDE:-10} WFP_CONFORMANCE_STRIDE=${WFP_CONFORMANCE_STRIDE:-5} \
  WFP_CRASH_SESSIONS=${WFP_CRASH_SESSIONS:-20000} WFP_CRASH_REPEAT=${WFP_CRASH_REPEAT:-1} \
  ctest --test-dir "$asan_dir" --output-on-failure -j"$jobs" --timeout 1800 -E "$asan_exclude"
  local t2; t2=$(stamp)
  echo "sanitize: asan+ubsan build $((t1 - t0)) s, tests $((t2 - t1)) s"
}

run_tsan() {
  local t0; t0=$(stamp)
  # -Wno-tsan: GCC warns that Asio's std_fenced_block uses atomic_thread_fence, which TSan does not
  # model; no report came from it in these tests.
  cmake -S "$root" -B "$tsan_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWFP_SANITIZE=thread \
    -DWFP_BUILD_BENCHMARKS=OFF -DCMAKE_CXX_FLAGS=-Wno-tsan
  cmake --build "$tsan_dir" -j"$jobs" --target wfp_server_test wfp_backfill_client_test \
    wfp_host_runtime_test wfp_store_test wfp_host_metrics_test
  local t1; t1=$(stamp)
  # The store's PostgreSQL cases read WFP_TEST_POSTGRES_URL (they skip without it).
  local pg_dir=""
  if [ -z "${WFP_TEST_POSTGRES_URL:-}" ] && compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    pg_dir=$(mktemp -d /tmp/wfp-pg-tsan-XXXXXX)
    rmdir "$pg_dir"  # pg-cluster.sh creates it (and marks it as its own)
    WFP_TEST_POSTGRES_URL=$("$root/scripts/pg-cluster.sh" start "$pg_dir" | tail -n 1)
    export WFP_TEST_POSTGRES_URL
    # shellcheck disable=SC2064
    trap "'$root/scripts/pg-cluster.sh' stop '$pg_dir' >/dev/null" EXIT
  fi
  # Test names come from gtest_discover_tests: <Suite>.<Test>; select by executable instead.
  local status=0
  for exe in wfp_server_test wfp_backfill_client_test wfp_host_runtime_test wfp_store_test \
    wfp_host_metrics_test; do
    echo "sanitize: tsan $exe"
    "$tsan_dir/bin/$exe" --gtest_brief=1 || status=1
  done
  local t2; t2=$(stamp)
  echo "sanitize: tsan build $((t1 - t0)) s, tests $((t2 - t1)) s"
  return $status
}

case "$what" in
  asan) run_asan ;;
  tsan) run_tsan ;;
  all) run_asan; run_tsan ;;
  *) echo "usage: $0 [asan|tsan|all]" >&2; exit 2 ;;
esac
