"""Fixtures shared by the pytest suite (helpers themselves are in helpers.py)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT, Build, query, run_dbt

DEMO_GENERATOR = ROOT / "scripts" / "generate_demo_data.py"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Test tiers (docs/development.md): a test is `fast` only when marked so (pure Python, or reading the
    shared `demo_build`); everything else is `slow`. Tests reading the shared build are also marked `dbt`."""
    for item in items:
        if "demo_build" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.dbt)
        if item.get_closest_marker("fast") is None:
            item.add_marker(pytest.mark.slow)


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
