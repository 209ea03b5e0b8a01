#!/usr/bin/env bash
# Build .venv-airflow (Apache Airflow, in its own environment) from requirements/airflow.lock.
# Airflow and dbt never share a venv: the DAG's tasks call the project's .venv (dbt, duckdb) as a subprocess.
#
#   orchestration/airflow/setup_venv.sh            # builds <root>/.venv-airflow (skips when up to date)
#   AIRFLOW_VENV=/some/dir orchestration/airflow/setup_venv.sh
#
# Re-runs are cheap: the venv is rebuilt only when the lock file changed (a copy of it is kept inside the venv).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LOCK="$ROOT/requirements/airflow.lock"
VENV="${AIRFLOW_VENV:-$ROOT/.venv-airflow}"
PYTHON="${PYTHON:-python3}"

"$PYTHON" -c 'import sys; sys.exit("Python 3.11 is required for the Airflow lock, found " + sys.version.split()[0]) if sys.version_info[:2] != (3, 11) else None'

if [ -f "$VENV/.installed-lock" ] && cmp -s "$LOCK" "$VENV/.installed-lock"; then
    echo "$VENV is up to date with $LOCK"
    exit 0
fi

echo "Building $VENV from $LOCK (a few minutes the first time)"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
# (the grep drops pip's notes about find-links folders of this machine's pip.conf that do not exist)
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r "$LOCK" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
"$VENV/bin/python" -m pip check
cp "$LOCK" "$VENV/.installed-lock"
"$VENV/bin/airflow" version
