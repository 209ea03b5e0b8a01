#!/usr/bin/env bash
# Build .venv-airflow (Apache Airflow, in its own environment) from requirements/airflow.lock.
# Airflow and dbt never share a venv: the DAG's tasks call the project's .venv (dbt, duckdb) as a subprocess.
#
#   orchestration/airflow/setup_venv.sh            # builds <root>/.venv-airflow (skips when up to date)
#   AIRFLOW_VENV=/some/dir orchestration/airflow/setup_venv.sh
#
# Re-runs are cheap: the venv is rebuilt only when the lock file changed (scripts/ci/locked_venv.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LOCK="$ROOT/requirements/airflow.lock"
VENV="${AIRFLOW_VENV:-$ROOT/.venv-airflow}"
PYTHON="${PYTHON:-python3}"

. "$ROOT/scripts/ci/locked_venv.sh"
build_locked_venv Airflow "$LOCK" "$VENV" "$PYTHON"
"$VENV/bin/airflow" version
