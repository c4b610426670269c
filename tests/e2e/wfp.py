"""Drives wfp-host as a subprocess, exactly as outside scripts do (docs/cli.md)."""
import argparse
import atexit
import concurrent.futures
import itertools
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time

UUID_V4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

# Which store the suites run on. Default SQLite: each fresh store is a file in a temporary folder (or
# ":memory:"). WFP_TEST_STORE=postgresql with WFP_TEST_POSTGRES_URL (the throwaway cluster's libpq URL, see
# scripts/pg-cluster.sh and cmake/postgres_tests.cmake): each fresh store is a new, empty schema of that
# cluster, and --db is the URL with `options=-csearch_path=<schema>`, so that wfp-host creates its tables
# there. The schemas are dropped when the process exits (WFP_TEST_KEEP_SCHEMAS=1 keeps them to look at).
STORE = os.environ.get("WFP_TEST_STORE", "sqlite") or "sqlite"
POSTGRES_URL = os.environ.get("WFP_TEST_POSTGRES_URL", "")
PSQL = os.environ.get("WFP_PSQL") or "psql"
_schema_lock = threading.Lock()
_schema_counter = itertools.count(1)
_schema_token = secrets.token_hex(3)  # with the pid: unique even beside schemas a killed run left behind
_schemas = []


def on_postgres():
    if STORE == "sqlite":
        return False
    if STORE != "postgresql":
        raise RuntimeError(f"WFP_TEST_STORE={STORE!r}: expected sqlite or postgresql")
    if not POSTGRES_URL:
        raise RuntimeError("WFP_TEST_STORE=postgresql needs WFP_TEST_POSTGRES_URL (a libpq URL)")
    return True


