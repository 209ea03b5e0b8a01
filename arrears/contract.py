"""The raw input contract (../shared/CONTRACT.md, version 2): the one place it is written down.

Tables, their keys, required and optional columns, column types, code sets, boolean spellings and quarantine
reason codes. Every Python user imports it (validation, demo generator, pipeline, benchmark, engine loader,
tests), and the dbt project's `macros/contract.sql` is generated from it:

    python -m arrears.contract --write     # rewrite macros/contract.sql after changing this file
    python -m arrears.contract --check     # exit 1 when macros/contract.sql is not what this file generates

`tests/pytest/test_contract.py` checks the macro file is current and that the staged tables of a build have
exactly these columns and types.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
    booleans: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional

    def column_type(self, column: str) -> str:
        """The staged type of a contract column: date, boolean, decimal(p,s) or text."""
        if column in self.dates:
            return "date"
        if column in self.booleans:
            return "boolean"
        for name, precision, scale in self.decimals:
            if name == column:
                return f"decimal({precision},{scale})"
        return "text"

    @property
    def types(self) -> dict[str, str]:
        return {column: self.column_type(column) for column in self.columns}


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
            booleans=("is_key_account",),
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

# Contact outcomes by whether the customer was reached (macros/contract.sql contact_outcomes()): the contact
# evidence and the monthly contact counts read these lists, never their own.
OUTCOME_GROUPS: dict[str, tuple[str, ...]] = {
    "reached": ("reached", "promise_to_pay", "hardship", "dispute", "refused"),
    "unreached": ("no_answer", "wrong_contact"),
}
assert sorted(sum(OUTCOME_GROUPS.values(), ())) == sorted(CODES["outcome"]), "every outcome is in one group"

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

TABLE_NAMES: tuple[str, ...] = tuple(TABLES)
REQUIRED_TABLES: tuple[str, ...] = tuple(n for n, t in TABLES.items() if not t.optional_table)
OPTIONAL_TABLES: tuple[str, ...] = tuple(n for n, t in TABLES.items() if t.optional_table)


# ------------------------------------------------------------------------------- the generated dbt macro

def table_input(raw_dir: Path, table: str, ext: str) -> Path | None:
    """The input of `table` in `raw_dir` in format `ext`: the file `<table>.<ext>`, or for Parquet a folder of that
    name holding Parquet parts (how arrears.loads writes the extract of a table delivered in loads, and how Spark
    writes a table), read as one table; None when there is neither."""
    path = raw_dir / f"{table}.{ext}"
    if path.is_file():
        return path
    if ext == "parquet" and path.is_dir() and any(p.suffix == ".parquet" for p in path.iterdir()):
        return path
    return None


def _jinja_list(values) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def _wrapped(prefix: str, values, indent: int, width: int = 112, quote: bool = True, brackets: str = "[]") -> str:
    """`prefix[...]`, continued on lines aligned under the first value when longer than `width`."""
    lines, line = [], prefix + brackets[0]
    for i, value in enumerate(values):
        piece = (f"'{value}'" if quote else value) + (", " if i < len(values) - 1 else brackets[1])
        if len(line) + len(piece.rstrip()) > width and not line.endswith(brackets[0]):
            lines.append(line.rstrip())
            line = " " * (indent + len(prefix) + 1)
        line += piece
    if not values:
        line += brackets[1]
    return "\n".join(lines + [line])


def dbt_macro() -> str:
    """The text of macros/contract.sql."""
    out = ["""{#-
    GENERATED from arrears/contract.py by `python -m arrears.contract --write`: do not edit by hand
    (tests/pytest/test_contract.py fails when this file and arrears/contract.py disagree).

    The raw input contract (../shared/CONTRACT.md, version 2) as data: for every table its key, its required
    and optional columns, the staged type of every column, and whether the table itself is optional. Staging,
    the quarantine and the raw reader take the column lists from here.
-#}
{% macro contract() %}
    {{ return({"""]
    for name, spec in TABLES.items():
        out.append(f"        '{name}': {{")
        out.append(f"            'key': {_jinja_list(spec.key)}, 'optional_table': {str(spec.optional_table).lower()},")
        out.append(_wrapped("            'required': ", spec.required, 0) + ",")
        out.append(_wrapped("            'optional': ", spec.optional, 0) + ",")
        types = [f"'{c}': '{t}'" for c, t in spec.types.items() if t != "text"]
        out.append(_wrapped("            'types': ", types, 0, quote=False, brackets="{}") + ",")
        out.append("        },")
    out.append("""    }) }}
{% endmacro %}

{% macro contract_columns(table_name) %}
    {%- set spec = contract()[table_name] -%}
    {{ return(spec['required'] + spec['optional']) }}
{% endmacro %}

{#- Code sets of the contract, for staging checks and tests. -#}
{% macro contract_codes(name) %}
    {{ return({""")
    for name, values in CODES.items():
        out.append(_wrapped(f"        '{name}': ", values, 0) + ",")
    out.append("""    }[name]) }}
{% endmacro %}

{#- Contact outcomes by whether the customer was reached: contact_outcomes('reached' | 'unreached'). -#}
{% macro contact_outcomes(group) %}
    {{ return({""")
    for name, values in OUTCOME_GROUPS.items():
        out.append(_wrapped(f"        '{name}': ", values, 0) + ",")
    out.append("""    }[group]) }}
{% endmacro %}

{#- "'a', 'b', 'c'" for an IN list. -#}
{% macro sql_list(values) -%}
    {%- for v in values %}'{{ v }}'{{ ", " if not loop.last }}{% endfor -%}
{%- endmacro %}
""")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    import argparse

    from .paths import ROOT

    parser = argparse.ArgumentParser(description="Write or check macros/contract.sql (generated from this module).")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite macros/contract.sql")
    mode.add_argument("--check", action="store_true", help="exit 1 when macros/contract.sql is out of date")
    args = parser.parse_args(argv)
    path = ROOT / "macros" / "contract.sql"
    text = dbt_macro()
    if args.write:
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
        return 0
    if path.read_text(encoding="utf-8") != text:
        print(f"{path} is out of date: run `python -m arrears.contract --write`")
        return 1
    print(f"{path} is current")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
