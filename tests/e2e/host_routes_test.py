#!/usr/bin/env python3
"""The host's own routes, in Digdag's shapes, end to end through `wfp-host call` on a fresh store (an
SQLite file, or a PostgreSQL schema with WFP_TEST_STORE=postgresql: wfp.new_store):
GET /api/schedules, /api/schedules/{id}, /api/projects[?name=], /api/projects/{id}/schedules[?workflow=].
Each is scoped to the API key's site (another site's project or schedule is a 404, never listed),
authenticated like the backfill route, and answers other methods with 405."""
import argparse
import os
import sys
import tempfile

import wfp

FIXTURE = {
    "sites": [{"id": 1, "apiKeys": ["k1"]}, {"id": 2, "apiKeys": ["k2"]}],
    "projects": [{"id": 1, "siteId": 1, "name": "etl"}, {"id": 2, "siteId": 1, "name": "web app"},
                 {"id": 3, "siteId": 2, "name": "etl"}],
    "workflows": [
        {"id": 11, "projectId": 1, "name": "load", "timezone": "Asia/Tokyo", "schedule": {"daily>": "09:00:00"}},
        {"id": 12, "projectId": 1, "name": "report", "timezone": "America/Los_Angeles",
         "schedule": {"cron>": "30 2 * * *"}},
        {"id": 13, "projectId": 1, "name": "manual", "timezone": "UTC"},
        {"id": 21, "projectId": 2, "name": "sync", "timezone": "+05:30", "schedule": {"hourly>": "05:00"}},
        {"id": 31, "projectId": 3, "name": "load", "timezone": "UTC", "schedule": {"daily>": "01:00:00"}},
    ],
    "schedules": [
        {"id": 5, "workflowId": 11, "nextScheduleTime": "2024-01-11T00:00:00+09:00",
         "nextRunTime": "2024-01-11T00:00:00Z"},
        {"id": 3, "workflowId": 12, "nextScheduleTime": "2024-03-05T02:30:00-08:00",
         "nextRunTime": "2024-03-05T10:30:00Z", "disabledAt": "2024-03-01T12:00:00Z"},
        {"id": 7, "workflowId": 21, "nextScheduleTime": "2024-01-11T10:00:00+05:30",
         "nextRunTime": "2024-01-11T04:35:00Z"},
        {"id": 9, "workflowId": 31, "nextScheduleTime": "2024-01-11T00:00:00Z",
         "nextRunTime": "2024-01-11T01:00:00Z"},
    ],
}

S3 = {"id": "3", "project": {"id": "1", "name": "etl"}, "workflow": {"id": "12", "name": "report"},
      "nextRunTime": "2024-03-05T10:30:00Z", "nextScheduleTime": "2024-03-05T02:30:00-08:00",
      "disabledAt": "2024-03-01T12:00:00Z", "timezone": "America/Los_Angeles"}
S5 = {"id": "5", "project": {"id": "1", "name": "etl"}, "workflow": {"id": "11", "name": "load"},
      "nextRunTime": "2024-01-11T00:00:00Z", "nextScheduleTime": "2024-01-11T00:00:00+09:00",
      "disabledAt": None, "timezone": "Asia/Tokyo"}
S7 = {"id": "7", "project": {"id": "2", "name": "web app"}, "workflow": {"id": "21", "name": "sync"},
      "nextRunTime": "2024-01-11T04:35:00Z", "nextScheduleTime": "2024-01-11T10:00:00+05:30",
      "disabledAt": None, "timezone": "+05:30"}
S9 = {"id": "9", "project": {"id": "3", "name": "etl"}, "workflow": {"id": "31", "name": "load"},
      "nextRunTime": "2024-01-11T01:00:00Z", "nextScheduleTime": "2024-01-11T00:00:00+00:00",
      "disabledAt": None, "timezone": "UTC"}

