"""A full build cut into ranges of customers must give exactly the warehouse one built in one statement gives.

On DuckDB a full build computes the per-customer models one range of customer ids at a time once they have
more customers than var full_build_slice_customers (macros/slices.sql): the model's statement computes the
first range and a post-hook appends the others. If these fail, a large warehouse built from scratch differs
from a small one: customers missing (a range not appended), counted twice (ranges overlapping) or computed from
another range's rows.
"""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from test_incremental import _columns, _tables

from arrears.demo import DemoConfig, generate

from helpers import query, run_dbt

AS_OF = "2026-10-31"
# the models cut into ranges (meta.sliced_full_build): the history and the risk features
SLICED_MODELS = ["fct_customer_aging_history", "mart_risk_features"]
# per-customer models built whole: their full builds were no faster in ranges at 1,000,000 customers
WHOLE_MODELS = ["int_payment_allocation", "int_customer_monthly"]


def _odd_customer_ids(raw: Path) -> None:
    """Every other customer gets an id the contract allows but the demo never writes (a quote, a '|', a
    non-ASCII letter, a space), so range bounds are quoted and compared as the engine compares text."""
    def odd(customer_id: str) -> str:
        number = int(customer_id[1:])
        return customer_id if number % 2 else f"O'{customer_id}|ö {number % 7}"
    for table in ("customers", "invoices", "payments", "collection_actions"):
        path = raw / f"{table}.csv"
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        for row in rows:
            if row["customer_id"]:
                row["customer_id"] = odd(row["customer_id"])
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    work = tmp_path_factory.mktemp("slices")
    raw = work / "raw"
    generate(raw, DemoConfig(customers=250, seed=5))
    _odd_customer_ids(raw)
    whole, sliced = work / "whole.duckdb", work / "sliced.duckdb"
    models_only = ["resource_type:test", "resource_type:unit_test"]
    run_dbt("build", db=whole, raw_dir=raw, as_of=AS_OF, exclude=models_only,
            extra_vars={"full_build_slice_customers": 0})
    # about 40 customers a range: seven ranges of the demo's 250 customers (and ids of other shapes)
    run_dbt("build", db=sliced, raw_dir=raw, as_of=AS_OF, extra_vars={"full_build_slice_customers": 40})
    return work, whole, sliced


def test_a_sliced_full_build_equals_one_built_whole(builds: tuple[Path, Path, Path]) -> None:
    _, whole, sliced = builds
    tables = _tables(whole)
    assert _tables(sliced) == tables
    differences = []
    for schema, table in tables:
        select = ", ".join(f'"{c}"' for c in _columns(whole, schema, table))
        sql = f"select {select} from {schema}.{table} order by all"
        if query(whole, sql) != query(sliced, sql):
            differences.append(f"{schema}.{table}")
    assert not differences, f"tables that differ between a sliced and a whole full build: {differences}"


def test_the_sliced_build_was_cut_into_ranges(builds: tuple[Path, Path, Path]) -> None:
    work, _, sliced = builds
    # half the ids hold a quote; a range ends at one of them (quoted in the condition)
    assert query(sliced, "select count(*) from marts.dim_customers where customer_id like 'O''%'")[0][0] > 100
    # (the post-hook's statements, in dbt's log: the model's own holds the first range only)
    assert "customer_id >= 'O''" in (work / "sliced_dbt" / "logs" / "dbt.log").read_text(encoding="utf-8")
    for model in SLICED_MODELS:
        [sliced_sql] = (work / "sliced_dbt" / "target" / "run").rglob(f"{model}.sql")
        [whole_sql] = (work / "whole_dbt" / "target" / "run").rglob(f"{model}.sql")
        assert "or customer_id is null)" in sliced_sql.read_text(), model
        assert "or customer_id is null)" not in whole_sql.read_text(), model
    for model in WHOLE_MODELS:
        [sql] = (work / "sliced_dbt" / "target" / "run").rglob(f"{model}.sql")
        assert "or customer_id is null)" not in sql.read_text(), model
    # the other ranges were appended by the post-hook, in id order: the history is stored sorted by customer
    unsorted = query(sliced, """
        select count(*) from (
            select customer_id < lag(customer_id) over (order by rowid) as goes_back
            from marts.fct_customer_aging_history)
        where goes_back""")[0][0]
    assert unsorted == 0


def test_a_daily_run_after_a_sliced_build_is_not_cut(builds: tuple[Path, Path, Path]) -> None:
    """An incremental run computes the customers it restates, whatever their range."""
    work, _, sliced = builds
    run_dbt("build", db=sliced, raw_dir=work / "raw", as_of=AS_OF, exclude=["resource_type:test", "resource_type:unit_test"],
            extra_vars={"full_build_slice_customers": 40})
    for model in SLICED_MODELS:
        [sql] = (work / "sliced_dbt" / "target" / "run").rglob(f"{model}.sql")
        assert "or customer_id is null)" not in sql.read_text(), model
