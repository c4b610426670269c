#!/usr/bin/env python3
"""The 24 worked examples of docs/route.md ("Worked examples"), and one test per rule of
docs/route.md, end to end through `wfp-host call` on a fresh store (a file, or a
PostgreSQL schema with WFP_TEST_STORE=postgresql: wfp.new_store). After every request the store is dumped: a real 200 must leave exactly what the response lists, anything else
must leave it unchanged."""
import argparse
import copy
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wfp  # noqa: E402

HOST = None
PATH = "/api/schedules/5/backfill"
NOW = "2024-01-12T03:00:00Z"
JSON = "Content-Type: application/json"

BASE = {
    "sites": [{"id": 1, "apiKeys": ["k1"]}, {"id": 2, "apiKeys": ["k2"]}],
    "projects": [{"id": 1, "siteId": 1, "name": "etl"}],
    "workflows": [{"id": 11, "projectId": 1, "name": "load", "timezone": "Asia/Tokyo",
                   "schedule": {"daily>": "09:00:00"}, "poolId": "42"}],
    "schedules": [{"id": 5, "workflowId": 11, "nextScheduleTime": "2024-01-11T00:00:00+09:00",
                   "nextRunTime": "2024-01-11T00:00:00Z", "lastSessionTime": None, "disabledAt": None}],
}
EX1 = {"fromTime": "2024-01-08T00:00:00+09:00", "attemptName": "fix", "dryRun": False}


def session(sid, day, attempts):
    return {"id": sid, "projectId": 1, "workflowName": "load", "sessionTime": f"2024-01-{day}T00:00:00+09:00",
            "uuid": f"00000000-0000-4000-8000-{sid:012d}",
            "attempts": [{"id": sid * 10 + i, "index": i + 1, "name": n, "status": "success", "params": {},
                          "createdAt": "2024-01-10T00:00:00Z", "finishedAt": "2024-01-10T00:10:00Z",
                          "poolId": None, "dependsOnSessionId": None} for i, n in enumerate(attempts)]}


class Store:
    """A fresh store (a file, or a PostgreSQL schema: wfp.new_store) seeded with BASE plus `sessions`."""

    def __init__(self, sessions=(), change=None):
        self.dir = tempfile.TemporaryDirectory()
        self.db = wfp.new_store(os.path.join(self.dir.name, "wfp.db"))
        fixture = copy.deepcopy(BASE)
        fixture["sessions"] = list(sessions)
        if change:
            change(fixture)
        HOST.seed(self.db, fixture)

    def call(self, body, key="k1", headers=(JSON,), path=PATH, method="POST", settings=()):
        before = HOST.dump(self.db)
        resp = HOST.call(self.db, method, path, body, now=NOW, api_key=key, headers=list(headers), settings=settings)
        after = HOST.dump(self.db)
        return resp, before, after


def local_days(resp):
    return [a["sessionTime"][8:10] for a in resp["body"]["attempts"]]


