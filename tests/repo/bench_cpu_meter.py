#!/usr/bin/env python3
"""The benchmark's CPU meter (bench/backfill_e2e.py, CpuMeter) gives each one its own CPU: the server's
process by its pid, every process named `postgres` to the database (also one that starts after the
meter does), the children that ended to the load generator, and all of it to the machine. Three
children each burn about 0.3 s of CPU while the meter runs: the "server", one that names itself
`postgres`, and one that ends before the meter is read. A child started after the meter is counted
whole, its interpreter's start included, so the load generator's figure is checked against the CPU
that child says it used. Fails when a child's CPU goes to the wrong one or is lost. (Other processes named postgres may run beside this test, so the database's figure
is checked from below only.)"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(sys.argv[1], "bench"))
import backfill_e2e  # noqa: E402

BURN = 0.3


def child(name, stay):
    """A Python child that names itself `name` (prctl PR_SET_NAME), says "ready", burns BURN s of CPU
    when it reads a line, says "burnt" and the CPU seconds it has used in all, then stays until its
    stdin closes if `stay`, else ends."""
    code = f"""
import ctypes, sys, time
ctypes.CDLL(None).prctl(15, {name.encode()!r}, 0, 0, 0)
print("ready", flush=True)
sys.stdin.readline()
end = time.process_time() + {BURN}
while time.process_time() < end:
    pass
print("burnt", time.process_time(), flush=True)
if {stay}:
    sys.stdin.read()
"""
    p = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "ready\n"
    return p


def burn(p):
    """The child's CPU seconds in all, after its burn."""
    p.stdin.write("go\n")
    p.stdin.flush()
    word, used = p.stdout.readline().split()
    assert word == "burnt"
    return float(used)


server = child("wfp-host", True)
meter = backfill_e2e.CpuMeter(server.pid)
database = child("postgres", True)  # started after the meter
load = child("wrk", False)
used = {who: burn(p) for who, p in (("server", server), ("database", database), ("load", load))}
load.wait()  # ended and waited for: the load generator's
meter.stop()  # while the server and the database still run
for p in (server, database):
    p.stdin.close()
    p.wait()
got = meter.seconds()
problems = []
# The server ran before the meter: only its burn counts. The load generator is counted whole (its
# start and its exit too: what it used after it said so is slack, about 0.03 s here, up to 0.11 s
# seen).
expected = {"server": (BURN - 0.05, BURN + 0.2), "load": (used["load"] - 0.05, used["load"] + 0.15),
            "database": (BURN - 0.05, None)}
for who, (low, high) in expected.items():
    if got[who] < low or (high is not None and got[who] > high):
        problems.append(f"{who}: {got[who]:.2f} s of CPU, expected {low:.2f} s to {'any' if high is None else f'{high:.2f}'} s")
if got["machine"] < 0.75:
    problems.append(f"machine: {got['machine']:.2f} s, less than the three children's")
per = meter.per_request(rate=10 / got["time"])  # 10 requests in all
if abs(per["server"] - got["server"] * 1e6 / 10) > 1:
    problems.append(f"per request: server {per['server']:.0f} us, not a tenth of {got['server']:.2f} s")
for p in problems:
    print(p)
print("bench CPU meter:", "FAIL" if problems else "ok", {k: round(v, 3) for k, v in got.items()})
sys.exit(1 if problems else 0)
