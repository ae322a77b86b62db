#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests and benchmarks of the PostgreSQL ledger backend
# (docs/ledger.md §Storage, docs/scale-out.md §Ledger).
#
#   pg_cluster.sh start STATE_DIR   initdb a new cluster in a fresh /tmp directory, start it
#                                   listening only on a unix socket in that directory (no TCP),
#                                   create the database "medallion", print its URL and write it
#                                   to STATE_DIR/url
#   pg_cluster.sh stop STATE_DIR    stop the cluster (immediate shutdown) and delete its files
#   pg_cluster.sh url STATE_DIR     print the URL of a running cluster (exit 1 if none)
#
# For ctest's fixture (tests/ledger/CMakeLists.txt), which must never fail for want of PostgreSQL:
#   pg_cluster.sh ctest-start STATE_DIR   as start, but a no-op when MEDALLION_PG_URL is set (the
#                                   caller's cluster is used, e.g. the one of scripts/test.sh) or
#                                   MEDALLION_NO_POSTGRES=1, and a message instead of a cluster
#                                   when PostgreSQL is not installed (the tests then skip)
#   pg_cluster.sh ctest-stop STATE_DIR    stop what ctest-start started
#
# For the process-level tests:
#   pg_cluster.sh new-schema STATE_DIR PREFIX   create a fresh schema PREFIX_<pid>_<random> in the
#                                   test database ($MEDALLION_PG_URL, else STATE_DIR/url) and print
#                                   a URL that selects it (options=-csearch_path=...); exit 77 when
#                                   there is no cluster (MEDALLION_NO_POSTGRES=1, none started)
#   pg_cluster.sh drop-schema URL   drop the schema a new-schema URL selects
#
# PostgreSQL refuses to run as root: as root the cluster belongs to the user postgres (runuser);
# otherwise to the caller. Authentication is "trust", safe because the only way in is the socket
# in a 0700 directory of that user. PGBIN overrides the server's bin directory (default: the
# newest /usr/lib/postgresql/*/bin, Debian's layout).
set -euo pipefail

cmd=${1:-}
state=${2:-}
if [[ -z $cmd || -z $state ]]; then
  echo "usage: pg_cluster.sh start|stop|url|ctest-start|ctest-stop|new-schema STATE_DIR | drop-schema URL" >&2
  exit 2
fi

find_pgbin() {
  if [[ -n ${PGBIN:-} ]]; then
    echo "$PGBIN"
    return
  fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  echo "$d"
}

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

owner_name() {
  if [[ $(id -u) -eq 0 ]]; then echo postgres; else id -un; fi
}

start() {
  local pgbin
  pgbin=$(find_pgbin)
  if [[ -z $pgbin || ! -x $pgbin/initdb ]]; then
    echo "pg_cluster: PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin)" >&2
    return 3
  fi
  mkdir -p "$state"
  if [[ -f $state/cluster ]]; then stop; fi
  local dir user
  dir=$(mktemp -d "${TMPDIR:-/tmp}/medallion-pg.XXXXXX")
  user=$(owner_name)
  chmod 0700 "$dir"
  if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; fi
  echo "$dir" >"$state/cluster"
  # --no-sync: the cluster is thrown away; fsync stays on for the server itself (the default),
  # so that commit figures (docs/benchmarks.md) include a real WAL flush.
  if ! as_owner "$pgbin/initdb" -D "$dir/data" -U "$user" --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    return 1
  fi
  # Only the unix socket in $dir: listen_addresses='' opens no TCP port at all.
  if ! as_owner "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c max_connections=300 -c fsync=on" \
    start >/dev/null; then
    cat "$dir/server.log" >&2 || true
    return 1
  fi
  if ! as_owner "$pgbin/createdb" -h "$dir" -U "$user" medallion; then
    echo "pg_cluster: createdb failed" >&2
    return 1
  fi
  local url="postgresql:///medallion?host=$dir&user=$user"
  echo "$url" >"$state/url"
  echo "$url"
}

stop() {
  [[ -f $state/cluster ]] || return 0
  local dir pgbin
  dir=$(cat "$state/cluster")
  pgbin=$(find_pgbin)
  if [[ -n $dir && -d $dir/data ]]; then
    as_owner "$pgbin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  case $dir in
    */medallion-pg.*) rm -rf "$dir" ;;
  esac
  rm -f "$state/cluster" "$state/url"
}

base_url() {
  if [[ ${MEDALLION_NO_POSTGRES:-0} == 1 ]]; then return 1; fi
  if [[ -n ${MEDALLION_PG_URL:-} ]]; then
    echo "$MEDALLION_PG_URL"
    return 0
  fi
  [[ -f $state/url ]] || return 1
  cat "$state/url"
}

psql_run() {
  local pgbin
  pgbin=$(find_pgbin)
  PGOPTIONS="-c client_min_messages=warning" "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 "$@"
}

case $cmd in
  start) start ;;
  new-schema)
    prefix=${3:-t}
    if ! base=$(base_url); then
      echo "no PostgreSQL cluster (MEDALLION_PG_URL unset, none started in $state, or MEDALLION_NO_POSTGRES=1)" >&2
      exit 77
    fi
    name="${prefix}_$$_${RANDOM}"
    psql_run "$base" -c "CREATE SCHEMA $name" >/dev/null
    sep='?'
    [[ $base == *\?* ]] && sep='&'
    echo "${base}${sep}options=-csearch_path%3D${name}"
    ;;
  drop-schema)
    url=$state
    name=${url##*search_path%3D}
    name=${name%%&*}
    [[ $name =~ ^[a-z0-9_]+$ ]] || { echo "not a new-schema URL" >&2; exit 2; }
    psql_run "${url%[?&]options=*}" -c "DROP SCHEMA IF EXISTS $name CASCADE" >/dev/null
    ;;
  stop) stop ;;
  url)
    [[ -f $state/url ]] || exit 1
    cat "$state/url"
    ;;
  ctest-start)
    if [[ ${MEDALLION_NO_POSTGRES:-0} == 1 ]]; then
      echo "MEDALLION_NO_POSTGRES=1: no PostgreSQL cluster; the PostgreSQL tests skip"
      stop
      exit 0
    fi
    if [[ -n ${MEDALLION_PG_URL:-} ]]; then
      echo "using MEDALLION_PG_URL from the environment"
      stop
      exit 0
    fi
    rc=0
    start >/dev/null || rc=$?
    if [[ $rc -eq 3 ]]; then
      echo "PostgreSQL is not installed: the PostgreSQL tests skip (scripts/deps.sh installs it)"
      exit 0
    fi
    if [[ $rc -ne 0 ]]; then exit "$rc"; fi
    echo "cluster started: $(cat "$state/url")"
    ;;
  ctest-stop) stop ;;
  *)
    echo "usage: pg_cluster.sh start|stop|url|ctest-start|ctest-stop STATE_DIR" >&2
    exit 2
    ;;
esac
