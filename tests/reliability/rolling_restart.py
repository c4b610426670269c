#!/usr/bin/env python3
"""A rolling restart behind a real haproxy, under traffic, with no failed request (issue 18).

Two `wfp-host serve` on one PostgreSQL database (a schema of the tests' throwaway cluster, tests/e2e/wfp.py)
behind haproxy (Debian's), whose health check is GET /readyz. A bounded, steady stream of requests goes
through haproxy (dry-run and real backfills, each expected to answer 200) while host A is stopped with
SIGTERM and started again on its port, then host B. Each host drains (--drain-period): /readyz answers 503
and haproxy takes it out before it stops accepting. The test passes when not one request failed (a
status other than 200, or a connection error), requests were served all along, and each restarted host
served requests again.

Every port is a free loopback port picked at start; haproxy's configuration, its stats socket and the logs
are in a temporary folder. The stream is bounded in count and time; nothing is timed."""
import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import wfp  # noqa: E402
from route_examples_test import BASE, NOW  # noqa: E402

ARGS = None
PATH = "/api/schedules/5/backfill"
AUTH = {"Authorization": "Bearer k1", "Content-Type": "application/json"}
DRAIN_SECONDS = "3"   # well above haproxy's inter x fall below (100 ms x 2)
MAX_REQUESTS = 20000  # the stream's bounds
MAX_SECONDS = 600

HAPROXY_CFG = """global
    maxconn 256
    stats socket {dir}/haproxy.sock mode 600 level admin

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout check 2s
    retries 3
    option redispatch

frontend wfp
    bind 127.0.0.1:{port}
    default_backend wfp_hosts

backend wfp_hosts
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 100ms fall 2 rise 2
    server a 127.0.0.1:{port_a} check
    server b 127.0.0.1:{port_b} check
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Host:
    """One `wfp-host serve` on a fixed (free) port, restartable; stderr appended to a log file."""

    def __init__(self, name, db, port, logdir):
        self.name, self.db, self.port = name, db, port
        self.log_path = os.path.join(logdir, f"{name}.log")
        self.proc = None
        self.starts = 0

    def start(self):
        self.starts += 1
        with open(self.log_path, "a") as log:
            log.write(f"--- start {self.starts}\n")
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [ARGS.host, "serve", "--db", self.db, "--plugin", ARGS.plugin, "--listen", f"127.0.0.1:{self.port}",
             "--now", NOW, "--threads", "2", "--drain-period", DRAIN_SECONDS],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline().strip()
        if line != f"listening on http://127.0.0.1:{self.port}":
            self.proc.kill()
            raise RuntimeError(f"{self.name}: unexpected first line {line!r}: {self.log_text()[-1500:]}")

    def stop(self):
        """SIGTERM: drains, finishes what is in flight, exits 0."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=120)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=30)
            self.proc.stdout.close()
            self.log.close()
        return rc

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def backfills_since_last_start(self):
        text = self.log_text().rsplit(f"--- start {self.starts}\n", 1)[-1]
        return sum(1 for line in text.splitlines() if line.startswith(f"POST {PATH} 200 "))


