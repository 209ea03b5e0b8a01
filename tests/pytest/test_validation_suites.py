"""The reviewed suite files and the pieces of the validation package that need no warehouse.

Fast (no dbt, no GX validation): suites in sync with their definitions and with the contract, the chunk-merge
rule, the offline rewrite of Data Docs pages.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from arrears import contract
from arrears.validation.definitions import all_suites
from arrears.validation.docs import localize_html, remote_asset_references
from arrears.validation.suites import CHUNK_MERGE, Suite, SuiteError, dumps, load_suites

from helpers import ROOT

pytestmark = pytest.mark.fast

EXPECTATIONS = ROOT / "expectations"


def test_suite_files_match_their_definitions() -> None:
    """A definition changed without `validate.py --write-suites` (or a JSON file hand-edited): what runs
    would not be what was reviewed."""
    defined = {s.name: dumps(s) for s in all_suites()}
    on_disk = {p.stem: p.read_text(encoding="utf-8") for p in EXPECTATIONS.glob("*.json")}
    assert sorted(on_disk) == sorted(defined), "suite files and definitions name different suites"
    stale = [name for name in defined if on_disk[name] != defined[name]]
    assert not stale, f"regenerate with scripts/validate.py --write-suites: {stale}"


def test_suite_files_are_stable_and_annotated() -> None:
    """Churn in git (ids, timestamps, unsorted keys) or an expectation without a severity."""
    for path in EXPECTATIONS.glob("*.json"):
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
        assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", path.name
        assert not re.search(r'"(id|run_id|run_time|validation_time|ge_load_time)"\s*:', text), path.name
        assert not re.search(r"\d{8}T\d{6}", text), f"{path.name} holds a timestamp"
        for exp in data["expectations"]:
            assert exp["meta"]["severity"] in ("critical", "warning"), (path.name, exp["type"])
            assert exp["severity"] == exp["meta"]["severity"], (path.name, exp["type"])


def test_every_stage_has_its_suites() -> None:
    """A table of the contract, a staging model or a core mart without a suite goes unchecked."""
    names = {s.name for s in load_suites(EXPECTATIONS)}
    assert {f"raw.{t}" for t in contract.TABLES} <= names
    assert {f"staging.stg_{t}" for t in contract.TABLES} | {"staging.stg_quarantine"} <= names
    core = {"marts.fct_invoices", "marts.fct_customer_aging", "marts.mart_overdue_customers",
            "marts.mart_collection_strategy", "marts.totals"}
    assert core <= names
    optional = {s.name for s in load_suites(EXPECTATIONS) if s.optional}
    assert not core & optional, "a core mart must never be skipped when absent"
    assert {"raw.collection_actions", "raw.fx_rates"} <= optional, "optional contract tables"


def test_raw_severity_policy() -> None:
    """Raw rows are quarantined by design (warnings); only structure stops the pipeline."""
    for suite in load_suites(EXPECTATIONS, ["raw"]):
        for exp in suite.expectations:
            structural = exp["type"] in ("expect_table_columns_to_match_set", "expect_table_row_count_to_be_between")
            if not structural:
                assert exp["meta"]["severity"] == "warning", (suite.name, exp["type"], exp["kwargs"])
        columns = [e for e in suite.expectations if e["type"] == "expect_table_columns_to_match_set"]
        assert columns and columns[0]["meta"]["severity"] == "critical"


def test_strategy_codes_come_from_the_seed() -> None:
    """The strategy-code expectation lags behind seeds/strategy_catalog.csv."""
    import csv

    with (ROOT / "seeds" / "strategy_catalog.csv").open(encoding="utf-8") as fh:
        seed = sorted(row["strategy_code"] for row in csv.DictReader(fh))
    suite = next(s for s in load_suites(EXPECTATIONS) if s.name == "marts.mart_collection_strategy")
    exp = next(e for e in suite.expectations
               if e["type"] == "expect_column_values_to_be_in_set" and e["kwargs"]["column"] == "strategy_code")
    assert sorted(exp["kwargs"]["value_set"]) == seed


def test_chunked_batches_only_hold_mergeable_expectations() -> None:
    """An expectation whose per-chunk results cannot be added up would be silently wrong on big tables."""
    suite = next(s for s in all_suites() if s.name == "marts.fct_invoices")
    data = suite.to_json()
    data["expectations"].append({"type": "expect_column_mean_to_be_between", "kwargs": {"column": "amount"},
                                 "meta": {"batch": "rows", "severity": "warning"}, "severity": "warning"})
    with pytest.raises(SuiteError, match="cannot run on chunked batch"):
        Suite.from_json(data)
    data["expectations"][-1] = {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "customer_id"},
                                "meta": {"batch": "rows", "severity": "warning"}, "severity": "warning"}
    with pytest.raises(SuiteError, match="partitioned by that column"):
        Suite.from_json(data)
    assert "expect_column_mean_to_be_between" not in CHUNK_MERGE


def test_localize_html_replaces_every_remote_asset(tmp_path: Path) -> None:
    """A page of GX's own template keeps a CDN reference: Data Docs would not render offline."""
    templates = (ROOT / ".venv" / "lib").glob("python3*/site-packages/great_expectations/render/view/templates")
    template_dir = next(iter(templates))
    head = (template_dir / "page.j2").read_text() + (template_dir / "js_script_imports.j2").read_text()
    head += (template_dir / "top_navbar.j2").read_text().replace("{{ static_images_dir + \"logo-long.png\" "
                                                                   "| add_data_context_id_to_url }}",
                                                                   "https://x.s3.amazonaws.com/logo-long.png?d=1")
    site = tmp_path / "site"
    page = site / "validations" / "a" / "b.html"
    page.parent.mkdir(parents=True)
    page.write_text(localize_html(head, page, site), encoding="utf-8")
    assert remote_asset_references(site) == []
    text = page.read_text()
    assert 'href="../../static/vendor/bootstrap-4.3.1.min.css"' in text
    assert 'src="../../static/vendor/jquery-3.7.1.min.js"' in text
    assert 'src="../../static/images/logo-long.png"' in text
    for ref in re.findall(r'(?:href|src)="(\.\./\.\./static/vendor/[^"]+)"', text):
        assert (ROOT / "gx" / "static" / "vendor" / Path(ref).name).is_file(), ref


def test_remote_asset_check_can_fail(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(
        '<link rel="stylesheet" href="https://cdn.example/x.css"><script src="//cdn.example/y.js"></script>'
        '<a href="https://example.org">a plain link is fine</a>', encoding="utf-8")
    found = remote_asset_references(tmp_path)
    assert len(found) == 2
