"""Risk metrics against values worked out by hand on tiny examples.

Toy example used throughout (label 1 = bad, score = predicted PD):

    score  0.9  0.8  0.7  0.6  0.6  0.55
    label   1    1    0    1    0    0

Bads {0.9, 0.8, 0.6}, goods {0.7, 0.6, 0.55}. Pairs where the bad outranks the good: 0.9 -> 3, 0.8 -> 3,
0.6 -> 1 (over 0.55) + 1/2 (tie with 0.6) = 1.5; AUC = 7.5 / 9.
"""

import math

import numpy as np
import pytest

from arrears.risk import metrics

pytestmark = pytest.mark.fast

Y = np.array([1, 1, 0, 1, 0, 0])
S = np.array([0.9, 0.8, 0.7, 0.6, 0.6, 0.55])


def test_auc_counts_ties_as_half():
    # wrong if ties were counted as wins/losses or ranks were not averaged
    assert metrics.roc_auc(Y, S) == pytest.approx(7.5 / 9)


def test_auc_is_order_invariant_and_nan_for_one_class():
    perm = np.array([5, 2, 0, 4, 1, 3])
    assert metrics.roc_auc(Y[perm], S[perm]) == pytest.approx(7.5 / 9)
    assert math.isnan(metrics.roc_auc(np.ones(4), np.arange(4.0)))


def test_gini_is_two_auc_minus_one():
    assert metrics.gini(7.5 / 9) == pytest.approx(2 * 7.5 / 9 - 1)


def test_ks_is_max_tpr_minus_fpr():
    # thresholds (predict bad if score >= t): 0.9 -> 1/3-0, 0.8 -> 2/3-0, 0.7 -> 2/3-1/3, 0.6 -> 1-2/3, 0.55 -> 0
    ks, threshold = metrics.ks_statistic(Y, S)
    assert ks == pytest.approx(2 / 3)
    assert threshold == pytest.approx(0.8)


def test_roc_curve_groups_tied_scores():
    fpr, tpr, thr = metrics.roc_curve(Y, S)
    assert list(thr[1:]) == [0.9, 0.8, 0.7, 0.6, 0.55]
    assert fpr.tolist() == pytest.approx([0, 0, 0, 1 / 3, 2 / 3, 1])
    assert tpr.tolist() == pytest.approx([0, 1 / 3, 2 / 3, 2 / 3, 1, 1])


def test_precision_recall_f1_accuracy_at_threshold():
    # PD >= 0.58 flags 0.9, 0.8, 0.7, 0.6, 0.6: tp 3, fp 2, fn 0, tn 1
    m = metrics.confusion(Y, (S >= 0.58).astype(float))
    assert (m["tp"], m["fp"], m["fn"], m["tn"]) == (3, 2, 0, 1)
    assert m["precision"] == pytest.approx(0.6)
    assert m["recall"] == pytest.approx(1.0)
    assert m["f1"] == pytest.approx(0.75)
    assert m["accuracy"] == pytest.approx(4 / 6)


def test_precision_is_zero_when_nothing_flagged():
    m = metrics.confusion(Y, np.zeros(6))
    assert m["precision"] == 0.0 and m["recall"] == 0.0 and m["f1"] == 0.0


def test_f1_threshold_picks_the_best_cut():
    # F1 by threshold: 0.9 -> 0.5, 0.8 -> 0.8, 0.7 -> 0.667, 0.6 -> 0.75, 0.55 -> 0.667
    threshold, f1 = metrics.choose_threshold_f1(Y, S)
    assert threshold == pytest.approx(0.8)
    assert f1 == pytest.approx(0.8)


def test_psi_hand_computed_two_bins():
    # expected [1,2,3,4]: median edge 2.5, shares 0.5/0.5; actual [1,3,4,5]: shares 0.25/0.75
    # PSI = (0.25-0.5) ln(0.25/0.5) + (0.75-0.5) ln(0.75/0.5)
    out = metrics.psi([1, 2, 3, 4], [1, 3, 4, 5], n_bins=2)
    assert out["edges"] == [2.5]
    assert out["psi"] == pytest.approx(0.25 * math.log(2) + 0.25 * math.log(1.5))
    assert out["band"] == "act"                             # 0.2747 > 0.25


def test_psi_deciles_same_distribution_is_zero_and_shift_is_large():
    base = np.arange(1000.0)
    assert metrics.psi(base, base)["psi"] == pytest.approx(0.0)
    shifted = metrics.psi(base, base + 500)
    assert len(shifted["table"]) == 10
    assert shifted["psi"] > 0.25 and shifted["band"] == "act"


def test_psi_bins_are_lower_inclusive():
    # a value equal to an edge belongs to the bin above it (lower <= x < upper)
    counts, _ = metrics.bin_shares([1.0, 2.0, 3.0], [2.0])
    assert counts.tolist() == [1.0, 2.0]


def test_calibration_table_by_hand():
    p = np.array([0.1] * 5 + [0.9] * 5)
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 0])
    cal = metrics.calibration_table(y, p, n_bins=2)
    rows = cal["table"]
    assert [r["count"] for r in rows] == [5, 5]
    assert [r["mean_pd"] for r in rows] == pytest.approx([0.1, 0.9])
    assert [r["observed_rate"] for r in rows] == pytest.approx([0.2, 0.8])
    assert cal["brier"] == pytest.approx((4 * 0.01 + 0.81 + 4 * 0.01 + 0.81) / 10)


def test_evaluate_bundles_the_metrics():
    out = metrics.evaluate(Y, S, 0.58)
    assert out["roc_auc"] == pytest.approx(7.5 / 9)
    assert out["ks"] == pytest.approx(2 / 3)
    assert out["f1"] == pytest.approx(0.75)
    assert out["threshold"] == 0.58
