#!/usr/bin/env python3
"""Mechanical mutation sweep of one or more C++ sources (docs/mutants.md, "The sweep").

Where tests/mutants/mutants.txt holds bugs a person chose, this generates them by rule, one at a
time, to find what the tests let through:

  rel     < <=, > >=, == != (binary operators only: spaces on both sides)
  arith   + -  (binary)
  lit     an integer literal next to a comparison, or an index, +1 and -1
  logic   && ||
  skip    continue; or break; deleted (replaced by {})
  return  an early return deleted (one inside an if, a loop or a switch)
  if      an if condition negated
  bool    return true <-> return false; `return X;` -> `return !(X);` in a bool function

Comments, string and character literals (raw strings too) and preprocessor lines are never
touched. For each mutant: apply it, build the given targets (build/ must be configured), run the
given test binaries (--gtest_brief=1, the first failure ends the mutant), restore the file byte
for byte (always: try/finally, Ctrl-C included) and record killed / survived / broken (does not
build) / timeout (counted as killed).

  scripts/mutant_sweep.py plugin/schedule/cron_pattern.cc --list
  scripts/mutant_sweep.py plugin/backfill/planner.cc --out planner.jsonl
  scripts/mutant_sweep.py plugin/schedule/schedule.cc --max 70 --timeout 30
  scripts/mutant_sweep.py plugin/backfill/request.cc --only 4,57 --suite "-LE postgres -E mutants|repo"

Without --targets/--binaries the unit binaries that cover the file are used (see COVER), built
and run one at a time (a mutant the first kills costs one link). --max samples evenly over the
file; --suite also runs ctest (after building everything) on each mutant the unit binaries let
through, to confirm it survives the fast suites. Results go to --out as JSON lines, one per
mutant, and a summary to stdout. Run it in a checkout whose build/ is up to date and that nothing
else is building; at the end the targets are rebuilt from the restored sources.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Which unit binaries cover which sources (and are the targets to rebuild).
COVER = [
    ("plugin/schedule/", ["wfp_schedule_test", "wfp_backfill_test", "wfp_backfill_writer_test"]),
    ("plugin/backfill/writer", ["wfp_backfill_writer_test"]),
    ("plugin/backfill/", ["wfp_backfill_test", "wfp_backfill_writer_test"]),
]

REL_SWAP = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "=="}
REL = r"(?:<=|>=|==|!=|<|>)"


def mask(src):
    """The source with every non-code character (comments, literals, # lines) replaced by '`'."""
    out = list(src)
    i, n = 0, len(src)

    def blank(a, b):
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = "`"

    line_start = True
    while i < n:
        c = src[i]
        if line_start and c == "#":
            j = src.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
            continue
        if c == "\n":
            line_start = True
            i += 1
            continue
        if not c.isspace():
            line_start = False
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2) + 2
            blank(i, j)
            i = j
        elif c == "R" and src.startswith('R"', i) and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")):
            k = src.index("(", i)
            delim = src[i + 2:k]
            j = src.index(")" + delim + '"', k) + len(delim) + 2
            blank(i, j)
            i = j
        elif c == '"' or (c == "'" and not (i > 0 and src[i - 1].isalnum())):  # 1'000 is a number
            j = i + 1
            while src[j] != c:
                j += 2 if src[j] == "\\" else 1
            blank(i, j + 1)
            i = j + 1
        else:
            i += 1
    return "".join(out)


def match_close(m, i, open_c, close_c):
    """Index of the bracket closing the one at m[i]."""
    depth = 0
    for j in range(i, len(m)):
        if m[j] == open_c:
            depth += 1
        elif m[j] == close_c:
            depth -= 1
            if depth == 0:
                return j
    raise ValueError("unbalanced")


def match_open(m, j, open_c, close_c):
    depth = 0
    for i in range(j, -1, -1):
        if m[i] == close_c:
            depth += 1
        elif m[i] == open_c:
            depth -= 1
            if depth == 0:
                return i
    return -1


def statement_end(m, i):
    """Index just past the ';' ending the statement that starts at m[i]."""
    depth = 0
    for j in range(i, len(m)):
        if m[j] in "([{":
            depth += 1
        elif m[j] in ")]}":
            depth -= 1
        elif m[j] == ";" and depth == 0:
            return j + 1
    raise ValueError("no ;")


