#!/usr/bin/env python3
"""Two `wfp-host serve` processes on one PostgreSQL database (issue 8: several hosts, one database).

Needs WFP_TEST_STORE=postgresql and WFP_TEST_POSTGRES_URL (CTest sets both: reliability.pg.two_hosts);
each store is a schema of that cluster (tests/e2e/wfp.py's new_store), seeded with `wfp-host seed`, then
served by two hosts started side by side on free loopback ports.

1. Identical backfills through both hosts at once: --concurrent requests (default 8, alternately to
   host 1 and host 2, released together) of the same real backfill of 50 sessions. Exactly one is 200 and
   the others 409 (a 503 "lock not had in time" is retried after its Retry-After, as a client would).
   The store then holds exactly what the 200 listed: 50 sessions, one per session time, one attempt each.
   Rounds 2 and 3 repeat it with another attempt name over the same sessions: each session gets exactly
   one more attempt (index 2, then 3), never a duplicate session.
2. A host killed mid-backfill: host 1 serves a large advance-mode backfill (--sessions, default 20000,
   `minutes_interval>: 1`, backfill.max_sessions raised to match) and is SIGKILLed after a delay (fixed
   ones and fractions of a measured uncut run, as in crash_safety.py). Once the dead host's transaction
   has ended (no lock left on the schema), `wfp-host dump` must show all of that backfill (N sessions, N
   attempts, the pointer moved) or none of it. Then host 2, which kept running, serves the same backfill:
   200, and the store holds the N sessions with one attempt each and the pointer moved, whichever side
   the kill fell on.
3. Connections lost: the database ends every connection of both hosts while they are idle (as a server
   restart or a failover does). The next requests on each host, more than its workers, all answer 200
   (the host reconnects), and a real backfill afterwards succeeds.
Which side a kill lands on is not asserted (no timing assertions). Every socket is on 127.0.0.1 and every
wait is bounded.
"""
import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import wfp  # noqa: E402
from route_examples_test import BASE  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crash_safety  # noqa: E402

ARGS = None
NOW = crash_safety.NOW
NOW_EPOCH = crash_safety.NOW_EPOCH
PATH = "/api/schedules/5/backfill"
AUTH = {"Authorization": "Bearer k1", "Content-Type": "application/json"}

# Part 1: the worked examples' daily schedule; 71 candidates from fromTime to the pointer, the request
# takes the first 50.
DAILY = BASE
COUNT = 50
FROM = "2023-11-01T00:00:00+09:00"
FIRST_INSTANT = "2023-10-31T15:00:00Z"  # the first candidate, where the conflict is reported


def minutely(n):
    """Part 2: crash_safety.py's fixture: schedule 5 every minute, its pointer n minutes behind NOW, so
    an advance-mode backfill writes exactly n sessions; plus another workflow's session that must
    survive."""
    return crash_safety.fixture(n)


ADVANCE = {"dryRun": False, "skipExisting": True, "advanceSchedule": True}


