#!/usr/bin/env python3
"""One pairing of the ABI matrix: a host built against one ABI header version serves real backfills
through a plugin built against another, and the answers and the store must be exactly what the
route cases say (tests/e2e/route_conformance.py's checks, unchanged).

    pairing.py --wfp-host WFP_HOST --plugin SO --cases ROUTE_CASES [--c-host SQLITE_HOST]

Without --c-host the host is wfp-host itself (`wfp-host call`). With --c-host it is
tests/abi/matrix/sqlite_host.c as built against some header: wfp-host only seeds and dumps the
store file, the C host serves the request over it. Then the pairing also checks how the plugin
used the host's tables: a dry run takes a read snapshot (begin_read) on a host of minor >= 1 and
the write transaction on a 1.0 host; and one large dry run (more than one 256 KiB piece) is
streamed with respond_append on a host of minor >= 1, answered in one respond on a 1.0 host, and
is the same answer as wfp-host's."""
import argparse
import concurrent.futures
import copy
import datetime
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "e2e"))
import route_conformance  # noqa: E402
import wfp  # noqa: E402


def epoch(iso):
    return int(datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


class CHost(wfp.Host):
    """wfp.Host's seed and dump (wfp-host on a store file), with `call` served by the C host. The C
    host's own report of each call (host minor, appends, transactions, faults) is kept in `reports`
    by request body."""

    def __init__(self, c_host, wfp_host, plugin):
        super().__init__(wfp_host, plugin)
        self.c_host = c_host
        self.reports = []
        self.lock = threading.Lock()

    def call(self, db, method, path, body=None, fixture=None, now=None, api_key=None, headers=(), settings=()):
        assert fixture is None and not settings, "the C host takes neither a fixture nor settings"
        with sqlite3.connect(db) as c:  # the host authenticates: the key's site, as wfp-host finds it
            row = c.execute("SELECT site_id FROM api_keys WHERE hash = ?",
                            (hashlib.sha256(api_key.encode()).digest(),)).fetchone()
        if row is None:
            return {"status": 401, "body": {"message": "Invalid API key", "status": 401}}
        text = body if isinstance(body, str) else json.dumps(body)
        p = subprocess.run([self.c_host, "--db", db, "--plugin", self.plugin, "--now", str(epoch(now)),
                            "--site", str(row[0]), method, path, text],
                           capture_output=True, text=True, timeout=300)
        try:
            report = json.loads(p.stdout)
        except ValueError:
            raise RuntimeError(f"the C host exited {p.returncode} without a report: {p.stderr.strip()[-2000:]}")
        with self.lock:
            self.reports.append((json.loads(text) if text else {}, report))
        return {"status": report["status"], "body": report["body"]}


def check_tables_used(host, plugin_minor):
    """How the plugin used the C host's tables, per call; returns the errors. The 1.1 functions are
    used only when both sides know them: the host's minor and the plugin's header are >= 1."""
    errors = []
    for body, r in host.reports:
        if r["faults"]:
            errors.append(f"the host saw faults: {r['faults']}")
        dry = body.get("dryRun") is True
        if dry and r["status"] == 200:
            both = min(r["hostMinor"], plugin_minor)
            want = (1, 0) if both >= 1 else (0, 1)  # begin_read, or the write-lock begin
            if (r["readTxns"], r["writeTxns"]) != want:
                errors.append(f"dry run on a 1.{r['hostMinor']} host: {r['readTxns']} read and "
                              f"{r['writeTxns']} write transactions, expected {want[0]} and {want[1]}")
        if r["hostMinor"] == 0 and r["appends"]:
            errors.append(f"respond_append called {r['appends']} times on a 1.0 host, which has none")
    return errors[:10]


LARGE_FIXTURE = {
    "sites": [{"id": 1, "apiKeys": ["k1"]}],
    "projects": [{"id": 1, "siteId": 1, "name": "etl"}],
    "workflows": [{"id": 11, "projectId": 1, "name": "load", "timezone": "Asia/Tokyo",
                   "schedule": {"hourly>": "07:00"}}],
    "schedules": [{"id": 5, "workflowId": 11, "nextScheduleTime": "2024-01-11T00:00:00+09:00",
                   "nextRunTime": "2024-01-11T00:07:00+09:00", "lastSessionTime": None, "disabledAt": None}],
}
LARGE_REQUEST = {"fromTime": "2023-09-01T00:00:00+09:00", "attemptName": "big", "dryRun": True}
CHUNK = 256 * 1024


def without_uuids(body):
    body = copy.deepcopy(body)
    for a in body.get("attempts", []):
        a["sessionUuid"] = "-"
    return body


def check_large_answer(host, wfp_host, plugin_minor):
    """One large dry run through the C host and through wfp-host: the same answer (new sessions'
    random UUIDs aside); streamed in pieces only where the host has respond_append."""
    with tempfile.TemporaryDirectory() as d:
        db = os.path.join(d, "store.db")
        host.seed(db, LARGE_FIXTURE)
        mine = host.call(db, "POST", "/api/schedules/5/backfill", LARGE_REQUEST, now="2024-01-12T03:00:00Z",
                         api_key="k1")
        report = host.reports[-1][1]
        reference = wfp.Host(wfp_host, host.plugin).call(
            db, "POST", "/api/schedules/5/backfill", LARGE_REQUEST, now="2024-01-12T03:00:00Z", api_key="k1",
            headers=["Content-Type: application/json"])
    errors = []
    size = len(json.dumps(mine["body"]))
    if mine["status"] != 200 or size <= 2 * CHUNK:
        return [f"the large dry run answered {mine['status']} with {size} bytes (expected 200, > {2 * CHUNK})"]
    if without_uuids(mine["body"]) != without_uuids(reference["body"]):
        errors.append("the large answer differs from wfp-host's")
    if min(report["hostMinor"], plugin_minor) >= 1 and report["appends"] < 2:
        errors.append(f"a {size}-byte answer on a 1.{report['hostMinor']} host came in "
                      f"{report['appends'] + 1} pieces (respond_append unused)")
    if min(report["hostMinor"], plugin_minor) == 0 and report["appends"] != 0:
        errors.append("respond_append used by a 1.0 plugin or on a 1.0 host")
    print(f"large dry run: {len(mine['body']['attempts'])} attempts, {size} bytes, "
          f"{report['appends'] + 1} piece(s) on a 1.{report['hostMinor']} host; same as wfp-host's")
    return errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wfp-host", required=True)
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--c-host")
    ap.add_argument("--plugin-minor", type=int, default=1,
                    help="the minor of the header the plugin was built against")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    host = CHost(args.c_host, args.wfp_host, args.plugin) if args.c_host else wfp.Host(args.wfp_host, args.plugin)
    cases = [json.loads(line) for line in open(args.cases) if line.strip()]
    # WFP_MATRIX_CASE_STRIDE=N runs every Nth case: scripts/sanitize.sh uses it, where each case costs
    # several times more; the normal run takes every case.
    stride = int(os.environ.get("WFP_MATRIX_CASE_STRIDE", "1"))
    if stride > 1:
        cases = cases[::stride]
        print(f"every {stride}th route case (WFP_MATRIX_CASE_STRIDE)")
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for case, errors in zip(cases, pool.map(lambda c: route_conformance.run_case(host, c), cases)):
            if errors:
                failed += 1
                print(f"FAIL {case['id']}: " + "; ".join(errors[:5]))
    dry = sum(1 for c in cases if c["request"]["body"].get("dryRun"))
    print(f"route cases: {len(cases) - failed} passed, {failed} failed ({dry} dry, {len(cases) - dry} real)")
    extra = []
    if args.c_host:
        extra = (check_tables_used(host, args.plugin_minor) +
                 check_large_answer(host, args.wfp_host, args.plugin_minor))
        minors = sorted({r["hostMinor"] for _, r in host.reports})
        print(f"C host of ABI minor {minors}: {len(host.reports)} calls")
    for e in extra:
        print(f"FAIL {e}")
    return 0 if failed == 0 and cases and not extra else 1


if __name__ == "__main__":
    sys.exit(main())
