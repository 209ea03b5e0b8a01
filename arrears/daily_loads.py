"""Turn a full demo extract into a delivery of daily loads with corrections and voids (contract version 2).

The demo generator writes full extracts. A source system that delivers every day sends only the day's new
and changed rows. This module writes that delivery from a full extract, so the incremental path can be
tested and measured on data whose end state is known:

* `invoices/`, `payments/` and `collection_actions/` become folders of loads, one file per day named
  `YYYY-MM-DD.<format>`; a document arrives in the load of its own date with `updated_at` on that day;
* **corrections**: about `correction_permille` of the invoices are delivered again in a later load (1 to 60
  days after their invoice date) with the amount cut by 10% (a disputed line credited) and a later
  `updated_at`; the correction supersedes the first version;
* **voids**: about `void_permille` of the payments are delivered again 1 to 30 days after their payment date
  with `status = void` (a bounced or reversed payment);
* `fx_rates` becomes a folder of loads too: each day's rates in that day's load; **rate corrections**: about
  `fx_correction_permille` of the rates are delivered again 1 to 30 days later, 1% higher (a rate published
  wrong and corrected), which changes the base amounts of documents already processed;
* a re-delivery whose day falls after the last day of the extract is not sent (it has not happened yet);
* `customers` stays a full extract (master data is delivered whole), as the contract allows.

Which rows are corrected or voided, and when, is a hash of the row's key and `seed`: the same input and seed
give the same loads. `load_days(folder)` lists the days that have a load, in order.

    python -m arrears.daily_loads --raw-dir FULL --out LOADS [--format csv|parquet] [--seed 7]
"""
from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
from pathlib import Path

import duckdb

from .sql import literal

LOADED_TABLES = {"invoices": "invoice_date", "payments": "payment_date", "collection_actions": "action_date",
                 "fx_rates": "rate_date"}
WHOLE_TABLES = ("customers",)
FORMATS = ("csv", "parquet")


def _reader(path: Path, file_format: str) -> str:
    if file_format == "parquet":
        return f"read_parquet({literal(str(path))})"
    return f"read_csv({literal(str(path))}, header = true, all_varchar = true)"


def _scaled(column: str, factor: str, scale: int, file_format: str) -> str:
    """`column` times `factor`, rounded to `scale` decimals; as text in a CSV delivery (all columns are text)."""
    value = f"round(cast({column} as decimal(18, {scale})) * {factor}, {scale})"
    return f"cast({value} as varchar)" if file_format == "csv" else value


def _versions(table: str, date_col: str, source: str, seed: int, correction_permille: int,
              void_permille: int, file_format: str, fx_correction_permille: int = 5) -> str:
    """Every version of every row of `table`, with the day of the load that delivers it (`load_day`)."""
    first = (f"select *, cast({date_col} as date) as load_day, "
             f"cast(cast({date_col} as date) as varchar) || 'T09:00:00' as updated_at from {source}")
    if table == "invoices":
        corrected = _scaled("amount", "0.9", 2, file_format)
        pick, delay, change = (f"hash(invoice_id, {seed}) % 1000 < {correction_permille}",
                               f"1 + hash(invoice_id, {seed}, 'day') % 60",
                               f"replace ({corrected} as amount)")
    elif table == "payments":
        pick, delay, change = (f"hash(payment_id, {seed}) % 1000 < {void_permille}",
                               f"1 + hash(payment_id, {seed}, 'day') % 30",
                               "replace ('void' as status)")
    elif table == "fx_rates":
        corrected = _scaled("rate_to_base", "1.01", 8, file_format)
        pick, delay, change = (f"hash(currency, rate_date, {seed}) % 1000 < {fx_correction_permille}",
                               f"1 + hash(currency, rate_date, {seed}, 'day') % 30",
                               f"replace ({corrected} as rate_to_base)")
    else:
        return first
    later = (f"select * {change}, cast({date_col} as date) + cast({delay} as integer) as load_day, "
             f"cast(cast({date_col} as date) + cast({delay} as integer) as varchar) || 'T18:00:00' as updated_at "
             f"from {source} where {pick}")
    return f"{first} union all {later}"


