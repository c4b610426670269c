#!/usr/bin/env python3
"""The benchmark's pgbench ceiling runs the PostgreSQL store's own statements: it reads them from
host_stub/store/pg_statements.h (bench/backfill_e2e.py, pg_dry_run_script). Fails when that reading
no longer finds them whole, or leaves a $n parameter unset."""
import os
import re
import sys

sys.path.insert(0, os.path.join(sys.argv[1], "bench"))
import backfill_e2e  # noqa: E402

statements = backfill_e2e.pg_statements()
problems = []
# Each statement, read whole: a SELECT with its parameters $1..$n and nothing of C left in it.
for name, params in (("kLoadScheduleSql", 2), ("kWindowSessionsSql", 5), ("kWindowLatestBeforeSql", 3)):
    text = statements.get(name, "")
    found = sorted(set(int(n) for n in re.findall(r"\$(\d+)", text)))
    if not text.startswith("SELECT ") or "\\" in text or '"' in text.replace('"index"', "") or \
            found != list(range(1, params + 1)):
        problems.append(f"{name}: not read whole from pg_statements.h: {text!r}")
if problems:
    print("\n".join(problems))
    sys.exit(1)
script = backfill_e2e.pg_dry_run_script()
if re.search(r"\$\d", script):
    problems.append("a $n parameter is left in the pgbench script")
selects = [line for line in script.splitlines() if line.startswith("SELECT ")]
if len(selects) != 3 or not re.search(r"\\startpipeline\nBEGIN [^\n]*\n(SELECT [^\n]*\n){3}ROLLBACK;\n", script):
    problems.append(f"the pgbench script is not BEGIN, the three reads and ROLLBACK in a pipeline:\n{script}")
for p in problems:
    print(p)
print("bench statements:", "FAIL" if problems else "ok")
sys.exit(1 if problems else 0)
