"""What a column promises (never null, within a range) is declared as a constraint next to the column
(`constraints: [{type: not_null}, {type: check, expression: ...}]`), checked by one `column_constraints` test per
model or seed (macros/tests/column_constraints.sql), and enforced in the DDL of the marts with an enforced contract.

If these fail, a promised rule is not checked at all (a constraint on a model without the test: on a model
without an enforced contract nothing else reads it), a rule is checked twice or one dbt node per column again
(a plain `not_null` or `value_between` test beside the constraints: one more node per column on every daily
run), or the batched test passes over rows that break a rule.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from helpers import dbt_output, run_dbt

pytestmark = pytest.mark.dbt


def manifest(build) -> dict:
    path = build.db.parent / f"{build.db.stem}_dbt" / "target" / "manifest.json"
    return json.loads(path.read_text())


def rules(node: dict, kind: str) -> list[str]:
    """The columns of a model or seed node with a constraint of type `kind` (one entry per constraint)."""
    return [name for name, column in node["columns"].items()
            for c in column.get("constraints", []) if c["type"] == kind]


def test_every_constrained_model_carries_one_column_constraints_test(demo_build) -> None:
    nodes = manifest(demo_build)["nodes"]
    tests_on: dict[str, int] = {}
    for node in nodes.values():
        if node["resource_type"] == "test" and node.get("test_metadata", {}).get("name") == "column_constraints":
            tests_on[node["attached_node"]] = tests_on.get(node["attached_node"], 0) + 1
    constrained = {uid for uid, node in nodes.items()
                   if node["resource_type"] in ("model", "seed") and (rules(node, "not_null") or rules(node, "check"))}
    assert len(constrained) > 40, "the project's column promises are declared as constraints"
    assert sum(len(rules(nodes[uid], "check")) for uid in constrained) > 100, "ranges are check constraints"
    assert {uid for uid in constrained if tests_on.get(uid) != 1} == set(), \
        "a model or seed with constraints lacks its column_constraints test (or has two)"
    assert set(tests_on) - constrained == set(), "a column_constraints test on a model without a constraint"


def test_no_column_rule_is_one_dbt_node_again(demo_build) -> None:
    """A plain `not_null` or `value_between` test is kept only where it differs from a constraint: part of the
    rows (a `where` config) or another severity (a warning); every whole-column rule is a constraint."""
    nodes = manifest(demo_build)["nodes"]
    plain = sorted(node["name"] for node in nodes.values()
                   if node["resource_type"] == "test"
                   and node.get("test_metadata", {}).get("name") in ("not_null", "value_between")
                   and not node["config"].get("where") and node["config"].get("severity", "ERROR").upper() == "ERROR")
    assert plain == []


def test_the_batched_test_names_each_broken_rule(demo_build, tmp_path: Path) -> None:
    db = tmp_path / "broken.duckdb"
    shutil.copy(demo_build.db, db)
    with duckdb.connect(str(db)) as con:
        con.execute("update marts.fct_customer_aging set aging_bucket = null where customer_id in "
                    "(select customer_id from marts.fct_customer_aging order by customer_id limit 3)")
        con.execute("update marts.fct_customer_aging set days_past_due = null, outstanding_base = -1 "
                    "where customer_id = (select max(customer_id) from marts.fct_customer_aging)")
    result = run_dbt("test", db=db, raw_dir=demo_build.raw_dir, as_of=demo_build.as_of,
                     select="fct_customer_aging,test_name:column_constraints", check=False)
    output = dbt_output(result)
    assert result.returncode == 1, output
    assert "FAIL 3 column_constraints_fct_customer_aging_" in output, output
    # the failing rows: the test's compiled query run on the same file
    compiled = next((db.parent / f"{db.stem}_dbt" / "target" / "compiled").rglob(
        "column_constraints_fct_customer_aging_.sql")).read_text()
    with duckdb.connect(str(db), read_only=True) as con:
        failures = con.execute(f"select * from ({compiled}) as failing order by 1").fetchall()
    assert failures == [("aging_bucket", "not_null", 3), ("days_past_due", "not_null", 1),
                        ("outstanding_base", "outstanding_base >= 0", 1)]


def test_an_enforced_contract_puts_the_constraints_in_the_table(demo_build) -> None:
    """On DuckDB the contracted marts' columns are NOT NULL and CHECKed in the table: a model writing a null or an
    out-of-range value fails its own build."""
    nodes = manifest(demo_build)["nodes"]
    contracted = {node["name"]: node for node in nodes.values()
                  if node["resource_type"] == "model" and node["config"].get("contract", {}).get("enforced")}
    assert "mart_overdue_customers" in contracted
    assert all(rules(node, "not_null") for node in contracted.values())
    with duckdb.connect(str(demo_build.db), read_only=True) as con:
        for name, node in contracted.items():
            not_nullable = {r[0] for r in con.execute(
                "select column_name from information_schema.columns where table_name = ? and is_nullable = 'NO'",
                [name]).fetchall()}
            checks = con.execute("select count(*) from duckdb_constraints() where table_name = ? "
                                 "and constraint_type = 'CHECK'", [name]).fetchone()[0]
            assert not_nullable == set(rules(node, "not_null")), name
            assert checks == len(rules(node, "check")), name
