"""Shared helpers for the pytest suite: write contract folders, run dbt as a subprocess, read the result.

Every test that builds works in its own folder (database file, dbt target and log folders, DuckDB spill
folder), so tests never share a DuckDB lock with each other, with other checkouts or with `make run`.

    raw = write_contract_folder(tmp_path / "raw", {"customers": [...], "invoices": [...], "payments": [...]})
    run_dbt("build", db=tmp_path / "x.duckdb", raw_dir=raw, as_of="2026-03-31", select="+fct_invoices")
    rows = query(tmp_path / "x.duckdb", "select invoice_id, outstanding_amount from marts.fct_invoices")
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from arrears import contract
from arrears.paths import ROOT

DBT = ROOT / ".venv" / "bin" / "dbt"

# The raw input contract (arrears/contract.py): columns in contract order, required first.
CONTRACT_COLUMNS: dict[str, tuple[str, ...]] = {name: spec.columns for name, spec in contract.TABLES.items()}
REQUIRED_TABLES = contract.REQUIRED_TABLES
OPTIONAL_TABLES = contract.OPTIONAL_TABLES


class DbtError(AssertionError):
    """dbt exited non-zero; the message carries the command and the tail of its output and log."""

    def __init__(self, message: str, result: subprocess.CompletedProcess[str]):
        super().__init__(message)
        self.result = result


def log_measured(line: str) -> None:
    """Record a figure a test measured (timings, scores) for the end-of-run summary "measured by the tests"
    (conftest.pytest_terminal_summary); under pytest-xdist a worker's printed output would be lost."""
    path = os.environ.get("ARREARS_MEASURED_LOG")
    if not path:
        print(line, flush=True)
        return
    with open(path, "a", encoding="utf-8") as handle:  # one short append per line: whole lines, any worker
        handle.write(line.replace("\n", " ").strip() + "\n")