class Haproxy:
    def __init__(self, tmp, port, port_a, port_b):
        self.dir = tmp
        self.port = port
        cfg = os.path.join(tmp, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(HAPROXY_CFG.format(dir=tmp, port=port, port_a=port_a, port_b=port_b))
        check = subprocess.run([ARGS.haproxy, "-c", "-f", cfg], capture_output=True, text=True, timeout=60)
        if check.returncode != 0:
            raise RuntimeError(f"haproxy -c: {check.stdout}{check.stderr}")
        self.log = open(os.path.join(tmp, "haproxy.log"), "w")
        self.proc = subprocess.Popen([ARGS.haproxy, "-db", "-f", cfg], stdout=self.log, stderr=subprocess.STDOUT)

    def states(self):
        """{server name: status} from the stats socket ("UP", "DOWN", "UP 1/2", ...)."""
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(os.path.join(self.dir, "haproxy.sock"))
            s.sendall(b"show stat\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        lines = data.decode().splitlines()
        header = lines[0].lstrip("# ").split(",")
        out = {}
        for line in lines[1:]:
            row = dict(zip(header, line.split(",")))
            if row.get("pxname") == "wfp_hosts" and row.get("svname") in ("a", "b"):
                out[row["svname"]] = row["status"]
        return out

    def wait_state(self, server, want, limit=120.0):
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                if self.states().get(server) == want:
                    return
            except OSError:
                pass  # the socket is not there yet
            time.sleep(0.05)
        raise RuntimeError(f"haproxy never saw server {server} {want}: {self.states()}")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.log.close()


class Stream:
    """Workers sending requests through haproxy, one at a time each, on keep-alive connections."""

    def __init__(self, port, workers=2):
        self.port = port
        self.lock = threading.Lock()
        self.ok = 0
        self.failures = []
        self.sent = 0
        self.stop_flag = threading.Event()
        self.threads = [threading.Thread(target=self.work, args=(i,), daemon=True) for i in range(workers)]

    def start(self):
        for t in self.threads:
            t.start()

    def body(self, worker, n):
        if n % 10 == 0:  # a real backfill of one session, a new attempt name each time
            return {"fromTime": "2024-01-08T00:00:00+09:00", "count": 1, "dryRun": False,
                    "attemptName": f"roll-{worker}-{n}"}
        return {"fromTime": "2024-01-08T00:00:00+09:00", "count": 1, "attemptName": "roll", "dryRun": True}

    def work(self, worker):
        conn = None
        n = 0
        deadline = time.monotonic() + MAX_SECONDS
        while not self.stop_flag.is_set() and time.monotonic() < deadline:
            with self.lock:
                if self.sent >= MAX_REQUESTS:
                    return
                self.sent += 1
            n += 1
            try:
                conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                conn.request("POST", PATH, json.dumps(self.body(worker, n)), AUTH)
                r = conn.getresponse()
                data = r.read()
                with self.lock:
                    if r.status == 200:
                        self.ok += 1
                    else:
                        self.failures.append(f"{r.status} {data[:200]!r}")
                if r.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                with self.lock:
                    self.failures.append(f"{type(e).__name__}: {e}")
                if conn:
                    conn.close()
                conn = None
            time.sleep(0.01)  # a steady stream, not a flood: the machine is shared

    def served(self):
        with self.lock:
            return self.ok

    def wait_for_more(self, count, limit=120.0):
        target = self.served() + count
        deadline = time.monotonic() + limit
        while self.served() < target and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.served() < target:
            raise RuntimeError(f"the stream stalled at {self.served()} answers")

    def finish(self):
        self.stop_flag.set()
        for t in self.threads:
            t.join(timeout=120)


def main():
    if not wfp.on_postgres():
        print("rolling_restart: needs WFP_TEST_STORE=postgresql and WFP_TEST_POSTGRES_URL", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        db = wfp.new_store(os.path.join(tmp, "wfp.db"))
        fixture = os.path.join(tmp, "fixture.json")
        with open(fixture, "w") as f:
            json.dump(BASE, f)
        subprocess.run([ARGS.host, "seed", "--db", db, fixture], check=True, timeout=300)
        hosts = [Host("a", db, free_port(), tmp), Host("b", db, free_port(), tmp)]
        proxy = None
        stream = None
        try:
            for h in hosts:
                h.start()
            proxy = Haproxy(tmp, free_port(), hosts[0].port, hosts[1].port)
            for h in hosts:
                proxy.wait_state(h.name, "UP")
            stream = Stream(proxy.port)
            stream.start()
            stream.wait_for_more(100)
            for h in hosts:
                before = stream.served()
                rc = h.stop()
                if rc != 0:
                    raise RuntimeError(f"host {h.name} exited {rc} after SIGTERM: {h.log_text()[-1500:]}")
                stream.wait_for_more(50)  # the other host serves alone meanwhile
                h.start()
                proxy.wait_state(h.name, "UP")
                stream.wait_for_more(200)
                print(f"host {h.name}: restarted; {stream.served() - before} answers through the restart, "
                      f"{h.backfills_since_last_start()} of them by the restarted host so far")
            stream.finish()
        finally:
            if stream:
                stream.finish()
            if proxy:
                proxy.stop()
            for h in hosts:
                if h.proc and h.proc.poll() is None:
                    h.stop()
        served_again = {h.name: h.backfills_since_last_start() for h in hosts}
        print(f"rolling_restart: {stream.ok} requests answered 200, {len(stream.failures)} failed; "
              f"backfills served by each host after its restart: {served_again}")
        if stream.failures:
            print("failures (first 20):\n  " + "\n  ".join(stream.failures[:20]), file=sys.stderr)
            return 1
        if not all(served_again.values()):
            print("a restarted host got no traffic back", file=sys.stderr)
            return 1
        return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--plugin", required=True)
    parser.add_argument("--haproxy", required=True)
    ARGS = parser.parse_args()
    sys.exit(main())
