"""Reading the warehouse file: one place that opens it read-only, checks relations and quotes names.

DuckDB lets readers share a file only with readers: a connection opened here never blocks another reader,
and a clear WarehouseError (not a DuckDB traceback) says what to do when the file is missing, is not a
DuckDB file, or is being written.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from .errors import EXIT_DATABASE, EXIT_NO_MARTS, ArrearsError


class WarehouseError(ArrearsError):
    """The warehouse cannot be read: missing file, locked by a writer, or a relation is not there."""


# Tables the project's hooks keep to record which dbt invocation built a model (`<model>__run`, and the
# invocation of the upstream model a model was built on: `__history_run`, `__upstream_run`, `__invoices_run`;
# macros/history_restated.sql, macros/restated.sql, macros/staging_delta.sql): they differ between any two builds
# of the same data, so comparisons of builds leave them out.
RUN_RECORD_SUFFIXES = ("__run", "__history_run", "__upstream_run", "__invoices_run")


def is_run_record(table: str) -> bool:
    """True for a table that records the dbt invocation that built a model (RUN_RECORD_SUFFIXES)."""
    return table.lower().endswith(RUN_RECORD_SUFFIXES)


def quote_identifier(name: str) -> str:
    """A SQL identifier in double quotes, embedded quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def open_readonly(db: Path, config: dict | None = None):
    """A read-only DuckDB connection to `db`; WarehouseError (exit 2) when it is missing or cannot be opened."""
    import duckdb

    db = Path(db)
    if not db.exists():
        raise WarehouseError(f"database {db} does not exist: run the pipeline first (make run) or pass --db",
                             EXIT_DATABASE)
    if not db.is_file():
        raise WarehouseError(f"database {db} is not a file", EXIT_DATABASE)
    try:
        return duckdb.connect(str(db), read_only=True, config=config or {})
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot open database {db} read-only (is it a DuckDB file, and is no process "
                             f"writing it?): {exc}", EXIT_DATABASE) from exc


def relation_exists(con, schema: str, name: str) -> bool:
    return con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name]).fetchone()[0] > 0


def require_relations(con, db: Path, schema: str, names: Iterable[str]) -> None:
    """WarehouseError (exit 4) naming every relation of `names` that `schema` lacks."""
    missing = [n for n in names if not relation_exists(con, schema, n)]
    if missing:
        raise WarehouseError(
            f"database {db} has no {', '.join(schema + '.' + n for n in missing)}: the pipeline has not been "
            "run (or did not finish) on it; run `make run` or arrears-run first", EXIT_NO_MARTS)


def columns_of(con, schema: str, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position", [schema, table]).fetchall()]


def built_as_of(con) -> dt.date | None:
    """The as-of date the warehouse was built for (intermediate.int_as_of_date), None when it is not there."""
    if not relation_exists(con, "intermediate", "int_as_of_date"):
        return None
    row = con.execute("select max(as_of_date) from intermediate.int_as_of_date").fetchone()
    return row[0] if row else None