def prev_code(m, i):
    """Index of the last non-space code character before i (-1 at the start)."""
    i -= 1
    while i >= 0 and (m[i].isspace() or m[i] == "`"):
        i -= 1
    return i


def word_before(m, i):
    k = prev_code(m, i)
    j = k
    while j >= 0 and (m[j].isalnum() or m[j] == "_"):
        j -= 1
    return m[j + 1:k + 1]


def block_kind(m, i):
    """What opens the innermost block around m[i]: 'control' (if/else/for/while/switch/do),
    'function' (a function or lambda body), or 'other'."""
    depth = 0
    for j in range(i - 1, -1, -1):
        if m[j] == "}":
            depth += 1
        elif m[j] == "{":
            if depth == 0:
                k = prev_code(m, j)
                if k < 0:
                    return "other"
                if m[k] == ")":
                    o = match_open(m, k, "(", ")")
                    w = word_before(m, o)
                    return "control" if w in ("if", "for", "while", "switch") else "function"
                if word_before(m, j) in ("else", "do"):
                    return "control"
                if word_before(m, j) in ("const", "noexcept", "override") or m[k] == ">":
                    return "function"
                return "other"
            depth -= 1
    return "other"


def function_header(m, i):
    """The header text of the outermost function around m[i] (the code before its '{')."""
    depth, opener = 0, -1
    for j in range(i - 1, -1, -1):
        if m[j] == "}":
            depth += 1
        elif m[j] == "{":
            if depth == 0:
                if block_kind(m, j + 1) == "function" and not is_lambda(m, j):
                    opener = j
            else:
                depth -= 1
    if opener < 0:
        return ""
    start = max(m.rfind(";", 0, opener), m.rfind("}", 0, opener), m.rfind("{", 0, opener)) + 1
    return m[start:opener]


def is_lambda(m, brace):
    k = prev_code(m, brace)
    if m[k] != ")":
        return False
    o = match_open(m, k, "(", ")")
    return m[prev_code(m, o)] == "]"


def sites(src):
    """Every mutant of `src`: dicts with start, end, replacement, op."""
    m = mask(src)
    out = []

    def add(op, a, b, rep):
        out.append({"op": op, "start": a, "end": b, "replacement": rep})

    for x in re.finditer(r"(?<=\s)" + REL + r"(?=\s)", m):
        add("rel", x.start(), x.end(), REL_SWAP[x.group()])
    for x in re.finditer(r"(?<=\s)[+-](?=\s)", m):
        add("arith", x.start(), x.end(), "-" if x.group() == "+" else "+")
    for x in re.finditer(r"(?<=\s)(&&|\|\|)(?=\s)", m):
        add("logic", x.start(), x.end(), "||" if x.group() == "&&" else "&&")
    literal = r"(?<![\w.])(0[xX][0-9a-fA-F]+|\d+)([uUlL]*)(?![\w.'])"
    for x in re.finditer(literal, m):
        before = m[max(0, x.start() - 4):x.start()]
        after = m[x.end():x.end() + 4]
        line_start = m.rfind("\n", 0, x.start()) + 1
        line_end = m.find("\n", x.end())
        index = m.rfind("[", line_start, x.start()) > m.rfind("]", line_start, x.start()) and \
            m.find("]", x.end(), line_end) >= 0
        compared = re.search(REL + r"\s$", before) or re.match(r"\s" + REL + r"\s", after)
        if not (compared or index):
            continue
        text = x.group(1)
        value = int(text, 0)
        for delta in (1, -1):
            v = value + delta
            if v < 0 and (index or text.startswith("0x")):
                continue
            if text.lower().startswith("0x"):
                rep = "0x" + format(v, "X" if any(c.isupper() for c in text[2:]) else "x")
            else:
                rep = str(v)
            add("lit", x.start(1), x.end(1), rep)
    for x in re.finditer(r"\b(continue|break);", m):
        add("skip", x.start(), x.end(), "{}")
    for x in re.finditer(r"\breturn\b", m):
        end = statement_end(m, x.start())
        body = src[x.end():end - 1].strip()
        k = prev_code(m, x.start())
        if_body = m[k] == ")" and word_before(m, match_open(m, k, "(", ")")) in ("if", "for", "while")
        if_body = if_body or word_before(m, x.start()) == "else"
        if if_body or block_kind(m, x.start()) == "control":
            add("return", x.start(), end, "{}")
        if body in ("true", "false"):
            add("bool", x.start(), end, "return " + ("false" if body == "true" else "true") + ";")
        elif body and re.match(r"\s*(static\s+|inline\s+|constexpr\s+)*bool\s", function_header(m, x.start())):
            add("bool", x.start(), end, "return !(" + body + ");")
    for x in re.finditer(r"\bif\s*\(", m):
        o = x.end() - 1
        c = match_close(m, o, "(", ")")
        if ";" in m[o:c] or re.match(r"\s*(auto|const|int|bool)\b", m[o + 1:c]):
            continue  # a declaration in the condition cannot be negated
        add("if", o + 1, c, "!(" + src[o + 1:c] + ")")
    out.sort(key=lambda s: (s["start"], s["op"], s["replacement"]))
    for n, s in enumerate(out):
        s["id"] = n
        s["line"] = src.count("\n", 0, s["start"]) + 1
        s["original"] = src[s["start"]:s["end"]]
    return out


