"""Fault injection, delivery (issue 20): a delivery that looks broken stops the run before anything is
published; a real one-off can be acknowledged for one run; the run summary names what happened.

One good run of a small demo is published first (module fixture); every case then runs the pipeline on a damaged
copy of the delivery against a copy of that published state, and asserts the exit code, the message and that
the published database and lists are byte-identical where the run must stop. Cases already covered elsewhere,
one test each: concurrent builds refused and a build killed midway (test_publish.py), formula injection, phone
numbers and nobody-to-work-on exports (test_export.py), duplicate keys, unknown references and every reason code
(test_staging_bad_input.py), encoding, delimiter and Parquet faults (test_faults_reading.py), money and dates
(test_faults_money.py).
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from arrears.demo import DemoConfig, generate

from helpers import ROOT, query

PIPELINE = ROOT / "scripts" / "run_pipeline.py"
RUN_DATE = "2026-11-02"


def run_pipeline(raw: Path, db: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(PIPELINE), "--raw-dir", str(raw), "--db", str(db), "--out", str(out),
                           "--run-date", RUN_DATE, *extra], cwd=ROOT, capture_output=True, text=True, timeout=1800)


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix in (".duckdb", ".csv", ".xlsx", ".parquet")}


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding raw/ (the good delivery), published/arrears.duckdb (+ its delivery counts) and out/."""
    work = tmp_path_factory.mktemp("delivery")
    generate(work / "raw", DemoConfig(customers=80, seed=3))
    result = run_pipeline(work / "raw", work / "published" / "arrears.duckdb", work / "out")
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert (work / "published" / "arrears.duckdb.delivery.json").exists()
    return work


@pytest.fixture
def site(published: Path, tmp_path: Path) -> Path:
    """A private copy of the published state, so each case starts from the same good run."""
    shutil.copytree(published, tmp_path / "site")
    return tmp_path / "site"


def _rewrite(path: Path, keep) -> None:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header, rows = list(reader.fieldnames or []), list(reader)
    rows = keep(rows)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def _assert_stopped(site: Path, result, before: dict, *words: str) -> dict:
    text = result.stdout + result.stderr
    assert result.returncode == 4, text[-4000:]
    for word in words:
        assert word in text, (word, text[-4000:])
    assert "Nothing was built or published" in text
    assert "[pipeline] build:" not in text
    assert digest(site) == before, "the published database or lists changed although the run stopped"
    summary = json.loads((site / "out" / "run_summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "failed" and summary["exit_code"] == 4
    return summary


def test_header_only_payments_stops_before_the_build(site: Path) -> None:
    # Would fail if an extract that lost its payments published every customer as overdue (issue 20 item 2).
    _rewrite(site / "raw" / "payments.csv", lambda rows: [])
    before = digest(site)
    result = run_pipeline(site / "raw", site / "published" / "arrears.duckdb", site / "out")
    summary = _assert_stopped(site, result, before, "payments has no rows", "--accept-guard empty_table:payments")
    assert [f["key"] for f in summary["delivery"]["findings"]] == ["empty_table:payments"]


def test_an_acknowledged_guard_runs_and_is_listed_in_the_summary(site: Path) -> None:
    # Would fail if --accept-guard were ignored, or if an acknowledged guard went unmentioned. (The contact log
    # cut to a fifth, say a new CRM that kept only open cases: a real one-off.)
    _rewrite(site / "raw" / "collection_actions.csv", lambda rows: rows[: len(rows) // 5])
    kept = sum(1 for _ in open(site / "raw" / "collection_actions.csv", encoding="utf-8")) - 1
    stopped = run_pipeline(site / "raw", site / "published" / "arrears.duckdb", site / "out",
                           "--steps", "validate_raw,check_delivery")
    assert stopped.returncode == 4 and "row_drop:collection_actions" in stopped.stdout + stopped.stderr
    result = run_pipeline(site / "raw", site / "published" / "arrears.duckdb", site / "out",
                          "--accept-guard", "row_drop:collection_actions")
    text = result.stdout + result.stderr
    assert result.returncode == 0, text[-4000:]
    assert "ACKNOWLEDGED (--accept-guard)" in text
    summary = json.loads((site / "out" / "run_summary.json").read_text(encoding="utf-8"))
    assert [(f["key"], f["accepted"]) for f in summary["delivery"]["findings"]] == [
        ("row_drop:collection_actions", True)]
    # the acknowledged delivery is now the published one: the next run compares with it
    state = json.loads((site / "published" / "arrears.duckdb.delivery.json").read_text(encoding="utf-8"))
    assert state["counts"]["collection_actions"] == kept


def test_a_row_drop_beyond_the_limit_stops_the_run(site: Path) -> None:
    # Would fail if losing 70% of the invoices passed as a portfolio event.
    _rewrite(site / "raw" / "invoices.csv", lambda rows: rows[: len(rows) * 3 // 10])
    before = digest(site)
    result = run_pipeline(site / "raw", site / "published" / "arrears.duckdb", site / "out")
    _assert_stopped(site, result, before, "invoices has", "fewer than the last published run", "row_drop:invoices")
    # a looser limit lets the same delivery through that check (a real one-off is better acknowledged)
    looser = run_pipeline(site / "raw", site / "published" / "arrears.duckdb", site / "out",
                          "--steps", "validate_raw,check_delivery", "--max-row-drop", "0.8")
    assert looser.returncode == 0, (looser.stdout + looser.stderr)[-3000:]


def test_a_day_far_above_the_recent_volume_stops_the_run(site: Path) -> None:
    # Would fail if a load whose dates all defaulted to one day (here: 300 extra invoices on the last day)
    # were published.
    def pile_up(rows):
        last = max(r["invoice_date"] for r in rows)
        template = next(r for r in rows if r["invoice_date"] == last)
        extra = [dict(template, invoice_id=f"X{i:05d}") for i in range(300)]
        return rows + extra
    _rewrite(site / "raw" / "invoices.csv", pile_up)
    before = digest(site)
    result = run_pipeline(site / "raw", site / "published" / "arrears.duckdb", site / "out")
    _assert_stopped(site, result, before, "day_volume:invoices", "times the median")


def test_an_unknown_guard_name_is_a_clear_error(site: Path) -> None:
    result = run_pipeline(site / "raw", site / "published" / "arrears.duckdb", site / "out",
                          "--steps", "check_delivery", "--accept-guard", "everything")
    assert result.returncode == 1 and "unknown guard(s) everything" in result.stderr


def test_as_of_before_all_data_exports_empty_lists(site: Path) -> None:
    # Would fail if the export said "build the warehouse for that date first" right after building it.
    first = query(site / "published" / "arrears.duckdb", "select min(invoice_date) from staging.stg_invoices")[0][0]
    as_of = first - dt.timedelta(days=10)
    result = run_pipeline(site / "raw", site / "published" / "arrears.duckdb", site / "out", "--as-of",
                          as_of.isoformat())
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    manifest = json.loads((site / "out" / "lists" / as_of.isoformat() / "manifest.json").read_text(encoding="utf-8"))
    assert all(f["rows"] == 0 for f in manifest["files"] if f["kind"] == "list")
    summary = json.loads((site / "out" / "run_summary.json").read_text(encoding="utf-8"))
    assert (summary["as_of_date"], summary["as_of_source"]) == (as_of.isoformat(), "requested")
