#!/usr/bin/env python3
"""End-to-end figures for a large backfill, in one run, against each store's floor measured on the same
machine in the same run. Prints every figure and ratio; medians of --runs runs, fresh database each.

  real      wfp-host call: a real backfill of N minutes_interval>: 1 sessions (seed excluded)
  dry       the same request with dryRun true
  floor     bench/floor: the same rows (a session and an attempt each, same schema and unique
            indexes) written in one transaction: SQLite with prepared statements, PostgreSQL with
            ids from the sequences and one COPY per table
  growth    dry and real runs of 10k and 1M sessions (and a 100k dry run; size guard raised): time
            per session at 1M against 10k, and peak RSS
  http      (if wrk is installed) count:1 dry-run backfills against a 404 on the same server (--runs
            pairs, back to back; the median of the pairs' ratios), then a
            mixed load: dry runs, real backfills of four other schedules, and requests that get 409;
            the server has 2 worker threads; on PostgreSQL, where a handler waits for the database,
            the same figures again with 4 threads per core (docs/operations.md); for each run, the
            CPU per request of the server, the database (processes named postgres on this machine),
            wrk and the whole machine (CpuMeter); on PostgreSQL, the ratio a host would reach that
            did nothing for a dry run beyond a 404's work and the database's (as measured under load)
  ceiling   (PostgreSQL, if pgbench is installed) the database alone running a count:1 dry run's
            statements, against the 404's rate: what the database's share of the cores leaves; and
            the database's CPU per statement without HTTP or the host
  summary   at the end, every figure against its target as a Markdown table (the README's)

The SQLite figures come first; then, unless --postgres off, the same figures on PostgreSQL: on a
throwaway cluster that scripts/pg-cluster.sh starts in a temporary folder (--postgres auto, with
fsync and synchronous_commit on, as a real server has them), or on the database a libpq URL names
(--postgres URL; each run makes and drops a schema in it).

Usage: bench/backfill_e2e.py [--build build] [--n 100000] [--runs 3] [--growth] [--http SECONDS]
                             [--postgres auto|off|URL]"""
import argparse
import json
import os
import re
import resource
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


MIXED_SCHEDULES = (6, 7, 8, 9)  # the mixed load's real backfills, one workflow each


def fixture(n, extra_schedules=()):
    pointer = iso(T0 + n * 60)
    workflows = [{"id": 11, "projectId": 1, "name": "minutely", "timezone": "UTC",
                  "schedule": {"minutes_interval>": 1}}]
    schedules = [{"id": 5, "workflowId": 11, "nextScheduleTime": pointer, "nextRunTime": pointer,
                  "lastSessionTime": None, "disabledAt": None}]
    for sid in extra_schedules:
        workflows.append({"id": 10 + sid * 10, "projectId": 1, "name": f"w{sid}", "timezone": "Asia/Tokyo",
                          "schedule": {"minutes_interval>": 1}})
        schedules.append({"id": sid, "workflowId": 10 + sid * 10, "nextScheduleTime": pointer,
                          "nextRunTime": pointer, "lastSessionTime": None, "disabledAt": None})
    return {
        "sites": [{"id": 1, "apiKeys": ["bench-key"]}],
        "projects": [{"id": 1, "siteId": 1, "name": "bench"}],
        "workflows": workflows,
        "schedules": schedules,
    }


