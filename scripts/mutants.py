#!/usr/bin/env python3
"""The project's mutation check (scripts/mutants.sh runs this; see docs/mutants.md).

Each mutant of tests/mutants/mutants.txt is a small, realistic bug: in one file, exact search
strings and their replacements. The check copies the checkout to a scratch tree, builds it once,
then for each mutant: applies it, rebuilds incrementally, runs the mutant's own tests and, if they
all pass, the fast suites (unit and end-to-end on SQLite: `ctest -LE postgres`), stopping at the
first failure; then reverts it. One line per mutant (`killed by N tests` or `SURVIVED`), then
`N killed, M survived`. Exit 0 only when every mutant was killed.

A search string that no longer occurs exactly once in its file fails the whole run at once (and
`--check`, which CTest runs as `mutants.applicable`): the mutants must move with the code.
"""
import argparse
import fcntl
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_LIST = os.path.join(ROOT, "tests", "mutants", "mutants.txt")
DEFAULT_SUITE = "-LE postgres"
# Tests that read the source tree, not what it does: under a mutant, mutants.applicable fails because
# the mutant's own edit is in the tree, which would count every mutant the behaviour let through as
# killed. No selection may run them.
SOURCE_TESTS = r"^(mutants|repo)\."
MARKER = ".wfp-mutants-scratch"  # marks a directory as a scratch copy this script may overwrite


class Mutant:
    def __init__(self, name, line):
        self.name = name
        self.line = line
        self.file = None
        self.about = None
        self.edits = []  # (find, replace)
        self.tests = None  # ctest arguments tried first
        self.suite = DEFAULT_SUITE  # ctest arguments run when `tests` did not kill it


