"""Logistic-regression scorecard on WoE features, with points scaling.

Scaling: ``points = offset + factor * ln(odds)`` where ``odds = good:bad = (1 - pd) / pd``,
``factor = PDO / ln 2`` and ``offset = base_score - factor * ln(base_odds)``. So a score of ``base_score``
means odds of ``base_odds`` to 1, and every ``PDO`` points double the odds.

The logistic regression predicts ``logit(pd) = c + sum_j w_j * WoE_j``. Hence
``points = sum_j [ -factor * w_j * WoE_j + (offset - factor * c) / n ]`` over the ``n`` features: each bin's
points are that bracket (the intercept spread evenly over the features), rounded to whole points. The
customer's score is the sum of the rounded bin points.

With WoE = ln(good share / bad share), a sound feature has a negative weight. Features that come out with a
positive weight (a sign flipped by collinearity) are removed one at a time and the model refitted.
With ``pca``, the regression runs on principal components of the standardised WoE features; being linear,
it is folded back into one weight per feature, so the points table still works.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression

from .binning import WoEBinner


@dataclass(frozen=True)
class ScoreScaling:
    base_score: float = 600.0
    base_odds: float = 50.0        # good:bad odds at base_score
    pdo: float = 20.0              # points to double the odds

    def __post_init__(self) -> None:
        if self.base_odds <= 0 or self.pdo <= 0:
            raise ValueError("base_odds and pdo must be positive")

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2.0)

    @property
    def offset(self) -> float:
        return self.base_score - self.factor * math.log(self.base_odds)

    def points_from_pd(self, pd_) -> np.ndarray:
        p = np.clip(np.asarray(pd_, dtype="float64"), 1e-9, 1 - 1e-9)
        return self.offset + self.factor * np.log((1 - p) / p)

    def pd_from_points(self, points) -> np.ndarray:
        odds = np.exp((np.asarray(points, dtype="float64") - self.offset) / self.factor)
        return 1.0 / (1.0 + odds)

    def as_dict(self) -> dict:
        return {"base_score": self.base_score, "base_odds": self.base_odds, "pdo": self.pdo,
                "factor": self.factor, "offset": self.offset}


@dataclass
class ScoreBands:
    """Bands A (safest) .. E by points. ``edges`` are the lower points bounds of A, B, C, D (descending)."""

    edges: list[float]
    pd_cutoffs: list[float]
    letters: str = "ABCDE"

    @classmethod
    def from_pd_cutoffs(cls, scaling: ScoreScaling, pd_cutoffs=(0.02, 0.05, 0.10, 0.20)) -> ScoreBands:
        cut = sorted(float(c) for c in pd_cutoffs)
        if len(cut) != 4 or not all(0 < c < 1 for c in cut):
            raise ValueError("need four PD cut-offs strictly between 0 and 1")
        return cls(edges=[float(np.round(scaling.points_from_pd(c))) for c in cut], pd_cutoffs=cut)

    def assign(self, points) -> np.ndarray:
        pts = np.asarray(points, dtype="float64")
        out = np.full(pts.shape, self.letters[-1], dtype=object)
        for letter, edge in reversed(list(zip(self.letters[:-1], self.edges))):
            out[pts >= edge] = letter
        return out

    def as_table(self) -> list[dict]:
        rows, upper = [], None
        for i, letter in enumerate(self.letters):
            lower = self.edges[i] if i < len(self.edges) else None
            rows.append({"band": letter, "points_from": lower, "points_below": upper,
                         "pd_up_to": self.pd_cutoffs[i] if i < len(self.pd_cutoffs) else 1.0})
            upper = lower
        return rows


@dataclass
class Scorecard:
    scaling: ScoreScaling = field(default_factory=ScoreScaling)
    pca_components: int | None = None
    seed: int = 42
    C: float = 1.0
    features: list[str] = field(default_factory=list)
    weights: np.ndarray = field(default_factory=lambda: np.array([]))
    intercept: float = 0.0
    dropped_wrong_sign: list[str] = field(default_factory=list)
    points: dict[str, np.ndarray] = field(default_factory=dict)        # feature -> rounded points per bin
    missing_points: dict[str, float] = field(default_factory=dict)    # numeric feature without missing bin
    explained_variance: list[float] | None = None

    def fit(self, woe: pd.DataFrame, y: np.ndarray, binner: WoEBinner,
            sample_weight: np.ndarray | None = None) -> Scorecard:
        """``sample_weight``: optional row weights (reject inference), passed to the logistic regression."""
        features = list(woe.columns)
        self.dropped_wrong_sign = []
        while True:
            w, c = self._fit_linear(woe[features].to_numpy(), y, sample_weight)
            if self.pca_components or len(features) == 1 or (w <= 0).all():
                break
            worst = features[int(np.argmax(w))]
            self.dropped_wrong_sign.append(worst)
            features = [f for f in features if f != worst]
        self.features, self.weights, self.intercept = features, w, c
        n = len(features)
        share = (self.scaling.offset - self.scaling.factor * c) / n
        self.points, self.missing_points = {}, {}
        for f, wj in zip(features, w):
            b = binner.bins[f]
            self.points[f] = np.round(-self.scaling.factor * wj * b.woe + share)
            self.missing_points[f] = float(np.round(-self.scaling.factor * wj * b.missing_woe + share))
        self._binner = binner
        return self

    def _fit_linear(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
                    ) -> tuple[np.ndarray, float]:
        """Weights per WoE feature and intercept of ``logit(pd)`` (PCA itself is fitted unweighted)."""
        if not self.pca_components:
            lr = LogisticRegression(C=self.C, max_iter=2000)
            lr.fit(X, y, sample_weight=sample_weight)
            return lr.coef_[0].copy(), float(lr.intercept_[0])
        mu = X.mean(axis=0)
        sd = X.std(axis=0)
        sd[sd == 0] = 1.0
        k = min(self.pca_components, X.shape[1])
        pca = PCA(n_components=k, random_state=self.seed).fit((X - mu) / sd)
        Z = pca.transform((X - mu) / sd)
        lr = LogisticRegression(C=self.C, max_iter=2000).fit(Z, y, sample_weight=sample_weight)
        beta = lr.coef_[0]
        direction = pca.components_.T @ beta                 # weight per standardised feature
        self.explained_variance = pca.explained_variance_ratio_.tolist()
        w = direction / sd
        c = float(lr.intercept_[0] - (mu / sd) @ direction - pca.mean_ @ direction)
        return w, c

    def predict_pd(self, woe: pd.DataFrame) -> np.ndarray:
        z = self.intercept + woe[self.features].to_numpy() @ self.weights
        return 1.0 / (1.0 + np.exp(-z))

    def score_points(self, typed: pd.DataFrame) -> np.ndarray:
        """Sum of rounded bin points (integers)."""
        total = np.zeros(len(typed))
        for f in self.features:
            b = self._binner.bins[f]
            idx = b.bin_index(typed[f])
            # idx -1: numeric missing without a missing bin, or a category unseen in training (WoE 0)
            total += np.where(idx >= 0, self.points[f][np.clip(idx, 0, None)], self.missing_points[f])
        return total.astype("int64")

    def points_table(self) -> list[dict]:
        rows = []
        for f, wj in zip(self.features, self.weights):
            b = self._binner.bins[f]
            for label, woe, pts, t, bb in zip(b.labels, b.woe, self.points[f], b.totals, b.bads):
                rows.append({"feature": f, "bin": label, "woe": float(woe), "weight": float(wj),
                             "points": int(pts), "count": int(t), "bad_rate": float(bb / t) if t else None})
        return rows
