#!/usr/bin/env python3
"""Crash safety: SIGKILL `wfp-host call` at several moments of a large real backfill on a file store.

Each round copies a freshly seeded store, starts an advance-mode backfill of N sessions
(`minutes_interval>: 1`, the pointer N minutes behind `--now`, `backfill.max_sessions=N`), kills the
process with SIGKILL after a delay, then checks with Python's sqlite3 (a separate SQLite build from
the host's) that `PRAGMA integrity_check` is `ok` and that the store holds all of the backfill or
none of it: N sessions, N attempts and the pointer moved, or 0, 0 and the pointer where it was.
After some kills the same backfill is run again on the crashed store and must complete.

Delays: fixed ones (50, 150, 400 ms) and fractions of a measured uncut run, repeated; which side a
kill lands on is not asserted (no timing assertions), only that the process was killed and that the
store is whole. A summary line says how many rounds ended with all and with none.

With WFP_TEST_STORE=postgresql (and WFP_TEST_POSTGRES_URL; tests/e2e/wfp.py) each round's store is a new
schema of the tests' PostgreSQL cluster, seeded afresh instead of copied, and the counts come from
`wfp-host dump` (the server checks its own consistency: the integrity check is SQLite's only).
"""
import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import wfp  # noqa: E402

NOW = "2024-01-12T03:00:00Z"
NOW_EPOCH = 1705028400


def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def fixture(n):
    start = NOW_EPOCH - n * 60 + 60  # candidates start..now inclusive: exactly n minutes
    return {
        "sites": [{"id": 1, "apiKeys": ["k1"]}],
        "projects": [{"id": 1, "siteId": 1, "name": "p"}],
        "workflows": [{"id": 11, "projectId": 1, "name": "wf", "timezone": "UTC",
                       "schedule": {"minutes_interval>": 1}},
                      {"id": 12, "projectId": 1, "name": "other", "timezone": "UTC",
                       "schedule": {"daily>": "00:00:00"}}],
        "schedules": [{"id": 5, "workflowId": 11, "nextScheduleTime": iso(start),
                       "nextRunTime": iso(start), "lastSessionTime": None, "disabledAt": None},
                      {"id": 6, "workflowId": 12, "nextScheduleTime": "2024-01-13T00:00:00Z",
                       "nextRunTime": "2024-01-13T00:00:00Z", "lastSessionTime": None,
                       "disabledAt": None}],
        # One pre-existing session of the other workflow: must survive every crash untouched.
        "sessions": [{"id": 1, "projectId": 1, "workflowName": "other",
                      "sessionTime": "2024-01-01T00:00:00Z",
                      "attempts": [{"id": 1, "name": None, "index": 1, "status": "success",
                                    "createdAt": "2024-01-01T00:00:00Z"}]}],
    }


BODY = json.dumps({"dryRun": False, "skipExisting": True, "advanceSchedule": True})


def dump_pg(host, db):
    """`wfp-host dump` of a PostgreSQL store. Once in about five runs on a loaded 2-core machine a dump
    after a crash round has hung until its 300 s timeout, with a backend of the cluster busy; the cause
    is not known yet. So the first try waits 120 s, then prints what the cluster is doing (activity,
    waiting locks) and tries once more: a dump that hangs twice still fails the test, and the printed
    state is there to find the cause."""
    cmd = [host.host_bin, "dump", "--db", db]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        print("wfp-host dump hung for 120 s; the cluster meanwhile:")
        print(wfp.psql("SELECT pid, state, wait_event_type, wait_event, now() - query_start AS running, "
                       "left(query, 200) FROM pg_stat_activity WHERE state <> 'idle' AND pid <> pg_backend_pid()"))
        print(wfp.psql("SELECT l.pid, l.locktype, l.mode, l.relation::regclass, a.state, left(a.query, 120) "
                       "FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE NOT l.granted"))
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError(f"wfp-host dump exited {p.returncode}: {p.stderr.strip()}")
    return json.loads(p.stdout)


def state(db, host=None):
    """(integrity, fk problems, sessions of wf, attempts of wf, next_schedule_time of schedule 5, sessions
    of the other workflow)."""
    if host is not None:  # PostgreSQL: read through `wfp-host dump`
        dump = dump_pg(host, db)
        ids = {s["id"] for s in dump["sessions"]}
        wf = [s for s in dump["sessions"] if s["workflowName"] == "wf"]
        dangling = [a["id"] for s in dump["sessions"] for a in s["attempts"]
                    if a["dependsOnSessionId"] is not None and a["dependsOnSessionId"] not in ids]
        pointer = next(s["nextScheduleTime"] for s in dump["schedules"] if s["id"] == 5)
        other = sum(1 for s in dump["sessions"] if s["workflowName"] == "other")
        return ["ok"], dangling, len(wf), sum(len(s["attempts"]) for s in wf), pointer, other
    con = sqlite3.connect(db, timeout=30)
    try:
        integrity = [r[0] for r in con.execute("PRAGMA integrity_check")]
        fk = list(con.execute("PRAGMA foreign_key_check"))
        sessions = con.execute("SELECT count(*) FROM sessions WHERE workflow_name = 'wf'").fetchone()[0]
        attempts = con.execute(
            "SELECT count(*) FROM attempts a JOIN sessions s ON a.session_id = s.id "
            "WHERE s.workflow_name = 'wf'").fetchone()[0]
        pointer = con.execute("SELECT next_schedule_time FROM schedules WHERE id = 5").fetchone()[0]
        other = con.execute("SELECT count(*) FROM sessions WHERE workflow_name = 'other'").fetchone()[0]
        return integrity, fk, sessions, attempts, pointer, other
    finally:
        con.close()


