"""Staging on bad input: tests/fixtures/bad_input breaks every contract rule once (hand-made, readable).

Every bad row must land in staging.stg_quarantine with the first rule it breaks, nothing may be lost
(raw rows = staged + quarantined, per table), text must survive (Chinese names, ids with leading zeros)
and the good rows must reach fct_invoices. A folder lacking a required table or column must fail with a
message naming it; lacking the optional tables must not.
"""
from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from helpers import ROOT, Build, dbt_output, read_csv_rows, run_dbt, write_contract_folder

FIXTURE = ROOT / "tests" / "fixtures" / "bad_input"
TABLES = ("customers", "invoices", "payments", "collection_actions", "fx_rates")
SELECT = ["+stg_quarantine", "+stg_collection_actions", "+fct_invoices", "+int_customer_credit"]

# (source_table, record_key, reason_code), written out by reading the fixture rows one by one.
# record_key is the table's key (fx_rates: currency@rate_date); None where the key is empty.
EXPECTED_QUARANTINE = sorted([
    # customers.csv
    ("customers", None, "null_key"),                 # no customer_id
    ("customers", "004", "duplicate_key"),           # 004 twice: both copies set aside
    ("customers", "004", "duplicate_key"),
    ("customers", "005", "missing_required"),        # no customer_name
    ("customers", "006", "invalid_date"),            # created_date 2021-13-01
    ("customers", "007", "invalid_amount"),          # credit_limit 12a.00
    ("customers", "008", "negative_value"),          # credit_limit -5
    ("customers", "009", "invalid_boolean"),         # is_key_account maybe
    ("customers", "010", "invalid_code"),            # customer_type government
    # invoices.csv
    ("invoices", None, "null_key"),
    ("invoices", "INV-0006", "duplicate_key"),
    ("invoices", "INV-0006", "duplicate_key"),
    ("invoices", "INV-0007", "missing_required"),    # no invoice_date
    ("invoices", "INV-0008", "invalid_date"),        # 2026/01/05
    ("invoices", "INV-0009", "invalid_amount"),      # ten
    ("invoices", "INV-0010", "non_positive_amount"), # 0
    ("invoices", "INV-0011", "invalid_code"),        # document_type bill
    ("invoices", "INV-0012", "due_before_invoice"),
    ("invoices", "INV-0013", "unknown_customer"),    # 999
    ("invoices", "INV-0014", "unknown_currency"),    # XYZ
    ("invoices", "INV-0015", "missing_fx_rate"),     # USD in 2025, first USD rate 2026-01-01
    ("invoices", "INV-0016", "unknown_customer"),    # 004 is quarantined (duplicate), so not a valid parent
    ("invoices", "INV-0017", "future_date"),         # 2098-01-05: after the run date (var run_date, default today)
    # payments.csv
    ("payments", None, "null_key"),
    ("payments", "PAY-0004", "duplicate_key"),
    ("payments", "PAY-0004", "duplicate_key"),
    ("payments", "PAY-0005", "missing_required"),    # no payment_date
    ("payments", "PAY-0006", "invalid_date"),        # 2026-02-30
    ("payments", "PAY-0007", "invalid_amount"),      # "5,00"
    ("payments", "PAY-0008", "non_positive_amount"), # -5.00
    ("payments", "PAY-0009", "unknown_customer"),
    ("payments", "PAY-0010", "unknown_invoice"),     # INV-9999
    ("payments", "PAY-0011", "invoice_customer_mismatch"),  # 002 paying 001's INV-0001
    ("payments", "PAY-0012", "unknown_currency"),    # ABC
    ("payments", "PAY-0013", "missing_fx_rate"),     # USD in 2025
    # collection_actions.csv
    ("collection_actions", None, "null_key"),
    ("collection_actions", "ACT-0003", "duplicate_key"),
    ("collection_actions", "ACT-0003", "duplicate_key"),
    ("collection_actions", "ACT-0004", "missing_required"),  # no action_date
    ("collection_actions", "ACT-0005", "invalid_date"),      # 2026-03-32
    ("collection_actions", "ACT-0006", "invalid_amount"),    # promised_amount abc
    ("collection_actions", "ACT-0007", "negative_value"),    # promised_amount -1
    ("collection_actions", "ACT-0008", "unknown_customer"),
    ("collection_actions", "ACT-0009", "unknown_channel"),   # pigeon
    ("collection_actions", "ACT-0010", "unknown_outcome"),   # ignored_us
    ("collection_actions", "ACT-0011", "unknown_outcome"),   # hardship_reason bad_luck
    # fx_rates.csv (usd in lower case is valid: codes are upper-cased)
    ("fx_rates", "<null>@2026-01-01", "null_key"),
    ("fx_rates", "EUR@2026-01-01", "duplicate_key"),
    ("fx_rates", "EUR@2026-01-01", "duplicate_key"),
    ("fx_rates", "HKD@2026-01-01", "missing_required"),      # no rate
    ("fx_rates", "HKD@2026-01-02x", "invalid_date"),
    ("fx_rates", "HKD@2026-01-03", "invalid_amount"),        # abc
    ("fx_rates", "HKD@2026-01-04", "non_positive_amount"),   # 0
], key=lambda r: (r[0], r[1] or "", r[2]))


