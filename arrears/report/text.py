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
    "works_title": {"en": "What works: cure rates by strategy and type", "zh": "策略成效：按策略与类型的治愈率"},
    "works_note": {"en": "Every assignment the lists made over {runs} runs (fct_strategy_assignments), and what "
                         "followed: cured = days past due back to 0 within 30 / 90 days of the assignment, for "
                         "assignments made while past due and observed that long; 95% Wilson intervals in "
                         "brackets; cells under {min_cell} observed assignments are marked and not to be acted on.",
                   "zh": "名单在 {runs} 次运行中做出的全部分配（fct_strategy_assignments）及其结果：治愈 = 分配后 30 / 90 "
                         "天内逾期天数归零（仅统计分配时已逾期且观察期足够的分配）；括号内为 95% Wilson 区间；"
                         "观察样本少于 {min_cell} 的单元格已标注，不宜据此决策。"},
    "works_chart_title": {"en": "Cured within 30 days (bar) and its 95% interval (line)",
                          "zh": "30 天内治愈率（柱）及其 95% 区间（线）"},
    "tests_title": {"en": "Champion/challenger tests", "zh": "冠军/挑战者测试"},
    "tests_note": {"en": "Each running test (seeds/strategy_tests.csv): the arms' rates, the difference challenger - "
                         "champion with its 95% interval and p-value, and the sample per arm needed to detect it. "
                         "A winner is called only when both arms have that sample.",
                   "zh": "每个测试（seeds/strategy_tests.csv）：两组的比率、挑战者减冠军的差异及其 95% 区间和 p 值、"
                         "检测该差异所需的每组样本量。只有两组都达到所需样本量时才判定胜者。"},
    "backtest_title": {"en": "Policy backtest", "zh": "策略回测"},
    "backtest_note": {"en": "The lists replayed at each month end under each setting (arrears-backtest): customers "
                            "and amount on the overdue list per month, spells reaching 90 days past due flagged "
                            "before they did and the median lead, and false alarms (listed, cured within 30 days "
                            "with no contact).",
                      "zh": "在每个设定下重放各月末的名单（arrears-backtest）：每月逾期名单的客户数与金额、在逾期达到 90 天前"
                            "被标记的比例及中位提前天数、误报（列入名单后 30 天内未经联系即自行结清）。"},
    "backtest_chart_title": {"en": "Customers on the overdue list, per month end and setting",
                             "zh": "各月末各设定下逾期名单客户数"},
    "small_cell": {"en": "small sample", "zh": "样本不足"},
    "not_observed": {"en": "not yet observed", "zh": "尚未观察到"},
    "no_works": {"en": "No assignments logged yet: the lists are logged from the first run on "
                       "(arrears-run --replay-month-ends N issues past month ends).",
                 "zh": "尚无分配记录：名单从首次运行起记录（arrears-run --replay-month-ends N 可补发过去月末的名单）。"},
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
WORKS_COLUMNS = (
    ("segment", "Type", "类型", "text"),
    ("strategy_name", "Strategy", "策略", "text"),
    ("variant", "Arm", "组别", "text"),
    ("assignments", "Assignments", "分配数", "int"),
    ("cure_30", "Cured in 30 days", "30天治愈率", "text"),
    ("cure_90", "Cured in 90 days", "90天治愈率", "text"),
    ("roll_forward", "Rolled to a worse bucket in 30 days", "30天内恶化", "text"),
    ("promise_kept", "Promises kept", "承诺兑现率", "text"),
    ("mean_recovered_30_base", "Received in 30 days, mean", "30天平均回款", "amount"),
    ("flag", "", "", "text"),
)
TEST_COLUMNS = (
    ("test_id", "Test", "测试", "text"),
    ("strategy_code", "Strategy", "策略", "text"),
    ("outcome", "Outcome", "结果指标", "text"),
    ("champion", "Champion", "冠军", "text"),
    ("challenger", "Challenger", "挑战者", "text"),
    ("difference", "Difference [95%]", "差异 [95%]", "text"),
    ("p_value", "p", "p 值", "text"),
    ("sample_needed_per_arm", "Needed per arm", "每组所需样本", "int"),
    ("status", "Status", "状态", "text"),
)
BACKTEST_COLUMNS = (
    ("setting", "Setting (dbt vars)", "设定（dbt 变量）", "text"),
    ("mean_overdue_customers", "Overdue customers / month", "每月逾期客户", "text"),
    ("mean_overdue_base", "Overdue amount / month", "每月逾期金额", "amount"),
    ("mean_watch_customers", "Watch list / month", "每月观察名单", "text"),
    ("spells_reaching_90", "Spells reaching 90 DPD", "达到90天逾期", "int"),
    ("flagged_before_90", "Flagged before 90 DPD", "提前标记", "text"),
    ("median_lead_days", "Median lead (days)", "中位提前天数", "text"),
    ("false_alarms", "False alarms", "误报", "text"),
)
OUTCOME_LABELS = {"cure_30": {"en": "cured in 30 days", "zh": "30天治愈"},
                  "cure_60": {"en": "cured in 60 days", "zh": "60天治愈"},
                  "cure_90": {"en": "cured in 90 days", "zh": "90天治愈"},
                  "promise_kept": {"en": "promise kept", "zh": "承诺兑现"},
                  "roll_forward_30": {"en": "worse bucket in 30 days", "zh": "30天内恶化"}}
STATUS_LABELS = {"no data": {"en": "no data", "zh": "无数据"},
                 "collecting": {"en": "collecting", "zh": "样本收集中"},
                 "no difference": {"en": "no difference", "zh": "无显著差异"},
                 "challenger better": {"en": "challenger better", "zh": "挑战者更优"},
                 "champion better": {"en": "champion better", "zh": "冠军更优"}}
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
