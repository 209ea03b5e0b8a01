#!/usr/bin/env python3
"""Load a contract input folder into the `raw` schema of a server target (PostgreSQL or Spark), every column
as text, so the dbt project reads it there exactly as DuckDB reads the files (models/staging/_sources.yml).

    .venv-engines/bin/arrears-load-raw --target postgres --raw-dir data/raw
    ARREARS_SPARK_DIR=/abs/dir .venv-engines/bin/arrears-load-raw --target spark --raw-dir data/raw

The files (`<table>.csv`, or `<table>.parquet`) are read by DuckDB with the options of the DuckDB source
(header, all columns as text), so all three engines start from the same text values; the schema is dropped
and recreated, and a table whose file is absent is not created (optional tables then read as empty, and a
missing required table stops dbt with its usual message). Header names are kept as they are.

Connection details come from the same environment variables as profiles.yml:
  postgres: ARREARS_PG_HOST, ARREARS_PG_PORT, ARREARS_PG_USER, ARREARS_PG_PASSWORD, ARREARS_PG_DATABASE
  spark:    ARREARS_SPARK_DIR (warehouse folder and Derby metastore), ARREARS_SPARK_MASTER,
            ARREARS_SPARK_DRIVER_MEMORY
Run it before dbt, never while dbt (or another Spark process) uses the same ARREARS_SPARK_DIR: the embedded
Derby metastore admits one process at a time.

Exit codes: 0 loaded, 1 load failed, 2 bad arguments or input folder.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from arrears.contract import TABLE_NAMES, table_input
from arrears.loads import LoadsError, consolidate, has_loads

TABLES = TABLE_NAMES


def find_inputs(raw_dir: Path, raw_format: str | None) -> tuple[str, dict[str, Path]]:
    """The input format and the file of every contract table present in raw_dir."""
    formats = [raw_format] if raw_format else ["csv", "parquet"]
    for fmt in formats:
        found = {t: path for t in TABLES if (path := table_input(raw_dir, t, fmt)) is not None}
        if found:
            return fmt, found
    return formats[0], {}


def normalise_to_csv(files: dict[str, Path], raw_format: str, work: Path) -> dict[str, tuple[Path, list[str]]]:
    """Each input read by DuckDB as text (the DuckDB source's options) and written as a plain CSV: nulls as
    empty unquoted fields, text quoted where needed. Returns {table: (csv path, column names)}."""
    import duckdb

    out: dict[str, tuple[Path, list[str]]] = {}
    con = duckdb.connect()
    try:
        for table, path in files.items():
            literal = str(path).replace("'", "''")
            if raw_format == "parquet":
                relation = f"read_parquet('{literal}')"
            else:
                relation = (f"read_csv('{literal}', header = true, all_varchar = true, delim = ',', quote = '\"', "
                            f"escape = '\"')")
            names = [row[0] for row in con.execute(f"describe select * from {relation}").fetchall()]
            select = ", ".join(f'cast("{n.replace(chr(34), chr(34) * 2)}" as varchar) as "{n.replace(chr(34), chr(34) * 2)}"'
                               for n in names)
            target = work / f"{table}.csv"
            con.execute(f"copy (select {select} from {relation}) to '{str(target).replace(chr(39), chr(39) * 2)}' "
                        "(format csv, header true, quote '\"', escape '\"')")
            out[table] = (target, names)
    finally:
        con.close()
    return out


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load_postgres(tables: dict[str, tuple[Path, list[str]]], schema: str) -> None:
    from arrears.engines import pg_connect

    con = pg_connect()
    try:
        with con, con.cursor() as cur:
            cur.execute(f"drop schema if exists {quote_ident(schema)} cascade")
            cur.execute(f"create schema {quote_ident(schema)}")
            for table, (path, names) in tables.items():
                columns = ", ".join(f"{quote_ident(n)} text" for n in names)
                qualified = f"{quote_ident(schema)}.{quote_ident(table)}"
                cur.execute(f"create table {qualified} ({columns})")
                with open(path, encoding="utf-8") as handle:
                    cur.copy_expert(f"copy {qualified} from stdin with (format csv, header true)", handle)
                cur.execute(f"select count(*) from {qualified}")
                print(f"  {schema}.{table}: {cur.fetchone()[0]} rows")
    finally:
        con.close()


def load_spark(tables: dict[str, tuple[Path, list[str]]], schema: str) -> None:
    from pyspark.sql.types import StringType, StructField, StructType

    from arrears.engines import spark_session

    spark = spark_session()
    try:
        spark.sql(f"drop database if exists `{schema}` cascade")
        spark.sql(f"create database `{schema}`")
        for table, (path, names) in tables.items():
            # an explicit all-string schema: nothing is inferred, the header row is skipped
            struct = StructType([StructField(n, StringType(), True) for n in names])
            frame = (spark.read.option("header", "true").option("multiLine", "true")
                     .option("quote", '"').option("escape", '"').option("mode", "FAILFAST")
                     .schema(struct).csv(str(path)))
            frame.write.mode("overwrite").format("parquet").saveAsTable(f"`{schema}`.`{table}`")
            print(f"  {schema}.{table}: {spark.table(f'`{schema}`.`{table}`').count()} rows")
    finally:
        spark.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", choices=["postgres", "spark"], required=True, help="engine to load into")
    parser.add_argument("--raw-dir", required=True, type=Path, help="contract input folder (<table>.csv or .parquet)")
    parser.add_argument("--schema", default="raw", help="schema (Spark: database) to (re)create (default raw)")
    parser.add_argument("--format", choices=["csv", "parquet"], default=None,
                        help="input format (default: csv if any <table>.csv is there, else parquet)")
    args = parser.parse_args(argv)

    if not args.raw_dir.is_dir():
        print(f"error: input folder {args.raw_dir} does not exist", file=sys.stderr)
        return 2
    consolidated = None
    if has_loads(args.raw_dir):  # contract v2: tables as folders of loads -> one extract each first
        consolidated = tempfile.TemporaryDirectory(prefix="arrears_loads_")
        try:
            report = consolidate(args.raw_dir, Path(consolidated.name) / "raw")
        except LoadsError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print("Loads: " + "; ".join(f"{t.table} {len(t.loads)} loads, {t.superseded} superseded"
                                    for t in report.tables))
        args.raw_dir = Path(consolidated.name) / "raw"
    raw_format, files = find_inputs(args.raw_dir, args.format)
    if not files:
        print(f"error: no contract table files (<table>.csv / .parquet) in {args.raw_dir}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    print(f"Loading {', '.join(files)} ({raw_format}) from {args.raw_dir} into {args.target} schema {args.schema}")
    try:
        with tempfile.TemporaryDirectory(prefix="arrears_load_") as work:
            tables = normalise_to_csv(files, raw_format, Path(work))
            if args.target == "postgres":
                load_postgres(tables, args.schema)
            else:
                load_spark(tables, args.schema)
    except Exception as exc:
        print(f"error: loading into {args.target} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"Loaded in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
