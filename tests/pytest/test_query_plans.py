"""Plans the compiled models must keep. Import CTEs that a model reads more than once are read again, not copied
(macros/cte.sql, `not_materialized`); the history's wide aggregate is sorted before it is written
(macros/storage.sql, `sorted_before_write`).

DuckDB materialises every CTE a query reads more than once. For a plain import of a large table that is a copy
of every row (the columns the model uses) before the model starts; at 1,000,000 customers reading the table
again was faster (`int_payment_allocation`'s full-refresh body 69.6 s -> 42.7 s, the same rows) and held less
memory (docs/decisions.md, "Import CTEs read twice are read again, not copied"). These tests explain the
compiled models of the demo build: the imports named below are not materialised, and without the keyword
DuckDB would materialise each of them (else the keyword has no purpose there any more).
"""
from __future__ import annotations

import json

import duckdb
import pytest

pytestmark = pytest.mark.fast

INLINED = {
    "intermediate/int_payment_allocation.sql": {"invoices", "linked_payments"},
    "marts/risk/intermediate/int_customer_monthly.sql": {"invoices"},
    "marts/overdue/intermediate/int_overdue_evidence.sql": {"aging", "episodes", "actions", "payments"},
}


def materialized_ctes(con: duckdb.DuckDBPyConnection, sql: str) -> set[str]:
    """The names of the CTEs DuckDB's plan of `sql` materialises."""
    plan = json.loads(con.execute("explain (format json) " + sql).fetchall()[0][1])
    found: set[str] = set()

    def walk(node: dict) -> None:
        if node.get("name") == "CTE":
            found.add(node["extra_info"]["CTE Name"])
        for child in node.get("children", []):
            walk(child)

    for root in plan:
        walk(root)
    return found


@pytest.mark.parametrize("model, imports", sorted(INLINED.items()), ids=lambda v: v if isinstance(v, str) else "")
def test_imports_read_twice_are_not_copied(demo_build, model, imports):
    compiled = demo_build.db.parent / f"{demo_build.db.stem}_dbt" / "target" / "compiled" / "arrears" / "models" / model
    sql = compiled.read_text()
    assert sql.count(" as not materialized (") == len(imports), sql[:2000]
    with duckdb.connect(str(demo_build.db), read_only=True) as con:
        assert not imports & materialized_ctes(con, sql)
        # the premise: without the keyword DuckDB copies each of these imports
        assert imports <= materialized_ctes(con, sql.replace(" as not materialized (", " as ("))


def nodes(plan_node: dict, name: str) -> list[dict]:
    """Every operator called `name` in the plan under `plan_node` (itself included)."""
    found = [plan_node] if plan_node.get("name") == name else []
    for child in plan_node.get("children", []):
        found += nodes(child, name)
    return found


def test_history_aggregate_is_sorted_before_it_is_written(demo_build):
    """fct_customer_aging_history ends in a wide aggregate (36.5 M groups of ten money sums at 1,000,000
    customers). Written straight into its table, DuckDB stopped with out of memory at some memory limits (at
    100,000 customers 360-410 MB failed where 350 and 450 MB passed); sorted first, its failing limits were far
    lower (macros/storage.sql, docs/decisions.md). The plan must keep the sort between that aggregate and the
    write: an ORDER_BY with the customer-snapshot aggregate under it."""
    compiled = (demo_build.db.parent / f"{demo_build.db.stem}_dbt" / "target" / "compiled" / "arrears" / "models"
                / "marts" / "overdue" / "fct_customer_aging_history.sql")
    sql = compiled.read_text()
    with duckdb.connect(str(demo_build.db), read_only=True) as con:
        plan = json.loads(con.execute("explain (format json) " + sql).fetchall()[0][1])

    def is_snapshot_aggregate(node: dict) -> bool:
        # grouped by customer, snapshot date and the two snapshot kinds, with the ten money sums
        aggregates = node["extra_info"].get("Aggregates") or []
        return len(node["extra_info"].get("Groups", [])) == 4 and len(aggregates) >= 10

    aggregates = [n for root in plan for n in nodes(root, "HASH_GROUP_BY") if is_snapshot_aggregate(n)]
    assert len(aggregates) == 1, "the customer-snapshot aggregate is not where it was: revisit macros/storage.sql"
    sorts = [n for root in plan for n in nodes(root, "ORDER_BY")]
    assert any(aggregates[0] in nodes(sort, "HASH_GROUP_BY") for sort in sorts), "no sort above the aggregate"
