#!/usr/bin/env bash
# Prepare the cross-engine check (tests/pytest/test_cross_engine.py, docs/engines.md):
#   1. build <root>/.venv-engines from requirements/engines.lock (dbt-core, dbt-postgres, dbt-spark[session],
#      pyspark, duckdb, pandas), hash-checked, rebuilt only when the lock changed;
#   2. start a throwaway PostgreSQL cluster on 127.0.0.1 (data folder $ARREARS_PG_DIR, default
#      /tmp/arrears-pg-<port>, outside the checkout so the postgres OS user can reach it) and create the
#      database `arrears`.
# Java (17+) must be on the machine for Spark; it is installed from Debian's packages when missing, and so is
# PostgreSQL. The script is idempotent: a second run finds the venv up to date and the cluster already running.
#
#   bash scripts/ci/setup_engines.sh            # venv + PostgreSQL
#   bash scripts/ci/setup_engines.sh --stop     # stop the PostgreSQL cluster it started
#
# Connection details the tests and dbt's `postgres` target read (all have these defaults):
#   ARREARS_PG_HOST=127.0.0.1 ARREARS_PG_PORT=54329 ARREARS_PG_USER=arrears ARREARS_PG_PASSWORD=arrears
#   ARREARS_PG_DATABASE=arrears
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LOCK="$ROOT/requirements/engines.lock"
VENV="${ARREARS_ENGINES_VENV:-$ROOT/.venv-engines}"
PYTHON="${PYTHON:-python3}"
PG_DIR="${ARREARS_PG_DIR:-${TMPDIR:-/tmp}/arrears-pg-${ARREARS_PG_PORT:-54329}}"
PG_PORT="${ARREARS_PG_PORT:-54329}"
PG_USER="${ARREARS_PG_USER:-arrears}"
PG_PASSWORD="${ARREARS_PG_PASSWORD:-arrears}"
PG_DATABASE="${ARREARS_PG_DATABASE:-arrears}"
PG_OS_USER="${ARREARS_PG_OS_USER:-postgres}"   # postgres refuses to run as root: the cluster runs as this user

log() { echo "[setup_engines] $*"; }

find_pg_bin() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ]; then PG_BIN="$dir"; fi
    done
    [ -n "${PG_BIN:-}" ]
}

as_pg_user() {
    if [ "$(id -u)" = 0 ]; then runuser -u "$PG_OS_USER" -- "$@"; else "$@"; fi
}

stop_cluster() {
    find_pg_bin || { log "no PostgreSQL binaries found"; return 0; }
    if [ -f "$PG_DIR/data/postmaster.pid" ]; then
        as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop || true
    fi
}

if [ "${1:-}" = "--stop" ]; then stop_cluster; exit 0; fi

# --- system packages: Java for Spark, PostgreSQL server --------------------------------------------------
need_apt=()
if ! command -v java >/dev/null 2>&1; then need_apt+=(openjdk-17-jre-headless); fi
if ! find_pg_bin; then need_apt+=(postgresql); fi
if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "Missing system packages: ${need_apt[*]} (install them with apt-get as root)" >&2; exit 1
    fi
    log "installing ${need_apt[*]} from Debian's packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
    find_pg_bin || { echo "PostgreSQL binaries not found after installing" >&2; exit 1; }
fi

# --- the virtual environment ---------------------------------------------------------------------------------
. "$ROOT/scripts/ci/locked_venv.sh"
build_locked_venv engines "$LOCK" "$VENV" "$PYTHON"
# the project's package (arrears/, pyproject.toml) installed editable, as the Makefile does for .venv
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e "$ROOT" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
"$VENV/bin/python" - <<'PY'
from importlib.metadata import version
print("[setup_engines] " + ", ".join(f"{p} {version(p)}" for p in
      ("dbt-core", "dbt-postgres", "dbt-spark", "pyspark", "duckdb", "pandas", "psycopg2-binary")))
PY
java -version 2>&1 | sed -n '1p' | sed 's/^/[setup_engines] java: /'

# --- PostgreSQL: a throwaway cluster on 127.0.0.1 ---------------------------------------------------------------
if [ "$(id -u)" = 0 ]; then
    if ! id "$PG_OS_USER" >/dev/null 2>&1; then
        log "creating OS user $PG_OS_USER"
        useradd --system --home-dir /var/lib/postgresql --shell /bin/bash "$PG_OS_USER"
    fi
fi
mkdir -p "$PG_DIR"
if [ "$(id -u)" = 0 ]; then chown "$PG_OS_USER" "$PG_DIR"; fi

if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    log "initdb in $PG_DIR/data"
    pwfile="$PG_DIR/.pwfile"
    printf '%s\n' "$PG_PASSWORD" > "$pwfile"
    if [ "$(id -u)" = 0 ]; then chown "$PG_OS_USER" "$pwfile"; fi
    as_pg_user "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$PG_USER" --pwfile="$pwfile" --auth=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
fi

if as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
    log "PostgreSQL already running in $PG_DIR/data"
else
    # a lock file left by a cluster that was killed (not stopped) could name a PID reused since: not running = stale
    rm -f "$PG_DIR/data/postmaster.pid"
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    # small and fast for a throwaway test cluster: no durability needed
    as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB -c max_connections=20"
fi

export PGPASSWORD="$PG_PASSWORD"
psql_cmd=("$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -v ON_ERROR_STOP=1 -qAt)
if [ "$("${psql_cmd[@]}" -d postgres -c "select count(*) from pg_database where datname = '$PG_DATABASE'")" = 0 ]; then
    "${psql_cmd[@]}" -d postgres -c "create database \"$PG_DATABASE\""
fi
log "PostgreSQL ready: postgresql://$PG_USER@127.0.0.1:$PG_PORT/$PG_DATABASE ($("${psql_cmd[@]}" -d "$PG_DATABASE" -c 'show server_version'))"
