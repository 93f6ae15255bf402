#!/usr/bin/env bash
# A private PostgreSQL server for tests and CI (keeper replicas share one database: keepers/common/store-postgres.ts).
#
#   scripts/services/postgres.sh start DIR   installs PostgreSQL from the system packages when missing, creates a
#                                            cluster in DIR (first time), starts it on a free loopback port and prints
#                                            its URL (postgres://aitbc@127.0.0.1:PORT/postgres) as the last line
#   scripts/services/postgres.sh stop DIR    stops it (fast shutdown)
#
# Nothing is assumed to exist: no system cluster, no service manager. The cluster listens on 127.0.0.1 only, with
# `trust` authentication for its single role `aitbc`, its socket in DIR. PostgreSQL refuses to run as root: as root,
# the server runs as the system user `aitbc-pg` (created when missing), and DIR is handed to it. Timings go to stderr.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
action=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)
data="$dir/data"

as_server() { # runs a command as the user that owns the cluster
  if [[ $(id -u) -eq 0 ]]; then runuser -u aitbc-pg -- "$@"; else "$@"; fi
}

bin_dir() { # the newest installed server's bin folder (Debian keeps them under /usr/lib/postgresql/VERSION/bin)
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n $found && -x $found/pg_ctl ]]; then echo "$found"; return; fi
  if command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then dirname "$(command -v pg_ctl)"; fi
}

install_server() {
  local from=$SECONDS
  if [[ -n $(bin_dir) ]]; then return; fi
  echo "postgres.sh: installing PostgreSQL from the system packages" >&2
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "postgres.sh: PostgreSQL is not installed and this user cannot install it (not root, no sudo): install the postgresql package" >&2; exit 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq postgresql >&2
  echo "postgres.sh: installed in $((SECONDS - from)) s" >&2
}

free_port() {
  node -e 'const s = require("node:net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

case $action in
  start)
    install_server
    bin=$(bin_dir)
    [[ -n $bin ]] || { echo "postgres.sh: no pg_ctl/initdb found after the install" >&2; exit 1; }
    if [[ $(id -u) -eq 0 ]]; then
      id aitbc-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin aitbc-pg
      chown aitbc-pg "$dir"
    fi
    from=$SECONDS
    if [[ ! -f $data/PG_VERSION ]]; then
      as_server "$bin/initdb" -D "$data" -U aitbc --auth=trust --encoding=UTF8 --no-instructions >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    port=$(free_port)
    # fsync stays on: the kill -9 trials rely on what a commit wrote being there after a crash.
    as_server "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir' -c max_connections=50" \
      start >&2 || { cat "$dir/server.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
    echo "postgres.sh: started on 127.0.0.1:$port in $((SECONDS - from)) s (data $data)" >&2
    echo "postgres://aitbc@127.0.0.1:$port/postgres"
    ;;
  stop)
    bin=$(bin_dir)
    if [[ -n $bin && -f $data/postmaster.pid ]]; then as_server "$bin/pg_ctl" -D "$data" -m fast -w stop >&2 || true; fi
    ;;
  *) usage ;;
esac