# (method, path, key, status, body or None to check only the status)
CASES = [
    ("GET", "/api/schedules", "k1", 200, {"schedules": [S3, S5, S7]}),
    ("GET", "/api/schedules", "k2", 200, {"schedules": [S9]}),
    ("GET", "/api/schedules/5", "k1", 200, S5),
    ("GET", "/api/schedules/3", "k1", 200, S3),
    ("GET", "/api/schedules/7", "k1", 200, S7),
    ("GET", "/api/schedules/9", "k1", 404, {"message": "Resource does not exist: schedule id=9", "status": 404}),
    ("GET", "/api/schedules/9", "k2", 200, S9),
    ("GET", "/api/schedules/4", "k1", 404, None),
    ("GET", "/api/schedules/abc", "k1", 404, None),
    ("GET", "/api/schedules/0", "k1", 404, None),
    ("GET", "/api/schedules/2147483648", "k1", 404, None),
    # A path id is echoed as an excerpt (docs/http.md): at most 32 characters, controls and invalid
    # UTF-8 shown as U+FFFD, the backfill route's rule.
    ("GET", "/api/schedules/%ff%01abc", "k1", 404,
     {"message": "Resource does not exist: schedule id=\ufffd\ufffdabc", "status": 404}),
    ("GET", "/api/schedules/" + "9" * 8000, "k1", 404,
     {"message": "Resource does not exist: schedule id=" + "9" * 32 + "... (8000 bytes)", "status": 404}),
    ("GET", "/api/schedules", None, 401, None),
    ("GET", "/api/schedules/5", "nope", 401, None),
    ("POST", "/api/schedules", "k1", 405, None),
    ("DELETE", "/api/schedules/5", "k1", 405, None),
    ("GET", "/api/projects", "k1", 200, {"projects": [{"id": "1", "name": "etl"}, {"id": "2", "name": "web app"}]}),
    ("GET", "/api/projects", "k2", 200, {"projects": [{"id": "3", "name": "etl"}]}),
    ("GET", "/api/projects?name=etl", "k1", 200, {"projects": [{"id": "1", "name": "etl"}]}),
    ("GET", "/api/projects?name=web%20app", "k1", 200, {"projects": [{"id": "2", "name": "web app"}]}),
    ("GET", "/api/projects?name=web+app", "k1", 200, {"projects": [{"id": "2", "name": "web app"}]}),
    ("GET", "/api/projects?name=nope", "k1", 200, {"projects": []}),
    ("GET", "/api/projects?name=%zz", "k1", 400, None),
    ("GET", "/api/projects", None, 401, None),
    # Query parameters: an unknown one is a 400 naming it and the known ones, a repeated one a 400
    # naming it; an empty pair ("&&", a trailing "&") is nothing.
    ("GET", "/api/projects?nme=etl", "k1", 400,
     {"message": "unknown query parameter 'nme': this route takes 'name' only", "status": 400}),
    ("GET", "/api/projects?name=etl&name=zz", "k1", 400,
     {"message": "query parameter 'name' is given more than once; send it once", "status": 400}),
    ("GET", "/api/projects?name=etl&", "k1", 200, {"projects": [{"id": "1", "name": "etl"}]}),
    ("GET", "/api/projects?%zz=etl", "k1", 400,
     {"message": "query parameter name '%zz' is not validly percent-encoded", "status": 400}),
    ("GET", "/api/projects?%01" + "x" * 100 + "=1", "k1", 400,
     {"message": "unknown query parameter '\ufffd" + "x" * 63 + "... (101 bytes)': this route takes 'name' only",
      "status": 400}),
    ("GET", "/api/schedules?name=etl", "k1", 400,
     {"message": "unknown query parameter 'name': this route takes 'last_id' only", "status": 400}),
    # last_id, Digdag's paging: the schedules with a greater id (all of them: no page limit here).
    ("GET", "/api/schedules?last_id=3", "k1", 200, {"schedules": [S5, S7]}),
    ("GET", "/api/schedules?last_id=7", "k1", 200, {"schedules": []}),
    ("GET", "/api/schedules?last_id=0", "k1", 200, {"schedules": [S3, S5, S7]}),
    ("GET", "/api/schedules?last_id=x", "k1", 400,
     {"message": "query parameter 'last_id' must be a schedule id (0 to 2147483647), not 'x'",
      "status": 400}),
    ("GET", "/api/schedules?last_id=-1", "k1", 400, None),
    ("GET", "/api/projects/1/schedules?last_id=3", "k1", 200, {"schedules": [S5]}),
    ("GET", "/api/projects/1/schedules?workflow=report&last_id=3", "k1", 200, {"schedules": []}),
    ("GET", "/api/schedules/5?last_id=1", "k1", 400,
     {"message": "unknown query parameter 'last_id': this route takes no query parameters", "status": 400}),
    ("GET", "/api/projects/1/schedules?name=load", "k1", 400,
     {"message": "unknown query parameter 'name': this route takes 'workflow' and 'last_id' only",
      "status": 400}),
    ("GET", "/api/projects/1/schedules?workflow=load&workflow=load", "k1", 400,
     {"message": "query parameter 'workflow' is given more than once; send it once", "status": 400}),
    ("GET", "/api/projects/1/schedules", "k1", 200, {"schedules": [S3, S5]}),
    ("GET", "/api/projects/1/schedules?workflow=load", "k1", 200, {"schedules": [S5]}),
    ("GET", "/api/projects/1/schedules?workflow=manual", "k1", 200, {"schedules": []}),
    ("GET", "/api/projects/1/schedules?workflow=sync", "k1", 200, {"schedules": []}),
    ("GET", "/api/projects/2/schedules?workflow=sync", "k1", 200, {"schedules": [S7]}),
    ("GET", "/api/projects/3/schedules?workflow=load", "k1", 404,
     {"message": "Resource does not exist: project id=3", "status": 404}),
    ("GET", "/api/projects/3/schedules?workflow=load", "k2", 200, {"schedules": [S9]}),
    ("GET", "/api/projects/99/schedules", "k1", 404, None),
    ("GET", "/api/projects/x/schedules", "k1", 404, None),
    ("GET", "/api/projects/%ff%01abc/schedules", "k1", 404,
     {"message": "Resource does not exist: project id=\ufffd\ufffdabc", "status": 404}),
    ("GET", "/api/projects/" + "9" * 8000 + "/schedules", "k1", 404,
     {"message": "Resource does not exist: project id=" + "9" * 32 + "... (8000 bytes)", "status": 404}),
    ("GET", "/api/projects/1/schedules", None, 401, None),
    ("PUT", "/api/projects/1/schedules", "k1", 405, None),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--plugin", required=True)
    args = ap.parse_args()
    host = wfp.Host(args.host, args.plugin)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        db = wfp.new_store(os.path.join(tmp, "store.db"))
        host.seed(db, FIXTURE)
        before = host.dump(db)
        for method, path, key, status, body in CASES:
            r = host.call(db, method, path, api_key=key)
            problems = []
            if r["status"] != status:
                problems.append(f"status {r['status']}, expected {status}: {r['body']}")
            elif body is not None and r["body"] != body:
                problems.append(f"body {r['body']}\n       expected {body}")
            if status == 405 and r["headers"].get("allow") != "GET, HEAD":
                problems.append(f"Allow {r['headers'].get('allow')!r}, expected 'GET, HEAD'")
            if status >= 400 and (not isinstance(r["body"], dict) or r["body"].get("status") != status):
                problems.append(f"error body {r['body']}")
            print(("ok   " if not problems else "FAIL ") + f"{method} {path} ({key})")
            for p in problems:
                print("     " + p)
            failures += bool(problems)
        # A backfill moves the pointer; the schedule route shows the moved pointer.
        r = host.call(db, "POST", "/api/schedules/5/backfill", api_key="k1", now="2024-01-12T03:00:00Z",
                      body={"advanceSchedule": True, "skipExisting": True, "dryRun": False})
        s = host.call(db, "GET", "/api/schedules/5", api_key="k1")
        ok = (r["status"] == 200 and s["body"]["nextScheduleTime"] == "2024-01-13T00:00:00+09:00"
              and s["body"]["nextRunTime"] == "2024-01-13T00:00:00Z")
        print(("ok   " if ok else "FAIL ") + "GET /api/schedules/5 after an advancing backfill shows the new pointer")
        failures += not ok
        after = host.dump(db)
        unchanged = all(before[k] == after[k] for k in ("sites", "projects", "workflows"))
        print(("ok   " if unchanged else "FAIL ") + "the GET routes wrote nothing")
        failures += not unchanged
        wfp.drop_store(db)
    print(f"{len(CASES) + 2 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
