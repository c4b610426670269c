#!/usr/bin/env bash
# Installs what wfp needs to build and test on Debian 12, with apt-get. Idempotent: it installs only
# the packages that are missing, so a second run does nothing and needs no network.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libboost1.81-dev libboost-json1.81-dev
  libfmt-dev libsqlite3-dev sqlite3 libcctz-dev tzdata
  libssl-dev
  # gzip/deflate request bodies (zlib).
  zlib1g-dev
  # The PostgreSQL store (libpq) and its tests: a throwaway server cluster (scripts/pg-cluster.sh).
  libpq-dev postgresql
  # /metrics (prometheus-cpp core), its check (promtool, from prometheus) and the rolling-restart test
  # behind a real load balancer (haproxy).
  prometheus-cpp-dev prometheus haproxy
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 curl time wrk
  # A compiler cache: CI (.ci/run) and scripts/mutants.sh build the same sources more than once.
  ccache
  # libFuzzer and the sanitizer runtimes for scripts/fuzz.sh (clang 14 from Debian).
  clang libclang-rt-14-dev
  # The backfill page's browser test (tests/browser): headless Chromium, driven by puppeteer-core.
  chromium
)
# Node.js and npm run the OpenAPI tests (tests/openapi: ajv, swagger-parser via `npm ci`). Asked for only
# when no `node`/`npm` is on PATH, so a Node.js from elsewhere (NodeSource bundles npm) is left alone.
if ! command -v node >/dev/null 2>&1; then packages+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then packages+=(npm); fi
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
