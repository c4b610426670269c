#!/usr/bin/env python3
"""The benchmark's pgbench ceiling runs the PostgreSQL store's own statement for a dry run's window: it
reads the store's statements from host_stub/store/pg_statements.h (bench/backfill_e2e.py,
pg_dry_run_script). Fails when that reading no longer finds them whole, when the script is not the
window's statement (kWindowAloneSql), or leaves a $n parameter unset."""
import os
import re
import sys

sys.path.insert(0, os.path.join(sys.argv[1], "bench"))
import backfill_e2e  # noqa: E402

statements = backfill_e2e.pg_statements()
problems = []
# Each statement, read whole: a SELECT with its parameters $1..$n and nothing of C left in it.
for name, params in (("kLoadScheduleSql", 2), ("kWindowSessionsSql", 5), ("kWindowLatestBeforeSql", 3),
                     ("kWindowAloneSql", 5)):
    text = statements.get(name, "")
    found = sorted(set(int(n) for n in re.findall(r"\$(\d+)", text)))
    if not re.match(r"(SELECT|WITH) ", text) or "\\" in text or '"' in text.replace('"index"', "") or \
            found != list(range(1, params + 1)):
        problems.append(f"{name}: not read whole from pg_statements.h: {text!r}")
if problems:
    print("\n".join(problems))
    sys.exit(1)
script = backfill_e2e.pg_dry_run_script()
if re.search(r"\$\d", script):
    problems.append("a $n parameter is left in the pgbench script")
statements_run = [line for line in script.splitlines() if not line.startswith("\\")]
if statements_run != [statements["kWindowAloneSql"].replace("$1", ":sched").replace("$2", ":site")
                      .replace("$3", ":from").replace("$4", ":to").replace("$5", ":limit") + ";"]:
    problems.append(f"the pgbench script is not the window's one statement:\n{script}")
for p in problems:
    print(p)
print("bench statements:", "FAIL" if problems else "ok")
sys.exit(1 if problems else 0)
