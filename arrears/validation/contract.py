"""The raw input contract (../shared/CONTRACT.md, version 1) as the validation code needs it.

The dbt project writes the same facts down in `macros/contract.sql`; `tests/pytest/test_validation_suites.py`
checks that the two agree, so a contract change cannot reach one side only.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TableSpec:
    name: str
    key: tuple[str, ...]
    optional_table: bool
    required: tuple[str, ...]
    optional: tuple[str, ...]
    dates: tuple[str, ...] = ()
    # decimal column -> (precision, scale) of the cast staging uses
    decimals: tuple[tuple[str, int, int], ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            name="customers", key=("customer_id",), optional_table=False,
            required=("customer_id", "customer_name"),
            optional=("customer_type", "region", "phone", "email", "contact_person", "account_manager",
                      "credit_limit", "annual_income", "total_debt", "is_key_account", "created_date"),
            dates=("created_date",),
            decimals=(("credit_limit", 38, 2), ("annual_income", 38, 2), ("total_debt", 38, 2)),
        ),
        TableSpec(
            name="invoices", key=("invoice_id",), optional_table=False,
            required=("invoice_id", "customer_id", "invoice_date", "due_date", "amount"),
            optional=("currency", "document_type", "status"),
            dates=("invoice_date", "due_date"),
            decimals=(("amount", 38, 2),),
        ),
        TableSpec(
            name="payments", key=("payment_id",), optional_table=False,
            required=("payment_id", "customer_id", "payment_date", "amount"),
            optional=("invoice_id", "currency", "method", "status"),
            dates=("payment_date",),
            decimals=(("amount", 38, 2),),
        ),
        TableSpec(
            name="collection_actions", key=("action_id",), optional_table=True,
            required=("action_id", "customer_id", "action_date", "channel", "outcome"),
            optional=("hardship_reason", "promised_amount", "promised_date"),
            dates=("action_date", "promised_date"),
            decimals=(("promised_amount", 38, 2),),
        ),
        TableSpec(
            name="fx_rates", key=("currency", "rate_date"), optional_table=True,
            required=("currency", "rate_date", "rate_to_base"),
            optional=(),
            dates=("rate_date",),
            decimals=(("rate_to_base", 18, 8),),
        ),
    )
}

# Code sets of the contract (macros/contract.sql contract_codes()).
CODES: dict[str, tuple[str, ...]] = {
    "customer_type": ("business", "individual"),
    "document_type": ("invoice", "credit_note"),
    "status": ("posted", "void"),
    "channel": ("call", "sms", "email", "letter", "visit", "legal"),
    "outcome": ("no_answer", "reached", "promise_to_pay", "refused", "dispute", "hardship", "wrong_contact"),
    "hardship_reason": ("illness", "accident", "job_loss", "business_downturn", "disaster", "other"),
}

# Spellings staging reads as a boolean (macros/try_cast.sql try_cast_boolean(), compared lower-cased).
BOOLEAN_TEXTS: tuple[str, ...] = ("true", "t", "1", "yes", "y", "false", "f", "0", "no", "n")

# Columns staging lower-cases (clean_code) or upper-cases before checking them.
LOWERED: frozenset[str] = frozenset(CODES) | {"is_key_account"}
UPPERED: frozenset[str] = frozenset({"currency"})

# Quarantine reason codes (docs/architecture.md, seeds/quarantine_reason_codes.csv), in rule order.
REASON_CODES: tuple[str, ...] = (
    "null_key", "duplicate_key", "missing_required", "invalid_date", "future_date", "invalid_amount", "non_positive_amount",
    "negative_value", "invalid_boolean", "invalid_code", "due_before_invoice", "unknown_customer",
    "unknown_invoice", "invoice_customer_mismatch", "unknown_currency", "missing_fx_rate", "unknown_channel",
    "unknown_outcome",
)
