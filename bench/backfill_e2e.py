#!/usr/bin/env python3
"""End-to-end figures for a large backfill, in one run, against each store's floor measured on the same
machine in the same run. Prints every figure and ratio; medians of --runs runs, fresh database each.

  real      wfp-host call: a real backfill of N minutes_interval>: 1 sessions (seed excluded)
  dry       the same request with dryRun true
  floor     bench/floor: the same rows (a session and an attempt each, same schema and unique
            indexes) written in one transaction: SQLite with prepared statements, PostgreSQL with
            ids from the sequences and one COPY per table
  growth    dry runs of 10k, 100k and 1M sessions (size guard raised): cost per session
  http      (if wrk is installed) count:1 dry-run backfills against a 404 on the same server

The SQLite figures come first; then, unless --postgres off, the same figures on PostgreSQL: on a
throwaway cluster that scripts/pg-cluster.sh starts in a temporary folder (--postgres auto, with
fsync and synchronous_commit on, as a real server has them), or on the database a libpq URL names
(--postgres URL; each run makes and drops a schema in it).

Usage: bench/backfill_e2e.py [--build build] [--n 100000] [--runs 3] [--postgres auto|off|URL]"""
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
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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


class SqliteStores:
    """Fresh SQLite files in `workdir`."""
    name = "sqlite"

    def __init__(self, workdir):
        self.workdir = workdir

    def fresh(self, label):
        db = os.path.join(self.workdir, f"{label}.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.unlink(db + suffix)
        return db


class PostgresStores:
    """Fresh schemas in the database at `url` (each --db is the URL with search_path set)."""
    name = "postgresql"

    def __init__(self, url):
        self.url = url
        self.schemas = []

    def psql(self, sql):
        subprocess.run(["psql", "-qX", "-v", "ON_ERROR_STOP=1", self.url, "-c", f"SET client_min_messages = warning; {sql}"],
                       check=True, stdout=subprocess.DEVNULL)

    def fresh(self, label):
        schema = f"bench_{label}_{uuid.uuid4().hex[:8]}"
        self.psql(f'CREATE SCHEMA "{schema}"')
        self.schemas.append(schema)
        sep = "&" if "?" in self.url else "?"
        return f"{self.url}{sep}options=-csearch_path%3D{schema}"

    def drop_all(self):
        for schema in self.schemas:
            self.psql(f'DROP SCHEMA "{schema}" CASCADE')
        self.schemas = []


def run_backfill(host, plugin, n, dry, workdir, stores, settings=()):
    db = stores.fresh(f"b{n}{'d' if dry else 'r'}")
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


def http_figures(host, plugin, workdir, stores, duration):
    wrk = shutil.which("wrk")
    if not wrk:
        print("http: wrk not installed (apt-get install wrk); skipped")
        return
    db = stores.fresh("http")
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


def figures(args, host, plugin, workdir, stores, floor):
    n = args.n
    tag = f"[{stores.name}]"

    def floor_run():
        wall, rss, _ = timed([floor, "--db", stores.fresh("floor"), "--rows", str(n)])
        return wall, rss

    floor_wall, floor_rss = median_runs(floor_run, args.runs)
    real_wall, real_rss = median_runs(lambda: run_backfill(host, plugin, n, False, workdir, stores), args.runs)
    dry_wall, dry_rss = median_runs(lambda: run_backfill(host, plugin, n, True, workdir, stores), args.runs)
    print(f"{tag} floor  {floor_wall:8.3f} s   peak RSS {floor_rss / 1024:7.1f} MiB   ({n / floor_wall:,.0f} sessions/s)")
    print(f"{tag} real   {real_wall:8.3f} s   peak RSS {real_rss / 1024:7.1f} MiB   ({n / real_wall:,.0f} sessions/s)")
    print(f"{tag} dry    {dry_wall:8.3f} s   peak RSS {dry_rss / 1024:7.1f} MiB   ({n / dry_wall:,.0f} sessions/s)")
    print(f"{tag} ratio real/floor {real_wall / floor_wall:.2f} (target <= 2.0, stretch 1.5)")
    print(f"{tag} ratio dry/floor  {dry_wall / floor_wall:.2f} (target <= 0.5)")
    print(f"{tag} peak RSS real    {real_rss / 1024:.1f} MiB (target <= 256 MiB)")
    if args.growth:
        per = {}
        for size in (10000, 100000, 1000000):
            wall, rss = median_runs(
                lambda: run_backfill(host, plugin, size, True, workdir, stores, ["backfill.max_sessions=2000000"]),
                args.runs)
            per[size] = wall / size
            print(f"{tag} growth dry {size:>8,}  {wall:8.3f} s  {1e6 * wall / size:7.2f} us/session  peak RSS {rss / 1024:7.1f} MiB")
        print(f"{tag} growth ratio per session 1M/10k {per[1000000] / per[10000]:.2f}, "
              f"100k/10k {per[100000] / per[10000]:.2f} (target <= 1.5)")
    if args.http:
        http_figures(host, plugin, workdir, stores, args.http)
    return real_wall, dry_wall


def start_durable_cluster(workdir):
    """A throwaway cluster (scripts/pg-cluster.sh) with durability on again: the script turns fsync,
    synchronous_commit and full_page_writes off for tests; a benchmark measures a real server."""
    folder = tempfile.mkdtemp(prefix="wfp-pgb-", dir="/tmp")
    script = os.path.join(ROOT, "scripts", "pg-cluster.sh")
    url = subprocess.run([script, "start", folder], check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    for setting in ("fsync = on", "synchronous_commit = on", "full_page_writes = on"):
        subprocess.run(["psql", "-qX", url, "-c", f"ALTER SYSTEM SET {setting}"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["psql", "-qX", url, "-c", "SELECT pg_reload_conf()"], check=True, stdout=subprocess.DEVNULL)
    return folder, url


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--growth", action="store_true", help="also 10k/100k/1M dry runs")
    ap.add_argument("--http", type=int, default=0, help="seconds of wrk per endpoint (0: skip)")
    ap.add_argument("--postgres", default="auto",
                    help="auto: a throwaway cluster if the server is installed; off; or a libpq URL")
    args = ap.parse_args()
    host = os.path.join(args.build, "bin", "wfp-host")
    plugin = os.path.join(args.build, "lib", "libwfp_backfill.so")
    with tempfile.TemporaryDirectory() as workdir:
        print(f"machine: {os.cpu_count()} cores; n = {args.n} sessions; medians of {args.runs} runs, fresh database each")
        sqlite = figures(args, host, plugin, workdir, SqliteStores(workdir),
                         os.path.join(args.build, "bin", "wfp_sqlite_floor"))
        if args.postgres == "off":
            return
        pg_floor = os.path.join(args.build, "bin", "wfp_pg_floor")
        if not os.path.exists(pg_floor):
            print("postgresql: wfp_pg_floor not built (libpq missing?); skipped")
            return
        folder = None
        url = args.postgres
        if url == "auto":
            if not shutil.which("psql"):
                print("postgresql: psql not installed (scripts/install-deps.sh installs it); skipped")
                return
            folder, url = start_durable_cluster(workdir)
        stores = PostgresStores(url)
        try:
            pg = figures(args, host, plugin, workdir, stores, pg_floor)
            print(f"postgresql/sqlite: real {pg[0] / sqlite[0]:.2f}x, dry {pg[1] / sqlite[1]:.2f}x the SQLite wall time")
        finally:
            stores.drop_all()
            if folder:
                subprocess.run([os.path.join(ROOT, "scripts", "pg-cluster.sh"), "stop", folder], check=False,
                               stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
