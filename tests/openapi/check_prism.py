#!/usr/bin/env python3
"""Prism (Stoplight) as a validating proxy between a client and a real `wfp-host serve`: real traffic
(200 dry and real runs, If-Match, skipExisting, advance, 400, 401, 404, 409, 412, the document itself,
the host's routes and their 400s, the backfill page)
must give zero violations against openapi/openapi.json; the same traffic through a deliberately broken
copy of the document must give violations, so a Prism that validates nothing cannot pass.

Prism reports what it finds in an `sl-violations` response header (and its log).
Usage: check_prism.py --host wfp-host --plugin SO --modules DIR [--openapi FILE] [--node node]"""
import argparse
import copy
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from serve_fixture import Served, free_port  # noqa: E402

PATH = "/api/schedules/5/backfill"
EX = {"fromTime": "2024-01-08T00:00:00+09:00", "attemptName": "fix", "dryRun": True}


class Prism:
    def __init__(self, node, modules, document, upstream):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [node, os.path.join(modules, "node_modules", ".bin", "prism"), "proxy", document, upstream,
             "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # ready once it answers on its port
            if self.proc.poll() is not None:
                raise SystemExit(f"prism exited {self.proc.returncode}: {self.proc.stdout.read()}")
            try:
                self.request("GET", "/api/openapi.json")
                return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise SystemExit("prism did not start within 120 s")

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        c.request(method, path, None if body is None else json.dumps(body), headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def stop(self):
        self.proc.terminate()
        try:
            return self.proc.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.communicate()[0]


def traffic(prism):
    """Sends the same requests every run; returns [(label, status, violations)]."""
    auth = {"Authorization": "Bearer k1", "Content-Type": "application/json"}
    out = []

    def send(label, expect, body=None, path=PATH, headers=auth, method="POST"):
        status, h, data = prism.request(method, path, body, headers)
        violations = json.loads(h["sl-violations"]) if "sl-violations" in h else []
        if status != expect:
            raise SystemExit(f"{label}: status {status}, expected {expect}: {data[:300]!r} {violations}")
        out.append((label, status, violations))
        return h

    etag = send("200 dry run", 200, EX).get("etag")
    send("200 real run with If-Match", 200, dict(EX, dryRun=False), headers=dict(auth, **{"If-Match": etag}))
    send("409 the same again", 409, dict(EX, dryRun=False))
    send("200 skipExisting", 200, dict(EX, dryRun=True, skipExisting=True, attemptName="other"))
    send("200 advance", 200, {"dryRun": True, "skipExisting": True, "advanceSchedule": True})
    send("412 stale If-Match", 412, dict(EX, attemptName="x", dryRun=False),
         headers=dict(auth, **{"If-Match": '"0000000000000000"'}))
    send("400 count beyond the candidates", 400, dict(EX, attemptName="y", count=50))
    send("401 unknown key", 401, EX, headers=dict(auth, Authorization="Bearer nope"))
    send("404 no such schedule", 404, EX, path="/api/schedules/99/backfill")
    send("200 the document", 200, method="GET", path="/api/openapi.json", headers={})
    # The host's own routes, and what the host answers before any handler runs.
    send("200 the schedules", 200, method="GET", path="/api/schedules", headers=auth)
    send("400 ambiguous credentials", 400, method="GET", path="/api/schedules",
         headers={"Authorization": "Bearer k1", "X-API-Key": "k2"})
    send("400 an unknown query parameter", 400, method="GET", path="/api/projects?nme=etl", headers=auth)
    send("200 the backfill page", 200, method="GET", path="/ui/backfill", headers={})
    return out


def broken(document):
    """A copy whose 200 response requires a field the server never sends."""
    d = copy.deepcopy(document)
    d["components"]["schemas"]["BackfillResponse"]["required"].append("neverSent")
    d["components"]["schemas"]["Error"]["properties"]["status"]["maximum"] = 401
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--modules", required=True)
    ap.add_argument("--openapi", default=os.path.join(HERE, "..", "..", "openapi", "openapi.json"))
    ap.add_argument("--node", default="node")
    a = ap.parse_args()
    with open(a.openapi) as f:
        document = json.load(f)
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        broken_path = os.path.join(tmp, "broken.json")
        with open(broken_path, "w") as f:
            json.dump(broken(document), f)
        for name, path, want_violations in (("document", os.path.abspath(a.openapi), False),
                                            ("broken copy", broken_path, True)):
            with Served(a.host, a.plugin) as upstream:
                prism = Prism(a.node, a.modules, path, upstream)
                try:
                    results = traffic(prism)
                finally:
                    log = prism.stop()
            flagged = [(label, v) for label, _, v in results if v]
            print(f"check_prism: {name}: {len(results)} exchanges, {len(flagged)} with violations")
            if want_violations and len(flagged) < 2:
                problems.append(f"Prism found too little in the broken copy ({flagged}): it validates nothing?")
            if not want_violations:
                for label, v in flagged:
                    problems.append(f"{label}: {json.dumps(v)[:500]}")
                if flagged:
                    sys.stderr.write(log[-4000:])
    for p in problems:
        print(f"check_prism: FAIL {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
