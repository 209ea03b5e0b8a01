"""What the report shows, read from the marts (opened read-only) into one ReportData."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import ArrearsError
from ..warehouse import columns_of, open_readonly, relation_exists, require_relations

EXIT_NO_DATA = 5
EXIT_UNWRITABLE = 6


class ReportError(ArrearsError):
    """The report cannot be written; `exit_code` is the CLI's exit status."""


REQUIRED_MARTS = ("mart_collection_strategy", "mart_watchlist", "fct_customer_aging", "fct_roll_rates",
                  "mart_portfolio_monthly")
TOP_ROWS = 20



@dataclass
class Bucket:
    code: str
    order: int
    label_en: str
    label_zh: str

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en


@dataclass
class ReportData:
    db: Path
    as_of: dt.date
    buckets: list[Bucket]
    kpis: dict[str, Any]
    aging: dict[str, Decimal]                         # bucket code -> amount at the as-of date
    types: list[dict[str, Any]]                       # key, customers, at_stake_base, outstanding_base
    roll_month: dt.date | None
    roll: list[dict[str, Any]]                        # from_bucket, to_bucket, count_rate, customer_count
    trend: list[dict[str, Any]]                       # one per period_end
    teams: list[dict[str, Any]]                       # per team x list x strategy
    top: list[dict[str, Any]]
    overdue_total: int
    watch: list[dict[str, Any]]
    watch_total: int


def _dicts(con, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def read_buckets(con) -> list[Bucket]:
    """Aging buckets in order: from the seed when present, else from the bucket_<code>_base columns."""
    aging_cols = columns_of(con, "marts", "fct_customer_aging")
    if relation_exists(con, "reference", "aging_buckets"):
        rows = con.execute("select bucket_code, bucket_order, bucket_label, bucket_label_zh "
                           "from reference.aging_buckets order by bucket_order").fetchall()
        buckets = [Bucket(r[0], int(r[1]), r[2] or r[0], r[3] or r[2] or r[0]) for r in rows]
    else:
        codes = [c[len("bucket_"):-len("_base")] for c in aging_cols
                 if c.startswith("bucket_") and c.endswith("_base")]
        buckets = [Bucket(code, i, code, code) for i, code in enumerate(codes)]
    return [b for b in buckets if f"bucket_{b.code}_base" in aging_cols]


def read_report_data(db: Path) -> ReportData:
    db = db.resolve()
    with open_readonly(db) as con:
        require_relations(con, db, "marts", REQUIRED_MARTS)
        buckets = read_buckets(con)
        periods = _dicts(con, "select * from marts.mart_portfolio_monthly order by period_end, is_as_of_date")
        if not periods:
            raise ReportError(f"marts.mart_portfolio_monthly in {db} is empty: nothing to report", EXIT_NO_DATA)
        trend_by_end: dict[dt.date, dict[str, Any]] = {}
        for row in periods:  # one row per period end (a month end that is also the as-of date may appear twice)
            trend_by_end.setdefault(row["period_end"], row)
        trend = [trend_by_end[k] for k in sorted(trend_by_end)]
        as_of_rows = [r for r in periods if r["is_as_of_date"]]
        kpi_row = as_of_rows[-1] if as_of_rows else trend[-1]
        as_of = kpi_row["period_end"]

        sums = ", ".join(f"coalesce(sum(bucket_{b.code}_base), 0) as {b.code}" for b in buckets)
        aging = _dicts(con, f"select {sums} from marts.fct_customer_aging")[0] if buckets else {}

        types = _dicts(con, """
            select coalesce(overdue_type, 'watch') as key, count(*) as customers,
                   coalesce(sum(at_stake_base), 0) as at_stake_base,
                   coalesce(sum(outstanding_base), 0) as outstanding_base
            from marts.mart_collection_strategy
            group by 1""")

        teams = _dicts(con, """
            select owner_team, list_type, strategy_code, strategy_name_en, strategy_name_zh,
                   count(*) as customers, coalesce(sum(at_stake_base), 0) as at_stake_base,
                   coalesce(sum(outstanding_base), 0) as outstanding_base
            from marts.mart_collection_strategy
            group by all
            order by owner_team, list_type, strategy_code""")

        roll_month = con.execute("select max(month_end) from marts.fct_roll_rates").fetchone()[0]
        roll = _dicts(con, """
            select from_bucket, to_bucket, from_bucket_order, to_bucket_order, customer_count, count_rate
            from marts.fct_roll_rates where month_end = ?""", [roll_month]) if roll_month else []

        top = _dicts(con, f"""
            select * from marts.mart_collection_strategy where list_type = 'overdue'
            order by priority_rank limit {TOP_ROWS}""")
        overdue_total = con.execute(
            "select count(*) from marts.mart_collection_strategy where list_type = 'overdue'").fetchone()[0]
        watch = _dicts(con, f"select * from marts.mart_watchlist order by priority_rank limit {TOP_ROWS}")
        watch_total = con.execute("select count(*) from marts.mart_watchlist").fetchone()[0]

    kpis = {
        "outstanding_base": kpi_row.get("outstanding_base"),
        "overdue_base": kpi_row.get("overdue_base"),
        "overdue_amount_rate": kpi_row.get("overdue_amount_rate"),
        "overdue_customers": kpi_row.get("overdue_customers"),
        "customers_with_balance": kpi_row.get("customers_with_balance"),
        "dso_days": kpi_row.get("dso_days"),
        "current_base": kpi_row.get("bucket_not_due_base"),
    }
    return ReportData(db=db, as_of=as_of, buckets=buckets, kpis=kpis, aging=aging, types=types,
                      roll_month=roll_month, roll=roll, trend=trend, teams=teams, top=top, overdue_total=overdue_total,
                      watch=watch, watch_total=watch_total)
