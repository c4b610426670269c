#!/usr/bin/env bash
# CTest fixture setup (postgres.cluster_start): starts the tests' cluster with scripts/pg-cluster.sh
# (idempotent: a cluster left running by an interrupted run is reused) and checks that the URL it prints
# is the one that CMake gave the tests at configure time (WFP_TEST_POSTGRES_URL).
# Usage: cluster_start.sh PG_CLUSTER_SH DIR PORT EXPECTED_URL
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: $0 PG_CLUSTER_SH DIR PORT EXPECTED_URL" >&2; exit 2; }
url=$(bash "$1" start "$2" "$3")
echo "$url"
if [ "$url" != "$4" ]; then
  echo "cluster_start: the cluster's URL is not the configured one, $4" >&2
  exit 1
fi
