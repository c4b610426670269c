#!/usr/bin/env python3
"""`redocly lint` (its built-in recommended rules, no configuration) on openapi/openapi.json as it is:
no errors and no warnings. Prints each problem redocly reports.

Usage: check_redocly.py --modules DIR [--openapi FILE] [--node node]"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--modules", required=True)
    ap.add_argument("--openapi", default=os.path.join(HERE, "..", "..", "openapi", "openapi.json"))
    ap.add_argument("--node", default="node")
    a = ap.parse_args()
    cli = os.path.join(a.modules, "node_modules", "@redocly", "cli", "bin", "cli.js")
    env = dict(os.environ, REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true")
    p = subprocess.run([a.node, cli, "lint", "--format", "json", os.path.abspath(a.openapi)],
                       capture_output=True, text=True, timeout=300, env=env, cwd=a.modules)
    start = p.stdout.find("{")
    if start < 0:
        print(p.stdout + p.stderr, file=sys.stderr)
        print(f"check_redocly: no JSON report (redocly exited {p.returncode})", file=sys.stderr)
        return 1
    report = json.loads(p.stdout[start:])
    for problem in report.get("problems", []):
        where = "; ".join(loc.get("pointer", "") for loc in problem.get("location", []))
        print(f"{problem.get('severity')}: {problem.get('ruleId')}: {problem.get('message')} at {where}")
    totals = report["totals"]
    print(f"check_redocly: redocly {report.get('version')}: {totals['errors']} errors, "
          f"{totals['warnings']} warnings (exit {p.returncode})")
    return 0 if p.returncode == 0 and totals["errors"] == 0 and totals["warnings"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
