#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, benchmarks and trying cobrador on PostgreSQL:
# initdb and pg_ctl in a folder of its own, run as a non-root user (the "postgres" account when
# called as root), listening only on a Unix socket in that folder. No systemd, no containers.
#
#   deploy/pg-cluster.sh start DIR [--durable]   starts one (a fresh one) and prints its
#                                                connection string for --db / COBRADOR_DB
#   deploy/pg-cluster.sh stop DIR                stops it and removes DIR
#
# Without --durable the cluster runs with fsync=off: fast, and fine for tests (cobrador's own
# crash tests kill cobrador, not PostgreSQL). Benchmarks use --durable (fsync and
# synchronous_commit on, as in production).
set -euo pipefail
cmd=${1:?usage: pg-cluster.sh start|stop DIR [--durable]}
dir=${2:?usage: pg-cluster.sh start|stop DIR [--durable]}
durable=${3:-}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "pg-cluster: PostgreSQL is not installed (deploy/install-deps.sh)" >&2; exit 1; }
port=5432  # only names the socket file inside DIR

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop() {
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "$cmd" in
  start)
    stop  # a cluster left over from an interrupted run
    mkdir -p "$dir"
    chmod 700 "$dir"
    [ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
    as_owner "$bin/initdb" -N -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    settings="-k $dir -c listen_addresses='' -p $port -c max_connections=300"
    if [ "$durable" != --durable ]; then
      settings+=" -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
    fi
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "$settings" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    echo "host=$dir port=$port user=postgres dbname=postgres"
    ;;
  stop)
    stop
    ;;
  *)
    echo "usage: pg-cluster.sh start|stop DIR [--durable]" >&2
    exit 2
    ;;
esac
