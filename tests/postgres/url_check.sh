#!/usr/bin/env bash
# postgres.url: the cluster's URL works, and the libpq `options` parameter with which the suites put each
# store in its own schema (tests/e2e/wfp.py: URL&options=-csearch_path%3D<schema>) reaches the server:
# a connection through it sees that schema as current_schema().
# Usage: url_check.sh PSQL URL
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 PSQL URL" >&2; exit 2; }
psql=$1
url=$2
schema="s_url_check_$$"
"$psql" "$url" -qAtX -v ON_ERROR_STOP=1 -c "CREATE SCHEMA $schema"
trap '"$psql" "$url" -qAtX -c "DROP SCHEMA IF EXISTS $schema" >/dev/null' EXIT
got=$("$psql" "$url&options=-csearch_path%3D$schema" -qAtX -v ON_ERROR_STOP=1 -c 'SELECT current_schema()')
echo "current_schema through options: $got"
[ "$got" = "$schema" ]