def describe(src, s):
    line_start = src.rfind("\n", 0, s["start"]) + 1
    line = src[line_start:src.find("\n", s["end"])]
    line_end = src.find("\n", s["end"])
    mutated = src[line_start:s["start"]] + s["replacement"] + src[s["end"]:line_end]
    return " ".join(line.split()), " ".join(mutated.split())


def sample(all_sites, limit):
    """At most `limit` sites, evenly spread over the file (a fixed choice: runs repeat)."""
    if not limit or len(all_sites) <= limit:
        return all_sites
    step = len(all_sites) / limit
    return [all_sites[int(k * step)] for k in range(limit)]


def build(build_dir, targets, timeout):
    cmd = ["nice", "-n", "10", "cmake", "--build", str(build_dir), "-j2", "--target", *targets]
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    try:
        return p.wait(timeout=timeout) == 0
    except BaseException:  # a timeout, Ctrl-C: the whole build goes (make's compilers too)
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        raise


def run_tests(build_dir, binaries, timeout):
    """'killed' with the failing tests, or 'survived'. A timeout counts as killed."""
    deadline = time.monotonic() + timeout
    for b in binaries:
        left = deadline - time.monotonic()
        if left <= 0:
            return "timeout", [b]
        p = subprocess.Popen([str(build_dir / "bin" / b), "--gtest_brief=1"], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             errors="replace", start_new_session=True)
        try:
            output, _ = p.communicate(timeout=left)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            return "timeout", [b]
        except BaseException:
            os.killpg(p.pid, signal.SIGKILL)
            raise
        if p.returncode != 0:
            failed = sorted(set(re.findall(r"^\[  FAILED  \] (\S+\.\S+)", output, re.M)))
            return "killed", failed or [f"{b} (exit {p.returncode})"]
    return "survived", []


def run_suite(build_dir, suite, timeout):
    """The whole build, then ctest with `suite`'s arguments: 'killed' when a test fails."""
    try:
        if not build(build_dir, ["all"], timeout):
            return "broken", []
    except subprocess.TimeoutExpired:
        return "broken", []
    cmd = ["nice", "-n", "10", "ctest", "-j2", "--stop-on-failure", *suite.split()]
    p = subprocess.Popen(cmd, cwd=build_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, errors="replace", start_new_session=True)
    try:
        output, _ = p.communicate(timeout=timeout)
    except BaseException as e:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        if isinstance(e, subprocess.TimeoutExpired):
            return "timeout", ["ctest"]
        raise
    if p.returncode == 0:
        return "survived", []
    failed = re.findall(r"^\s*\d+ - (\S+)", output, re.M)  # "The following tests FAILED:"
    return "killed", failed or [f"ctest (exit {p.returncode}): " + " | ".join(output.splitlines()[-6:])]


