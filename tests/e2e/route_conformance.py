#!/usr/bin/env python3
"""Every line of tests/conformance/route-cases.jsonl through `wfp-host call` on a fresh store (a file,
or a PostgreSQL schema with WFP_TEST_STORE=postgresql: see wfp.new_store):
seed, dump, call, dump, then compare the response, the store after, and the store against the response."""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wfp  # noqa: E402

ATTEMPT_DEFAULTS = ("sessionTime", "index", "retryAttemptName", "status", "params", "done", "success",
                    "cancelRequested", "createdAt", "finishedAt")


def run_case(host, case):
    errors = []
    fail = errors.append
    with tempfile.TemporaryDirectory() as d:
        db = wfp.new_store(os.path.join(d, "store.db"))
        host.seed(db, case["fixture"])
        before = host.dump(db)
        req = case["request"]
        resp = host.call(db, req["method"], req["path"], req["body"], now=case["now"], api_key=req["apiKey"],
                         headers=["Content-Type: application/json"])
        after = host.dump(db)
    exp = case["expect"]
    if resp["status"] != exp["status"]:
        return [f"status {resp['status']} (body {json.dumps(resp['body'])[:300]}), expected {exp['status']}"]
    body = resp["body"]
    dry = req["body"].get("dryRun")
    if exp["status"] != 200:
        if body.get("message") != exp["message"]:
            fail(f"message {body.get('message')!r}, expected {exp['message']!r}")
        if body.get("status") != exp["status"]:
            fail("error body lacks its status")
    else:
        for key in ("nextScheduleTime", "nextRunTime"):
            if body.get(key) != exp[key]:
                fail(f"{key}: {body.get(key)}, expected {exp[key]}")
        # Like attempts, skipped entries must match in the fields the case lists.
        got_skipped = [{k: g.get(k) for k in w} for g, w in zip(body.get("skipped", []), exp["skipped"])]
        if len(body.get("skipped", [])) != len(exp["skipped"]) or got_skipped != exp["skipped"]:
            fail(f"skipped: {body.get('skipped')}, expected {exp['skipped']}")
        for g in body.get("skipped", []):
            if g.get("reason") != "session already has attempts":
                fail(f"skipped entry without its reason: {g}")
        got, want = body.get("attempts", []), exp["attempts"]
        if len(got) != len(want):
            fail(f"{len(got)} attempts, expected {len(want)}")
        for i, (g, w) in enumerate(zip(got, want)):
            for k, v in w.items():
                if k in ("sessionId", "sessionUuid") and v is None:
                    continue
                if g.get(k) != v:
                    fail(f"attempts[{i}].{k}: {g.get(k)!r}, expected {v!r}")
            if w.get("sessionId") is None:
                if dry and g["sessionId"] != "0":
                    fail(f"attempts[{i}].sessionId {g['sessionId']} on a dry run, expected \"0\"")
                if not wfp.UUID_V4.match(g["sessionUuid"]):
                    fail(f"attempts[{i}].sessionUuid {g['sessionUuid']} is not a random UUID v4")
            if dry and g["id"] != "0":
                fail(f"attempts[{i}].id {g['id']} on a dry run")
            if not dry and g["id"] == "0":
                fail(f"attempts[{i}].id is \"0\" on a real run")
    store = case["expectStore"]
    if store == "unchanged":
        if after != before:
            fail("store changed, expected unchanged")
    else:
        wf = case["fixture"]["workflows"][0]
        sessions = [{"sessionTime": s["sessionTime"],
                     "attempts": sorted(([a["name"], a["index"]] for a in s["attempts"]),
                                        key=lambda x: (x[1], x[0] or ""))}
                    for s in wfp.workflow_sessions(after, wf["projectId"], wf["name"])]
        want = [{"sessionTime": s["sessionTime"], "attempts": sorted(s["attempts"], key=lambda x: (x[1], x[0] or ""))}
                for s in store["sessions"]]
        if sessions != want:
            fail(f"store sessions differ: {json.dumps(sessions)[:400]} vs {json.dumps(want)[:400]}")
        sch = after["schedules"][0]
        for k, v in store["schedule"].items():
            if sch[k] != v:
                fail(f"schedule.{k}: {sch[k]}, expected {v}")
    if exp["status"] == 200 and not dry:
        wfp.check_store_matches_response(before, after, resp, fail)
    return errors


def main():
    return wfp.run_conformance_file("route conformance", run_case)


if __name__ == "__main__":
    sys.exit(main())
