"""The columns of the strategy lists and of their summary: keys, headers in both languages, kinds."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One column of a list: stable key (Parquet name), headers per language, kind (text, int, amount,
    score, date), and how PII masking treats it (name, phone, email or None)."""

    key: str
    en: str
    zh: str
    kind: str = "text"
    pii: str | None = None

    def header(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


LIST_COLUMNS: tuple[Column, ...] = (
    Column("priority_rank", "Priority rank", "优先级排名", "int"),
    Column("customer_id", "Customer ID", "客户编号"),
    Column("customer_name", "Customer name", "客户名称", pii="name"),
    Column("customer_type", "Customer type", "客户类型"),
    Column("region", "Region", "地区"),
    Column("contact_person", "Contact person", "联系人", pii="name"),
    Column("phone", "Phone", "电话", pii="phone"),
    Column("email", "Email", "电子邮箱", pii="email"),
    Column("account_manager", "Account manager", "客户经理"),
    Column("list_type", "List", "名单"),
    Column("overdue_type", "Overdue type", "逾期类型"),
    Column("risk_band", "Risk band", "风险等级"),
    Column("strategy_code", "Strategy code", "策略代码"),
    Column("strategy_name", "Strategy", "策略"),
    Column("outstanding_base", "Outstanding (base currency)", "未结余额(本位币)", "amount"),
    Column("at_stake_base", "Amount overdue / past due (base currency)", "逾期金额(本位币)", "amount"),
    Column("days_past_due", "Days past due", "逾期天数", "int"),
    Column("aging_bucket", "Aging bucket", "账龄区间"),
    Column("reasons", "Reasons", "原因"),
    Column("next_action", "Next action", "下一步行动"),
    Column("next_action_channel", "Channel", "渠道"),
    Column("next_action_due_date", "Next action due", "行动截止日期", "date"),
    Column("credit_action", "Credit action", "额度措施"),
    Column("priority_score", "Priority score", "优先级得分", "score"),
    Column("test_id", "Strategy test", "策略测试"),
    Column("variant", "Test arm", "测试组别"),
)

SUMMARY_COLUMNS: tuple[Column, ...] = (
    Column("owner_team", "Team", "团队"),
    Column("list_type", "List", "名单"),
    Column("strategy_code", "Strategy code", "策略代码"),
    Column("strategy_name", "Strategy", "策略"),
    Column("overdue_type", "Overdue type", "逾期类型"),
    Column("risk_band", "Risk band", "风险等级"),
    Column("customers", "Customers", "客户数", "int"),
    Column("outstanding_base", "Outstanding (base currency)", "未结余额(本位币)", "amount"),
    Column("at_stake_base", "Amount overdue / past due (base currency)", "逾期金额(本位币)", "amount"),
)

SHEET_TITLES = {"summary": {"en": "Summary", "zh": "汇总"}}