class Server:
    """One `wfp-host serve` on `db`, on a free loopback port; its stderr (the access log) goes to a file."""

    def __init__(self, name, db, logdir, settings=()):
        self.name = name
        self.log_path = os.path.join(logdir, f"{name}.log")
        self.log = open(self.log_path, "w")
        args = [ARGS.host, "serve", "--db", db, "--plugin", ARGS.plugin, "--listen", "127.0.0.1:0",
                "--now", NOW, "--threads", "4"]
        for s in settings:
            args += ["--setting", s]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.port = None

    def ready(self):
        """Waits until it listens (wfp.listening_port)."""
        self.port = wfp.listening_port(self.proc, lambda: f"{self.name}: {self.log_tail()}")
        return self

    def log_tail(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()[-1500:]

    def conn(self, timeout=600):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def post(self, body, conn=None, retries_503=20):
        """POSTs a backfill; a 503 (the schedule's lock not had in time) is retried after Retry-After.
        Returns (status, parsed body, number of 503s retried)."""
        retried = 0
        while True:
            c = conn or self.conn()
            c.request("POST", PATH, json.dumps(body), AUTH)
            r = c.getresponse()
            data = r.read()
            if conn is None:
                c.close()
            if r.status != 503 or retried >= retries_503:
                return r.status, json.loads(data), retried
            retried += 1
            time.sleep(min(float(r.getheader("Retry-After") or 1), 5))
            conn = None  # a fresh connection for the retry

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        rc = self.proc.wait(timeout=60)
        self.close()
        return rc

    def stop(self):
        """SIGTERM, as an operator stops a host: finishes requests in flight and exits 0."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            finally:
                if self.proc.poll() is None:
                    self.proc.kill()
                    self.proc.wait(timeout=30)
        self.close()
        return self.proc.returncode

    def close(self):
        self.proc.stdout.close()
        self.log.close()


def start_two(db, logdir, tag, settings=()):
    """Starts host 1 and host 2 on one database at the same moment; returns both once both listen."""
    hosts = [Server(f"{tag}-host1", db, logdir, settings), Server(f"{tag}-host2", db, logdir, settings)]
    try:
        return [h.ready() for h in hosts]
    except Exception:
        for h in hosts:
            if h.proc.poll() is None:
                h.proc.kill()
        raise


def seeded_store(fixture, tmp, name):
    db = wfp.new_store(os.path.join(tmp, f"{name}.db"))
    wfp.Host(ARGS.host, ARGS.plugin).seed(db, fixture)
    return db


def concurrent_identical_backfills(tmp, fail):
    host = wfp.Host(ARGS.host, ARGS.plugin)
    db = seeded_store(DAILY, tmp, "identical")
    hosts = start_two(db, tmp, "identical")
    n = ARGS.concurrent
    try:
        for round_no, name in enumerate(("fix1", "fix2", "fix3"), start=1):
            body = {"fromTime": FROM, "attemptName": name, "count": COUNT, "dryRun": False}
            before = host.dump(db)
            barrier = threading.Barrier(n)
            results = [None] * n

            def one(i):
                server = hosts[i % 2]
                try:
                    c = server.conn(timeout=120)
                    c.connect()
                    barrier.wait(timeout=60)
                    results[i] = (server.name,) + server.post(body, conn=c)
                    c.close()
                except Exception as e:  # reported below with the others
                    results[i] = (server.name, None, repr(e), 0)

            threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=300)
            after = host.dump(db)
            label = f"round {round_no} ({name})"
            statuses = sorted(r[1] for r in results if r and r[1] is not None)
            retried = sum(r[3] for r in results if r)
            if statuses != [200] + [409] * (n - 1):
                fail(f"{label}: statuses {[(r[0], r[1], str(r[2])[:200]) for r in results if r]}, "
                     f"expected one 200 and {n - 1} 409")
                continue
            ok = next(r for r in results if r[1] == 200)
            message = (f"Attempt of project id=1 workflow=load instant={FIRST_INSTANT} "
                       f"attempt name={name} already exists")
            for r in results:
                if r[1] == 409 and r[2].get("message") != message:
                    fail(f"{label}: 409 from {r[0]} says {r[2].get('message')!r}, expected {message!r}")
            if len(ok[2]["attempts"]) != COUNT:
                fail(f"{label}: the 200 lists {len(ok[2]['attempts'])} attempts, expected {COUNT}")
            wfp.check_store_matches_response(before, after, {"body": ok[2]},
                                             lambda m: fail(f"{label}: store vs the 200: {m}"))
            sessions = wfp.workflow_sessions(after, 1, "load")
            times = [s["sessionTime"] for s in sessions]
            if len(sessions) != COUNT or len(set(times)) != COUNT:
                fail(f"{label}: {len(sessions)} sessions over {len(set(times))} session times, "
                     f"expected {COUNT} and {COUNT}")
            wrong = [(s["sessionTime"], [(a["index"], a["name"]) for a in s["attempts"]]) for s in sessions
                     if sorted((a["index"], a["name"]) for a in s["attempts"])
                     != [(i, f"fix{i}") for i in range(1, round_no + 1)]]
            if wrong:
                fail(f"{label}: sessions whose attempts are not fix1..fix{round_no} with index 1..{round_no}: "
                     f"{wrong[:3]}")
            print(f"{label}: 200 from {ok[0]}, {n - 1} x 409, {len(sessions)} sessions with {round_no} "
                  f"attempt(s) each" + (f" ({retried} x 503 retried)" if retried else ""))
    finally:
        for h in hosts:
            rc = h.stop()
            if rc != 0:
                fail(f"{h.name} exited {rc} on SIGTERM: {h.log_tail()}")
    wfp.drop_store(db)


def wf_state(host, db):
    """(sessions of wf, attempts of wf, max attempts per session, schedule 5's pointer, other sessions)."""
    dump = host.dump(db)
    wf = [s for s in dump["sessions"] if s["workflowName"] == "wf"]
    pointer = next(s["nextScheduleTime"] for s in dump["schedules"] if s["id"] == 5)
    other = [s for s in dump["sessions"] if s["workflowName"] == "other"]
    return (len(wf), sum(len(s["attempts"]) for s in wf), max((len(s["attempts"]) for s in wf), default=0),
            len({s["sessionTime"] for s in wf}), pointer, len(other))


def killed_mid_backfill(tmp, fail):
    host = wfp.Host(ARGS.host, ARGS.plugin)
    n = ARGS.sessions
    settings = [f"backfill.max_sessions={n}"]
    fixture = minutely(n)

    # An uncut run through host 1: the "all" state, and how long a backfill takes here.
    db = seeded_store(fixture, tmp, "uncut")
    _, _, _, _, pointer0, _ = wf_state(host, db)
    hosts = start_two(db, tmp, "uncut", settings)
    t = time.monotonic()
    status, body, _ = hosts[0].post(ADVANCE)
    duration = time.monotonic() - t
    for h in hosts:
        h.stop()
    s_all = wf_state(host, db)
    pointer_all = s_all[4]
    wfp.drop_store(db)
    if status != 200 or len(body.get("attempts", [])) != n or s_all[:4] != (n, n, 1, n) or s_all[5] != 1:
        fail(f"uncut run: status {status}, state {s_all}, expected 200 and ({n}, {n}, 1, {n}, moved, 1)")
        return
    print(f"uncut run: {n} sessions in {duration:.2f} s through host 1")

    # Past the uncut run's duration too: that includes rendering and reading the response, after the
    # commit, so the late kills can fall after it ("all"; host 2's backfill then skips every session).
    delays = [0.05, 0.15, 0.4] + [duration * f for f in (0.25, 0.5, 0.75, 0.9, 1.0, 1.25)]
    outcomes = {"all": 0, "none": 0}
    for round_no, delay in enumerate(delays, start=1):
        label = f"kill {round_no} at {delay * 1000:.0f} ms"
        db = seeded_store(fixture, tmp, f"kill{round_no}")
        hosts = start_two(db, tmp, f"kill{round_no}", settings)
        try:
            reply = []
            sender = threading.Thread(target=lambda: reply.append(_post_quietly(hosts[0], ADVANCE)))
            sender.start()
            time.sleep(delay)
            rc = hosts[0].kill()
            sender.join(timeout=60)
            if rc != -signal.SIGKILL:
                print(f"{label}: host 1 had exited before the kill (rc {rc})")
            if not wfp.wait_store_idle(db, timeout=120):
                fail(f"{label}: the killed host's transaction still holds locks after 120 s")
                continue
            state = wf_state(host, db)
            if state == (0, 0, 0, 0, pointer0, 1):
                kind = "none"
            elif state == (n, n, 1, n, pointer_all, 1):
                kind = "all"
            else:
                fail(f"{label}: half-written: (sessions, attempts, max per session, session times, pointer,"
                     f" other) = {state}; none is (0, 0, 0, 0, {pointer0}, 1), all ({n}, {n}, 1, {n}, "
                     f"{pointer_all}, 1)")
                continue
            outcomes[kind] += 1
            # Host 2 kept running: the same backfill through it completes the schedule either way.
            status, body, retried = hosts[1].post(ADVANCE)
            after = wf_state(host, db)
            expected_new = n if kind == "none" else 0
            if status != 200 or len(body.get("attempts", [])) != expected_new:
                fail(f"{label} -> {kind}: host 2's backfill gave {status} with "
                     f"{len(body.get('attempts', [])) if isinstance(body, dict) else body} attempts "
                     f"(expected 200 with {expected_new}): {str(body)[:300]}")
            elif after != (n, n, 1, n, pointer_all, 1):
                fail(f"{label} -> {kind}: after host 2's backfill the store is {after}, expected "
                     f"({n}, {n}, 1, {n}, {pointer_all}, 1)")
            else:
                print(f"{label} -> {kind}; host 2 then wrote {expected_new} and the store holds all {n}"
                      + (f" ({retried} x 503 retried)" if retried else ""))
            if hosts[1].proc.poll() is not None:
                fail(f"{label}: host 2 exited: {hosts[1].log_tail()}")
        finally:
            if hosts[0].proc.poll() is None:
                hosts[0].kill()
            rc = hosts[1].stop()
            if rc != 0:
                fail(f"{label}: host 2 exited {rc} on SIGTERM: {hosts[1].log_tail()}")
        wfp.drop_store(db)
    print(f"kills: {len(delays)}, {outcomes['all']} all, {outcomes['none']} none")


def connections_lost(tmp, fail):
    """Part 3: the database ends every connection of both hosts (as a server restart or a failover
    does) while they sit idle. The next requests find their connections dead: the host reconnects
    and answers them (200), instead of a 500, or a 401 from a failed key lookup."""
    db = seeded_store(DAILY, tmp, "lost")
    name = f"wfp-two-hosts-{os.getpid()}"  # only this part's connections are ended
    db_named = f"{db}&application_name={name}"
    hosts = start_two(db_named, tmp, "lost")
    dry = {"fromTime": FROM, "attemptName": "x", "count": 3, "dryRun": True}
    try:
        for h in hosts:  # every worker and the key lookup have connected
            for _ in range(8):
                status, body, _ = h.post(dry)
                if status != 200:
                    fail(f"connections_lost: {h.name} before: {status} {body}")
                    return
        ended = wfp.psql("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         f"WHERE application_name = '{name}') t").strip()
        print(f"ended {ended} connections of the two hosts")
        if int(ended) < 4:
            fail(f"connections_lost: only {ended} connections to end")
        time.sleep(0.5)  # the backends are gone before the next request
        for h in hosts:
            for i in range(10):  # more requests than workers: every pooled connection is met
                status, body, _ = h.post(dry, retries_503=0)
                if status != 200:
                    fail(f"connections_lost: {h.name} request {i} after the connections ended: {status} {body}")
                    return
        status, body, _ = hosts[0].post({"fromTime": FROM, "attemptName": "after", "count": 3, "dryRun": False},
                                        retries_503=0)
        if status != 200 or len(body.get("attempts", [])) != 3:
            fail(f"connections_lost: a real backfill afterwards: {status} {body}")
    finally:
        for h in hosts:
            if h.stop() != 0:
                fail(f"connections_lost: {h.name} did not exit 0: {h.log_tail()}")


def _post_quietly(server, body):
    """The request to the host that gets killed: its connection may break, which is expected."""
    try:
        return server.post(body, retries_503=0)[0]
    except (OSError, http.client.HTTPException) as e:
        return repr(e)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--concurrent", type=int, default=8, help="identical requests at once (part 1)")
    ap.add_argument("--sessions", type=int, default=int(os.environ.get("WFP_TWO_HOSTS_SESSIONS", "20000")),
                    help="sessions of the backfill that host 1 is killed in (part 2)")
    ARGS = ap.parse_args()
    if os.environ.get("WFP_TEST_STORE") != "postgresql" or not os.environ.get("WFP_TEST_POSTGRES_URL"):
        print("two_hosts.py runs on PostgreSQL only: set WFP_TEST_STORE=postgresql and WFP_TEST_POSTGRES_URL "
              "(ctest -R reliability.pg.two_hosts does)", file=sys.stderr)
        return 2
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for part in (concurrent_identical_backfills, killed_mid_backfill, connections_lost):
            print(f"== {part.__name__}")
            before = len(failures)
            try:
                part(tmp, failures.append)
            except Exception as e:  # a broken part must not hide the other
                failures.append(f"{part.__name__}: {type(e).__name__}: {e}")
            print(f"{part.__name__}: {'ok' if len(failures) == before else 'FAILED'}")
    return wfp.report_failures("two hosts", failures)


if __name__ == "__main__":
    sys.exit(main())