def _sorted(rows):
    return sorted(rows, key=lambda r: (r[0], r[1] or "", r[2]))


@pytest.fixture(scope="module")
def bad_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    db = tmp_path_factory.mktemp("bad_input") / "bad.duckdb"
    run_dbt("build", db=db, raw_dir=FIXTURE, select=SELECT)
    return Build(db, FIXTURE)


def test_quarantine_rows_are_exactly_the_bad_rows(bad_build: Build) -> None:
    """Each bad fixture row is set aside with the first rule it breaks, and no good row is."""
    got = bad_build.query("select source_table, record_key, reason_code from staging.stg_quarantine")
    assert _sorted(got) == EXPECTED_QUARANTINE


def test_every_reason_code_is_exercised(bad_build: Build) -> None:
    """The fixture covers every code of the seed (a new code needs a fixture row), and every quarantined row's
    code is described by the seed."""
    seed = {r["reason_code"] for r in read_csv_rows(ROOT / "seeds" / "quarantine_reason_codes.csv")}
    assert {r[2] for r in EXPECTED_QUARANTINE} == seed
    assert bad_build.query("select count(*) from staging.stg_quarantine where reason_description is null") == [(0,)]


def test_quarantine_keeps_the_raw_text(bad_build: Build) -> None:
    """The raw row is kept as delivered, so a person can fix it at the source."""
    raw = bad_build.query("select raw_row from staging.stg_quarantine where record_key = 'PAY-0007'")[0][0]
    assert "amount=5,00" in raw and "payment_id=PAY-0007" in raw


@pytest.mark.parametrize("table", TABLES)
def test_conservation_per_table(bad_build: Build, table: str) -> None:
    """Raw rows = staged rows + quarantined rows: nothing dropped, nothing invented."""
    lines = (FIXTURE / f"{table}.csv").read_text(encoding="utf-8").splitlines()
    raw_rows = len([line for line in lines[1:] if line.strip()])
    assert raw_rows == len(read_csv_rows(FIXTURE / f"{table}.csv"))  # no quoted line breaks in the fixture
    staged = bad_build.query(f"select count(*) from staging.stg_{table}")[0][0]
    quarantined = bad_build.query(
        "select count(*) from staging.stg_quarantine where source_table = ?", [table])[0][0]
    assert (staged, quarantined) == (
        raw_rows - sum(1 for r in EXPECTED_QUARANTINE if r[0] == table),
        sum(1 for r in EXPECTED_QUARANTINE if r[0] == table),
    )
    assert staged + quarantined == raw_rows


def test_text_is_kept(bad_build: Build) -> None:
    """Names are trimmed but otherwise kept (Chinese included); ids stay text with their leading zeros."""
    customers = dict(bad_build.query("select customer_id, customer_name from staging.stg_customers"))
    assert customers == {"001": "Good Company Ltd", "002": "王伟", "003": "Third Ltd"}
    assert bad_build.query("select customer_type from staging.stg_customers where customer_id = '002'") == [
        ("individual",)]
    assert {r[0] for r in bad_build.query("select customer_id from marts.fct_invoices")} == {"001", "002"}