def build_and_test(build_dir, targets, binaries, timeout, suite=None):
    """Builds and runs the binaries one at a time, so a mutant the first one kills costs one link
    (or, with explicit targets, builds them all first); then, for a survivor, the suite."""
    steps = [(targets, binaries)] if targets else [([b], [b]) for b in binaries]
    for step_targets, step_binaries in steps:
        try:
            if not build(build_dir, step_targets, timeout * 5):
                return "broken", []
        except subprocess.TimeoutExpired:
            return "broken", []
        status, failed = run_tests(build_dir, step_binaries, timeout)
        if status != "survived":
            return status, failed
    if suite:
        status, failed = run_suite(build_dir, suite, 1800)
        return ("suite-" + status if status != "survived" else status), failed
    return "survived", []


def sweep_file(path, args, out):
    rel = str(Path(path).resolve().relative_to(ROOT))
    binaries = args.binaries or next(b for prefix, b in COVER if rel.startswith(prefix))
    build_dir = Path(args.build_dir).resolve()
    original = (ROOT / rel).read_bytes()
    src = original.decode()
    chosen = sites(src)
    if args.ops:
        chosen = [s for s in chosen if s["op"] in args.ops.split(",")]
    if args.only:
        wanted = {int(x) for x in args.only.split(",")}
        chosen = [s for s in chosen if s["id"] in wanted]
    else:
        chosen = sample(chosen, args.max)
    if args.list:
        for s in chosen:
            before, after = describe(src, s)
            print(f"{rel}:{s['line']} #{s['id']} {s['op']}: {before}  =>  {after}")
        return {}
    totals = {}
    try:
        for s in chosen:
            mutated = src[:s["start"]] + s["replacement"] + src[s["end"]:]
            (ROOT / rel).write_text(mutated)
            t0 = time.monotonic()
            status, failed = build_and_test(build_dir, args.targets, binaries, args.timeout,
                                            args.suite)
            before, after = describe(src, s)
            record = {"file": rel, "id": s["id"], "line": s["line"], "op": s["op"], "before": before,
                      "after": after, "status": status, "failed": failed[:5],
                      "seconds": round(time.monotonic() - t0, 1)}
            totals[status] = totals.get(status, 0) + 1
            print(f"{rel}:{s['line']} #{s['id']} {s['op']:6} {status:8} {after}", flush=True)
            if out:
                out.write(json.dumps(record) + "\n")
                out.flush()
    finally:
        (ROOT / rel).write_bytes(original)
    return totals


def stop(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")  # the finally blocks restore the file


def main():
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)  # a background job starts with SIGINT ignored
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", help="sources, relative to the repository or absolute")
    ap.add_argument("--build-dir", default=str(ROOT / "build"))
    ap.add_argument("--targets", type=lambda s: s.split(","), help="comma-separated build targets")
    ap.add_argument("--binaries", type=lambda s: s.split(","), help="comma-separated build/bin tests")
    ap.add_argument("--max", type=int, default=0, help="at most this many mutants per file (evenly)")
    ap.add_argument("--ops", help="only these kinds (comma-separated: rel,arith,lit,...)")
    ap.add_argument("--only", help="only these mutant ids (comma-separated, as --list shows)")
    ap.add_argument("--timeout", type=int, default=120, help="seconds per mutant's tests")
    ap.add_argument("--suite", help="for a survivor, build everything and run ctest with these "
                    "arguments too, e.g. \"-LE postgres -E mutants|repo\" (slow: minutes a mutant)")
    ap.add_argument("--list", action="store_true", help="list the mutants; build and run nothing")
    ap.add_argument("--out", help="append one JSON line per mutant to this file")
    args = ap.parse_args()
    out = open(args.out, "a") if args.out else None
    grand = {}
    try:
        for f in args.files:
            totals = sweep_file(f, args, out)
            if not args.list:
                print(f"{f}: " + ", ".join(f"{v} {k}" for k, v in sorted(totals.items())), flush=True)
            for k, v in totals.items():
                grand[k] = grand.get(k, 0) + v
    finally:
        if out:
            out.close()
        if not args.list:  # leave build/ matching the restored sources
            rebuild = ["all"] if args.suite else list(dict.fromkeys(
                args.targets or args.binaries or [b for _, bs in COVER for b in bs]))
            subprocess.run(["nice", "-n", "10", "cmake", "--build", args.build_dir, "-j2", "--target",
                            *rebuild], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not args.list:
        print("total: " + ", ".join(f"{v} {k}" for k, v in sorted(grand.items())))
    return 1 if grand.get("survived") else 0


if __name__ == "__main__":
    sys.exit(main())
