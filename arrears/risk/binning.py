"""Weight-of-evidence binning, information value and information gain.

Conventions (the usual scorecard ones):

- ``bad`` = label 1, ``good`` = label 0. ``WoE_i = ln( (good_i / goods) / (bad_i / bads) )``: a positive WoE
  marks a bin safer than average. ``IV = sum_i (good_i/goods - bad_i/bads) * WoE_i``.
- When some bin has no good or no bad, 0.5 is added to every bin's good and bad counts (WoE would be
  infinite otherwise). Bins with both counts present are computed exactly.
- Numeric bins are right-closed: bin ``k`` holds ``edges[k-1] < x <= edges[k]``. They start as quantile bins
  (``n_initial_bins``), adjacent bins are merged until the bad rate is monotone in ``x`` (direction from the
  count-weighted trend), then bins smaller than ``min_bin_frac`` of the rows (or with no good / no bad) are
  merged into the neighbour with the closer bad rate. Missing values are their own bin; when the training
  rows had none, a missing value at scoring time gets the WoE of the bin holding the median (the same
  choice as median imputation).
- Categorical bins: one bin per category (missing is the category ``__missing__``); categories below
  ``min_bin_frac`` are pooled into ``__other__``; a pool still too small joins the bin with the closest bad
  rate. Categories unseen in training get the WoE of the pooled bin (or 0 when there is none).
- Information gain = ``H(label) - H(label | bin)`` in bits, over the final bins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .data import MISSING, OTHER

IV_BANDS = ((0.02, "useless"), (0.1, "weak"), (0.3, "medium"), (0.5, "strong"), (float("inf"), "suspicious"))


def iv_strength(iv: float) -> str:
    """Siddiqi's rule of thumb: <0.02 useless, <0.1 weak, <0.3 medium, <0.5 strong, else check for leakage."""
    for bound, label in IV_BANDS:
        if iv < bound:
            return label
    return "suspicious"


