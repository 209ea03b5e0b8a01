"""Where things live, resolved against the project root (never the current directory)."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"


def default_db() -> Path:
    """The published DuckDB file: ARREARS_DB, else target/arrears.duckdb under the project root."""
    value = os.environ.get("ARREARS_DB")
    return Path(value).resolve() if value else ROOT / "target" / "arrears.duckdb"


def default_raw_dir() -> Path:
    return ROOT / "data" / "raw"


def default_out_dir() -> Path:
    return ROOT / "out"


def dbt_executable() -> str:
    """dbt from the project's virtual environment, else the one on PATH."""
    candidate = VENV_BIN / "dbt"
    return str(candidate) if candidate.exists() else "dbt"
