"""Hypothesis strategies for contract-valid input folders (../shared/CONTRACT.md, version 2: full extracts and loads).

`contract_folders()` draws a `ContractFolder`: the rows of every table, which optional columns each table's
header leaves out, which optional tables are absent, and the file format (CSV or Parquet). `write()` puts it
on disk. Everything drawn is allowed by the contract; the one contract-invalid case kept on purpose is a
currency with no rate at all (the contract sets such rows aside with a reason code; it must not stop a run).

Edge cases every draw may contain: customers with no invoices, credit notes larger than what is open,
payments before the first invoice, same-day invoice and payment, linked and unapplied payments, void
invoices and payments, every allowed value of customer_type, document_type, status, channel, outcome and
hardship_reason, an optional `updated_at` column on any table, and any table delivered as a folder of 1-3 loads
(with, sometimes, a first load holding older versions of some rows, which must lose to the later loads).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from arrears import contract

from helpers import write_contract_folder

# The contract (arrears/contract.py): every column, and the required ones.
COLUMNS: dict[str, tuple[str, ...]] = {name: spec.columns for name, spec in contract.TABLES.items()}
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {name: spec.required for name, spec in contract.TABLES.items()}
OPTIONAL_TABLES = contract.OPTIONAL_TABLES

CUSTOMER_TYPES = contract.CODES["customer_type"]
DOCUMENT_TYPES = contract.CODES["document_type"]
STATUSES = contract.CODES["status"]
CHANNELS = contract.CODES["channel"]
OUTCOMES = contract.CODES["outcome"]
HARDSHIP_REASONS = contract.CODES["hardship_reason"]
BASE_CURRENCY = "CNY"
FOREIGN_WITH_RATES = ("USD", "EUR")
FOREIGN_WITHOUT_RATES = ("GBP",)  # no row in fx_rates: its documents are quarantined, the run goes on

START = dt.date(2025, 1, 1)
SPAN_DAYS = 420  # documents fall in START .. START + SPAN_DAYS
AS_OF = START + dt.timedelta(days=SPAN_DAYS)


@dataclass
class ContractFolder:
    """One generated input: rows per table, the header of each written table, and the file format."""

    tables: dict[str, list[dict[str, Any]]]
    headers: dict[str, list[str]]
    file_format: str = "csv"
    notes: list[str] = field(default_factory=list)
    # contract v2 delivery in loads: table -> number of loads its rows are split into (absent: a full extract);
    # `stale` adds a first load holding an older version of the first rows of each such table (it must lose)
    loads: dict[str, int] = field(default_factory=dict)
    stale: bool = False

    def write(self, path: Path) -> Path:
        """Write the folder (CSV via helpers.write_contract_folder, or Parquet with all-text columns), then
        split the tables of `loads` into folders of loads."""
        path = self._write_extracts(Path(path))
        for table, parts in self.loads.items():
            self._split(path, table, parts)
        return path

    def _split(self, path: Path, table: str, parts: int) -> None:
        import duckdb

        extract = path / f"{table}.{self.file_format}"
        if not extract.exists():
            return
        folder = path / table
        folder.mkdir()
        fmt = "(format parquet)" if self.file_format == "parquet" else "(format csv, header true)"
        read = (f"read_parquet('{extract}')" if self.file_format == "parquet"
                else f"read_csv('{extract}', header = true, all_varchar = true)")
        with duckdb.connect() as con:
            n = con.execute(f"select count(*) from {read}").fetchone()[0]
            size = max(1, -(-n // parts))
            for i in range(parts):
                con.execute(f"copy (select * from {read} limit {size} offset {i * size}) "
                            f"to '{folder / f'load_{i + 1:02d}.{self.file_format}'}' {fmt}")
            if self.stale and n:
                replace = ", ".join(f"cast(null as varchar) as {c}" for c in ("updated_at",)
                                    if c in self.headers[table])
                con.execute(f"copy (select * {f'replace ({replace})' if replace else ''} from {read} limit 3) "
                            f"to '{folder / f'load_00.{self.file_format}'}' {fmt}")
        extract.unlink()

    def _write_extracts(self, path: Path) -> Path:
        if self.file_format == "csv":
            return write_contract_folder(path, self.tables, columns=self.headers)
        import pyarrow as pa
        import pyarrow.parquet as pq

        from helpers import _text

        path.mkdir(parents=True, exist_ok=True)
        for table, rows in self.tables.items():
            header = self.headers[table]
            data = {col: [(_text(row.get(col)) if row.get(col) is not None else None) for row in rows]
                    for col in header}
            pq.write_table(pa.table({col: pa.array(vals, type=pa.string()) for col, vals in data.items()}),
                           path / f"{table}.parquet")
        return path

    def describe(self) -> str:
        sizes = ", ".join(f"{t}={len(r)}" for t, r in self.tables.items())
        return (f"{self.file_format}: {sizes}; headers={ {t: len(h) for t, h in self.headers.items()} }; "
                f"loads={self.loads}, stale={self.stale}")


def _money(draw, low: int = 1, high: int = 500_000) -> Decimal:
    cents = draw(st.integers(min_value=low, max_value=high))
    return Decimal(cents) / 100


def _day(draw, low: int = 0, high: int = SPAN_DAYS) -> dt.date:
    return START + dt.timedelta(days=draw(st.integers(min_value=low, max_value=high)))


def _maybe(draw, value: Any, empty_share: st.SearchStrategy[bool]) -> Any:
    """The value, or None (an empty field) when the draw says so."""
    return None if draw(empty_share) else value


@st.composite
def contract_folders(draw, min_customers: int = 1, max_customers: int = 200) -> ContractFolder:
    """A contract-valid folder (full extract) with 1..200 customers by default."""
    n_customers = draw(st.integers(min_value=min_customers, max_value=max_customers))
    # How often an optional field is empty: per folder, from never to always.
    empty_rate = draw(st.sampled_from((0.0, 0.2, 0.6, 1.0)))
    empty = st.floats(min_value=0, max_value=1).map(lambda x: x < empty_rate) if 0 < empty_rate < 1 \
        else st.just(empty_rate >= 1.0)
    with_updated_at = draw(st.booleans())
    fx_present = draw(st.booleans())
    actions_present = draw(st.booleans())
    foreign = draw(st.sampled_from(((), FOREIGN_WITH_RATES, FOREIGN_WITH_RATES + FOREIGN_WITHOUT_RATES)))

    customers, invoices, payments, actions = [], [], [], []
    for c in range(n_customers):
        cid = f"C{c:04d}"
        customers.append({
            "customer_id": cid,
            "customer_name": f"Customer {c}",
            "customer_type": _maybe(draw, draw(st.sampled_from(CUSTOMER_TYPES)), empty),
            "region": _maybe(draw, draw(st.sampled_from(("North", "South", "东区"))), empty),
            "phone": _maybe(draw, f"+86 138{c:08d}", empty),
            "email": _maybe(draw, f"c{c}@example.com", empty),
            "contact_person": _maybe(draw, f"Contact {c}", empty),
            "account_manager": _maybe(draw, draw(st.sampled_from(("am_li", "am_wang"))), empty),
            "credit_limit": _maybe(draw, _money(draw, 0, 10_000_000), empty),
            "annual_income": _maybe(draw, _money(draw, 0, 50_000_000), empty),
            "total_debt": _maybe(draw, _money(draw, 0, 20_000_000), empty),
            "is_key_account": _maybe(draw, draw(st.booleans()), empty),
            "created_date": _maybe(draw, _day(draw, 0, 30), empty),
            "updated_at": f"{AS_OF.isoformat()}T00:00:00" if with_updated_at else None,
        })
        # Customers with no invoices, with only credit notes, or with a few documents.
        n_docs = draw(st.integers(min_value=0, max_value=6))
        doc_ids = []
        first_invoice_day = None
        for d in range(n_docs):
            iid = f"I{c:04d}_{d}"
            inv_day = _day(draw, 0, SPAN_DAYS - 1)
            first_invoice_day = inv_day if first_invoice_day is None else min(first_invoice_day, inv_day)
            currency = draw(st.sampled_from((None, BASE_CURRENCY) + foreign))
            invoices.append({
                "invoice_id": iid,
                "customer_id": cid,
                "invoice_date": inv_day,
                "due_date": inv_day + dt.timedelta(days=draw(st.sampled_from((0, 1, 15, 30, 60)))),
                # credit notes may exceed everything open: amounts are drawn independently
                "amount": _money(draw),
                "currency": currency,
                "document_type": _maybe(draw, draw(st.sampled_from(DOCUMENT_TYPES)), empty),
                "status": _maybe(draw, draw(st.sampled_from(STATUSES)), empty),
                "updated_at": f"{AS_OF.isoformat()}T00:00:00" if with_updated_at else None,
            })
            doc_ids.append((iid, inv_day, currency))
        n_pay = draw(st.integers(min_value=0, max_value=5))
        for p in range(n_pay):
            linked = doc_ids and draw(st.booleans())
            if linked:
                iid, inv_day, currency = draw(st.sampled_from(doc_ids))
                # same day as the invoice, or before it, or after
                pay_day = inv_day + dt.timedelta(days=draw(st.sampled_from((0, -3, 5, 40))))
                pay_day = min(max(pay_day, START), AS_OF)
            else:
                iid, currency = None, draw(st.sampled_from((None, BASE_CURRENCY) + foreign))
                # may fall before the customer's first invoice
                pay_day = _day(draw)
            payments.append({
                "payment_id": f"P{c:04d}_{p}",
                "customer_id": cid,
                "invoice_id": iid,
                "payment_date": pay_day,
                "amount": _money(draw),
                "currency": currency,
                "method": _maybe(draw, draw(st.sampled_from(("bank_transfer", "card", "cash"))), empty),
                "status": _maybe(draw, draw(st.sampled_from(STATUSES)), empty),
                "updated_at": f"{AS_OF.isoformat()}T00:00:00" if with_updated_at else None,
            })
        if actions_present:
            for a in range(draw(st.integers(min_value=0, max_value=3))):
                outcome = draw(st.sampled_from(OUTCOMES))
                action_day = _day(draw)
                actions.append({
                    "action_id": f"A{c:04d}_{a}",
                    "customer_id": cid,
                    "action_date": action_day,
                    "channel": draw(st.sampled_from(CHANNELS)),
                    "outcome": outcome,
                    "hardship_reason": _maybe(draw, draw(st.sampled_from(HARDSHIP_REASONS)), empty)
                    if outcome == "hardship" else None,
                    "promised_amount": _maybe(draw, _money(draw), empty) if outcome == "promise_to_pay" else None,
                    "promised_date": _maybe(draw, action_day + dt.timedelta(days=7), empty)
                    if outcome == "promise_to_pay" else None,
                    "updated_at": f"{AS_OF.isoformat()}T00:00:00" if with_updated_at else None,
                })

    if not invoices:
        # An empty invoices file is a broken delivery (the raw suite's critical row-count rule, a guard in the
        # failure policy), not a contract-valid extract: keep one document. Customers without any stay common.
        invoices.append({"invoice_id": "I_only", "customer_id": customers[0]["customer_id"], "invoice_date": START,
                         "due_date": START + dt.timedelta(days=30), "amount": _money(draw), "currency": None})
    tables: dict[str, list[dict[str, Any]]] = {"customers": customers, "invoices": invoices, "payments": payments}
    if actions_present:
        tables["collection_actions"] = actions
    if fx_present and foreign:
        rates = []
        for cur in FOREIGN_WITH_RATES:
            for month in range(0, SPAN_DAYS + 1, 30):
                rates.append({"currency": cur, "rate_date": START + dt.timedelta(days=month),
                              "rate_to_base": Decimal(draw(st.integers(min_value=500, max_value=900))) / 100,
                              "updated_at": f"{AS_OF.isoformat()}T00:00:00" if with_updated_at else None})
        tables["fx_rates"] = rates

    # Headers: required columns always; each optional column present or left out of the header.
    headers: dict[str, list[str]] = {}
    for table in tables:
        header = []
        for col in COLUMNS[table]:
            if col in REQUIRED_COLUMNS[table] or draw(st.booleans()):
                header.append(col)
        if with_updated_at:
            header.append("updated_at")
        headers[table] = header
    file_format = draw(st.sampled_from(("csv", "parquet")))
    # contract v2: any table may arrive as a folder of loads
    loads = {t: draw(st.integers(min_value=1, max_value=3)) for t in sorted(tables) if draw(st.booleans())}
    stale = bool(loads) and draw(st.booleans())
    return ContractFolder(tables=tables, headers=headers, file_format=file_format, loads=loads, stale=stale)


def all_optional_empty(n_customers: int = 12) -> ContractFolder:
    """Edge case: every optional field empty (headers keep every column), both optional tables present."""
    customers = [{"customer_id": f"C{i}", "customer_name": f"N{i}"} for i in range(n_customers)]
    invoices = [{"invoice_id": f"I{i}", "customer_id": f"C{i}", "invoice_date": START + dt.timedelta(days=i),
                 "due_date": START + dt.timedelta(days=i + 30), "amount": Decimal("100.00") + i}
                for i in range(n_customers)]
    payments = [{"payment_id": f"P{i}", "customer_id": f"C{i}", "payment_date": START + dt.timedelta(days=i + 40),
                 "amount": Decimal("40.00")} for i in range(0, n_customers, 2)]
    actions = [{"action_id": f"A{i}", "customer_id": f"C{i}", "action_date": START + dt.timedelta(days=50),
                "channel": "call", "outcome": o} for i, o in enumerate(OUTCOMES)]
    tables = {"customers": customers, "invoices": invoices, "payments": payments, "collection_actions": actions,
              "fx_rates": []}
    return ContractFolder(tables=tables, headers={t: list(COLUMNS[t]) for t in tables})


def no_contact_log_no_fx(n_customers: int = 12) -> ContractFolder:
    """Edge case: only the three required tables, with only their required columns."""
    folder = all_optional_empty(n_customers)
    tables = {t: folder.tables[t] for t in ("customers", "invoices", "payments")}
    return ContractFolder(tables=tables, headers={t: list(REQUIRED_COLUMNS[t]) for t in tables})


def credit_notes_only(n_customers: int = 8) -> ContractFolder:
    """Edge case: every document is a credit note; some customers also pay (unapplied)."""
    folder = all_optional_empty(n_customers)
    for row in folder.tables["invoices"]:
        row["document_type"] = "credit_note"
    tables = {t: folder.tables[t] for t in ("customers", "invoices", "payments")}
    return ContractFolder(tables=tables, headers={t: list(COLUMNS[t]) for t in tables}, file_format="parquet")


def delivered_in_loads(n_customers: int = 12) -> ContractFolder:
    """Edge case (contract v2): invoices, payments and the contact log as folders of loads, with a first load
    of older versions that later loads replace; customers as a full extract."""
    folder = all_optional_empty(n_customers)
    folder.loads = {"invoices": 3, "payments": 2, "collection_actions": 1}
    folder.stale = True
    return folder