def split(raw_dir: Path, out_dir: Path, file_format: str = "csv", seed: int = 7, correction_permille: int = 20,
          void_permille: int = 10, fx_correction_permille: int = 5) -> dict[str, int]:
    """Write the delivery of daily loads for the full extract in `raw_dir`; returns rows written per table."""
    raw_dir, out_dir = Path(raw_dir).resolve(), Path(out_dir).resolve()
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    written: dict[str, int] = {}
    con = duckdb.connect()
    try:
        for table in WHOLE_TABLES:
            if (raw_dir / f"{table}.{file_format}").exists():
                shutil.copyfile(raw_dir / f"{table}.{file_format}", out_dir / f"{table}.{file_format}")
        for table, date_col in LOADED_TABLES.items():
            path = raw_dir / f"{table}.{file_format}"
            if not path.exists():
                continue
            source = _reader(path, file_format)
            if table == "payments" and "status" not in [r[0] for r in con.execute(f"describe select * from {source}").fetchall()]:
                source = f"(select *, cast(null as varchar) as status from {source})"
            versions = _versions(table, date_col, source, seed, correction_permille, void_permille, file_format,
                                 fx_correction_permille)
            last_day = con.execute(f"select max(cast({date_col} as date)) from {source}").fetchone()[0]
            staged = out_dir / f".{table}_by_day"
            options = "format parquet" if file_format == "parquet" else "format csv, header true"
            con.execute(f"copy (select * from ({versions}) as v where load_day <= date {literal(str(last_day))} "
                        f"order by load_day) to {literal(str(staged))} ({options}, partition_by (load_day))")
            folder = out_dir / table
            folder.mkdir()
            for part in sorted(staged.iterdir()):
                day = part.name.split("=", 1)[1]
                one_load(con, part, folder / f"{day}.{file_format}", file_format)
            shutil.rmtree(staged)
            written[table] = con.execute(f"select count(*) from ({versions}) as v "
                                         f"where load_day <= date {literal(str(last_day))}").fetchone()[0]
    finally:
        con.close()
    return written


def one_load(con: duckdb.DuckDBPyConnection, part: Path, target: Path, file_format: str) -> None:
    """The files DuckDB wrote for one day (one per writer thread on large inputs) as the day's single load."""
    files = sorted(part.iterdir())
    if len(files) == 1:
        files[0].rename(target)
        return
    options = "format parquet" if file_format == "parquet" else "format csv, header true"
    con.execute(f"copy (select * from {_reader(part / f'*.{file_format}', file_format)}) "
                f"to {literal(str(target))} ({options})")


def load_days(loads_dir: Path) -> list[dt.date]:
    """The days that have a load in any table folder of `loads_dir`, in order."""
    days = set()
    for table in LOADED_TABLES:
        folder = Path(loads_dir) / table
        if folder.is_dir():
            days |= {dt.date.fromisoformat(p.stem) for p in folder.iterdir() if p.suffix.lstrip(".") in FORMATS}
    return sorted(days)


def copy_until(loads_dir: Path, target: Path, last_day: dt.date) -> int:
    """Make `target` the delivery as it stood after `last_day`'s loads: whole tables and every load up to that
    day (loads already there are kept). Returns the number of load files added."""
    loads_dir, target = Path(loads_dir), Path(target)
    target.mkdir(parents=True, exist_ok=True)
    added = 0
    for path in sorted(loads_dir.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            if not (target / path.name).exists():
                shutil.copyfile(path, target / path.name)
        elif path.is_dir() and path.name in LOADED_TABLES:
            (target / path.name).mkdir(exist_ok=True)
            for load in sorted(path.iterdir()):
                if dt.date.fromisoformat(load.stem) <= last_day and not (target / path.name / load.name).exists():
                    shutil.copyfile(load, target / path.name / load.name)
                    added += 1
    return added


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m arrears.daily_loads", description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw-dir", type=Path, required=True, help="a full extract (the demo generator's output)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the delivery of loads to (replaced)")
    parser.add_argument("--format", choices=FORMATS, default=None, help="default: the extract's format")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--correction-permille", type=int, default=20)
    parser.add_argument("--void-permille", type=int, default=10)
    parser.add_argument("--fx-correction-permille", type=int, default=5)
    args = parser.parse_args(argv)
    file_format = args.format or ("parquet" if (args.raw_dir / "invoices.parquet").exists() else "csv")
    written = split(args.raw_dir, args.out, file_format, args.seed, args.correction_permille, args.void_permille,
                    args.fx_correction_permille)
    days = load_days(args.out)
    print(f"{len(days)} load days from {days[0]} to {days[-1]}: "
          + ", ".join(f"{t} {n:,} rows" for t, n in written.items()) if days else "no loads written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
