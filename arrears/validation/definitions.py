"""The expectation suites, defined once in code and written to `expectations/*.json` for review.

Run `scripts/validate.py --write-suites` after changing this file (or the seeds it reads); the JSON files are
what a validation run executes, and `tests/pytest/test_validation_suites.py` fails while they disagree.

Severity policy
* raw: bad rows are quarantined by staging by design, so row-level rules are warnings (they predict the
  quarantine); structural problems are critical: a required file missing or unreadable, a required column
  missing, an empty customers/invoices file.
* staging: the staged tables promise valid, typed, unique rows; any breach is a bug: critical. The share of
  quarantined rows per input table above `--quarantine-tolerance`, and rows lost between raw and
  staged + quarantined, are critical too.
* marts: keys, code sets, score ranges, non-negative money, and reconciliations (per invoice, per customer,
  and totals of the marts against the facts) are critical.

Memory: every table-sized batch is partitioned by its key and fetched in chunks (`--chunk-rows`); checks that
need the whole table at once (uniqueness across chunks, sums, counts, reconciliations) are either made
chunk-safe by the key partitioning or pushed down to DuckDB as aggregate queries whose small result frames
GX validates.
"""
from __future__ import annotations

import csv
from typing import Any

from arrears.contract import BOOLEAN_TEXTS, CODES, REASON_CODES, TABLES, TableSpec
from arrears.validation.suites import Batch, Suite

from ..paths import ROOT

SEEDS = ROOT / "seeds"

# Text shapes staging accepts (macros/try_cast.sql): ISO dates, '.' decimals (DuckDB also takes exponents).
DATE_REGEX = r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"
DECIMAL_REGEX = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
CURRENCY_REGEX = r"^[A-Z]{3}$"
# A sane range for document dates; created_date (start of a relationship) may be older.
DOCUMENT_DATES = ("1990-01-01", "2099-12-31")
RELATIONSHIP_DATES = ("1900-01-01", "2099-12-31")
# Money columns are decimal(18, 2): a reconciliation gap under half a cent is rounding, not a break.
CENT_TOLERANCE = 0.005


def expect(kind: str, batch: str, severity: str, notes: str, **kwargs: Any) -> dict[str, Any]:
    """One expectation in GX's JSON shape, with its batch and severity in meta."""
    return {"type": kind, "kwargs": kwargs, "meta": {"batch": batch, "severity": severity},
            "severity": severity, "notes": notes}


def _seed_column(seed: str, column: str) -> list[str]:
    path = SEEDS / f"{seed}.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        return [row[column] for row in csv.DictReader(fh)]


# =====================================================================================================
# raw
# =====================================================================================================
# The raw reader (arrears/validation/sources.py) loads each contract file into table raw.<name> the way
# staging reads it: every contract column present (a missing one reads as null), values trimmed with
# '' as null, codes lower-cased, currency upper-cased, plus typed shadow columns <col>__decimal and
# <col>__date cast exactly as staging casts them. raw_columns.<name> holds the delivered column names.

def _raw_suite(spec: TableSpec) -> Suite:
    t = spec.name
    rel = f"raw.{t}"
    key = list(spec.key)
    crit_empty = t in ("customers", "invoices")
    shadow = [f"{c}__decimal" for c, _, _ in spec.decimals] + [f"{c}__date" for c in spec.dates]
    rows_cols = list(spec.columns) + shadow
    batches = {
        "columns": Batch("columns", f"select * from raw_columns.{t} limit 0", relations=(rel,)),
        "rows": Batch("rows", f"select {', '.join(rows_cols)} from {rel}", partition_by=tuple(key),
                      index_columns=tuple(key), relations=(rel,)),
    }
    exps: list[dict[str, Any]] = [
        expect("expect_table_columns_to_match_set", "columns", "critical",
               "Every required column of the contract is delivered (extra columns are allowed); "
               "staging stops on a missing one.",
               column_set=list(spec.required), exact_match=False),
        expect("expect_table_row_count_to_be_between", "rows", "critical" if crit_empty else "warning",
               "The file holds rows" + (": an empty file is a broken delivery." if crit_empty
                                        else " (an empty file is possible but unusual)."),
               min_value=1),
    ]
    for col in key:
        exps.append(expect("expect_column_values_to_not_be_null", "rows", "warning",
                           "Rows without a key are quarantined (null_key).", column=col))
    if len(key) == 1:
        exps.append(expect("expect_column_values_to_be_unique", "rows", "warning",
                           "Every copy of a duplicated key is quarantined (duplicate_key).", column=key[0]))
    else:
        exps.append(expect("expect_compound_columns_to_be_unique", "rows", "warning",
                           "Every copy of a duplicated key is quarantined (duplicate_key).", column_list=key))
    for col in spec.required:
        if col not in key:
            exps.append(expect("expect_column_values_to_not_be_null", "rows", "warning",
                               "Rows with an empty required value are quarantined (missing_required).", column=col))
    for col in spec.dates:
        low, high = RELATIONSHIP_DATES if col == "created_date" else DOCUMENT_DATES
        exps.append(expect("expect_column_values_to_match_regex", "rows", "warning",
                           "Dates are ISO YYYY-MM-DD (invalid_date otherwise).", column=col, regex=DATE_REGEX))
        exps.append(expect("expect_column_values_to_be_between", "rows", "warning",
                           "Dates outside this range are almost surely typing errors.",
                           column=f"{col}__date", min_value=low, max_value=high))
    for col, _, _ in spec.decimals:
        exps.append(expect("expect_column_values_to_match_regex", "rows", "warning",
                           "Decimals use '.' as decimal mark, no thousands separator (invalid_amount otherwise).",
                           column=col, regex=DECIMAL_REGEX))
        if col in ("amount", "rate_to_base"):
            exps.append(expect("expect_column_values_to_be_between", "rows", "warning",
                               "Amounts and rates are above zero (non_positive_amount otherwise).",
                               column=f"{col}__decimal", min_value=0, strict_min=True))
        else:
            exps.append(expect("expect_column_values_to_be_between", "rows", "warning",
                               "Limits, income, debt and promises are not negative (negative_value otherwise).",
                               column=f"{col}__decimal", min_value=0))
    for col in spec.columns:
        if col in CODES:
            reason = {"channel": "unknown_channel", "outcome": "unknown_outcome",
                      "hardship_reason": "unknown_outcome"}.get(col, "invalid_code")
            exps.append(expect("expect_column_values_to_be_in_set", "rows", "warning",
                               f"Codes outside the contract set are quarantined ({reason}); compared lower-cased.",
                               column=col, value_set=list(CODES[col])))
    if "is_key_account" in spec.columns:
        exps.append(expect("expect_column_values_to_be_in_set", "rows", "warning",
                           "Booleans staging can read, compared lower-cased (invalid_boolean otherwise).",
                           column="is_key_account", value_set=list(BOOLEAN_TEXTS)))
    if "currency" in spec.columns:
        exps.append(expect("expect_column_values_to_match_regex", "rows", "warning",
                           "ISO 4217 codes, upper-cased (unknown_currency otherwise).",
                           column="currency", regex=CURRENCY_REGEX))
    if t == "invoices":
        exps.append(expect("expect_column_pair_values_a_to_be_greater_than_b", "rows", "warning",
                           "An invoice falls due on or after its issue date (due_before_invoice otherwise).",
                           column_A="due_date__date", column_B="invoice_date__date", or_equal=True,
                           ignore_row_if="either_value_is_missing"))
    # references to customers (and invoices, for payments): the rows staging sets aside as unknown_*
    if "customer_id" in spec.columns and t != "customers":
        refs = [("customer_id", "raw.customers")]
        if t == "payments":
            refs.append(("invoice_id", "raw.invoices"))
        flags = ",\n    ".join(
            f"{c} in (select {c} from {other} where {c} is not null) as {c}__known" for c, other in refs)
        batches["references"] = Batch(
            "references",
            f"select {', '.join(key)}, {', '.join(c for c, _ in refs)},\n    {flags}\nfrom {rel}",
            partition_by=tuple(key), index_columns=tuple(key) + tuple(c for c, _ in refs),
            relations=(rel,) + tuple(o for _, o in refs))
        for c, other in refs:
            exps.append(expect("expect_column_values_to_be_in_set", "references", "warning",
                               f"{c} exists in {other} (unknown_{c.split('_')[0]} otherwise; null is not checked).",
                               column=f"{c}__known", value_set=[True]))
    return Suite(
        name=rel, stage="raw", relation=rel, optional=spec.optional_table,
        description=f"Raw input table {t} as delivered (contract v1): structure is critical, "
                    "row-level rules are warnings because staging quarantines bad rows.",
        batches=batches, expectations=exps)


