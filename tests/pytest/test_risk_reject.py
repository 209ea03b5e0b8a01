"""Reject inference (scripts/train_risk_model.py --applications): weighted training, the inference itself, and
the end-to-end command on a synthetic applications file made here (the demo generator has no applicants)."""

import json
import pathlib

import numpy as np
import pandas as pd
import pytest

from arrears.risk.binning import fit_categorical, fit_numeric
from arrears.risk.cli import main
from arrears.risk.reject import infer

pytestmark = pytest.mark.fast

FIGURES = ("roc_auc", "ks", "gini", "accuracy", "precision", "recall", "f1", "threshold")


def write_applications(path: pathlib.Path, n: int = 2500, seed: int = 3) -> pd.DataFrame:
    """Applicants with a hidden true risk; the lender approves on a noisy view of it, so rejected applicants
    are riskier. Outcomes are written for approved applicants only; the truth is returned for checks."""
    rng = np.random.default_rng(seed)
    income = np.round(rng.lognormal(10.5, 0.5, n), 0)
    debt_ratio = np.clip(rng.beta(2, 5, n) + rng.normal(0, 0.02, n), 0, None)
    age = rng.integers(21, 70, n)
    employment = rng.choice(["salaried", "self_employed", "unemployed"], n, p=[0.7, 0.22, 0.08])
    late_payments = rng.poisson(0.6, n)
    logit = (-3.2 + 7.0 * debt_ratio - 1.5 * (np.log(income) - 10.5) + 1.0 * late_payments
             + np.where(employment == "unemployed", 2.0, np.where(employment == "self_employed", 0.6, 0.0))
             - 0.03 * (age - 40))
    true_pd = 1 / (1 + np.exp(-logit))
    bad = rng.uniform(size=n) < true_pd
    approved = (logit + rng.normal(0, 0.6, n)) < np.quantile(logit, 0.7)       # ~70 % approved
    frame = pd.DataFrame({
        "application_id": [f"A{i:05d}" for i in range(n)],
        "application_date": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
        "decision": np.where(approved, "approved", "rejected"),
        "outcome_bad": np.where(approved, bad.astype(int).astype(str), ""),
        "income": income,
        "debt_ratio": np.where(rng.uniform(size=n) < 0.05, np.nan, debt_ratio),   # some missing
        "age": age,
        "employment": employment,
        "late_payments": late_payments,
    })
    frame["application_date"] = frame["application_date"].dt.strftime("%Y-%m-%d")
    frame.to_csv(path, index=False, na_rep="NA")
    return frame.assign(true_bad=bad.astype(int), true_pd=true_pd)


# ------------------------------------------------------------------------------------------------ units

def test_fuzzy_augmentation_enters_each_reject_twice_with_weights_p_and_1_minus_p():
    # Would fail if a rejected row were not split into a bad part of weight p and a good part of weight 1 - p.
    idx, label, weight = infer("fuzzy", np.array([0.2, 0.5]), np.array([0.1, 0.3]), np.array([0.0, 1.0]), 1.0, 0)
    assert idx.tolist() == [0, 1, 0, 1]
    assert label.tolist() == [1, 1, 0, 0]
    assert weight == pytest.approx([0.2, 0.5, 0.8, 0.5])
    _, _, doubled = infer("fuzzy", np.array([0.2, 0.7]), np.array([0.1]), np.array([0.0]), 2.0, 0)
    assert doubled == pytest.approx([0.4, 1.0, 0.6, 0.0])                      # p x factor, capped at 1


def test_parcelling_draws_each_band_at_its_accepted_bad_rate():
    # Would fail if rejects were not drawn at the bad rate of approved rows in their own PD band.
    rng = np.random.default_rng(0)
    pd_fit = np.r_[rng.uniform(0.0, 0.8, 3600), rng.uniform(0.9, 1.0, 400)]
    y_fit = (pd_fit >= 0.9).astype(float)                # only the top decile of approved rows is bad
    pd_rej = np.r_[np.full(3000, 0.05), np.full(3000, 0.95)]
    idx, label, weight = infer("parcelling", pd_rej, pd_fit, y_fit, 1.0, seed=1)
    assert idx.tolist() == list(range(6000)) and set(weight) == {1.0}
    assert label[:3000].sum() == 0                       # lowest band: bad rate 0 among approved
    assert label[3000:].mean() == 1.0                    # top band: every approved row was bad
    _, halved, _ = infer("parcelling", np.full(4000, 0.95), pd_fit, y_fit, 0.5, seed=1)
    assert halved.mean() == pytest.approx(0.5, abs=0.03)


def test_weights_count_like_repeated_rows_in_woe_binning():
    # Would fail if a weight were not the same as repeating the row: the WoE, IV and bins of weight-2 rows must
    # equal those of the same rows written twice (numeric and categorical).
    rng = np.random.default_rng(5)
    n = 601                                  # total weight 802: no quantile falls exactly between two rows
    x = rng.normal(size=n)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-x))).astype(float)
    cat = pd.Series(rng.choice(list("abcd"), n))
    w = np.where(np.arange(n) % 3 == 0, 2.0, 1.0)
    rep = np.repeat(np.arange(n), w.astype(int))
    for weighted, repeated in (
        (fit_numeric("x", x, y, 10, 0.05, weights=w), fit_numeric("x", x[rep], y[rep], 10, 0.05)),
        (fit_categorical("c", cat, y, 0.05, weights=w), fit_categorical("c", cat.iloc[rep].reset_index(drop=True),
                                                                        y[rep], 0.05)),
    ):
        assert weighted.totals.tolist() == repeated.totals.tolist()
        assert weighted.bads.tolist() == repeated.bads.tolist()
        assert weighted.woe == pytest.approx(repeated.woe)
        assert weighted.iv == pytest.approx(repeated.iv)
    # weights of one change nothing
    plain = fit_numeric("x", x, y, 10, 0.05)
    assert fit_numeric("x", x, y, 10, 0.05, weights=np.ones(n)).woe.tolist() == plain.woe.tolist()


