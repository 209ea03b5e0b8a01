#!/usr/bin/env python3
"""The single-query anchor: as-of aging per customer in one hand-written DuckDB query over the raw files.

The same rules as the warehouse and the pandas anchor (docs/decisions.md): linked payments pay their invoice
first (a payment in another currency converted at the payment date's rates, rounded half up to the cent);
the rest of the customer's money in that currency (unapplied payments, credit notes, linked excess) pays the
open invoices oldest due date first; DPD and aging buckets at the as-of date; unpaid amounts revalued at the
as-of date's rate. No quarantine, no history, no types: the least work that answers "who owes what, how
late" — what a skilled analyst would write by hand, and so the floor the warehouse's as-of aging models are
measured against (`arrears-benchmark`). Checked equal to marts.fct_customer_aging by
tests/pytest/test_benchmark_anchor.py. Expects clean (contract-valid) input, like the pandas anchor.

    python bench/sql_aging.py --raw-dir data/raw --as-of 2026-10-31 [--out aging.parquet]
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import duckdb

BUCKETS = [("not_due", 0, 0), ("dpd_1_30", 1, 30), ("dpd_31_60", 31, 60), ("dpd_61_90", 61, 90),
           ("dpd_91_120", 91, 120), ("dpd_121_180", 121, 180), ("dpd_181_plus", 181, None)]


def _reader(raw_dir: Path, name: str) -> str | None:
    for ext, fn in (("csv", "read_csv({}, header = true, all_varchar = true)"),
                    ("parquet", "read_parquet({})")):
        path = raw_dir / f"{name}.{ext}"
        if path.exists():
            return fn.format("'" + str(path).replace("'", "''") + "'")
    return None


def _columns(con: duckdb.DuckDBPyConnection, reader: str) -> set[str]:
    return {row[0] for row in con.execute(f"describe select * from {reader}").fetchall()}


def query(raw_dir: Path, as_of: dt.date, base: str, con: duckdb.DuckDBPyConnection) -> str:
    """The whole computation as one SELECT (one row per customer). Optional columns absent from a file
    read as null (the contract allows leaving them out); `con` reads the files' headers."""
    present = {t: _columns(con, _reader(raw_dir, t)) for t in ("invoices", "payments")}

    def col(table: str, name: str) -> str:
        return name if name in present[table] else "cast(null as varchar)"
    fx = _reader(raw_dir, "fx_rates")
    fx_rows = (f"select upper(trim(currency)) as currency, cast(rate_date as date) as rate_date, "
               f"cast(rate_to_base as decimal(18, 8)) as rate from {fx}") if fx else \
        "select null::varchar as currency, null::date as rate_date, null::decimal(18, 8) as rate where false"
    buckets = ",\n        ".join(
        f"sum(case when dpd >= {lo}{f' and dpd <= {hi}' if hi is not None else ''} then outstanding_base else 0 end)"
        f" as bucket_{code}_base" for code, lo, hi in BUCKETS)
    as_of_sql = f"date '{as_of.isoformat()}'"
    return f"""
with
fx as ({fx_rows}),
inv as (
    select invoice_id, customer_id, coalesce(upper(trim({col('invoices', 'currency')})), '{base}') as currency,
           cast(invoice_date as date) as invoice_date, cast(due_date as date) as due_date,
           cast(amount as decimal(38, 2)) as amount,
           coalesce(lower(trim({col('invoices', 'document_type')})), 'invoice') = 'credit_note' as is_credit_note
    from {_reader(raw_dir, "invoices")}
    where coalesce(lower(trim({col('invoices', 'status')})), 'posted') <> 'void' and cast(invoice_date as date) <= {as_of_sql}
),
pay as (
    select payment_id, customer_id, nullif(trim({col('payments', 'invoice_id')}), '') as invoice_id,
           coalesce(upper(trim({col('payments', 'currency')})), '{base}') as currency, cast(payment_date as date) as payment_date,
           cast(amount as decimal(38, 2)) as amount
    from {_reader(raw_dir, "payments")}
    where coalesce(lower(trim({col('payments', 'status')})), 'posted') <> 'void' and cast(payment_date as date) <= {as_of_sql}
),
-- a linked payment in the invoice's currency: its base amount over the invoice currency's rate on its date,
-- rounded half up to the cent exactly (decimal division is a double in DuckDB: the rounded quotient is moved
-- by a cent where exact decimal products say so)
linked_rates as (
    select pay.payment_id, pay.customer_id, pay.payment_date, pay.currency as payment_currency, pay.amount,
           inv.invoice_id, inv.currency, inv.amount as invoice_amount,
           pay.amount * coalesce(pf.rate, 1) as base_amount, coalesce(vf.rate, 1) as invoice_rate
    from pay
    join inv on pay.invoice_id = inv.invoice_id and not inv.is_credit_note
    asof left join fx as pf on pf.currency = pay.currency and pay.payment_date >= pf.rate_date
    asof left join fx as vf on vf.currency = inv.currency and pay.payment_date >= vf.rate_date
    -- without both rates on the payment date the payment cannot pay the invoice: it is credit instead
    where pay.currency = inv.currency
       or ((pay.currency = '{base}' or pf.rate is not null) and (inv.currency = '{base}' or vf.rate is not null))
),
linked as (
    select payment_id, customer_id, payment_date, invoice_id, currency, invoice_amount,
           case when payment_currency = currency then amount
                when base_amount >= (rough + 0.005) * invoice_rate then rough + 0.01
                when base_amount < (rough - 0.005) * invoice_rate then rough - 0.01
                else rough end as amount
    from (select *, cast(round(base_amount / invoice_rate, 2) as decimal(38, 2)) as rough from linked_rates)
),
applied as (
    select *, greatest(least(amount, invoice_amount - (sum(amount) over w - amount)), 0) as applied
    from linked
    window w as (partition by invoice_id order by payment_date, payment_id rows unbounded preceding)
),
credit_pool as (
    select customer_id, currency, sum(amount) as pool
    from (
        select customer_id, currency, amount from pay where payment_id not in (select payment_id from linked)
        union all select customer_id, currency, amount from inv where is_credit_note
        union all select customer_id, currency, amount - applied from applied
    )
    where amount > 0
    group by all
),
open_items as (
    select inv.customer_id, inv.currency, inv.invoice_id, inv.invoice_date, inv.due_date,
           inv.amount - coalesce(l.linked, 0) as remaining
    from inv
    left join (select invoice_id, sum(applied) as linked from applied group by all) as l using (invoice_id)
    where not inv.is_credit_note
),
fifo as (
    select o.*, coalesce(c.pool, 0) as pool,
           coalesce(sum(greatest(o.remaining, 0)) over (
               partition by o.customer_id, o.currency order by o.due_date, o.invoice_date, o.invoice_id
               rows between unbounded preceding and 1 preceding), 0) as taken_before
    from open_items as o
    left join credit_pool as c using (customer_id, currency)
),
outstanding as (
    select customer_id, currency, due_date, {as_of_sql} as as_of_date,
           remaining - least(greatest(pool - taken_before, 0), greatest(remaining, 0)) as outstanding
    from fifo
),
valued as (
    select o.customer_id,
           round(o.outstanding * case when o.currency = '{base}' then 1 else f.rate end, 2) as outstanding_base,
           case when o.outstanding > 0 and o.due_date < {as_of_sql}
                then datediff('day', o.due_date, {as_of_sql}) else 0 end as dpd
    from outstanding as o
    asof left join fx as f on f.currency = o.currency and o.as_of_date >= f.rate_date
)
select c.customer_id,
       coalesce(sum(valued.outstanding_base), 0) as outstanding_base,
       coalesce(max(valued.dpd), 0) as days_past_due,
        {buckets}
from (select distinct customer_id from {_reader(raw_dir, "customers")}) as c
left join valued using (customer_id)
group by c.customer_id
order by c.customer_id
"""


def aging(raw_dir: Path, as_of: dt.date, base: str = "CNY", con: duckdb.DuckDBPyConnection | None = None):
    """The result as a pandas DataFrame (columns as bench/pandas_aging.py)."""
    own = con is None
    con = con or duckdb.connect()
    try:
        return con.execute(query(raw_dir, as_of, base, con)).df()
    finally:
        if own:
            con.close()


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
