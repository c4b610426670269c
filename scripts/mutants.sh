#!/usr/bin/env bash
# The mutation check: applies each mutant of tests/mutants/mutants.txt (a small, realistic bug) to a
# scratch copy of this checkout, rebuilds incrementally, runs the tests that should catch it and then
# the fast suites (unit + end-to-end on SQLite), stopping at the first failure, and reverts it.
# Prints `killed by N tests` or `SURVIVED` per mutant and `N killed, M survived`; exits 0 only when
# every mutant was killed. Run it before changing the planner, the engine or a store.
#
# Usage: scripts/mutants.sh [NAME...]        all mutants, or only these (the fast suites' baseline
#                                            runs first for a full run)
#        scripts/mutants.sh --check          only check that every mutant still applies (no build)
#        scripts/mutants.sh --show           list the mutants
#        scripts/mutants.sh --help           every option (--scratch DIR, --jobs N, --no-suite, ...)
# See docs/mutants.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(dirname "$root")}
fi
exec python3 "$root/scripts/mutants.py" "$@"
