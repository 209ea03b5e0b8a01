"""Real data: the IBM Watson Analytics "Accounts Receivable" sample (2,466 invoices, every one settled).

Mapped to the contract (each invoice paid in full by one linked payment on SettledDate), the warehouse must
give back the file's own answers: settled_date = SettledDate and days_late = DaysLate on every invoice,
nothing outstanding. Built again as of a past date, invoices settled later must be open and unpaid with
DPD = as-of - due date, i.e. later payments are ignored.

Needs env ARREARS_DATASETS_DIR (the folder holding ibm_accounts_receivable/); skipped otherwise.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from helpers import Build, read_csv_rows, run_dbt, write_contract_folder

FILE = Path("ibm_accounts_receivable") / "WA_Fn-UseC_-Accounts-Receivable.csv"
INVOICES = 2466
PAST_AS_OF = dt.date(2013, 6, 30)


def us_date(text: str) -> dt.date:
    """The file's M/D/YYYY dates."""
    return dt.datetime.strptime(text, "%m/%d/%Y").date()


@pytest.fixture(scope="module")
def ibm_rows(datasets_dir: Path) -> list[dict[str, str]]:
    path = datasets_dir / FILE
    if not path.exists():
        pytest.skip(f"{path} is not there")
    rows = read_csv_rows(path)
    assert len(rows) == INVOICES, f"{path}: expected {INVOICES} invoices, found {len(rows)}"
    return rows


@pytest.fixture(scope="module")
def ibm_raw(ibm_rows, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The file as a contract folder. invoiceNumber stays text (10 digits, zero-padded)."""
    customers = sorted({(r["customerID"], r["countryCode"]) for r in ibm_rows})
    return write_contract_folder(tmp_path_factory.mktemp("ibm") / "raw", {
        "customers": [{"customer_id": cid, "customer_name": f"IBM sample customer {cid}", "region": country}
                      for cid, country in customers],
        "invoices": [{"invoice_id": r["invoiceNumber"], "customer_id": r["customerID"],
                      "invoice_date": us_date(r["InvoiceDate"]), "due_date": us_date(r["DueDate"]),
                      "amount": r["InvoiceAmount"], "currency": None}
                     for r in ibm_rows],
        "payments": [{"payment_id": "PAY-" + r["invoiceNumber"], "customer_id": r["customerID"],
                      "invoice_id": r["invoiceNumber"], "payment_date": us_date(r["SettledDate"]),
                      "amount": r["InvoiceAmount"], "currency": None}
                     for r in ibm_rows],
    })


def build(raw: Path, as_of: dt.date, tmp_path_factory: pytest.TempPathFactory, dbt_tests: bool = True) -> Build:
    db = tmp_path_factory.mktemp("ibm_build") / "ibm.duckdb"
    run_dbt("build", db=db, raw_dir=raw, as_of=as_of, select=["+fct_invoices", "+stg_quarantine"],
            exclude=None if dbt_tests else ["resource_type:test", "resource_type:unit_test"])
    return Build(db, raw, as_of)


def fct_invoices(b: Build) -> dict[str, dict]:
    return {r["invoice_id"]: r for r in b.query_dicts(
        "select invoice_id, customer_id, amount, paid_amount, outstanding_amount, settled_date, days_late,"
        " days_past_due from marts.fct_invoices")}


def test_days_late_and_settled_date_match_the_file(ibm_rows, ibm_raw, tmp_path_factory) -> None:
    """As of the last settlement every invoice is paid; settled_date and days_late are the file's. A failure
    means allocation dates or lateness are computed differently from the plain definition."""
    as_of = max(us_date(r["SettledDate"]) for r in ibm_rows)
    b = build(ibm_raw, as_of, tmp_path_factory)
    assert b.query("select source_table, record_key, reason_code from staging.stg_quarantine") == []
    got = fct_invoices(b)
    assert set(got) == {r["invoiceNumber"] for r in ibm_rows}  # ids kept as text, leading zeros included
    wrong = []
    for r in ibm_rows:
        g = got[r["invoiceNumber"]]
        want = (us_date(r["SettledDate"]), int(r["DaysLate"]), Decimal(r["InvoiceAmount"]), Decimal("0.00"), 0)
        have = (g["settled_date"], g["days_late"], g["paid_amount"], g["outstanding_amount"], g["days_past_due"])
        if have != want:
            wrong.append(f"{r['invoiceNumber']}: (settled, days_late, paid, outstanding, dpd) {have} != {want}")
    assert not wrong, f"{len(wrong)} of {INVOICES} invoices differ:\n" + "\n".join(wrong[:20])
    totals = b.query("select sum(amount), sum(paid_amount), sum(outstanding_amount) from marts.fct_invoices")[0]
    invoiced = sum(Decimal(r["InvoiceAmount"]) for r in ibm_rows)
    assert totals == (invoiced, invoiced, Decimal("0.00"))


def test_past_as_of_ignores_later_payments(ibm_rows, ibm_raw, tmp_path_factory) -> None:
    """As of 2013-06-30: invoices issued later are absent, those settled later are open and unpaid with
    DPD = as-of - due date when past due, those settled by then are as in the file. A failure means a
    payment dated after the as-of date leaked into the snapshot (or DPD is wrong)."""
    b = build(ibm_raw, PAST_AS_OF, tmp_path_factory, dbt_tests=False)  # the first test ran them on this data
    got = fct_invoices(b)
    issued = [r for r in ibm_rows if us_date(r["InvoiceDate"]) <= PAST_AS_OF]
    assert set(got) == {r["invoiceNumber"] for r in issued}
    open_later = [r for r in issued if us_date(r["SettledDate"]) > PAST_AS_OF]
    assert len(open_later) == 84  # the file's count: guards the test against a silent change of the data
    wrong = []
    for r in issued:
        g = got[r["invoiceNumber"]]
        amount, due, settled = Decimal(r["InvoiceAmount"]), us_date(r["DueDate"]), us_date(r["SettledDate"])
        if settled > PAST_AS_OF:
            want = (Decimal("0.00"), amount, None, None, max(0, (PAST_AS_OF - due).days))
        else:
            want = (amount, Decimal("0.00"), settled, int(r["DaysLate"]), 0)
        have = (g["paid_amount"], g["outstanding_amount"], g["settled_date"], g["days_late"], g["days_past_due"])
        if have != want:
            wrong.append(f"{r['invoiceNumber']}: (paid, outstanding, settled, days_late, dpd) {have} != {want}")
    assert not wrong, f"{len(wrong)} of {len(issued)} invoices differ:\n" + "\n".join(wrong[:20])
    assert any(g["days_past_due"] > 0 for g in got.values())  # the past-due branch is exercised