def _text(value: Any) -> str:
    """A value as the contract writes it: empty for null, ISO dates, plain decimals, true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def write_contract_folder(
    path: Path | str,
    tables: Mapping[str, Iterable[Mapping[str, Any]]],
    columns: Mapping[str, Sequence[str]] | None = None,
) -> Path:
    """Write one `<table>.csv` per entry of `tables` into `path` (created if needed) and return `path`.

    The header is the table's contract columns in contract order, followed by any other key found in the
    rows (extra columns are allowed by the contract); a table with no rows gets a header-only file.
    `columns` overrides the header of a table exactly (e.g. to leave out a required column); keys of a row
    missing from the header are then dropped. Tables not named in `tables` are not written (absent).
    Values: None -> empty field, dates -> YYYY-MM-DD, Decimal -> plain notation, bool -> true/false.
    """
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    for table, rows in tables.items():
        rows = list(rows)
        if columns and table in columns:
            header = list(columns[table])
        else:
            header = list(CONTRACT_COLUMNS.get(table, ()))
            for row in rows:
                header.extend(key for key in row if key not in header)
        with open(folder / f"{table}.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            for row in rows:
                writer.writerow([_text(row.get(col)) for col in header])
    return folder


def _tail(text: str, lines: int) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run_dbt(
    args: str | Sequence[str] = "build",
    *,
    db: Path | str,
    raw_dir: Path | str,
    as_of: dt.date | str | None = None,
    select: str | Sequence[str] | None = None,
    exclude: str | Sequence[str] | None = None,
    extra_vars: Mapping[str, Any] | None = None,
    run_date: dt.date | None = None,
    check: bool = True,
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    """Run dbt on this project against the DuckDB file `db`, reading the contract folder `raw_dir`.

    dbt's target and log folders and DuckDB's spill folder go beside `db` (`<db stem>_dbt/`), so two
    builds with different `db` never share anything. `as_of` sets var as_of_date (None = the project's
    default, the latest invoice or payment date). `select` / `exclude` are dbt selectors (a string or a
    list), e.g. exclude=["resource_type:test", "resource_type:unit_test"] to build models only.
    The raw format is Parquet when the folder holds Parquet files and no CSV (extra_vars may say otherwise).
    `run_date` goes in the environment (ARREARS_RUN_DATE), as the pipeline passes it: successive runs on the
    same `db` with different run dates keep dbt's partial parsing (a changed var re-parses everything).
    With `check` (the default) a non-zero exit raises DbtError with the tail of dbt's output and log;
    otherwise the CompletedProcess is returned as is (see dbt_output()).
    """
    db = Path(db).resolve()
    work = db.parent / f"{db.stem}_dbt"
    work.mkdir(parents=True, exist_ok=True)
    dbt_vars: dict[str, Any] = {"raw_dir": str(Path(raw_dir).resolve())}
    if Path(raw_dir).is_dir() and any(Path(raw_dir).glob("*.parquet")) and not any(Path(raw_dir).glob("*.csv")):
        dbt_vars["raw_format"] = "parquet"  # as the pipeline reads a folder (e.g. arrears.loads' extracts)
    if as_of is not None:
        dbt_vars["as_of_date"] = as_of.isoformat() if isinstance(as_of, dt.date) else str(as_of)
    dbt_vars.update(extra_vars or {})
    cmd = [str(DBT), *([args] if isinstance(args, str) else args),
           "--project-dir", str(ROOT), "--profiles-dir", str(ROOT),
           "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
           "--vars", json.dumps(dbt_vars)]
    if select:
        cmd += ["--select", *([select] if isinstance(select, str) else select)]
    if exclude:
        cmd += ["--exclude", *([exclude] if isinstance(exclude, str) else exclude)]
    env = dict(os.environ)
    env.update({
        "DO_NOT_TRACK": "1",
        "ARREARS_DB": str(db),
        "ARREARS_HOME": str(ROOT),
        "ARREARS_TARGET": "duckdb",
        "ARREARS_DUCKDB_TEMP_DIR": str(work / "duckdb_tmp"),
    })
    if run_date is not None:
        env["ARREARS_RUN_DATE"] = run_date.isoformat()
    else:
        env.pop("ARREARS_RUN_DATE", None)
    result = subprocess.run(cmd, env=env, cwd=work, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        log_file = work / "logs" / "dbt.log"
        log_tail = _tail(log_file.read_text(encoding="utf-8", errors="replace"), 40) if log_file.exists() else ""
        raise DbtError(
            f"dbt exited {result.returncode}: {' '.join(cmd[1:])}\n"
            f"--- output (tail) ---\n{_tail(result.stdout + result.stderr, 40)}\n"
            f"--- {log_file} (tail) ---\n{log_tail}",
            result,
        )
    return result


def dbt_output(result: subprocess.CompletedProcess[str]) -> str:
    """stdout and stderr of a dbt run, for asserting on messages."""
    return (result.stdout or "") + (result.stderr or "")


def query(db: Path | str, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
    """Rows of `sql` on the DuckDB file `db`, opened read-only (never holds the write lock)."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def query_dicts(db: Path | str, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
    """Rows of `sql` as dicts keyed by column name (read-only)."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def relation_exists(db: Path | str, schema: str, name: str) -> bool:
    """Whether the table or view `schema.name` exists in `db`."""
    rows = query(db, "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                 [schema, name])
    return rows[0][0] > 0


def read_csv_rows(path: Path | str) -> list[dict[str, str]]:
    """The data rows of a CSV file as dicts of text (header row as keys)."""
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


class Build:
    """A finished dbt build: its database file and the contract folder it read."""

    def __init__(self, db: Path, raw_dir: Path, as_of: dt.date | None = None):
        self.db = Path(db)
        self.raw_dir = Path(raw_dir)
        self.as_of = as_of

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        return query(self.db, sql, params)

    def query_dicts(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        return query_dicts(self.db, sql, params)

    def __repr__(self) -> str:
        return f"Build(db={self.db}, raw_dir={self.raw_dir}, as_of={self.as_of})"
