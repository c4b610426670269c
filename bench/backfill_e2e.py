#!/usr/bin/env python3
"""End-to-end figures for a large backfill, in one run, against the SQLite floor measured on the same
machine in the same run. Prints every figure and ratio; medians of --runs runs, fresh database each.

  real      wfp-host call: a real backfill of N minutes_interval>: 1 sessions (seed excluded)
  dry       the same request with dryRun true
  floor     bench/floor: the same rows (a session and an attempt each, same schema and unique
            indexes) inserted with prepared statements in one transaction into SQLite
  growth    dry runs of 10k, 100k and 1M sessions (size guard raised): cost per session
  http      (if wrk is installed) count:1 dry-run backfills against a 404 on the same server

Usage: bench/backfill_e2e.py [--build build] [--n 100000] [--runs 3]"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

T0 = 1577836800  # 2020-01-01T00:00:00Z


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def fixture(n):
    pointer = iso(T0 + n * 60)
    return {
        "sites": [{"id": 1, "apiKeys": ["bench-key"]}],
        "projects": [{"id": 1, "siteId": 1, "name": "bench"}],
        "workflows": [{"id": 11, "projectId": 1, "name": "minutely", "timezone": "UTC",
                       "schedule": {"minutes_interval>": 1}}],
        "schedules": [{"id": 5, "workflowId": 11, "nextScheduleTime": pointer, "nextRunTime": pointer,
                       "lastSessionTime": None, "disabledAt": None}],
    }


def timed(cmd):
    """Wall seconds and peak RSS (KiB) of one command, by /usr/bin/time -v."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        start = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-v", "-o", tf.name] + cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        wall = time.perf_counter() - start
        report = open(tf.name).read()
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd[:4])}...\n{p.stderr.decode()[-2000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", report).group(1))
    return wall, rss, p.stdout


def run_backfill(host, plugin, n, dry, workdir, settings=()):
    db = os.path.join(workdir, f"b{n}{'d' if dry else 'r'}.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)
    fx = os.path.join(workdir, f"fixture{n}.json")
    with open(fx, "w") as f:
        json.dump(fixture(n), f)
    subprocess.run([host, "seed", "--db", db, fx], check=True)
    body = json.dumps({"fromTime": iso(T0), "attemptName": "bench", "dryRun": dry})
    cmd = [host, "call", "--db", db, "--plugin", plugin, "--now", iso(T0 + n * 60 + 3600), "--api-key", "bench-key",
           "--header", "Content-Type: application/json"]
    for s in settings:
        cmd += ["--setting", s]
    wall, rss, out = timed(cmd + ["POST", "/api/schedules/5/backfill", body])
    status = json.loads(out)["status"]  # parsed after the timing
    if status != 200:
        sys.exit(f"backfill of {n} answered {status}: {out[:500]!r}")
    return wall, rss


def median_runs(fn, runs):
    results = [fn() for _ in range(runs)]
    return statistics.median(r[0] for r in results), statistics.median(r[1] for r in results)


def http_figures(host, plugin, workdir, duration):
    wrk = shutil.which("wrk")
    if not wrk:
        print("http: wrk not installed (apt-get install wrk); skipped")
        return
    db = os.path.join(workdir, "http.db")
    fx = os.path.join(workdir, "fixture-http.json")
    with open(fx, "w") as f:
        json.dump(fixture(1000), f)
    proc = subprocess.Popen([host, "serve", "--db", db, "--plugin", plugin, "--fixture", fx, "--listen", "127.0.0.1:0",
                             "--now", iso(T0 + 1000 * 60 + 3600)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline().strip()
        url = line.removeprefix("listening on ")
        lua = os.path.join(workdir, "post.lua")
        with open(lua, "w") as f:
            body = json.dumps({"fromTime": iso(T0), "attemptName": "bench", "dryRun": True, "count": 1})
            f.write('wrk.method = "POST"\n'
                    f"wrk.body = {json.dumps(body)}\n"
                    'wrk.headers["Content-Type"] = "application/json"\n'
                    'wrk.headers["Authorization"] = "Bearer bench-key"\n')
        results = {}
        for name, path in (("404", "/api/nothing-here"), ("backfill count:1 dry run", "/api/schedules/5/backfill")):
            out = subprocess.run([wrk, "-t2", "-c16", f"-d{duration}s", "--latency", "-s", lua, url + path],
                                 capture_output=True, text=True, check=True).stdout
            rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
            p50 = re.search(r"50%\s+([\d.]+\w+)", out).group(1)
            p99 = re.search(r"99%\s+([\d.]+\w+)", out).group(1)
            results[name] = rps
            print(f"http {name:26s} {rps:10.0f} req/s   p50 {p50:>8s}   p99 {p99:>8s}")
        print(f"http ratio backfill/404: {results['backfill count:1 dry run'] / results['404']:.2f} (target >= 0.70)")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--growth", action="store_true", help="also 10k/100k/1M dry runs")
    ap.add_argument("--http", type=int, default=0, help="seconds of wrk per endpoint (0: skip)")
    args = ap.parse_args()
    host = os.path.join(args.build, "bin", "wfp-host")
    plugin = os.path.join(args.build, "lib", "libwfp_backfill.so")
    floor = os.path.join(args.build, "bin", "wfp_sqlite_floor")
    n = args.n
    with tempfile.TemporaryDirectory() as workdir:
        def floor_run():
            db = os.path.join(workdir, "floor.db")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(db + suffix):
                    os.unlink(db + suffix)
            wall, rss, _ = timed([floor, "--db", db, "--rows", str(n)])
            return wall, rss

        print(f"machine: {os.cpu_count()} cores; n = {n} sessions; medians of {args.runs} runs, fresh database each")
        floor_wall, floor_rss = median_runs(floor_run, args.runs)
        real_wall, real_rss = median_runs(lambda: run_backfill(host, plugin, n, False, workdir), args.runs)
        dry_wall, dry_rss = median_runs(lambda: run_backfill(host, plugin, n, True, workdir), args.runs)
        print(f"floor  {floor_wall:8.3f} s   peak RSS {floor_rss / 1024:7.1f} MiB   ({n / floor_wall:,.0f} sessions/s)")
        print(f"real   {real_wall:8.3f} s   peak RSS {real_rss / 1024:7.1f} MiB   ({n / real_wall:,.0f} sessions/s)")
        print(f"dry    {dry_wall:8.3f} s   peak RSS {dry_rss / 1024:7.1f} MiB   ({n / dry_wall:,.0f} sessions/s)")
        print(f"ratio real/floor {real_wall / floor_wall:.2f} (target <= 2.0, stretch 1.5)")
        print(f"ratio dry/floor  {dry_wall / floor_wall:.2f} (target <= 0.5)")
        print(f"peak RSS real    {real_rss / 1024:.1f} MiB (target <= 256 MiB)")
        if args.growth:
            per = {}
            for size in (10000, 100000, 1000000):
                wall, rss = median_runs(
                    lambda: run_backfill(host, plugin, size, True, workdir, ["backfill.max_sessions=2000000"]), args.runs)
                per[size] = wall / size
                print(f"growth dry {size:>8,}  {wall:8.3f} s  {1e6 * wall / size:7.2f} us/session  peak RSS {rss / 1024:7.1f} MiB")
            print(f"growth ratio per session 1M/10k {per[1000000] / per[10000]:.2f}, 100k/10k {per[100000] / per[10000]:.2f} (target <= 1.5)")
        if args.http:
            http_figures(host, plugin, workdir, args.http)


if __name__ == "__main__":
    main()