# ------------------------------------------------------------------------------------------ end to end

@pytest.fixture(scope="module")
def applications(tmp_path_factory):
    folder = tmp_path_factory.mktemp("applications")
    path = folder / "applications.csv"
    return path, write_applications(path)


def test_fuzzy_reject_inference_end_to_end(applications, tmp_path):
    # Would fail if either model's figures were missing, if the two were not measured on the same approved test
    # rows, if rejected rows did not enter twice with weights p and 1 - p from the accepted-only model, or if
    # the report's inferred totals disagreed with the per-application file.
    path, truth = applications
    report_path, scores_path, html = tmp_path / "ri.json", tmp_path / "apps.csv", tmp_path / "ri.html"
    assert main(["--applications", str(path), "--report", str(report_path), "--applications-scores",
                 str(scores_path), "--html", str(html), "--quiet"]) == 0
    r = json.loads(report_path.read_text())
    n_rej = int((truth["decision"] == "rejected").sum())
    assert r["mode"] == "applications" and r["method"] == "fuzzy" and r["status"] == "trained"
    for part in ("accepted_only", "with_reject_inference"):
        assert all(np.isfinite(r[part][k]) for k in FIGURES)
        assert 0.6 < r[part]["roc_auc"] <= 1.0
    assert all(r[k] == r["with_reject_inference"][k] for k in FIGURES)   # top level = the final model
    assert r["rows"]["rejected"] == n_rej and r["rows"]["inferred_rows"] == 2 * n_rej
    assert r["rows"]["approved_with_outcome"] == len(truth) - n_rej
    assert r["rows"]["fit"] + r["rows"]["validation"] + r["rows"]["test"] == r["rows"]["approved_with_outcome"]

    apps = pd.read_csv(scores_path)
    assert len(apps) == len(truth) and apps["application_id"].is_unique
    rej = apps[apps["decision"] == "rejected"]
    assert rej["inferred_bad_weight"].between(0, 1).all()
    # fuzzy, factor 1: the bad weight is exactly the accepted-only PD
    assert rej["inferred_bad_weight"].to_numpy() == pytest.approx(rej["pd_accepted_only"].to_numpy())
    assert apps.loc[apps["decision"] == "approved", "inferred_bad_weight"].isna().all()
    assert r["rejects"]["inferred_bads"] == pytest.approx(rej["inferred_bad_weight"].sum())
    approved_bads = (truth["outcome_bad"] == "1").sum()
    assert r["through_the_door_bad_rate"] == pytest.approx((approved_bads + r["rejects"]["inferred_bads"]) / len(truth))
    # rejected applicants are riskier in truth, and the accepted-only model already sees part of that
    assert truth.loc[truth["decision"] == "rejected", "true_bad"].mean() > truth.loc[
        truth["decision"] == "approved", "true_bad"].mean()
    assert r["rejects"]["mean_pd_accepted_only"] > r["rows"]["approved_bad_rate"]
    assert apps["explanation_en"].str.len().gt(20).all() and apps["explanation_zh"].str.len().gt(10).all()
    assert rej["explanation_en"].str.contains("weight").all()
    assert "reject inference" in html.read_text()


def test_parcelling_option_and_bad_rate_factor(applications, tmp_path):
    # Would fail if parcelling did not enter each rejected row once with a drawn 0/1 outcome, or if the factor
    # did not raise the inferred bad rate.
    path, truth = applications
    n_rej = int((truth["decision"] == "rejected").sum())
    rates = {}
    for factor in (1.0, 2.0):
        report_path = tmp_path / f"parcel{factor}.json"
        assert main(["--applications", str(path), "--report", str(report_path), "--reject-method", "parcelling",
                     "--reject-bad-rate-factor", str(factor), "--model-type", "scorecard", "--quiet"]) == 0
        r = json.loads(report_path.read_text())
        assert r["method"] == "parcelling" and r["rows"]["inferred_rows"] == n_rej
        assert float(r["rejects"]["inferred_bads"]).is_integer()
        rates[factor] = r["rejects"]["inferred_bad_rate"]
    assert rates[2.0] > 1.5 * rates[1.0]


def test_applications_file_errors_are_data_errors(tmp_path):
    # Would fail if a malformed applications file crashed or trained on nonsense instead of exiting 3.
    bad = tmp_path / "apps.csv"
    bad.write_text("application_id,application_date,decision,outcome_bad,x\nA1,2025-01-01,maybe,1,3\n")
    assert main(["--applications", str(bad), "--report", str(tmp_path / "r.json"), "--quiet"]) == 3
    bad.write_text("application_id,decision,outcome_bad,x\nA1,approved,1,3\n")
    assert main(["--applications", str(bad), "--report", str(tmp_path / "r.json"), "--quiet"]) == 3
