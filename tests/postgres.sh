#!/usr/bin/env bash
# A throw-away PostgreSQL cluster on loopback for the tests (Debian's postgresql package).
#   tests/postgres.sh start DIR [PORT]   initdb in DIR, start on 127.0.0.1:PORT (default: a free
#                                        port); prints the port. Superuser 'cradle', trust auth.
#   tests/postgres.sh stop DIR           stop the cluster and delete DIR.
#   tests/postgres.sh bindir             print the server's bin folder (exit 1 when not installed).
# PostgreSQL refuses to run as root: as root the cluster runs as the 'postgres' system user (made
# by the package), or 'cradle-pg', created here when neither exists. fsync is off: the cluster
# lives for one test run, and durability across a power cut is not what these tests check.
set -euo pipefail
. "$(dirname "$0")/scripts/watch-owner.sh"
. "$(dirname "$0")/scripts/free-port.sh"

bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/postgres" ] && { echo "$d"; return 0; }
  done
  command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/postgres" ] && { pg_config --bindir; return 0; }
  return 1
}


as_owner() { # run a command as the cluster's owner
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$owner" -- "$@"; else "$@"; fi
}

case "${1:-}" in
  bindir)
    bindir
    ;;
  start)
    close_inherited_fds
    dir=${2:?usage: postgres.sh start DIR [PORT]}
    port=${3:-$(free_port)}
    bin=$(bindir) || { echo "postgres.sh: the PostgreSQL server is not installed (apt-get install postgresql)" >&2; exit 1; }
    owner=$(id -un)
    if [ "$(id -u)" -eq 0 ]; then
      if id postgres >/dev/null 2>&1; then owner=postgres
      else
        id cradle-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin cradle-pg
        owner=cradle-pg
      fi
    fi
    mkdir -p "$dir"
    chown "$owner" "$dir"
    chmod 700 "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U cradle --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    watch_owner "$(cd "$(dirname "$0")" && pwd)/$(basename "$0")" stop "$dir"
    echo "$port"
    ;;
  stop)
    dir=${2:?usage: postgres.sh stop DIR}
    bin=$(bindir)
    owner=$(stat -c %U "$dir")
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || echo "postgres.sh: pg_ctl stop failed (see $dir/server.log)" >&2
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: postgres.sh start DIR [PORT] | stop DIR | bindir" >&2
    exit 2
    ;;
esac
