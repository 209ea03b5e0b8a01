"""Scorecard points: the scaling rule (base score at base odds, PDO doubles the odds) and the points table."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.risk.binning import WoEBinner
from arrears.risk.scorecard import ScoreBands, Scorecard, ScoreScaling

pytestmark = pytest.mark.fast


def _pd_for_odds(odds: float) -> float:
    return 1.0 / (1.0 + odds)            # odds = good:bad = (1 - pd) / pd


def test_default_scaling_constants():
    s = ScoreScaling()
    assert s.factor == pytest.approx(20 / math.log(2))                  # 28.8539
    assert s.offset == pytest.approx(600 - 20 / math.log(2) * math.log(50))  # 487.1229
    assert float(s.points_from_pd(_pd_for_odds(50))) == pytest.approx(600)
    assert float(s.points_from_pd(_pd_for_odds(100))) == pytest.approx(620)
    assert float(s.points_from_pd(_pd_for_odds(25))) == pytest.approx(580)


@settings(max_examples=60, deadline=None)
@given(odds=st.floats(0.01, 1e4), base=st.floats(300, 900), base_odds=st.floats(1, 200), pdo=st.floats(5, 80))
def test_doubling_the_odds_adds_pdo_points(odds, base, base_odds, pdo):
    s = ScoreScaling(base, base_odds, pdo)
    gained = float(s.points_from_pd(_pd_for_odds(2 * odds)) - s.points_from_pd(_pd_for_odds(odds)))
    assert gained == pytest.approx(pdo, abs=1e-6)
    assert float(s.points_from_pd(_pd_for_odds(base_odds))) == pytest.approx(base, abs=1e-6)
    assert float(s.pd_from_points(s.points_from_pd(_pd_for_odds(odds)))) == pytest.approx(
        _pd_for_odds(odds), rel=1e-6)


def test_bands_follow_points():
    s = ScoreScaling()
    bands = ScoreBands.from_pd_cutoffs(s, (0.02, 0.05, 0.10, 0.20))
    assert bands.edges == sorted(bands.edges, reverse=True)
    assert bands.assign([700, bands.edges[0], bands.edges[0] - 1, bands.edges[3] - 1]).tolist() == \
        ["A", "A", "B", "E"]


def _fitted(pca=None):
    rng = np.random.default_rng(7)
    n = 3000
    frame = pd.DataFrame({"util": rng.uniform(0, 1.2, n), "late": rng.poisson(0.7, n).astype(float),
                          "region": rng.choice(["n", "s", "e"], n)})
    logit = -2.5 + 2.0 * frame["util"] + 0.8 * frame["late"] + (frame["region"] == "s") * 0.6
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(float)
    binner = WoEBinner().fit(frame, y)
    woe = binner.transform(frame)
    return frame, woe, y, Scorecard(pca_components=pca).fit(woe, y, binner)


def test_scorecard_points_match_scaled_log_odds():
    frame, woe, y, sc = _fitted()
    pd_ = sc.predict_pd(woe)
    exact = sc.scaling.points_from_pd(pd_)
    points = sc.score_points(frame)
    assert points.dtype.kind == "i"
    # each feature's points are rounded once: the total is within 0.5 point per feature of the exact score
    assert np.max(np.abs(points - exact)) <= 0.5 * len(sc.features) + 1e-9
    assert (sc.weights < 0).all()                           # WoE = ln(good/bad): safer bins, lower PD


def test_points_table_gives_more_points_to_safer_bins():
    _, _, _, sc = _fitted()
    table = pd.DataFrame(sc.points_table())
    for _, rows in table.groupby("feature"):
        ordered = rows.sort_values("woe")
        assert ordered["points"].is_monotonic_increasing
    assert set(table["feature"]) == set(sc.features)


def test_pca_scorecard_folds_back_to_feature_weights():
    frame, woe, y, sc = _fitted(pca=2)
    z = sc.intercept + woe[sc.features].to_numpy() @ sc.weights
    assert np.allclose(sc.predict_pd(woe), 1 / (1 + np.exp(-z)))
    points = sc.score_points(frame)
    assert np.max(np.abs(points - sc.scaling.points_from_pd(sc.predict_pd(woe)))) <= 0.5 * len(sc.features) + 1e-9
