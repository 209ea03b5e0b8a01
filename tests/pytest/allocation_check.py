"""Compare a build's allocation (fct_invoices, int_payment_allocation, int_customer_credit) with the
reference's (reference_allocation.AllocationResult): used by the property tests and the demo-data test."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from helpers import Build
from reference_allocation import AllocationResult

INVOICE_FIELDS = ("customer_id", "currency", "amount", "paid_amount", "outstanding_amount", "settled_date",
                  "days_late", "days_past_due", "aging_bucket", "amount_base", "outstanding_base")


def sql_results(build: Build) -> dict[str, Any]:
    """Everything the comparison reads from the build, keyed for lookup by invoice or (customer, currency)."""
    invoices = {r["invoice_id"]: r for r in build.query_dicts(
        f"select invoice_id, {', '.join(INVOICE_FIELDS)} from marts.fct_invoices")}
    invoiced: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    outstanding: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for r in invoices.values():
        invoiced[(r["customer_id"], r["currency"])] += r["amount"]
        outstanding[(r["customer_id"], r["currency"])] += r["outstanding_amount"]
    pieces: dict[str, dict[tuple[str, str], list]] = defaultdict(lambda: defaultdict(list))
    for invoice_id, source_type, source_id, amount, day in build.query(
            "select invoice_id, source_type, source_id, allocated_amount, allocation_date"
            " from intermediate.int_payment_allocation"):
        pieces[invoice_id][(source_type, source_id)].append((amount, day))
    allocated = {(r[0], r[1]): r[2] for r in build.query(
        "select customer_id, currency, sum(allocated_amount) from intermediate.int_payment_allocation"
        " group by customer_id, currency")}
    credit = {(r[0], r[1]): r[2] for r in build.query(
        "select customer_id, currency, unapplied_credit from intermediate.int_customer_credit")}
    return {"invoices": invoices, "invoiced": invoiced, "outstanding": outstanding, "pieces": pieces,
            "allocated": allocated, "credit": credit}


def differences(ref: AllocationResult, sql: dict[str, Any], prefix: str = "") -> list[str]:
    """Every way the SQL differs from the reference on the invoices and customers whose ids start with
    `prefix` (empty = agree): fct_invoices figures, allocation pieces, unapplied credit and conservation."""
    diffs: list[str] = []
    mine = {k for k in sql["invoices"] if k.startswith(prefix)}
    if set(ref.invoices) != mine:
        diffs.append(f"fct_invoices rows only in sql {sorted(mine - set(ref.invoices))[:20]}, "
                     f"only in the reference {sorted(set(ref.invoices) - mine)[:20]}")
    for invoice_id, want in sorted(ref.invoices.items()):
        got = sql["invoices"].get(invoice_id)
        if got is None:
            continue
        for name in INVOICE_FIELDS:
            if got[name] != getattr(want, name):
                diffs.append(f"{invoice_id}.{name}: sql {got[name]!r} != reference {getattr(want, name)!r}")
        want_pieces: dict[tuple[str, str], tuple[Decimal, dt.date]] = {}
        for p in want.pieces:
            amount, _ = want_pieces.get((p.source_type, p.source_id), (Decimal(0), p.allocation_date))
            want_pieces[(p.source_type, p.source_id)] = (amount + p.amount, p.allocation_date)
        got_pieces = {k: (sum(a for a, _ in v), max(d for _, d in v)) for k, v in sql["pieces"][invoice_id].items()}
        if got_pieces != want_pieces:
            diffs.append(f"{invoice_id} allocation pieces: sql {sorted(got_pieces.items())} != "
                         f"reference {sorted(want_pieces.items())}")

    # conservation per customer and currency: invoiced = allocated + outstanding, received = allocated + credit
    ref_credit = ref.unapplied_credit()
    keys = (set(ref.received) | set(ref.allocated()) | set(ref_credit)
            | {k for k in list(sql["credit"]) + list(sql["invoiced"]) if k[0].startswith(prefix)})
    zero = Decimal(0)
    for key in sorted(keys):
        invoiced, outstanding = sql["invoiced"].get(key, zero), sql["outstanding"].get(key, zero)
        allocated, unapplied = sql["allocated"].get(key, zero), sql["credit"].get(key, zero)
        received = ref.received.get(key, zero)
        if invoiced != allocated + outstanding:
            diffs.append(f"{key}: invoiced {invoiced} != allocated {allocated} + outstanding {outstanding}")
        if received != allocated + unapplied:
            diffs.append(f"{key}: received {received} != allocated {allocated} + unapplied credit {unapplied}")
        if unapplied != ref_credit.get(key, zero):
            diffs.append(f"{key}: unapplied credit sql {unapplied} != reference {ref_credit.get(key, zero)}")
    return diffs