def unescape(text):
    """`\\n` is a newline, `\\t` a tab and `\\\\` a backslash in find and replace values."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in "nt\\":
            out.append({"n": "\n", "t": "\t", "\\": "\\"}[text[i + 1]])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def parse_list(path):
    """Parses the mutant list; raises ValueError naming the line for anything malformed."""
    mutants, current, pending_find = [], None, None
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            where = f"{os.path.relpath(path, ROOT)}:{number}"
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            header = re.fullmatch(r"\[([a-z0-9][a-z0-9-]*)\]", line.strip())
            if header:
                if pending_find is not None:
                    raise ValueError(f"{where}: `find:` of [{current.name}] has no `replace:`")
                if any(m.name == header.group(1) for m in mutants):
                    raise ValueError(f"{where}: mutant [{header.group(1)}] is listed twice")
                current = Mutant(header.group(1), number)
                mutants.append(current)
                continue
            if current is None:
                raise ValueError(f"{where}: expected a [name] line first")
            key, sep, value = line.partition(":")
            if not sep:
                raise ValueError(f"{where}: expected `key: value`")
            key = key.strip()
            value = value[1:] if value.startswith(" ") else value
            if key == "file":
                current.file = value.strip()
            elif key == "about":
                current.about = value.strip()
            elif key == "find":
                if pending_find is not None:
                    raise ValueError(f"{where}: two `find:` lines without a `replace:`")
                if not value:
                    raise ValueError(f"{where}: empty `find:`")
                pending_find = unescape(value)
            elif key == "replace":
                if pending_find is None:
                    raise ValueError(f"{where}: `replace:` without a `find:`")
                current.edits.append((pending_find, unescape(value)))
                pending_find = None
            elif key in ("tests", "suite"):
                if "-E" in value.split():
                    raise ValueError(f"{where}: `{key}:` may not use -E (the check adds its own, "
                                     "leaving out the tests that read the sources)")
                setattr(current, key, value.strip())
            else:
                raise ValueError(f"{where}: unknown key {key!r} (file, about, find, replace, tests, suite)")
    if pending_find is not None:
        raise ValueError(f"{path}: `find:` of [{current.name}] has no `replace:`")
    for m in mutants:
        missing = [k for k, v in (("file", m.file), ("about", m.about)) if not v]
        if missing or not m.edits:
            raise ValueError(f"mutant [{m.name}] (line {m.line}) needs file, about and find/replace")
    return mutants


def mutate(text, mutant):
    """The mutated text, or ValueError when a search string does not occur exactly once."""
    for find, replace in mutant.edits:
        n = text.count(find)
        if n != 1:
            what = "no longer occurs" if n == 0 else f"occurs {n} times"
            raise ValueError(f"mutant [{mutant.name}]: the search string {find!r} {what} in "
                             f"{mutant.file}; update tests/mutants/mutants.txt")
        text = text.replace(find, replace)
    return text


def check_applicable(mutants, tree):
    problems = []
    for m in mutants:
        path = os.path.join(tree, m.file)
        if not os.path.isfile(path):
            problems.append(f"mutant [{m.name}]: {m.file} does not exist")
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        try:
            if mutate(text, m) == text:
                problems.append(f"mutant [{m.name}]: its replacement changes nothing")
        except ValueError as e:
            problems.append(str(e))
    return problems


def tracked_files(root):
    out = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         check=True, capture_output=True).stdout.decode()
    return sorted(p for p in out.split("\0") if p and os.path.isfile(os.path.join(root, p)))


def sync_tree(root, dest):
    """Makes dest a copy of the checkout's files (tracked and untracked, not ignored). Only files whose
    content differs are written (so their mtime is new and the next build recompiles them); the rest
    are left alone, so the scratch build stays incremental across runs."""
    files = tracked_files(root)
    wanted = set(files)
    written = 0
    for rel in files:
        src, dst = os.path.join(root, rel), os.path.join(dest, rel)
        with open(src, "rb") as f:
            data = f.read()
        if os.path.isfile(dst):
            with open(dst, "rb") as f:
                if f.read() == data:
                    continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "wb") as f:
            f.write(data)
        shutil.copymode(src, dst)
        written += 1
    for dirpath, dirnames, filenames in os.walk(dest):
        if dirpath == dest and "build" in dirnames:
            dirnames.remove("build")  # the scratch build, not part of the copy
        for name in filenames:
            rel = os.path.relpath(os.path.join(dirpath, name), dest)
            if rel not in wanted and rel != MARKER:
                os.unlink(os.path.join(dirpath, name))
    return written


def run(cmd, log, **kw):
    with open(log, "a") as f:
        f.write(f"\n$ {shlex.join(cmd)}\n")
        f.flush()
        return subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, **kw).returncode


def configure(src, build, log):
    args = ["cmake", "-S", src, "-B", build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DWFP_BUILD_BENCHMARKS=OFF"]
    if shutil.which("ccache"):
        args += ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache", "-DCMAKE_C_COMPILER_LAUNCHER=ccache"]
    return run(args, log) == 0


def build(build_dir, jobs, log, targets=()):
    cmd = ["cmake", "--build", build_dir, f"-j{jobs}"]
    if targets:
        cmd += ["--target", *targets]
    return run(cmd, log) == 0


def ctest(build_dir, selection, jobs, log, stop=True, retry=False):
    """Runs a ctest selection; returns (ran_ok, failed_test_names). ran_ok is False when ctest found
    no test at all (a selection that matches nothing must not count as a pass)."""
    failed_log = os.path.join(build_dir, "Testing", "Temporary", "LastTestsFailed.log")
    if os.path.exists(failed_log):
        os.unlink(failed_log)
    cmd = ["ctest", "--test-dir", build_dir, "--output-on-failure", f"-j{jobs}", "--timeout", "900"]
    if stop:
        cmd.append("--stop-on-failure")
    if retry:  # the baseline: a test that fails once under load and then passes is not a broken tree
        cmd += ["--repeat", "until-pass:2"]
    cmd += selection.split()  # whitespace-separated, no quoting: regexes keep their backslashes
    cmd += ["-E", SOURCE_TESTS]
    start = os.path.getsize(log) if os.path.exists(log) else 0
    rc = run(cmd, log)
    with open(log, errors="replace") as f:
        f.seek(start)
        output = f.read()
    failed = []
    if os.path.exists(failed_log):
        with open(failed_log) as f:
            failed = [line.strip().split(":", 1)[-1] for line in f if line.strip()]
    if "No tests were found" in output:
        return False, failed
    if rc != 0 and not failed:
        failed = ["<ctest failed without naming a test; see the log>"]
    return True, failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="run only these mutants (default: all)")
    ap.add_argument("--list", dest="list_file", default=DEFAULT_LIST, help="the mutant list")
    ap.add_argument("--check", action="store_true",
                    help="only check that every mutant applies to this checkout (no build)")
    ap.add_argument("--show", action="store_true", help="print the mutants and exit")
    ap.add_argument("--scratch", default=os.environ.get("WFP_MUTANTS_DIR"),
                    help="scratch copy of the tree (built in DIR/build), kept between runs for "
                         "incremental builds (default: .<checkout>-mutants beside the checkout, or "
                         "$WFP_MUTANTS_DIR)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--baseline", action="store_true",
                    help="also run the fast suites on the unmutated tree first (default for a full run)")
    ap.add_argument("--no-suite", action="store_true",
                    help="run only each mutant's own tests, not the fast suites after them")
    ap.add_argument("--targets", default="",
                    help="build only these targets (comma-separated), e.g. the test executables of "
                         "the chosen mutants' tests; with --no-suite")
    args = ap.parse_args()
    targets = [t for t in args.targets.split(",") if t]
    if targets and not args.no_suite:
        ap.error("--targets needs --no-suite (the fast suites need the whole build)")

    try:
        mutants = parse_list(args.list_file)
    except (OSError, ValueError) as e:
        print(f"mutants: {e}", file=sys.stderr)
        return 2
    if args.names:
        unknown = [n for n in args.names if not any(m.name == n for m in mutants)]
        if unknown:
            print(f"mutants: unknown mutant(s): {', '.join(unknown)}", file=sys.stderr)
            return 2
        mutants = [m for m in mutants if m.name in args.names]
    if args.show:
        for m in mutants:
            print(f"{m.name:40} {m.file}: {m.about}")
        return 0
    problems = check_applicable(mutants, ROOT)
    if problems:
        print("\n".join(f"mutants: {p}" for p in problems), file=sys.stderr)
        return 2
    if args.check:
        print(f"mutants: all {len(mutants)} mutants apply to this checkout")
        return 0

    # The copy is laid out as the checkout (sources, and the build in its `build/`), beside it under
    # the same parent: paths relative to the tree resolve as they do for the checkout, and ccache
    # (with CCACHE_BASEDIR above both) finds the checkout's own compilations.
    src = args.scratch or os.path.join(os.path.dirname(ROOT), f".{os.path.basename(ROOT)}-mutants")
    build_dir = os.path.join(src, "build")
    # sync_tree deletes what the checkout does not have: only ever in a directory this script made.
    marker = os.path.join(src, MARKER)
    if os.path.isdir(src) and os.listdir(src) and not os.path.exists(marker):
        print(f"mutants: {src} exists and is not a scratch tree of this script ({MARKER} missing); "
              "choose another --scratch", file=sys.stderr)
        return 2
    os.makedirs(build_dir, exist_ok=True)
    open(marker, "a").close()
    lock = open(os.path.join(build_dir, "mutants.lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        print(f"mutants: another run is using {build_dir}", file=sys.stderr)
        return 2
    log = os.path.join(build_dir, "mutants.log")
    open(log, "w").close()
    print(f"mutants: scratch tree {src}, build {build_dir}, log {log}")
    t0 = time.monotonic()
    written = sync_tree(ROOT, src)
    if not configure(src, build_dir, log) or not build(build_dir, args.jobs, log, targets):
        print(f"mutants: the unmutated tree does not build; see {log}", file=sys.stderr)
        return 2
    print(f"mutants: copied {written} changed files and built in {time.monotonic() - t0:.0f} s")

    # The tests each mutant names must pass on the unmutated tree, or a "kill" proves nothing.
    baseline = sorted({m.tests for m in mutants if m.tests})
    if args.baseline or (not args.names and not args.no_suite):
        baseline += sorted({m.suite for m in mutants})
    for selection in baseline:
        ok, failed = ctest(build_dir, selection, args.jobs, log, stop=False, retry=True)
        if not ok or failed:
            why = "matches no test" if not ok else f"fails on the unmutated tree: {', '.join(failed[:5])}"
            print(f"mutants: baseline `ctest {selection}` {why}; see {log}", file=sys.stderr)
            return 2
    if baseline:
        print(f"mutants: baseline passes ({len(baseline)} selections, {time.monotonic() - t0:.0f} s)")

    killed, survived, broken = 0, [], []
    for m in mutants:
        t1 = time.monotonic()
        path = os.path.join(src, m.file)
        with open(path, encoding="utf-8") as f:
            original = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(mutate(original, m))
        try:
            with open(log, "a") as f:
                f.write(f"\n==== mutant [{m.name}] {m.file}: {m.about}\n")
            if not build(build_dir, args.jobs, log, targets):
                broken.append(m.name)
                print(f"{m.name:40} DOES NOT BUILD (fix the mutant)   {m.about}", flush=True)
                continue
            failed, where = [], None
            if m.tests:
                ok, failed = ctest(build_dir, m.tests, args.jobs, log)
                where = "its tests"
                if not ok:
                    broken.append(m.name)
                    print(f"{m.name:40} ITS TESTS MATCH NOTHING (`{m.tests}`)", flush=True)
                    continue
            if not failed and not args.no_suite:
                ok, failed = ctest(build_dir, m.suite, args.jobs, log)
                where = "the suite"
            secs = time.monotonic() - t1
            if failed:
                killed += 1
                first = failed[0]
                print(f"{m.name:40} killed by {len(failed)} test{'s' if len(failed) != 1 else ''} "
                      f"({where}: {first}) {secs:.0f} s", flush=True)
            else:
                survived.append(m.name)
                print(f"{m.name:40} SURVIVED   {m.about}   {secs:.0f} s", flush=True)
        finally:
            with open(path, "w", encoding="utf-8") as f:
                f.write(original)
    # Leave the scratch build matching the unmutated tree, so that the next run starts from it.
    build(build_dir, args.jobs, log, targets)
    summary = f"{killed} killed, {len(survived)} survived"
    if broken:
        summary += f", {len(broken)} broken ({', '.join(broken)})"
    print(f"{summary} ({time.monotonic() - t0:.0f} s)")
    return 0 if not survived and not broken else 1


if __name__ == "__main__":
    sys.exit(main())
