"""Evaluation metrics written out in full (no black boxes), so each can be checked by hand.

Label 1 = bad (the event predicted); ``score`` arguments are risk scores: higher = more likely bad (a PD).
Pass ``-points`` for scorecard points, where higher means safer.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def _arrays(y, score) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype="float64")
    s = np.asarray(score, dtype="float64")
    if y.shape != s.shape:
        raise ValueError("label and score lengths differ")
    return y, s


def roc_auc(y, score) -> float:
    """Probability that a random bad scores above a random good (ties count one half).

    Mann-Whitney form: ``(sum of bad ranks - nb (nb + 1) / 2) / (nb * ng)`` with average ranks for ties.
    NaN when only one class is present.
    """
    y, s = _arrays(y, score)
    nb = float((y == 1).sum())
    ng = float((y == 0).sum())
    if nb == 0 or ng == 0:
        return float("nan")
    ranks = stats.rankdata(s, method="average")
    return float((ranks[y == 1].sum() - nb * (nb + 1) / 2) / (nb * ng))


def roc_curve(y, score) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds): predicting bad when ``score >= threshold``; starts at (0, 0) with threshold +inf."""
    y, s = _arrays(y, score)
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    last_of_tie = np.r_[np.nonzero(np.diff(s_sorted))[0], len(s_sorted) - 1]
    tp = np.cumsum(y_sorted)[last_of_tie]
    fp = np.cumsum(1 - y_sorted)[last_of_tie]
    nb, ng = max(y.sum(), 1e-300), max((1 - y).sum(), 1e-300)
    return (np.r_[0.0, fp / ng], np.r_[0.0, tp / nb], np.r_[np.inf, s_sorted[last_of_tie]])


def ks_statistic(y, score) -> tuple[float, float]:
    """Kolmogorov-Smirnov: ``max(TPR - FPR)`` over thresholds, and the threshold where it is reached."""
    fpr, tpr, thr = roc_curve(y, score)
    gap = tpr - fpr
    i = int(np.argmax(gap))
    return float(gap[i]), float(thr[i])


def gini(auc: float) -> float:
    return 2.0 * auc - 1.0


def confusion(y, predicted) -> dict:
    """Counts and rates for hard predictions (1 = predicted bad). Precision is 0 when nothing is predicted bad."""
    y = np.asarray(y, dtype="float64")
    p = np.asarray(predicted, dtype="float64")
    tp = int(((p == 1) & (y == 1)).sum())
    fp = int(((p == 1) & (y == 0)).sum())
    tn = int(((p == 0) & (y == 0)).sum())
    fn = int(((p == 0) & (y == 1)).sum())
    n = tp + fp + tn + fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "fp": fp, "tn": tn, "fn": fn, "accuracy": (tp + tn) / n if n else float("nan"),
            "precision": precision, "recall": recall, "f1": f1}


def choose_threshold_f1(y, pd_) -> tuple[float, float]:
    """Threshold on the PD maximising F1 when predicting bad for ``pd >= threshold``; returns (threshold, F1).

    Every distinct PD is a candidate; ties in F1 go to the higher threshold (fewer actions).
    """
    y, s = _arrays(y, pd_)
    fpr, tpr, thr = roc_curve(y, s)
    nb, ng = y.sum(), (1 - y).sum()
    tp, fp = tpr[1:] * nb, fpr[1:] * ng
    fn = nb - tp
    f1 = np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros_like(tp), where=(2 * tp + fp + fn) > 0)
    i = int(np.argmax(f1))           # thresholds descend, so argmax takes the highest of equal F1s
    return float(thr[1:][i]), float(f1[i])


def decile_edges(expected, n_bins: int = 10) -> np.ndarray:
    """Interior edges at the quantiles of ``expected`` (duplicates removed, so fewer bins on tied data)."""
    e = np.asarray(expected, dtype="float64")
    return np.unique(np.quantile(e, np.linspace(0, 1, n_bins + 1)[1:-1]))


