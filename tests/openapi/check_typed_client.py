#!/usr/bin/env python3
"""openapi-typescript (default options) + openapi-fetch + tsc against openapi/openapi.json, run against
a real `wfp-host serve`: generates the types, compiles typed_client/client.mts with tsc (strict), and
runs it: dry run -> real run with If-Match -> the same again, 409.

Usage: check_typed_client.py --host wfp-host --plugin SO --modules DIR [--openapi FILE] [--node node]"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from serve_fixture import Served  # noqa: E402


def run(args, **kwargs):
    p = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)
    sys.stdout.write(p.stdout)
    sys.stderr.write(p.stderr)
    if p.returncode != 0:
        raise SystemExit(f"check_typed_client: {os.path.basename(args[1])} exited {p.returncode}")
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--modules", required=True, help="the directory holding node_modules (npm ci)")
    ap.add_argument("--openapi", default=os.path.join(HERE, "..", "..", "openapi", "openapi.json"))
    ap.add_argument("--node", default="node")
    a = ap.parse_args()
    bin_dir = os.path.join(a.modules, "node_modules", ".bin")
    # Inside the modules directory, so that node and tsc find openapi-fetch by walking up.
    work = tempfile.mkdtemp(prefix="typed_client_", dir=a.modules)
    try:
        for name in ("client.mts", "tsconfig.json"):
            shutil.copy(os.path.join(HERE, "typed_client", name), work)
        run([a.node, os.path.join(bin_dir, "openapi-typescript"), os.path.abspath(a.openapi),
             "-o", os.path.join(work, "schema.d.ts")])
        run([a.node, os.path.join(bin_dir, "tsc"), "-p", os.path.join(work, "tsconfig.json")])
        with Served(a.host, a.plugin) as url:
            run([a.node, os.path.join(work, "client.mjs"), url, "k1", "5"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("check_typed_client: generated, compiled and ran the typed client: dry run, If-Match, 409")
    return 0


if __name__ == "__main__":
    sys.exit(main())
