"""Delivery in increments (contract version 2): a table given as a folder of loads becomes one extract.

A table may arrive as `<table>.csv` / `<table>.parquet` (a full extract) or as a folder `<table>/` of loads
(`<table>/<name>.csv|.parquet`, typically one a day named by its load date). For a delivery with at least one
folder, this module applies the contract's rules and writes every table as one Parquet extract
(`<out>/<table>.parquet`) the warehouse reads unchanged:

* the same key in several loads: the latest `updated_at` wins (an unparsable or missing `updated_at` sorts
  below any real one); on equal or missing `updated_at`, the row of the load whose file name sorts last wins;
* every row of the winning load for a key is kept, so a key repeated *within* one load still reaches staging
  and is set aside there as `duplicate_key`, as in a full extract; rows with an empty key are all kept
  (staging sets them aside as `null_key`);
* the older versions are superseded, not lost: they are counted per table and load in the report
  (`<out>/loads.json` from the pipeline, and the run summary);
* every kept row carries its load's file name in an extra column `source_load`, so a row set aside later can
  be traced to its load, the extract's generation in `load_generation` (below), and its key as staging
  reads it in `source_key` (trimmed of the same blanks as staging's `clean_text`; a key is one key here
  exactly when it is one key in staging); extra columns are allowed and ignored by staging's contract checks.

**Only the loads not processed yet are read (issue 15).** Each extract records, in its own Parquet metadata
(written in the same file, so the record and the rows cannot disagree), the loads it holds (name, size,
modification time), the cumulative counts, and its generation. A run reads only the loads that are new since
then and merges them with the extract's current version of their keys (the previous winner dominates every
older version, so the result is the one a rebuild from every load gives). When a load already processed
changed or disappeared, or the delivery's format changed, the table is rebuilt from every load under a new
generation; the warehouse's incremental staging sees the new generation and restates the whole table.
Full-extract tables of the same delivery are converted to Parquet (all text when delivered as CSV), again
only when the file changed.

**Bounded memory.** The merge runs in DuckDB under the dbt profile's memory limit (`ARREARS_DUCKDB_MEMORY_LIMIT`)
and spills beyond it into a private folder; it ranks versions only for the keys that have more than one
candidate row, so a rebuild from a long history of loads does not partition every row of it.

Nothing is deleted by omission: a key absent from later loads keeps its last version. A table given both
as a file and as a folder is an error (which one is the truth?), as is a folder mixing CSV and Parquet or a
delivery mixing formats across tables.

    arrears-consolidate-loads --raw-dir IN --out DIR    # for dbt users who run dbt themselves
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from .atomic import write_json
from .contract import TABLES
from .errors import EXIT_USAGE, ArrearsError
from .paths import private_spill_dir
from .sql import literal
from .warehouse import quote_identifier

FORMATS = ("csv", "parquet")
OUT_FORMAT = "parquet"
LOAD_COLUMN = "source_load"
GENERATION_COLUMN = "load_generation"
KEY_COLUMN = "source_key"
# the blanks staging's clean_text() trims from a key (macros/text.sql, default__blank_chars; a test checks they
# agree): two spellings of a key that staging reads as one are one key here too
KEY_BLANKS = " \t\n\r\u00a0\u3000"
STATE_KEY = "arrears_loads_state"
STATE_VERSION = 1
# the memory the merge may hold before DuckDB spills to disk: the dbt profile's limit (same variable, same
# default), so consolidating a long history of loads costs no more memory than the build that follows
DEFAULT_MEMORY_LIMIT = "4GB"


class LoadsError(ArrearsError):
    """The delivery's shape is ambiguous (a table both as file and folder, mixed formats)."""

    exit_code = EXIT_USAGE


@dataclass
class TableLoads:
    table: str
    loads: list[str]
    rows_read: int = 0          # rows of every load (cumulative over the runs of one generation)
    rows_kept: int = 0          # rows of the extract
    superseded_by_load: dict[str, int] = field(default_factory=dict)
    loads_read: list[str] = field(default_factory=list)   # the loads this run read
    rebuilt: bool = True        # every load read (first run, or a processed load changed)
    generation: str = ""

    @property
    def superseded(self) -> int:
        return self.rows_read - self.rows_kept


@dataclass
class LoadsReport:
    raw_dir: str
    out_dir: str
    file_format: str
    tables: list[TableLoads] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"raw_dir": self.raw_dir, "out_dir": self.out_dir, "format": self.file_format,
                "tables": [asdict(t) | {"superseded": t.superseded} for t in self.tables]}


def load_folders(raw_dir: Path) -> dict[str, list[Path]]:
    """The contract tables delivered as folders of loads, with their load files in name order."""
    found: dict[str, list[Path]] = {}
    for table in TABLES:
        folder = raw_dir / table
        if folder.is_dir():
            files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lstrip(".") in FORMATS)
            found[table] = files
    return found


