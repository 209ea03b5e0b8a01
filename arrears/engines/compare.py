#!/usr/bin/env python3
"""Compare every table of the marts schema of a DuckDB build with the same build on PostgreSQL or Spark,
row for row, and exit non-zero on any difference.

    .venv-engines/bin/arrears-compare-engines --duckdb target/arrears.duckdb --target postgres
    ARREARS_SPARK_DIR=/abs/dir .venv-engines/bin/arrears-compare-engines --duckdb x.duckdb --target spark

Every table (and view) of the schema present on both sides is compared; a table present on one side only is
listed and, unless named with --allow-missing, is a difference. A table recording the dbt invocation that built
a model (`<model>__run`, `__invoices_run`, ...: arrears.warehouse.is_run_record) is not compared. Rows are matched on the table's key: the
shortest run of leading columns whose values are unique in the DuckDB table (models list their keys first),
else the whole row. Values must be equal, with these rules:
  * decimals and integers: exactly (amounts to the cent; 1.50 equals 1.5),
  * floats (or a float against a decimal): within 1e-9 relative (1e-12 absolute near zero),
  * dates, booleans and text: equal; null only equals null.
A column whose kind differs (number / text / date / boolean) is a difference too.
Connection details: the environment variables of profiles.yml (see arrears/engines.py). Spark reads the
warehouse and metastore under ARREARS_SPARK_DIR: run this after dbt has finished, never alongside it.

Exit codes: 0 equal, 1 differences found, 2 could not read a side (bad path, no connection, no schema).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from arrears.warehouse import is_run_record

REL_TOL = 1e-9
ABS_TOL = 1e-12
MAX_SHOWN = 10  # differing rows printed per table


class Table:
    """A table read from one engine: lower-case column names, rows as tuples of Python values."""

    def __init__(self, columns: Sequence[str], rows: Iterable[Sequence[Any]]):
        self.columns = [c.lower() for c in columns]
        self.rows = [tuple(r) for r in rows]


# --- readers -----------------------------------------------------------------------------------------------

def read_duckdb(path: Path, schema: str) -> dict[str, Table]:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = ? order by table_name",
            [schema]).fetchall()]
        out = {}
        for name in names:
            cursor = con.execute(f'select * from "{schema}"."{name}"')
            out[name.lower()] = Table([d[0] for d in cursor.description], cursor.fetchall())
        return out
    finally:
        con.close()


def read_postgres(schema: str) -> dict[str, Table]:
    from arrears.engines import pg_connect

    con = pg_connect()
    try:
        with con.cursor() as cur:
            cur.execute("select table_name from information_schema.tables where table_schema = %s "
                        "order by table_name", [schema])
            names = [r[0] for r in cur.fetchall()]
            out = {}
            for name in names:
                cur.execute(f'select * from "{schema}"."{name}"')
                out[name.lower()] = Table([d[0] for d in cur.description], cur.fetchall())
        return out
    finally:
        con.close()


def read_spark(schema: str) -> dict[str, Table]:
    from arrears.engines import spark_session

    spark = spark_session()
    try:
        if not spark.catalog.databaseExists(schema):
            return {}
        names = sorted(t.name for t in spark.catalog.listTables(schema) if not t.isTemporary)
        out = {}
        for name in names:
            frame = spark.table(f"`{schema}`.`{name}`")
            out[name.lower()] = Table(frame.columns, [tuple(r) for r in frame.collect()])
        return out
    finally:
        spark.stop()


# --- comparison --------------------------------------------------------------------------------------------

def kind(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float, Decimal)):
        return "number"
    if isinstance(value, dt.datetime):
        return "timestamp"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


def values_equal(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is None and right is None
    kl, kr = kind(left), kind(right)
    if kl != kr:
        return False
    if kl == "number":
        if isinstance(left, float) or isinstance(right, float):
            a, b = float(left), float(right)
            if math.isnan(a) or math.isnan(b):
                return math.isnan(a) and math.isnan(b)
            return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
        return Decimal(left) == Decimal(right)
    return left == right


def sort_token(value: Any) -> tuple:
    """A sort key that orders any mix of values (nulls first) and treats 1.50 and 1.5 alike."""
    if value is None:
        return (0, "")
    k = kind(value)
    if k == "number":
        return (1, float(value))
    return (2, k, str(value))


def match_token(value: Any) -> Any:
    """Key values as they match across engines (decimals by value, floats rounded to 9 significant digits)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, (int, Decimal)):
        return Decimal(value).normalize()
    return value