def timed(cmd, stdout=subprocess.PIPE):
    """Wall seconds and peak RSS (KiB) of one command, by /usr/bin/time -v."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        start = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-v", "-o", tf.name] + cmd, stdout=stdout,
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
    """Wall seconds and peak RSS (KiB) of one backfill of n sessions through `wfp-host call`."""
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
    out_path = os.path.join(workdir, "call-output.json")
    with open(out_path, "wb") as out_file:  # to a file, as a script would: no pipe to drain
        wall, rss, _ = timed(cmd + ["POST", "/api/schedules/5/backfill", body], stdout=out_file)
    with open(out_path, "rb") as f:
        head = f.read(200)
    status = int(re.match(rb'\{"status": (\d+)', head).group(1))  # after the timing
    if status != 200:
        sys.exit(f"backfill of {n} answered {status}: {head!r}")
    os.unlink(out_path)
    return wall, rss


def median_runs(fn, runs):
    results = [fn() for _ in range(runs)]
    return statistics.median(r[0] for r in results), statistics.median(r[1] for r in results)


HTTP_TARGET = {"sqlite": 0.70, "postgresql": 0.40}


def wrk_run(wrk, lua, url, duration):
    """Requests/s, p50 and p99 (as wrk prints them), and the non-2xx/3xx count of one wrk run."""
    out = subprocess.run([wrk, "-t2", "-c16", f"-d{duration}s", "--latency", "-s", lua, url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+\w+)", out).group(1)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out).group(1)
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, p50, p99, int(m.group(1)) if m else 0


def write_lua(workdir):
    """post.lua: the count:1 dry run; mixed.lua: per request, 6 in 10 a count:1 dry run of schedule 5,
    3 in 10 a real count:1 backfill of one of MIXED_SCHEDULES under a new attempt name (a new attempt of
    an existing session), 1 in 10 a real backfill under the one name "dup" (409 after its first)."""
    dry = json.dumps({"fromTime": iso(T0), "attemptName": "bench", "dryRun": True, "count": 1})
    headers = ('wrk.headers["Content-Type"] = "application/json"\n'
               'wrk.headers["Authorization"] = "Bearer bench-key"\n')
    post = os.path.join(workdir, "post.lua")
    with open(post, "w") as f:
        f.write(f'wrk.method = "POST"\nwrk.body = {json.dumps(dry)}\n{headers}')
    mixed = os.path.join(workdir, "mixed.lua")
    schedules = ", ".join(str(s) for s in MIXED_SCHEDULES)
    with open(mixed, "w") as f:
        f.write(f'''wrk.method = "POST"
{headers}
local counter = 0
local schedules = {{{schedules}}}
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init(args) math.randomseed(os.time() + (tid or 0)) end
local from = "{iso(T0)}"
function request()
  counter = counter + 1
  local r = math.random(10)
  if r <= 6 then
    return wrk.format(nil, "/api/schedules/5/backfill", nil, {json.dumps(dry)})
  end
  local name, sid
  if r <= 9 then
    name = "m" .. tostring(tid) .. "-" .. counter
    sid = schedules[math.random(#schedules)]
  else
    name = "dup"
    sid = 5
  end
  local body = '{{"fromTime":"' .. from .. '","attemptName":"' .. name .. '","count":1,"dryRun":false}}'
  return wrk.format(nil, "/api/schedules/" .. sid .. "/backfill", nil, body)
end
''')
    return post, mixed


class CpuMeter:
    """CPU time (user + system) spent while a load runs, by whom: the server (its process, every
    thread), the database (every process named `postgres` on this machine: the backends serving the
    server and the cluster's own workers; none for SQLite, which runs inside the server, nor for a
    database on another machine), the load generator (this script's children that ended meanwhile:
    wrk) and the whole machine (/proc/stat: all but idle and iowait). A database process that ends
    before the meter is read is not counted: read it while the load's connections are open. Linux only."""
    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, server_pid=None):
        self.server_pid = server_pid
        self.start = self.sample()
        self.end = None

    def stop(self):
        """Reads the meter now; per_request then divides what it read."""
        self.end = self.sample()

    @staticmethod
    def process_ticks(stat_text):
        fields = stat_text[stat_text.rindex(")") + 2:].split()
        return int(fields[11]) + int(fields[12])  # utime, stime

    def sample(self):
        server, database = 0, {}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    text = f.read()
            except OSError:  # ended meanwhile
                continue
            if self.server_pid is not None and int(pid) == self.server_pid:
                server = self.process_ticks(text)
            elif text[text.index("(") + 1:text.rindex(")")] == "postgres":
                database[pid] = self.process_ticks(text)
        with open("/proc/stat") as f:
            cpu = [int(v) for v in f.readline().split()[1:]]
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {"server": server, "database": database, "load": (children.ru_utime + children.ru_stime) * self.TICK,
                "machine": sum(cpu[:8]) - cpu[3] - cpu[4], "time": time.monotonic()}

    def seconds(self):
        """CPU seconds of each one from this meter's start to its stop (or now); "time": the wall
        seconds between."""
        end, start = self.end or self.sample(), self.start
        ticks = {who: end[who] - start[who] for who in ("server", "load", "machine")}
        ticks["database"] = sum(t - start["database"].get(pid, 0) for pid, t in end["database"].items())
        figures = {who: t / self.TICK for who, t in ticks.items()}
        figures["time"] = end["time"] - start["time"]
        return figures

    def per_request(self, rate):
        """Microseconds of each one's CPU per request (seconds()), at `rate` requests a second."""
        figures = self.seconds()
        requests = max(rate * figures["time"], 1)
        return {who: 1e6 * t / requests for who, t in figures.items() if who != "time"}


