#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: data in DIR/data, its unix socket in DIR, no TCP
# (listen_addresses = ''), trust authentication, one superuser role `wfp`, and durability turned off
# (fsync, synchronous_commit, full_page_writes) because the cluster lives only as long as a test run.
#
# Usage:
#   scripts/pg-cluster.sh start DIR [PORT]   creates DIR and the cluster if needed, starts it if it is not
#                                            running, waits until it accepts connections, prints its URL
#   scripts/pg-cluster.sh stop DIR           stops it (fast mode) and removes DIR; a no-op when DIR is
#                                            missing or the cluster is not running
#   scripts/pg-cluster.sh url DIR            prints the URL of the cluster in DIR
#
# The URL is a libpq URL on the socket, e.g. postgresql:///postgres?host=/tmp/wfp-pg-1&port=5432&user=wfp.
# PORT (default 5432) only names the socket file (DIR/.s.PGSQL.PORT): with no TCP, clusters in different
# folders never collide. The server binaries come from WFP_PG_BINDIR, else `pg_config --bindir`, else the
# newest /usr/lib/postgresql/*/bin. initdb and postgres refuse to run as root: as root, they run as the OS
# user WFP_PG_OS_USER (default postgres) through runuser, and DIR is given to that user.
# One cluster per DIR and one caller at a time per DIR (CTest's fixture calls start once and stop once).
set -euo pipefail

usage() {
  echo "usage: $0 start DIR [PORT] | stop DIR | url DIR" >&2
  exit 2
}

die() {
  echo "pg-cluster: $*" >&2
  exit 1
}

# The directory holding initdb, pg_ctl and postgres.
find_bindir() {
  if [ -n "${WFP_PG_BINDIR:-}" ]; then
    [ -x "$WFP_PG_BINDIR/initdb" ] || die "WFP_PG_BINDIR=$WFP_PG_BINDIR has no initdb"
    echo "$WFP_PG_BINDIR"
    return
  fi
  local dir
  if command -v pg_config >/dev/null 2>&1; then
    dir=$(pg_config --bindir 2>/dev/null || true)
    if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
      echo "$dir"
      return
    fi
  fi
  # Debian installs each major version under /usr/lib/postgresql/N/bin; take the newest.
  dir=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/initdb' -printf '%h\n' 2>/dev/null |
    sort -V | tail -n 1)
  [ -n "$dir" ] || die "no PostgreSQL server found (initdb): install the Debian package postgresql" \
    "(scripts/install-deps.sh) or set WFP_PG_BINDIR"
  echo "$dir"
}

# Runs a server command as the cluster's owner: as root, the OS user WFP_PG_OS_USER; otherwise ourselves.
# From DIR, so that the owner never starts in a folder it cannot read (root's home).
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd "$dir" && runuser -u "$os_user" -- "$@")
  else
    (cd "$dir" && "$@")
  fi
}

# Percent-encodes a value for a libpq URL's query (keeps letters, digits and / . _ - ~).
urlencode() {
  local LC_ALL=C s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case "$c" in
      [A-Za-z0-9/._~-]) out+=$c ;;
      *) out+=$(printf '%%%02X' "'$c") ;;
    esac
  done
  printf '%s' "$out"
}

print_url() {
  local port
  [ -f "$dir/port" ] || die "$dir holds no cluster of this script (no $dir/port): run start first"
  port=$(<"$dir/port")
  echo "postgresql:///postgres?host=$(urlencode "$dir")&port=$port&user=wfp"
}

# 0 when the cluster in DIR is running (pg_ctl status: 0 running, 3 not running, 4 no data directory).
is_running() {
  [ -f "$dir/data/PG_VERSION" ] && as_owner "$bindir/pg_ctl" status -D "$dir/data" >/dev/null 2>&1
}