def test_good_rows_reach_fct_invoices(bad_build: Build) -> None:
    """As of the latest valid document (2026-03-20): INV-0001 paid by its linked payment, INV-0002 partly by
    the unapplied PAY-0002, USD INV-0003 partly by its USD payment; the credit note (CNY) stays credit, the
    void invoice is gone."""
    rows = {r["invoice_id"]: r for r in bad_build.query_dicts(
        "select invoice_id, as_of_date, currency, amount, paid_amount, outstanding_amount, settled_date,"
        " days_late, days_past_due, amount_base, outstanding_base from marts.fct_invoices")}
    d = dt.date.fromisoformat
    assert set(rows) == {"INV-0001", "INV-0002", "INV-0003"}
    assert {r["as_of_date"] for r in rows.values()} == {d("2026-03-20")}
    pick = ("currency", "amount", "paid_amount", "outstanding_amount", "settled_date", "days_late",
            "days_past_due", "amount_base", "outstanding_base")
    got = {k: tuple(r[c] for c in pick) for k, r in rows.items()}
    assert got == {
        "INV-0001": ("CNY", Decimal("1000.00"), Decimal("1000.00"), Decimal("0.00"), d("2026-02-01"), 0, 0,
                     Decimal("1000.00"), Decimal("0.00")),
        "INV-0002": ("CNY", Decimal("500.00"), Decimal("200.00"), Decimal("300.00"), None, None, 13,
                     Decimal("500.00"), Decimal("300.00")),
        # 300 USD at 7.10 (rate of 2026-01-01); 200 unpaid revalued at 7.15 (the 'usd' rate of 2026-03-01)
        "INV-0003": ("USD", Decimal("300.00"), Decimal("100.00"), Decimal("200.00"), None, None, 47,
                     Decimal("2130.00"), Decimal("1430.00")),
    }
    credit = bad_build.query(
        "select customer_id, currency, unapplied_credit from intermediate.int_customer_credit"
        " where unapplied_credit <> 0")
    assert credit == [("002", "CNY", Decimal("50.00"))]


def _line_with(output: str, *parts: str) -> str | None:
    """The first line of dbt's output holding every part (case-insensitive): the message a user reads."""
    for line in output.splitlines():
        if all(part.lower() in line.lower() for part in parts):
            return line
    return None


def _copy_fixture(dest: Path, drop: tuple[str, ...] = ()) -> Path:
    dest.mkdir(parents=True)
    for table in TABLES:
        if table not in drop:
            shutil.copy(FIXTURE / f"{table}.csv", dest / f"{table}.csv")
    return dest


def test_missing_required_table_fails_naming_it(tmp_path: Path) -> None:
    raw = _copy_fixture(tmp_path / "raw", drop=("payments",))
    result = run_dbt("build", db=tmp_path / "x.duckdb", raw_dir=raw, select="+stg_payments_checked", check=False)
    assert result.returncode != 0
    assert _line_with(dbt_output(result), "input table 'payments'", "not found")


def test_missing_optional_tables_still_build(tmp_path: Path) -> None:
    """Without fx_rates and collection_actions the build succeeds; foreign-currency rows then have no rate
    (unknown_currency) and a payment of such an invoice has no valid invoice (unknown_invoice)."""
    raw = _copy_fixture(tmp_path / "raw", drop=("collection_actions", "fx_rates"))
    run_dbt("build", db=tmp_path / "x.duckdb", raw_dir=raw, select=SELECT)  # the models' dbt tests included
    b = Build(tmp_path / "x.duckdb", raw)
    assert b.query("select count(*) from staging.stg_fx_rates") == [(0,)]
    assert b.query("select count(*) from staging.stg_collection_actions") == [(0,)]
    got = dict(b.query("select record_key, reason_code from staging.stg_quarantine"
                       " where record_key in ('INV-0003', 'PAY-0003')"))
    assert got == {"INV-0003": "unknown_currency", "PAY-0003": "unknown_invoice"}
    assert {r[0] for r in b.query("select invoice_id from marts.fct_invoices")} == {"INV-0001", "INV-0002"}


def test_missing_required_column_fails_naming_it(tmp_path: Path) -> None:
    raw = _copy_fixture(tmp_path / "raw", drop=("invoices",))
    rows = read_csv_rows(FIXTURE / "invoices.csv")
    write_contract_folder(raw, {"invoices": rows},
                          columns={"invoices": [c for c in rows[0] if c != "amount"]})
    result = run_dbt("build", db=tmp_path / "x.duckdb", raw_dir=raw, select="+stg_invoices_checked", check=False)
    assert result.returncode != 0
    assert _line_with(dbt_output(result), "input table 'invoices'", "required column", ": amount")
