#!/usr/bin/env python3
"""Gathers wfp-host responses covering every documented status of the backfill route (200 dry and
real, with and without poolId, with skipped, advance mode, count 0; 400, 401, 404, 405, 409, 412,
413, 415) through tests/e2e/wfp.py's Host, and validates each against openapi/openapi.json with
validate_response.mjs (ajv). Then checks that the validator refuses broken copies of them, so that
a validator accepting anything cannot pass. GET /api/openapi.json is checked too once the host
serves it (it must then answer the installed document itself). And the plugin answers 400 exactly
for the request bodies the request schema refuses (request_cases.json).

Usage: check_responses.py --host wfp-host --plugin SO --modules DIR [--openapi FILE] [--out FILE]"""
import argparse
import copy
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import wfp  # noqa: E402

# The store and clock of the spec's worked examples, shared with the end-to-end suite.
from route_examples_test import BASE, EX1, JSON, NOW, PATH  # noqa: E402

FROM = EX1["fromTime"]


def with_sessions(pool=True):
    """BASE with sessions on 01-09 (attempt 'fix', success) and 01-10 (no attempt)."""
    f = copy.deepcopy(BASE)
    if not pool:
        f["workflows"][0]["poolId"] = None
    f["sessions"] = [
        {"id": 100, "projectId": 1, "workflowName": "load", "sessionTime": "2024-01-09T00:00:00+09:00",
         "uuid": "00000000-0000-4000-8000-000000000100",
         "attempts": [{"id": 1000, "index": 1, "name": "fix", "status": "success", "params": {},
                       "createdAt": "2024-01-10T00:00:00Z", "finishedAt": "2024-01-10T00:10:00Z",
                       "poolId": None, "dependsOnSessionId": None}]},
        {"id": 101, "projectId": 1, "workflowName": "load", "sessionTime": "2024-01-10T00:00:00+09:00",
         "uuid": "00000000-0000-4000-8000-000000000101", "attempts": []}]
    return f


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--modules", required=True, help="directory holding node_modules (npm ci there)")
    ap.add_argument("--openapi", default=os.path.join(HERE, "..", "..", "openapi", "openapi.json"))
    ap.add_argument("--node", default="node")
    ap.add_argument("--out", help="also write the gathered responses (JSONL) here")
    a = ap.parse_args()
    host = wfp.Host(a.host, a.plugin)
    records, problems = [], []

    def call(label, expect, method="POST", path=PATH, body=None, fixture=BASE, key="k1", headers=(JSON,),
             check=None):
        r = host.call(":memory:", method, path, body, fixture=fixture, now=NOW, api_key=key, headers=list(headers))
        if r["status"] != expect:
            problems.append(f"{label}: status {r['status']}, expected {expect}: {json.dumps(r['body'])[:300]}")
        elif check and (msg := check(r["body"])):
            problems.append(f"{label}: {msg}")
        record = {"label": label, "method": method, "path": path, "status": r["status"],
                  "headers": r["headers"], "body": r["body"]}
        if body is not None:
            try:
                record["request"] = json.loads(body) if isinstance(body, str) else body
            except ValueError:
                record["request"] = body
        records.append(record)
        return r

    def has(n_attempts=None, n_skipped=None, pool=None):
        def check(b):
            if n_attempts is not None and len(b["attempts"]) != n_attempts:
                return f"{len(b['attempts'])} attempts, expected {n_attempts}"
            if n_skipped is not None and len(b["skipped"]) != n_skipped:
                return f"{len(b['skipped'])} skipped, expected {n_skipped}"
            if pool is not None and any(("poolId" in x) != pool for x in b["attempts"]):
                return f"poolId {'missing' if pool else 'present'}"
            return None
        return check

    real = {"fromTime": FROM, "attemptName": "fix", "dryRun": False}
    dry = dict(real, dryRun=True)
    call("200 dry, pool", 200, body=dry, check=has(3, 0, True))
    call("200 real, pool", 200, body=real, check=has(3, 0, True))
    call("200 real, no pool, skipped", 200, fixture=with_sessions(False),
         body={"fromTime": FROM, "dryRun": False, "skipExisting": True}, check=has(2, 1, False))
    call("200 dry, pool, skipped", 200, fixture=with_sessions(True),
         body={"fromTime": FROM, "dryRun": True, "skipExisting": True, "attemptName": "again"},
         check=has(2, 1, True))
    call("200 real, reuses a session (other name)", 200, fixture=with_sessions(True),
         body={"fromTime": FROM, "dryRun": False, "attemptName": "second"}, check=has(3, 0, True))
    call("200 advance", 200, body={"dryRun": False, "skipExisting": True, "advanceSchedule": True},
         check=has(2, 0, True))
    call("200 count 0", 200, body=dict(real, count=0), check=has(0, 0))
    etag = call("200 dry for If-Match", 200, body=dry)["headers"].get("etag")
    if etag:
        call("200 real with the dry run's If-Match", 200, body=real, headers=(JSON, f"If-Match: {etag}"),
             check=has(3, 0, True))
    else:
        problems.append("a dry run's 200 has no ETag")
    call("400 unknown field", 400, body=dict(real, skipExisiting=True))
    call("400 wrong type", 400, body=dict(real, dryRun="true"))
    call("400 count beyond candidates", 400, body=dict(real, count=10))
    call("400 not JSON", 400, body="{not json")
    call("401 no key", 401, body=real, key=None)
    call("401 unknown key", 401, body=real, key="nope")
    call("404 no such schedule", 404, path="/api/schedules/99/backfill", body=real)
    call("404 another site's schedule", 404, body=real, key="k2")
    call("404 non-numeric id", 404, path="/api/schedules/abc/backfill", body=real)
    call("405 GET", 405, method="GET")
    call("405 DELETE", 405, method="DELETE")
    call("409 attempt exists", 409, fixture=with_sessions(True), body=real)
    call("409 attempt exists (dry run)", 409, fixture=with_sessions(True), body=dry)
    call("412 If-Match differs", 412, body=real, headers=(JSON, 'If-Match: "0000000000000000"'))
    call("413 body over 64 KiB", 413, body=json.dumps(dict(real, pad="x" * 70000)))
    call("415 text/plain", 415, body=real, headers=("Content-Type: text/plain",))

    # The plugin agrees with the request schema: it answers 400 exactly for the bodies the schema
    # refuses (request_cases.json, which validate_document.mjs checks against the schema).
    with open(os.path.join(HERE, "request_cases.json")) as f:
        cases = json.load(f)
    for c in cases["accept"]:
        call(f"schema accepts {json.dumps(c['body'], ensure_ascii=False)[:80]}", 200, body=json.dumps(c["body"]))
    for c in cases["refuse"]:
        call(f"schema refuses ({c['why']})", 400, body=json.dumps(c["body"]))

    # GET /api/openapi.json: validated when served; it must be this document.
    doc_resp = host.call(":memory:", "GET", "/api/openapi.json", None, fixture=BASE, now=NOW)
    if doc_resp["status"] == 200:
        with open(a.openapi) as f:
            if doc_resp["body"] != json.load(f):
                problems.append("GET /api/openapi.json answers another document than openapi/openapi.json")
        records.append({"label": "GET openapi", "method": "GET", "path": "/api/openapi.json", "status": 200,
                        "headers": doc_resp["headers"], "body": doc_resp["body"]})
    else:
        print(f"note: GET /api/openapi.json answered {doc_resp['status']}: wfp-host does not serve the document yet")

    jsonl = "".join(json.dumps(r) + "\n" for r in records)
    if a.out:
        with open(a.out, "w") as f:
            f.write(jsonl)
    validator = [a.node, os.path.join(HERE, "validate_response.mjs"), "--openapi", a.openapi, "--modules", a.modules]
    p = subprocess.run(validator, input=jsonl, capture_output=True, text=True)
    sys.stdout.write(p.stdout)
    if p.returncode != 0:
        problems.append(f"validate_response exited {p.returncode}:\n{p.stderr}")

    # The validator must refuse broken copies: each mutation alone makes one response invalid.
    by_label = {r["label"]: r for r in records}
    mutations = [
        ("200 real, pool", "id as a number", lambda b: b.update(id=5)),
        ("200 real, pool", "attempt status outside the enum", lambda b: b["attempts"][0].update(status="done")),
        ("200 real, pool", "createdAt with an offset", lambda b: b["attempts"][0].update(createdAt="2024-01-12T03:00:00+00:00")),
        ("200 real, pool", "sessionTime with Z", lambda b: b["attempts"][0].update(sessionTime="2024-01-07T15:00:00Z")),
        ("200 real, pool", "an unknown field", lambda b: b.update(extra=1)),
        ("200 real, pool", "poolId null", lambda b: b["attempts"][0].update(poolId=None)),
        ("200 real, no pool, skipped", "skipped entry without reason", lambda b: b["skipped"][0].pop("reason")),
        ("200 count 0", "no skipped", lambda b: b.pop("skipped")),
        ("409 attempt exists", "status differs from the HTTP status", lambda b: b.update(status=400)),
        ("400 unknown field", "message missing", lambda b: b.pop("message")),
    ]
    for label, what, mutate in mutations:
        r = copy.deepcopy(by_label[label])
        mutate(r["body"])
        q = subprocess.run(validator, input=json.dumps(r) + "\n", capture_output=True, text=True)
        if q.returncode != 1:
            problems.append(f"validate_response accepted {label} with {what} (exit {q.returncode}): {q.stderr}")
    r = copy.deepcopy(by_label["405 GET"])
    r["headers"].pop("allow", None)
    if subprocess.run(validator, input=json.dumps(r) + "\n", capture_output=True, text=True).returncode != 1:
        problems.append("validate_response accepted a 405 without Allow")

    for m in problems:
        print(f"FAIL {m}", file=sys.stderr)
    print(f"check_responses: {len(records)} responses gathered, {len(mutations) + 1} broken copies, "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