[ $# -ge 2 ] || usage
cmd=$1
dir_arg=$2
os_user=${WFP_PG_OS_USER:-postgres}
# An absolute path: libpq reads a host that starts with / as a socket folder. The folder may not exist yet.
case "$dir_arg" in
  /*) dir=$dir_arg ;;
  *) dir=$PWD/$dir_arg ;;
esac
dir=${dir%/}
[ -n "$dir" ] || die "refusing to use / as the cluster folder"
marker="$dir/.wfp-pg-cluster" # written at creation: stop removes only folders that carry it

case "$cmd" in
  start)
    [ $# -le 3 ] || usage
    port=${3:-5432}
    if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
      die "bad port: $port"
    fi
    # The server's socket path is limited by sun_path (107 bytes); stay well under it.
    socket="$dir/.s.PGSQL.$port"
    if [ ${#socket} -ge 100 ]; then
      die "socket path $socket is ${#socket} characters; use a folder with a path under" \
        "$((100 - ${#socket} + ${#dir})) characters"
    fi
    bindir=$(find_bindir)
    if [ "$(id -u)" -eq 0 ]; then
      id -u "$os_user" >/dev/null 2>&1 || die "running as root, but there is no OS user $os_user to run" \
        "PostgreSQL as (set WFP_PG_OS_USER)"
    fi
    if is_running; then
      print_url
      exit 0
    fi
    if [ -e "$dir" ] && [ ! -f "$marker" ] && [ -n "$(ls -A "$dir")" ]; then
      die "$dir exists, is not empty and was not made by this script: refusing to use it"
    fi
    mkdir -p "$dir"
    touch "$marker"
    echo "$port" >"$dir/port"
    if [ "$(id -u)" -eq 0 ]; then
      chown -R "$os_user:" "$dir"
      chmod 0755 "$dir" # others (the tests, as root or another user) reach the socket
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      rm -rf "$dir/data" # a half-made data folder from an interrupted initdb
      as_owner "$bindir/initdb" -D "$dir/data" -U wfp --auth=trust --encoding=UTF8 --locale=C \
        --no-sync >"$dir/initdb.log" 2>&1 || die "initdb failed: $(tail -n 20 "$dir/initdb.log")"
      # Later lines of postgresql.conf win over the defaults above them.
      as_owner tee -a "$dir/data/postgresql.conf" >/dev/null <<EOF

# scripts/pg-cluster.sh: a throwaway cluster for tests
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    fi
    # -w: wait until the server accepts connections (or fails); its log is DIR/server.log.
    if ! as_owner "$bindir/pg_ctl" start -D "$dir/data" -l "$dir/server.log" -w -t 60 >/dev/null; then
      die "the server did not start: $(tail -n 20 "$dir/server.log" 2>/dev/null)"
    fi
    # pg_ctl -w already waited; pg_isready confirms that the socket takes connections for our role.
    pg_isready=$bindir/pg_isready
    [ -x "$pg_isready" ] || pg_isready=pg_isready
    for _ in $(seq 1 100); do
      if "$pg_isready" -q -h "$dir" -p "$port" -U wfp -d postgres; then
        print_url
        exit 0
      fi
      sleep 0.1
    done
    die "the server started but does not accept connections on $socket: $(tail -n 20 "$dir/server.log")"
    ;;
  stop)
    [ $# -eq 2 ] || usage
    if [ ! -e "$dir" ]; then
      exit 0
    fi
    [ -f "$marker" ] || die "$dir was not made by this script (no $marker): not removing it"
    if [ -f "$dir/data/PG_VERSION" ]; then
      bindir=$(find_bindir)
      if is_running; then
        as_owner "$bindir/pg_ctl" stop -D "$dir/data" -m fast -w -t 60 >/dev/null ||
          die "the server in $dir did not stop"
      fi
    fi
    rm -rf "$dir"
    ;;
  url)
    [ $# -eq 2 ] || usage
    print_url
    ;;
  *) usage ;;
esac
