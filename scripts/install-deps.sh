#!/usr/bin/env bash
# Installs what wfp needs to build and test on Debian 12, with apt-get. Idempotent: it installs only
# the packages that are missing, so a second run does nothing and needs no network.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libboost1.81-dev libboost-json1.81-dev
  libfmt-dev libsqlite3-dev sqlite3 libcctz-dev tzdata
  libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 curl time
)
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
