"""Row-for-row comparison of two builds of the warehouse (a refactor must not change one row).

    arrears-compare-builds --before old.duckdb --after new.duckdb [--schemas marts,staging,intermediate]
                           [--rename-table old=new ...] [--rename-column table.old=new ...] [--ignore-column name ...]
                           [--json report.json]

Both files are opened read-only, one at a time; each relation is copied to Parquet and compared there. For every table of the named schemas the
two sides must have the same columns (after the renames) and the same multiset of rows: `except all` both
ways, so a duplicated or missing row counts. Exit 0 when everything is identical, 1 otherwise, 2 on usage
errors. `--ignore-column` leaves a column out of every table (e.g. `trained_at`, the wall-clock time a risk
model was trained, which differs between any two runs). The report lists each table with its row count and the rows found on one side only.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from .sql import literal
from .warehouse import columns_of, open_readonly, quote_identifier


@dataclass
class TableDiff:
    schema: str
    table: str
    rows_before: int | None = None
    rows_after: int | None = None
    only_before: int = 0
    only_after: int = 0
    problem: str | None = None

    @property
    def identical(self) -> bool:
        return self.problem is None and self.only_before == 0 and self.only_after == 0


@dataclass
class BuildDiff:
    before: str
    after: str
    tables: list[TableDiff] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return bool(self.tables) and all(t.identical for t in self.tables)

    def to_dict(self) -> dict:
        return {"before": self.before, "after": self.after, "identical": self.identical,
                "tables": [asdict(t) | {"identical": t.identical} for t in self.tables]}


def _snapshot(db: Path, schemas: list[str], folder: Path) -> dict[tuple[str, str], tuple[Path, list[str]]]:
    """Every table and view of `schemas` in `db` written to Parquet under `folder`, with its column names.

    Each file is opened on its own (read-only), so views resolve against their own catalog."""
    out: dict[tuple[str, str], tuple[Path, list[str]]] = {}
    con = open_readonly(db)
    try:
        for schema in schemas:
            for (table,) in con.execute(
                    "select table_name from information_schema.tables where table_schema = ? order by 1",
                    [schema]).fetchall():
                target = folder / f"{schema}.{table}.parquet"
                con.execute(f"copy (select * from {quote_identifier(schema)}.{quote_identifier(table)}) "
                            f"to {literal(str(target))} (format parquet)")
                out[(schema, table)] = (target, columns_of(con, schema, table))
    finally:
        con.close()
    return out


def compare_builds(before: Path, after: Path, schemas: list[str], rename_tables: dict[str, str] | None = None,
                   rename_columns: dict[str, dict[str, str]] | None = None,
                   ignore_columns: frozenset[str] = frozenset()) -> BuildDiff:
    """Compare every table of `schemas` in two DuckDB files; renames map the before side's names to the after's."""
    rename_tables = rename_tables or {}
    rename_columns = rename_columns or {}
    result = BuildDiff(str(before), str(after))
    with tempfile.TemporaryDirectory(prefix="arrears_compare_") as tmp:
        (Path(tmp) / "before").mkdir()
        (Path(tmp) / "after").mkdir()
        old = _snapshot(before, schemas, Path(tmp) / "before")
        new = _snapshot(after, schemas, Path(tmp) / "after")
        expected = {(s, rename_tables.get(t, t)) for s, t in old}
        for schema, table in sorted(set(new) - expected):
            result.tables.append(TableDiff(schema, table, problem="only in the after build"))
        con = duckdb.connect()
        try:
            for (schema, old_name), (old_file, old_cols) in sorted(old.items()):
                new_name = rename_tables.get(old_name, old_name)
                diff = TableDiff(schema, new_name)
                result.tables.append(diff)
                if (schema, new_name) not in new:
                    diff.problem = "missing from the after build"
                    continue
                new_file, new_cols = new[(schema, new_name)]
                renames = rename_columns.get(new_name, {})
                mapped = {renames.get(c, c): c for c in old_cols if renames.get(c, c) not in ignore_columns}
                new_cols = [c for c in new_cols if c not in ignore_columns]
                if set(mapped) != set(new_cols):
                    diff.problem = (f"columns differ: only before {sorted(set(mapped) - set(new_cols))}, "
                                    f"only after {sorted(set(new_cols) - set(mapped))}")
                    continue
                order = sorted(c for c in new_cols if c not in ignore_columns)
                b_sel = ", ".join(f"{quote_identifier(mapped[c])} as {quote_identifier(c)}" for c in order)
                a_sel = ", ".join(quote_identifier(c) for c in order)
                b = f"read_parquet({literal(str(old_file))})"
                a = f"read_parquet({literal(str(new_file))})"
                diff.rows_before = con.execute(f"select count(*) from {b}").fetchone()[0]
                diff.rows_after = con.execute(f"select count(*) from {a}").fetchone()[0]
                diff.only_before = con.execute(
                    f"select count(*) from (select {b_sel} from {b} except all select {a_sel} from {a})").fetchone()[0]
                diff.only_after = con.execute(
                    f"select count(*) from (select {a_sel} from {a} except all select {b_sel} from {b})").fetchone()[0]
        finally:
            con.close()
    return result


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    out = {}
    for value in values:
        old, sep, new = value.partition("=")
        if not sep or not old or not new:
            raise SystemExit(f"{flag} takes old=new, got {value!r}")
        out[old] = new
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, required=True)
    parser.add_argument("--schemas", default="marts", help="comma-separated schemas to compare (default marts)")
    parser.add_argument("--rename-table", action="append", default=[], metavar="OLD=NEW")
    parser.add_argument("--rename-column", action="append", default=[], metavar="TABLE.OLD=NEW",
                        help="TABLE is the after build's table name")
    parser.add_argument("--ignore-column", action="append", default=[], metavar="NAME",
                        help="leave this column out of every table (repeatable)")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    for path in (args.before, args.after):
        if not path.is_file():
            print(f"error: no DuckDB file at {path}", file=sys.stderr)
            return 2
    columns: dict[str, dict[str, str]] = {}
    for key, new in _pairs(args.rename_column, "--rename-column").items():
        table, dot, old = key.partition(".")
        if not dot:
            print("error: --rename-column takes TABLE.OLD=NEW", file=sys.stderr)
            return 2
        columns.setdefault(table, {})[old] = new
    report = compare_builds(args.before, args.after, [s for s in args.schemas.split(",") if s],
                            _pairs(args.rename_table, "--rename-table"), columns, frozenset(args.ignore_column))
    for t in report.tables:
        status = "identical" if t.identical else (t.problem or f"{t.only_before} rows only before, "
                                                               f"{t.only_after} rows only after")
        print(f"{t.schema}.{t.table:<40} {t.rows_before!s:>9} -> {t.rows_after!s:<9} {status}")
    print(f"{sum(t.identical for t in report.tables)} of {len(report.tables)} tables identical")
    if args.json:
        args.json.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return 0 if report.identical else 1


if __name__ == "__main__":
    sys.exit(main())