# =====================================================================================================
# staging
# =====================================================================================================
def _keys(batch: str, key: list[str], why: str) -> list[dict[str, Any]]:
    out = [expect("expect_column_values_to_not_be_null", batch, "critical", why, column=c) for c in key]
    if len(key) == 1:
        out.append(expect("expect_column_values_to_be_unique", batch, "critical", why, column=key[0]))
    else:
        out.append(expect("expect_compound_columns_to_be_unique", batch, "critical", why, column_list=key))
    return out


def _table_suite(name: str, stage: str, columns: list[str], key: list[str], exps: list[dict[str, Any]],
                 description: str, optional: bool = False, rows_sql: str | None = None,
                 extra_batches: dict[str, Batch] | None = None, index: list[str] | None = None) -> Suite:
    """A suite over one table: a `columns` batch (its column list) and a key-partitioned `rows` batch."""
    batches = {
        "columns": Batch("columns", f"select * from {name} limit 0", relations=(name,)),
        "rows": Batch("rows", rows_sql or f"select {', '.join(columns)} from {name}", partition_by=tuple(key),
                      index_columns=tuple(index or key), relations=(name,)),
    }
    batches.update(extra_batches or {})
    head = [expect("expect_table_columns_to_match_set", "columns", "critical",
                   "The model still has the columns this suite and downstream readers rely on.",
                   column_set=columns, exact_match=False)]
    return Suite(name=name, stage=stage, relation=name, optional=optional, description=description,
                 batches=batches, expectations=head + exps)


def _not_null(cols: list[str], why: str, batch: str = "rows") -> list[dict[str, Any]]:
    return [expect("expect_column_values_to_not_be_null", batch, "critical", why, column=c) for c in cols]