def has_loads(raw_dir: Path) -> bool:
    return bool(load_folders(raw_dir))


def _format_of(raw_dir: Path, folders: dict[str, list[Path]]) -> str:
    formats: set[str] = set()
    for table in TABLES:
        for ext in FORMATS:
            if (raw_dir / f"{table}.{ext}").exists():
                if table in folders:
                    raise LoadsError(f"{table} is delivered both as {table}.{ext} and as the folder {table}/: "
                                     "deliver a table one way (a full extract or loads)")
                formats.add(ext)
    for table, files in folders.items():
        kinds = {p.suffix.lstrip(".") for p in files}
        if len(kinds) > 1:
            raise LoadsError(f"the folder {table}/ mixes CSV and Parquet loads; use one format")
        formats |= kinds
    if len(formats) > 1:
        raise LoadsError(f"{raw_dir} mixes CSV and Parquet contract files; use one format per delivery")
    return formats.pop() if formats else "csv"


def _reader(files: list[Path], file_format: str) -> str:
    paths = "[" + ", ".join(literal(str(p)) for p in files) + "]"
    if file_format == "parquet":
        return f"read_parquet({paths}, filename = true, union_by_name = true)"
    return (f"read_csv({paths}, header = true, all_varchar = true, delim = ',', quote = '\"', escape = '\"', "
            "filename = true, union_by_name = true)")


def _identity(path: Path) -> list[int]:
    """What says a file is the one processed before: its size and modification time (as make and rsync do;
    reading every processed load again to hash it would cost what reading only new loads saves)."""
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def _stored_state(con: duckdb.DuckDBPyConnection, target: Path) -> dict | None:
    if not target.exists():
        return None
    try:
        rows = con.execute(f"select decode(key), decode(value) from parquet_kv_metadata({literal(str(target))})"
                           ).fetchall()
    except duckdb.Error:
        return None  # not a readable extract of ours: rebuilt
    for key, value in rows:
        if key == STATE_KEY:
            state = json.loads(value)
            return state if state.get("version") == STATE_VERSION else None
    return None


def _write(con: duckdb.DuckDBPyConnection, select: str, target: Path, state: dict) -> None:
    """`select` into `target` (Parquet) with `state` in its metadata, atomically (a temporary file renamed)."""
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    text = json.dumps(state, sort_keys=True).replace("'", "''")
    con.execute(f"copy ({select}) to {literal(str(tmp))} (format parquet, kv_metadata {{{STATE_KEY}: '{text}'}})")
    os.replace(tmp, target)


def _whole_table(con: duckdb.DuckDBPyConnection, source: Path, target: Path, file_format: str) -> None:
    """A full extract of a delivery in loads, as Parquet (CSV read as text), converted again only when changed."""
    state = {"version": STATE_VERSION, "source": source.name, "identity": _identity(source), "format": file_format}
    if _stored_state(con, target) == state:
        return
    reader = (f"read_parquet({literal(str(source))})" if file_format == "parquet" else
              f"read_csv({literal(str(source))}, header = true, all_varchar = true, delim = ',', quote = '\"', "
              "escape = '\"')")
    _write(con, f"select * from {reader}", target, state)


def _empty(columns: tuple[str, ...]) -> str:
    """A SELECT of the contract's columns and no row."""
    nothing = ", ".join(f"cast(null as varchar) as {quote_identifier(c)}" for c in columns)
    return (f"select {nothing}, cast(null as varchar) as {LOAD_COLUMN}, "
            f"cast(null as varchar) as {GENERATION_COLUMN}, cast(null as varchar) as {KEY_COLUMN} where false")


