"""The overdue report: one self-contained HTML file managers open in any browser, offline.

Sections (from the marts, opened read-only):
1. headline figures of the as-of date (`mart_portfolio_monthly`, `mart_watchlist`);
2. overdue amount by aging bucket (`fct_customer_aging`, buckets and labels from `reference.aging_buckets`);
3. customers and amount at stake by overdue type, watch list beside them (`mart_collection_strategy`);
4. roll-rate heatmap of the latest month: share of customers moving from each aging bucket at the previous
   month end to each bucket at this month end (`fct_roll_rates`, `count_rate`; rows sum to 100 %);
5. overdue trend over months: past-due amount per month end stacked by aging bucket, and the overdue rate
   (amount more than the overdue threshold past due / outstanding) as a line (`mart_portfolio_monthly`);
6. top-priority overdue customers and the watch list (top rows of each, by priority rank).

Self-contained: charts are inline SVG drawn by matplotlib (text kept as text, so the browser renders
Chinese labels with a system font), CSS is inline, there are no scripts, fonts, images or links to fetch,
and a Content-Security-Policy of `default-src 'none'` makes the browser refuse any fetch the file might
still try. The file is written to a temporary name and renamed.

Exit codes (`scripts/report.py`): 0 done; 1 unexpected error; 2 bad arguments or the database is missing
or cannot be opened; 4 the marts are missing (the pipeline has not run); 5 the marts hold no data;
6 the output file cannot be written.
"""
from __future__ import annotations

import datetime as dt
import html
import io
import os
import re
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Sequence

import arrears
from arrears.export import (
    EXIT_NO_DATA, EXIT_OK, EXIT_UNWRITABLE, ExportError, open_readonly, relation_exists,
    require_marts, team_label, value_label,
)

REQUIRED_MARTS = ("mart_collection_strategy", "mart_watchlist", "fct_customer_aging", "fct_roll_rates",
                  "mart_portfolio_monthly")
TOP_ROWS = 20