class RouteExamples(unittest.TestCase):
    def real(self, store, body, **kw):
        """A request that should succeed and write: the store must hold exactly what it says."""
        resp, before, after = store.call(body, **kw)
        self.assertEqual(resp["status"], 200, resp["body"])
        errors = []
        wfp.check_store_matches_response(before, after, resp, errors.append)
        self.assertEqual(errors, [])
        return resp, after

    def refused(self, store, body, status, message=None, **kw):
        """A request that must fail and leave the store unchanged."""
        resp, before, after = store.call(body, **kw)
        self.assertEqual(resp["status"], status, resp["body"])
        self.assertEqual(resp["body"]["status"], status)
        self.assertEqual(resp["headers"]["content-type"], "application/json")
        if message is not None:
            self.assertEqual(resp["body"]["message"], message)
        self.assertEqual(after, before)
        return resp

    def unchanged(self, store, body, **kw):
        resp, before, after = store.call(body, **kw)
        self.assertEqual(resp["status"], 200, resp["body"])
        self.assertEqual(after, before)
        return resp

    def test_01_creates_one_session_and_attempt_per_time(self):
        resp, after = self.real(Store(), EX1)
        b = resp["body"]
        self.assertEqual(local_days(resp), ["08", "09", "10"])
        self.assertEqual([a["status"] for a in b["attempts"]], ["queued", "blocked", "blocked"])
        self.assertEqual({a["index"] for a in b["attempts"]}, {1})
        self.assertEqual({a["retryAttemptName"] for a in b["attempts"]}, {"fix"})
        self.assertEqual(b["attempts"][0]["params"], {"last_session_time": "2024-01-07T00:00:00+09:00",
                                                      "next_session_time": "2024-01-09T00:00:00+09:00"})
        self.assertEqual(b["attempts"][1]["params"]["last_executed_session_time"], "2024-01-08T00:00:00+09:00")
        self.assertEqual(b["attempts"][2]["params"]["last_executed_session_time"], "2024-01-09T00:00:00+09:00")
        self.assertEqual({a["createdAt"] for a in b["attempts"]}, {"2024-01-12T03:00:00Z"})
        self.assertEqual({a["poolId"] for a in b["attempts"]}, {"42"})
        self.assertEqual(b["skipped"], [])
        self.assertEqual((b["nextScheduleTime"], b["nextRunTime"]), ("2024-01-11T00:00:00+09:00", "2024-01-11T00:00:00Z"))
        self.assertEqual((b["id"], b["project"], b["workflow"]), ("5", {"id": "1", "name": "etl"}, {"id": "11", "name": "load"}))
        fresh = Store()
        self.assertEqual(after["schedules"], HOST.dump(fresh.db)["schedules"])  # pointer unchanged
        for a in b["attempts"]:
            self.assertRegex(a["sessionUuid"], wfp.UUID_V4)
            self.assertIsNone(a["finishedAt"])
            self.assertFalse(a["done"] or a["success"] or a["cancelRequested"])

    def test_02_03_from_time_against_run_times(self):
        resp, _ = self.real(Store(), dict(EX1, fromTime="2024-01-08T09:00:00+09:00"))
        self.assertEqual(local_days(resp), ["08", "09", "10"])
        resp, _ = self.real(Store(), dict(EX1, fromTime="2024-01-08T09:00:01+09:00"))
        self.assertEqual(local_days(resp), ["09", "10"])

    def test_04_to_07_count_and_range(self):
        resp, _ = self.real(Store(), dict(EX1, count=2))
        self.assertEqual(local_days(resp), ["08", "09"])
        self.refused(Store(), dict(EX1, count=5), 400,
                     "count is set to 5 but there are only 3 attempts until the next schedule time")
        resp, _ = self.real(Store(), dict(EX1, count=0))
        self.assertEqual(resp["body"]["attempts"], [])
        resp, _ = self.real(Store(), dict(EX1, fromTime="2024-01-12T00:00:00+09:00"))
        self.assertEqual(resp["body"]["attempts"], [])

    def test_08_same_name_conflicts_dry_or_not(self):
        message = "Attempt of project id=1 workflow=load instant=2024-01-08T15:00:00Z attempt name=fix already exists"
        for dry in (False, True):
            self.refused(Store([session(101, "09", ["fix"])]), dict(EX1, dryRun=dry), 409, message)

    def test_09_existing_session_gets_another_attempt(self):
        resp, after = self.real(Store([session(102, "10", [None])]), EX1)
        a = resp["body"]["attempts"][2]
        self.assertEqual((a["sessionId"], a["sessionUuid"], a["index"]), ("102", "00000000-0000-4000-8000-000000000102", 2))

    def test_10_11_skip_existing(self):
        resp, _ = self.real(Store([session(101, "09", [None])]),
                            {"fromTime": "2024-01-08T00:00:00+09:00", "skipExisting": True, "dryRun": False})
        b = resp["body"]
        self.assertEqual(local_days(resp), ["08", "10"])
        self.assertEqual([a["status"] for a in b["attempts"]], ["queued", "blocked"])
        self.assertIsNone(b["attempts"][0]["retryAttemptName"])
        self.assertEqual(b["attempts"][1]["params"]["last_executed_session_time"], "2024-01-09T00:00:00+09:00")
        self.assertEqual(b["skipped"], [{"sessionTime": "2024-01-09T00:00:00+09:00", "sessionId": "101",
                                         "reason": "session already has attempts"}])
        resp, _ = self.real(Store([session(101, "09", [None])]),
                            {"fromTime": "2024-01-08T00:00:00+09:00", "skipExisting": True, "dryRun": False, "count": 2})
        self.assertEqual(local_days(resp), ["08"])
        self.assertEqual(len(resp["body"]["skipped"]), 1)

    def test_skip_existing_reuses_a_session_without_attempts(self):
        resp, _ = self.real(Store([session(101, "09", [])]),
                            {"fromTime": "2024-01-08T00:00:00+09:00", "skipExisting": True, "dryRun": False})
        self.assertEqual(local_days(resp), ["08", "09", "10"])
        self.assertEqual(resp["body"]["attempts"][1]["sessionId"], "101")
        self.assertEqual(resp["body"]["skipped"], [])

    def test_12_13_advance_schedule(self):
        body = {"advanceSchedule": True, "skipExisting": True, "dryRun": False}
        resp, after = self.real(Store(), body)
        b = resp["body"]
        self.assertEqual(local_days(resp), ["11", "12"])
        self.assertEqual([a["status"] for a in b["attempts"]], ["queued", "blocked"])
        self.assertEqual((b["nextScheduleTime"], b["nextRunTime"]), ("2024-01-13T00:00:00+09:00", "2024-01-13T00:00:00Z"))
        self.assertEqual(after["schedules"][0]["nextScheduleTime"], "2024-01-12T15:00:00Z")
        self.assertEqual(after["schedules"][0]["nextRunTime"], "2024-01-13T00:00:00Z")
        self.assertEqual(after["schedules"][0]["lastSessionTime"], "2024-01-11T15:00:00Z")
        dry = self.unchanged(Store(), dict(body, dryRun=True))
        self.assertEqual([a["id"] for a in dry["body"]["attempts"]], ["0", "0"])
        self.assertEqual(dry["body"]["nextScheduleTime"], "2024-01-13T00:00:00+09:00")

    def test_advance_never_moves_the_pointer_back(self):
        body = {"advanceSchedule": True, "skipExisting": True, "dryRun": False, "fromTime": "2024-01-02T00:00:00Z", "count": 2}
        resp, after = self.real(Store(), body)
        self.assertEqual(resp["body"]["nextScheduleTime"], "2024-01-11T00:00:00+09:00")
        self.assertEqual(after["schedules"][0]["nextScheduleTime"], "2024-01-10T15:00:00Z")

    def test_14_to_18_field_rules(self):
        s = Store()
        self.refused(s, {"advanceSchedule": True, "skipExisting": True, "attemptName": "x", "dryRun": True}, 400,
                     "attemptName must not be given when advanceSchedule is true")
        self.refused(s, {"advanceSchedule": True, "dryRun": True}, 400, "advanceSchedule requires skipExisting: true")
        self.refused(s, {"fromTime": "2024-01-08T00:00:00+09:00", "dryRun": True}, 400,
                     "attemptName is required unless skipExisting is true")
        r = self.refused(s, {"fromTime": "2024-01-08T00:00:00", "attemptName": "fix", "dryRun": True}, 400)
        self.assertIn("fromTime", r["body"]["message"])
        self.assertIn("offset", r["body"]["message"])
        self.refused(s, dict(EX1, skipExisiting=True), 400, "unknown field 'skipExisiting'; did you mean 'skipExisting'?")
        self.refused(s, dict(EX1, count="3"), 400, "count must be an integer (0 or more), not a string")
        self.refused(s, dict(EX1, dryRun="true"), 400, "dryRun must be a boolean, not a string")
        self.refused(s, dict(EX1, fromTime="2016-02-30T00:00:00Z"), 400, "fromTime is not a valid date-time: 2016-02-30T00:00:00Z")
        resp, _ = self.real(Store(), dict(EX1, count=None, skipExisting=None))  # null counts as absent
        self.assertEqual(len(resp["body"]["attempts"]), 3)

    def test_19_20_site_and_key(self):
        s = Store()
        self.refused(s, EX1, 404, "Resource does not exist: schedule id=5", key="k2")
        r = self.refused(s, EX1, 401, key=None)
        self.assertIn("Bearer", r["headers"].get("www-authenticate", ""))
        self.refused(s, EX1, 401, key="wrong")
        self.refused(s, EX1, 404, "Resource does not exist: schedule id=6", path="/api/schedules/6/backfill")
        self.refused(s, EX1, 404, path="/api/schedules/abc/backfill")
        self.refused(s, EX1, 404, path="/api/schedules/4294967301/backfill")

    def test_21_to_23_dry_run_etag_and_if_match(self):
        s = Store()
        dry = self.unchanged(s, dict(EX1, dryRun=True))
        etag = dry["headers"]["etag"]
        self.assertRegex(etag, r'^"[0-9a-f]{16}"$')
        self.assertEqual({(a["id"], a["sessionId"], a["index"]) for a in dry["body"]["attempts"]}, {("0", "0", 1)})
        for a in dry["body"]["attempts"]:
            self.assertRegex(a["sessionUuid"], wfp.UUID_V4)
        real, _ = self.real(s, EX1, headers=(JSON, f"If-Match: {etag}"))
        strip = lambda r: [(a["sessionTime"], a["index"], a["status"], json.dumps(a["params"], sort_keys=True))
                           for a in r["body"]["attempts"]]
        self.assertEqual(strip(real), strip(dry))
        self.assertNotIn("0", [a["id"] for a in real["body"]["attempts"]])
        # 23: the plan changes (01-09 created by someone else) after the dry run: 412.
        t = Store()
        dry = self.unchanged(t, dict(EX1, dryRun=True))
        self.real(t, {"fromTime": "2024-01-09T00:00:00+09:00", "attemptName": "other", "dryRun": False, "count": 1})
        self.refused(t, EX1, 412, headers=(JSON, f"If-Match: {dry['headers']['etag']}"))

    def test_if_match_refuses_a_plan_that_changed_only_in_an_index(self):
        # The dry run plans index 2 on session 102; another backfill then adds index 2 there. The same
        # sessions and times, only the index is now 3: the first plan's If-Match must be 412.
        s = Store([session(102, "10", [None])])
        dry = self.unchanged(s, dict(EX1, dryRun=True))
        self.assertEqual([a["index"] for a in dry["body"]["attempts"]], [1, 1, 2])
        self.real(s, {"fromTime": "2024-01-10T00:00:00+09:00", "attemptName": "other", "dryRun": False, "count": 1})
        again = self.unchanged(s, dict(EX1, dryRun=True))
        self.assertEqual([a["index"] for a in again["body"]["attempts"]], [1, 1, 3])
        self.assertNotEqual(again["headers"]["etag"], dry["headers"]["etag"])
        self.refused(s, EX1, 412, headers=(JSON, f"If-Match: {dry['headers']['etag']}"))
        resp, _ = self.real(s, EX1, headers=(JSON, f"If-Match: {again['headers']['etag']}"))
        self.assertEqual([a["index"] for a in resp["body"]["attempts"]], [1, 1, 3])

    def test_last_day_of_month_in_century_years(self):
        # cron> with `L` in UTC: 2100 is not a leap year (divisible by 100), 2000 is (by 400).
        def month_ends(f):
            f["workflows"][0]["timezone"] = "UTC"
            f["workflows"][0]["schedule"] = {"cron>": "0 0 L * *"}
            f["schedules"][0].update(nextScheduleTime="2100-12-31T00:00:00Z", nextRunTime="2100-12-31T00:00:00Z")
        times = lambda r: [a["sessionTime"] for a in r["body"]["attempts"]]
        resp = self.unchanged(Store(change=month_ends), dict(EX1, fromTime="2100-02-01T00:00:00Z", count=3, dryRun=True))
        self.assertEqual(times(resp), ["2100-02-28T00:00:00+00:00", "2100-03-31T00:00:00+00:00", "2100-04-30T00:00:00+00:00"])
        self.assertEqual(resp["body"]["attempts"][0]["params"],
                         {"last_session_time": "2100-01-31T00:00:00+00:00", "next_session_time": "2100-03-31T00:00:00+00:00"})
        resp, _ = self.real(Store(change=month_ends), dict(EX1, fromTime="2000-02-01T00:00:00Z", count=2))
        self.assertEqual(times(resp), ["2000-02-29T00:00:00+00:00", "2000-03-31T00:00:00+00:00"])

    def test_24_disabled_schedule_can_be_backfilled(self):
        def disable(f):
            f["schedules"][0]["disabledAt"] = "2024-01-10T00:00:00Z"
        resp, _ = self.real(Store(change=disable), EX1)
        self.assertEqual(local_days(resp), ["08", "09", "10"])

    def test_http_level_errors(self):
        s = Store()
        self.refused(s, EX1, 415, headers=("Content-Type: text/plain",))
        big = json.dumps(dict(EX1, attemptName="x" * 70000))
        self.refused(s, big, 413)
        self.refused(s, "{not json", 400)
        r = self.refused(s, EX1, 405, method="GET")
        self.assertEqual(r["headers"].get("allow"), "POST")

    def test_invalid_schedule_definition_names_the_key(self):
        def broken(f):
            f["workflows"][0]["schedule"] = {"daily>": "9am"}
        r = self.refused(Store(change=broken), EX1, 400)
        self.assertIn("daily>", r["body"]["message"])

    def test_size_guard_answers_for_huge_ranges(self):
        def minutely(f):
            f["workflows"][0]["schedule"] = {"minutes_interval>": 1}
        s = Store(change=minutely)
        r = self.refused(s, dict(EX1, fromTime="1970-01-01T00:00:00Z"), 400)
        self.assertIn("more than 100000 candidate sessions", r["body"]["message"])
        r = self.refused(s, dict(EX1, fromTime="2024-01-10T14:00:00Z"), 400, settings=["backfill.max_sessions=10"])
        self.assertIn("more than 10 candidate sessions", r["body"]["message"])
        resp, _ = self.real(s, dict(EX1, fromTime="2024-01-10T14:55:00Z"), settings=["backfill.max_sessions=10"])
        self.assertEqual(len(resp["body"]["attempts"]), 5)

    def test_last_executed_sees_existing_sessions(self):
        resp, _ = self.real(Store([session(100, "05", [None])]), EX1)
        self.assertEqual(resp["body"]["attempts"][0]["params"]["last_executed_session_time"], "2024-01-05T00:00:00+09:00")


def main():
    global HOST
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--plugin", required=True)
    args, rest = ap.parse_known_args()
    HOST = wfp.Host(args.host, args.plugin)
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(RouteExamples)
    if rest:
        suite = unittest.TestSuite(t for t in suite if any(r in t.id() for r in rest))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors)
    print(f"route examples: {result.testsRun - failed} passed, {failed} failed")
    return 0 if failed == 0 and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
