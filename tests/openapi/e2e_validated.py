#!/usr/bin/env python3
"""Runs one end-to-end suite of tests/e2e unchanged, records every HTTP response it receives (with the
request body it answered), and validates them all against openapi/openapi.json with
validate_response.mjs (ajv) at the end: each response against its status's schema, and each request
body the server accepted (2xx) against the request schema.

Responses are recorded where the suites receive them: wfp.Host.call (the `wfp-host call` suites) and
http.client (the suites that talk to `wfp-host serve`). The suite's own verdict stands: the exit status
is non-zero when the suite fails, when any response does not validate, or when nothing was recorded.

Usage: e2e_validated.py --modules DIR [--openapi FILE] [--node node] [--out FILE] -- SUITE.py ARGS..."""
import argparse
import http.client
import json
import os
import runpy
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
_records = []
_problems = []  # responses whose body is not UTF-8 JSON where it must be
_lock = threading.Lock()


def _check_json_body(method, path, status, content_type, body):
    """Every error body, and every body sent as application/json, must be valid UTF-8 JSON (issue 14).
    `body` is bytes (from a socket) or what `wfp-host call` printed (a str when it was not JSON)."""
    if method == "HEAD" or (status < 400 and "json" not in (content_type or "")):
        return
    why = None
    if isinstance(body, bytes):
        try:
            json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            why = str(e)
    elif isinstance(body, str):
        why = "the host printed it as a string: it is not JSON"
    if why:
        with _lock:
            _problems.append(f"{method} {path[:100]} -> {status}: body is not UTF-8 JSON ({why})")


def _parse(body):
    if not isinstance(body, (bytes, str, dict, list)):
        return None  # a body sent from an iterator (chunked) is not recorded
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            return json.loads(body)
        except ValueError:
            return body
    return body


def _record(method, path, status, headers, body, request=None):
    record = {"method": method, "path": path, "status": status, "headers": headers, "body": body}
    if request is not None and (parsed := _parse(request)) is not None:
        record["request"] = parsed
    with _lock:
        _records.append(record)


def _install_hooks(e2e_dir):
    sys.path.insert(0, e2e_dir)
    import wfp  # the very module the suites import (same name, same file)

    original_call = wfp.Host.call

    def call(self, db, method, path, body=None, *args, **kwargs):
        resp = original_call(self, db, method, path, body, *args, **kwargs)
        _check_json_body(method, path, resp["status"], resp.get("headers", {}).get("content-type"),
                         resp.get("body"))
        _record(method, path, resp["status"], resp.get("headers", {}), resp.get("body"), body)
        return resp

    wfp.Host.call = call

    original_request = http.client.HTTPConnection.request
    original_getresponse = http.client.HTTPConnection.getresponse

    def request(self, method, url, body=None, *args, **kwargs):
        self._wfp_last_request = (method, url, body)
        return original_request(self, method, url, body, *args, **kwargs)

    def getresponse(self):
        resp = original_getresponse(self)
        method, url, sent = getattr(self, "_wfp_last_request", ("?", "?", None))
        original_read = resp.read

        def read(amt=None):
            data = original_read(amt)
            if amt is None and method != "HEAD":
                headers = {k.lower(): v for k, v in resp.getheaders()}
                _check_json_body(method, url, resp.status, headers.get("content-type"), data)
                text = data.decode("utf-8", "replace")
                try:
                    body = json.loads(text) if text else None
                except ValueError:
                    body = text
                _record(method, url, resp.status, headers, body, sent)
            return data

        resp.read = read
        return resp

    http.client.HTTPConnection.request = request
    http.client.HTTPConnection.getresponse = getresponse


def main():
    argv = sys.argv[1:]
    if "--" not in argv:
        print(__doc__, file=sys.stderr)
        return 2
    split = argv.index("--")
    ap = argparse.ArgumentParser()
    ap.add_argument("--modules", required=True)
    ap.add_argument("--openapi", default=os.path.join(HERE, "..", "..", "openapi", "openapi.json"))
    ap.add_argument("--node", default="node")
    ap.add_argument("--out")
    a = ap.parse_args(argv[:split])
    suite, suite_args = argv[split + 1], argv[split + 2:]

    _install_hooks(os.path.dirname(os.path.abspath(suite)))
    sys.argv = [suite] + suite_args
    suite_status = 0
    try:
        runpy.run_path(suite, run_name="__main__")
    except SystemExit as e:
        suite_status = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)

    jsonl = "".join(json.dumps(r) + "\n" for r in _records)
    if a.out:
        with open(a.out, "w") as f:
            f.write(jsonl)
    statuses = sorted({r["status"] for r in _records})
    print(f"e2e_validated: {os.path.basename(suite)} exited {suite_status}; {len(_records)} responses "
          f"recorded (statuses {statuses})", file=sys.stderr)
    for problem in _problems:
        print(f"e2e_validated: FAIL {problem}", file=sys.stderr)
    if _problems:
        return 1
    if not _records:
        print("e2e_validated: no response recorded: the hooks missed the suite's requests", file=sys.stderr)
        return 1
    p = subprocess.run([a.node, os.path.join(HERE, "validate_response.mjs"), "--openapi", a.openapi,
                        "--modules", a.modules], input=jsonl, capture_output=True, text=True)
    sys.stderr.write(p.stdout + p.stderr)
    return 1 if suite_status or p.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
