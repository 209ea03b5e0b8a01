"""The report's words in English and Chinese, the number formats, and the columns of its tables."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

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
