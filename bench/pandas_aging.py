#!/usr/bin/env python3
"""What a user would write instead of the warehouse: as-of aging per customer in plain pandas.

Reads the contract CSV (or Parquet) files, applies the same rules as the warehouse (docs/decisions.md):
linked payments pay their invoice first, the rest of the money (unapplied payments, credit notes, excess)
pays each customer's open invoices oldest due date first, per currency; DPD and aging buckets at the as-of
date; unpaid amounts revalued at the as-of date's rate. The FIFO step is the usual per-customer Python loop.

Used by scripts/benchmark.py as the "pandas" anchor and checked equal to marts.fct_customer_aging on a
small dataset (tests/pytest/test_benchmark_anchor.py). Input validation/quarantine is out of scope: it
expects clean demo data.

    python bench/pandas_aging.py --raw-dir data/raw --as-of 2026-10-31 --out aging.parquet
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd

BUCKETS = [("not_due", 0, 0), ("dpd_1_30", 1, 30), ("dpd_31_60", 31, 60), ("dpd_61_90", 61, 90),
           ("dpd_91_120", 91, 120), ("dpd_121_180", 121, 180), ("dpd_181_plus", 181, None)]


def read_table(raw_dir: Path, name: str) -> pd.DataFrame | None:
    csv, parquet = raw_dir / f"{name}.csv", raw_dir / f"{name}.parquet"
    if csv.exists():
        return pd.read_csv(csv, dtype=str, keep_default_na=False, na_values=[""])
    if parquet.exists():
        return pd.read_parquet(parquet).astype(str).replace({"None": np.nan, "nan": np.nan, "NaT": np.nan})
    return None


def cents(series: pd.Series) -> pd.Series:
    """Decimal text -> integer cents (exact)."""
    return series.map(lambda v: int((Decimal(v) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def fx_lookup(fx: pd.DataFrame | None, base: str):
    """rate(currency, date): latest rate on or before the date (base currency = 1)."""
    table: dict[str, tuple[np.ndarray, list[Decimal]]] = {}
    if fx is not None and len(fx):
        fx = fx.assign(currency=fx["currency"].str.strip().str.upper(), rate_date=pd.to_datetime(fx["rate_date"]))
        for cur, grp in fx.sort_values("rate_date").groupby("currency"):
            table[cur] = (grp["rate_date"].to_numpy(), [Decimal(r) for r in grp["rate_to_base"]])

    def rate(currency: str, day: np.datetime64) -> Decimal:
        if currency == base:
            return Decimal(1)
        dates, rates = table[currency]
        i = int(np.searchsorted(dates, day, side="right")) - 1
        return rates[i]
    return rate


def to_base_cents(amount_cents: int, rate: Decimal) -> int:
    return int((Decimal(amount_cents) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def aging(raw_dir: Path, as_of: dt.date, base: str = "CNY") -> pd.DataFrame:
    customers = read_table(raw_dir, "customers")
    invoices = read_table(raw_dir, "invoices")
    payments = read_table(raw_dir, "payments")
    rate = fx_lookup(read_table(raw_dir, "fx_rates"), base)
    day = np.datetime64(as_of)

    inv = invoices.assign(
        currency=invoices["currency"].fillna(base).str.upper(),
        document_type=invoices["document_type"].fillna("invoice").str.lower(),
        status=invoices["status"].fillna("posted").str.lower(),
        invoice_date=pd.to_datetime(invoices["invoice_date"]),
        due_date=pd.to_datetime(invoices["due_date"]),
        amount_c=cents(invoices["amount"]),
    )
    inv = inv[(inv["status"] != "void") & (inv["invoice_date"] <= pd.Timestamp(as_of))]
    credit_notes = inv[inv["document_type"] == "credit_note"]
    inv = inv[inv["document_type"] != "credit_note"].copy()

    pay = payments.assign(
        currency=payments["currency"].fillna(base).str.upper(),
        payment_date=pd.to_datetime(payments["payment_date"]),
        amount_c=cents(payments["amount"]),
    )
    pay = pay[pay["payment_date"] <= pd.Timestamp(as_of)]

    # 1. linked payments pay their invoice first, in (payment_date, payment_id) order
    linked = pay.merge(inv[["invoice_id", "currency", "amount_c"]], on="invoice_id", how="inner",
                       suffixes=("", "_inv"))
    same = linked["currency"] == linked["currency_inv"]
    if (~same).any():
        conv = linked[~same].apply(lambda r: int((Decimal(r["amount_c"]) * rate(r["currency"], r["payment_date"].to_datetime64())
                                                 / rate(r["currency_inv"], r["payment_date"].to_datetime64())
                                                 ).quantize(Decimal(1), rounding=ROUND_HALF_UP)), axis=1)
        linked.loc[~same, "amount_c"] = conv
    linked = linked.sort_values(["invoice_id", "payment_date", "payment_id"])
    linked["before"] = linked.groupby("invoice_id")["amount_c"].cumsum() - linked["amount_c"]
    linked["applied"] = np.clip(np.minimum(linked["amount_c"], linked["amount_c_inv"] - linked["before"]), 0, None)
    linked["excess"] = linked["amount_c"] - linked["applied"]
    inv = inv.merge(linked.groupby("invoice_id")["applied"].sum().rename("linked_c"), on="invoice_id", how="left")
    inv["remaining"] = inv["amount_c"] - inv["linked_c"].fillna(0).astype("int64")

    # 2. the customer's credit: unapplied payments (and payments naming an invoice that cannot take them),
    #    credit notes and linked excess, oldest first
    unapplied = pay[~pay["payment_id"].isin(linked["payment_id"])]
    credits = pd.concat([
        pd.DataFrame({"customer_id": unapplied["customer_id"], "currency": unapplied["currency"],
                      "date": unapplied["payment_date"], "kind": "unapplied_payment",
                      "source": unapplied["payment_id"], "amount_c": unapplied["amount_c"]}),
        pd.DataFrame({"customer_id": credit_notes["customer_id"], "currency": credit_notes["currency"],
                      "date": credit_notes["invoice_date"], "kind": "credit_note",
                      "source": credit_notes["invoice_id"], "amount_c": credit_notes["amount_c"]}),
        pd.DataFrame({"customer_id": linked["customer_id"], "currency": linked["currency_inv"],
                      "date": linked["payment_date"], "kind": "linked_payment_excess",
                      "source": linked["payment_id"], "amount_c": linked["excess"]}),
    ])
    credits = credits[credits["amount_c"] > 0]
    pool = credits.groupby(["customer_id", "currency"])["amount_c"].sum().to_dict()

    # 3. FIFO per customer and currency: oldest due date, then invoice date, then invoice_id
    inv = inv.sort_values(["customer_id", "currency", "due_date", "invoice_date", "invoice_id"])
    outstanding = []
    for (customer, currency), group in inv.groupby(["customer_id", "currency"], sort=False):
        available = pool.get((customer, currency), 0)
        for remaining in group["remaining"]:
            paid = min(available, max(remaining, 0))
            available -= paid
            outstanding.append(remaining - paid)
    inv["outstanding_c"] = outstanding

    # 4. DPD, buckets, revaluation at the as-of date
    inv["dpd"] = np.where((inv["outstanding_c"] > 0) & (inv["due_date"] < pd.Timestamp(as_of)),
                          (pd.Timestamp(as_of) - inv["due_date"]).dt.days, 0)
    rates = {c: rate(c, day) for c in inv["currency"].unique()}
    inv["outstanding_base_c"] = [to_base_cents(a, rates[c]) for a, c in zip(inv["outstanding_c"], inv["currency"])]
    inv["bucket"] = "not_due"
    for code, low, high in BUCKETS[1:]:
        mask = (inv["dpd"] >= low) & ((inv["dpd"] <= high) if high is not None else True)
        inv.loc[mask, "bucket"] = code

    per_customer = inv.groupby("customer_id").agg(
        outstanding_base_c=("outstanding_base_c", "sum"),
        days_past_due=("dpd", "max"),
    )
    buckets = inv.pivot_table(index="customer_id", columns="bucket", values="outstanding_base_c", aggfunc="sum",
                              fill_value=0)
    result = customers[["customer_id"]].set_index("customer_id").join(per_customer).join(buckets).fillna(0)
    out = pd.DataFrame({"customer_id": result.index,
                        "outstanding_base": result["outstanding_base_c"].astype("int64") / 100,
                        "days_past_due": result["days_past_due"].astype("int64")})
    for code, _, _ in BUCKETS:
        out[f"bucket_{code}_base"] = (result[code].astype("int64") / 100) if code in result else 0.0
    return out.reset_index(drop=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raw-dir", type=Path, required=True)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--base-currency", default="CNY")
    parser.add_argument("--out", type=Path, default=None, help="write the result as Parquet here")
    args = parser.parse_args()
    started = time.perf_counter()
    result = aging(args.raw_dir, args.as_of, args.base_currency)
    if args.out:
        result.to_parquet(args.out, index=False)
    print(f"{len(result)} customers, outstanding {result['outstanding_base'].sum():,.2f} "
          f"in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