def _merge_table(con: duckdb.DuckDBPyConnection, table: str, files: list[Path], target: Path,
                 file_format: str) -> TableLoads:
    """Bring the extract `target` of one table up to date with its folder of loads `files`."""
    spec = TABLES[table]
    entry = TableLoads(table, [p.name for p in files])
    identities = {p.name: _identity(p) for p in files}
    stored = _stored_state(con, target)
    incremental = (stored is not None and stored.get("format") == file_format
                   and all(identities.get(name) == ident for name, ident in stored["loads"].items()))
    if incremental:
        new_files = [p for p in files if p.name not in stored["loads"]]
        entry.rebuilt, entry.generation = False, stored["generation"]
        entry.rows_read, entry.superseded_by_load = stored["rows_read"], dict(stored["superseded_by_load"])
    else:
        new_files = files
        entry.generation = uuid.uuid4().hex[:16]
    entry.loads_read = [p.name for p in new_files]
    state = {"version": STATE_VERSION, "format": file_format, "generation": entry.generation,
             "loads": identities}
    if incremental and not new_files:  # nothing new: the extract stands (a changed identity would rebuild)
        entry.rows_kept = _row_count(con, target)
        return entry
    if not files:  # an empty folder: the table has no rows yet, which reads as an empty extract
        _write(con, _empty(spec.columns), target, state | {"rows_read": 0, "superseded_by_load": {}})
        return entry

    source = _reader(new_files, file_format)
    columns = [r[0] for r in con.execute(f"describe select * from {source}").fetchall()
               if r[0] not in ("filename", LOAD_COLUMN, GENERATION_COLUMN, KEY_COLUMN)]
    keys = [k for k in spec.key if k in columns]
    if len(keys) < len(spec.key):
        raise LoadsError(f"loads of {table} lack the key column(s) "
                         f"{', '.join(k for k in spec.key if k not in columns)}")
    key_text = [f"nullif(trim(cast({quote_identifier(k)} as varchar), {literal(KEY_BLANKS)}), '')" for k in keys]
    null_key = " or ".join(f"{k} is null" for k in key_text)
    keys_as = ", ".join(f"{k} as key_{i}" for i, k in enumerate(key_text))   # a key list: key_0, key_1...
    # a rebuild reads the loads where it needs them (a view: materialising every load first would write the whole
    # history to memory or to the spill folder); a daily merge keeps the day's rows as a table
    arriving = "arriving" if incremental else "arriving_loads"   # one name per kind: a view is no table
    con.execute(f"""
        create or replace temp {'table' if incremental else 'view'} {arriving} as
        select {', '.join(quote_identifier(c) for c in columns)},
               regexp_extract(filename, '[^/\\\\]+$') as {LOAD_COLUMN}
        from {source}""")
    rows_arriving = con.execute(f"select count(*) from {arriving}").fetchone()[0]
    stored_columns = _columns(con, target) if incremental else []
    if incremental:
        # the extract's rows of keys that arrive again compete with the new versions; the others stand
        current = f"read_parquet({literal(str(target))})"
        extract_columns = ", ".join(c for c in (GENERATION_COLUMN, KEY_COLUMN) if c in stored_columns)
        con.execute(f"""
            create or replace temp table arriving_keys as
            select distinct {keys_as}
            from arriving where not ({null_key})""")
        # the extract's keys as written (source_key), not cleaned again: cleaning every stored key cost seconds
        stored_key = [KEY_COLUMN] if len(keys) == 1 and KEY_COLUMN in stored_columns else key_text
        on = _keys_equal(stored_key, "arriving_keys")
        con.execute(f"""
            create or replace temp table competing as
            select * exclude ({extract_columns}) from {current} semi join arriving_keys on {on}""")
        standing = f"select * exclude ({extract_columns}) from {current} anti join arriving_keys on {on}"
        candidates = "select * from arriving union all by name select * from competing"
    else:
        standing, candidates = None, f"select * from {arriving}"
    updated = ("try_cast(cast(updated_at as varchar) as timestamp)"
               if "updated_at" in columns or "updated_at" in stored_columns else
               "cast(null as timestamp)")
    # Only a key with more than one candidate row has versions to rank (a correction, a void, a duplicate within
    # a load): a few percent of the keys. Those keys are listed first (an aggregate of the keys alone), then only
    # their rows are ranked; every other row wins unranked. Ranking every row instead partitioned the whole
    # history with all its columns (the slowest step of a rebuild, and the one that filled memory).
    con.execute(f"""
        create or replace temp table contested as
        select {keys_as}
        from ({candidates}) as candidates
        where not ({null_key})
        group by all
        having count(*) > 1""")
    contested_on = _keys_equal(key_text, "contested")
    con.execute(f"""
        create or replace temp table versions as
        select *,
               dense_rank() over (
                   partition by {', '.join(key_text)}
                   order by {updated} desc nulls last, {LOAD_COLUMN} desc
               ) as version_rank
        from ({candidates}) as candidates
        semi join contested on {contested_on}""")
    for load, count in con.execute(f"select {LOAD_COLUMN}, count(*) from versions where version_rank > 1 "
                                   "group by 1").fetchall():
        entry.superseded_by_load[load] = entry.superseded_by_load.get(load, 0) + count
    entry.superseded_by_load = dict(sorted(entry.superseded_by_load.items()))
    entry.rows_read += rows_arriving
    # rows with an empty key never match a contested key: all kept (staging sets them aside as null_key)
    body = (f"select * from ({candidates}) as candidates anti join contested on {contested_on} "
            "union all by name select * exclude (version_rank) from versions where version_rank = 1")
    if standing is not None:
        body = f"{standing} union all by name {body}"
    # the key as staging reads it (single-column keys): a daily run's staging selects the rows of restated keys
    # by this column instead of cleaning every key of the table again
    source_key = f", {key_text[0]} as {KEY_COLUMN}" if len(keys) == 1 else ""
    # not sorted: a merge costs what arrives, not a sort of the whole table (nothing reads the extract in any
    # order; the connection does not preserve insertion order, as dbt's does not)
    _write(con, f"select *, {literal(entry.generation)} as {GENERATION_COLUMN}{source_key} from ({body}) as kept",
           target,
           state | {"rows_read": entry.rows_read, "superseded_by_load": entry.superseded_by_load})
    entry.rows_kept = _row_count(con, target)
    return entry


