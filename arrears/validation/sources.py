"""Where the frames come from: DuckDB, read-only, fetched in bounded chunks.

* `RawSource`: the contract files of a raw folder, loaded into an in-memory DuckDB (the warehouse file
  may not exist yet) the way staging reads them (see `definitions.py`, raw section).
* `WarehouseSource`: the warehouse file opened with `read_only=True` (staging and marts stages).

Both spill to a private temporary folder (under `ARREARS_DUCKDB_TEMP_DIR` when set) beyond a memory limit
(`ARREARS_VALIDATION_MEMORY_LIMIT`, default 1GB), and `frames()` returns a batch as an iterator of pandas
frames: one frame for an aggregate query, or `ceil(rows / chunk_rows)` frames for a key-partitioned batch,
each holding the rows whose `hash(key) % n = i`, so no frame holds more than about `chunk_rows` rows and
every key lives in one frame.
The partitions come from one sorted pass over the query (see `_partitioned`).
"""
from __future__ import annotations

import math
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd

from arrears.contract import LOWERED, TABLES, UPPERED, table_input
from arrears.paths import private_spill_dir
from arrears.sql import literal
from arrears.validation.files import DATE_COLUMNS, csv_problem, parquet_problem, parquet_text_sql
from arrears.validation.suites import Batch

DEFAULT_MEMORY_LIMIT = "1GB"


class SourceError(RuntimeError):
    """The data could not be opened or read."""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_literal = literal


class _DuckSource:
    con: duckdb.DuckDBPyConnection

    def __init__(self) -> None:
        self._tmp = private_spill_dir("arrears_validate_")   # the pipeline puts the root beside the database
        self.config = {
            "memory_limit": os.environ.get("ARREARS_VALIDATION_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT),
            "temp_directory": self._tmp,
            "threads": int(os.environ.get("ARREARS_VALIDATION_THREADS", "2")),
        }
        self.notes: dict[str, str] = {}   # relation -> why it is missing/unreadable
        self.unreadable: set[str] = set()  # relations present but not readable (critical even when optional)

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> _DuckSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- catalogue --------------------------------------------------------------------------------
    def exists(self, relation: str) -> bool:
        schema, _, name = relation.partition(".")
        row = self.con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ? and not temporary "
            "union all select count(*) from duckdb_views() where schema_name = ? and view_name = ? and not temporary",
            [schema, name, schema, name]).fetchall()
        return sum(r[0] for r in row) > 0

    def undelivered_columns(self, relation: str) -> set[str]:
        """Required contract columns the input did not deliver (raw stage only; they read as null)."""
        return set()

    def row_count(self, sql: str) -> int:
        return int(self.con.execute(f"select count(*) from ({sql}) as q").fetchone()[0])

    # ---- frames -----------------------------------------------------------------------------------
    def frames(self, batch: Batch, chunk_rows: int) -> Iterator[tuple[pd.DataFrame, int, int]]:
        """Yield (frame, chunk number, chunk count) for the batch."""
        if not batch.partition_by:
            yield self._fetch(batch.sql), 0, 1
            return
        total = self.row_count(batch.sql)
        chunks = max(1, math.ceil(total / max(1, chunk_rows)))
        if chunks == 1:
            yield self._fetch(batch.sql), 0, 1
            return
        yield from self._partitioned(batch, chunks)

    def _partitioned(self, batch: Batch, chunks: int) -> Iterator[tuple[pd.DataFrame, int, int]]:
        """One pass over the query, sorted by key partition (DuckDB spills the sort to disk), streamed in
        small pieces and regrouped into one frame per partition: memory holds one partition at a time and
        the table is read once (a filter per partition would rescan it `chunks` times)."""
        key = ", ".join(_quote(c) for c in batch.partition_by)
        part = "__arrears_chunk"
        cursor = self.con.execute(
            f"select *, hash({key}) % {chunks} as {part} from ({batch.sql}) as q order by {part}")
        pending: list[pd.DataFrame] = []
        current = None
        while True:
            piece = cursor.fetch_df_chunk(vectors_per_chunk=16, date_as_object=True)
            if piece is None or len(piece) == 0:
                break
            labels = piece[part].to_numpy()
            for value in pd.unique(labels):
                segment = piece[labels == value]
                if current is not None and value != current:
                    yield self._emit(pending, part), int(current), chunks
                    pending = []
                current = value
                pending.append(segment)
            del piece
        if pending:
            yield self._emit(pending, part), int(current), chunks

    @staticmethod
    def _emit(pieces: list[pd.DataFrame], part: str) -> pd.DataFrame:
        frame = pieces[0] if len(pieces) == 1 else pd.concat(pieces, ignore_index=True)
        return frame.drop(columns=[part]).reset_index(drop=True)

    def _fetch(self, sql: str) -> pd.DataFrame:
        # dates as datetime.date objects: GX compares them with its parsed date bounds
        return self.con.execute(sql).fetchdf(date_as_object=True)


