"""Labels people read, in English and Chinese (`--lang en|zh`): teams, coded values and overdue types.

Codes (`collections`, `high`, `freeze`) stay the data's stable keys; these tables only change how they are
shown. Used by the strategy lists (arrears.export) and the HTML report (arrears.report).
"""
from __future__ import annotations

from typing import Any

LANGS = ("en", "zh")

TEAM_LABELS: dict[str, dict[str, str]] = {
    "collections": {"en": "Collections", "zh": "催收组"},
    "customer_care": {"en": "Customer care", "zh": "客户关怀组"},
    "legal": {"en": "Legal", "zh": "法务组"},
    "credit_risk": {"en": "Credit risk", "zh": "信用风险组"},
    "unassigned": {"en": "Unassigned", "zh": "未分配"},
}

# Codes shown to people: translated with --lang zh, shown as they are in English (they read as words).
VALUE_LABELS_ZH: dict[str, dict[str, str]] = {
    "list_type": {"overdue": "逾期", "watch": "观察"},
    "risk_band": {"low": "低", "medium": "中", "high": "高"},
    "customer_type": {"business": "企业", "individual": "个人"},
    "next_action_channel": {"call": "电话", "sms": "短信", "visit": "上门", "letter": "信函", "legal": "法律",
                            "email": "电子邮件"},
    "credit_action": {"freeze": "冻结额度", "reduce": "降低额度", "review": "复核额度", "none": "无"},
    "variant": {"champion": "冠军", "challenger": "挑战者"},
}

OVERDUE_TYPE_ORDER = ("temporary", "chronic", "stubborn")
OVERDUE_TYPE_LABELS = {"temporary": {"en": "Temporary", "zh": "临时性逾期"},
                       "chronic": {"en": "Chronic", "zh": "固有性逾期"},
                       "stubborn": {"en": "Stubborn", "zh": "顽固性逾期"}}


def team_label(team: str, lang: str) -> str:
    return TEAM_LABELS.get(team, {}).get(lang, team)


def value_label(column: str, value: Any, lang: str) -> Any:
    if lang != "zh" or value is None:
        return value
    return VALUE_LABELS_ZH.get(column, {}).get(value, value)


def pick(lang: str, en: Any, zh: Any) -> Any:
    """The Chinese text when `lang` is zh and there is one, else the English."""
    return (zh if zh is not None else en) if lang == "zh" else en