def _staging_suites() -> list[Suite]:
    key_why = "Staged rows have a unique, non-empty key (duplicates and empty keys are quarantined)."
    typed_why = "Staging only passes rows whose required values are present and typed."
    suites = [
        _table_suite(
            "staging.stg_customers", "staging",
            ["customer_id", "customer_name", "customer_type", "credit_limit", "annual_income", "total_debt",
             "is_key_account", "created_date"],
            ["customer_id"],
            _keys("rows", ["customer_id"], key_why)
            + _not_null(["customer_name", "is_key_account"], typed_why)
            + [expect("expect_column_values_to_be_in_set", "rows", "critical", "Codes outside the set are quarantined.",
                      column="customer_type", value_set=list(CODES["customer_type"]))]
            + [expect("expect_column_values_to_be_between", "rows", "critical",
                      "Negative limits, income or debt are quarantined.", column=c, min_value=0)
               for c in ("credit_limit", "annual_income", "total_debt")],
            "Valid customers (one row per customer_id)."),
        _table_suite(
            "staging.stg_invoices", "staging",
            ["invoice_id", "customer_id", "invoice_date", "due_date", "amount", "currency", "fx_rate_to_base",
             "amount_base", "document_type", "status", "is_void", "is_credit_note"],
            ["invoice_id"],
            _keys("rows", ["invoice_id"], key_why)
            + _not_null(["customer_id", "invoice_date", "due_date", "amount", "currency", "amount_base",
                         "is_void", "is_credit_note"], typed_why)
            + [expect("expect_column_values_to_be_between", "rows", "critical",
                      "Non-positive amounts are quarantined.", column="amount", min_value=0, strict_min=True),
               expect("expect_column_values_to_be_between", "rows", "critical",
                      "Rates are positive; a document without a rate is quarantined (missing_fx_rate).",
                      column="fx_rate_to_base", min_value=0, strict_min=True),
               expect("expect_column_values_to_be_in_set", "rows", "critical", "Codes outside the set are quarantined.",
                      column="document_type", value_set=list(CODES["document_type"])),
               expect("expect_column_values_to_be_in_set", "rows", "critical", "Codes outside the set are quarantined.",
                      column="status", value_set=list(CODES["status"])),
               expect("expect_column_pair_values_a_to_be_greater_than_b", "rows", "critical",
                      "due_date before invoice_date is quarantined.", column_A="due_date", column_B="invoice_date",
                      or_equal=True, ignore_row_if="either_value_is_missing")],
            "Valid invoices and credit notes (one row per invoice_id; void documents flagged)."),
        _table_suite(
            "staging.stg_payments", "staging",
            ["payment_id", "customer_id", "invoice_id", "payment_date", "amount", "currency", "fx_rate_to_base",
             "amount_base", "status", "is_void"],
            ["payment_id"],
            _keys("rows", ["payment_id"], key_why)
            + _not_null(["customer_id", "payment_date", "amount", "currency", "amount_base"], typed_why)
            + [expect("expect_column_values_to_be_between", "rows", "critical",
                      "Non-positive amounts are quarantined.", column="amount", min_value=0, strict_min=True),
               expect("expect_column_values_to_be_between", "rows", "critical",
                      "Rates are positive; a payment without a rate is quarantined (missing_fx_rate).",
                      column="fx_rate_to_base", min_value=0, strict_min=True),
               expect("expect_column_values_to_be_in_set", "rows", "critical", "Codes outside the set are quarantined.",
                      column="status", value_set=list(CODES["status"]))],
            "Valid payments (one row per payment_id; void payments flagged)."),
        _table_suite(
            "staging.stg_collection_actions", "staging",
            ["action_id", "customer_id", "action_date", "channel", "outcome", "hardship_reason", "promised_amount",
             "promised_date"],
            ["action_id"],
            _keys("rows", ["action_id"], key_why)
            + _not_null(["customer_id", "action_date", "channel", "outcome"], typed_why)
            + [expect("expect_column_values_to_be_in_set", "rows", "critical", "Codes outside the set are quarantined.",
                      column=c, value_set=list(CODES[c])) for c in ("channel", "outcome", "hardship_reason")]
            + [expect("expect_column_values_to_be_between", "rows", "critical",
                      "Negative promised amounts are quarantined.", column="promised_amount", min_value=0)],
            "Valid collection actions (one row per action_id; empty when the optional input is absent)."),
        _table_suite(
            "staging.stg_fx_rates", "staging", ["currency", "rate_date", "rate_to_base"], ["currency", "rate_date"],
            _keys("rows", ["currency", "rate_date"], key_why)
            + _not_null(["rate_to_base"], typed_why)
            + [expect("expect_column_values_to_be_between", "rows", "critical",
                      "Non-positive rates are quarantined.", column="rate_to_base", min_value=0, strict_min=True),
               expect("expect_column_values_to_match_regex", "rows", "critical",
                      "Currencies are 3-letter upper-case codes.", column="currency", regex=CURRENCY_REGEX)],
            "Valid exchange rates (one row per currency and rate date)."),
    ]
    # quarantine: reasons in the seed set, and per input table the share set aside and the conservation
    # raw rows = staged rows + quarantined rows (counted by SQL; five-row result frame)
    tables = list(TABLES)
    counts_sql = "\nunion all\n".join(
        f"select '{t}' as source_table,\n"
        f"    (select count(*) from staging.stg_{t}_checked) as raw_rows,\n"
        f"    (select count(*) from staging.stg_{t}) as staged_rows,\n"
        f"    (select count(*) from staging.stg_quarantine where source_table = '{t}') as quarantined_rows"
        for t in tables)
    shares_sql = (
        "with counts as (\n" + counts_sql + "\n)\n"
        "select source_table, raw_rows, staged_rows, quarantined_rows,\n"
        "    staged_rows + quarantined_rows as accounted_rows,\n"
        "    case when raw_rows = 0 then 0.0 else quarantined_rows / raw_rows end as quarantined_share\n"
        "from counts\norder by source_table")
    relations = ("staging.stg_quarantine",) + tuple(f"staging.stg_{t}_checked" for t in tables) + tuple(
        f"staging.stg_{t}" for t in tables)
    reason_codes = _seed_column("quarantine_reason_codes", "reason_code")
    suites.append(_table_suite(
        "staging.stg_quarantine", "staging", ["source_table", "record_key", "reason_code", "raw_row"],
        ["source_table", "record_key"],
        [expect("expect_column_values_to_be_in_set", "rows", "critical",
                "Every set-aside row names its input table.", column="source_table", value_set=tables),
         expect("expect_column_values_to_be_in_set", "rows", "critical",
                "Every set-aside row carries a documented reason code (seed quarantine_reason_codes).",
                column="reason_code", value_set=reason_codes),
         expect("expect_column_values_to_not_be_null", "rows", "critical",
                "Every set-aside row keeps the raw row as delivered, for the report.", column="raw_row"),
         expect("expect_column_values_to_be_between", "shares", "critical",
                "The share of raw rows set aside per input table stays under --quarantine-tolerance; above it "
                "the delivery is likely broken and the marts would mislead.",
                column="quarantined_share", min_value=0, max_value={"$PARAMETER": "quarantine_tolerance"}),
         expect("expect_column_pair_values_to_be_equal", "shares", "critical",
                "Conservation: every raw row is either staged or quarantined, none lost or doubled.",
                column_A="raw_rows", column_B="accounted_rows")],
        "Rows set aside by staging, with the share per input table and the raw = staged + quarantined balance.",
        rows_sql="select source_table, record_key, reason_code, raw_row from staging.stg_quarantine",
        index=["source_table", "record_key"],
        extra_batches={"shares": Batch("shares", shares_sql, index_columns=("source_table",), relations=relations)}))
    # reason codes of the seed and of the contract module agree (documentation drift guard)
    assert list(REASON_CODES) == reason_codes, "seeds/quarantine_reason_codes.csv and contract.REASON_CODES differ"
    return suites


