#!/usr/bin/env python3
"""The repository stands on its own: no file refers to a directory beside it (the team's old shared
folder), and the conformance data the suites read is inside it (tests/conformance/).

Usage: self_contained.py SOURCE_DIR. Exits 1 and lists every offending line. Uses `git grep` on a
git checkout (tracked and untracked files, not ignored ones), else reads every file under SOURCE_DIR."""
import os
import re
import subprocess
import sys

# Built from pieces so that this file does not match itself.
SHARED = "shar" + "ed"
PATTERN = r"(\.\./|/work/)" + SHARED + r"\b"
DATA = ["tests/conformance/schedule-cases.jsonl", "tests/conformance/route-cases.jsonl"]
SKIP_DIRS = {".git", "build", "node_modules"}


def grep_git(root):
    r = subprocess.run(["git", "-C", root, "grep", "--untracked", "-n", "-I", "-E", PATTERN],
                       capture_output=True, text=True)
    if r.returncode not in (0, 1):
        return None
    return [line for line in r.stdout.splitlines() if line]


def grep_files(root):
    hits = []
    rx = re.compile(PATTERN)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith("build")]
        for name in filenames:
            path = os.path.join(dirpath, name)
            try:
                with open(path, encoding="utf-8") as f:
                    for n, line in enumerate(f, 1):
                        if rx.search(line):
                            hits.append(f"{os.path.relpath(path, root)}:{n}:{line.rstrip()}")
            except (UnicodeDecodeError, OSError):
                continue
    return hits


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
    hits = grep_git(root) if os.path.exists(os.path.join(root, ".git")) else None
    if hits is None:
        hits = grep_files(root)
    missing = [p for p in DATA if not os.path.isfile(os.path.join(root, p))]
    for h in hits:
        print(f"refers outside the repository: {h}")
    for p in missing:
        print(f"missing from the repository: {p}")
    if hits or missing:
        return 1
    print(f"self-contained: no reference outside {root}; conformance data present")
    return 0


if __name__ == "__main__":
    sys.exit(main())
