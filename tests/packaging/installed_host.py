#!/usr/bin/env python3
"""The installed wfp-host works on its own: `cmake --install BUILD --prefix P` into a fresh prefix,
then P/bin/wfp-host's demo, serve, call and plugins find the backfill plugin relative to the
executable (P/lib/wfp/plugins), by bare name (`--plugin backfill`) and through WFP_PLUGIN_PATH,
also after the prefix is moved; P/bin/wfp-plugin-check passes the installed plugin. Runs from an
empty working directory with WFP_PLUGIN_PATH unset, so nothing of the build tree can help.

Usage: installed_host.py --build BUILD_DIR"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request

FIXTURE = {
    "sites": [{"id": 1, "apiKeys": ["k1"]}],
    "projects": [{"id": 1, "siteId": 1, "name": "etl"}],
    "workflows": [{"id": 11, "projectId": 1, "name": "load", "timezone": "Asia/Tokyo",
                   "schedule": {"daily>": "09:00:00"}}],
    "schedules": [{"id": 5, "workflowId": 11, "nextScheduleTime": "2024-01-11T00:00:00+09:00",
                   "nextRunTime": "2024-01-11T00:00:00Z"}],
}
BODY = '{"fromTime":"2024-01-08T00:00:00+09:00","attemptName":"fix","dryRun":true}'
failures = []


def check(ok, what, detail=""):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        print("     " + detail.replace("\n", "\n     "))
        failures.append(what)


def run(args, env, cwd, **kw):
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, **kw)


def started(args, env, cwd):
    """Starts a server on a free port and returns (process, first line, port)."""
    proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    line = proc.stdout.readline().strip()
    port = int(line.rsplit(":", 1)[1]) if line.startswith("listening on http://127.0.0.1:") else 0
    return proc, line, port


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, out, err


def dry_run_over_http(port, key):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/schedules/5/backfill",
                                 data=BODY.encode(), method="POST",
                                 headers={"Authorization": f"Bearer {key}",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, json.loads(r.read())


def check_prefix(prefix, env, cwd, fixture):
    host = os.path.join(prefix, "bin", "wfp-host")
    plugin_dir = os.path.join(prefix, "lib", "wfp", "plugins")

    r = run([host, "plugins"], env, cwd)
    check(r.returncode == 0 and r.stdout.startswith("backfill ")
          and f"from {plugin_dir}/libwfp_backfill.so" in r.stdout
          and "POST /api/schedules/{id}/backfill" in r.stdout,
          f"{prefix}: plugins (no --plugin) lists the installed plugin", r.stdout + r.stderr)
    r = run([host, "plugins", "--plugin", "backfill"], env, cwd)
    check(r.returncode == 0 and r.stdout.startswith("backfill "),
          f"{prefix}: plugins --plugin backfill", r.stdout + r.stderr)

    checker = os.path.join(prefix, "bin", "wfp-plugin-check")
    r = run([checker, os.path.join(plugin_dir, "libwfp_backfill.so")], env, cwd)
    check(r.returncode == 0, f"{prefix}: the installed wfp-plugin-check passes the installed plugin",
          r.stdout + r.stderr)

    r = run([host, "call", "--db", ":memory:", "--plugin", "backfill", "--fixture", fixture,
             "--api-key", "k1", "POST", "/api/schedules/5/backfill", BODY], env, cwd)
    out = json.loads(r.stdout) if r.returncode == 0 else {}
    check(out.get("status") == 200 and len(out.get("body", {}).get("attempts", [])) == 3,
          f"{prefix}: call --plugin backfill gives the three attempts", r.stdout + r.stderr)

    proc, line, port = started([host, "serve", "--db", ":memory:", "--plugin", "backfill",
                                "--fixture", fixture, "--listen", "127.0.0.1:0", "--threads", "1"],
                               env, cwd)
    status, body = dry_run_over_http(port, "k1") if port else (0, {})
    code, _, err = stop(proc)
    check(status == 200 and len(body.get("attempts", [])) == 3 and code == 0,
          f"{prefix}: serve --plugin backfill answers a backfill", f"{line}\n{err}")

    proc, line, port = started([host, "demo", "--listen", "127.0.0.1:0", "--threads", "1"], env, cwd)
    status, banner = 0, ""
    while port:  # the banner ends with "Ctrl-C stops the server."
        text = proc.stdout.readline()
        banner += text
        if not text or text.startswith("Ctrl-C"):
            break
    if port:
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/openapi.json")
        with urllib.request.urlopen(req, timeout=30) as resp:
            status = resp.status
    code, out, err = stop(proc)
    out = banner + out
    check(port != 0 and status == 200 and code == 0 and f"{host} backfill etl daily_load" in out,
          f"{prefix}: demo finds its plugin and prints commands for this wfp-host",
          f"{line}\n{out}\n{err}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    with tempfile.TemporaryDirectory(prefix="wfp-installed-") as tmp:
        prefix = os.path.join(tmp, "prefix")
        cwd = os.path.join(tmp, "empty")
        os.mkdir(cwd)
        env = {k: v for k, v in os.environ.items() if k != "WFP_PLUGIN_PATH"}
        r = run(["cmake", "--install", args.build, "--prefix", prefix], env, cwd)
        check(r.returncode == 0, "cmake --install into a fresh prefix", r.stdout + r.stderr)
        if r.returncode != 0:
            return 1
        fixture = os.path.join(tmp, "fixture.json")
        with open(fixture, "w") as f:
            json.dump(FIXTURE, f)

        check_prefix(prefix, env, cwd, fixture)
        moved = os.path.join(tmp, "moved")
        shutil.move(prefix, moved)
        check_prefix(moved, env, cwd, fixture)

        host = os.path.join(moved, "bin", "wfp-host")
        installed = os.path.join(moved, "lib", "wfp", "plugins", "libwfp_backfill.so")
        extra, other = os.path.join(tmp, "extra"), os.path.join(tmp, "other")
        os.mkdir(extra)
        os.mkdir(other)
        shutil.copy(installed, os.path.join(extra, "libwfp_copy.so"))
        shutil.copy(installed, os.path.join(other, "libwfp_backfill.so"))
        env_path = dict(env, WFP_PLUGIN_PATH=f"{extra}:{other}")
        r = run([host, "plugins", "--plugin", "copy"], env_path, cwd)
        check(r.returncode == 0 and f"from {extra}/libwfp_copy.so" in r.stdout,
              "WFP_PLUGIN_PATH: --plugin copy finds libwfp_copy.so there", r.stdout + r.stderr)
        r = run([host, "plugins", "--plugin", "backfill"], env_path, cwd)
        check(r.returncode == 0 and f"from {other}/libwfp_backfill.so" in r.stdout,
              "WFP_PLUGIN_PATH comes before the installation's plugin directory",
              r.stdout + r.stderr)
        r = run([host, "plugins"], dict(env, WFP_PLUGIN_PATH=other), cwd)
        check(r.returncode == 0 and r.stdout.count("POST /api/schedules/{id}/backfill") == 1
              and f"from {other}/libwfp_backfill.so" in r.stdout
              and f"{other}/libwfp_backfill.so" in r.stderr and "is hidden by" in r.stderr,
              "plugins lists each file name once: WFP_PLUGIN_PATH's copy hides the installed one "
              "(a warning names both)",
              r.stdout + r.stderr)
        r = run([host, "demo", "--plugin", "nosuch", "--listen", "127.0.0.1:0"], env, cwd)
        check(r.returncode == 1 and "no plugin 'nosuch'" in r.stderr
              and "WFP_PLUGIN_PATH" in r.stderr and "cmake" not in r.stderr,
              "an unknown --plugin name: a message for an installed program", r.stderr)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
