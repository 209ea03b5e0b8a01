"""Fault injection, money and dates (issue 20; contract v2 payments status): each case builds a tiny contract
folder and asserts what the warehouse makes of it.

- a void payment (reversed or bounced) is kept and counted but pays nothing; an unknown status is set aside;
- invoices of 100,000,000.00 and of 5e15 in a foreign currency flow through every model with exact sums;
- a future-dated row does not move the as-of date; it is set aside as future_date unless a simulation asks
  for a later as-of date;
- a key with a trailing TAB (or CR, NBSP) matches its customer;
- amounts with more than two decimals are reported by a warn-severity test, never rounded silently.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from helpers import query, run_dbt, write_contract_folder

AS_OF = dt.date(2026, 6, 30)


def _customers(*ids: str) -> list[dict]:
    return [{"customer_id": c, "customer_name": f"Customer {c}", "customer_type": "business"} for c in ids]


MODELS_ONLY = ["resource_type:test", "resource_type:unit_test"]


def _build(tmp_path: Path, tables: dict, **kwargs) -> Path:
    """Build the folder; models only unless `exclude` says otherwise (the tests read what the models made)."""
    raw = write_contract_folder(tmp_path / "raw", tables)
    db = tmp_path / "w.duckdb"
    kwargs.setdefault("exclude", MODELS_ONLY)
    run_dbt("build", db=db, raw_dir=raw, **kwargs)
    return db


def test_void_payment_is_counted_but_pays_nothing(tmp_path: Path) -> None:
    # Would fail if a reversed payment still reduced the balance (the v2 status was ignored), or was dropped.
    db = _build(tmp_path, {
        "customers": _customers("C1"),
        "invoices": [{"invoice_id": "I1", "customer_id": "C1", "invoice_date": "2026-04-01",
                      "due_date": "2026-04-30", "amount": "1000.00"}],
        "payments": [
            {"payment_id": "P1", "customer_id": "C1", "invoice_id": "I1", "payment_date": "2026-05-05",
             "amount": "400.00", "status": "posted"},
            {"payment_id": "P2", "customer_id": "C1", "invoice_id": "I1", "payment_date": "2026-05-10",
             "amount": "600.00", "status": " VOID "},
            {"payment_id": "P3", "customer_id": "C1", "invoice_id": "I1", "payment_date": "2026-05-11",
             "amount": "10.00", "status": "bounced"},
        ],
    }, as_of=AS_OF)
    staged = dict(query(db, "select payment_id, is_void from staging.stg_payments"))
    assert staged == {"P1": False, "P2": True}
    assert query(db, "select reason_code from staging.stg_quarantine where source_table = 'payments'") == [
        ("invalid_code",)]
    paid, outstanding = query(db, "select paid_amount, outstanding_amount from marts.fct_invoices")[0]
    assert (paid, outstanding) == (Decimal("400.00"), Decimal("600.00"))
    dpd = query(db, "select days_past_due from marts.fct_customer_aging where customer_id = 'C1'")[0][0]
    assert dpd == (AS_OF - dt.date(2026, 4, 30)).days


def test_absent_status_column_means_posted(tmp_path: Path) -> None:
    # Would fail if a version-1 payments file (no status column) lost its payments.
    raw = write_contract_folder(tmp_path / "raw", {
        "customers": _customers("C1"),
        "invoices": [{"invoice_id": "I1", "customer_id": "C1", "invoice_date": "2026-04-01",
                      "due_date": "2026-04-30", "amount": "100.00"}],
        "payments": [{"payment_id": "P1", "customer_id": "C1", "invoice_id": "I1", "payment_date": "2026-05-05",
                      "amount": "100.00"}],
    }, columns={"payments": ["payment_id", "customer_id", "invoice_id", "payment_date", "amount"]})
    db = tmp_path / "w.duckdb"
    run_dbt("build", db=db, raw_dir=raw, as_of=AS_OF, exclude=MODELS_ONLY)
    assert query(db, "select status, is_void from staging.stg_payments") == [("posted", False)]
    assert query(db, "select outstanding_amount from marts.fct_invoices") == [(Decimal("0.00"),)]


def _money_results(db: Path) -> dict:
    return {
        "invoices": query(db, "select invoice_id, amount, amount_base, outstanding_base from marts.fct_invoices "
                              "order by 1"),
        "aging": query(db, "select customer_id, outstanding_base, overdue_base from marts.fct_customer_aging "
                           "order by 1"),
    }


def test_amounts_beyond_decimal_18_flow_through_every_model(tmp_path: Path) -> None:
    # Would fail with "Overflow in multiplication of DECIMAL(18)" (issue 20 item 1) or with sums off by a cent.
    big = Decimal("100000000.00")
    huge_usd = Decimal("5000000000000000.00")          # 5e15 USD at 7.1 = 3.55e16 CNY
    db = _build(tmp_path, {
        "customers": _customers("C1", "C2"),
        "invoices": [
            {"invoice_id": "I1", "customer_id": "C1", "invoice_date": "2026-04-01", "due_date": "2026-04-30",
             "amount": str(big)},
            {"invoice_id": "I2", "customer_id": "C2", "invoice_date": "2026-04-01", "due_date": "2026-04-30",
             "amount": str(huge_usd), "currency": "USD"},
        ],
        "payments": [{"payment_id": "P1", "customer_id": "C1", "invoice_id": "I1", "payment_date": "2026-05-05",
                      "amount": "0.01"}],
        "fx_rates": [{"currency": "USD", "rate_date": "2026-01-01", "rate_to_base": "7.1"}],
    }, as_of=AS_OF, exclude=["resource_type:unit_test"])   # every data test too: none may fail on big amounts
    result = _money_results(db)
    assert result["invoices"] == [
        ("I1", big, big, big - Decimal("0.01")),
        ("I2", huge_usd, huge_usd * Decimal("7.1"), huge_usd * Decimal("7.1")),
    ]
    assert result["aging"] == [("C1", big - Decimal("0.01"), big - Decimal("0.01")),
                               ("C2", huge_usd * Decimal("7.1"), huge_usd * Decimal("7.1"))]
    strategy = dict(query(db, "select customer_id, outstanding_base from marts.mart_collection_strategy"))
    assert strategy == {"C1": big - Decimal("0.01"), "C2": huge_usd * Decimal("7.1")}


def test_future_dated_rows_do_not_move_the_as_of_date(tmp_path: Path) -> None:
    # Would fail if one invoice dated next year moved the default as-of date (issue 20 item 3).
    tables = {
        "customers": _customers("C1", "C2"),
        "invoices": [
            {"invoice_id": "I1", "customer_id": "C1", "invoice_date": "2026-04-01", "due_date": "2026-04-30",
             "amount": "100.00"},
            {"invoice_id": "I2", "customer_id": "C2", "invoice_date": "2027-06-30", "due_date": "2027-07-30",
             "amount": "100.00"},
        ],
        "payments": [{"payment_id": "P1", "customer_id": "C1", "payment_date": "2026-06-30", "amount": "10.00"},
                     {"payment_id": "P2", "customer_id": "C2", "payment_date": "2999-01-01", "amount": "10.00"}],
    }
    db = _build(tmp_path, tables, extra_vars={"run_date": "2026-07-02"})
    as_of, run_date, source = query(db, "select as_of_date, run_date, as_of_source from intermediate.int_as_of_date")[0]
    assert (as_of, run_date, source) == (dt.date(2026, 6, 30), dt.date(2026, 7, 2), "latest_document")
    set_aside = sorted(query(db, "select source_table, reason_code from staging.stg_quarantine"))
    assert set_aside == [("invoices", "future_date"), ("payments", "future_date")]
    # an explicit later as-of date is a simulation: nothing is set aside up to that date
    sim = _build(tmp_path / "sim", tables, as_of=dt.date(2027, 8, 31), extra_vars={"run_date": "2026-07-02"})
    as_of, source = query(sim, "select as_of_date, as_of_source from intermediate.int_as_of_date")[0]
    assert (as_of, source) == (dt.date(2027, 8, 31), "requested")
    assert query(sim, "select source_table, reason_code from staging.stg_quarantine") == [
        ("payments", "future_date")]


def test_whitespace_around_keys_is_trimmed(tmp_path: Path) -> None:
    # Would fail if a trailing TAB (or CR, NBSP) in a key sent a real payment to quarantine as unknown_customer.
    db = _build(tmp_path, {
        "customers": _customers("C1", "C2"),
        "invoices": [{"invoice_id": "I1", "customer_id": "C1\t", "invoice_date": "2026-04-01",
                      "due_date": "2026-04-30", "amount": "100.00"}],
        "payments": [{"payment_id": "P1\u00a0", "customer_id": "\tC1", "invoice_id": "I1 \t",
                      "payment_date": "2026-05-05", "amount": "100.00"},
                     {"payment_id": "P2", "customer_id": "C2\u00a0", "payment_date": "2026-05-05",
                      "amount": "5.00"}],
    }, as_of=AS_OF)
    assert query(db, "select count(*) from staging.stg_quarantine") == [(0,)]
    assert sorted(query(db, "select payment_id, customer_id, invoice_id from staging.stg_payments")) == [
        ("P1", "C1", "I1"), ("P2", "C2", None)]


def test_more_than_two_decimals_is_reported(tmp_path: Path) -> None:
    # Would fail if 100.005 were rounded without a word: the warn test counts such rows in run_results.json.
    db = _build(tmp_path, {
        "customers": _customers("C1"),
        "invoices": [{"invoice_id": "I1", "customer_id": "C1", "invoice_date": "2026-04-01",
                      "due_date": "2026-04-30", "amount": "100.005"},
                     {"invoice_id": "I2", "customer_id": "C1", "invoice_date": "2026-04-01",
                      "due_date": "2026-04-30", "amount": "100.50"}],
        "payments": [{"payment_id": "P1", "customer_id": "C1", "payment_date": "2026-05-05",
                      "amount": "1.0001"}],
    }, as_of=AS_OF, exclude=["resource_type:unit_test"])
    results = json.loads((db.parent / f"{db.stem}_dbt" / "target" / "run_results.json").read_text())
    warned = {r["unique_id"].split(".")[2]: r["failures"] for r in results["results"] if r["status"] == "warn"}
    assert warned.get("warn_amounts_beyond_two_decimals") == 2, warned
    # kept to the cent (rounded half away from zero), and the rounding was reported above
    assert query(db, "select amount from staging.stg_invoices where invoice_id = 'I1'") == [(Decimal("100.01"),)]
