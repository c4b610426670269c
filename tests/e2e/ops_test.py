#!/usr/bin/env python3
"""wfp-host serve as an operated service (issue 18): /healthz, /readyz, /metrics, X-Request-Id, the JSON
access log, and the drain after SIGTERM.

- /healthz and /readyz answer 200 without a key (HEAD too); another method is a 405.
- /metrics is the Prometheus text format: `promtool check metrics` accepts it after real traffic, and the
  named series move by exactly what was served between two scrapes (HTTP requests by route template, the
  backfill plugin's outcomes and sessions through ABI 1.3, store transactions).
- X-Request-Id: a valid one is echoed, an invalid one is replaced by a new one, none gets a new one; the
  id is in the JSON access-log line of the request and in the plugin's log line for it.
- SIGTERM with --drain-period: /readyz turns 503 while /healthz and the backfill route still answer 200
  (with Connection: close); then the host exits 0.
- --log-format json: every line on stderr is a JSON object, the server's own notes of the stop included.
- --ops-listen: a second port with the operations routes only (404 for the rest, no key), answered while
  every worker of the main port is busy; its /readyz turns 503 in the drain; it stops with the host.
Every socket is on 127.0.0.1; every wait is bounded; nothing is timed."""
import argparse
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wfp  # noqa: E402
from route_examples_test import BASE, NOW  # noqa: E402

ARGS = None
PATH = "/api/schedules/5/backfill"
ROUTE = "/api/schedules/{id}/backfill"
AUTH = {"Authorization": "Bearer k1", "Content-Type": "application/json"}
DRY = {"fromTime": "2024-01-08T00:00:00+09:00", "attemptName": "ops", "dryRun": True}
REAL = {"fromTime": "2024-01-08T00:00:00+09:00", "attemptName": "ops-real", "dryRun": False}
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$")
# Ten days of minutely sessions (14400): a dry run's answer of about 9 MB, streamed; a client that does
# not read it, with a small receive buffer, holds its request in flight.
MINUTELY = {
    "sites": [{"id": 1, "apiKeys": ["k1"]}],
    "projects": [{"id": 1, "siteId": 1, "name": "etl"}],
    "workflows": [{"id": 21, "projectId": 1, "name": "tick", "timezone": "UTC",
                   "schedule": {"minutes_interval>": 1}}],
    "schedules": [{"id": 7, "workflowId": 21, "nextScheduleTime": "2024-01-11T00:00:00Z",
                   "nextRunTime": "2024-01-11T00:00:00Z", "lastSessionTime": None, "disabledAt": None}],
}


class Server:
    def __init__(self, extra=(), fixture_data=BASE, threads=2):
        self.dir = tempfile.TemporaryDirectory()
        self.db = wfp.new_store(os.path.join(self.dir.name, "wfp.db"))
        fixture = os.path.join(self.dir.name, "fixture.json")
        with open(fixture, "w") as f:
            json.dump(fixture_data, f)
        self.log_path = os.path.join(self.dir.name, "stderr.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [ARGS.host, "serve", "--db", self.db, "--plugin", ARGS.plugin, "--fixture", fixture,
             "--listen", "127.0.0.1:0", "--now", NOW, "--threads", str(threads), "--log-format", "json", *extra],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.port = wfp.listening_port(self.proc, self.log_text)
        self.ops_port = None
        if "--ops-listen" in extra:  # its line follows the first one
            line = self.proc.stdout.readline().strip()
            if not line.startswith("ops listening on http://127.0.0.1:"):
                self.proc.kill()
                self.proc.wait(timeout=30)
                raise RuntimeError(f"unexpected second line {line!r}: {self.log_text()}")
            self.ops_port = int(line.rsplit(":", 1)[1])

    def log_text(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def request(self, method, path, body=None, headers=None, port=None, timeout=60):
        c = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=timeout)
        try:
            c.request(method, path, json.dumps(body) if body is not None else None, headers or {})
            r = c.getresponse()
            data = r.read()
        finally:
            c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data.decode()

    def stop(self, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=30)
            self.proc.stdout.close()
            self.log.close()


