"""The same dbt project on PostgreSQL and on Spark gives the DuckDB build's marts, row for row.

If the engine tests fail, a model or macro is not portable (it fails on that engine, or computes a different
figure there: a cent of rounding, a float beyond 1e-9, a changed rank or date). If the comparison tests fail,
arrears.engines.compare would let such a difference through.

The engine tests need .venv-engines and a PostgreSQL server (bash scripts/ci/setup_engines.sh builds both);
without .venv-engines they skip, unless ARREARS_REQUIRE_ENGINES=1 (CI), where anything missing is a failure.
They build one small seeded demo dataset (150 customers, seed 7) on DuckDB, then on each engine: load the
contract folder into schema `raw` (arrears.engines.load), `dbt build`, compare every table of `marts`
(arrears.engines.compare). The bad-input fixture (tests/fixtures/bad_input, a row for every quarantine
reason) is also built up to staging on each engine and staging compared, so typing and quarantine agree.
Build times are printed. What runs where:
  * DuckDB (reference): seeds and models; its tests run in the rest of the suite.
  * PostgreSQL: everything (`dbt build`: seeds, models, data tests and unit tests).
  * Spark (dbt-spark `session`, local pyspark): seeds and models (each dbt test is a Spark job of a few
    seconds: the ~600 data tests alone would take longer than the whole CI budget allows).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

import arrears.engines.compare as compare_engines

from helpers import ROOT, log_measured, run_dbt

ENGINES_VENV = ROOT / ".venv-engines"
ENGINES_PY = ENGINES_VENV / "bin" / "python"
ENGINES_DBT = ENGINES_VENV / "bin" / "dbt"
REQUIRED = os.environ.get("ARREARS_REQUIRE_ENGINES") == "1"
CUSTOMERS, SEED = "150", "7"




# --- the comparison itself (no engine needed) -------------------------------------------------------------

def _table(columns, rows):
    return compare_engines.Table(columns, rows)


def test_compare_accepts_equal_tables_in_any_order_and_notation() -> None:
    ref = _table(["customer_id", "amount", "ratio", "as_of"],
                 [("C1", Decimal("1.50"), 0.1 + 0.2, dt.date(2026, 1, 31)), ("C2", Decimal("2.00"), None, None)])
    other = _table(["CUSTOMER_ID", "amount", "ratio", "as_of"],
                   [("C2", Decimal("2"), None, None), ("C1", Decimal("1.5"), 0.3, dt.date(2026, 1, 31))])
    assert compare_engines.compare_table("t", ref, other, "postgres") == []


def test_compare_reports_a_cent_a_float_a_date_and_a_missing_row() -> None:
    ref = _table(["customer_id", "amount", "ratio", "as_of"],
                 [("C1", Decimal("1.50"), 0.5, dt.date(2026, 1, 31)), ("C2", Decimal("2.00"), 1.0, dt.date(2026, 2, 28)),
                  ("C3", Decimal("3.00"), 1.0, dt.date(2026, 2, 28))])
    other = _table(["customer_id", "amount", "ratio", "as_of"],
                   [("C1", Decimal("1.51"), 0.5 * (1 + 1e-8), dt.date(2026, 1, 31)),
                    ("C2", Decimal("2.00"), 1.0, dt.date(2026, 3, 1))])
    problems = "\n".join(compare_engines.compare_table("t", ref, other, "spark"))
    assert "row count: 3 on duckdb, 2 on spark" in problems
    assert "key: customer_id" in problems
    assert "amount: duckdb 1.50 vs spark 1.51" in problems
    assert "ratio:" in problems
    assert "as_of: duckdb 2026-02-28 vs spark 2026-03-01" in problems
    assert "[customer_id='C3'] 1 row(s) on duckdb, 0 on spark" in problems


def test_compare_reports_kind_changes_and_null_against_value() -> None:
    ref = _table(["k", "flag", "n"], [("a", True, 1), ("b", False, None)])
    other = _table(["k", "flag", "n"], [("a", "true", 1), ("b", "false", 0)])
    problems = "\n".join(compare_engines.compare_table("t", ref, other, "postgres"))
    assert "column flag: boolean on duckdb, text on postgres" in problems
    assert "n: duckdb null vs postgres 0" in problems


def test_compare_flags_absent_tables_unless_allowed() -> None:
    ref = {"a": _table(["k"], [(1,)]), "scores": _table(["k"], [(1,)])}
    other = {"a": _table(["k"], [(1,)])}
    notes, problems = compare_engines.compare(ref, other, "spark", allow_missing=set())
    assert problems == {"scores": ["absent on spark"]}
    notes, problems = compare_engines.compare(ref, other, "spark", allow_missing={"scores"})
    assert problems == {} and any("scores: absent on spark (allowed" in n for n in notes)


def test_compare_leaves_out_the_records_of_dbt_invocations() -> None:
    """`<model>__run` and the like hold the id of the dbt invocation that built a model: different on each engine
    (and absent on Spark), so not a difference; a table merely ending in `run` is compared."""
    ref = {"stg_invoices_checked__run": _table(["invocation_id"], [("a",)]),
           "stg_payments_checked__invoices_run": _table(["invocation_id"], [("a",)]),
           "rerun": _table(["k"], [(1,)])}
    other = {"stg_invoices_checked__run": _table(["invocation_id"], [("b",)]), "rerun": _table(["k"], [(2,)])}
    notes, problems = compare_engines.compare(ref, other, "postgres", allow_missing=set())
    assert list(problems) == ["rerun"], problems
    assert sum("not compared" in n for n in notes) == 2, notes


# --- the engines --------------------------------------------------------------------------------------------

def _need(condition: bool, reason: str) -> None:
    """Skip for `reason`, or fail when CI requires the engines (ARREARS_REQUIRE_ENGINES=1)."""
    if condition:
        return
    if REQUIRED:
        pytest.fail(f"ARREARS_REQUIRE_ENGINES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


ENGINE_NOISE = re.compile(r"^\d\d/\d\d/\d\d \d\d:\d\d:\d\d (WARN|INFO) ")


def _failure_output(result: subprocess.CompletedProcess) -> str:
    """What a person needs from a failed run: dbt's own error lines (stdout) first, then the tail of stderr
    without Spark's WARN/INFO chatter (a failed Spark build used to show 60 lines of session warnings only)."""
    stdout = result.stdout or ""
    errors = [line for line in stdout.splitlines()
              if re.search(r"\b(Error|ERROR|error|Failure|FAIL|Exception)\b", line)]
    stderr = [line for line in (result.stderr or "").splitlines() if not ENGINE_NOISE.match(line)]
    return ("dbt error lines:\n" + _tail("\n".join(errors), 80) + "\n--- stdout tail:\n" + _tail(stdout, 40)
            + "\n--- stderr (engine chatter removed):\n" + _tail("\n".join(stderr), 40))


