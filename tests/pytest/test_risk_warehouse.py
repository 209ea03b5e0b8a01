"""Warehouse mode: read marts.mart_risk_features read-only, split out of time, score every date (or the latest) to Parquet."""

import json

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.risk.cli import main
from arrears.risk.data import DataError
from arrears.risk.model import load_model
from arrears.risk.split import oot_test_dates, out_of_time_split

pytestmark = pytest.mark.fast

N_CUSTOMERS, N_MONTHS, N_UNLABELED_MONTHS = 150, 14, 4


def _panel(seed: int = 5) -> pd.DataFrame:
    """One row per customer per month end; the last months have no label yet (outcome window open)."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2024-01-31", periods=N_MONTHS, freq="ME")
    rows = []
    for c in range(N_CUSTOMERS):
        risk = rng.normal()
        for i, d in enumerate(months):
            util = float(np.clip(0.5 + 0.25 * risk + rng.normal(scale=0.2), 0, 1.5))
            dpd = int(rng.poisson(np.exp(risk - 0.5)))
            dti = None if rng.uniform() < 0.1 else float(rng.uniform(0, 0.8))
            p = 1 / (1 + np.exp(-(-2.0 + 1.5 * risk + 0.4 * dpd)))
            label = None if i >= N_MONTHS - N_UNLABELED_MONTHS else int(rng.uniform() < p)
            rows.append({"customer_id": f"C{c:04d}", "observation_date": d.date(), "f_utilisation": util,
                         "f_dpd30_count_6m": dpd, "f_debt_to_income": dti, "label": label})
    return pd.DataFrame(rows)


@pytest.fixture()
def warehouse(tmp_path):
    db = tmp_path / "wh.duckdb"
    frame = _panel()
    con = duckdb.connect(str(db))
    con.execute("create schema marts")
    con.register("panel", frame)
    con.execute("""create table marts.mart_risk_features as select customer_id::varchar as customer_id,
                   observation_date::date as observation_date, f_utilisation::double as f_utilisation,
                   f_dpd30_count_6m::integer as f_dpd30_count_6m, f_debt_to_income::double as f_debt_to_income,
                   label::integer as label from panel""")
    con.close()
    return db, frame


def test_scores_one_row_per_customer_of_latest_date(warehouse, tmp_path):
    db, frame = warehouse
    out = tmp_path / "scores" / "risk_scores.parquet"
    report = tmp_path / "wh.json"
    assert main(["--db", str(db), "--scores-out", str(out), "--report", str(report),
                 "--html", str(tmp_path / "wh.html"), "--no-score-all-dates", "--quiet"]) == 0
    scores = pq.read_table(out).to_pandas()
    assert (tmp_path / "wh.html").read_text().count("<svg") >= 4
    latest = max(frame["observation_date"])
    assert len(scores) == N_CUSTOMERS
    assert scores["customer_id"].is_unique
    assert set(scores["observation_date"]) == {latest}
    assert list(scores.columns) == ["customer_id", "observation_date", "pd", "score", "score_band", "model_name",
                                    "model_version", "trained_at"]
    assert scores["pd"].between(0, 1).all()
    assert scores["score"].dtype.kind == "i"
    assert set(scores["score_band"]) <= set("ABCDE")
    model_file = out.parent / "risk_model.pkl"
    assert scores["model_version"].iloc[0] == load_model(model_file).version
    r = json.loads(report.read_text())
    assert scores["model_name"].iloc[0] == r["primary_model"]
    # higher points must mean lower PD
    assert np.corrcoef(scores["pd"], scores["score"])[0, 1] < -0.9
    dist = pq.read_table(out.parent / "risk_scores_training_distribution.parquet").to_pandas()
    assert dist["train_share"].sum() == pytest.approx(1.0)
    assert dist["score_lower"].isna().sum() == 1 and dist["score_upper"].isna().sum() == 1
    # test dates strictly after training dates; unlabeled months never trained on
    assert r["split"]["train_last_date"] < r["split"]["test_first_date"]
    labeled_dates = sorted({str(d) for d in frame.loc[frame["label"].notna(), "observation_date"]})
    assert r["split"]["test_dates"][-1] == labeled_dates[-1]
    assert r["rows"]["train"] + r["rows"]["test"] == int(frame["label"].notna().sum())


def test_scores_every_observation_date_by_default(warehouse, tmp_path):
    # Would fail if the default scored only the latest date (PSI could not be monitored by month), if a month
    # lost or repeated a customer, or if a date's scores depended on being scored with other dates.
    db, frame = warehouse
    out_all, out_latest = tmp_path / "all" / "risk_scores.parquet", tmp_path / "latest" / "risk_scores.parquet"
    report = tmp_path / "all.json"
    assert main(["--db", str(db), "--scores-out", str(out_all), "--report", str(report), "--model-type",
                 "scorecard", "--quiet"]) == 0
    assert main(["--db", str(db), "--scores-out", str(out_latest), "--model-type", "scorecard",
                 "--no-score-all-dates", "--quiet"]) == 0
    every = pq.read_table(out_all).to_pandas()
    latest = pq.read_table(out_latest).to_pandas()
    assert len(every) == len(frame) and not every.duplicated(["customer_id", "observation_date"]).any()
    assert every.groupby("observation_date").size().eq(N_CUSTOMERS).all()
    assert every["observation_date"].nunique() == N_MONTHS
    last = every[every["observation_date"] == max(frame["observation_date"])].sort_values("customer_id")
    assert last[["customer_id", "pd", "score", "score_band"]].reset_index(drop=True).equals(
        latest.sort_values("customer_id")[["customer_id", "pd", "score", "score_band"]].reset_index(drop=True))
    assert every["model_version"].iloc[0] == latest["model_version"].iloc[0]   # same data, same model version
    r = json.loads(report.read_text())
    assert r["scores"]["all_dates"] and r["scores"]["observation_dates"] == N_MONTHS
    assert r["scores"]["rows_latest_date"] == N_CUSTOMERS


def test_warehouse_is_read_only_unless_write_db(warehouse, tmp_path):
    db, _ = warehouse
    before = db.read_bytes()
    assert main(["--db", str(db), "--scores-out", str(tmp_path / "s.parquet"), "--model-type", "scorecard",
                 "--quiet"]) == 0
    assert db.read_bytes() == before
    assert main(["--db", str(db), "--scores-out", str(tmp_path / "s.parquet"), "--model-type", "scorecard",
                 "--write-db", "--oot-months", "3", "--quiet"]) == 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("select count(*) from risk.risk_scores").fetchone()[0] == N_CUSTOMERS * N_MONTHS
        assert con.execute("select sum(train_share) from risk.risk_score_training_distribution").fetchone()[0] \
            == pytest.approx(1.0)
    finally:
        con.close()


def test_missing_mart_is_a_data_error(tmp_path):
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    assert main(["--db", str(db), "--quiet"]) == 3


def test_oot_months_takes_the_last_k_months():
    dates = pd.Series(pd.date_range("2024-01-31", periods=10, freq="ME"))
    test = oot_test_dates(dates, oot_months=3)
    assert [str(d.date()) for d in test] == ["2024-08-31", "2024-09-30", "2024-10-31"]
    assert len(oot_test_dates(dates)) == 3                     # default: 25 % of 10 dates, rounded
    with pytest.raises(DataError):
        oot_test_dates(dates, oot_months=10)                   # nothing left to train on


def test_gap_months_leave_a_hole_before_the_test_window():
    dates = pd.Series(np.repeat(pd.date_range("2024-01-31", periods=8, freq="ME"), 10))
    y = np.tile([0.0, 1.0], 40)
    split = out_of_time_split(dates, y, oot_months=2, gap_months=3)
    train_months = sorted({d.strftime("%Y-%m") for d in dates.iloc[np.r_[split.fit, split.validation]]})
    assert train_months == ["2024-01", "2024-02", "2024-03"]     # Apr-Jun left out, test is Jul-Aug
    assert sorted({d.strftime("%Y-%m") for d in dates.iloc[split.test]}) == ["2024-07", "2024-08"]


@settings(max_examples=40, deadline=None)
@given(day_offsets=st.lists(st.integers(0, 400), min_size=30, max_size=120),
       labels=st.lists(st.sampled_from([0.0, 1.0, np.nan]), min_size=120, max_size=120),
       oot=st.one_of(st.none(), st.integers(1, 6)), gap=st.integers(0, 2))
def test_out_of_time_split_never_trains_on_a_later_date_than_it_tests(day_offsets, labels, oot, gap):
    dates = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(day_offsets, unit="D"))
    y = np.array(labels[: len(dates)], dtype=float)
    try:
        split = out_of_time_split(dates, y, oot_months=oot, gap_months=gap)
    except DataError:
        return                                                 # too few dates or a one-class part: refused
    train = np.r_[split.fit, split.validation]
    assert dates.iloc[train].max() < dates.iloc[split.test].min()
    months_apart = (dates.iloc[split.test].min().to_period("M") - dates.iloc[train].max().to_period("M")).n
    assert gap == 0 or months_apart > gap
    assert not np.isnan(y[train]).any() and not np.isnan(y[split.test]).any()
    assert len(set(train) & set(split.test)) == 0
