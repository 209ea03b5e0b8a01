"""The semantic layer (models/semantic: MetricFlow semantic models, metrics, saved queries) and the exposures.

Every saved query is run with the `mf` command line, as a user runs it, against a copy of the shared demo build
opened read-only (profile target `published`), and compared with the marts it must reproduce, to the cent for
amounts and to 1e-9 for rates. The marts' figures are read with plain SQL here, never through MetricFlow.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import subprocess
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from helpers import DBT, ROOT, Build

MF = ROOT / ".venv" / "bin" / "mf"
CENT = Decimal("0.01")
SAVED_QUERIES = ("portfolio_monthly", "aging_buckets_monthly", "overdue_by_type", "overdue_by_region",
                 "roll_rates_monthly", "strategy_workload_by_team", "watchlist_by_region")
BUCKETS = ("not_due", "dpd_1_30", "dpd_31_60", "dpd_61_90", "dpd_91_120", "dpd_121_180", "dpd_181_plus")


class SemanticLayer:
    """A project folder whose dbt artefacts are its own (the checkout's files linked in, `target/` not): `mf`
    reads `<project>/target/semantic_manifest.json`, so the test never touches the checkout's target folder."""

    def __init__(self, folder: Path, db: Path):
        self.project = folder / "project"
        self.project.mkdir(parents=True)
        for entry in ROOT.iterdir():
            if entry.name not in {"target", "logs"} and not entry.name.startswith(".venv"):
                (self.project / entry.name).symlink_to(entry)
        self.db = db
        self.out = folder / "queries"
        self.out.mkdir()
        self.env = {**os.environ, "DO_NOT_TRACK": "1", "ARREARS_DB": str(db), "ARREARS_TARGET": "published",
                    "ARREARS_HOME": str(ROOT), "DBT_PROJECT_DIR": str(self.project),
                    "DBT_PROFILES_DIR": str(self.project)}

    def run(self, cmd: list[str], timeout: int = 600) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(cmd, cwd=self.project, env=self.env, capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, f"{' '.join(cmd)} exited {result.returncode}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        return result

    def saved_query(self, name: str) -> list[dict[str, str]]:
        path = self.out / f"{name}.csv"
        self.run([str(MF), "query", "--saved-query", name, "--csv", str(path)])
        with open(path, newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def layer(demo_build: Build, tmp_path_factory: pytest.TempPathFactory) -> SemanticLayer:
    if not MF.exists():
        pytest.fail(f"{MF} is missing: dbt-metricflow is in requirements/main.lock (make venv)")
    folder = tmp_path_factory.mktemp("semantic")
    # the same file name as the build: views inside name their catalog after it
    db = folder / demo_build.db.name
    shutil.copyfile(demo_build.db, db)
    sl = SemanticLayer(folder, db)
    sl.run([str(DBT), "parse", "--project-dir", str(sl.project), "--profiles-dir", str(sl.project)])
    return sl


def money(text: str) -> Decimal | None:
    return None if text == "" else Decimal(text).quantize(CENT)


def number(text: str) -> float | None:
    return None if text == "" else float(text)


def month(value: dt.date | str) -> str:
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(value[:10])
    return day.replace(day=1).isoformat()


def assert_rate(got: float | None, expected: float | None, what: str) -> None:
    if expected is None:
        assert got is None, f"{what}: {got} where the mart has null"
    else:
        assert got is not None and got == pytest.approx(expected, rel=1e-9, abs=1e-12), f"{what}: {got} != {expected}"


def by_month(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {row["metric_time__month"][:10]: row for row in rows}


def test_validate_configs_against_the_warehouse(layer: SemanticLayer):
    """`mf validate-configs` checks the semantics and runs every dimension, entity, measure and metric against
    the database; a column renamed in a mart fails here."""
    result = layer.run([str(MF), "validate-configs"])
    assert "ERRORS: 0" in result.stdout and "Successfully validated metrics against data warehouse" in result.stdout


def test_portfolio_monthly_equals_mart_portfolio_monthly(layer: SemanticLayer, demo_build: Build):
    mf_rows = by_month(layer.saved_query("portfolio_monthly"))
    mart = demo_build.query_dicts("select * from marts.mart_portfolio_monthly order by period_end")
    assert len(mart) >= 12
    for row in mart:
        got = mf_rows.pop(month(row["period_end"]))
        what = f"period {row['period_end']}"
        for metric, column in (("outstanding", "outstanding_base"), ("overdue_amount", "overdue_base"),
                               ("billed", "billed_base")):
            assert money(got[metric]) == row[column], f"{what} {metric}"
        for metric, column in (("customers_with_balance", "customers_with_balance"),
                               ("overdue_customers", "overdue_customers"), ("period_days", "period_days")):
            assert int(got[metric]) == row[column], f"{what} {metric}"
        for metric, column in (("overdue_amount_rate", "overdue_amount_rate"),
                               ("overdue_customer_rate", "overdue_customer_rate"), ("dso", "dso_days"),
                               ("collection_effectiveness_index", "collection_effectiveness_index")):
            assert_rate(number(got[metric]), row[column], f"{what} {metric}")
    # months the mart has no period for: billing before the history starts, and the month after the last period
    # (the opening balance of CEI offsets the outstanding by a month); none of them has a balance
    assert all(extra["outstanding"] == "" for extra in mf_rows.values()), mf_rows


def test_aging_buckets_equal_the_mart_buckets(layer: SemanticLayer, demo_build: Build):
    mf_rows = by_month(layer.saved_query("aging_buckets_monthly"))
    mart = demo_build.query_dicts("select * from marts.mart_portfolio_monthly")
    for row in mart:
        got = mf_rows[month(row["period_end"])]
        for bucket in BUCKETS:
            assert money(got[f"{bucket}_amount"]) == row[f"bucket_{bucket}_base"], (row["period_end"], bucket)


def test_overdue_by_type_equals_the_overdue_customers_mart(layer: SemanticLayer, demo_build: Build):
    rows = layer.saved_query("overdue_by_type")
    expected = {r["overdue_type"]: r for r in demo_build.query_dicts(
        "select overdue_type, any_value(overdue_type_zh) as overdue_type_zh, count(*) as customers, "
        "sum(overdue_base) as overdue from marts.mart_overdue_customers group by overdue_type")}
    assert set(expected) == {"temporary", "chronic", "stubborn"}, "the demo build has every type"
    got = {r["overdue_customer__overdue_type"]: r for r in rows}
    assert set(got) == set(expected)
    portfolio = demo_build.query_dicts("select * from marts.mart_portfolio_monthly where is_as_of_date")[0]
    for overdue_type, row in expected.items():
        assert got[overdue_type]["overdue_customer__overdue_type_zh"] == row["overdue_type_zh"]
        assert int(got[overdue_type]["typed_overdue_customers"]) == row["customers"]
        assert int(got[overdue_type]["typed_overdue_customers"]) == portfolio[f"{overdue_type}_customers"]
        assert money(got[overdue_type]["typed_overdue_amount"]) == row["overdue"]


def test_overdue_by_region_adds_up_and_equals_the_history(layer: SemanticLayer, demo_build: Build):
    """Sliced by a customer attribute through the customer entity: each cell equals the history at the month's
    last snapshot joined to the customer file, and the cells of a month add up to the portfolio."""
    rows = layer.saved_query("overdue_by_region")
    expected = {(month(r["snapshot_date"]), r["region"] or "", r["customer_type"] or ""): r
                for r in demo_build.query_dicts("""
        with last_snapshot as (
            select max(snapshot_date) as snapshot_date
            from marts.fct_customer_aging_history group by date_trunc('month', snapshot_date))
        select h.snapshot_date, c.region, c.customer_type, sum(h.outstanding_base) as outstanding,
               sum(h.overdue_base) as overdue, sum(case when h.is_overdue then 1 else 0 end) as overdue_customers
        from marts.fct_customer_aging_history as h
        inner join last_snapshot using (snapshot_date)
        left join marts.dim_customers as c using (customer_id)
        group by all""")}
    got = {(r["metric_time__month"][:10], r["customer__region"], r["customer__customer_type"]): r
           for r in rows if r["outstanding"] != ""}
    assert set(got) == set(expected)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for key, row in expected.items():
        assert money(got[key]["outstanding"]) == row["outstanding"], key
        assert money(got[key]["overdue_amount"]) == row["overdue"], key
        assert int(got[key]["overdue_customers"]) == row["overdue_customers"], key
        totals[key[0]] += row["outstanding"]
    for row in demo_build.query_dicts("select period_end, outstanding_base from marts.mart_portfolio_monthly"):
        assert totals[month(row["period_end"])] == row["outstanding_base"], row["period_end"]


def test_roll_and_cure_rates_equal_fct_roll_rates(layer: SemanticLayer, demo_build: Build):
    rows = layer.saved_query("roll_rates_monthly")
    expected = {(month(r["month_end"]), r["from_bucket"]): r for r in demo_build.query_dicts("""
        select month_end, from_bucket, sum(customer_count) as customers,
               coalesce(sum(count_rate) filter (where is_roll_forward), 0) as roll_rate,
               coalesce(sum(count_rate) filter (where is_cure), 0) as cure_rate,
               case when max(from_bucket_balance_base) > 0
                    then coalesce(sum(balance_rate) filter (where is_roll_forward), 0) end as roll_rate_amount
        from marts.fct_roll_rates group by month_end, from_bucket""")}
    got = {(r["metric_time__month"][:10], r["roll_transition__from_bucket"]): r for r in rows}
    assert set(got) == set(expected)
    assert any(row["roll_rate"] > 0 for row in expected.values()) and any(
        row["cure_rate"] > 0 for row in expected.values()), "the demo build has roll-forwards and cures"
    for key, row in expected.items():
        assert int(got[key]["transition_customers"]) == row["customers"], key
        assert_rate(number(got[key]["roll_rate"]), row["roll_rate"], f"{key} roll_rate")
        assert_rate(number(got[key]["cure_rate"]), row["cure_rate"], f"{key} cure_rate")
        assert_rate(number(got[key]["roll_rate_amount"]), row["roll_rate_amount"], f"{key} roll_rate_amount")


def test_strategy_workload_equals_the_strategy_lists(layer: SemanticLayer, demo_build: Build):
    rows = layer.saved_query("strategy_workload_by_team")
    expected = {(r["owner_team"], r["list_type"]): r for r in demo_build.query_dicts(
        "select owner_team, list_type, count(*) as customers, sum(at_stake_base) as at_stake "
        "from marts.mart_collection_strategy group by all")}
    got = {(r["listed_customer__owner_team"], r["listed_customer__list_type"]): r for r in rows}
    assert set(got) == set(expected) and len(expected) >= 3
    for key, row in expected.items():
        assert int(got[key]["strategy_workload"]) == row["customers"], key
        assert money(got[key]["strategy_at_stake"]) == row["at_stake"], key


def test_watchlist_by_region_equals_the_watch_list(layer: SemanticLayer, demo_build: Build):
    rows = layer.saved_query("watchlist_by_region")
    expected = {(r["region"] or "", str(r["is_key_account"]).lower()): r for r in demo_build.query_dicts(
        "select c.region, c.is_key_account, count(*) as customers, sum(w.outstanding_base) as outstanding "
        "from marts.mart_watchlist as w left join marts.dim_customers as c using (customer_id) group by all")}
    got = {(r["customer__region"], r["customer__is_key_account"].lower()): r for r in rows}
    assert set(got) == set(expected) and expected
    for key, row in expected.items():
        assert int(got[key]["watchlist_size"]) == row["customers"], key
        assert money(got[key]["watchlist_outstanding"]) == row["outstanding"], key


def test_docs_list_the_semantic_layer_and_the_exposures(layer: SemanticLayer, demo_build: Build):
    """`dbt docs generate` (read-only, on the same copy) lists semantic models, metrics, saved queries and
    exposures; every saved query the tests above run is among them, and every metric has a description.
    (It compiles every model, and staging's macros look at the raw folder while compiling: the build's own.)"""
    layer.run([str(DBT), "docs", "generate", "--project-dir", str(layer.project), "--profiles-dir",
               str(layer.project), "--vars", json.dumps({"raw_dir": str(demo_build.raw_dir)})])
    manifest = json.loads((layer.project / "target" / "manifest.json").read_text(encoding="utf-8"))
    names = {kind: {node["name"] for node in manifest[kind].values()}
             for kind in ("semantic_models", "metrics", "saved_queries", "exposures")}
    assert {"customers", "customer_balances", "invoices", "overdue_customers", "roll_transitions", "watchlist",
            "strategy_lists"} <= names["semantic_models"]
    assert {"outstanding", "overdue_amount", "overdue_amount_rate", "overdue_customer_rate", "dso",
            "collection_effectiveness_index", "roll_rate", "cure_rate", "typed_overdue_customers",
            "watchlist_size", "strategy_workload"} <= names["metrics"]
    assert set(SAVED_QUERIES) == names["saved_queries"]
    assert {"strategy_lists", "overdue_report", "daily_pipeline", "overdue_overview_dashboard"} <= names["exposures"]
    assert all(node["description"].strip() for node in manifest["metrics"].values())
    assert (layer.project / "target" / "catalog.json").exists()