def _run(cmd: list[str], env: dict[str, str], what: str, timeout: float) -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    try:
        result = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{what} did not finish within {timeout:.0f}s:\n{_tail(str(exc.stdout or '') + str(exc.stderr or ''))}",
                    pytrace=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        pytest.fail(f"{what} exited {result.returncode} after {elapsed:.0f}s:\n{_failure_output(result)}",
                    pytrace=False)
    return result, elapsed


def _report(line: str) -> None:
    log_measured(f"[cross-engine] {line}")


STAGING_ONLY = ["--select", "+path:models/staging", "--exclude-resource-type", "test",
                "--exclude-resource-type", "unit_test"]


def _generate(work: Path) -> Path:
    raw = work / "raw"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "generate_demo_data.py"), "--customers", CUSTOMERS,
                    "--seed", SEED, "--out", str(raw), "--truth", str(work / "truth" / "customer_truth.csv"),
                    "--quiet"], cwd=ROOT, check=True, capture_output=True, text=True)
    return raw


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The demo dataset and its DuckDB build (seeds and models)."""
    _need(ENGINES_PY.exists() and ENGINES_DBT.exists(),
          f"{ENGINES_VENV} is missing: run `bash scripts/ci/setup_engines.sh` (CI sets ARREARS_REQUIRE_ENGINES=1)")
    work = tmp_path_factory.mktemp("cross_engine")
    raw = _generate(work)
    db = work / "reference.duckdb"
    started = time.perf_counter()
    run_dbt(["build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"],
            db=db, raw_dir=raw, timeout=900)
    return {"work": work, "raw": raw, "db": db, "seconds": time.perf_counter() - started}


def _engine_env(target: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"DO_NOT_TRACK": "1", "ARREARS_HOME": str(ROOT), "ARREARS_TARGET": target})
    return env


def _load_build_compare(raw: Path, duckdb_file: Path, work: Path, target: str, env: dict[str, str],
                        dbt_args: list[str], schema: str, timeout: float) -> dict:
    """Load `raw` into the engine, dbt build there, compare `schema` with the DuckDB file; fail on any problem."""
    work.mkdir(parents=True, exist_ok=True)
    _, load_s = _run([str(ENGINES_PY), "-m", "arrears.engines.load", "--target", target, "--raw-dir", str(raw)],
                     env, f"arrears-load-raw --target {target} --raw-dir {raw}", timeout)
    cmd = [str(ENGINES_DBT), "build", *dbt_args, "--project-dir", str(ROOT), "--profiles-dir", str(ROOT),
           "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
           "--vars", json.dumps({"raw_dir": str(raw)})]
    built, build_s = _run(cmd, env, f"dbt build on {target}", timeout)
    report_file = work / f"compare_{schema}.json"
    compared, compare_s = _run([str(ENGINES_PY), "-m", "arrears.engines.compare", "--duckdb", str(duckdb_file),
                                "--target", target, "--schema", schema, "--json", str(report_file)],
                               env, f"arrears-compare-engines duckdb vs {target} ({schema})", timeout)
    report = json.loads(report_file.read_text())
    assert report["equal"] and not report["problems"] and report["compared"] >= 1, compared.stdout
    summary = next((line for line in built.stdout.splitlines() if "Done. PASS=" in line), "")
    return {"load": load_s, "build": build_s, "compare": compare_s, "summary": summary.split("Done. ")[-1].strip(),
            "result": _tail(compared.stdout, 1)}


def _postgres_database(env: dict[str, str]):
    """A throwaway PostgreSQL database (schemas have fixed names, so two runs must not share one)."""
    probe = subprocess.run([str(ENGINES_PY), "-c", "from arrears.engines import pg_connect; pg_connect().close()"],
                           env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    _need(probe.returncode == 0, "PostgreSQL is not reachable with the `postgres` target's settings "
                                 f"(run `bash scripts/ci/setup_engines.sh`): {_tail(probe.stderr, 3)}")
    admin = ("import sys, psycopg2; from arrears.engines import pg_settings; c = psycopg2.connect(**pg_settings()); "
             "c.autocommit = True; c.cursor().execute(sys.argv[1]); c.close()")
    database = f"arrears_xe_{uuid.uuid4().hex[:8]}"
    _run([str(ENGINES_PY), "-c", admin, f'create database "{database}"'], env, "create database", 120)

    def drop() -> None:
        subprocess.run([str(ENGINES_PY), "-c", admin, f'drop database if exists "{database}"'],
                       env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    return database, drop


def test_postgres_equals_duckdb(reference: dict) -> None:
    env = _engine_env("postgres")
    database, drop = _postgres_database(env)
    try:
        run = _load_build_compare(reference["raw"], reference["db"], reference["work"] / "postgres", "postgres",
                                  {**env, "ARREARS_PG_DATABASE": database}, [], "marts", 1200)
    finally:
        drop()
    _report(f"duckdb build {reference['seconds']:.0f}s | postgres: load {run['load']:.0f}s, dbt build "
                    f"{run['build']:.0f}s ({run['summary']}), compare {run['compare']:.0f}s | {run['result']}")


@pytest.fixture(scope="module")
def bad_input_reference(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """tests/fixtures/bad_input (a row for every quarantine reason) built up to staging on DuckDB."""
    _need(ENGINES_PY.exists() and ENGINES_DBT.exists(), f"{ENGINES_VENV} is missing")
    work = tmp_path_factory.mktemp("cross_engine_bad_input")
    raw = ROOT / "tests" / "fixtures" / "bad_input"
    db = work / "bad_input.duckdb"
    run_dbt(["build", *STAGING_ONLY], db=db, raw_dir=raw, timeout=600)
    return {"work": work, "raw": raw, "db": db}


def test_postgres_quarantine_equals_duckdb(bad_input_reference: dict) -> None:
    """Every bad raw row gets the same reason code, and every good one the same typed values, on PostgreSQL as
    on DuckDB (try_cast of dates and decimals, code and reference checks): staging is equal row for row."""
    env = _engine_env("postgres")
    database, drop = _postgres_database(env)
    try:
        run = _load_build_compare(bad_input_reference["raw"], bad_input_reference["db"],
                                  bad_input_reference["work"] / "postgres", "postgres",
                                  {**env, "ARREARS_PG_DATABASE": database}, STAGING_ONLY, "staging", 600)
    finally:
        drop()
    _report(f"bad input, staging on postgres: {run['result']}")


def test_spark_quarantine_equals_duckdb(bad_input_reference: dict) -> None:
    """The same on Spark (its try_cast, its CSV reading of the raw text)."""
    env = _engine_env("spark")
    env["ARREARS_SPARK_DIR"] = str(bad_input_reference["work"] / "spark_warehouse")
    run = _load_build_compare(bad_input_reference["raw"], bad_input_reference["db"],
                              bad_input_reference["work"] / "spark", "spark", env, STAGING_ONLY, "staging", 900)
    _report(f"bad input, staging on spark: load {run['load']:.0f}s, dbt build {run['build']:.0f}s, "
                    f"compare {run['compare']:.0f}s | {run['result']}")


def test_spark_equals_duckdb(reference: dict) -> None:
    probe = subprocess.run(["java", "-version"], capture_output=True, text=True)
    _need(probe.returncode == 0, "java is not on PATH (Spark needs Java 17+)")
    env = _engine_env("spark")
    env["ARREARS_SPARK_DIR"] = str(reference["work"] / "spark_warehouse")  # its own warehouse and metastore
    run = _load_build_compare(reference["raw"], reference["db"], reference["work"] / "spark", "spark", env,
                              ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"],
                              "marts", 1800)
    _report(f"duckdb build {reference['seconds']:.0f}s | spark: load {run['load']:.0f}s, dbt build "
                    f"{run['build']:.0f}s ({run['summary']}), compare {run['compare']:.0f}s | {run['result']}")
