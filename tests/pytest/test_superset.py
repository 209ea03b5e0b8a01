"""Apache Superset on the published warehouse (`make bi`, arrears/bi.py, bi/bundle; docs/bi.md), as a person
sees it: the bundle is imported with the same set-up code `make bi` runs, the server starts on a free port,
and headless Chromium logs in and opens the dashboard "Overdue overview" (bi/dashboard_check.py, driven over
the DevTools Protocol). The KPI figures on the page must equal the marts of the published file; then a build
with another as-of date is published while the server runs (os.replace, as arrears/publish.py does), and
the same page must show the new figures at the next load, without an error.

Superset lives in its own virtual environment (.venv-bi, bi/setup_venv.sh). Without it (or without
Chromium, or a Chinese font for the screenshots) the test is skipped, unless ARREARS_REQUIRE_SUPERSET is set (CI sets it), in which case it fails.
Screenshots are kept in target/test-artifacts/superset/ (ARREARS_TEST_ARTIFACTS overrides target/test-artifacts)
and named in the run's "measured by the tests" summary.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import pytest

from arrears import bi
from arrears.paths import ROOT

from helpers import log_measured, query, run_dbt

REQUIRED = bool(os.environ.get("ARREARS_REQUIRE_SUPERSET"))
ARTIFACTS = Path(os.environ.get("ARREARS_TEST_ARTIFACTS", ROOT / "target" / "test-artifacts")) / "superset"
# The big numbers of the dashboard: chart name -> the figure of the marts it shows (as-of row / watch list)
KPI_SQL = {
    "Outstanding": "select outstanding_base from marts.mart_portfolio_monthly where is_as_of_date",
    "Overdue": "select overdue_base from marts.mart_portfolio_monthly where is_as_of_date",
    "Overdue amount rate": "select overdue_amount_rate from marts.mart_portfolio_monthly where is_as_of_date",
    "Overdue customers": "select overdue_customers from marts.mart_portfolio_monthly where is_as_of_date",
    "DSO (days)": "select dso_days from marts.mart_portfolio_monthly where is_as_of_date",
    "Collection effectiveness index":
        "select collection_effectiveness_index from marts.mart_portfolio_monthly where is_as_of_date",
    "Watch list": "select count(*) from marts.mart_watchlist",
}


def _require(condition: bool, what: str) -> None:
    if condition:
        return
    if REQUIRED:
        pytest.fail(f"ARREARS_REQUIRE_SUPERSET is set but {what}")
    pytest.skip(f"{what} (set ARREARS_REQUIRE_SUPERSET=1 to make this a failure)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def displayed(text: str) -> tuple[Decimal, Decimal]:
    """A figure as the page shows it ("1,234.5", "26.68%", "600") -> (value, half a unit of its last digit)."""
    percent = text.endswith("%")
    number = Decimal(text.rstrip("%").replace(",", ""))
    half = Decimal(5) * Decimal(10) ** (number.as_tuple().exponent - 1)
    scale = Decimal("0.01") if percent else Decimal(1)
    return number * scale, half * scale


def assert_page_shows_marts(page: dict, db: Path) -> dict[str, str]:
    """Every chart drawn without an error, and every big number equal to the marts at its displayed precision;
    returns the big numbers' texts by chart name."""
    charts = page["charts"]
    assert len(charts) == len(list((bi.BUNDLE / "charts").glob("*.yaml"))), sorted(charts)
    errors = {name: chart["error"] for name, chart in charts.items() if chart["error"]}
    assert not errors, errors
    assert page["chart_data_status"] and set(page["chart_data_status"]) == {200}, page["chart_data_status"]
    shown = {name: chart["big_number"] for name, chart in charts.items() if chart["big_number"] is not None}
    assert set(shown) == set(KPI_SQL), shown
    for name, sql in KPI_SQL.items():
        truth = Decimal(str(query(db, sql)[0][0]))
        value, half = displayed(shown[name])
        assert abs(value - truth) <= half, f"{name}: the page shows {shown[name]}, the marts hold {truth}"
    types_zh = {row[0] for row in query(db, "select distinct overdue_type_zh from marts.mart_overdue_customers")}
    assert types_zh and any(label in page["page_text"] for label in types_zh), "no Chinese overdue type shown"
    return shown


@pytest.fixture(scope="module")
def superset(request, tmp_path_factory, demo_build):
    """Superset set up by arrears.bi on a copy of the demo build (the "published" file), serving on a free port."""
    _require((bi.BI_VENV / "bin" / "superset").exists(), f"{bi.BI_VENV} is missing (make venv-bi)")
    _require(shutil.which("chromium") is not None, "chromium is not installed (apt-get install -y chromium)")
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True) if shutil.which("fc-list") else None
    _require(bool(fonts and fonts.stdout.strip()), "no Chinese font is installed (apt-get install -y fonts-wqy-zenhei)")
    work = tmp_path_factory.mktemp("superset")
    published = work / "published" / "arrears.duckdb"
    published.parent.mkdir()
    shutil.copyfile(demo_build.db, published)
    started = time.monotonic()
    site = bi.set_up(work / "home", published)
    set_up_s = time.monotonic() - started
    base_url = f"http://127.0.0.1:{_free_port()}"
    server = bi.serve(site.home, int(base_url.rsplit(":", 1)[1]), log=work / "server.log")

    def stop():
        server.terminate()
        try:
            server.wait(timeout=30)
        except Exception:
            server.kill()
    request.addfinalizer(stop)
    up_s = bi.wait_until_up(base_url, server)
    log_measured(f"superset: set-up (db upgrade, init, admin, bundle import) {set_up_s:.0f}s, server up {up_s:.0f}s")
    return site, base_url, work


def test_the_dashboard_shows_the_published_marts_and_follows_a_new_publish(superset, demo_build):
    # Would fail if a chart errored or was not drawn, if a KPI differed from the marts (wrong column, filter,
    # format or a stale cache), if the Chinese labels were lost, or if Superset kept reading the file it had
    # open before the publish (a pooled connection or cached chart data would show the old figures).
    site, base_url, work = superset
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shots = [ARTIFACTS / "overdue_overview_first.png", ARTIFACTS / "overdue_overview_after_publish.png"]

    first = bi.read_dashboard(site, base_url, shots[0])
    before = assert_page_shows_marts(first, site.db)

    # A build with an earlier as-of date, published the way arrears/publish.py does: a copy beside the
    # published file, then os.replace onto it while Superset runs
    as_of = demo_build.as_of - dt.timedelta(days=45)
    new_build = work / "build" / "arrears.duckdb"
    run_dbt("build", db=new_build, raw_dir=demo_build.raw_dir, as_of=as_of,
            exclude=["resource_type:test", "resource_type:unit_test"])
    staged = site.db.with_name(".arrears.duckdb.publishing")
    shutil.copyfile(new_build, staged)
    os.replace(staged, site.db)
    assert query(site.db, "select max(period_end) from marts.mart_portfolio_monthly")[0][0] == as_of

    second = bi.read_dashboard(site, base_url, shots[1])
    after = assert_page_shows_marts(second, site.db)
    assert after["Outstanding"] != before["Outstanding"], (before, after)
    for shot in shots:
        assert shot.stat().st_size > 50_000, f"{shot} looks blank"
    log_measured(f"superset: dashboard in Chromium {first['seconds']:.0f}s, after the publish {second['seconds']:.0f}s;"
                 f" screenshots {shots[0]} {shots[1]}")
