#!/usr/bin/env bash
# Build .venv-bi (Apache Superset, in its own environment) from requirements/bi.lock.
# Superset and dbt never share a venv: Superset only reads the published DuckDB file (docs/bi.md).
#
#   bi/setup_venv.sh                    # builds <root>/.venv-bi (skips when up to date)
#   BI_VENV=/some/dir bi/setup_venv.sh
#
# Re-runs are cheap: the venv is rebuilt only when the lock file changed (a copy of it is kept inside the venv).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
LOCK="$ROOT/requirements/bi.lock"
VENV="${BI_VENV:-$ROOT/.venv-bi}"
PYTHON="${PYTHON:-python3}"

"$PYTHON" -c 'import sys; sys.exit("Python 3.11 is required for the Superset lock, found " + sys.version.split()[0]) if sys.version_info[:2] != (3, 11) else None'

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
# (the command line is checked with a throwaway home and secret key: superset refuses to start without one)
CHECK_HOME="$(mktemp -d)"
SUPERSET_HOME="$CHECK_HOME" SUPERSET_SECRET_KEY=version-check "$VENV/bin/superset" version
rm -rf "$CHECK_HOME"