def cpu_text(cpu):
    """One HTTP run's meter: "server 25, database 0, wrk 10, machine 37 us"."""
    return (f"server {cpu['server']:.0f}, database {cpu['database']:.0f}, wrk {cpu['load']:.0f}, "
            f"machine {cpu['machine']:.0f} us")


def pair_rounds(wrk, post, url, duration, rounds, tag, server_pid):
    """`rounds` pairs of wrk runs, a 404 then the count:1 dry run, back to back: the machine's load moves
    between runs, so the ratio is taken within each pair and its median reported. For each endpoint, the
    figures (req/s, p50, p99, CPU per request by CpuMeter) of its median round."""
    runs = {"404": [], "count:1 dry run": []}
    ratios = []
    for r in range(rounds):
        for name, path in (("404", "/api/nothing-here"), ("count:1 dry run", "/api/schedules/5/backfill")):
            meter = CpuMeter(server_pid)
            rps, p50, p99, errors = wrk_run(wrk, post, url + path, duration)
            cpu = meter.per_request(rps)
            runs[name].append((rps, p50, p99, cpu))
            extra = f"   non-2xx {errors}" if name != "404" else ""
            print(f"{tag} http {name:18s} {rps:10.0f} req/s   p50 {p50:>8s}   p99 {p99:>8s}{extra}   (round {r + 1})")
            print(f"{tag}      CPU per request: {cpu_text(cpu)}")
        ratios.append(runs["count:1 dry run"][-1][0] / runs["404"][-1][0])
    results = {name: sorted(figures, key=lambda f: f[0])[len(figures) // 2] for name, figures in runs.items()}
    results["ratio"] = statistics.median(ratios)
    return results


def database_bound(results, tag, label, summary):
    """What the database's CPU alone allows over HTTP, from this run's meters: a dry run costs the
    machine at least a 404's CPU plus the database's CPU for it (as measured under this very load), so
    even a host that did nothing else for it would reach at most 404 / (404 + database) of the 404's
    req/s. Skipped when the database's CPU is not seen (SQLite, or a database on another machine)."""
    floor = results["404"][3]["machine"]
    database = results["count:1 dry run"][3]["database"]
    if database <= 0:
        return
    bound = floor / (floor + database)
    print(f"{tag} http the database's CPU for a dry run, under this load: {database:.0f} us; with a 404's "
          f"{floor:.0f} us of machine CPU, a host doing nothing more would reach at most {bound:.2f}")
    summary.append(("postgresql", f"HTTP bound from the database's CPU under load{label}",
                    f"404 {floor:.0f} us + database {database:.0f} us per dry run", f"{bound:.2f}", "", None))


def http_figures(host, plugin, workdir, stores, duration, rounds, summary, threads=2, options=()):
    """The HTTP rows: `wfp-host serve` with `threads` workers and `options`, the ratio of a count:1 dry
    run to a 404 (pair_rounds) and the mixed load. Returns the store and the 404's req/s."""
    wrk = shutil.which("wrk")
    if not wrk:
        print("http: wrk not installed (apt-get install wrk); skipped")
        return None, None
    label = " ".join(([] if threads == 2 else [f"--threads {threads}"]) + list(options))
    tag = f"[{stores.name} {label}]" if label else f"[{stores.name}]"
    db = stores.fresh("http")
    fx = os.path.join(workdir, "fixture-http.json")
    with open(fx, "w") as f:
        json.dump(fixture(1000, MIXED_SCHEDULES), f)
    proc = subprocess.Popen([host, "serve", "--db", db, "--plugin", plugin, "--fixture", fx, "--listen", "127.0.0.1:0",
                             "--now", iso(T0 + 1000 * 60 + 3600), "--threads", str(threads)] + list(options),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline().strip()
        url = line.removeprefix("listening on ")
        post, mixed = write_lua(workdir)
        results = pair_rounds(wrk, post, url, duration, rounds, tag, proc.pid)
        rps, p50, p99, errors = wrk_run(wrk, mixed, url + "/api/schedules/5/backfill", duration)
        results["mixed load"] = (rps, p50, p99)
        print(f"{tag} http {'mixed load':18s} {rps:10.0f} req/s   p50 {p50:>8s}   p99 {p99:>8s}   non-2xx {errors}")
        ratio = results["ratio"]
        target = HTTP_TARGET[stores.name]
        print(f"{tag} http ratio count:1 dry run / 404: {ratio:.2f}, the median of {rounds} pairs (target >= {target:.2f})")
        label = f", {label}" if label else ""
        summary.append((stores.name, f"HTTP count:1 dry run / 404 req/s{label}",
                        f"{results['count:1 dry run'][0]:,.0f} / {results['404'][0]:,.0f} req/s, "
                        f"p99 {results['count:1 dry run'][2]} / {results['404'][2]}",
                        f"{ratio:.2f}", f">= {target:.2f}", ratio >= target))
        summary.append((stores.name, f"HTTP CPU per request, 404 / dry run{label}",
                        "; ".join(f"{who} {results['404'][3][key]:.0f} / {results['count:1 dry run'][3][key]:.0f} us"
                                   for who, key in (("server", "server"), ("database", "database"),
                                                    ("wrk", "load"), ("machine", "machine"))), "", "", None))
        database_bound(results, tag, label, summary)
        summary.append((stores.name, f"HTTP mixed load{label}", f"{results['mixed load'][0]:,.0f} req/s, "
                        f"p50 {results['mixed load'][1]}, p99 {results['mixed load'][2]}", "", "", None))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    return db, results["404"][0]


# A count:1 dry run's statement on PostgreSQL, as the host sends it (host_stub/store/pg_statements.h's
# kWindowAloneSql): the plugin's load_schedule_window, asked as the read transaction's only read
# (WFP_WINDOW_LAST_READ), is one statement, with no BEGIN or ROLLBACK around it. The fixture's ids:
# schedule 5 of site 1; the window lists at most count + 16 sessions, one more to tell whether there are
# more.
def pg_statements():
    """The PostgreSQL store's read statements, as the host sends them: their C string literals in
    host_stub/store/pg_statements.h, joined, with $n parameters."""
    with open(os.path.join(ROOT, "host_stub", "store", "pg_statements.h")) as f:
        source = f.read()
    literal = r'"((?:[^"\\]|\\.)*)"'
    statements = {}
    for m in re.finditer(r'inline constexpr const char\* (\w+) =\s*((?:' + literal + r'\s*)+);', source):
        statements[m.group(1)] = "".join(part.replace('\\"', '"') for part in re.findall(literal, m.group(2)))
    return statements


def pg_dry_run_script():
    """A count:1 dry run's round trip on PostgreSQL as a pgbench script: the window's one statement (the
    schedule, its window of sessions, count 1 and the slack of 16, plus one, and the latest session before
    it). pgbench -M prepared sends the :variables as parameters, as the host does."""
    text = pg_statements()["kWindowAloneSql"]
    names = ["sched", "site", "from", "to", "limit"]
    for n in range(len(names), 0, -1):
        text = text.replace(f"${n}", f":{names[n - 1]}")
    lines = ["\\set sched 5", "\\set site 1", f"\\set from {T0}", "\\set to 9223372036854775807",
             "\\set limit 18", text + ";", ""]
    return "\n".join(lines)


def pg_ceiling(db, workdir, duration, rate_404, summary):
    """What the database alone allows: pgbench runs a count:1 dry run's statement (pg_dry_run_script) on the
    HTTP run's store, with as many connections as the server's 2 worker threads, no HTTP and no host; and
    SELECT 1, one round trip of nothing. Both against the 404's requests/s of the same run: the host's
    dry run cannot exceed the first ratio on a machine where the database shares the cores."""
    pgbench = shutil.which("pgbench")
    if not pgbench:
        print("[postgresql] pgbench not installed (it comes with postgresql-client); ceiling skipped")
        return
    figures = {}
    for name, sql in (("dry run's statement", pg_dry_run_script()), ("SELECT 1", "SELECT 1;\n")):
        script = os.path.join(workdir, "pgbench.sql")
        with open(script, "w") as f:
            f.write(sql)
        run = subprocess.Popen([pgbench, "-n", "-M", "prepared", "-c", "2", "-j", "2", f"-T{duration}", "-f", script, db],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(min(1, duration / 4))  # connected: its backends are read while they run
        meter = CpuMeter()
        time.sleep(duration / 2)
        meter.stop()
        out, err = run.communicate()
        if run.returncode != 0:
            sys.exit(f"pgbench failed ({run.returncode}): {err[-2000:]}")
        tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
        cpu = meter.per_request(tps)
        figures[name] = tps, cpu["database"]
        print(f"[postgresql] database alone (pgbench, 2 connections): {name:22s} {tps:10.0f} per s   "
              f"{tps / rate_404:.2f} of the 404's req/s   CPU per statement: database {cpu['database']:.0f}, "
              f"machine {cpu['machine']:.0f} us")
    (dry, dry_cpu), (noop, _) = figures["dry run's statement"], figures["SELECT 1"]
    # Both loads keep the two cores busy: a request that needs the database's work and the 404's work
    # takes at least the sum of their CPU times, before the host does anything of its own.
    bound = 1 / (1 + rate_404 / dry)
    print(f"[postgresql] so a dry run over HTTP reaches at most about 1 / (1 + 404/database) = {bound:.2f} "
          f"of the 404's req/s on this machine")
    summary.append(("postgresql", "database alone: a dry run's statement / 404 req/s (pgbench)",
                    f"{dry:,.0f} / {rate_404:,.0f} per s, database {dry_cpu:.0f} us each; SELECT 1: {noop:,.0f} per s; "
                    f"HTTP bound {bound:.2f}",
                    f"{dry / rate_404:.2f}", "", None))


def growth_figures(args, host, plugin, workdir, stores, summary):
    tag = f"[{stores.name}]"
    guard = ["backfill.max_sessions=2000000"]
    per, rss = {}, {}
    for dry, sizes in ((True, (10000, 100000, 1000000)), (False, (10000, 1000000))):
        kind = "dry" if dry else "real"
        for size in sizes:
            runs = args.runs if size < 1000000 else 1
            wall, peak = median_runs(lambda: run_backfill(host, plugin, size, dry, workdir, stores, guard), runs)
            per[kind, size], rss[kind, size] = wall / size, peak
            print(f"{tag} growth {kind:4s} {size:>9,}  {wall:8.3f} s  {1e6 * wall / size:7.2f} us/session  "
                  f"peak RSS {peak / 1024:7.1f} MiB")
        ratio = per[kind, 1000000] / per[kind, 10000]
        print(f"{tag} growth {kind}: per session 1M/10k {ratio:.2f} (target <= 1.1); "
              f"peak RSS at 1M {rss[kind, 1000000] / 1024:.0f} MiB (target <= 64)")
        summary.append((stores.name, f"1M {kind} run: time per session vs 10k",
                        f"{1e6 * per[kind, 1000000]:.2f} vs {1e6 * per[kind, 10000]:.2f} us", f"{ratio:.2f}",
                        "<= 1.1", ratio <= 1.1))
        summary.append((stores.name, f"1M {kind} run: peak RSS", f"{rss[kind, 1000000] / 1024:.0f} MiB", "",
                        "<= 64 MiB", rss[kind, 1000000] / 1024 <= 64))


def figures(args, host, plugin, workdir, stores, floor, summary):
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
    print(f"{tag} ratio real/floor {real_wall / floor_wall:.2f} (target <= 1.5)")
    print(f"{tag} ratio dry/floor  {dry_wall / floor_wall:.2f} (target <= 0.3)")
    summary.append((stores.name, f"{n // 1000}k real backfill / floor",
                    f"{real_wall:.2f} s / {floor_wall:.2f} s, {real_rss / 1024:.0f} MiB", f"{real_wall / floor_wall:.2f}",
                    "<= 1.5", real_wall / floor_wall <= 1.5))
    summary.append((stores.name, f"{n // 1000}k dry run / floor",
                    f"{dry_wall:.2f} s / {floor_wall:.2f} s, {dry_rss / 1024:.0f} MiB", f"{dry_wall / floor_wall:.2f}",
                    "<= 0.3", dry_wall / floor_wall <= 0.3))
    if args.compare:
        other_host = os.path.join(args.compare, "bin", "wfp-host")
        other_plugin = os.path.join(args.compare, "lib", "libwfp_backfill.so")
        for dry in (False, True):
            wall, rss = median_runs(lambda: run_backfill(other_host, other_plugin, n, dry, workdir, stores), args.runs)
            print(f"{tag} --compare {args.compare}: {'dry ' if dry else 'real'} {wall:8.3f} s   peak RSS "
                  f"{rss / 1024:7.1f} MiB   ({wall / floor_wall:.2f} of the floor)")
    if args.growth:
        growth_figures(args, host, plugin, workdir, stores, summary)
    if args.http:
        db, rate_404 = http_figures(host, plugin, workdir, stores, args.http, args.runs, summary)
        if stores.name == "sqlite" and db:
            # The file held by the server alone (docs/operations.md): no file lock per read.
            http_figures(host, plugin, workdir, stores, args.http, args.runs, summary,
                         options=("--sqlite-exclusive",))
        if stores.name == "postgresql" and db:
            pg_ceiling(db, workdir, args.http, rate_404, summary)
            http_figures(host, plugin, workdir, stores, args.http, args.runs, summary,
                         threads=4 * (os.cpu_count() or 1))
    return real_wall, dry_wall


def print_summary(summary):
    print()
    print("| store | figure | measured | ratio | target | met |")
    print("|---|---|---|---|---|---|")
    for store, figure, measured, ratio, target, met in summary:
        mark = "" if met is None else ("yes" if met else "**no**")
        print(f"| {store} | {figure} | {measured} | {ratio} | {target} | {mark} |")


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
    ap.add_argument("--growth", action="store_true", help="also 10k/100k/1M dry and 10k/1M real runs")
    ap.add_argument("--compare", help="another build folder: its 100k real and dry runs, for before/after")
    ap.add_argument("--http", type=int, default=0, help="seconds of wrk per endpoint (0: skip)")
    ap.add_argument("--postgres", default="auto",
                    help="auto: a throwaway cluster if the server is installed; off; or a libpq URL")
    args = ap.parse_args()
    host = os.path.join(args.build, "bin", "wfp-host")
    plugin = os.path.join(args.build, "lib", "libwfp_backfill.so")
    summary = []
    try:
        run_all(args, host, plugin, summary)
    finally:
        print_summary(summary)


def run_all(args, host, plugin, summary):
    with tempfile.TemporaryDirectory() as workdir:
        print(f"machine: {os.cpu_count()} cores; n = {args.n} sessions; medians of {args.runs} runs, fresh database each")
        sqlite = figures(args, host, plugin, workdir, SqliteStores(workdir),
                         os.path.join(args.build, "bin", "wfp_sqlite_floor"), summary)
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
            pg = figures(args, host, plugin, workdir, stores, pg_floor, summary)
            print(f"postgresql/sqlite: real {pg[0] / sqlite[0]:.2f}x, dry {pg[1] / sqlite[1]:.2f}x the SQLite wall time")
        finally:
            stores.drop_all()
            if folder:
                subprocess.run([os.path.join(ROOT, "scripts", "pg-cluster.sh"), "stop", folder], check=False,
                               stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