def bin_shares(values, edges) -> tuple[np.ndarray, np.ndarray]:
    """Counts and shares per bin; bin ``k`` holds ``edges[k-1] <= x < edges[k]`` (open at both ends)."""
    v = np.asarray(values, dtype="float64")
    idx = np.searchsorted(np.asarray(edges, dtype="float64"), v, side="right")
    counts = np.bincount(idx, minlength=len(edges) + 1).astype("float64")
    return counts, counts / max(counts.sum(), 1.0)


def psi(expected, actual, n_bins: int = 10, edges=None, floor: float = 1e-4) -> dict:
    """Population stability index ``sum (a - e) * ln(a / e)`` over bins cut at the deciles of ``expected``.

    Shares below ``floor`` are raised to it (an empty bin would make the index infinite).
    Bands: < 0.10 stable, 0.10-0.25 watch, > 0.25 act.
    """
    edges = decile_edges(expected, n_bins) if edges is None else np.asarray(edges, dtype="float64")
    e_counts, e_share = bin_shares(expected, edges)
    a_counts, a_share = bin_shares(actual, edges)
    e_f, a_f = np.maximum(e_share, floor), np.maximum(a_share, floor)
    terms = (a_f - e_f) * np.log(a_f / e_f)
    value = float(terms.sum())
    lower = np.r_[-np.inf, edges]
    upper = np.r_[edges, np.inf]
    table = [{"bin": i + 1, "lower": _finite(lo), "upper": _finite(hi), "expected_share": float(es),
              "actual_share": float(as_), "term": float(t)}
             for i, (lo, hi, es, as_, t) in enumerate(zip(lower, upper, e_share, a_share, terms))]
    return {"psi": value, "band": psi_band(value), "edges": edges.tolist(), "table": table}


def psi_band(value: float) -> str:
    return "stable" if value < 0.10 else ("watch" if value <= 0.25 else "act")


def _finite(x: float) -> float | None:
    return None if not math.isfinite(x) else float(x)


def calibration_table(y, pd_, n_bins: int = 10) -> dict:
    """Deciles of predicted PD: count, bads, mean predicted PD, observed bad rate; plus Brier and Hosmer-Lemeshow."""
    y, p = _arrays(y, pd_)
    edges = decile_edges(p, n_bins)
    idx = np.searchsorted(edges, p, side="right")
    rows, hl = [], 0.0
    for k in range(len(edges) + 1):
        m = idx == k
        n = int(m.sum())
        if n == 0:
            continue
        mean_pd, observed = float(p[m].mean()), float(y[m].mean())
        rows.append({"bin": k + 1, "pd_min": float(p[m].min()), "pd_max": float(p[m].max()), "count": n,
                     "bads": int(y[m].sum()), "mean_pd": mean_pd, "observed_rate": observed,
                     "difference": observed - mean_pd})
        if 0 < mean_pd < 1:
            hl += n * (observed - mean_pd) ** 2 / (mean_pd * (1 - mean_pd))
    dof = max(len(rows) - 2, 1)
    return {"table": rows, "brier": float(np.mean((p - y) ** 2)), "mean_pd": float(p.mean()),
            "observed_rate": float(y.mean()), "hosmer_lemeshow": float(hl),
            "hosmer_lemeshow_p": float(stats.chi2.sf(hl, dof))}


def evaluate(y, pd_, threshold: float) -> dict:
    """Every test metric for one model at a fixed threshold (predict bad when ``pd >= threshold``)."""
    y, p = _arrays(y, pd_)
    auc = roc_auc(y, p)
    ks, ks_thr = ks_statistic(y, p)
    out = {"roc_auc": auc, "ks": ks, "ks_threshold": ks_thr, "gini": gini(auc)}
    out.update(confusion(y, (p >= threshold).astype(float)))
    out["threshold"] = float(threshold)
    out["n"] = int(len(y))
    out["bad_rate"] = float(y.mean()) if len(y) else float("nan")
    return out
