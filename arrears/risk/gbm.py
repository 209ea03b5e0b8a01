"""Gradient-boosting model: a thin wrapper over scikit-learn's HistGradientBoostingClassifier.

Settings are deliberately modest (shallow trees, shrinkage 0.05, early stopping on an internal 10 % of the
training rows) so a fit takes seconds and needs no search over hyperparameters. OpenMP threads are capped
(default 1): on a shared, busy machine spinning OpenMP workers made a small fit ten times slower.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits


@dataclass
class GradientBoostingModel:
    seed: int = 42
    max_iter: int = 300
    learning_rate: float = 0.05
    max_leaf_nodes: int = 15
    min_samples_leaf: int = 50
    l2_regularization: float = 1.0
    n_threads: int = 1
    columns: list[str] = field(default_factory=list)
    n_iter: int = 0
    model: HistGradientBoostingClassifier | None = None

    def fit(self, X: np.ndarray, y: np.ndarray, columns: list[str], categorical: np.ndarray,
            sample_weight: np.ndarray | None = None) -> GradientBoostingModel:
        self.columns = list(columns)
        self.model = HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=self.learning_rate, max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf, l2_regularization=self.l2_regularization,
            categorical_features=categorical if categorical.any() else None,
            early_stopping=True, validation_fraction=0.1, n_iter_no_change=20, scoring="loss",
            random_state=self.seed)
        with threadpool_limits(limits=self.n_threads, user_api="openmp"):
            self.model.fit(X, y.astype(int), sample_weight=sample_weight)
        self.n_iter = int(self.model.n_iter_)
        return self

    def predict_pd(self, X: np.ndarray) -> np.ndarray:
        assert self.model is not None, "model not fitted"
        with threadpool_limits(limits=self.n_threads, user_api="openmp"):
            return self.model.predict_proba(X)[:, 1]

    def params(self) -> dict:
        return {"max_iter": self.max_iter, "iterations_used": self.n_iter, "learning_rate": self.learning_rate,
                "max_leaf_nodes": self.max_leaf_nodes, "min_samples_leaf": self.min_samples_leaf,
                "l2_regularization": self.l2_regularization, "threads": self.n_threads,
                "early_stopping": "10% internal, 20 rounds"}