def woe_iv(goods: np.ndarray, bads: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """WoE per bin, IV contribution per bin and total IV from good and bad counts per bin."""
    g = np.asarray(goods, dtype="float64")
    b = np.asarray(bads, dtype="float64")
    if (g == 0).any() or (b == 0).any():
        g, b = g + 0.5, b + 0.5
    dg, db = g / g.sum(), b / b.sum()
    woe = np.log(dg / db)
    contrib = (dg - db) * woe
    return woe, contrib, float(contrib.sum())


def _entropy(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-300, 1.0)
    q = np.clip(1.0 - p, 1e-300, 1.0)
    return -(p * np.log2(p) + q * np.log2(q))


def information_gain(totals: np.ndarray, bads: np.ndarray) -> float:
    """``H(Y) - H(Y|bin)`` in bits."""
    totals = np.asarray(totals, dtype="float64")
    bads = np.asarray(bads, dtype="float64")
    n = totals.sum()
    rates = np.divide(bads, totals, out=np.zeros_like(bads), where=totals > 0)
    conditional = float((totals / n * _entropy(rates)).sum())
    return float(_entropy(np.array([bads.sum() / n]))[0] - conditional)


@dataclass
class FeatureBins:
    """The fitted bins of one feature and everything the reports need about them."""

    name: str
    kind: str                                 # "numeric" or "categorical"
    labels: list[str]
    woe: np.ndarray
    totals: np.ndarray
    bads: np.ndarray
    iv: float
    iv_contrib: np.ndarray
    ig: float
    edges: np.ndarray = field(default_factory=lambda: np.array([]))     # numeric: interior right-closed edges
    missing_bin: int | None = None            # numeric: index of the missing bin, if any
    missing_woe: float = 0.0                  # numeric: WoE used for a missing value
    category_bin: dict[str, int] = field(default_factory=dict)          # categorical: category -> bin
    unseen_bin: int | None = None             # categorical: bin for an unseen category

    def bin_index(self, values: pd.Series) -> np.ndarray:
        """Bin number of each value (``-1`` = numeric missing without a bin, or unseen category without pool)."""
        if self.kind == "numeric":
            x = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
            idx = np.searchsorted(self.edges, x, side="left")
            nan = np.isnan(x)
            idx[nan] = self.missing_bin if self.missing_bin is not None else -1
            return idx
        fallback = -1 if self.unseen_bin is None else self.unseen_bin
        return values.map(lambda v: self.category_bin.get(str(v), fallback)).to_numpy(dtype="int64")

    def transform(self, values: pd.Series) -> np.ndarray:
        idx = self.bin_index(values)
        out = np.where(idx >= 0, self.woe[np.clip(idx, 0, None)], 0.0)
        if self.kind == "numeric":
            out = np.where(idx == -1, self.missing_woe, out)
        return out

    def table(self) -> list[dict]:
        n = self.totals.sum()
        return [{"feature": self.name, "bin": label, "count": int(t), "share": float(t / n), "bads": int(bb),
                 "bad_rate": float(bb / t) if t else None, "woe": float(w), "iv_contribution": float(c)}
                for label, t, bb, w, c in zip(self.labels, self.totals, self.bads, self.woe, self.iv_contrib)]


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _merge(totals: list, bads: list, spans: list, i: int) -> None:
    """Merge bin i+1 into bin i (lists edited in place)."""
    totals[i] += totals.pop(i + 1)
    bads[i] += bads.pop(i + 1)
    spans[i] = (spans[i][0], spans.pop(i + 1)[1])


def fit_numeric(name: str, x: np.ndarray, y: np.ndarray, n_initial_bins: int = 20,
                min_bin_frac: float = 0.05, monotone: bool = True, weights: np.ndarray | None = None
                ) -> FeatureBins:
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    w_all = np.ones(len(x)) if weights is None else np.asarray(weights, dtype="float64")
    nan = np.isnan(x)
    xv, yv, wv = x[~nan], y[~nan], w_all[~nan]
    n_total = float(w_all.sum())
    quantiles = np.linspace(0, 1, n_initial_bins + 1)[1:-1]
    if not len(xv):
        edges = np.array([])
    elif weights is None:
        edges = np.unique(np.quantile(xv, quantiles, method="inverted_cdf"))
    else:   # weighted quantiles: a row of weight 2 cuts like the same row written twice
        edges = np.unique(np.quantile(xv, quantiles, method="inverted_cdf", weights=wv))
    edges = edges[edges < xv.max()] if len(xv) else edges          # no empty last bin
    idx = np.searchsorted(edges, xv, side="left")
    k = len(edges) + 1
    totals = np.bincount(idx, weights=wv, minlength=k).astype(float).tolist()
    bads = np.bincount(idx, weights=yv * wv, minlength=k).astype(float).tolist()
    spans = [(i, i) for i in range(k)]                              # which initial bins each bin covers

    def rate(i: int) -> float:
        return bads[i] / totals[i] if totals[i] else 0.0

    if monotone and len(totals) > 1:
        centre = np.arange(len(totals), dtype=float)
        r = np.array([rate(i) for i in range(len(totals))])
        w = np.array(totals)
        trend = np.sum(w * (centre - np.average(centre, weights=w)) * (r - np.average(r, weights=w)))
        sign = 1.0 if trend >= 0 else -1.0
        changed = True
        while changed and len(totals) > 1:
            changed = False
            for i in range(len(totals) - 1):
                if sign * (rate(i + 1) - rate(i)) < 0:
                    _merge(totals, bads, spans, i)
                    changed = True
                    break

    min_count = min_bin_frac * n_total
    while len(totals) > 1:
        small = [i for i in range(len(totals))
                 if totals[i] < min_count or bads[i] == 0 or bads[i] == totals[i]]
        if not small:
            break
        i = min(small, key=lambda j: totals[j])
        if i == 0:
            _merge(totals, bads, spans, 0)
        elif i == len(totals) - 1:
            _merge(totals, bads, spans, i - 1)
        else:
            left, right = abs(rate(i - 1) - rate(i)), abs(rate(i + 1) - rate(i))
            _merge(totals, bads, spans, i - 1 if left <= right else i)

    final_edges = np.array([edges[s[1]] for s in spans[:-1]], dtype="float64")
    labels = []
    for j in range(len(spans)):
        lo = "-inf" if j == 0 else _fmt(final_edges[j - 1])
        hi = "+inf" if j == len(spans) - 1 else _fmt(final_edges[j])
        labels.append(f"({lo}, {hi}]")
    missing_bin = None
    if nan.any():
        labels.append("missing")
        totals.append(float(w_all[nan].sum()))
        bads.append(float((y[nan] * w_all[nan]).sum()))
        missing_bin = len(labels) - 1
    totals_a, bads_a = np.array(totals), np.array(bads)
    woe, contrib, iv = woe_iv(totals_a - bads_a, bads_a)
    if missing_bin is not None:
        missing_woe = float(woe[missing_bin])
    else:
        median_bin = int(np.searchsorted(final_edges, np.median(xv), side="left")) if len(xv) else 0
        missing_woe = float(woe[median_bin])
    return FeatureBins(name=name, kind="numeric", labels=labels, woe=woe, totals=totals_a, bads=bads_a, iv=iv,
                       iv_contrib=contrib, ig=information_gain(totals_a, bads_a), edges=final_edges,
                       missing_bin=missing_bin, missing_woe=missing_woe)


def _category_sort_key(c: str):
    try:
        return (0, float(c), c)
    except ValueError:
        return (1, 0.0, c)


def fit_categorical(name: str, values: pd.Series, y: np.ndarray, min_bin_frac: float = 0.05,
                    weights: np.ndarray | None = None) -> FeatureBins:
    y = np.asarray(y, dtype="float64")
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype="float64")
    s = values.astype("object").map(lambda v: MISSING if pd.isna(v) else str(v))
    stats = (pd.DataFrame({"c": s.to_numpy(), "size": w, "sum": y * w})
             .groupby("c", sort=False)[["size", "sum"]].sum())
    n_total = float(w.sum())
    min_count = min_bin_frac * n_total
    common = sorted([c for c in stats.index if stats.loc[c, "size"] >= min_count], key=_category_sort_key)
    rare = sorted([c for c in stats.index if stats.loc[c, "size"] < min_count], key=_category_sort_key)
    groups: list[list[str]] = [[c] for c in common]
    totals = [float(stats.loc[c, "size"]) for c in common]
    bads = [float(stats.loc[c, "sum"]) for c in common]
    pooled = None
    if rare:
        pool_total = float(stats.loc[rare, "size"].sum())
        pool_bads = float(stats.loc[rare, "sum"].sum())
        if pool_total >= min_count or not groups:
            groups.append(rare)
            totals.append(pool_total)
            bads.append(pool_bads)
            pooled = len(groups) - 1
        else:   # too small even pooled: join the bin with the closest bad rate
            pool_rate = pool_bads / pool_total
            j = int(np.argmin([abs(b / t - pool_rate) for b, t in zip(bads, totals)]))
            groups[j] = groups[j] + rare
            totals[j] += pool_total
            bads[j] += pool_bads
            pooled = j
    labels = []
    for j, g in enumerate(groups):
        label = ", ".join(g) if len(g) <= 6 else ", ".join(g[:6]) + f", ... ({len(g)} categories)"
        labels.append(f"{OTHER}: {label}" if j == pooled and g == rare else label)
    totals_a, bads_a = np.array(totals), np.array(bads)
    woe, contrib, iv = woe_iv(totals_a - bads_a, bads_a)
    category_bin = {c: j for j, g in enumerate(groups) for c in g}
    return FeatureBins(name=name, kind="categorical", labels=labels, woe=woe, totals=totals_a, bads=bads_a, iv=iv,
                       iv_contrib=contrib, ig=information_gain(totals_a, bads_a), category_bin=category_bin,
                       unseen_bin=pooled)