def psql(sql, url=None, stdin=None):
    """Runs SQL through psql on the cluster (stops at the first error); returns its unaligned output."""
    args = [PSQL, url or POSTGRES_URL, "-qAtX", "-v", "ON_ERROR_STOP=1"]
    if sql is not None:
        args += ["-c", sql]
    p = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError(f"psql exited {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def schema_url(schema):
    """The --db of the store in `schema`: the cluster's URL with search_path set to it (a libpq option)."""
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"


def new_schema():
    """Creates a new, empty schema on the cluster and returns its name."""
    with _schema_lock:
        schema = f"s_{os.getpid()}_{_schema_token}_{next(_schema_counter)}"
        if not _schemas:
            atexit.register(_drop_schemas)
        _schemas.append(schema)
    psql(f'CREATE SCHEMA "{schema}"')
    return schema


def new_store(path):
    """The --db argument of a fresh, empty store. On SQLite (the default) that is `path` itself: a file
    that does not exist yet, or ":memory:". With WFP_TEST_STORE=postgresql, a new schema (see above)."""
    if not on_postgres():
        return path
    return schema_url(new_schema())


def _schema_of(db):
    return db.rsplit("search_path%3D", 1)[-1]


def wait_store_idle(db, timeout=60.0):
    """PostgreSQL: waits until no other connection holds a lock on the tables of `db`'s schema, e.g. the
    server backend of a wfp-host that was SIGKILLed mid-transaction (it rolls back once it sees the client
    gone, or finishes its statement first). Then the store shows its final state. Returns whether it got
    idle in time. SQLite: nothing to wait for (a killed process holds no lock)."""
    if not on_postgres():
        return True
    sql = ("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
           "JOIN pg_namespace n ON n.oid = c.relnamespace "
           f"WHERE n.nspname = '{_schema_of(db)}' AND l.pid <> pg_backend_pid()")
    deadline = time.monotonic() + timeout
    while True:
        if psql(sql).strip() == "0":
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def drop_store(db):
    """Drops a store made by new_store at once, where that frees something (a PostgreSQL schema; a
    SQLite file is the caller's, in its temporary folder)."""
    if not on_postgres():
        return
    schema = _schema_of(db)
    with _schema_lock:
        if schema not in _schemas:
            return
        _schemas.remove(schema)
    psql(f'SET lock_timeout = \'10s\'; DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _drop_schemas():
    with _schema_lock:
        schemas, _schemas[:] = list(_schemas), []
    if not schemas or os.environ.get("WFP_TEST_KEEP_SCHEMAS") == "1":
        return
    # One statement (so one transaction) per schema: dropping hundreds in one would need a lock each.
    script = "SET lock_timeout = '10s';\n" + "".join(f'DROP SCHEMA IF EXISTS "{s}" CASCADE;\n' for s in schemas)
    try:
        psql(None, stdin=script)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:  # a throwaway cluster: only a note
        print(f"wfp.py: could not drop {len(schemas)} test schemas: {e}", file=sys.stderr)


def listening_port(proc, stderr_text):
    """The port of a `wfp-host serve` started on 127.0.0.1:0, from its first line
    `listening on http://127.0.0.1:PORT` (readline ends at EOF too). Anything else: the process is
    killed and RuntimeError names the line and `stderr_text()` (what the host said)."""
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on http://127.0.0.1:"):
        proc.kill()
        proc.wait(timeout=30)
        raise RuntimeError(f"unexpected first line {line!r}: {stderr_text()}")
    return int(line.rsplit(":", 1)[1])


class Host:
    def __init__(self, host_bin, plugin):
        self.host_bin = host_bin
        self.plugin = plugin

    def run(self, args, check=True):
        p = subprocess.run([self.host_bin] + args, capture_output=True, text=True, timeout=300)
        if check and p.returncode != 0:
            raise RuntimeError(f"wfp-host {' '.join(args[:3])}... exited {p.returncode}: {p.stderr.strip()}")
        return p

    def call(self, db, method, path, body=None, fixture=None, now=None, api_key=None, headers=(), settings=()):
        args = ["call", "--db", db, "--plugin", self.plugin]
        tmp = None
        if fixture is not None:
            tmp = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
            json.dump(fixture, tmp)
            tmp.close()
            args += ["--fixture", tmp.name]
        if now:
            args += ["--now", now]
        if api_key:
            args += ["--api-key", api_key]
        for h in headers:
            args += ["--header", h]
        for s in settings:
            args += ["--setting", s]
        args += [method, path]
        if body is not None:
            args.append(body if isinstance(body, str) else json.dumps(body))
        try:
            p = self.run(args)
            return json.loads(p.stdout)
        finally:
            if tmp:
                os.unlink(tmp.name)

    def seed(self, db, fixture):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(fixture, f)
        try:
            self.run(["seed", "--db", db, f.name])
        finally:
            os.unlink(f.name)

    def dump(self, db):
        return json.loads(self.run(["dump", "--db", db]).stdout)


def workflow_sessions(dump, project_id, workflow_name):
    return sorted((s for s in dump.get("sessions", [])
                   if s["projectId"] == project_id and s["workflowName"] == workflow_name),
                  key=lambda s: s["sessionTime"])


def check_store_matches_response(before, after, response, fail):
    """After a real 200 backfill, the store holds exactly what the response listed, and nothing else changed."""
    body = response["body"]
    created = {a["id"]: a for a in body["attempts"]}
    before_attempts = {a["id"] for s in before.get("sessions", []) for a in s["attempts"]}
    after_sessions = {s["id"]: s for s in after.get("sessions", [])}
    new_attempts = {}
    for s in after.get("sessions", []):
        for a in s["attempts"]:
            if a["id"] not in before_attempts:
                new_attempts[str(a["id"])] = (s, a)
    if set(new_attempts) != set(created):
        fail(f"store has new attempts {sorted(new_attempts)} but the response lists {sorted(created)}")
        return
    previous_session = None
    for ra in body["attempts"]:
        s, a = new_attempts[ra["id"]]
        if str(s["id"]) != ra["sessionId"] or s["uuid"] != ra["sessionUuid"]:
            fail(f"attempt {ra['id']}: session {s['id']}/{s['uuid']} in store, {ra['sessionId']}/{ra['sessionUuid']} in response")
        if a["index"] != ra["index"] or a["name"] != ra["retryAttemptName"] or a["status"] != ra["status"]:
            fail(f"attempt {ra['id']}: store {a['index']}/{a['name']}/{a['status']} vs response {ra['index']}/{ra['retryAttemptName']}/{ra['status']}")
        if a["params"] != ra["params"] or a["createdAt"] != ra["createdAt"] or a["poolId"] != ra.get("poolId"):
            fail(f"attempt {ra['id']}: params/createdAt/poolId differ between store and response")
        expected_dep = int(previous_session) if (ra["status"] == "blocked" and previous_session) else None
        if a["dependsOnSessionId"] != expected_dep:
            fail(f"attempt {ra['id']}: dependsOnSessionId {a['dependsOnSessionId']}, expected {expected_dep}")
        previous_session = ra["sessionId"]
    # Sessions that existed keep their identity; nothing else changed.
    for s in before.get("sessions", []):
        t = after_sessions.get(s["id"])
        if not t or t["uuid"] != s["uuid"] or t["sessionTime"] != s["sessionTime"]:
            fail(f"session {s['id']} changed or vanished")
        elif [a for a in t["attempts"] if a["id"] in before_attempts] != s["attempts"]:
            fail(f"session {s['id']}: its earlier attempts changed")
    for key in ("sites", "projects", "workflows"):
        if before.get(key) != after.get(key):
            fail(f"{key} changed")


def report_failures(label, failures):
    """A script's closing lines: each failure as "FAIL: ...", then "<label>: N failure(s)". Returns the
    exit status (1 if any)."""
    for f in failures:
        print("FAIL:", f)
    print(f"{label}: {len(failures)} failure(s)")
    return 1 if failures else 0


def run_conformance_file(label, run_case, describe=lambda case: case["id"]):
    """Runs `run_case(host, case) -> [errors]` over every line of --cases (in parallel), prints each
    failure and a closing 'N passed, N failed' line; returns the exit status."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--only", help="run only the case with this id")
    # Every Nth case (the first, the N+1th, ...): where each case costs much more than it tells, as
    # under ASan (scripts/sanitize.sh) or a second store for store-independent cases. Default: all.
    ap.add_argument("--stride", type=int, default=int(os.environ.get("WFP_CONFORMANCE_STRIDE", "1")))
    args = ap.parse_args()
    if args.stride < 1:
        ap.error(f"--stride (or WFP_CONFORMANCE_STRIDE) must be at least 1, not {args.stride}")
    host = Host(args.host, args.plugin)
    cases = [json.loads(line) for line in open(args.cases) if line.strip()]
    if args.only:
        cases = [c for c in cases if c["id"] == args.only]
    if args.stride > 1:
        print(f"every {args.stride}th case of {len(cases)} (--stride / WFP_CONFORMANCE_STRIDE)")
        cases = cases[::args.stride]
    passed = failed = 0
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for case, errors in zip(cases, pool.map(lambda c: run_case(host, c), cases)):
            if errors:
                failed += 1
                print(f"FAIL {describe(case)}: " + "; ".join(errors[:5]))
            else:
                passed += 1
    print(f"{label}: {passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1
