#!/usr/bin/env bash
# A throwaway Postgres cluster for the tests (the store contract suite, the daemon end-to-end test on Postgres).
#   scripts/postgres-test-cluster.sh start DIR   initdb in DIR/data, start on a free loopback port; prints the port last
#   scripts/postgres-test-cluster.sh start DIR durable   the same with Postgres's default durability (benchmarks)
#   scripts/postgres-test-cluster.sh stop DIR    stop it and remove DIR
# Installs Debian's postgresql with apt-get when initdb/pg_ctl are absent. Postgres refuses to run as root: when run
# as root the cluster belongs to the postgres user (runuser). Trust authentication on 127.0.0.1 and a socket in DIR only,
# fsync off: it holds test data and is removed afterwards.
set -euo pipefail
action="${1:-}"; dir="${2:-}"; mode="${3:-}"
[[ -n "$action" && -n "$dir" ]] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

bindir() {
  local initdb
  if initdb="$(command -v initdb 2>/dev/null)"; then dirname "$(readlink -f "$initdb")"; return; fi
  for candidate in /usr/lib/postgresql/*/bin; do
    [[ -x "$candidate/initdb" && -x "$candidate/pg_ctl" ]] && { echo "$candidate"; return; }
  done
  return 1
}

as_owner() {
  if (( EUID == 0 )); then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$action" in
  start)
    if ! bin="$(bindir)"; then
      echo "postgres-test-cluster: installing postgresql" >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq postgresql >/dev/null
      bin="$(bindir)" || { echo "postgres-test-cluster: initdb not found after installing postgresql" >&2; exit 1; }
    fi
    mkdir -p "$dir"
    if (( EUID == 0 )); then
      id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
      chown postgres: "$dir"
      chmod 755 "$dir"
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    fast="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [[ "$mode" == durable ]] && fast=""
    # A free port: bind port 0 and read what the kernel gave (a race with another process is retried below).
    for attempt in 1 2 3 4 5; do
      port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
      if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start \
          -o "-p $port -k $dir -c listen_addresses=127.0.0.1 $fast -c max_connections=300" \
          >/dev/null; then
        echo "$port"
        exit 0
      fi
    done
    tail -20 "$dir/postgres.log" >&2 || true
    exit 1
    ;;
  stop)
    if [[ -f "$dir/data/postmaster.pid" ]] && bin="$(bindir)"; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