@dataclass
class WoEBinner:
    """Fits one :class:`FeatureBins` per column of a typed frame (see ``Cleaner.typed_frame``)."""

    n_initial_bins: int = 20
    min_bin_frac: float = 0.05
    monotone: bool = True
    bins: dict[str, FeatureBins] = field(default_factory=dict)

    def fit(self, typed: pd.DataFrame, y: np.ndarray, weights: np.ndarray | None = None) -> WoEBinner:
        """``weights``: optional row weights (reject inference); counts become sums of weights."""
        self.bins = {}
        for name in typed.columns:
            col = typed[name]
            if pd.api.types.is_numeric_dtype(col):
                self.bins[name] = fit_numeric(name, col.to_numpy(dtype="float64"), y, self.n_initial_bins,
                                              self.min_bin_frac, self.monotone, weights)
            else:
                self.bins[name] = fit_categorical(name, col, y, self.min_bin_frac, weights)
        return self

    def transform(self, typed: pd.DataFrame, features: list[str] | None = None) -> pd.DataFrame:
        features = list(self.bins) if features is None else features
        return pd.DataFrame({f: self.bins[f].transform(typed[f]) for f in features}, index=typed.index)

    def iv_table(self) -> list[dict]:
        rows = [{"feature": b.name, "kind": b.kind, "iv": b.iv, "information_gain_bits": b.ig,
                 "n_bins": len(b.labels), "strength": iv_strength(b.iv)} for b in self.bins.values()]
        return sorted(rows, key=lambda r: -r["iv"])

    def bin_table(self, features: list[str] | None = None) -> list[dict]:
        features = list(self.bins) if features is None else features
        return [row for f in features for row in self.bins[f].table()]