class WarehouseSource(_DuckSource):
    """The DuckDB warehouse file, opened read-only."""

    def __init__(self, db: Path) -> None:
        super().__init__()
        if not db.is_file():
            self.close_tmp()
            raise SourceError(f"database {db} does not exist")
        try:
            self.con = duckdb.connect(str(db), read_only=True, config=self.config)
        except duckdb.Error as exc:
            self.close_tmp()
            raise SourceError(f"cannot open {db} read-only: {exc}") from exc
        self.db = db

    def close_tmp(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)

    def describe_missing(self, relation: str) -> str:
        return f"{relation} is not in {self.db}"


class RawSource(_DuckSource):
    """The contract files of one folder, loaded into an in-memory DuckDB as raw.<table>."""

    def __init__(self, raw_dir: Path) -> None:
        super().__init__()
        self.raw_dir = raw_dir
        self.con = duckdb.connect(":memory:", config=self.config)
        self.con.execute("create schema raw; create schema raw_columns")
        self.files: dict[str, Path] = {}
        self.undelivered: dict[str, set[str]] = {}
        for table in TABLES:
            self._load(table)

    def describe_missing(self, relation: str) -> str:
        return self.notes.get(relation, f"{relation} is missing")

    def undelivered_columns(self, relation: str) -> set[str]:
        return self.undelivered.get(relation, set())

    def _find(self, table: str) -> Path | None:
        for ext in ("csv", "parquet"):
            path = table_input(self.raw_dir, table, ext)
            if path is not None:
                return path
        return None

    def _load(self, table: str) -> None:
        spec = TABLES[table]
        relation = f"raw.{table}"
        path = self._find(table)
        if path is None:
            self.notes[relation] = f"no {table}.csv or {table}.parquet in {self.raw_dir}"
            return
        self.files[table] = path
        problem = csv_problem(path) if path.suffix == ".csv" else None
        if problem:
            self.notes[relation] = f"{path} could not be read: {problem}"
            self.unreadable.add(relation)
            return
        if path.suffix == ".csv":
            reader = (f"read_csv({_literal(str(path))}, header = true, all_varchar = true, delim = ',', "
                      "quote = '\"', escape = '\"')")
        else:
            reader = f"read_parquet({_literal(str(path))})"
        try:
            described = self.con.execute(f"describe select * from {reader}").fetchall()
            delivered = [r[0] for r in described]
            types = {r[0]: str(r[1]) for r in described}
            present: dict[str, str] = {}
            for name in delivered:   # staging matches column names trimmed and case-insensitively
                present.setdefault(name.strip().lower(), name)
            if path.suffix == ".parquet":
                problem = parquet_problem({c: types[present[c]] for c in spec.columns if c in present}, path,
                                          {c for c, _, _ in spec.decimals})
                if problem:
                    self.notes[relation] = f"{path} could not be read: {problem}"
                    self.unreadable.add(relation)
                    return
            self.undelivered[relation] = {c for c in spec.required if c not in present}
            select = []
            for col in spec.columns:
                as_text = (parquet_text_sql(_quote(present[col]), types[present[col]], col in DATE_COLUMNS)
                           if col in present and path.suffix == ".parquet"
                           else f"cast({_quote(present[col])} as varchar)" if col in present else None)
                text = f"nullif(trim({as_text}), '')" if as_text else "cast(null as varchar)"
                if col in LOWERED:
                    text = f"lower({text})"
                elif col in UPPERED:
                    text = f"upper({text})"
                select.append(f"{text} as {col}")
            self.con.execute(
                f"create table raw_columns.{table} as select "
                + ", ".join(f"cast(null as varchar) as {_quote(n)}" for n in present) + " limit 0")
            typed = []
            for col, precision, scale in spec.decimals:
                typed.append(f"try_cast({col} as decimal({precision}, {scale})) as {col}__decimal")
            for col in spec.dates:
                typed.append(f"case when {col} like '____-__-__' then try_cast({col} as date) end as {col}__date")
            self.con.execute(
                f"create table {relation} as select *{''.join(', ' + t for t in typed)} "
                f"from (select {', '.join(select)} from {reader}) as cleaned")
        except duckdb.Error as exc:
            for rel in (relation, f"raw_columns.{table}"):
                self.con.execute(f"drop table if exists {rel}")
            # DuckDB's message: its first lines name the problem; the rest is advice on reader options
            lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
            message = " ".join(lines[:3]) if lines else type(exc).__name__
            self.notes[relation] = f"{path} could not be read: {message[:600]}"
            self.unreadable.add(relation)