def held_stream(port):
    """A dry run of MINUTELY's schedule whose streamed answer is not read past its head: the request stays
    in flight, its worker blocked on the write. The socket (the caller closes it)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(60)
    s.connect(("127.0.0.1", port))
    body = json.dumps({"fromTime": "2024-01-01T00:00:00Z", "attemptName": "held", "dryRun": True})
    s.sendall((f"POST /api/schedules/7/backfill HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Authorization: Bearer k1\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n{body}").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1024)
        if not chunk:
            raise AssertionError(f"the connection ended before the answer's head: {head!r}")
        head += chunk
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    return s


def raw_request(port, method, path, headers=None, body=None):
    """(status, body) of one request over a plain socket, not http.client: for answers of the operations
    listener that openapi/openapi.json does not describe (it describes the API's port), which
    tests/openapi/e2e_validated.py would check against the API's paths."""
    data = json.dumps(body).encode() if body is not None else b""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close",
             f"Content-Length: {len(data)}", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    head, _, rest = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), rest.decode()


def wait_refused(port):
    """Waits (bounded) until the host no longer accepts connections on `port`; whether it did."""
    for _ in range(3000):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        except ConnectionRefusedError:
            return True
        time.sleep(0.01)
    return False


def parse_metrics(text):
    """{(name, labels-text): value} of every sample."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        out[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return out


def value(samples, name, **labels):
    """The sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for (n, lab), v in samples.items():
        if n != name:
            continue
        if all(f'{k}="{val}"' in lab for k, val in labels.items()):
            total += v
    return total


