#!/usr/bin/env python3
"""`wfp-host serve --sqlite-exclusive`: the server holds its SQLite file alone while it runs.

1. Refused on the command line (exit 2, the option named) with `:memory:` or a PostgreSQL URL.
2. A seeded file served with --sqlite-exclusive: a dry run answers 200; --concurrent identical real
   backfills through it at once give exactly one 200 and 409s for the rest (its connections still lock
   among themselves).
3. While it runs, no other process opens the file: `dump`, `seed` and a second `serve` (shared or
   exclusive) each exit 1 and say the store is locked by another process.
4. Stopped (SIGTERM, exit 0), the file is anyone's again: `dump` shows exactly the sessions the one 200
   listed, one attempt each.
5. The other way round: while a plain `serve` has the file open, `serve --sqlite-exclusive` exits 1 and
   says another process has it open.

A blocked process waits for its busy timeout (5 s) before it gives up; every wait is bounded."""
import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import wfp  # noqa: E402
from route_examples_test import BASE, NOW  # noqa: E402

ARGS = None
PATH = "/api/schedules/5/backfill"
HEADERS = {"Authorization": "Bearer k1", "Content-Type": "application/json"}
DRY = {"fromTime": "2023-11-01T00:00:00+09:00", "count": 3, "dryRun": True, "attemptName": "x"}
REAL = {"fromTime": "2023-11-01T00:00:00+09:00", "count": 5, "dryRun": False, "attemptName": "x"}


def start(db, *extra):
    args = [ARGS.host, "serve", "--db", db, "--plugin", ARGS.plugin, "--listen", "127.0.0.1:0", "--now", NOW]
    proc = subprocess.Popen(args + list(extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    port = wfp.listening_port(proc, lambda: "(see its stderr)")
    return proc, port


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(timeout=60)
    proc.stdout.close()
    proc.stderr.close()
    return rc


def post(port, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        c.request("POST", PATH, json.dumps(body), HEADERS)
        r = c.getresponse()
        return r.status, json.loads(r.read())
    finally:
        c.close()


def refused_usage(fail):
    for db in (":memory:", "postgresql://u:secret@127.0.0.1:1/db"):
        p = subprocess.run([ARGS.host, "serve", "--db", db, "--plugin", ARGS.plugin, "--sqlite-exclusive"],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 2 or "--sqlite-exclusive needs an SQLite file" not in p.stderr:
            fail(f"serve --sqlite-exclusive --db {db}: exit {p.returncode}, {p.stderr.strip()[:200]!r}")
        if "secret" in p.stderr:
            fail("the refusal printed the URL's password")


def concurrent_real(port, n):
    results = [None] * n
    barrier = threading.Barrier(n)

    def one(i):
        barrier.wait(timeout=60)
        results[i] = post(port, REAL)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    return results


def locked_out(cmd, args, expect, fail):
    try:
        p = subprocess.run([ARGS.host, cmd] + args, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:  # killed by run(): it got the store and kept going
        return fail(f"{cmd} beside an exclusive server was still running after 30 s")
    if p.returncode != 1 or expect not in p.stderr:
        fail(f"{cmd} beside an exclusive server: exit {p.returncode}, {p.stderr.strip()[:300]!r}")


def while_held(db, fixture_path, fail):
    proc, port = start(db, "--sqlite-exclusive")
    try:
        status, body = post(port, DRY)
        if status != 200 or len(body.get("attempts", [])) != 3:
            fail(f"dry run through the exclusive server: {status} {body}")
        results = concurrent_real(port, ARGS.concurrent)
        statuses = sorted(r[0] for r in results if r)
        if len(statuses) != ARGS.concurrent or statuses.count(200) != 1 or set(statuses) != {200, 409}:
            fail(f"{ARGS.concurrent} identical real backfills: statuses {statuses}, want one 200 and 409s")
        listed = [r[1] for r in results if r and r[0] == 200]
        others = ["--plugin", ARGS.plugin, "--listen", "127.0.0.1:0"]
        locked = "is locked by another process"
        locked_out("dump", ["--db", db], locked, fail)
        locked_out("seed", ["--db", db, fixture_path], locked, fail)
        locked_out("serve", ["--db", db] + others, locked, fail)
        locked_out("serve", ["--db", db, "--sqlite-exclusive"] + others, "another process has it open", fail)
    finally:
        rc = stop(proc)
    if rc != 0:
        fail(f"the exclusive server exited {rc} on SIGTERM")
    return listed[0] if listed else None


def check_store(db, answer, fail):
    """The store holds exactly what the one 200 listed: its sessions (by UUID), one attempt "x" each."""
    dump = wfp.Host(ARGS.host, ARGS.plugin).dump(db)
    listed = sorted(a["sessionUuid"] for a in answer["attempts"])
    sessions = wfp.workflow_sessions(dump, 1, "load")
    stored = sorted(s["uuid"] for s in sessions)
    names = [[a["name"] for a in s["attempts"]] for s in sessions]
    if len(listed) != 5 or stored != listed or names != [["x"]] * 5:
        fail(f"after the exclusive server stopped: sessions {stored} with attempts {names}, the 200 listed {listed}")


def shared_first(db, fail):
    proc, _ = start(db)
    try:
        p = subprocess.run([ARGS.host, "serve", "--db", db, "--plugin", ARGS.plugin, "--listen", "127.0.0.1:0",
                            "--sqlite-exclusive"], capture_output=True, text=True, timeout=60)
        if p.returncode != 1 or "another process has it open" not in p.stderr:
            fail(f"--sqlite-exclusive beside a running server: exit {p.returncode}, {p.stderr.strip()[:300]!r}")
    finally:
        stop(proc)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--concurrent", type=int, default=8)
    ARGS = ap.parse_args()
    failures = []
    fail = failures.append
    refused_usage(fail)
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "held.db")
        fixture_path = os.path.join(tmp, "base.json")
        with open(fixture_path, "w") as f:
            json.dump(BASE, f)
        wfp.Host(ARGS.host, ARGS.plugin).seed(db, BASE)
        answer = while_held(db, fixture_path, fail)
        if answer:
            check_store(db, answer, fail)
        shared_first(db, fail)
    return wfp.report_failures("sqlite_exclusive", failures)


if __name__ == "__main__":
    sys.exit(main())