def find_key(table: Table) -> list[int]:
    """Indexes of the shortest leading run of columns unique over the rows (no float column); [] = none."""
    n = len(table.rows)
    for width in range(1, len(table.columns) + 1):
        if any(isinstance(r[width - 1], float) for r in table.rows):
            break
        if len({tuple(match_token(v) for v in r[:width]) for r in table.rows}) == n:
            return list(range(width))
    return []


def fmt(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return repr(value)
    return repr(value) if isinstance(value, str) else str(value)


def compare_table(name: str, ref: Table, other: Table, engine: str) -> list[str]:
    """Human-readable differences between the DuckDB table `ref` and the other engine's table."""
    problems: list[str] = []
    missing = [c for c in ref.columns if c not in other.columns]
    extra = [c for c in other.columns if c not in ref.columns]
    if missing:
        problems.append(f"columns missing on {engine}: {', '.join(missing)}")
    if extra:
        problems.append(f"columns only on {engine}: {', '.join(extra)}")
    common = [c for c in ref.columns if c in other.columns]
    ref_idx = [ref.columns.index(c) for c in common]
    oth_idx = [other.columns.index(c) for c in common]
    ref_rows = [tuple(r[i] for i in ref_idx) for r in ref.rows]
    oth_rows = [tuple(r[i] for i in oth_idx) for r in other.rows]

    # column kinds (number / text / date / boolean) must agree
    for pos, col in enumerate(common):
        kinds_ref = {kind(r[pos]) for r in ref_rows} - {None}
        kinds_oth = {kind(r[pos]) for r in oth_rows} - {None}
        if kinds_ref and kinds_oth and kinds_ref != kinds_oth:
            problems.append(f"column {col}: {', '.join(sorted(kinds_ref))} on duckdb, "
                            f"{', '.join(sorted(kinds_oth))} on {engine}")

    if len(ref_rows) != len(oth_rows):
        problems.append(f"row count: {len(ref_rows)} on duckdb, {len(oth_rows)} on {engine}")

    key = find_key(Table(common, ref_rows)) or list(range(len(common)))
    key_names = [common[i] for i in key]

    def keyed(rows: list[tuple]) -> dict[tuple, list[tuple]]:
        groups: dict[tuple, list[tuple]] = {}
        for row in rows:
            groups.setdefault(tuple(match_token(row[i]) for i in key), []).append(row)
        return groups

    ref_groups, oth_groups = keyed(ref_rows), keyed(oth_rows)
    shown = 0
    diff_rows = 0
    diff_columns: Counter[str] = Counter()
    for k in sorted(set(ref_groups) | set(oth_groups), key=lambda t: [sort_token(v) for v in t]):
        left = sorted(ref_groups.get(k, []), key=lambda r: [sort_token(v) for v in r])
        right = sorted(oth_groups.get(k, []), key=lambda r: [sort_token(v) for v in r])
        key_text = ", ".join(f"{n}={fmt(v)}" for n, v in zip(key_names, k))
        if len(left) != len(right):
            diff_rows += 1
            if shown < MAX_SHOWN:
                problems.append(f"  [{key_text}] {len(left)} row(s) on duckdb, {len(right)} on {engine}")
                shown += 1
            continue
        for lrow, rrow in zip(left, right):
            cols = [i for i in range(len(common)) if not values_equal(lrow[i], rrow[i])]
            if cols:
                diff_rows += 1
                diff_columns.update(common[i] for i in cols)
                if shown < MAX_SHOWN:
                    detail = "; ".join(f"{common[i]}: duckdb {fmt(lrow[i])} vs {engine} {fmt(rrow[i])}" for i in cols)
                    problems.append(f"  [{key_text}] {detail}")
                    shown += 1
    if diff_rows:
        by_col = ", ".join(f"{c} ({n})" for c, n in diff_columns.most_common())
        problems.insert(0, f"{diff_rows} row(s) differ (key: {', '.join(key_names)})"
                           + (f"; columns: {by_col}" if by_col else ""))
        if diff_rows > shown:
            problems.append(f"  ... and {diff_rows - shown} more")
    return problems


def compare(ref: dict[str, Table], other: dict[str, Table], engine: str,
            allow_missing: set[str]) -> tuple[list[str], dict[str, list[str]]]:
    """(notes, {table: problems}) for all tables."""
    notes: list[str] = []
    problems: dict[str, list[str]] = {}
    for name in sorted(set(ref) | set(other)):
        if is_run_record(name):
            notes.append(f"{name}: the record of the dbt invocation that built a model (not compared)")
            continue
        if name not in other or name not in ref:
            side = engine if name not in other else "duckdb"
            message = f"{name}: absent on {side}"
            if name in allow_missing:
                notes.append(message + " (allowed: not compared)")
            else:
                problems[name] = [f"absent on {side}"]
            continue
        found = compare_table(name, ref[name], other[name], engine)
        if found:
            problems[name] = found
        else:
            notes.append(f"{name}: {len(ref[name].rows)} rows equal")
    return notes, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duckdb", required=True, type=Path, help="DuckDB file of the reference build")
    parser.add_argument("--target", choices=["postgres", "spark"], required=True, help="engine to compare with")
    parser.add_argument("--schema", default="marts", help="schema to compare (default marts)")
    parser.add_argument("--allow-missing", action="append", default=[], metavar="TABLE",
                        help="a table that may be absent on one side (repeatable), e.g. a model that needs "
                             "risk scores only the DuckDB pipeline has")
    parser.add_argument("--json", type=Path, metavar="FILE",
                        help="also write the result here: {equal, compared, tables: {name: problems}, notes}")
    parser.add_argument("--min-tables", type=int, default=1,
                        help="fail unless at least this many tables were compared (default 1)")
    args = parser.parse_args(argv)

    if not args.duckdb.is_file():
        print(f"error: {args.duckdb} does not exist", file=sys.stderr)
        return 2
    try:
        ref = read_duckdb(args.duckdb, args.schema)
        other = read_postgres(args.schema) if args.target == "postgres" else read_spark(args.schema)
    except Exception as exc:
        print(f"error: could not read the {args.schema} schema: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    if not ref:
        print(f"error: schema {args.schema} of {args.duckdb} has no tables", file=sys.stderr)
        return 2

    notes, problems = compare(ref, other, args.target, {t.lower() for t in args.allow_missing})
    compared = sum(1 for n in notes if n.endswith("rows equal")) + sum(
        1 for p in problems.values() if p != [f"absent on {args.target}"] and p != ["absent on duckdb"])
    print(f"duckdb vs {args.target}, schema {args.schema}: {len(ref)} table(s) on duckdb, {len(other)} on {args.target}")
    for note in notes:
        print(f"  ok    {note}")
    for name, found in problems.items():
        print(f"  DIFF  {name}: {found[0]}")
        for line in found[1:]:
            print(f"        {line}")
    equal = compared >= args.min_tables and not problems
    if args.json:
        args.json.write_text(json.dumps({"engine": args.target, "schema": args.schema, "equal": equal,
                                         "compared": compared, "min_tables": args.min_tables,
                                         "problems": problems, "notes": notes}, indent=2) + "\n")
    if compared < args.min_tables:
        print(f"FAILED: only {compared} table(s) compared, expected at least {args.min_tables}")
        return 1
    if problems:
        print(f"FAILED: {len(problems)} of {len(set(ref) | set(other))} table(s) differ between duckdb and {args.target}")
        return 1
    print(f"OK: {compared} table(s) equal row for row")
    return 0


if __name__ == "__main__":
    sys.exit(main())
