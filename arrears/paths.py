"""Where things live, resolved against the project root (never the current directory)."""
from __future__ import annotations

import os
import tempfile
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


def spill_root_of(db: Path) -> Path:
    """Where DuckDB work beside the database `db` spills: ARREARS_DUCKDB_TEMP_DIR, else `duckdb_tmp` beside it."""
    value = os.environ.get("ARREARS_DUCKDB_TEMP_DIR")
    return Path(value) if value else Path(db).parent / "duckdb_tmp"


def private_spill_dir(prefix: str, spill_root: Path | str | None = None) -> str:
    """A new private folder for one DuckDB connection's spill files, under `spill_root` (else
    ARREARS_DUCKDB_TEMP_DIR, else the system's temp); the caller removes it when the connection is closed."""
    root = spill_root or os.environ.get("ARREARS_DUCKDB_TEMP_DIR") or None
    if root:
        Path(root).mkdir(parents=True, exist_ok=True)
    return tempfile.mkdtemp(prefix=prefix, dir=root)
