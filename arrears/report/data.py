"""What the report shows, read from the marts (opened read-only) into one ReportData."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
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
    works: list[dict[str, Any]] = field(default_factory=list)            # per strategy x arm x segment, all months
    strategy_tests: list[dict[str, Any]] = field(default_factory=list)   # mart_strategy_tests
    works_runs: int = 0                                                  # as-of dates in the assignment log
    backtest: list[dict[str, Any]] = field(default_factory=list)         # arrears-backtest summary, one per setting
    backtest_monthly: list[dict[str, Any]] = field(default_factory=list)  # its monthly figures


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


def read_backtest(folder: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The summary and monthly figures an `arrears-backtest --out <folder>` run wrote."""
    import pyarrow.parquet as pq

    from ..backtest import MONTHLY_FILE, SUMMARY_FILE

    missing = [name for name in (SUMMARY_FILE, MONTHLY_FILE) if not (folder / name).is_file()]
    if missing:
        raise ReportError(f"--backtest {folder} holds no {', '.join(missing)}: run arrears-backtest --out {folder}",
                          EXIT_NO_DATA)
    return pq.read_table(folder / SUMMARY_FILE).to_pylist(), pq.read_table(folder / MONTHLY_FILE).to_pylist()


def read_report_data(db: Path, backtest: Path | None = None) -> ReportData:
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

        works, strategy_tests, works_runs = read_works(con)
    backtest_summary, backtest_monthly = read_backtest(backtest.resolve()) if backtest else ([], [])

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
                      watch=watch, watch_total=watch_total, works=works, strategy_tests=strategy_tests,
                      works_runs=works_runs, backtest=backtest_summary, backtest_monthly=backtest_monthly)


WORKS_MARTS = ("mart_strategy_effectiveness", "mart_strategy_tests", "fct_strategy_assignments")


def read_works(con) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """What works, for the report: the effectiveness mart summed over months per strategy x arm x segment
    (counts add up; the rates and their Wilson intervals are recomputed from the sums, arrears.experiments),
    the champion/challenger results, and how many runs the assignment log holds. Empty in a warehouse built
    before these marts existed."""
    from ..experiments import wilson_interval

    if not all(relation_exists(con, "marts", m) for m in WORKS_MARTS):
        return [], [], 0
    runs = con.execute("select count(distinct as_of_date) from marts.fct_strategy_assignments").fetchone()[0]
    names = ("left join reference.strategy_catalog as c using (strategy_code)"
             if relation_exists(con, "reference", "strategy_catalog") else "")
    name_cols = ("max(c.strategy_name_en) as strategy_name_en, max(c.strategy_name_zh) as strategy_name_zh"
                 if names else "null as strategy_name_en, null as strategy_name_zh")
    works = _dicts(con, f"""
        select e.strategy_code, e.variant, e.segment, {name_cols},
               sum(e.assignments) as assignments,
               sum(e.cure_30_observed) as cure_30_observed, sum(e.cured_30) as cured_30,
               sum(e.cure_90_observed) as cure_90_observed, sum(e.cured_90) as cured_90,
               sum(e.roll_forward_observed) as roll_forward_observed, sum(e.rolled_forward) as rolled_forward,
               sum(e.promises_due) as promises_due, sum(e.promises_kept) as promises_kept,
               sum(e.recovered_30_observed) as recovered_30_observed, sum(e.recovered_30_base) as recovered_30_base
        from marts.mart_strategy_effectiveness as e {names}
        group by e.strategy_code, e.variant, e.segment
        order by e.segment, e.strategy_code, e.variant""")
    for row in works:
        for rate, (hits, trials) in {"cure_30": ("cured_30", "cure_30_observed"),
                                     "cure_90": ("cured_90", "cure_90_observed"),
                                     "roll_forward": ("rolled_forward", "roll_forward_observed"),
                                     "promise_kept": ("promises_kept", "promises_due")}.items():
            n, k = int(row[trials] or 0), int(row[hits] or 0)
            row[f"{rate}_rate"] = k / n if n else None
            row[f"{rate}_interval"] = wilson_interval(k, n)
        observed = int(row["recovered_30_observed"] or 0)
        row["mean_recovered_30_base"] = (Decimal(row["recovered_30_base"]) / observed) if observed else None
    tests = _dicts(con, "select * from marts.mart_strategy_tests order by test_id, outcome")
    return works, tests, int(runs)