# =====================================================================================================
# marts
# =====================================================================================================
OVERDUE_TYPES = ["temporary", "chronic", "stubborn"]
RISK_BANDS = ["low", "medium", "high"]
SCORES = (0, 100)


def _gap(batch: str, column: str, why: str) -> dict[str, Any]:
    return expect("expect_column_values_to_be_between", batch, "critical", why, column=column,
                  min_value=-CENT_TOLERANCE, max_value=CENT_TOLERANCE)


def _non_negative(cols: list[str], why: str, batch: str = "rows") -> list[dict[str, Any]]:
    return [expect("expect_column_values_to_be_between", batch, "critical", why, column=c, min_value=0) for c in cols]


def _scores(cols: list[str], batch: str = "rows") -> list[dict[str, Any]]:
    return [expect("expect_column_values_to_be_between", batch, "critical", "Scores are on a 0-100 scale.",
                   column=c, min_value=SCORES[0], max_value=SCORES[1]) for c in cols]


def _in_set(col: str, values: list[str], why: str, batch: str = "rows", severity: str = "critical") -> dict[str, Any]:
    return expect("expect_column_values_to_be_in_set", batch, severity, why, column=col, value_set=values)


def _sql_list(values: list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _aggregate_suite(name: str, key: list[str], checks: list[tuple[str, str, str]], description: str) -> Suite:
    """An optional mart checked by one SQL aggregate (never loaded into memory): key unique and present,
    and a count of rows breaking each (column, predicate) rule, which must be 0. The frame also carries up
    to five duplicated keys, shown as offenders when the key check fails."""
    key_expr = key[0] if len(key) == 1 else "(" + ", ".join(key) + ")"
    key_text = " || ' / ' || ".join(f"cast({k} as varchar)" for k in key)
    counts = "".join(f",\n    count(*) filter (where {predicate}) as {column}" for column, predicate, _ in checks)
    sql = (f"select count(*) as row_count,\n"
           f"    count(distinct {key_expr}) as distinct_keys,\n"
           f"    count(*) filter (where {' or '.join(f'{k} is null' for k in key)}) as null_keys{counts},\n"
           f"    coalesce((select string_agg(k, ', ') from (\n"
           f"        select {key_text} as k from {name} group by all having count(*) > 1 order by 1 limit 5)),\n"
           f"        '') as duplicated_keys_sample\n"
           f"from {name}")
    exps = [
        expect("expect_column_pair_values_to_be_equal", "aggregate", "critical",
               f"One row per {', '.join(key)} (row_count = distinct keys).", column_A="row_count",
               column_B="distinct_keys"),
        expect("expect_column_values_to_be_between", "aggregate", "critical", "Keys are never null.",
               column="null_keys", min_value=0, max_value=0),
    ] + [expect("expect_column_values_to_be_between", "aggregate", "critical", why, column=column,
                min_value=0, max_value=0) for column, _, why in checks]
    return Suite(name=name, stage="marts", relation=name, optional=True,
                 description=description + " Checked by one SQL aggregate (its grain can reach tens of millions "
                                           "of rows at full scale).",
                 batches={"aggregate": Batch("aggregate", sql, index_columns=("duplicated_keys_sample",),
                                             relations=(name,))},
                 expectations=exps)


def _marts_suites() -> list[Suite]:
    buckets = _seed_column("aging_buckets", "bucket_code")
    strategies = _seed_column("strategy_catalog", "strategy_code")
    key_why = "One row per key: a duplicate would double count in every report."
    suites: list[Suite] = []

    # ---- facts ---------------------------------------------------------------------------------------
    inv_cols = ["invoice_id", "customer_id", "as_of_date", "invoice_date", "due_date", "currency", "amount",
                "paid_amount", "outstanding_amount", "amount_base", "outstanding_base", "days_past_due",
                "aging_bucket", "is_open"]
    suites.append(_table_suite(
        "marts.fct_invoices", "marts", inv_cols, ["invoice_id"],
        _keys("rows", ["invoice_id"], key_why)
        + _not_null(["customer_id", "amount", "paid_amount", "outstanding_amount", "amount_base",
                     "outstanding_base", "days_past_due", "aging_bucket"], "Every money and lateness column is filled.")
        + [expect("expect_column_values_to_be_between", "rows", "critical", "Invoices are positive amounts.",
                  column="amount", min_value=0, strict_min=True)]
        + _non_negative(["paid_amount", "outstanding_amount", "outstanding_base", "days_past_due"],
                        "Allocation never pays more than an invoice, lateness is never negative.")
        + [_in_set("aging_bucket", buckets, "Buckets come from seed aging_buckets."),
           expect("expect_column_pair_values_a_to_be_greater_than_b", "rows", "critical",
                  "Only invoices issued on or before the as-of date count.", column_A="as_of_date",
                  column_B="invoice_date", or_equal=True),
           expect("expect_column_pair_values_a_to_be_greater_than_b", "rows", "critical",
                  "An invoice falls due on or after its issue date.", column_A="due_date", column_B="invoice_date",
                  or_equal=True),
           _gap("rows", "reconciliation_gap",
                "Reconciliation per invoice: amount = paid_amount + outstanding_amount (document currency).")],
        "One row per posted invoice issued on or before the as-of date, with what is paid and unpaid.",
        rows_sql=("select " + ", ".join(inv_cols) + ",\n"
                  "    cast(amount - paid_amount - outstanding_amount as double) as reconciliation_gap\n"
                  "from marts.fct_invoices"),
        index=["invoice_id", "customer_id"]))

    aging_cols = ["customer_id", "as_of_date", "invoiced_base", "outstanding_base", "past_due_base", "overdue_base",
                  "days_past_due", "aging_bucket", "is_overdue", "is_past_due"]
    reconciliation_sql = (
        "with facts as (\n"
        "    select customer_id,\n"
        "        sum(amount) as invoiced, sum(paid_amount) as allocated, sum(outstanding_amount) as outstanding,\n"
        "        sum(amount_base) as invoiced_base, sum(outstanding_base) as outstanding_base\n"
        "    from marts.fct_invoices\n"
        "    group by customer_id\n"
        ")\n"
        "select coalesce(aging.customer_id, facts.customer_id) as customer_id,\n"
        "    aging.customer_id is not null as in_customer_aging,\n"
        "    cast(coalesce(facts.invoiced, 0) - coalesce(facts.allocated, 0) - coalesce(facts.outstanding, 0)\n"
        "        as double) as invoiced_allocated_outstanding_gap,\n"
        "    cast(coalesce(aging.invoiced_base, 0) - coalesce(facts.invoiced_base, 0) as double)\n"
        "        as invoiced_base_gap,\n"
        "    cast(coalesce(aging.outstanding_base, 0) - coalesce(facts.outstanding_base, 0) as double)\n"
        "        as outstanding_base_gap\n"
        "from marts.fct_customer_aging as aging\n"
        "full outer join facts on aging.customer_id = facts.customer_id")
    suites.append(_table_suite(
        "marts.fct_customer_aging", "marts", aging_cols, ["customer_id"],
        _keys("rows", ["customer_id"], key_why)
        + _not_null(["invoiced_base", "outstanding_base", "past_due_base", "overdue_base", "days_past_due",
                     "aging_bucket", "is_overdue"], "Every money and lateness column is filled.")
        + _non_negative(["invoiced_base", "outstanding_base", "past_due_base", "overdue_base", "days_past_due"],
                        "Money owed and lateness are never negative.")
        + [_in_set("aging_bucket", buckets, "Buckets come from seed aging_buckets."),
           expect("expect_column_pair_values_a_to_be_greater_than_b", "rows", "critical",
                  "Past due is part of outstanding.", column_A="outstanding_base", column_B="past_due_base",
                  or_equal=True),
           expect("expect_column_pair_values_a_to_be_greater_than_b", "rows", "critical",
                  "Overdue (over the threshold) is part of past due.", column_A="past_due_base",
                  column_B="overdue_base", or_equal=True),
           _in_set("in_customer_aging", [True],
                   "Every customer with invoices in fct_invoices has its aging row.", batch="reconciliation"),
           _gap("reconciliation", "invoiced_allocated_outstanding_gap",
                "Reconciliation per customer: invoiced = allocated + outstanding (sums of fct_invoices)."),
           _gap("reconciliation", "invoiced_base_gap",
                "Per customer, invoiced_base equals the sum of its invoices' amount_base."),
           _gap("reconciliation", "outstanding_base_gap",
                "Per customer, outstanding_base equals the sum of its invoices' outstanding_base.")],
        "One row per valid customer: what it owes as of the as-of date, how late, in which buckets; "
        "reconciled customer by customer against fct_invoices.",
        extra_batches={"reconciliation": Batch(
            "reconciliation", reconciliation_sql, partition_by=("customer_id",), index_columns=("customer_id",),
            relations=("marts.fct_customer_aging", "marts.fct_invoices"))}))

    # ---- marts -----------------------------------------------------------------------------------------
    overdue_cols = ["customer_id", "overdue_type", "temporary_score", "chronic_score", "stubborn_score",
                    "ability_to_pay_score", "impact_score", "priority_score", "risk_band", "outstanding_base",
                    "overdue_base", "days_past_due", "priority_rank"]
    overdue_refs = (
        "select overdue.customer_id, coalesce(aging.is_overdue, false) as is_overdue_in_aging,\n"
        "    strategy.customer_id is not null as has_strategy\n"
        "from marts.mart_overdue_customers as overdue\n"
        "left join marts.fct_customer_aging as aging on overdue.customer_id = aging.customer_id\n"
        "left join marts.mart_collection_strategy as strategy\n"
        "    on overdue.customer_id = strategy.customer_id and strategy.list_type = 'overdue'")
    overdue_coverage = (
        "select aging.customer_id, overdue.customer_id is not null as in_overdue_mart\n"
        "from marts.fct_customer_aging as aging\n"
        "left join marts.mart_overdue_customers as overdue on aging.customer_id = overdue.customer_id\n"
        "where aging.is_overdue")
    suites.append(_table_suite(
        "marts.mart_overdue_customers", "marts", overdue_cols, ["customer_id"],
        _keys("rows", ["customer_id"], "One row, hence one overdue type, per overdue customer.")
        + _not_null(["overdue_type", "risk_band", "outstanding_base", "overdue_base", "priority_score"],
                    "Every overdue customer is typed, banded and scored.")
        + [_in_set("overdue_type", OVERDUE_TYPES, "The three overdue types."),
           _in_set("risk_band", RISK_BANDS, "Risk bands of seed strategy_catalog.")]
        + _scores(["temporary_score", "chronic_score", "stubborn_score", "ability_to_pay_score", "impact_score",
                   "priority_score"])
        + _non_negative(["outstanding_base"], "Money owed is never negative.")
        + [expect("expect_column_values_to_be_between", "rows", "critical",
                  "An overdue customer has an overdue amount.", column="overdue_base", min_value=0, strict_min=True),
           expect("expect_column_values_to_be_between", "rows", "critical",
                  "An overdue customer is past due.", column="days_past_due", min_value=1),
           expect("expect_column_pair_values_a_to_be_greater_than_b", "rows", "critical",
                  "The overdue amount is part of what the customer owes.", column_A="outstanding_base",
                  column_B="overdue_base", or_equal=True),
           _in_set("is_overdue_in_aging", [True], "Listed customers are overdue in fct_customer_aging.",
                   batch="references"),
           _in_set("has_strategy", [True],
                   "Every overdue customer gets a collection strategy (a missing catalog row would drop it).",
                   batch="references"),
           _in_set("in_overdue_mart", [True], "Every customer overdue in fct_customer_aging is listed (and typed).",
                   batch="coverage")],
        "One row per overdue customer: its type (temporary, chronic, stubborn), scores and evidence.",
        extra_batches={
            "references": Batch("references", overdue_refs, partition_by=("customer_id",),
                                index_columns=("customer_id",),
                                relations=("marts.mart_overdue_customers", "marts.fct_customer_aging",
                                           "marts.mart_collection_strategy")),
            "coverage": Batch("coverage", overdue_coverage, partition_by=("customer_id",),
                              index_columns=("customer_id",),
                              relations=("marts.fct_customer_aging", "marts.mart_overdue_customers"))}))

    strategy_cols = ["customer_id", "list_type", "overdue_type", "risk_band", "strategy_code", "priority_score",
                     "ability_to_pay_score", "impact_score", "outstanding_base", "at_stake_base", "next_step_number",
                     "step_count", "variant"]
    strategy_refs = (
        "select strategy.customer_id, strategy.strategy_code,\n"
        "    coalesce(strategy.strategy_code = catalog.strategy_code, false) as matches_catalog\n"
        "from marts.mart_collection_strategy as strategy\n"
        "left join reference.strategy_catalog as catalog\n"
        "    on catalog.overdue_type\n"
        "       = case when strategy.list_type = 'watch' then 'watch' else strategy.overdue_type end\n"
        "   and catalog.risk_band = strategy.risk_band")
    suites.append(_table_suite(
        "marts.mart_collection_strategy", "marts", strategy_cols, ["customer_id"],
        _keys("rows", ["customer_id"], "One strategy per listed customer.")
        + _not_null(["list_type", "risk_band", "strategy_code", "next_step_number"],
                    "Every listed customer has a list, a band, a strategy and a next step.")
        + [_in_set("strategy_code", strategies, "Strategy codes come from seed strategy_catalog."),
           _in_set("list_type", ["overdue", "watch"], "The overdue list and the watch list."),
           _in_set("overdue_type", OVERDUE_TYPES, "The three overdue types (null on the watch list)."),
           _in_set("risk_band", RISK_BANDS, "Risk bands of seed strategy_catalog."),
           _in_set("variant", ["champion", "challenger"], "The arm of a champion/challenger test (champion without).")]
        + _scores(["priority_score", "ability_to_pay_score", "impact_score"])
        + _non_negative(["outstanding_base", "at_stake_base"], "Money owed is never negative.")
        + [expect("expect_column_values_to_be_between", "rows", "critical", "Steps are numbered from 1.",
                  column="next_step_number", min_value=1),
           expect("expect_column_pair_values_a_to_be_greater_than_b", "rows", "critical",
                  "The next step is one of the strategy's steps.", column_A="step_count",
                  column_B="next_step_number", or_equal=True),
           _in_set("matches_catalog", [True],
                   "The strategy is the catalog's for the customer's type (or watch) and risk band.",
                   batch="references")],
        "One row per customer on the overdue or watch list with its collection strategy and next step.",
        extra_batches={"references": Batch(
            "references", strategy_refs, partition_by=("customer_id",), index_columns=("customer_id", "strategy_code"),
            relations=("marts.mart_collection_strategy", "reference.strategy_catalog"))}))

    # ---- totals of the marts against the facts (SQL aggregates; one row per measure) ---------------------
    totals = [
        ("fct_customer_aging.outstanding_base = fct_invoices.outstanding_base",
         "select sum(outstanding_base) from marts.fct_customer_aging",
         "select sum(outstanding_base) from marts.fct_invoices"),
        ("fct_customer_aging.invoiced_base = fct_invoices.amount_base",
         "select sum(invoiced_base) from marts.fct_customer_aging",
         "select sum(amount_base) from marts.fct_invoices"),
        ("mart_overdue_customers.outstanding_base = fct_customer_aging.outstanding_base (overdue)",
         "select sum(outstanding_base) from marts.mart_overdue_customers",
         "select sum(outstanding_base) from marts.fct_customer_aging where is_overdue"),
        ("mart_overdue_customers.overdue_base = fct_customer_aging.overdue_base (overdue)",
         "select sum(overdue_base) from marts.mart_overdue_customers",
         "select sum(overdue_base) from marts.fct_customer_aging where is_overdue"),
        ("mart_overdue_customers rows = fct_customer_aging overdue customers",
         "select count(*) from marts.mart_overdue_customers",
         "select count(*) from marts.fct_customer_aging where is_overdue"),
        ("mart_collection_strategy.outstanding_base (overdue list) = mart_overdue_customers.outstanding_base",
         "select sum(outstanding_base) from marts.mart_collection_strategy where list_type = 'overdue'",
         "select sum(outstanding_base) from marts.mart_overdue_customers"),
    ]
    totals_sql = "\nunion all\n".join(
        f"select '{measure}' as measure,\n"
        f"    cast(coalesce(({mart}), 0) as double) as mart_total,\n"
        f"    cast(coalesce(({fact}), 0) as double) as fact_total,\n"
        f"    cast(coalesce(({mart}), 0) - coalesce(({fact}), 0) as double) as gap"
        for measure, mart, fact in totals)
    suites.append(Suite(
        name="marts.totals", stage="marts", relation="marts.fct_invoices", optional=False,
        description="Totals of the marts equal the totals of the facts they come from (SQL aggregates, one row "
                    "per measure; gap = mart total - fact total).",
        batches={"totals": Batch("totals", totals_sql, index_columns=("measure",), relations=(
            "marts.fct_invoices", "marts.fct_customer_aging", "marts.mart_overdue_customers",
            "marts.mart_collection_strategy"))},
        expectations=[
            _gap("totals", "gap", "Each mart total equals the fact total it is built from (money to the cent, "
                                  "counts exactly)."),
            expect("expect_table_row_count_to_be_between", "totals", "critical",
                   "Every measure was computed.", min_value=len(totals), max_value=len(totals))]))

    # ---- optional marts: checked when present, skipped with a warning when not ---------------------------
    suites.append(_table_suite(
        "marts.mart_watchlist", "marts",
        ["customer_id", "risk_band", "outstanding_base", "past_due_base", "ability_to_pay_score", "impact_score",
         "priority_score", "warning_score"], ["customer_id"],
        _keys("rows", ["customer_id"], key_why)
        + [_in_set("risk_band", RISK_BANDS, "Risk bands of seed strategy_catalog.")]
        + _scores(["ability_to_pay_score", "impact_score", "priority_score", "warning_score"])
        + _non_negative(["outstanding_base", "past_due_base"], "Money owed is never negative.")
        + [_in_set("is_overdue_in_aging", [False], "The watch list holds customers that are not (yet) overdue.",
                   batch="references")],
        "Customers not overdue whose warning_score reaches the threshold (ranked by it).", optional=True,
        extra_batches={"references": Batch(
            "references",
            "select watch.customer_id, coalesce(aging.is_overdue, false) as is_overdue_in_aging\n"
            "from marts.mart_watchlist as watch\n"
            "left join marts.fct_customer_aging as aging on watch.customer_id = aging.customer_id",
            partition_by=("customer_id",), index_columns=("customer_id",),
            relations=("marts.mart_watchlist", "marts.fct_customer_aging"))}))

    suites.append(_table_suite(
        "marts.dim_customers", "marts", ["customer_id", "customer_name", "is_key_account"], ["customer_id"],
        _keys("rows", ["customer_id"], key_why) + _not_null(["customer_name"], "Every customer has a name."),
        "One row per valid customer.", optional=True))

    portfolio_cols = ["period_end", "is_as_of_date", "customer_count", "customers_with_balance", "overdue_customers",
                      "overdue_customer_rate", "outstanding_base", "overdue_base", "overdue_amount_rate"]
    suites.append(_table_suite(
        "marts.mart_portfolio_monthly", "marts", portfolio_cols, ["period_end"],
        _keys("rows", ["period_end"], "One row per period: a doubled period double counts in every trend.")
        + [expect("expect_column_values_to_be_between", "rows", "critical", "Rates are shares.",
                  column=c, min_value=0, max_value=1) for c in ("overdue_customer_rate", "overdue_amount_rate")]
        + _non_negative(["outstanding_base", "overdue_base"], "Money owed is never negative.")
        + [expect("expect_column_pair_values_a_to_be_greater_than_b", "rows", "critical",
                  "Customers with a balance are among all customers.", column_A="customer_count",
                  column_B="customers_with_balance", or_equal=True),
           expect("expect_column_pair_values_a_to_be_greater_than_b", "rows", "critical",
                  "Overdue customers have a balance.", column_A="customers_with_balance",
                  column_B="overdue_customers", or_equal=True),
           _gap("as_of_totals", "gap", "The as-of period's totals equal fct_customer_aging's."),
           expect("expect_table_row_count_to_be_between", "as_of_totals", "critical",
                  "The as-of date has its period row.", min_value=2, max_value=2)],
        "Portfolio figures per month end plus the as-of date.", optional=True,
        extra_batches={"as_of_totals": Batch(
            "as_of_totals",
            "select 'outstanding_base' as measure,\n"
            "    cast(p.outstanding_base - (select sum(outstanding_base) from marts.fct_customer_aging) as double)\n"
            "        as gap\n"
            "from marts.mart_portfolio_monthly as p where p.is_as_of_date\n"
            "union all\n"
            "select 'overdue_base' as measure,\n"
            "    cast(p.overdue_base - (select sum(overdue_base) from marts.fct_customer_aging) as double) as gap\n"
            "from marts.mart_portfolio_monthly as p where p.is_as_of_date",
            index_columns=("measure",), relations=("marts.mart_portfolio_monthly", "marts.fct_customer_aging"))}))

    # ---- optional marts too large for row-level GX at full scale (customers x dates): SQL aggregates ----
    suites.append(_aggregate_suite(
        "marts.fct_customer_aging_history", ["customer_id", "snapshot_date"],
        [("negative_money_rows", "outstanding_base < 0 or past_due_base < 0 or overdue_base < 0",
          "Money owed is never negative."),
         ("overdue_above_outstanding_rows", "overdue_base > outstanding_base",
          "Overdue is part of outstanding."),
         ("unknown_bucket_rows", f"aging_bucket not in ({_sql_list(buckets)})", "Buckets come from seed aging_buckets.")],
        "Daily/weekly/month-end balance snapshots per customer."))
    suites.append(_aggregate_suite(
        "marts.fct_delinquency_episodes", ["customer_id", "episode_number"],
        [("end_before_start_rows", "episode_end_date < episode_start_date", "An episode ends after it starts."),
         ("negative_peak_rows", "peak_days_past_due < 0 or peak_past_due_base < 0", "Peaks are never negative.")],
        "Spells of a customer being past due."))
    suites.append(_aggregate_suite(
        "marts.fct_overdue_monitoring", ["check_type", "check_date", "customer_id"],
        [("unknown_check_type_rows", "check_type not in ('daily', 'weekly', 'monthly')", "The three check cadences."),
         ("unknown_change_type_rows",
          "change_type not in ('newly_overdue', 'cured', 'worsened', 'improved', 'unchanged')",
          "The five kinds of change.")],
        "Changes of past-due customers between consecutive check dates."))
    suites.append(_aggregate_suite(
        "marts.fct_payment_pattern_changes", ["customer_id"], [],
        "Payment behaviour per customer, baseline against recent window."))
    suites.append(_aggregate_suite(
        "marts.mart_risk_features", ["customer_id", "observation_date"],
        [("unknown_label_rows", "label not in (0, 1)", "The label is 0 or 1 (null while its window is open).")],
        "Risk-model features per customer and observation date."))
    suites.append(_aggregate_suite(
        "marts.mart_credit_actions", ["customer_id"],
        [("unknown_decision_rows", "limit_decision not in ('raise', 'hold', 'cut', 'freeze', 'no_score')",
          "Limit decisions of the documented set."),
         ("negative_limit_rows", "new_credit_limit < 0", "A credit limit is never negative."),
         ("pd_out_of_range_rows", "pd < 0 or pd > 1", "A probability of default is between 0 and 1.")],
        "Credit-limit decision per scored customer."))

    suites.append(_aggregate_suite(
        "marts.fct_strategy_assignments", ["as_of_date", "customer_id"],
        [("unknown_variant_rows", "variant not in ('champion', 'challenger')", "Two arms."),
         ("challenger_without_test_rows", "variant = 'challenger' and test_id is null",
          "A challenger belongs to a test.")],
        "The log of the lists each run issued."))
    suites.append(_aggregate_suite(
        "marts.mart_strategy_effectiveness",
        ["assignment_month", "strategy_code", "coalesce(test_id, '-')", "variant", "segment", "first_action_code"],
        [
         ("cure_rate_30_outside_interval_rows",
          "cure_rate_30 < 0 or cure_rate_30 > 1 or cure_rate_30_low > cure_rate_30 or cure_rate_30 > cure_rate_30_high",
          "cure_rate_30 is a share inside its Wilson interval."),
         ("cure_rate_60_outside_interval_rows",
          "cure_rate_60 < 0 or cure_rate_60 > 1 or cure_rate_60_low > cure_rate_60 or cure_rate_60 > cure_rate_60_high",
          "cure_rate_60 is a share inside its Wilson interval."),
         ("cure_rate_90_outside_interval_rows",
          "cure_rate_90 < 0 or cure_rate_90 > 1 or cure_rate_90_low > cure_rate_90 or cure_rate_90 > cure_rate_90_high",
          "cure_rate_90 is a share inside its Wilson interval."),
         ("promise_kept_rate_outside_interval_rows",
          "promise_kept_rate < 0 or promise_kept_rate > 1 or promise_kept_rate_low > promise_kept_rate or promise_kept_rate > promise_kept_rate_high",
          "promise_kept_rate is a share inside its Wilson interval."),
         ("roll_forward_rate_outside_interval_rows",
          "roll_forward_rate < 0 or roll_forward_rate > 1 or roll_forward_rate_low > roll_forward_rate or roll_forward_rate > roll_forward_rate_high",
          "roll_forward_rate is a share inside its Wilson interval."),
         ("more_observed_than_assigned_rows",
          "cure_30_observed > assignments or cured_30 > cure_30_observed or cured_90 > cure_90_observed "
          "or rolled_forward > roll_forward_observed or promises_kept > promises_due",
          "Successes never exceed trials, trials never exceed assignments."),
         ("mean_outside_bootstrap_rows",
          "mean_recovered_30_low > mean_recovered_30_base + 0.01 or mean_recovered_30_base > mean_recovered_30_high + 0.01",
          "The mean money received lies inside its bootstrap interval.")],
        "What followed the assignments, by month, strategy, arm, segment and first action."))
    suites.append(_aggregate_suite(
        "marts.mart_strategy_tests", ["test_id", "outcome"],
        [("p_value_out_of_range_rows", "p_value < 0 or p_value > 1", "A p-value is a probability."),
         ("difference_outside_interval_rows", "difference_low > difference or difference > difference_high",
          "The difference lies inside its interval."),
         ("called_without_sample_rows",
          "status in ('challenger better', 'champion better', 'no difference') "
          "and least(champion_n, challenger_n) < sample_needed_per_arm",
          "No result is called before both arms have the sample.")],
        "Champion/challenger comparisons per test and outcome."))

    # ---- small optional marts: row-level -----------------------------------------------------------------
    suites.append(_table_suite(
        "marts.fct_roll_rates", "marts",
        ["month_end", "from_bucket", "to_bucket", "customer_count", "count_rate", "balance_rate"],
        ["month_end", "from_bucket", "to_bucket"],
        _keys("rows", ["month_end", "from_bucket", "to_bucket"], key_why)
        + [_in_set("from_bucket", buckets + ["settled"], "Buckets of seed aging_buckets, or settled."),
           _in_set("to_bucket", buckets + ["settled"], "Buckets of seed aging_buckets, or settled."),
           expect("expect_column_values_to_be_between", "rows", "critical", "A share of customers.",
                  column="count_rate", min_value=0, max_value=1)]
        + _non_negative(["customer_count", "balance_rate"], "Counts and balance ratios are never negative."),
        "Movements between aging buckets from one month end to the next.", optional=True))
    type_totals = (
        "with current_types as (\n"
        "    select overdue_type, count(*) as customers, sum(overdue_base) as overdue_base\n"
        "    from marts.mart_overdue_customers group by overdue_type\n"
        "),\n"
        "snapshot as (\n"
        "    select overdue_type, customer_count, overdue_base from marts.fct_overdue_type_snapshots\n"
        "    where as_of_date = (select max(as_of_date) from marts.mart_overdue_customers)\n"
        ")\n"
        "select coalesce(current_types.overdue_type, snapshot.overdue_type) as overdue_type,\n"
        "    cast(coalesce(snapshot.customer_count, 0) - coalesce(current_types.customers, 0) as double)\n"
        "        as customer_count_gap,\n"
        "    cast(coalesce(snapshot.overdue_base, 0) - coalesce(current_types.overdue_base, 0) as double)\n"
        "        as overdue_base_gap\n"
        "from current_types\n"
        "full outer join snapshot on current_types.overdue_type = snapshot.overdue_type")
    suites.append(_table_suite(
        "marts.fct_overdue_type_snapshots", "marts", ["as_of_date", "overdue_type", "customer_count", "overdue_base"],
        ["as_of_date", "overdue_type"],
        _keys("rows", ["as_of_date", "overdue_type"], key_why)
        + [_in_set("overdue_type", OVERDUE_TYPES, "The three overdue types.")]
        + _non_negative(["customer_count", "overdue_base"], "Counts and money are never negative.")
        + [_gap("current", "customer_count_gap", "The as-of date's snapshot counts the customers of "
                                                 "mart_overdue_customers per type."),
           _gap("current", "overdue_base_gap", "The as-of date's snapshot sums the overdue amounts of "
                                               "mart_overdue_customers per type.")],
        "The log of how many customers each run classified into each type.", optional=True,
        extra_batches={"current": Batch("current", type_totals, index_columns=("overdue_type",),
                                        relations=("marts.fct_overdue_type_snapshots",
                                                   "marts.mart_overdue_customers"))}))
    return suites


def all_suites() -> list[Suite]:
    suites = [_raw_suite(spec) for spec in TABLES.values()] + _staging_suites() + _marts_suites()
    for suite in suites:
        suite.check()
    return suites
