"""Import CTEs that a model reads more than once are read again, not copied (macros/cte.sql, `not_materialized`).

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
    "marts/overdue/fct_payment_pattern_changes.sql": {"invoices"},
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
