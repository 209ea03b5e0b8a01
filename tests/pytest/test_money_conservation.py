"""The money tests fail when money goes missing: the conservation test
(tests/dbt/assert_money_conserved_per_customer.sql), which runs in every build, the daily runs included, over
every customer (the invariant that says outstanding balances and DPD can be trusted), and the test that every
valid payment reaches int_linked_payments (tests/dbt/assert_payments_reach_the_linking.sql, which a daily run
scopes to the customers it restated: tests/pytest/test_daily_loads.py). These tests break a copy of the demo
warehouse the ways the tests name and check that each fails, with the payment or the customer it should name.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from helpers import dbt_output, run_dbt

TEST = "assert_money_conserved_per_customer"
LINKING = "assert_payments_reach_the_linking"


def compiled_test(db: Path, test: str = TEST) -> str:
    """The singular test `test` as dbt compiled it for the warehouse `db`."""
    return next((db.parent / f"{db.stem}_dbt" / "target" / "compiled").rglob(f"{test}.sql")).read_text()


def failing_rows(demo_build, tmp_path: Path, *breakage: str, tests: tuple[str, ...] = (TEST,)) -> list[tuple]:
    """The failing rows of the singular `tests` on a copy of the demo warehouse after the `breakage` statements
    (dbt must report each test failed)."""
    # the same file name: DuckDB names the catalog after it, and the warehouse's views name their catalog
    db = tmp_path / demo_build.db.name
    shutil.copy(demo_build.db, db)
    with duckdb.connect(str(db)) as con:
        for statement in breakage:
            con.execute(statement)
    result = run_dbt("test", db=db, raw_dir=demo_build.raw_dir, as_of=demo_build.as_of, select=" ".join(tests),
                     check=False)
    output = dbt_output(result)
    assert result.returncode == 1 and all(re.search(rf"FAIL \d+ {test}", output) for test in tests), output
    with duckdb.connect(str(db), read_only=True) as con:
        return [row for test in tests
                for row in con.execute(f"select * from ({compiled_test(db, test)}) as failing order by all").fetchall()]


@pytest.fixture(scope="module")
def linked_payment(demo_build) -> tuple[str, str]:
    """A payment of the demo applied in its own currency: (payment_id, customer_id)."""
    rows = demo_build.query(
        "select linked.payment_id, linked.customer_id from intermediate.int_linked_payments as linked "
        "inner join staging.stg_payments as payments on linked.payment_id = payments.payment_id "
        "where linked.currency = payments.currency order by linked.payment_id limit 1")
    assert rows, "the demo has no payment applied in its own currency"
    return rows[0]


@pytest.mark.parametrize("test", [TEST, LINKING])
def test_the_whole_build_conserves_money(demo_build, test: str) -> None:
    assert demo_build.query(f"select count(*) from ({compiled_test(demo_build.db, test)}) as failing") == [(0,)]


def test_a_payment_dropped_by_the_linking_fails(demo_build, tmp_path, linked_payment) -> None:
    payment_id, customer_id = linked_payment
    rows = failing_rows(demo_build, tmp_path,
                        f"delete from intermediate.int_linked_payments where payment_id = '{payment_id}'",
                        tests=(LINKING,))
    checks = {(row[0], row[1]) for row in rows}
    assert (f"payment {payment_id} not in int_linked_payments, or its amount changed", customer_id) in checks, rows


def test_a_payment_applied_at_another_amount_fails(demo_build, tmp_path, linked_payment) -> None:
    payment_id, customer_id = linked_payment
    rows = failing_rows(demo_build, tmp_path,
                        "update intermediate.int_linked_payments set payment_amount = payment_amount + 1 "
                        f"where payment_id = '{payment_id}'", tests=(LINKING, TEST))
    by_check = {row[0]: row for row in rows}
    named = by_check.get(f"payment {payment_id} not in int_linked_payments, or its amount changed")
    assert named is not None and named[1] == customer_id, rows
    assert named[4] == named[3] + 1, named  # actual = expected + 1
    # and the customer's money no longer adds up: paid moved, allocated and unapplied credit did not
    assert ("paid <> allocated + unapplied credit", customer_id) in {(row[0], row[1]) for row in rows}, rows


def test_an_allocation_that_creates_money_fails(demo_build, tmp_path) -> None:
    rows = demo_build.query(
        "select invoice_id, customer_id from intermediate.int_payment_allocation order by all limit 1")
    invoice_id, customer_id = rows[0]
    failing = failing_rows(demo_build, tmp_path,
                           "update intermediate.int_payment_allocation set allocated_amount = allocated_amount + 5 "
                           f"where invoice_id = '{invoice_id}'")
    assert {("invoiced <> allocated + outstanding", customer_id),
            ("paid <> allocated + unapplied credit", customer_id)} <= {(row[0], row[1]) for row in failing}, failing
