"""Fault injection, reading the files (issue 20 item 4 and the apostrophe-in-path item): each broken file fails
at raw validation with a message that says what is wrong and what to do, before anything is built; files that
mean what the contract says (a UTF-8 BOM, Parquet written by pandas defaults, a folder named O'Brien) are read.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from arrears.demo import DemoConfig, generate

from helpers import ROOT, query, run_dbt

VALIDATE = ROOT / "scripts" / "validate.py"
PIPELINE = ROOT / "scripts" / "run_pipeline.py"
DATES = {"customers": ["created_date"], "invoices": ["invoice_date", "due_date"], "payments": ["payment_date"],
         "collection_actions": ["action_date", "promised_date"], "fx_rates": ["rate_date"]}
MODELS_ONLY = ["resource_type:test", "resource_type:unit_test"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("reading") / "raw"
    generate(raw, DemoConfig(customers=40, seed=9))
    return raw


@pytest.fixture
def copy(demo: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(demo, tmp_path / "raw"))


def validate_raw(raw: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(VALIDATE), "--stage", "raw", "--raw-dir", str(raw), "--no-docs"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_a_gb18030_file_is_named_with_its_encoding_and_the_fix(copy: Path, tmp_path: Path) -> None:
    # Would fail if the error said "missing: customer_id, customer_name" instead of naming the encoding.
    path = copy / "customers.csv"
    text = path.read_text(encoding="utf-8").splitlines()
    text[1] = text[1].replace(text[1].split(",")[1], "王芳贸易有限公司", 1)
    path.write_bytes(("\n".join(text) + "\n").encode("gb18030"))
    result = validate_raw(copy)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out[-3000:]
    for words in ("customers.csv is not UTF-8", "line 2", "GB18030", "iconv -f GB18030 -t UTF-8"):
        assert words in out, (words, out[-3000:])
    assert "missing: customer_id" not in out
    # the pipeline stops there: nothing built, nothing published
    db = tmp_path / "pub" / "arrears.duckdb"
    run = subprocess.run([sys.executable, str(PIPELINE), "--raw-dir", str(copy), "--db", str(db),
                          "--out", str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert run.returncode == 1 and "step 'validate_raw' failed" in run.stderr
    assert "[pipeline] build:" not in run.stdout and not db.exists()


def test_a_utf8_byte_order_mark_is_accepted(copy: Path) -> None:
    path = copy / "invoices.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    result = validate_raw(copy)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]


@pytest.mark.parametrize(("delimiter", "named"), [(";", "';' (semicolon)"), ("\t", "TAB")])
def test_another_delimiter_is_named(copy: Path, delimiter: str, named: str) -> None:
    path = copy / "payments.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.to_csv(path, sep=delimiter, index=False)
    result = validate_raw(copy)
    out = result.stdout + result.stderr
    assert result.returncode == 1
    assert f"payments.csv uses {named} as delimiter" in out and "comma" in out, out[-3000:]


def _pandas_parquet(csv_dir: Path, out: Path) -> Path:
    """The folder as pandas writes it by default: dates as timestamps, amounts as float64, counts as int64."""
    out.mkdir()
    for path in csv_dir.glob("*.csv"):
        frame = pd.read_csv(path, parse_dates=DATES.get(path.stem, []))
        frame.to_parquet(out / f"{path.stem}.parquet")
    return out


def test_pandas_default_parquet_builds_the_same_marts_as_the_csv(demo: Path, tmp_path: Path) -> None:
    # Would fail if timestamps at midnight were set aside as invalid_date (every invoice quarantined) or if
    # float amounts lost or gained a cent.
    parquet = _pandas_parquet(demo, tmp_path / "pq")
    kinds = {r[0]: r[1] for r in duckdb.sql(
        f"describe select * from read_parquet('{parquet / 'invoices.parquet'}')").fetchall()}
    assert kinds["invoice_date"].startswith("TIMESTAMP") and kinds["amount"] == "DOUBLE", kinds
    assert validate_raw(parquet).returncode == 0
    results = {}
    for name, raw in (("csv", demo), ("parquet", parquet)):
        db = tmp_path / f"{name}.duckdb"
        run_dbt("build", db=db, raw_dir=raw, exclude=MODELS_ONLY,
                extra_vars={"raw_format": "parquet" if name == "parquet" else "csv", "run_date": "2026-11-02"})
        results[name] = {
            "quarantine": query(db, "select source_table, reason_code, count(*) from staging.stg_quarantine "
                                    "group by all order by all"),
            "invoices": query(db, "select * from marts.fct_invoices order by invoice_id"),
            "aging": query(db, "select * from marts.fct_customer_aging order by customer_id"),
            "overdue": query(db, "select customer_id, overdue_type, priority_rank from marts.mart_overdue_customers "
                                 "order by customer_id"),
        }
    assert results["parquet"] == results["csv"]


def test_a_timestamp_with_a_time_in_a_date_column_is_set_aside(demo: Path, tmp_path: Path) -> None:
    parquet = _pandas_parquet(demo, tmp_path / "pq")
    frame = pd.read_parquet(parquet / "payments.parquet")
    frame.loc[0, "payment_date"] = frame.loc[0, "payment_date"] + pd.Timedelta(hours=13)
    frame.to_parquet(parquet / "payments.parquet")
    db = tmp_path / "w.duckdb"
    run_dbt("build", db=db, raw_dir=parquet, exclude=MODELS_ONLY,
            extra_vars={"raw_format": "parquet", "run_date": "2026-11-02"})
    assert ("payments", "invalid_date") in {(t, r) for t, r in query(
        db, "select source_table, reason_code from staging.stg_quarantine")}


@pytest.mark.parametrize(("column", "sql_type", "named"), [
    ("amount", "integer[]", "amount (INTEGER[]"),
    ("invoice_date", "boolean", "invoice_date (BOOLEAN"),
])
def test_an_unusable_parquet_column_is_named_before_the_build(demo: Path, tmp_path: Path, column: str,
                                                                sql_type: str, named: str) -> None:
    parquet = _pandas_parquet(demo, tmp_path / "pq")
    target = parquet / "invoices.parquet"
    value = "[1]" if sql_type.endswith("[]") else "true"
    literal = str(target).replace("'", "''")
    duckdb.sql(f"copy (select * replace (cast({value} as {sql_type}) as {column}) from read_parquet('{literal}')) "
               f"to '{literal}.new' (format parquet)")
    Path(f"{target}.new").replace(target)
    result = validate_raw(parquet)
    out = result.stdout + result.stderr
    assert result.returncode == 1
    assert "invoices.parquet has column(s) of a type the contract cannot read" in out and named in out, out[-3000:]


def test_an_apostrophe_in_the_folder_name_builds(demo: Path, tmp_path: Path) -> None:
    # Would fail with a SQL parser error: the path went into SQL unquoted.
    raw = Path(shutil.copytree(demo, tmp_path / "O'Brien & Co" / "raw"))
    db = tmp_path / "O'Brien & Co" / "w.duckdb"
    run_dbt("build", db=db, raw_dir=raw, exclude=MODELS_ONLY)
    assert query(db, "select count(*) from staging.stg_customers")[0][0] == 40
    assert validate_raw(raw).returncode == 0
