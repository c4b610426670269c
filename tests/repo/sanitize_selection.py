#!/usr/bin/env python3
"""The ASan run's test selection keeps every fixture it needs.

scripts/sanitize.sh runs `ctest -E "$asan_exclude"`. CTest does not add back a fixture's setup test
that -E excludes, so a kept test whose fixture setup matches the pattern fails for a reason that has
nothing to do with memory (CI once failed so: openapi.npm_ci was left out and every e2e suite missed
ajv). This check reads the pattern from sanitize.sh, lists the tests of a build directory with
`ctest --show-only=json-v1`, and fails when a kept test requires a fixture whose every setup test is
excluded, or when the pattern excludes nothing or everything.

Usage: sanitize_selection.py --script scripts/sanitize.sh --build BUILD_DIR [--ctest CTEST]
"""
import argparse
import json
import re
import subprocess
import sys


def read_pattern(script):
    with open(script, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^asan_exclude='([^']*)'\s*$", line)
            if m:
                return m.group(1)
    sys.exit(f"{script}: no line asan_exclude='...'")


def fixtures(test, kind):
    for prop in test.get("properties", []):
        if prop["name"] == kind:
            return set(prop["value"])
    return set()


def problems(tests, pattern):
    excluded = {t["name"] for t in tests if re.search(pattern, t["name"])}
    kept = [t for t in tests if t["name"] not in excluded]
    if not excluded:
        return [f"the pattern {pattern!r} excludes no test: is it still the one ctest gets?"]
    if not kept:
        return [f"the pattern {pattern!r} excludes every test"]
    setups = {}
    for t in tests:
        for fx in fixtures(t, "FIXTURES_SETUP"):
            setups.setdefault(fx, set()).add(t["name"])
    out = []
    for t in kept:
        for fx in sorted(fixtures(t, "FIXTURES_REQUIRED")):
            have = setups.get(fx, set())
            if have and have <= excluded:
                out.append(f"{t['name']} requires fixture {fx}, whose setup "
                           f"{', '.join(sorted(have))} the pattern excludes")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--script", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--ctest", default="ctest")
    a = ap.parse_args()
    pattern = read_pattern(a.script)
    listing = subprocess.run([a.ctest, "--test-dir", a.build, "--show-only=json-v1"],
                             check=True, capture_output=True, text=True).stdout
    tests = json.loads(listing)["tests"]
    found = problems(tests, pattern)
    for p in found:
        print(f"sanitize selection: {p}", file=sys.stderr)
    if found:
        return 1
    kept = sum(1 for t in tests if not re.search(pattern, t["name"]))
    print(f"sanitize selection: {kept} of {len(tests)} tests kept; every fixture they need is set up")
    return 0


if __name__ == "__main__":
    sys.exit(main())
