"""Cleaning, WoE binning, IV / information gain and feature selection on small hand-checkable data."""

import math

import numpy as np
import pandas as pd
import pytest

from arrears.risk.binning import WoEBinner, fit_categorical, fit_numeric, information_gain, woe_iv
from arrears.risk.data import KIND_INT_CAT, KIND_NUMERIC, KIND_TEXT_CAT, MISSING, Cleaner, DataError, coerce_label
from arrears.risk.selection import select_features

pytestmark = pytest.mark.fast

# Two-bin toy: bin a = 40 goods + 10 bads, bin b = 60 goods + 40 bads (100 goods, 50 bads in all).
# WoE_a = ln(0.4 / 0.2) = ln 2, WoE_b = ln(0.6 / 0.8) = ln 0.75
# IV = (0.4 - 0.2) ln 2 + (0.6 - 0.8) ln 0.75 = 0.196166...
WOE_A, WOE_B = math.log(2.0), math.log(0.75)
IV_TOY = 0.2 * math.log(2.0) - 0.2 * math.log(0.75)


def _toy():
    cat = ["a"] * 50 + ["b"] * 100
    y = [0] * 40 + [1] * 10 + [0] * 60 + [1] * 40
    return pd.Series(cat, dtype="object"), np.array(y, dtype=float)


def _h(p):
    return -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


def test_woe_iv_from_counts():
    woe, contrib, iv = woe_iv(np.array([40, 60]), np.array([10, 40]))
    assert woe.tolist() == pytest.approx([WOE_A, WOE_B])
    assert iv == pytest.approx(IV_TOY)
    assert contrib.sum() == pytest.approx(IV_TOY)


def test_categorical_two_bin_toy():
    cat, y = _toy()
    b = fit_categorical("x", cat, y, min_bin_frac=0.05)
    assert b.labels == ["a", "b"]
    assert b.woe.tolist() == pytest.approx([WOE_A, WOE_B])
    assert b.iv == pytest.approx(IV_TOY)
    # information gain = H(1/3) - (1/3) H(0.2) - (2/3) H(0.4)
    assert b.ig == pytest.approx(_h(1 / 3) - _h(0.2) / 3 - 2 * _h(0.4) / 3)
    assert b.transform(pd.Series(["b", "a"])).tolist() == pytest.approx([WOE_B, WOE_A])


def test_numeric_two_value_toy_gives_the_same_bins():
    cat, y = _toy()
    x = np.where(cat == "a", 1.0, 2.0)
    b = fit_numeric("x", x, y, n_initial_bins=10, min_bin_frac=0.05)
    assert b.edges.tolist() == [1.0]                     # right-closed: (-inf, 1], (1, +inf)
    assert b.woe.tolist() == pytest.approx([WOE_A, WOE_B])
    assert b.iv == pytest.approx(IV_TOY)


def test_information_gain_zero_when_bins_do_not_separate():
    assert information_gain(np.array([10, 10]), np.array([5, 5])) == pytest.approx(0.0)


def test_numeric_bins_are_monotone_and_not_too_small():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 10, 4000)
    p = 0.05 + 0.4 * (x / 10) + 0.08 * np.sin(3 * x)      # rising with wiggles
    y = (rng.uniform(size=x.size) < p).astype(float)
    b = fit_numeric("x", x, y, n_initial_bins=20, min_bin_frac=0.05)
    rates = b.bads / b.totals
    assert np.all(np.diff(rates) >= 0), rates
    assert (b.totals >= 0.05 * len(x)).all()
    assert len(b.labels) >= 3


def test_numeric_missing_is_its_own_bin():
    rng = np.random.default_rng(1)
    x = rng.normal(size=1000)
    y = (rng.uniform(size=1000) < 0.2).astype(float)
    x[:100] = np.nan
    y[:100] = 1.0                                            # missing means bad here
    b = fit_numeric("x", x, y)
    assert b.labels[-1] == "missing" and b.totals[-1] == 100
    assert b.transform(pd.Series([np.nan]))[0] == pytest.approx(b.woe[-1])
    assert b.woe[-1] < -2                                    # all bad -> strongly negative WoE


def test_categorical_rare_categories_are_pooled_and_unseen_go_to_the_pool():
    cats = ["x"] * 400 + ["y"] * 400 + ["r1"] * 30 + ["r2"] * 30 + ["r3"] * 20
    y = np.array([0, 1] * 440, dtype=float)
    b = fit_categorical("c", pd.Series(cats), y, min_bin_frac=0.05)
    assert len(b.labels) == 3 and b.labels[-1].startswith("__other__")
    assert b.category_bin["r1"] == b.category_bin["r3"] == 2
    assert b.transform(pd.Series(["never-seen"]))[0] == pytest.approx(b.woe[2])


def test_cleaner_types_and_missing_tokens():
    frame = pd.DataFrame({
        "num_text": ["1.5", "NA", "", "3", "null"] * 20,
        "code": [1, 2, 3, 1, 2] * 20,
        "region": ["north", "south", "NA", "", "east"] * 20,
        "ref": [f"r{i}" for i in range(100)],
        "const": [7] * 100,
    })
    c = Cleaner().fit(frame, list(frame.columns))
    assert c.columns["num_text"].kind == KIND_NUMERIC and c.columns["num_text"].n_missing == 60
    assert c.columns["code"].kind == KIND_INT_CAT
    assert c.columns["region"].kind == KIND_TEXT_CAT and c.columns["region"].n_missing == 40
    assert "ref" in c.dropped and "const" in c.dropped
    typed = c.typed_frame(frame)
    assert typed["region"].iloc[2] == MISSING and typed["region"].iloc[3] == MISSING
    assert np.isnan(typed["num_text"].iloc[1])
    X, names, cats = c.gbm_matrix(frame, ["num_text", "region"])
    assert names == ["num_text", "num_text__missing", "region"]
    assert X[1, 0] == pytest.approx(c.columns["num_text"].median) and X[1, 1] == 1.0
    assert cats.tolist() == [False, False, True]


def test_label_coercion():
    assert coerce_label(pd.Series(["yes", "no", None, "YES"])).tolist()[:2] == [1.0, 0.0]
    assert np.isnan(coerce_label(pd.Series([1, None, 0]))[1])
    with pytest.raises(DataError):
        coerce_label(pd.Series([0, 1, 2]))
    with pytest.raises(DataError):
        coerce_label(pd.Series(["cat", "dog"]))


def test_selection_iv_threshold_and_correlation():
    rng = np.random.default_rng(2)
    base = rng.normal(size=500)
    woe = pd.DataFrame({"strong": base, "twin": base + rng.normal(scale=0.05, size=500),
                        "other": rng.normal(size=500), "weak": rng.normal(size=500)})
    iv = {"strong": 0.5, "twin": 0.4, "other": 0.1, "weak": 0.01}
    selected, dropped = select_features(iv, woe, iv_threshold=0.02, max_corr=0.8)
    assert selected == ["strong", "other"]
    assert "strong" in dropped["twin"] and "IV" in dropped["weak"]


def test_binner_fits_every_column_kind():
    frame = pd.DataFrame({"n": np.r_[np.arange(90.0), [np.nan] * 10], "c": ["p", "q"] * 50})
    y = np.array([0, 1, 0, 0] * 25, dtype=float)
    binner = WoEBinner().fit(frame, y)
    assert binner.bins["n"].kind == "numeric" and binner.bins["c"].kind == "categorical"
    assert binner.transform(frame).shape == (100, 2)
    assert {r["feature"] for r in binner.iv_table()} == {"n", "c"}
