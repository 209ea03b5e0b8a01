"""Delivery in increments (contract version 2): a table given as a folder of loads becomes one full extract.

A table may arrive as `<table>.csv` / `<table>.parquet` (a full extract) or as a folder `<table>/` of loads
(`<table>/<name>.csv|.parquet`, typically one a day named by its load date). For a folder, this module
applies the contract's rules and writes the table as one extract the rest of the warehouse reads unchanged:

* the same key in several loads: the latest `updated_at` wins (an unparsable or missing `updated_at` sorts
  below any real one); on equal or missing `updated_at`, the row of the load whose file name sorts last wins;
* every row of the winning load for a key is kept, so a key repeated *within* one load still reaches staging
  and is set aside there as `duplicate_key`, as in a full extract; rows with an empty key are all kept
  (staging sets them aside as `null_key`);
* the older versions are superseded, not lost: they are counted per table and load in the report
  (`<out>/loads.json` from the pipeline, and the run summary);
* every kept row carries its load's file name in an extra column `source_load` (extra columns are allowed
  and ignored by staging), so a row set aside later can be traced to its load.

Nothing is deleted by omission: a key absent from later loads keeps its last version. A table given both
as a file and as a folder is an error (which one is the truth?), as is a folder mixing CSV and Parquet or a
delivery mixing formats across tables.

    arrears-consolidate-loads --raw-dir IN --out DIR    # for dbt users who run dbt themselves

This processes every load each run (exactly what processing only the new ones must give); processing only
the loads not seen yet is issue 15's incremental staging.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from .atomic import write_json
from .contract import TABLES
from .errors import EXIT_USAGE, ArrearsError
from .sql import literal
from .warehouse import quote_identifier

FORMATS = ("csv", "parquet")
LOAD_COLUMN = "source_load"


class LoadsError(ArrearsError):
    """The delivery's shape is ambiguous (a table both as file and folder, mixed formats)."""

    exit_code = EXIT_USAGE


@dataclass
class TableLoads:
    table: str
    loads: list[str]
    rows_read: int = 0
    rows_kept: int = 0
    superseded_by_load: dict[str, int] = field(default_factory=dict)

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


def _write_empty(con: duckdb.DuckDBPyConnection, columns: tuple[str, ...], target: Path, file_format: str) -> None:
    """An extract with the contract's columns and no row."""
    if file_format == "csv":
        target.write_text(",".join(columns) + "\n")
        return
    nothing = ", ".join(f"cast(null as varchar) as {quote_identifier(c)}" for c in columns)
    con.execute(f"copy (select {nothing} where false) to {literal(str(target))} (format parquet)")


def consolidate(raw_dir: Path, out_dir: Path) -> LoadsReport:
    """Write every contract table of `raw_dir` as one extract into `out_dir` (see the module docstring)."""
    raw_dir, out_dir = Path(raw_dir).resolve(), Path(out_dir).resolve()
    folders = load_folders(raw_dir)
    file_format = _format_of(raw_dir, folders)
    report = LoadsReport(str(raw_dir), str(out_dir), file_format)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    con = duckdb.connect()
    try:
        for table, spec in TABLES.items():
            single = raw_dir / f"{table}.{file_format}"
            target = out_dir / f"{table}.{file_format}"
            if table not in folders:
                if single.exists():
                    shutil.copyfile(single, target)
                continue
            files = folders[table]
            entry = TableLoads(table, [p.name for p in files])
            report.tables.append(entry)
            if not files:  # an empty folder: the table has no rows yet, which reads as an empty extract
                _write_empty(con, spec.columns, target, file_format)
                continue
            source = _reader(files, file_format)
            columns = [r[0] for r in con.execute(f"describe select * from {source}").fetchall()]
            keys = [k for k in spec.key if k in columns]
            if len(keys) < len(spec.key):
                raise LoadsError(f"loads of {table} lack the key column(s) "
                                 f"{', '.join(k for k in spec.key if k not in columns)}")
            key_text = [f"nullif(trim(cast({quote_identifier(k)} as varchar)), '')" for k in keys]
            updated = ("try_cast(cast(updated_at as varchar) as timestamp)" if "updated_at" in columns
                       else "cast(null as timestamp)")
            kept_columns = ", ".join(quote_identifier(c) for c in columns if c != "filename")
            con.execute(f"""
                create or replace temp table versions as
                select *,
                       regexp_extract(filename, '[^/\\\\]+$') as {LOAD_COLUMN},
                       {' or '.join(f'{k} is null' for k in key_text)} as has_null_key,
                       dense_rank() over (
                           partition by {', '.join(key_text)}
                           order by {updated} desc nulls last, regexp_extract(filename, '[^/\\\\]+$') desc
                       ) as version_rank
                from {source}""")
            entry.rows_read = con.execute("select count(*) from versions").fetchone()[0]
            winners = "has_null_key or version_rank = 1"
            entry.rows_kept = con.execute(f"select count(*) from versions where {winners}").fetchone()[0]
            entry.superseded_by_load = dict(con.execute(
                f"select {LOAD_COLUMN}, count(*) from versions where not ({winners}) group by 1 order by 1").fetchall())
            options = "(format parquet)" if file_format == "parquet" else "(format csv, header true)"
            con.execute(f"copy (select {kept_columns}, {LOAD_COLUMN} from versions where {winners} "
                        f"order by {', '.join(quote_identifier(k) for k in keys)}, {LOAD_COLUMN}) "
                        f"to {literal(str(target))} {options}")
    finally:
        con.close()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="arrears-consolidate-loads",
        description="Turn tables delivered as folders of loads (contract v2) into one extract each, applying "
                    "the contract's versioning rules; full extracts are copied as they are.")
    parser.add_argument("--raw-dir", type=Path, required=True, help="the delivery (files and/or table folders)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write (replaced)")
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
        print(f"{t.table}: {len(t.loads)} loads, {t.rows_read} rows read, {t.rows_kept} kept, "
              f"{t.superseded} superseded by later versions")
    if args.report:
        write_json(args.report, report.to_dict())
    return 0


if __name__ == "__main__":
    sys.exit(main())
