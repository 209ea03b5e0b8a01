"""The risk model inside the pipeline: build -> train_risk -> build_decisions, the decision and monitoring marts,
the no-leakage property of the features, and the deliberate behaviour on data too small to train.

One seeded demo (200 customers, arrears.demo.generate) goes through the pipeline once per module; the
leakage test rebuilds the features on a copy whose late payments and contacts are moved 40 days later.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from arrears import publish
from arrears.demo import DemoConfig, generate
from arrears.pipeline import risk_dir
from arrears.risk import metrics, warehouse
from arrears.risk.cli import main as train_main

from helpers import ROOT, query, query_dicts, run_dbt, write_contract_folder

RUN_PIPELINE = ROOT / "scripts" / "run_pipeline.py"
RISK_STEPS = "build,train_risk,build_decisions"
DECISIONS = {"raise", "hold", "cut", "freeze", "no_score"}
CUTOFF = dt.date(2026, 4, 30)          # the leakage test moves everything dated after this day
SHIFT_DAYS = 40


def run_pipeline(raw: Path, work: Path, steps: str = RISK_STEPS) -> tuple[subprocess.CompletedProcess, Path]:
    db = work / "arrears.duckdb"
    done = subprocess.run(
        [sys.executable, str(RUN_PIPELINE), "--steps", steps, "--raw-dir", str(raw), "--db", str(db),
         "--out", str(work / "out"), "--threads", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=1800)
    return done, db


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    work = tmp_path_factory.mktemp("risk_pipeline")
    raw = work / "raw"
    generate(raw, DemoConfig(customers=200, seed=7), truth_path=work / "truth" / "customer_truth.csv")
    done, db = run_pipeline(raw, work)
    assert done.returncode == 0, f"pipeline failed:\n{done.stdout[-5000:]}\n{done.stderr[-5000:]}"
    layout = publish.Layout(db=db, out=work / "out")
    return {"work": work, "raw": raw, "layout": layout, "build_db": layout.build_db, "log": done.stdout,
            "scores": risk_dir(layout.build_db) / "risk_scores.parquet",
            "report": json.loads((work / "out" / "risk" / "risk_model_report.json").read_text())}


# --------------------------------------------------------------------------------------------- pipeline

def test_pipeline_trains_then_decides_for_every_scored_customer(demo):
    # Would fail if training did not see the built mart, if dbt did not read the scores it wrote, if a scored
    # customer had no decision (or two), if a decision lacked its explanation, or if the new limit contradicted
    # the decision.
    report, db = demo["report"], demo["build_db"]
    assert report["status"] == "trained"
    assert "[pipeline] train_risk: model" in demo["log"]
    scores = pq.read_table(demo["scores"]).to_pandas()
    assert scores["observation_date"].nunique() == report["scores"]["observation_dates"] > 1   # every date
    latest = scores[scores["observation_date"] == scores["observation_date"].max()]
    actions = pd.DataFrame(query_dicts(db, "select * from marts.mart_credit_actions"))
    assert len(actions) == len(latest) and actions["customer_id"].is_unique
    assert set(actions["customer_id"]) == set(latest["customer_id"])
    assert actions["has_score"].all() and (actions["observation_date"] == latest["observation_date"].iloc[0]).all()
    merged = actions.merge(latest, on="customer_id", suffixes=("", "_file"))
    assert (merged["score"] == merged["score_file"]).all() and np.allclose(merged["pd"], merged["pd_file"])
    assert set(actions["limit_decision"]) <= DECISIONS - {"no_score"}
    assert actions["explanation_en"].str.len().gt(60).all() and actions["explanation_zh"].str.len().gt(30).all()
    scored = actions[~actions["is_already_defaulted"]]
    assert scored.apply(lambda r: f"Score {r['score']} (band {r['score_band']}" in r["explanation_en"], axis=1).all()
    assert scored.apply(lambda r: f"评分{r['score']}（{r['score_band']}档" in r["explanation_zh"], axis=1).all()
    lim = actions.dropna(subset=["credit_limit"])
    assert (lim.loc[lim["limit_decision"] == "raise", "new_credit_limit"]
            > lim.loc[lim["limit_decision"] == "raise", "credit_limit"]).all()
    shrink = lim[lim["limit_decision"].isin(["cut", "freeze"])]
    assert (shrink["new_credit_limit"] <= shrink["credit_limit"]).all()
    keep = lim[lim["limit_decision"] == "hold"]
    assert (keep["new_credit_limit"] == keep["credit_limit"]).all()
    # raised only for low risk with the limit well used and nothing past due
    raised = actions[actions["limit_decision"] == "raise"]
    assert raised["score_band"].isin(["A", "B"]).all() and (raised["utilisation"] >= 0.70).all()
    assert (raised["past_due_base"] <= 1.00).all() and raised["list_type"].isna().all()   # materiality floor
    # stubborn customers on the overdue list are frozen; pricing follows the seed
    stubborn = actions[actions["overdue_type"] == "stubborn"]
    assert (stubborn["limit_decision"] == "freeze").all()
    bands = dict(query(db, "select score_band, rate_add_on_bps from reference.pricing_bands"))
    priced = actions[~actions["is_already_defaulted"]]
    assert (priced["rate_add_on_bps"] == priced["score_band"].map(bands)).all()
    # build_decisions wrote the build file after the build step: the state must describe the file as it is now
    assert publish.current_build(demo["layout"])["status"] == "built"


def test_score_monitoring_psi_is_the_definition_by_month(demo):
    # Would fail if the mart's PSI differed from sum (a - e) ln(a / e) over the training bins (shares floored at
    # 1e-4) for any month, if a month were missing, if its band disagreed with the 0.10 / 0.25 limits, or if
    # customers already in default (never trained on) were counted in the population.
    db = demo["build_db"]
    monitoring = pd.DataFrame(query_dicts(db, "select * from marts.mart_score_monitoring order by observation_date"))
    scores = pq.read_table(demo["scores"]).to_pandas()
    dist = pq.read_table(warehouse.distribution_path(demo["scores"])).to_pandas().sort_values("bin")
    defaulted = pd.DataFrame(query_dicts(db, "select customer_id, observation_date, is_already_defaulted "
                                             "from marts.mart_risk_features"))
    scores = scores.merge(defaulted, on=["customer_id", "observation_date"], how="left")
    assert len(monitoring) == scores["observation_date"].nunique()
    edges = dist["score_upper"].dropna().to_numpy()
    expected = np.maximum(dist["train_share"].to_numpy(), 1e-4)
    for row in monitoring.itertuples():
        month = scores[scores["observation_date"] == row.observation_date]
        population = month[~month["is_already_defaulted"].fillna(False).astype(bool)]
        _, actual = metrics.bin_shares(population["score"].to_numpy(), edges)
        actual = np.maximum(actual, 1e-4)
        psi = float(((actual - expected) * np.log(actual / expected)).sum())
        assert row.psi == pytest.approx(psi, abs=5e-7), row.observation_date      # stored to 6 decimals
        assert row.psi_band == metrics.psi_band(row.psi)
        assert row.psi_band == ("stable" if row.psi < 0.10 else "watch" if row.psi <= 0.25 else "act")
        assert row.scored_count == len(population) and row.defaulted_count == len(month) - len(population)
    assert monitoring["is_latest"].sum() == 1 and monitoring["is_latest"].iloc[-1]
    # the training months are the training distribution's own population: stable or at most watch at this size
    fit_months = set(demo["report"]["split"]["train_dates"])
    in_training = monitoring[monitoring["observation_date"].astype(str).isin(fit_months)]
    assert len(in_training) and (in_training["psi"] < 0.25).all()


# ---------------------------------------------------------------------------------------------- leakage

def _shift_after(path: Path, date_column: str, cutoff: dt.date, days: int) -> int:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header, rows = reader.fieldnames, list(reader)
    moved = 0
    for row in rows:
        day = dt.date.fromisoformat(row[date_column])
        if day > cutoff:
            row[date_column] = (day + dt.timedelta(days=days)).isoformat()
            moved += 1
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return moved


def _features(db: Path) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        frame = con.execute("select * from marts.mart_risk_features").df()
    return frame.sort_values(["customer_id", "observation_date"]).reset_index(drop=True)


def test_features_do_not_use_data_after_their_observation_date(demo, tmp_path):
    # Would fail if any f_* feature of an observation date on or before the cut-off changed when every payment
    # and contact dated after the cut-off happens 40 days later (or, pushed past the as-of date, not at all):
    # that feature would be reading the future. Labels may change: they are about the future.
    shifted = tmp_path / "raw"
    shifted.mkdir()
    for name in ("customers", "invoices", "payments", "collection_actions", "fx_rates"):
        (shifted / f"{name}.csv").write_bytes((demo["raw"] / f"{name}.csv").read_bytes())
    assert _shift_after(shifted / "payments.csv", "payment_date", CUTOFF, SHIFT_DAYS) > 100
    assert _shift_after(shifted / "collection_actions.csv", "action_date", CUTOFF, SHIFT_DAYS) > 10
    as_of = query(demo["build_db"], "select as_of_date from intermediate.int_as_of_date")[0][0]
    db = tmp_path / "shifted.duckdb"
    run_dbt(["build", "--resource-type", "model", "--resource-type", "seed"], db=db, raw_dir=shifted,
            as_of=as_of, select="+mart_risk_features")

    before, after = _features(demo["build_db"]), _features(db)
    features = [c for c in before.columns if c.startswith("f_")]
    assert len(features) >= 20
    early_before = before[before["observation_date"] <= pd.Timestamp(CUTOFF)].reset_index(drop=True)
    early_after = after[after["observation_date"] <= pd.Timestamp(CUTOFF)].reset_index(drop=True)
    assert len(early_before) > 1000
    assert early_before[["customer_id", "observation_date"]].equals(early_after[["customer_id", "observation_date"]])
    changed = [f for f in features
               if not np.allclose(early_before[f].astype(float), early_after[f].astype(float), rtol=1e-12,
                                  atol=1e-9, equal_nan=True)]
    assert changed == [], f"features of dates up to {CUTOFF} changed when later payments moved: {changed}"
    # the move did change later rows (so the comparison above could fail)
    late_before = before[before["observation_date"] > pd.Timestamp(CUTOFF)].reset_index(drop=True)
    late_after = after[after["observation_date"] > pd.Timestamp(CUTOFF)].reset_index(drop=True)
    assert any(not np.allclose(late_before[f].astype(float), late_after[f].astype(float), equal_nan=True)
               for f in ("f_payments_3m", "f_paid_billed_ratio_3m", "f_outstanding_base", "f_contacts_3m"))


# --------------------------------------------------------------------------------------- too few labels

def _tiny_contract(folder: Path) -> Path:
    """Three customers with two months of history: no outcome window is complete, so nothing is labeled."""
    customers = [{"customer_id": f"T{i}", "customer_name": f"Tiny {i}", "customer_type": "individual",
                  "credit_limit": "1000.00", "annual_income": "50000", "total_debt": "1000",
                  "is_key_account": False, "created_date": dt.date(2026, 8, 1)} for i in (1, 2, 3)]
    invoices, payments = [], []
    for i in (1, 2, 3):
        for n, day in enumerate((dt.date(2026, 9, 5), dt.date(2026, 10, 5))):
            invoices.append({"invoice_id": f"I{i}{n}", "customer_id": f"T{i}", "invoice_date": day,
                             "due_date": day + dt.timedelta(days=30), "amount": "300.00", "currency": "CNY",
                             "document_type": "invoice", "status": "posted"})
        payments.append({"payment_id": f"P{i}", "customer_id": f"T{i}", "invoice_id": f"I{i}0",
                         "payment_date": dt.date(2026, 10, 1), "amount": "300.00", "currency": "CNY",
                         "method": "card"})
    return write_contract_folder(folder, {"customers": customers, "invoices": invoices, "payments": payments})


def test_too_few_labels_trains_nothing_and_decides_no_score(tmp_path):
    # Would fail if a dataset too small to train stopped the pipeline, if scores of an earlier run survived into
    # the decisions, or if the decision marts did not build (every customer no_score, monitoring empty).
    raw = _tiny_contract(tmp_path / "raw")
    layout = publish.Layout(db=tmp_path / "arrears.duckdb", out=tmp_path / "out")
    stale = risk_dir(layout.build_db) / "risk_scores.parquet"
    stale.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([{"customer_id": "T1", "observation_date": dt.date(2026, 10, 31), "pd": 0.5,
                                          "score": 500, "score_band": "E", "model_name": "old",
                                          "model_version": "stale",
                                          "trained_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}],
                                        schema=warehouse.SCORES_SCHEMA), stale)
    done, _ = run_pipeline(raw, tmp_path)
    assert done.returncode == 0, f"pipeline failed:\n{done.stdout[-5000:]}\n{done.stderr[-5000:]}"
    assert "NO MODEL TRAINED, NO SCORES" in done.stdout
    assert not stale.exists()
    report = json.loads((tmp_path / "out" / "risk" / "risk_model_report.json").read_text())
    assert report["status"] == "not_trained" and "no labeled row" in report["reason"]
    assert "not trained" in (tmp_path / "out" / "risk" / "risk_report.html").read_text()
    actions = query_dicts(layout.build_db, "select * from marts.mart_credit_actions order by customer_id")
    assert [a["customer_id"] for a in actions] == ["T1", "T2", "T3"]
    for a in actions:
        assert a["limit_decision"] == "no_score" and not a["has_score"] and a["score"] is None
        assert a["new_credit_limit"] == a["credit_limit"] and a["rate_add_on_bps"] is None
        assert "did not score" in a["explanation_en"] and "未对该客户评分" in a["explanation_zh"]
    assert query(layout.build_db, "select count(*) from marts.mart_score_monitoring")[0][0] == 0


def _no_label_warehouse(path: Path, labels: list) -> Path:
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    frame = pd.DataFrame({"customer_id": [f"C{i}" for i in range(len(labels))],
                          "observation_date": [dt.date(2026, 1, 31)] * len(labels),
                          "f_x": np.arange(len(labels), dtype=float), "label": labels})
    con.register("frame", frame)
    con.execute("create table marts.mart_risk_features as select customer_id, observation_date, f_x, "
                "label::integer as label from frame")
    con.close()
    return path


@pytest.mark.parametrize("labels, reason", [([None] * 30, "no labeled row"), ([0] * 28 + [1] * 2, "labeled bad")])
def test_cli_too_few_labels_is_an_error_unless_allowed(tmp_path, labels, reason):
    # Would fail if too few labels crashed the CLI, trained a meaningless model, left stale scores behind when
    # allowed, or passed silently when not allowed.
    db = _no_label_warehouse(tmp_path / "w.duckdb", labels)
    scores = tmp_path / "risk" / "risk_scores.parquet"
    scores.parent.mkdir()
    scores.write_bytes(b"stale")
    warehouse.distribution_path(scores).write_bytes(b"stale")
    assert train_main(["--db", str(db), "--scores-out", str(scores), "--quiet"]) == 3
    assert scores.exists()                                     # an error changes nothing
    report = tmp_path / "r.json"
    assert train_main(["--db", str(db), "--scores-out", str(scores), "--report", str(report),
                       "--allow-untrainable", "--quiet"]) == 0
    assert not scores.exists() and not warehouse.distribution_path(scores).exists()
    r = json.loads(report.read_text())
    assert r["status"] == "not_trained" and reason in r["reason"] and r["scores"]["rows"] == 0
