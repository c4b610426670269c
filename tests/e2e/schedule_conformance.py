#!/usr/bin/env python3
"""Every line of tests/conformance/schedule-cases.jsonl as a dry-run backfill through `wfp-host call`
over an empty :memory: store: session times, params (last_executed_session_time included), count errors.

With WFP_TEST_STORE=postgresql all cases share one fresh schema, each case seeding its own site, project,
workflow and schedule (ids and API key numbered per case): a schema per case would spend most of the
run creating tables, and dry runs of different projects cannot see each other."""
import itertools
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wfp  # noqa: E402


def fixture_for(case, n):
    """The case's schedule as schedule n (site, project and workflow n, API key kN)."""
    return {
        "sites": [{"id": n, "apiKeys": [f"k{n}"]}],
        "projects": [{"id": n, "siteId": n, "name": "p"}],
        "workflows": [{"id": n, "projectId": n, "name": "wf", "timezone": case["timezone"],
                       "schedule": case["schedule"]}],
        "schedules": [{"id": n, "workflowId": n, "nextScheduleTime": case["nextScheduleTime"],
                       "nextRunTime": case["nextRunTime"], "lastSessionTime": None, "disabledAt": None}],
    }


_numbers = itertools.count(1)
_shared_lock = threading.Lock()
_shared_db = None


def store_and_number():
    """(--db, n): a fresh :memory: store and n = 1 on SQLite; the shared schema and the next n on
    PostgreSQL."""
    global _shared_db
    if wfp.STORE != "postgresql":
        return ":memory:", 1
    with _shared_lock:
        if _shared_db is None:
            _shared_db = wfp.new_store(":memory:")
        return _shared_db, next(_numbers)


def run_case(host, case):
    body = {"fromTime": case["fromTime"], "attemptName": "x", "dryRun": True}
    if case.get("count") is not None:
        body["count"] = case["count"]
    db, n = store_and_number()
    resp = host.call(db, "POST", f"/api/schedules/{n}/backfill", body, fixture=fixture_for(case, n),
                     now="2030-01-01T00:00:00Z", api_key=f"k{n}", headers=["Content-Type: application/json"])
    exp = case["expect"]
    if resp["status"] != exp["status"]:
        return [f"status {resp['status']} ({json.dumps(resp['body'])[:300]}), expected {exp['status']}"]
    if exp["status"] != 200:
        return [] if resp["body"].get("message") == exp["message"] else [
            f"message {resp['body'].get('message')!r}, expected {exp['message']!r}"]
    got = resp["body"]["attempts"]
    want = exp["sessions"]
    errors = []
    if len(got) != len(want):
        errors.append(f"{len(got)} sessions, expected {len(want)}")
    previous = None
    for i, (g, w) in enumerate(zip(got, want)):
        params = dict(w["params"])
        if previous:
            params["last_executed_session_time"] = previous
        if g["sessionTime"] != w["sessionTime"]:
            errors.append(f"[{i}] sessionTime {g['sessionTime']}, expected {w['sessionTime']}")
        elif g["params"] != params:
            errors.append(f"[{i}] params {g['params']}, expected {params}")
        previous = w["sessionTime"]
        if len(errors) > 3:
            break
    return errors


def main():
    return wfp.run_conformance_file("schedule conformance through the route", run_case, describe=lambda c: f"{c['id']} ({c['timezone']} {json.dumps(c['schedule'])})")


if __name__ == "__main__":
    sys.exit(main())