def call_args(args, db, n):
    return [args.host, "call", "--db", db, "--plugin", args.plugin, "--now", NOW, "--api-key", "k1",
            "--setting", f"backfill.max_sessions={n}", "POST", "/api/schedules/5/backfill", BODY]


def copy_store(src, dst):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(src + suffix):
            shutil.copyfile(src + suffix, dst + suffix)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--sessions", type=int, default=int(os.environ.get("WFP_CRASH_SESSIONS", "60000")))
    ap.add_argument("--repeat", type=int, default=int(os.environ.get("WFP_CRASH_REPEAT", "2")))
    args = ap.parse_args()
    n = args.sessions
    failures = []
    pg = wfp.on_postgres()
    host = wfp.Host(args.host, args.plugin) if pg else None

    with tempfile.TemporaryDirectory() as tmp:
        seeded = os.path.join(tmp, "seeded.db")
        fx = os.path.join(tmp, "fixture.json")
        with open(fx, "w") as f:
            json.dump(fixture(n), f)

        def fresh(path):
            """A store holding the seeded fixture: a copy of `seeded` (SQLite) or a newly seeded schema."""
            if not pg:
                copy_store(seeded, path)
                return path
            db = wfp.new_store(path)
            subprocess.run([args.host, "seed", "--db", db, fx], check=True, timeout=120)
            return db

        if pg:
            seeded = fresh(seeded)
        else:
            subprocess.run([args.host, "seed", "--db", seeded, fx], check=True, timeout=120)
        integrity, fk, s0, a0, pointer0, other0 = state(seeded, host)
        assert integrity == ["ok"] and s0 == 0 and a0 == 0 and other0 == 1, (integrity, s0, a0, other0)

        # One uncut run: the "all" state, and how long a run takes here.
        full = fresh(os.path.join(tmp, "full.db"))
        t = time.monotonic()
        p = subprocess.run(call_args(args, full, n), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=600)
        duration = time.monotonic() - t
        assert p.returncode == 0, p.stderr.decode()
        head = p.stdout[:200].decode(errors="replace")
        assert head.startswith('{"status":200') or '"status": 200' in head or '"status":200' in head, head
        integrity, fk, s_all, a_all, pointer_all, other = state(full, host)
        assert integrity == ["ok"] and not fk, (integrity, fk)
        assert (s_all, a_all) == (n, n), (s_all, a_all)
        assert pointer_all != pointer0 and other == 1
        print(f"uncut run: {n} sessions in {duration:.2f} s ({'PostgreSQL' if pg else 'SQLite'})")
        if pg:
            wfp.drop_store(full)

        delays = [0.05, 0.15, 0.4] + [duration * f for f in (0.25, 0.5, 0.75, 0.9, 0.97)]
        outcomes = {"all": 0, "none": 0}
        round_no = 0
        for rep in range(args.repeat):
            for delay in delays:
                round_no += 1
                db = fresh(os.path.join(tmp, f"r{round_no}.db"))
                proc = subprocess.Popen(call_args(args, db, n), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
                time.sleep(delay)
                proc.send_signal(signal.SIGKILL)
                rc = proc.wait(timeout=60)
                if not wfp.wait_store_idle(db):  # PostgreSQL: the killed client's transaction ends
                    failures.append(f"round {round_no}: the killed host's locks were still held after 60 s")
                    continue
                integrity, fk, s, a, pointer, other = state(db, host)
                if rc != -signal.SIGKILL:
                    # Finished before the kill: still must be whole (and then it is "all").
                    print(f"round {round_no}: finished before the kill at {delay * 1000:.0f} ms (rc {rc})")
                if integrity != ["ok"] or fk:
                    failures.append(f"round {round_no} ({delay * 1000:.0f} ms): integrity {integrity} fk {fk[:3]}")
                    continue
                if other != 1:
                    failures.append(f"round {round_no}: the other workflow's session is gone")
                if (s, a, pointer) == (0, 0, pointer0):
                    outcomes["none"] += 1
                    kind = "none"
                elif (s, a, pointer) == (n, n, pointer_all):
                    outcomes["all"] += 1
                    kind = "all"
                else:
                    failures.append(f"round {round_no} ({delay * 1000:.0f} ms): half-written: "
                                    f"{s} sessions, {a} attempts, pointer {pointer} "
                                    f"(none: {pointer0}, all: {pointer_all})")
                    continue
                print(f"round {round_no}: killed at {delay * 1000:.0f} ms -> {kind}")
                # The crashed store still serves: re-run the backfill once per delay set.
                if rep == 0 and kind == "none" and delay >= duration * 0.5:
                    p = subprocess.run(call_args(args, db, n), stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, timeout=600)
                    integrity, fk, s, a, _, _ = state(db, host)
                    if p.returncode != 0 or integrity != ["ok"] or (s, a) != (n, n):
                        failures.append(f"round {round_no}: re-run after the crash gave rc {p.returncode} "
                                        f"{integrity} {s}/{a}: {p.stderr.decode()[-300:]}")
                    else:
                        print(f"round {round_no}: re-run after the crash wrote all {n}")
                wfp.drop_store(db)
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(db + suffix):
                        os.unlink(db + suffix)
        print(f"summary: {round_no} kills, {outcomes['all']} all, {outcomes['none']} none, "
              f"{len(failures)} failures")
    return wfp.report_failures("crash_safety", failures)


if __name__ == "__main__":
    sys.exit(main())
