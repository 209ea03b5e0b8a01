"""CSV mode of scripts/train_risk_model.py: the public UCI benchmark and a messy hand-made table."""

import json
import os
import pathlib
import pickle
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from arrears.paths import ROOT
from arrears.risk.cli import main

pytestmark = pytest.mark.fast

REQUIRED = ("roc_auc", "ks", "accuracy", "precision", "recall", "f1")
PER_MODEL = ("roc_auc", "ks", "gini", "accuracy", "precision", "recall", "f1", "threshold", "threshold_rule", "psi")


def _uci() -> pathlib.Path:
    root = os.environ.get("ARREARS_DATASETS_DIR")
    if not root:
        pytest.skip("ARREARS_DATASETS_DIR not set")
    path = pathlib.Path(root) / "uci_default_credit_card_taiwan" / "default_of_credit_card_clients.csv"
    if not path.exists():
        pytest.skip(f"{path} not present")
    return path


def test_uci_end_to_end_reaches_published_auc(tmp_path):
    """The script, run as users run it, on the UCI Taiwan data: AUC near the published 0.77-0.78, in time."""
    csv = _uci()
    report, html, model = tmp_path / "uci.json", tmp_path / "uci.html", tmp_path / "uci.pkl"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_risk_model.py"), "--csv", str(csv),
         "--label", "default.payment.next.month", "--id", "ID", "--report", str(report), "--html", str(html),
         "--model", str(model), "--seed", "42", "--test-size", "0.3", "--quiet"],
        capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    assert elapsed < 60, f"took {elapsed:.0f} s"
    r = json.loads(report.read_text())
    for key in REQUIRED:
        assert isinstance(r[key], float), key
    assert r["roc_auc"] >= 0.75
    assert set(r["models"]) == {"scorecard", "gbm"}
    for name, m in r["models"].items():
        assert all(k in m for k in PER_MODEL), name
        assert len(m["calibration"]["table"]) == 10
        assert m["roc_auc"] >= 0.74, name
    primary = r["primary_model"]
    assert r["roc_auc"] == r["models"][primary]["roc_auc"]
    # primary chosen on validation, not on test
    assert primary == max(r["validation_roc_auc"], key=r["validation_roc_auc"].get)
    assert r["rows"]["test"] == 9000 and r["rows"]["train"] == 21000 and r["seed"] == 42
    assert "ID" not in r["features"]["selected"] and "ID" not in r["features"]["gbm_features"]
    assert r["scorecard"]["points_table"] and r["features"]["iv_table"]
    assert r["elapsed_seconds"] > 0
    text = html.read_text()
    assert text.count("<svg") >= 4
    assert "<script" not in text and "<link" not in text and "cdn" not in text.lower()
    with open(model, "rb") as fh:
        bundle = pickle.load(fh)
    sample = pd.read_csv(csv, nrows=5)
    assert bundle.score_frame(sample)["pd"].between(0, 1).all()


def _messy_table(n: int = 1200, seed: int = 3) -> pd.DataFrame:
    """Text categoricals, 'NA' and empty cells, a yes/no label, an id column."""
    rng = np.random.default_rng(seed)
    region = rng.choice(["north", "south", "east", "west", "NA", ""], n, p=[0.3, 0.3, 0.15, 0.15, 0.05, 0.05])
    income = rng.lognormal(10, 0.5, n)
    util = rng.uniform(0, 1.3, n)
    logit = -2 + 2.2 * util - 0.4 * (np.log(income) - 10) + np.where(region == "south", 0.8, 0.0)
    bad = rng.uniform(size=n) < 1 / (1 + np.exp(-logit))
    income_txt = np.array([f"{v:.2f}" for v in income], dtype=object)
    income_txt[rng.uniform(size=n) < 0.08] = "NA"
    income_txt[rng.uniform(size=n) < 0.04] = ""
    return pd.DataFrame({"ref": [f"C{i:05d}" for i in range(n)], "region": region, "income": income_txt,
                         "utilisation": np.round(util, 3), "grade": rng.choice(list("ABCD"), n),
                         "outcome": np.where(bad, "yes", "no")})


def test_csv_with_text_categories_and_na_values(tmp_path):
    csv = tmp_path / "messy.csv"
    _messy_table().to_csv(csv, index=False)
    report = tmp_path / "r.json"
    code = main(["--csv", str(csv), "--label", "outcome", "--id", "ref", "--report", str(report),
                 "--html", str(tmp_path / "r.html"), "--quiet"])
    assert code == 0
    r = json.loads(report.read_text())
    kinds = {c["feature"]: c["kind"] for c in r["features"]["columns"]}
    assert kinds["region"] == "text_categorical" and kinds["income"] == "numeric"
    assert "ref" not in kinds
    income = next(c for c in r["features"]["columns"] if c["feature"] == "income")
    assert income["n_missing"] > 0
    assert all(k in r for k in REQUIRED)
    assert r["roc_auc"] > 0.6
    bins = [b["bin"] for b in r["features"]["bins"] if b["feature"] == "income"]
    if bins:                                 # income selected: its missing values form their own bin
        assert "missing" in bins
    assert (tmp_path / "r.html").read_text().count("<svg") >= 4


def test_pca_option_and_single_model(tmp_path):
    csv = tmp_path / "messy.csv"
    _messy_table(800, seed=4).to_csv(csv, index=False)
    report = tmp_path / "p.json"
    assert main(["--csv", str(csv), "--label", "outcome", "--report", str(report), "--pca", "2",
                 "--model-type", "scorecard", "--quiet"]) == 0
    r = json.loads(report.read_text())
    assert list(r["models"]) == ["scorecard"] and r["primary_model"] == "scorecard"
    assert r["config"]["pca"] == 2 and len(r["scorecard"]["pca_explained_variance"]) == 2


def test_bad_input_gives_meaningful_exit_codes(tmp_path):
    csv = tmp_path / "t.csv"
    _messy_table(300).to_csv(csv, index=False)
    assert main(["--csv", str(csv), "--label", "no_such_column", "--report", str(tmp_path / "x.json"),
                 "--quiet"]) == 3
    one_class = _messy_table(300).assign(outcome="no")
    one_class.to_csv(csv, index=False)
    assert main(["--csv", str(csv), "--label", "outcome", "--report", str(tmp_path / "x.json"), "--quiet"]) == 3
    with pytest.raises(SystemExit) as exc:
        main(["--csv", str(csv), "--label", "outcome"])            # no --report
    assert exc.value.code == 2
    assert not (tmp_path / "x.json").exists()
