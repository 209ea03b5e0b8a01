"""Features engineered from repayment histories, for any bureau-style table.

A *history* is a family of numeric columns that share a name and differ by a trailing number (``PAY_AMT1`` ..
``PAY_AMT6``, ``dpd_m1`` .. ``dpd_m12``): one value per period. Per history of at least three periods: mean,
max, min, spread, trend (least-squares slope over the period number), the first period against the mean of
the others (the latest change when period 1 is the latest, as in bureau files), and the count of periods above
zero. Between two histories of the same length whose values are amounts (non-negative in 95% of rows): the
ratio of their sums and the ratio period by period (payments against bills: the payment ratio). Against every
column named like a limit (``limit``, ``credit_line``): the mean and the first period of each amount history
over it (utilisation). Nothing is fitted: the same rows give the same features on any split, so the
engineering cannot leak the test rows' labels.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

_PERIOD = re.compile(r"^(?P<stem>.*?[A-Za-z_])_?(?P<n>\d{1,2})$")
_LIMIT = re.compile(r"limit|credit_line", re.IGNORECASE)
MIN_PERIODS = 3


@dataclass
class Engineered:
    frame: pd.DataFrame                       # the input columns and the new ones
    new_columns: list[str] = field(default_factory=list)
    histories: dict[str, list[str]] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)


def histories(frame: pd.DataFrame, candidates: list[str]) -> dict[str, list[str]]:
    """Numeric candidate columns grouped by stem, in period order; only stems with >= MIN_PERIODS periods."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for col in candidates:
        m = _PERIOD.match(str(col))
        if m and pd.api.types.is_numeric_dtype(frame[col]) and frame[col].nunique(dropna=True) > 1:
            groups.setdefault(m.group("stem").rstrip("_"), []).append((int(m.group("n")), col))
    return {stem: [c for _, c in sorted(cols)] for stem, cols in groups.items() if len(cols) >= MIN_PERIODS}


def _safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / np.where(np.abs(den) < 1.0, np.nan, den)
    return np.clip(out, -1e3, 1e3)


def engineer(frame: pd.DataFrame, candidates: list[str]) -> Engineered:
    hist = histories(frame, candidates)
    new: dict[str, np.ndarray] = {}
    log = []
    amounts = {}
    for stem, cols in hist.items():
        a = frame[cols].to_numpy(dtype="float64")
        k = a.shape[1]
        t = np.arange(k, dtype="float64") - (k - 1) / 2
        with warnings.catch_warnings():  # a row with every period empty (allowed) stays NaN, silently
            warnings.simplefilter("ignore", RuntimeWarning)
            filled = np.where(np.isnan(a), np.nanmean(a, axis=1, keepdims=True), a)
            new[f"{stem}__mean"] = np.nanmean(filled, axis=1)
            new[f"{stem}__max"] = np.nanmax(filled, axis=1)
            new[f"{stem}__min"] = np.nanmin(filled, axis=1)
        new[f"{stem}__spread"] = new[f"{stem}__max"] - new[f"{stem}__min"]
        new[f"{stem}__trend"] = filled @ t / (t @ t)
        new[f"{stem}__first_vs_rest"] = filled[:, 0] - filled[:, 1:].mean(axis=1)
        new[f"{stem}__periods_above_zero"] = (filled > 0).sum(axis=1).astype("float64")
        if np.nanmean(a >= 0) >= 0.95:
            amounts[stem] = (filled, new[f"{stem}__mean"])
        log.append(f"history {stem}: {k} periods ({', '.join(cols)})")
    stems = sorted(amounts)
    for i, s1 in enumerate(stems):
        for s2 in stems[i + 1:]:
            (a1, _), (a2, _) = amounts[s1], amounts[s2]
            if a1.shape[1] != a2.shape[1]:
                continue
            new[f"{s1}__over__{s2}"] = _safe_ratio(a1.sum(axis=1), a2.sum(axis=1))
            new[f"{s2}__over__{s1}"] = _safe_ratio(a2.sum(axis=1), a1.sum(axis=1))
            for p in range(a1.shape[1]):
                new[f"{s1}__over__{s2}__p{p + 1}"] = _safe_ratio(a1[:, p], a2[:, p])
            log.append(f"ratios {s1} / {s2}: sums and period by period")
    limits = [c for c in candidates if _LIMIT.search(str(c)) and pd.api.types.is_numeric_dtype(frame[c])
              and not any(c in cols for cols in hist.values())]
    for lim in limits:
        den = frame[lim].to_numpy(dtype="float64")
        for stem, (a, mean) in amounts.items():
            new[f"{stem}__mean_over__{lim}"] = _safe_ratio(mean, den)
            new[f"{stem}__first_over__{lim}"] = _safe_ratio(a[:, 0], den)
        log.append(f"utilisation against {lim}")
    extra = pd.DataFrame(new, index=frame.index)
    return Engineered(frame=pd.concat([frame, extra], axis=1), new_columns=list(new), histories=hist, log=log)
