"""The seeded demo dataset against the pure-Python reference allocation (reference_allocation.py).

Uses the session's shared demo build (conftest.demo_build), so inside the full suite it costs no extra build.
"""
from __future__ import annotations

import pytest

from allocation_check import differences, sql_results
from helpers import Build
from reference_allocation import FxRate, Invoice, Payment, allocate

pytestmark = pytest.mark.fast


def test_demo_data_equals_reference(demo_build: Build) -> None:
    """The seeded demo dataset (thousands of invoices, several currencies, real-looking payment habits) gives
    the reference's figures on every invoice and customer. Reads the valid rows from staging, so it checks the
    allocation, not the quarantine."""
    invoices = [Invoice(*row) for row in demo_build.query(
        "select invoice_id, customer_id, invoice_date, due_date, amount, currency, document_type, status"
        " from staging.stg_invoices")]
    payments = [Payment(*row) for row in demo_build.query(
        "select payment_id, customer_id, payment_date, amount, currency, invoice_id from staging.stg_payments")]
    rates = [FxRate(*row) for row in demo_build.query(
        "select currency, rate_date, rate_to_base from staging.stg_fx_rates")]
    as_of = demo_build.query("select as_of_date from intermediate.int_as_of_date")[0][0]
    diffs = differences(allocate(invoices, payments, rates, as_of), sql_results(demo_build))
    assert not diffs, f"{len(diffs)} differences as of {as_of}:\n" + "\n".join(diffs[:30])