# Each chart has colours no other part of the page uses: the screenshot test looks for them to tell that
# the chart was drawn.
AGING_COLOR = "#e8590c"
TYPE_COUNT_COLOR = "#2b8a3e"
TYPE_AMOUNT_COLOR = "#5f3dc4"
TREND_COLORS = ("#fcc5c0", "#fa9fb5", "#f768a1", "#dd3497", "#ae017e", "#7a0177", "#49006a")
TREND_LINE_COLOR = "#212529"
HEATMAP_STEPS = (0.0, 0.02, 0.05, 0.10, 0.20, 0.40, 0.60, 0.80, 1.0001)
HEATMAP_COLORS = ("#f1f7fd", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c")
HEATMAP_EMPTY = "#f8f9fa"
CHART_COLORS: dict[str, tuple[str, ...]] = {
    "aging": (AGING_COLOR,),
    "types": (TYPE_COUNT_COLOR, TYPE_AMOUNT_COLOR),
    "roll_rates": HEATMAP_COLORS[3:],   # the darker steps: light ones are close to the page background
    "trend": TREND_COLORS[2:],
}

TEXT: dict[str, dict[str, str]] = {
    "title": {"en": "Overdue customers report", "zh": "逾期客户报告"},
    "as_of": {"en": "As of", "zh": "截至"},
    "generated": {"en": "Generated", "zh": "生成时间"},
    "source": {"en": "Source", "zh": "数据来源"},
    "base_ccy": {"en": "Amounts in base currency.", "zh": "金额单位：本位币。"},
    "kpi_outstanding": {"en": "Outstanding", "zh": "未结余额"},
    "kpi_overdue": {"en": "Overdue amount", "zh": "逾期金额"},
    "kpi_overdue_rate": {"en": "Overdue rate (amount)", "zh": "逾期率（金额）"},
    "kpi_overdue_customers": {"en": "Overdue customers", "zh": "逾期客户数"},
    "kpi_watch": {"en": "Watch list", "zh": "观察名单"},
    "kpi_dso": {"en": "DSO (days)", "zh": "应收账款周转天数"},
    "of_customers_with_balance": {"en": "of {n} with a balance", "zh": "有余额客户 {n} 户"},
    "aging_title": {"en": "Past-due amount by aging bucket", "zh": "按账龄区间的逾期金额"},
    "aging_note": {"en": "Unpaid amounts past their due date, by days past due. Not yet due: {amount}.",
                   "zh": "已过到期日的未付金额，按逾期天数分组。未到期金额：{amount}。"},
    "types_title": {"en": "Customers and amount at stake by overdue type", "zh": "按逾期类型的客户数与金额"},
    "types_note": {"en": "Amount at stake: overdue amount (overdue list) or past-due amount (watch list).",
                   "zh": "涉及金额：逾期名单为逾期金额，观察名单为已过到期日金额。"},
    "customers": {"en": "Customers", "zh": "客户数"},
    "amount": {"en": "Amount at stake", "zh": "涉及金额"},
    "watch": {"en": "Watch list", "zh": "观察名单"},
    "roll_title": {"en": "Roll rates, month ending {month}", "zh": "迁移率（截至 {month} 的月份）"},
    "roll_note": {"en": "Share of customers in each bucket at the previous month end (rows) found in each "
                        "bucket at this month end (columns); each row sums to 100 %. 'Settled' = nothing unpaid.",
                  "zh": "上月末处于各账龄区间（行）的客户在本月末所处区间（列）的占比；每行合计 100%。“已结清”= 无未付金额。"},
    "roll_from": {"en": "Previous month end", "zh": "上月末"},
    "roll_to": {"en": "This month end", "zh": "本月末"},
    "settled": {"en": "Settled", "zh": "已结清"},
    "trend_title": {"en": "Past-due amount and overdue rate over months", "zh": "逾期金额与逾期率月度趋势"},
    "trend_note": {"en": "Bars: past-due amount by aging bucket at each month end (last bar: the as-of date). "
                         "Line: overdue rate = amount over the overdue threshold / outstanding.",
                   "zh": "柱：各月末按账龄区间的逾期金额（最后一根为截至日）。线：逾期率 = 超过逾期阈值的金额 / 未结余额。"},
    "overdue_rate": {"en": "Overdue rate", "zh": "逾期率"},
    "teams_title": {"en": "Today's lists by team and strategy", "zh": "今日各团队与策略名单"},
    "teams_note": {"en": "What each team received in its strategy list (overdue list first, then the watch list).",
                   "zh": "各团队策略名单的内容（先逾期名单，后观察名单）。"},
    "top_title": {"en": "Top-priority overdue customers", "zh": "优先处理的逾期客户"},
    "top_note": {"en": "The first {n} of {total} overdue customers by priority rank.",
                 "zh": "按优先级排名的前 {n} 位（共 {total} 位逾期客户）。"},
    "watch_title": {"en": "Watch list", "zh": "观察名单"},
    "watch_note": {"en": "The first {n} of {total} customers on the watch list by priority rank.",
                   "zh": "按优先级排名的前 {n} 位（观察名单共 {total} 位）。"},
    "none": {"en": "Nobody today.", "zh": "今日无。"},
    "no_data": {"en": "No data.", "zh": "无数据。"},
    "footer": {"en": "arrears {version}. Self-contained file: no network access needed.",
               "zh": "arrears {version}。独立文件，无需联网。"},
}

TYPE_ORDER = ("temporary", "chronic", "stubborn")
TYPE_LABELS = {"temporary": {"en": "Temporary", "zh": "临时性逾期"},
               "chronic": {"en": "Chronic", "zh": "固有性逾期"},
               "stubborn": {"en": "Stubborn", "zh": "顽固性逾期"}}

TOP_COLUMNS = (  # key, en, zh, kind
    ("priority_rank", "#", "#", "int"),
    ("customer_id", "Customer ID", "客户编号", "text"),
    ("customer_name", "Customer", "客户名称", "text"),
    ("overdue_type", "Type", "逾期类型", "text"),
    ("risk_band", "Risk", "风险", "text"),
    ("strategy_name", "Strategy", "策略", "text"),
    ("owner_team", "Team", "团队", "text"),
    ("days_past_due", "DPD", "逾期天数", "int"),
    ("at_stake_base", "Overdue", "逾期金额", "amount"),
    ("outstanding_base", "Outstanding", "未结余额", "amount"),
    ("next_action", "Next action", "下一步行动", "text"),
    ("next_action_due_date", "Due", "截止日期", "date"),
)
TEAM_COLUMNS = (
    ("owner_team", "Team", "团队", "text"),
    ("list_type", "List", "名单", "text"),
    ("strategy_name", "Strategy", "策略", "text"),
    ("customers", "Customers", "客户数", "int"),
    ("at_stake_base", "At stake", "涉及金额", "amount"),
    ("outstanding_base", "Outstanding", "未结余额", "amount"),
)
WATCH_COLUMNS = (
    ("priority_rank", "#", "#", "int"),
    ("customer_id", "Customer ID", "客户编号", "text"),
    ("customer_name", "Customer", "客户名称", "text"),
    ("customer_type", "Customer type", "客户类型", "text"),
    ("risk_band", "Risk", "风险", "text"),
    ("days_past_due", "DPD", "逾期天数", "int"),
    ("past_due_base", "Past due", "已过期金额", "amount"),
    ("outstanding_base", "Outstanding", "未结余额", "amount"),
    ("warnings", "Warning signs", "预警信号", "text"),
    ("last_payment_date", "Last payment", "最近还款", "date"),
)


def t(key: str, lang: str, **kwargs: Any) -> str:
    return TEXT[key][lang].format(**kwargs)


# ------------------------------------------------------------------------------------------- reading

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


def _columns(con, schema: str, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position", [schema, table]).fetchall()]


def read_buckets(con) -> list[Bucket]:
    """Aging buckets in order: from the seed when present, else from the bucket_<code>_base columns."""
    aging_cols = _columns(con, "marts", "fct_customer_aging")
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
        require_marts(con, db, REQUIRED_MARTS)
        buckets = read_buckets(con)
        periods = _dicts(con, "select * from marts.mart_portfolio_monthly order by period_end, is_as_of_date")
        if not periods:
            raise ExportError(f"marts.mart_portfolio_monthly in {db} is empty: nothing to report", EXIT_NO_DATA)
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


# -------------------------------------------------------------------------------------------- format

def fmt_amount(value: Any) -> str:
    return "" if value is None else f"{Decimal(value):,.2f}"


def fmt_short(value: Any, lang: str) -> str:
    """Compact amounts for chart labels: 12.3M / 1,234.5万."""
    if value is None:
        return ""
    v = float(value)
    if lang == "zh":
        if abs(v) >= 1e8:
            return f"{v / 1e8:,.2f}亿"
        if abs(v) >= 1e4:
            return f"{v / 1e4:,.1f}万"
        return f"{v:,.0f}"
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(v) >= limit:
            return f"{v / limit:,.1f}{suffix}"
    return f"{v:,.0f}"


def fmt_axis(value: float, lang: str) -> str:
    """Axis ticks: round steps without trailing zeros (40M, 4000万, 1.5亿)."""
    v = float(value)
    if v == 0:
        return "0"
    if lang == "zh":
        if abs(v) >= 1e8:
            return f"{round(v / 1e8, 2):g}亿"
        if abs(v) >= 1e4:
            return f"{round(v / 1e4, 1):g}万"
        return f"{v:,.0f}"
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(v) >= limit:
            return f"{round(v / limit, 1):g}{suffix}"
    return f"{v:,.0f}"


def fmt_pct(value: Any, digits: int = 1) -> str:
    return "" if value is None else f"{float(value) * 100:.{digits}f}%"


# -------------------------------------------------------------------------------------------- charts

def _pyplot():
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    plt.rcParams.update({
        "svg.fonttype": "none",          # text stays text: small files, and the browser draws CJK glyphs
        "font.family": "sans-serif",
        "font.sans-serif": ["Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei",
                            "PingFang SC", "DejaVu Sans"],
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#868e96",
        "axes.labelcolor": "#343a40",
        "xtick.color": "#495057",
        "ytick.color": "#495057",
        "svg.hashsalt": "arrears",
    })
    return plt


def _svg(fig, chart_id: str) -> str:
    """The figure as an inline <svg> element: no XML prolog, DOCTYPE, metadata or namespace URLs (inline
    SVG in HTML needs none), scaled to its container."""
    plt = _pyplot()
    plt.rcParams["svg.hashsalt"] = f"arrears-{chart_id}"  # element ids unique across the page's charts
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buf.getvalue()
    text = re.sub(r"<\?xml[^>]*\?>\s*", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>\s*", "", text)
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)
    text = re.sub(r'<svg\s+width="([\d.]+)pt"\s+height="([\d.]+)pt"',
                  lambda m: f'<svg role="img" aria-label="{html.escape(chart_id)}" data-chart="{chart_id}" '
                            f'class="chart" style="max-width:{m.group(1)}pt"', text, count=1)
    return text.strip()


def _no_data_svg(chart_id: str, lang: str) -> str:
    return (f'<svg data-chart="{chart_id}" class="chart" viewBox="0 0 400 60"><text x="10" y="35" '
            f'font-size="14" fill="#868e96">{html.escape(t("no_data", lang))}</text></svg>')


def chart_aging(data: ReportData, lang: str) -> str:
    plt = _pyplot()
    past_due = [b for b in data.buckets if b.order > 0]
    if not past_due:
        return _no_data_svg("aging", lang)
    values = [float(data.aging.get(b.code) or 0) for b in past_due]
    fig, ax = plt.subplots(figsize=(6.2, 3.2))
    bars = ax.bar([b.label(lang) for b in past_due], values, color=AGING_COLOR, width=0.7)
    for bar, v in zip(bars, values):
        ax.annotate(fmt_short(v, lang), (bar.get_x() + bar.get_width() / 2, v), ha="center", va="bottom",
                    xytext=(0, 2), textcoords="offset points", fontsize=8)
    ax.yaxis.set_major_formatter(lambda v, _: fmt_axis(v, lang))
    ax.set_ylim(0, max(values + [1]) * 1.15)
    ax.tick_params(axis="x", labelrotation=0, labelsize=8)
    ax.grid(axis="y", color="#e9ecef", linewidth=0.8)
    ax.set_axisbelow(True)
    return _svg(fig, "aging")


def _type_rows(data: ReportData, lang: str) -> list[tuple[str, int, float]]:
    by_key = {r["key"]: r for r in data.types}
    keys = [k for k in TYPE_ORDER if k in by_key] + sorted(k for k in by_key if k not in TYPE_ORDER and k != "watch")
    keys += ["watch"] if "watch" in by_key else []
    out = []
    for k in keys:
        label = t("watch", lang) if k == "watch" else TYPE_LABELS.get(k, {}).get(lang, k)
        out.append((label, int(by_key[k]["customers"]), float(by_key[k]["at_stake_base"] or 0)))
    return out


def chart_types(data: ReportData, lang: str) -> str:
    plt = _pyplot()
    rows = _type_rows(data, lang)
    if not rows:
        return _no_data_svg("types", lang)
    labels = [r[0] for r in rows]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(6.2, 3.2))
    for ax, values, color, title, fmt in (
        (ax1, [r[1] for r in rows], TYPE_COUNT_COLOR, t("customers", lang), lambda v: f"{v:,.0f}"),
        (ax2, [r[2] for r in rows], TYPE_AMOUNT_COLOR, t("amount", lang), lambda v: fmt_short(v, lang)),
    ):
        from matplotlib.ticker import MaxNLocator

        bars = ax.barh(labels, values, color=color, height=0.65)
        ax.invert_yaxis()
        ax.set_title(title, fontsize=9, loc="left", color="#343a40")
        for bar, v in zip(bars, values):
            ax.annotate(fmt(v), (v, bar.get_y() + bar.get_height() / 2), va="center", ha="left",
                        xytext=(3, 0), textcoords="offset points", fontsize=8)
        ax.set_xlim(0, max(values + [1]) * 1.3)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.xaxis.set_major_formatter(lambda v, _: fmt_axis(v, lang))
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", color="#e9ecef", linewidth=0.8)
        ax.set_axisbelow(True)
    ax2.tick_params(axis="y", labelleft=False)
    fig.tight_layout()
    return _svg(fig, "types")


def chart_roll_rates(data: ReportData, lang: str) -> str:
    from matplotlib.colors import BoundaryNorm, ListedColormap

    plt = _pyplot()
    if not data.roll:
        return _no_data_svg("roll_rates", lang)
    order = {b.code: b.order for b in data.buckets}
    labels = {b.code: b.label(lang) for b in data.buckets}
    labels["settled"] = t("settled", lang)
    codes = {r["from_bucket"] for r in data.roll} | {r["to_bucket"] for r in data.roll}
    axis = sorted(codes, key=lambda c: (-1 if c == "settled" else order.get(c, 99), c))
    index = {c: i for i, c in enumerate(axis)}
    import numpy as np

    matrix = np.full((len(axis), len(axis)), np.nan)
    for r in data.roll:
        if r["count_rate"] is not None:
            matrix[index[r["from_bucket"]], index[r["to_bucket"]]] = float(r["count_rate"])
    cmap = ListedColormap(list(HEATMAP_COLORS)).with_extremes(bad=HEATMAP_EMPTY)
    norm = BoundaryNorm(list(HEATMAP_STEPS), cmap.N)
    fig, ax = plt.subplots(figsize=(6.2, 4.4))
    ax.pcolormesh(np.ma.masked_invalid(np.clip(matrix, 0, 1)), cmap=cmap, norm=norm, edgecolors="white",
                  linewidth=1.5)
    for i in range(len(axis)):
        for j in range(len(axis)):
            v = matrix[i, j]
            if not np.isnan(v):
                ax.text(j + 0.5, i + 0.5, f"{v * 100:.0f}%", ha="center", va="center", fontsize=7.5,
                        color="white" if v >= 0.40 else "#212529")
    ax.set_xticks([i + 0.5 for i in range(len(axis))], [labels.get(c, c) for c in axis], rotation=35,
                  ha="right", fontsize=8)
    ax.set_yticks([i + 0.5 for i in range(len(axis))], [labels.get(c, c) for c in axis], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(t("roll_to", lang))
    ax.set_ylabel(t("roll_from", lang))
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(length=0)
    return _svg(fig, "roll_rates")


def chart_trend(data: ReportData, lang: str) -> str:
    import numpy as np

    plt = _pyplot()
    if not data.trend:
        return _no_data_svg("trend", lang)
    past_due = [b for b in data.buckets if b.order > 0]
    ends = [r["period_end"] for r in data.trend]
    x = np.arange(len(ends))
    fig, ax = plt.subplots(figsize=(12.6, 3.6))
    bottom = np.zeros(len(ends))
    palette = list(TREND_COLORS[-len(past_due):]) if len(past_due) <= len(TREND_COLORS) else None
    for i, b in enumerate(past_due):
        values = np.array([float(r.get(f"bucket_{b.code}_base") or 0) for r in data.trend])
        color = palette[i] if palette else plt.get_cmap("RdPu")(0.3 + 0.7 * i / max(1, len(past_due) - 1))
        ax.bar(x, values, bottom=bottom, color=color, width=0.75, label=b.label(lang))
        bottom += values
    ax.yaxis.set_major_formatter(lambda v, _: fmt_axis(v, lang))
    ax.grid(axis="y", color="#e9ecef", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_xticks(x, [d.strftime("%Y-%m") if i < len(ends) - 1 or d.day >= 28 else d.isoformat()
                      for i, d in enumerate(ends)], rotation=45, ha="right", fontsize=7.5)
    ax.set_xlim(-0.6, len(ends) - 0.4)
    ax2 = ax.twinx()
    rates = [None if r.get("overdue_amount_rate") is None else float(r["overdue_amount_rate"]) for r in data.trend]
    ax2.plot(x, [np.nan if v is None else v for v in rates], color=TREND_LINE_COLOR, marker="o", markersize=3,
             linewidth=1.6, label=t("overdue_rate", lang))
    ax2.yaxis.set_major_formatter(lambda v, _: f"{v * 100:.0f}%")
    ax2.set_ylim(0, max([v for v in rates if v is not None] + [0.01]) * 1.15)
    ax2.spines["right"].set_visible(True)
    ax2.spines["top"].set_visible(False)
    handles, names = ax.get_legend_handles_labels()
    h2, n2 = ax2.get_legend_handles_labels()
    ax.legend(handles + h2, names + n2, loc="upper left", fontsize=7.5, frameon=False, ncol=4)
    ax.set_ylim(0, max(bottom.max(), 1) * 1.3)
    return _svg(fig, "trend")


CHARTS: dict[str, Callable[[ReportData, str], str]] = {
    "aging": chart_aging, "types": chart_types, "roll_rates": chart_roll_rates, "trend": chart_trend,
}


def draw_charts(data: ReportData, lang: str) -> dict[str, str]:
    """Every chart as inline SVG. Without a CJK font matplotlib warns about missing glyphs while it lays
    out Chinese labels; the text is drawn by the browser, so the warnings are noise and are silenced."""
    import logging
    import warnings

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        return {name: draw(data, lang) for name, draw in CHARTS.items()}


# ---------------------------------------------------------------------------------------------- HTML

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f8f9fa; color: #212529;
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC", "PingFang SC",
             "Microsoft YaHei", sans-serif; }
header { background: #fff; border-bottom: 1px solid #dee2e6; padding: 16px 28px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header .meta { color: #6c757d; font-size: 12px; }
main { padding: 16px 28px 28px; max-width: 1320px; }
.kpis { display: grid; grid-template-columns: repeat(6, 1fr); gap: 12px; margin-bottom: 16px; }
.kpi { background: #fff; border: 1px solid #dee2e6; border-radius: 6px; padding: 10px 12px; }
.kpi .label { color: #6c757d; font-size: 12px; }
.kpi .value { font-size: 20px; font-weight: 600; }
.kpi .sub { color: #868e96; font-size: 11px; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; margin-bottom: 16px; }
.card { background: #fff; border: 1px solid #dee2e6; border-radius: 6px; padding: 12px 14px; min-width: 0; }
.card.wide { grid-column: 1 / -1; }
.card h2 { font-size: 15px; margin: 0 0 2px; }
.card .note { color: #6c757d; font-size: 12px; margin: 0 0 8px; }
svg.chart { width: 100%; height: auto; display: block; }
table { border-collapse: collapse; width: 100%; font-size: 12px; }
th, td { padding: 4px 6px; border-bottom: 1px solid #e9ecef; text-align: left; vertical-align: top; }
th { background: #f1f3f5; font-weight: 600; white-space: nowrap; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.date { white-space: nowrap; }
footer { color: #868e96; font-size: 11px; padding: 0 28px 20px; }
"""


def _table(columns: Sequence[tuple[str, str, str, str]], rows: Sequence[dict[str, Any]], lang: str) -> str:
    if not rows:
        return f'<p class="note">{html.escape(t("none", lang))}</p>'
    head = "".join(f"<th>{html.escape(zh if lang == 'zh' else en)}</th>" for _, en, zh, _ in columns)
    body = []
    for row in rows:
        cells = []
        for key, _, _, kind in columns:
            value = row.get(key)
            if kind == "amount":
                cells.append(f'<td class="num">{fmt_amount(value)}</td>')
            elif kind == "int":
                cells.append(f'<td class="num">{"" if value is None else f"{value:,}"}</td>')
            elif kind == "date":
                cells.append(f'<td class="date">{"" if value is None else value.isoformat()}</td>')
            else:
                cells.append(f"<td>{html.escape('' if value is None else str(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _top_rows(data: ReportData, lang: str) -> list[dict[str, Any]]:
    out = []
    for r in data.top:
        zh = lang == "zh"
        out.append(dict(
            r,
            overdue_type=(r.get("overdue_type_zh") if zh else TYPE_LABELS.get(r.get("overdue_type"), {}).get(
                "en", r.get("overdue_type"))) or r.get("overdue_type"),
            risk_band=value_label("risk_band", r.get("risk_band"), lang),
            strategy_name=r.get("strategy_name_zh") if zh else r.get("strategy_name_en"),
            owner_team=team_label(r.get("owner_team") or "unassigned", lang),
            next_action=r.get("next_action_zh") if zh else r.get("next_action_en"),
        ))
    return out


def _team_rows(data: ReportData, lang: str) -> list[dict[str, Any]]:
    return [dict(r, owner_team=team_label(r.get("owner_team") or "unassigned", lang),
                 list_type=value_label("list_type", r.get("list_type"), lang),
                 strategy_name=(r.get("strategy_name_zh") if lang == "zh" else r.get("strategy_name_en"))
                 or r.get("strategy_code"))
            for r in data.teams]


def _watch_rows(data: ReportData, lang: str) -> list[dict[str, Any]]:
    return [dict(r, customer_type=value_label("customer_type", r.get("customer_type"), lang),
                 risk_band=value_label("risk_band", r.get("risk_band"), lang),
                 warnings=(r.get("warnings_zh") if lang == "zh" else r.get("warnings_en")) or r.get("warning_codes"))
            for r in data.watch]


def render_html(data: ReportData, lang: str = "en", generated_at: dt.datetime | None = None) -> str:
    generated_at = generated_at or dt.datetime.now(dt.timezone.utc)
    charts = draw_charts(data, lang)
    k = data.kpis
    esc = html.escape
    kpis = [
        (t("kpi_outstanding", lang), fmt_short(k["outstanding_base"], lang), ""),
        (t("kpi_overdue", lang), fmt_short(k["overdue_base"], lang), ""),
        (t("kpi_overdue_rate", lang), fmt_pct(k["overdue_amount_rate"]), ""),
        (t("kpi_overdue_customers", lang), f"{k['overdue_customers'] or 0:,}",
         t("of_customers_with_balance", lang, n=f"{k['customers_with_balance'] or 0:,}")),
        (t("kpi_watch", lang), f"{data.watch_total:,}", ""),
        (t("kpi_dso", lang), "" if k["dso_days"] is None else f"{float(k['dso_days']):.0f}", ""),
    ]
    kpi_html = "".join(
        f'<div class="kpi"><div class="label">{esc(label)}</div><div class="value">{esc(value)}</div>'
        f'<div class="sub">{esc(sub)}</div></div>' for label, value, sub in kpis)
    roll_month = data.roll_month.isoformat() if data.roll_month else "-"

    def card(title: str, note: str, body: str, wide: bool = False, section: str = "") -> str:
        return (f'<section class="card{" wide" if wide else ""}" id="{section}"><h2>{esc(title)}</h2>'
                f'<p class="note">{esc(note)}</p>{body}</section>')

    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">',
        "<head>",
        '<meta charset="utf-8">',
        # Nothing may be fetched: a browser enforcing this shows exactly what the file holds.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "img-src data:\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(t('title', lang))} — {data.as_of.isoformat()}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        f"<header><h1>{esc(t('title', lang))}</h1><div class=\"meta\">{esc(t('as_of', lang))} "
        f"<strong>{data.as_of.isoformat()}</strong> · {esc(t('base_ccy', lang))} · {esc(t('generated', lang))} "
        f"{generated_at.isoformat(timespec='seconds')} · {esc(t('source', lang))} {esc(str(data.db))}</div></header>",
        "<main>",
        f'<div class="kpis">{kpi_html}</div>',
        '<div class="grid">',
        card(t("aging_title", lang), t("aging_note", lang, amount=fmt_amount(k.get("current_base"))),
             charts["aging"], section="aging"),
        card(t("types_title", lang), t("types_note", lang), charts["types"], section="types"),
        card(t("roll_title", lang, month=roll_month), t("roll_note", lang), charts["roll_rates"],
             section="roll-rates"),
        card(t("teams_title", lang), t("teams_note", lang), _table(TEAM_COLUMNS, _team_rows(data, lang), lang),
             section="teams"),
        card(t("trend_title", lang), t("trend_note", lang), charts["trend"], wide=True, section="trend"),
        card(t("top_title", lang), t("top_note", lang, n=min(TOP_ROWS, data.overdue_total), total=data.overdue_total),
             _table(TOP_COLUMNS, _top_rows(data, lang), lang), wide=True, section="top"),
        card(t("watch_title", lang), t("watch_note", lang, n=min(TOP_ROWS, data.watch_total), total=data.watch_total),
             _table(WATCH_COLUMNS, _watch_rows(data, lang), lang), wide=True, section="watch"),
        "</div>",
        "</main>",
        f"<footer>{esc(t('footer', lang, version=arrears.__version__))}</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


# ------------------------------------------------------------------------------------------- writing

def write_report(db: Path, out: Path, lang: str = "en") -> Path:
    """Read the marts, render the report and write it atomically to `out`; returns the path."""
    data = read_report_data(db)
    text = render_html(data, lang)
    out = out.resolve()
    tmp = out.with_name(f".{out.name}.part-{os.getpid()}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, out)
    except OSError as exc:
        raise ExportError(f"cannot write the report to {out}: {exc}", EXIT_UNWRITABLE) from exc
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
    return out


EPILOG = """\
The report shows: headline figures; past-due amount by aging bucket; customers and amount at stake by overdue
type (and the watch list); the roll-rate heatmap of the latest month; the past-due amount and overdue rate
over months; the top-priority overdue customers; the watch list. One HTML file, no network access needed.

exit codes:
  0  done
  1  unexpected error
  2  bad arguments, or the database file is missing or cannot be opened
  4  the marts are missing: the pipeline has not been run on this database
  5  the marts hold no data
  6  the output file cannot be written
"""


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    from arrears.paths import default_db

    parser = argparse.ArgumentParser(
        prog="report.py", description="Write the overdue report: one self-contained HTML file (inline SVG "
        "charts, no scripts, no network) from the marts, opened read-only.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=default_db(),
                        help="DuckDB file built by the pipeline (env ARREARS_DB); default: %(default)s")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE.html", help="the HTML file to write")
    parser.add_argument("--lang", choices=("en", "zh"), default="en", help="language of the report (default: en)")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    args = parser.parse_args(argv)
    try:
        path = write_report(args.db, args.out, args.lang)
    except ExportError as exc:
        print(f"[report] ERROR: {exc}", file=sys.stderr)
        return exc.exit_code
    if not args.quiet:
        print(f"[report] wrote {path} ({path.stat().st_size / 1024:.0f} KiB)", flush=True)
    return EXIT_OK


__all__ = ["CHART_COLORS", "ReportData", "read_report_data", "render_html", "write_report", "main"]
