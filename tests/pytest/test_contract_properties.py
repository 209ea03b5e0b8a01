"""Property: contract-valid input never stops a run (issue 14 item 1).

Each example is a contract-valid folder drawn by contract_strategies.contract_folders() (1-200 customers,
optional columns empty or absent, optional tables absent, every allowed value, CSV or Parquet, any table
as a folder of loads with superseded older versions). For each:
  - scripts/run_pipeline.py exits 0 (steps validate_raw,build,validate_marts for drawn examples: the steps
    that read the input; the full pipeline for the hand-written edge cases in test_full_pipeline_edge_cases),
  - every table conserves rows: rows written = staged + set aside (stg_quarantine), counted here in Python,
  - money is conserved per customer and currency: invoiced = paid (allocated) + outstanding in fct_invoices,
    with 0 <= paid <= amount per document, and unapplied credit never negative,
  - every boolean column of every mart (found through information_schema) is true or false, never null.

Examples: env ARREARS_PROPERTY_EXAMPLES (default 2 in CI, derandomized so CI is reproducible); a longer
mode is e.g. ARREARS_PROPERTY_EXAMPLES=200. The number run is printed.
"""
from __future__ import annotations

import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings

import contract_strategies as cs
from helpers import ROOT, log_measured, query

EXAMPLES = int(os.environ.get("ARREARS_PROPERTY_EXAMPLES", "2"))
PYTHON = ROOT / ".venv" / "bin" / "python"
_RUN = Counter()


def _has_option(option: str) -> bool:
    out = subprocess.run([str(PYTHON), str(ROOT / "scripts" / "run_pipeline.py"), "--help"],
                         capture_output=True, text=True).stdout
    return option in out


def run_pipeline(folder: cs.ContractFolder, work: Path, steps: str | None) -> Path:
    """Write `folder`, run the pipeline on it and return the DuckDB file the build wrote."""
    raw = folder.write(work / "raw")
    db = work / "arrears.duckdb"
    cmd = [str(PYTHON), str(ROOT / "scripts" / "run_pipeline.py"), "--raw-dir", str(raw), "--db", str(db),
           "--out", str(work / "out"), "--as-of", cs.AS_OF.isoformat()]
    if _has_option("--run-date"):
        cmd += ["--run-date", cs.AS_OF.isoformat()]
    if steps:
        cmd += ["--steps", steps]
    env = dict(os.environ, DO_NOT_TRACK="1")
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1200)
    assert result.returncode == 0, (
        f"pipeline exited {result.returncode} on a contract-valid folder ({folder.describe()}):\n"
        f"{(result.stdout + result.stderr)[-6000:]}")
    build_db = work / f"{db.name}.work" / db.name
    return db if db.exists() and not build_db.exists() else build_db


def check_invariants(folder: cs.ContractFolder, db: Path) -> None:
    # Rows: written = staged + quarantined, per table (an absent table counts 0).
    quarantined = dict(query(db, "select source_table, count(*) from staging.stg_quarantine group by 1"))
    for table in ("customers", "invoices", "payments", "collection_actions", "fx_rates"):
        written = len(folder.tables.get(table, []))
        staged = query(db, f"select count(*) from staging.stg_{table}")[0][0]
        assert written == staged + quarantined.get(table, 0), (
            f"{table}: {written} rows written, {staged} staged + {quarantined.get(table, 0)} set aside")

    # Money: per customer and currency, invoiced = paid + outstanding; per document 0 <= paid <= amount.
    broken = query(db, """
        select customer_id, currency, sum(amount), sum(paid_amount), sum(outstanding_amount)
        from marts.fct_invoices
        group by customer_id, currency
        having sum(amount) <> sum(paid_amount) + sum(outstanding_amount)""")
    assert not broken, f"money not conserved (customer, currency, invoiced, paid, outstanding): {broken[:5]}"
    bad_docs = query(db, """
        select invoice_id, amount, paid_amount from marts.fct_invoices
        where paid_amount < 0 or paid_amount > amount""")
    assert not bad_docs, f"documents paid below 0 or beyond their amount: {bad_docs[:5]}"
    negative_credit = query(db, "select customer_id, unapplied_credit from intermediate.int_customer_credit "
                                "where unapplied_credit < 0")
    assert not negative_credit, f"negative unapplied credit: {negative_credit[:5]}"

    # Flags: every boolean column of every mart is true or false.
    columns = query(db, """
        select table_name, column_name from information_schema.columns
        where table_schema = 'marts' and data_type = 'BOOLEAN' order by 1, 2""")
    assert columns, "no boolean mart column found: information_schema query is wrong"
    nulls = []
    for table, column in columns:
        n = query(db, f'select count(*) from marts."{table}" where "{column}" is null')[0][0]
        if n:
            nulls.append(f"{table}.{column}: {n} null")
    assert not nulls, "null mart flags: " + "; ".join(nulls)


# No shrinking: each example is a pipeline run; a failure reports the drawn folder as it is (describe()).
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate], report_multiple_bugs=False,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(folder=cs.contract_folders())
def test_contract_valid_folder_never_stops_a_run(folder: cs.ContractFolder, tmp_path_factory) -> None:
    work = tmp_path_factory.mktemp("prop")
    _RUN["examples"] += 1
    db = run_pipeline(folder, work, steps="validate_raw,build,validate_marts")
    check_invariants(folder, db)


@pytest.mark.parametrize("make", [cs.all_optional_empty, cs.no_contact_log_no_fx, cs.credit_notes_only,
                                  cs.delivered_in_loads],
                         ids=["all_optional_empty", "no_contact_log_no_fx", "credit_notes_only", "delivered_in_loads"])
def test_full_pipeline_edge_cases(make, tmp_path: Path) -> None:
    folder = make()
    _RUN["examples"] += 1
    db = run_pipeline(folder, tmp_path, steps=None)
    check_invariants(folder, db)


def teardown_module(module) -> None:
    log_measured(f"contract property tests: {_RUN['examples']} examples run "
                 f"(ARREARS_PROPERTY_EXAMPLES={EXAMPLES})")