class Ops(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()

    @classmethod
    def tearDownClass(cls):
        cls.assert_rc = cls.server.stop()

    def scrape(self):
        status, headers, body = self.server.request("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain; version=0.0.4"), headers)
        return body

    def test_health_and_readiness(self):
        status, headers, body = self.server.request("GET", "/healthz")
        self.assertEqual((status, json.loads(body)), (200, {"status": "ok"}))
        self.assertIn("x-request-id", headers)
        status, _, body = self.server.request("GET", "/readyz")
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body), {"status": "ready",
                                            "checks": {"draining": False, "plugins": 1, "store": "ok"}})
        status, headers, body = self.server.request("POST", "/readyz", {})
        self.assertEqual((status, headers.get("allow")), (405, "GET, HEAD"), body)
        # HEAD is GET without the body, as on every route of the host.
        status, headers, body = self.server.request("HEAD", "/healthz")
        self.assertEqual((status, body), (200, ""))
        self.assertEqual(headers.get("content-type"), "application/json")
        self.assertIn("x-request-id", headers)

    def test_the_backfill_series_are_there_at_zero_before_any_request(self):
        """rate() and absent() alerts need the series before the first backfill."""
        fresh = Server()
        try:
            status, _, body = fresh.request("GET", "/metrics")
            self.assertEqual(status, 200)
            samples = parse_metrics(body)
            for outcome in ("created", "dry_run", "conflict", "precondition_failed", "invalid",
                            "not_found", "busy", "error"):
                key = ("wfp_backfill_requests_total", f'{{outcome="{outcome}"}}')
                self.assertEqual(samples.get(key), 0.0, (outcome, body[:2000]))
            for result in ("created", "skipped"):
                key = ("wfp_backfill_sessions_total", f'{{result="{result}"}}')
                self.assertEqual(samples.get(key), 0.0, (result, body[:2000]))
        finally:
            self.assertEqual(fresh.stop(), 0)

    def test_metrics_move_with_traffic_and_promtool_accepts_them(self):
        before = parse_metrics(self.scrape())
        served = [self.server.request("POST", PATH, DRY, AUTH)[0] for _ in range(3)]
        served.append(self.server.request("POST", PATH, REAL, AUTH)[0])   # created
        served.append(self.server.request("POST", PATH, REAL, AUTH)[0])   # the same again: conflict
        served.append(self.server.request("POST", PATH, {"dryRun": "yes"}, AUTH)[0])  # invalid
        served.append(self.server.request("POST", "/api/schedules/999/backfill", DRY, AUTH)[0])
        served.append(self.server.request("POST", PATH, DRY, {"Content-Type": "application/json"})[0])
        served.append(self.server.request("GET", "/no/such/path")[0])
        self.assertEqual(served, [200, 200, 200, 200, 409, 400, 404, 401, 404])
        http_total = "wfp_http_requests_total"
        # The server counts a request once its answer is written, so the client can read an answer
        # before it is counted: scrape until the last request shows (a bounded wait, nothing timed).
        for _ in range(200):
            text = self.scrape()
            after = parse_metrics(text)
            if (value(after, http_total, route="unmatched", method="GET", status="404") -
                    value(before, http_total, route="unmatched", method="GET", status="404") >= 1 and
                    value(after, "wfp_http_request_duration_seconds_count", route=ROUTE) -
                    value(before, "wfp_http_request_duration_seconds_count", route=ROUTE) >= 8):
                break
            time.sleep(0.05)

        def delta(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)

        self.assertEqual(delta(http_total, route=ROUTE, method="POST", status="200"), 4)
        self.assertEqual(delta(http_total, route=ROUTE, method="POST", status="409"), 1)
        self.assertEqual(delta(http_total, route=ROUTE, method="POST", status="401"), 1)
        self.assertEqual(delta(http_total, route="unmatched", method="GET", status="404"), 1)
        # The first scrape at least (later ones while waiting above may be counted too).
        self.assertGreaterEqual(delta(http_total, route="/metrics", method="GET", status="200"), 1)
        self.assertEqual(delta("wfp_http_request_duration_seconds_count", route=ROUTE), 8)
        self.assertNotIn("/api/schedules/5/backfill", text)  # the template, never the raw path
        outcome = "wfp_backfill_requests_total"
        self.assertEqual(delta(outcome, outcome="dry_run"), 3)
        self.assertEqual(delta(outcome, outcome="created"), 1)
        self.assertEqual(delta(outcome, outcome="conflict"), 1)
        self.assertEqual(delta(outcome, outcome="invalid"), 1)
        self.assertEqual(delta(outcome, outcome="not_found"), 1)
        # From 2024-01-08 (JST) to the schedule's pointer: 3 daily sessions, one real run.
        self.assertEqual(delta("wfp_backfill_sessions_total", result="created"), 3)
        self.assertEqual(delta("wfp_backfill_sessions_total", result="skipped"), 0)
        # Transactions: three dry runs read, the real run and the conflict wrote (404: one more).
        self.assertGreaterEqual(delta("wfp_store_transaction_duration_seconds_count", mode="read"), 3)
        self.assertGreaterEqual(delta("wfp_store_transaction_duration_seconds_count", mode="write"), 1)
        self.assertGreaterEqual(delta("wfp_store_lock_wait_seconds_count"), 1)
        self.assertGreaterEqual(value(after, "wfp_store_open_connections"), 1)
        self.assertIn("wfp_store_busy_total", text)
        # promtool's own check of the exposition (format and lint).
        p = subprocess.run([ARGS.promtool, "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(p.returncode, 0, f"promtool: {p.stdout}{p.stderr}")
        print(f"promtool check metrics: exit 0 on {len(text.splitlines())} lines {p.stdout.strip()}")

    def test_a_405_is_counted_under_the_route_it_matched(self):
        """A wrong method on a known path is that route's 405 (route="/api/schedules/{id}/backfill" in
        the metrics and the access log), not "unmatched"."""
        def count(samples, route):
            return value(samples, "wfp_http_requests_total", route=route, method="GET", status="405")

        before = parse_metrics(self.scrape())
        status, headers, _ = self.server.request("GET", PATH, None, {"X-Request-Id": "wrong-method-1"})
        self.assertEqual((status, headers.get("allow")), (405, "POST"))
        for _ in range(200):  # counted once the answer is written: a bounded wait
            after = parse_metrics(self.scrape())
            if count(after, ROUTE) - count(before, ROUTE) >= 1:
                break
            time.sleep(0.05)
        self.assertEqual(count(after, ROUTE) - count(before, ROUTE), 1)
        self.assertEqual(count(after, "unmatched") - count(before, "unmatched"), 0)
        lines = self.wait_for_log(lambda o: o.get("request_id") == "wrong-method-1")
        access = [o for o in lines if o.get("request_id") == "wrong-method-1"]
        self.assertEqual([(o["route"], o["status"]) for o in access], [(ROUTE, 405)])

    def test_request_ids_are_echoed_logged_and_reach_the_plugin(self):
        given = "ops-test-1234:abcd"
        status, headers, _ = self.server.request("POST", PATH, {"dryRun": True}, {**AUTH, "X-Request-Id": given})
        self.assertEqual((status, headers["x-request-id"]), (400, given))
        for bad in ("x" * 129, "has space", "quote\"d", "semi;colon"):
            status, headers, _ = self.server.request("GET", "/healthz", None, {"X-Request-Id": bad})
            self.assertEqual(status, 200)
            self.assertNotEqual(headers["x-request-id"], bad)
            self.assertRegex(headers["x-request-id"], r"^[0-9a-f]{20}$")
        ids = {self.server.request("GET", "/healthz")[1]["x-request-id"] for _ in range(5)}
        self.assertEqual(len(ids), 5)
        # A real run: the plugin logs what it wrote, with the request id the host added.
        real = {"fromTime": "2024-01-08T00:00:00+09:00", "attemptName": "ops-ids", "dryRun": False}
        status, headers, _ = self.server.request("POST", PATH, real, {**AUTH, "X-Request-Id": "real-run-1"})
        self.assertEqual(status, 200)
        lines = self.wait_for_log(lambda o: o.get("request_id") == "real-run-1" and "route" in o)
        access = [o for o in lines if o.get("request_id") == "real-run-1" and "route" in o]
        self.assertEqual(len(access), 1, access)
        self.assertEqual({k: access[0][k] for k in ("method", "path", "route", "status", "site")},
                         {"method": "POST", "path": PATH, "route": ROUTE, "status": 200, "site": 1})
        self.assertIsInstance(access[0]["duration_ms"], (int, float))
        plugin = [o for o in lines if o.get("request_id") == "real-run-1" and o.get("source") == "backfill"]
        self.assertEqual(len(plugin), 1, lines[-10:])
        self.assertIn("3 sessions given an attempt", plugin[0]["message"])
        for o in lines:  # never a key
            self.assertNotIn("k1", json.dumps(o).replace('"k1"', ""))

    def wait_for_log(self, predicate):
        """Every JSON line of the log, once one matches `predicate` (the access line is written after the
        response's last byte, so it may trail the response a little). Bounded. Only whole lines: a line
        the host is writing meanwhile may be read in part (a write that crosses a page of the file
        shows its first page first), and it is read whole on the next round."""
        for _ in range(500):
            text = self.server.log_text()
            whole = text[:text.rfind("\n") + 1]
            objs = [json.loads(line) for line in whole.splitlines() if line.startswith("{")]
            if any(predicate(o) for o in objs):
                return objs
            time.sleep(0.01)
        self.fail(f"no such log line in: {self.server.log_text()[-2000:]}")


class Drain(unittest.TestCase):
    def test_sigterm_drains_then_exits(self):
        server = Server(["--drain-period", "30"])
        self.addCleanup(server.dir.cleanup)
        try:
            self.assertEqual(server.request("GET", "/readyz")[0], 200)
            server.proc.send_signal(signal.SIGTERM)
            for _ in range(1000):  # bounded: readiness turns at the start of the drain
                status, headers, body = server.request("GET", "/readyz")
                if status == 503:
                    break
                time.sleep(0.01)
            self.assertEqual(status, 503, body)
            self.assertEqual(json.loads(body)["checks"]["draining"], True)
            self.assertEqual(headers.get("connection"), "close")
            # Still serving during the drain: liveness and the plugin's route.
            self.assertEqual(server.request("GET", "/healthz")[0], 200)
            status, headers, _ = server.request("POST", PATH, DRY, AUTH)
            self.assertEqual((status, headers.get("connection")), (200, "close"))
            self.assertIsNone(server.proc.poll())
            # A second SIGTERM ends the drain at once; in-flight requests finish, exit 0.
            server.proc.send_signal(signal.SIGTERM)
            self.assertEqual(server.proc.wait(timeout=60), 0)
        finally:
            server.stop()


class OpsListener(unittest.TestCase):
    """--ops-listen: a second listener, on its own thread, for the operations routes only."""

    def start(self, extra=(), fixture_data=BASE, threads=2):
        server = Server(["--ops-listen", "127.0.0.1:0", *extra], fixture_data=fixture_data, threads=threads)
        self.addCleanup(server.dir.cleanup)
        self.addCleanup(server.stop)
        self.assertNotEqual(server.ops_port, server.port)
        return server

    def test_it_answers_the_operations_routes_only_without_a_key(self):
        server = self.start()
        ops = server.ops_port
        status, headers, body = server.request("GET", "/healthz", port=ops)
        self.assertEqual((status, json.loads(body)), (200, {"status": "ok"}))
        self.assertIn("x-request-id", headers)
        status, _, body = server.request("GET", "/readyz", port=ops)
        self.assertEqual((status, json.loads(body)["status"]), (200, "ready"))
        status, headers, body = server.request("GET", "/metrics", port=ops)
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain; version=0.0.4"))
        self.assertIn("wfp_http_requests_total", body)
        self.assertEqual(server.request("HEAD", "/healthz", port=ops)[:3:2], (200, ""))
        status, headers, _ = server.request("POST", "/readyz", {}, port=ops)
        self.assertEqual((status, headers.get("allow")), (405, "GET, HEAD"))
        # No API there, with a key or without: 404, as for any path it does not have.
        for method, path, headers in (("POST", PATH, AUTH), ("GET", "/api/schedules", AUTH),
                                      ("GET", "/api/openapi.json", {}), ("GET", "/ui/backfill", {})):
            status, body = raw_request(ops, method, path, headers, DRY if method == "POST" else None)
            self.assertEqual((status, json.loads(body)["status"]), (404, 404), (method, path))
        # The main listener still answers the operations routes, and the API.
        self.assertEqual(server.request("GET", "/healthz")[0], 200)
        self.assertEqual(server.request("POST", PATH, DRY, AUTH)[0], 200)

    def test_probes_are_answered_while_the_only_worker_is_busy(self):
        """--threads 1, its worker held by a streamed answer that its client does not read: /healthz on
        the operations port answers within 5 s; on the main port the same request does not."""
        server = self.start(fixture_data=MINUTELY, threads=1)
        held = held_stream(server.port)
        try:
            status, _, body = server.request("GET", "/healthz", port=server.ops_port, timeout=5)
            self.assertEqual((status, json.loads(body)), (200, {"status": "ok"}))
            status, _, _ = server.request("GET", "/readyz", port=server.ops_port, timeout=5)
            self.assertEqual(status, 200)
            with self.assertRaises(socket.timeout):  # TimeoutError: the worker is still busy
                server.request("GET", "/healthz", timeout=5)
        finally:
            held.close()  # the worker's next write fails; it is free again
        self.assertEqual(server.request("GET", "/healthz")[0], 200)

    def test_readiness_on_the_operations_port_turns_503_in_the_drain(self):
        server = self.start(["--drain-period", "30"])
        self.assertEqual(server.request("GET", "/readyz", port=server.ops_port)[0], 200)
        server.proc.send_signal(signal.SIGTERM)
        for _ in range(1000):  # bounded: readiness turns at the start of the drain
            status, _, body = server.request("GET", "/readyz", port=server.ops_port)
            if status == 503:
                break
            time.sleep(0.01)
        self.assertEqual(status, 503, body)
        self.assertEqual(json.loads(body)["checks"]["draining"], True)
        self.assertEqual(server.request("GET", "/readyz")[0], 503)  # as on the main port
        self.assertEqual(server.request("GET", "/healthz", port=server.ops_port)[0], 200)
        server.proc.send_signal(signal.SIGTERM)  # ends the drain: the host stops, both listeners
        self.assertEqual(server.proc.wait(timeout=60), 0)
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", server.ops_port), timeout=5).close()


class JsonLog(unittest.TestCase):
    def test_every_stderr_line_is_json_the_stops_notes_too(self):
        """The stop with a request in flight: the host notes that it closes it (at the drain timeout, or at
        once on a second SIGTERM) as a JSON line like the others, which a log shipper parses."""
        server = Server(fixture_data=MINUTELY)
        self.addCleanup(server.dir.cleanup)
        held = None
        try:
            held = held_stream(server.port)
            server.proc.send_signal(signal.SIGTERM)
            self.assertTrue(wait_refused(server.port))  # the stop began: step 3, finishing
            server.proc.send_signal(signal.SIGTERM)  # closes the request in flight at once
            self.assertEqual(server.proc.wait(timeout=60), 0)
        finally:
            if held:
                held.close()
            server.stop()
        with open(server.log_path) as f:
            lines = f.read().splitlines()
        objects = []
        for line in lines:
            try:
                objects.append(json.loads(line))
            except ValueError:
                self.fail(f"not a JSON line: {line!r} in {lines[-20:]}")
            self.assertIsInstance(objects[-1], dict, line)
        notes = [o for o in objects if "in flight" in o.get("message", "")]
        self.assertEqual(len(notes), 1, lines[-20:])
        for key in ("time", "level", "source", "message"):
            self.assertIn(key, notes[0])
        self.assertIn(notes[0]["level"], ("info", "warn"))
        self.assertRegex(notes[0]["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--plugin", required=True)
    parser.add_argument("--promtool", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
