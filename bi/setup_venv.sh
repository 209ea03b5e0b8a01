#!/usr/bin/env bash
# Build .venv-bi (Apache Superset, in its own environment) from requirements/bi.lock.
# Superset and dbt never share a venv: Superset only reads the published DuckDB file (docs/bi.md).
#
#   bi/setup_venv.sh                    # builds <root>/.venv-bi (skips when up to date)
#   BI_VENV=/some/dir bi/setup_venv.sh
#
# Re-runs are cheap: the venv is rebuilt only when the lock file changed (scripts/ci/locked_venv.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
LOCK="$ROOT/requirements/bi.lock"
VENV="${BI_VENV:-$ROOT/.venv-bi}"
PYTHON="${PYTHON:-python3}"

. "$ROOT/scripts/ci/locked_venv.sh"
build_locked_venv Superset "$LOCK" "$VENV" "$PYTHON"
# (the command line is checked with a throwaway home and secret key: superset refuses to start without one)
CHECK_HOME="$(mktemp -d)"
SUPERSET_HOME="$CHECK_HOME" SUPERSET_SECRET_KEY=version-check "$VENV/bin/superset" version
rm -rf "$CHECK_HOME"
