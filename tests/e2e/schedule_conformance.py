#!/usr/bin/env python3
"""Every line of ../shared/conformance/schedule-cases.jsonl as a dry-run backfill through `wfp-host call`
over an empty :memory: store (a fresh PostgreSQL schema with WFP_TEST_STORE=postgresql): session times, params (last_executed_session_time included), count errors."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wfp  # noqa: E402


def fixture_for(case):
    return {
        "sites": [{"id": 1, "apiKeys": ["k1"]}],
        "projects": [{"id": 1, "siteId": 1, "name": "p"}],
        "workflows": [{"id": 11, "projectId": 1, "name": "wf", "timezone": case["timezone"],
                       "schedule": case["schedule"]}],
        "schedules": [{"id": 5, "workflowId": 11, "nextScheduleTime": case["nextScheduleTime"],
                       "nextRunTime": case["nextRunTime"], "lastSessionTime": None, "disabledAt": None}],
    }


def run_case(host, case):
    body = {"fromTime": case["fromTime"], "attemptName": "x", "dryRun": True}
    if case.get("count") is not None:
        body["count"] = case["count"]
    resp = host.call(wfp.new_store(":memory:"), "POST", "/api/schedules/5/backfill", body, fixture=fixture_for(case),
                     now="2030-01-01T00:00:00Z", api_key="k1", headers=["Content-Type: application/json"])
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