def _keys_equal(keys: list[str], listed: str) -> str:
    """The join condition of rows keyed by the expressions `keys` to a key list `listed` (key_0, key_1...)."""
    return " and ".join(f"{k} = {listed}.key_{i}" for i, k in enumerate(keys))


def _columns(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    return [r[0] for r in con.execute(f"describe select * from read_parquet({literal(str(path))})").fetchall()]


def _row_count(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    return con.execute(f"select coalesce(sum(num_rows), 0) from parquet_file_metadata({literal(str(path))})"
                       ).fetchone()[0]


def consolidate(raw_dir: Path, out_dir: Path, spill_root: Path | None = None) -> LoadsReport:
    """Bring the Parquet extracts in `out_dir` up to date with the delivery `raw_dir` (module docstring).
    `out_dir` is kept between runs: it is what makes the next run read only the new loads. Beyond the memory
    limit DuckDB spills under `spill_root` (default: `ARREARS_DUCKDB_TEMP_DIR`, else the system's temp)."""
    raw_dir, out_dir = Path(raw_dir).resolve(), Path(out_dir).resolve()
    folders = load_folders(raw_dir)
    file_format = _format_of(raw_dir, folders)
    report = LoadsReport(str(raw_dir), str(out_dir), file_format)
    out_dir.mkdir(parents=True, exist_ok=True)
    con, spill = _connect(spill_root)
    try:
        for table in TABLES:
            target = out_dir / f"{table}.{OUT_FORMAT}"
            single = raw_dir / f"{table}.{file_format}"
            if table in folders:
                report.tables.append(_merge_table(con, table, folders[table], target, file_format))
            elif single.exists():
                _whole_table(con, single, target, file_format)
            else:
                target.unlink(missing_ok=True)  # absent from this delivery: absent from the extract
            for other in FORMATS:
                if other != OUT_FORMAT:
                    (out_dir / f"{table}.{other}").unlink(missing_ok=True)
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
    return report


def _connect(spill_root: Path | None) -> tuple[duckdb.DuckDBPyConnection, str]:
    """An in-memory DuckDB bounded by `ARREARS_DUCKDB_MEMORY_LIMIT` that spills into a private folder (under
    `spill_root`). Unbounded, a rebuild from the 759 loads of 1,000,000 customers reached 17.7 GiB."""
    spill = private_spill_dir("arrears_loads_", spill_root)
    config = {"memory_limit": os.environ.get("ARREARS_DUCKDB_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT,
              "temp_directory": spill, "preserve_insertion_order": False}
    return duckdb.connect(config=config), spill


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="arrears-consolidate-loads",
        description="Turn tables delivered as folders of loads (contract v2) into one Parquet extract each, "
                    "applying the contract's versioning rules and reading only the loads not processed yet; "
                    "full extracts are converted to Parquet.")
    parser.add_argument("--raw-dir", type=Path, required=True, help="the delivery (files and/or table folders)")
    parser.add_argument("--out", type=Path, required=True,
                        help="folder of the extracts, kept between runs (the next run reads only new loads)")
    parser.add_argument("--report", type=Path, default=None, help="also write the report as JSON here")
    args = parser.parse_args(argv)
    if not args.raw_dir.is_dir():
        print(f"arrears-consolidate-loads: error: {args.raw_dir} is not a folder", file=sys.stderr)
        return EXIT_USAGE
    if args.out.resolve() == args.raw_dir.resolve():
        print("arrears-consolidate-loads: error: --out must differ from --raw-dir", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = consolidate(args.raw_dir, args.out)
    except ArrearsError as exc:
        print(f"arrears-consolidate-loads: error: {exc}", file=sys.stderr)
        return exc.exit_code
    for t in report.tables:
        read = "every load (rebuilt)" if t.rebuilt else f"{len(t.loads_read)} new"
        print(f"{t.table}: {len(t.loads)} loads ({read}), {t.rows_read} rows read, {t.rows_kept} kept, "
              f"{t.superseded} superseded by later versions")
    if args.report:
        write_json(args.report, report.to_dict())
    return 0


if __name__ == "__main__":
    sys.exit(main())
