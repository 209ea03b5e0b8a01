"""scripts/validate.py end to end: clean data passes, each class of corruption fails the right expectation.

The CLI runs as a subprocess (as the pipeline runs it). Raw-stage tests corrupt copies of a small generated
contract folder; staging and marts tests tamper with a copy of one small built warehouse (the session's demo
build when scripts/generate_demo_data.py exists, else one built here), so no test needs its own dbt build.
Everything is written under pytest's temporary folders.
"""
from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from helpers import ROOT, run_dbt

VALIDATE = ROOT / "scripts" / "validate.py"
CUSTOMERS = 200


def validate(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ARREARS_VALIDATION_THREADS="1")
    return subprocess.run([sys.executable, str(VALIDATE), *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def failed_line(result: subprocess.CompletedProcess[str], severity: str, expectation: str, rule: str) -> str:
    """The summary line of a failed expectation, e.g. ('critical', 'expect_column_values_to_be_unique',
    'invoice_id is unique'); fails the test when absent."""
    pattern = re.compile(rf"x {severity}\s+{re.escape(expectation)} \({re.escape(rule)}\)")
    for line in result.stdout.splitlines():
        if pattern.search(line):
            return line
    raise AssertionError(f"no failed {severity} {expectation} ({rule}) in:\n{output(result)}")


# ---- data -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def clean_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from arrears.demo import DemoConfig, generate

    out = tmp_path_factory.mktemp("validation_raw") / "raw"
    generate(out, DemoConfig(customers=CUSTOMERS, seed=11), truth_path=out.parent / "truth" / "truth.csv")
    return out


@pytest.fixture()
def raw_copy(clean_raw: Path, tmp_path: Path) -> Path:
    target = tmp_path / "raw"
    shutil.copytree(clean_raw, target)
    return target


@pytest.fixture(scope="module")
def warehouse(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean built warehouse file (never modified: tests tamper with copies)."""
    if (ROOT / "scripts" / "generate_demo_data.py").exists():
        return request.getfixturevalue("demo_build").db
    from arrears.demo import DemoConfig, generate

    work = tmp_path_factory.mktemp("validation_build")
    generate(work / "raw", DemoConfig(customers=CUSTOMERS, seed=11), truth_path=work / "truth" / "truth.csv")
    db = work / "warehouse.duckdb"
    run_dbt("build", db=db, raw_dir=work / "raw")
    return db


@pytest.fixture()
def db_copy(warehouse: Path, tmp_path: Path) -> Path:
    # same file name: dbt-duckdb views name their catalog, which DuckDB takes from the file name
    target = tmp_path / warehouse.name
    shutil.copyfile(warehouse, target)
    return target


def tamper(db: Path, *statements: str) -> None:
    with duckdb.connect(str(db)) as con:
        for sql in statements:
            con.execute(sql)


def rewrite_csv(path: Path, edit, drop: str | None = None) -> None:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    fields = [f for f in rows[0] if f != drop]
    rows = edit(rows)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


# ---- raw stage ---------------------------------------------------------------------------------------------
def test_clean_raw_passes_and_builds_offline_data_docs(clean_raw: Path, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    result = validate("--db", tmp_path / "absent.duckdb", "--raw-dir", clean_raw, "--stage", "raw",
                      "--docs-dir", docs)
    assert result.returncode == 0, output(result)
    for table in ("customers", "invoices", "payments", "collection_actions", "fx_rates"):
        assert re.search(rf"^PASS  raw\.{table}: (\d+)/\1 expectations passed", result.stdout, re.M), output(result)
    assert "OK: no critical expectation failed" in result.stdout
    # Data Docs: an index, one page per suite, nothing loaded from the network, every local asset present
    assert (docs / "index.html").is_file()
    pages = list((docs / "validations").rglob("*.html"))
    assert len(pages) == 5, pages
    remote = re.compile(r"<link\b[^>]*href=[\"'](?:https?:)?//[^>]*>|<script\b[^>]*src=[\"'](?:https?:)?//[^>]*>",
                        re.I)
    for page in [docs / "index.html", *pages, *(docs / "expectations").rglob("*.html")]:
        text = page.read_text(encoding="utf-8")
        assert not remote.findall(text), (page, remote.findall(text)[:3])
        for ref in re.findall(r"<(?:link|script)\b[^>]*(?:href|src)=[\"']([^\"'#]+)[\"']", text):
            assert (page.parent / ref).resolve().is_file(), (page, ref)
    assert "bootstrap" in (docs / "index.html").read_text(encoding="utf-8")
    assert not os.path.exists(tmp_path / "absent.duckdb"), "the raw stage must not create the database"


def test_raw_row_level_corruption_warns_and_names_the_expectation(raw_copy: Path, tmp_path: Path) -> None:
    """Duplicate keys, a negative amount and an unknown code in raw are quarantined by staging: warnings, exit 0.
    Chunked into several frames, the duplicate (split by key partitions, never across chunks) is still found."""
    def corrupt(rows: list[dict]) -> list[dict]:
        rows[3]["amount"] = "-12.50"
        rows[5]["document_type"] = "bogus"
        return rows + [dict(rows[10])]

    with (raw_copy / "invoices.csv").open(newline="", encoding="utf-8") as fh:
        dup_id = list(csv.DictReader(fh))[10]["invoice_id"]
    rewrite_csv(raw_copy / "invoices.csv", corrupt)
    result = validate("--db", tmp_path / "x.duckdb", "--raw-dir", raw_copy, "--stage", "raw", "--no-docs",
                      "--suites", "raw.invoices", "--chunk-rows", "1000")
    assert result.returncode == 0, output(result)
    assert re.search(r"rows [\d,]+ rows in \d+ chunks", result.stdout), "expected several chunks"
    after = lambda line: result.stdout.split(line, 1)[1].splitlines()[1]  # noqa: E731 - the "e.g." line
    line = failed_line(result, "warning", "expect_column_values_to_be_unique", "invoice_id is unique")
    assert "2 of" in line and f"{dup_id} x2" in after(line)
    line = failed_line(result, "warning", "expect_column_values_to_be_between", "amount__decimal > 0")
    assert "amount__decimal=-12.5" in after(line)
    line = failed_line(result, "warning", "expect_column_values_to_be_in_set",
                       "document_type in {invoice, credit_note}")
    assert "document_type=bogus" in after(line)
    assert "WARN  raw.invoices" in result.stdout and "OK: no critical expectation failed" in result.stdout


def test_raw_missing_required_column_is_critical(raw_copy: Path, tmp_path: Path) -> None:
    rewrite_csv(raw_copy / "invoices.csv", lambda rows: rows, drop="amount")
    result = validate("--db", tmp_path / "x.duckdb", "--raw-dir", raw_copy, "--stage", "raw", "--no-docs")
    assert result.returncode == 1, output(result)
    line = failed_line(result, "critical", "expect_table_columns_to_match_set",
                       "columns include invoice_id, customer_id, invoice_date, due_date, amount")
    assert "missing: amount" in line
    assert re.search(r"CRITICAL: .*\n  - raw\.invoices: expect_table_columns_to_match_set", result.stderr)


def test_raw_missing_files(raw_copy: Path, tmp_path: Path) -> None:
    """A required file missing stops the run; an optional one is skipped with a printed warning."""
    (raw_copy / "collection_actions.csv").unlink()
    result = validate("--db", tmp_path / "x.duckdb", "--raw-dir", raw_copy, "--stage", "raw", "--no-docs")
    assert result.returncode == 0, output(result)
    assert re.search(r"^WARN  raw\.collection_actions: skipped, no collection_actions\.csv", result.stdout, re.M)
    (raw_copy / "payments.csv").unlink()
    result = validate("--db", tmp_path / "x.duckdb", "--raw-dir", raw_copy, "--stage", "raw", "--no-docs")
    assert result.returncode == 1, output(result)
    assert "no payments.csv or payments.parquet" in result.stdout
    failed_line(result, "critical", "expect_table_columns_to_match_set",
                "columns include payment_id, customer_id, payment_date, amount")


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert validate("--db", tmp_path / "none.duckdb", "--stage", "marts").returncode == 2
    assert validate("--db", tmp_path / "none.duckdb", "--stage", "raw").returncode == 2      # no --raw-dir
    assert validate("--db", tmp_path / "none.duckdb", "--stage", "sideways").returncode == 2
    result = validate("--db", tmp_path / "none.duckdb", "--stage", "marts")
    assert "does not exist" in result.stderr


# ---- staging and marts on a clean build ----------------------------------------------------------------
CORE_MARTS = ("marts.fct_invoices", "marts.fct_customer_aging", "marts.mart_overdue_customers",
              "marts.mart_collection_strategy", "marts.totals")


@pytest.fixture(scope="module")
def clean_run(warehouse: Path,
              tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], bytes, bytes]:
    """One run of every staging and marts suite on the clean build (with Data Docs), and the file's bytes
    before and after it."""
    before = warehouse.read_bytes()
    result = validate("--db", warehouse, "--stage", "staging,marts",
                      "--docs-dir", tmp_path_factory.mktemp("validation_docs") / "docs")
    return result, before, warehouse.read_bytes()


def test_clean_staging_passes(clean_run) -> None:
    result = clean_run[0]
    for table in ("customers", "invoices", "payments", "collection_actions", "fx_rates", "quarantine"):
        assert re.search(rf"^PASS  staging\.stg_{table}: (\d+)/\1 expectations passed", result.stdout, re.M), \
            output(result)


def test_clean_core_marts_pass(clean_run) -> None:
    result = clean_run[0]
    for suite in CORE_MARTS:
        assert re.search(rf"^PASS  {re.escape(suite)}: (\d+)/\1 expectations passed", result.stdout, re.M), \
            output(result)


def test_all_marts_pass(clean_run) -> None:
    """Every suite, optional marts included, passes on a clean build (exit 0)."""
    result = clean_run[0]
    assert result.returncode == 0, output(result)


def test_validation_opens_the_warehouse_read_only(clean_run) -> None:
    """Validation must never write the warehouse (it is opened read_only=True; the file stays byte-identical)."""
    _, before, after = clean_run
    assert before == after


def test_too_many_quarantined_rows_is_critical(db_copy: Path) -> None:
    """10% of the invoices set aside (consistently: checked table and quarantine agree) is over 5%."""
    tamper(db_copy,
           "create temp table picked as select invoice_id from staging.stg_invoices_checked "
           "where reason_code is null using sample 10 percent (bernoulli, 42)",
           "update staging.stg_invoices_checked set reason_code = 'non_positive_amount' "
           "where invoice_id in (select invoice_id from picked)",
           "insert into staging.stg_quarantine (source_table, record_key, reason_code, raw_row) "
           "select 'invoices', invoice_id, 'non_positive_amount', 'tampered' from picked")
    result = validate("--db", db_copy, "--stage", "staging", "--no-docs", "--suites", "staging.stg_quarantine")
    assert result.returncode == 1, output(result)
    line = failed_line(result, "critical", "expect_column_values_to_be_between",
                       "quarantined_share >= 0 and <= $quarantine_tolerance=0.05")
    assert "1 of 5 rows" in line
    assert "source_table=invoices" in result.stdout
    assert "raw_rows = accounted_rows" not in result.stdout, "conservation still holds: it must not fail"
    relaxed = validate("--db", db_copy, "--stage", "staging", "--no-docs", "--suites", "staging.stg_quarantine",
                       "--quarantine-tolerance", "0.5")
    assert relaxed.returncode == 0, output(relaxed)


def test_negative_staged_amount_is_critical(db_copy: Path) -> None:
    tamper(db_copy, "update staging.stg_invoices_checked set amount = -amount "
                    "where invoice_id = (select min(invoice_id) from staging.stg_invoices)")
    result = validate("--db", db_copy, "--stage", "staging", "--no-docs", "--suites", "staging.stg_invoices")
    assert result.returncode == 1, output(result)
    failed_line(result, "critical", "expect_column_values_to_be_between", "amount > 0")


# ---- marts stage: tampered copies ------------------------------------------------------------------------
def test_duplicate_keys_in_a_mart_are_critical(db_copy: Path) -> None:
    tamper(db_copy, "insert into marts.mart_overdue_customers select * from marts.mart_overdue_customers limit 1")
    result = validate("--db", db_copy, "--stage", "marts", "--no-docs", "--suites", "marts.mart_overdue_customers",
                      "--chunk-rows", "7")
    assert result.returncode == 1, output(result)
    line = failed_line(result, "critical", "expect_column_values_to_be_unique", "customer_id is unique")
    assert "2 of" in line


def test_unknown_codes_in_marts_are_critical(db_copy: Path) -> None:
    tamper(db_copy,
           "update marts.mart_overdue_customers set overdue_type = 'grumpy' "
           "where customer_id = (select min(customer_id) from marts.mart_overdue_customers)",
           "update marts.mart_collection_strategy set strategy_code = 'NO_SUCH' "
           "where customer_id = (select min(customer_id) from marts.mart_collection_strategy)")
    result = validate("--db", db_copy, "--stage", "marts", "--no-docs",
                      "--suites", "marts.mart_overdue_customers,marts.mart_collection_strategy")
    assert result.returncode == 1, output(result)
    failed_line(result, "critical", "expect_column_values_to_be_in_set",
                "overdue_type in {temporary, chronic, stubborn}")
    assert "overdue_type=grumpy" in result.stdout
    failed_line(result, "critical", "expect_column_values_to_be_in_set", "strategy_code in {TMP_CARE, TMP_GRACE, "
                "TMP_RELIEF, CHR_PLAN, CHR_RESTRUCTURE, CHR_WORKOUT, STB_INTENSIVE, STB_ESCALATE, ...}")
    assert "strategy_code=NO_SUCH" in result.stdout


def test_broken_reconciliation_is_critical(db_copy: Path) -> None:
    """One invoice whose paid + outstanding no longer add up to its amount, and one customer whose
    outstanding no longer equals its invoices': caught per invoice, per customer and in the totals."""
    tamper(db_copy,
           # fct_invoices is a view over int_invoice_settlement: the broken figure goes there
           "update intermediate.int_invoice_settlement set paid_amount = paid_amount + 10 "
           "where invoice_id = (select min(invoice_id) from intermediate.int_invoice_settlement)",
           "update marts.fct_customer_aging set outstanding_base = outstanding_base + 100 "
           "where customer_id = (select min(customer_id) from marts.fct_customer_aging where outstanding_base > 0)")
    result = validate("--db", db_copy, "--stage", "marts", "--no-docs",
                      "--suites", "marts.fct_invoices,marts.fct_customer_aging,marts.totals")
    assert result.returncode == 1, output(result)
    assert "1 of" in failed_line(result, "critical", "expect_column_values_to_be_between",
                                 "reconciliation_gap >= -0.005 and <= 0.005")
    failed_line(result, "critical", "expect_column_values_to_be_between",
                "invoiced_allocated_outstanding_gap >= -0.005 and <= 0.005")
    failed_line(result, "critical", "expect_column_values_to_be_between",
                "outstanding_base_gap >= -0.005 and <= 0.005")
    totals = failed_line(result, "critical", "expect_column_values_to_be_between", "gap >= -0.005 and <= 0.005")
    assert "measure=fct_customer_aging.outstanding_base = fct_invoices.outstanding_base" in result.stdout, totals


def test_missing_core_mart_is_critical_missing_optional_mart_is_skipped(db_copy: Path) -> None:
    tamper(db_copy, "drop table marts.mart_watchlist")
    result = validate("--db", db_copy, "--stage", "marts", "--no-docs", "--suites", "marts.mart_watchlist")
    assert result.returncode == 0, output(result)
    assert re.search(r"^WARN  marts\.mart_watchlist: skipped, marts\.mart_watchlist is not in ", result.stdout, re.M)
    tamper(db_copy, "drop table marts.mart_collection_strategy")
    result = validate("--db", db_copy, "--stage", "marts", "--no-docs", "--suites", ",".join(CORE_MARTS))
    assert result.returncode == 1, output(result)
    assert re.search(r"FAIL  marts\.mart_collection_strategy", result.stdout), output(result)
    assert "marts.mart_collection_strategy is not in" in result.stdout


def test_unchecked_input_of_a_check_is_critical(db_copy: Path) -> None:
    """A check that cannot run because a table without a suite of its own is missing (here the strategy
    catalog seed) fails critically: nothing else would report it, and the gate cannot vouch for the data."""
    tamper(db_copy, "drop table reference.strategy_catalog")
    result = validate("--db", db_copy, "--stage", "marts", "--no-docs", "--suites", "marts.mart_collection_strategy")
    assert result.returncode == 1, output(result)
    line = failed_line(result, "critical", "expect_column_values_to_be_in_set", "matches_catalog in {True}")
    assert "not run: reference.strategy_catalog is not in" in line
