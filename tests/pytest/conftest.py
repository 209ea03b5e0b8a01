"""Fixtures shared by the pytest suite (helpers themselves are in helpers.py)."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from helpers import ROOT, Build, query, run_dbt

DEMO_GENERATOR = ROOT / "scripts" / "generate_demo_data.py"


# `make test` runs the suite on two pytest-xdist workers: every test of a module goes to the same worker (module
# fixtures are built once), modules sharing a session fixture form one group (GROUPS: a module missing there
# only builds the shared fixture once more, on the other worker), and the longest groups start first so that
# neither worker is left with a long module at the end. Durations of a whole run (docs/development.md) set
# this order; a module not listed runs after these, in file order. The grouping is this file's scheduler
# (pytest_xdist_make_scheduler): xdist's own `--dist loadgroup` does not group under pytest 9 (it renames
# `item._nodeid`, which pytest 9's `nodeid` no longer reads).
LONGEST_FIRST = (
    "test_daily_loads", "test_contract_properties", "test_cross_engine", "test_faults_delivery", "test_pipeline",
    "test_strategy_outcomes", "test_demo_outcomes",
    "test_incremental", "test_publish", "test_faults_money", "test_type_scenarios", "test_loads",
    "test_airflow_dag", "export_and_report", "test_staging_bad_input", "test_faults_reading", "demo_build",
)
GROUPS = {"test_export": "export_and_report", "test_report": "export_and_report",   # export_dataset fixture
          "test_allocation_demo": "demo_build", "test_benchmark_anchor": "demo_build", "test_contract": "demo_build",
          "test_risk_study": "demo_build", "test_superset": "demo_build",
          "test_semantic_layer": "demo_build", "test_column_constraints": "demo_build",
          "test_storage": "demo_build", "test_query_plans": "demo_build", "test_money_conservation": "demo_build"}


def group_of(nodeid: str) -> str:
    """The group of a test id: its module's name, or the shared group the module belongs to."""
    module = Path(nodeid.split("::", 1)[0]).stem
    return GROUPS.get(module, module)


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

    return GroupScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Test tiers (docs/development.md): a test is `fast` only when marked so (pure Python, or reading the
    shared `demo_build`); everything else is `slow`. Tests reading the shared build are also marked `dbt`.
    The items are ordered longest group first (LONGEST_FIRST), a module's tests staying together and in their
    own order: the order the xdist scheduler hands groups out in (`--no-loadscope-reorder`)."""
    for item in items:
        if "demo_build" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.dbt)
        if item.get_closest_marker("fast") is None:
            item.add_marker(pytest.mark.slow)
    rank = {group: i for i, group in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(group_of(item.nodeid), len(rank)))  # stable: file order within a rank


def pytest_configure(config: pytest.Config) -> None:
    """Lines a test measured (`helpers.log_measured`) are collected in one file for the whole run, workers
    included, and printed at the end (pytest_terminal_summary): xdist workers' own output is not shown."""
    if not hasattr(config, "workerinput") and "ARREARS_MEASURED_LOG" not in os.environ:
        handle, path = tempfile.mkstemp(prefix="arrears-measured-", suffix=".log")
        os.close(handle)
        os.environ["ARREARS_MEASURED_LOG"] = path  # inherited by the workers, started after this


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    path = os.environ.get("ARREARS_MEASURED_LOG")
    if hasattr(config, "workerinput") or not path or not Path(path).is_file():
        return
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    if lines:
        terminalreporter.section("measured by the tests")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """The public datasets folder (env ARREARS_DATASETS_DIR); tests using it skip when it is unset."""
    value = os.environ.get("ARREARS_DATASETS_DIR")
    if not value:
        pytest.skip("ARREARS_DATASETS_DIR is not set (CI sets it to ../shared/datasets)")
    path = Path(value)
    if not path.is_dir():
        pytest.fail(f"ARREARS_DATASETS_DIR={value} is not a folder")
    return path


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The seeded demo dataset (scripts/generate_demo_data.py), built once with a full `dbt build` and shared
    by every test of the session. Size: env ARREARS_TEST_DEMO_CUSTOMERS (default 300 customers)."""
    if not DEMO_GENERATOR.exists():
        pytest.skip("scripts/generate_demo_data.py is not part of this checkout yet")
    work = tmp_path_factory.mktemp("demo")
    raw_dir = work / "raw"
    customers = os.environ.get("ARREARS_TEST_DEMO_CUSTOMERS", "300")
    generated = subprocess.run(
        [sys.executable, str(DEMO_GENERATOR), "--customers", customers, "--seed", "7", "--out", str(raw_dir),
         "--truth", str(work / "demo_truth" / "customer_truth.csv")],
        cwd=ROOT, capture_output=True, text=True)
    if generated.returncode != 0:
        pytest.fail(f"generate_demo_data.py exited {generated.returncode}:\n{generated.stdout}{generated.stderr}")
    db = work / "demo.duckdb"
    run_dbt("build", db=db, raw_dir=raw_dir)
    as_of = query(db, "select as_of_date from intermediate.int_as_of_date")[0][0]
    return Build(db=db, raw_dir=raw_dir, as_of=as_of)
