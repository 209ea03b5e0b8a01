"""Training and evaluation of the scorecard and the gradient-boosting model, and the pickled model bundle.

Sequence (``train``): clean and type columns on the fit rows -> WoE bins and IV on the fit rows -> select
features (IV threshold, correlation filter) -> fit the scorecard (and the gradient-boosting model) on the fit
rows -> choose each model's threshold on the validation rows (maximum F1) -> primary model = higher
validation ROC AUC -> measure everything on the test rows. Nothing is refitted after the choice, so the model
evaluated is exactly the model that was chosen.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from ..atomic import write_bytes
from . import metrics
from .binning import WoEBinner
from .data import Cleaner, DataError
from .gbm import GradientBoostingModel
from .scorecard import ScoreBands, Scorecard, ScoreScaling
from .selection import select_features
from .split import Split

MODEL_TYPES = ("scorecard", "gbm", "both")
THRESHOLD_RULE = ("maximises F1 on the validation rows (part of the training data, never the test rows); "
                  "predict bad when PD >= threshold")


@dataclass
class TrainConfig:
    seed: int = 42
    test_size: float = 0.3
    validation_size: float = 0.2
    model_type: str = "both"
    pca: int | None = None
    iv_threshold: float = 0.02
    max_corr: float = 0.8
    n_initial_bins: int = 20
    min_bin_frac: float = 0.05
    max_int_categories: int = 12
    # Features given to gradient boosting: "all" cleaned features (default), "iv" (passing the IV threshold)
    # or "selected" (IV threshold and correlation filter, as the scorecard). IV measures univariate, monotone
    # power; trees also use weak features in interactions (bill amount against limit), so they get all of them.
    gbm_features: str = "all"
    gbm_max_iter: int = 300
    threads: int = 1
    base_score: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0
    band_pd_cutoffs: tuple = (0.02, 0.05, 0.10, 0.20)

    def __post_init__(self) -> None:
        if self.model_type not in MODEL_TYPES:
            raise ValueError(f"model_type must be one of {MODEL_TYPES}")
        if not 0 < self.test_size < 1 or not 0 < self.validation_size < 1:
            raise ValueError("test_size and validation_size must be between 0 and 1")
        if self.gbm_features not in ("all", "iv", "selected"):
            raise ValueError("gbm_features must be all, iv or selected")
        if self.pca is not None and self.pca < 1:
            raise ValueError("pca must be a positive number of components")

    @property
    def scaling(self) -> ScoreScaling:
        return ScoreScaling(self.base_score, self.base_odds, self.pdo)


@dataclass
class RiskModel:
    """Everything needed to score new rows; this object is what the model file holds."""

    config: TrainConfig
    cleaner: Cleaner
    binner: WoEBinner
    selected: list[str]
    models: dict = field(default_factory=dict)            # name -> Scorecard | GradientBoostingModel
    gbm_features: list[str] = field(default_factory=list)
    gbm_pca: tuple | None = None                          # (mean, sd, PCA) over WoE of selected features
    thresholds: dict = field(default_factory=dict)
    primary: str = ""
    bands: ScoreBands | None = None
    trained_at: str = ""
    label: str = ""
    id_column: str = ""
    version: str = ""                                     # set by save_model (model_version)

    @property
    def scaling(self) -> ScoreScaling:
        return self.config.scaling

    def _woe(self, typed: pd.DataFrame) -> pd.DataFrame:
        return self.binner.transform(typed, self.selected)

    def _gbm_input(self, frame: pd.DataFrame, typed: pd.DataFrame) -> np.ndarray:
        if self.gbm_pca is not None:
            mu, sd, pca = self.gbm_pca
            return pca.transform((self._woe(typed).to_numpy() - mu) / sd)
        X, _, _ = self.cleaner.gbm_matrix(frame, self.gbm_features)
        return X

    def predict_pd(self, frame: pd.DataFrame, name: str | None = None, typed: pd.DataFrame | None = None
                   ) -> np.ndarray:
        name = name or self.primary
        typed = self.cleaner.typed_frame(frame) if typed is None else typed
        model = self.models[name]
        if isinstance(model, Scorecard):
            return model.predict_pd(self._woe(typed))
        return model.predict_pd(self._gbm_input(frame, typed))

    def score_points(self, frame: pd.DataFrame, name: str | None = None, typed: pd.DataFrame | None = None,
                     pd_: np.ndarray | None = None) -> np.ndarray:
        """Scorecard: sum of bin points. Gradient boosting: its PD on the same points scale, rounded."""
        name = name or self.primary
        typed = self.cleaner.typed_frame(frame) if typed is None else typed
        model = self.models[name]
        if isinstance(model, Scorecard):
            return model.score_points(typed)
        p = self.predict_pd(frame, name, typed) if pd_ is None else pd_
        return np.round(self.scaling.points_from_pd(p)).astype("int64")

    def score_frame(self, frame: pd.DataFrame, name: str | None = None) -> pd.DataFrame:
        name = name or self.primary
        typed = self.cleaner.typed_frame(frame)
        p = self.predict_pd(frame, name, typed)
        pts = self.score_points(frame, name, typed, p)
        return pd.DataFrame({"pd": p, "score": pts, "score_band": self.bands.assign(pts)}, index=frame.index)


@dataclass
class Evaluation:
    """Arrays behind the charts (not in the JSON)."""

    y_test: np.ndarray
    y_fit: np.ndarray
    pd_test: dict = field(default_factory=dict)
    points_test: dict = field(default_factory=dict)
    points_fit: dict = field(default_factory=dict)


def _noop(_: str) -> None:
    pass


def train(frame: pd.DataFrame, y: np.ndarray, split: Split, config: TrainConfig, candidates: list[str],
          label: str = "", id_column: str = "", progress: Callable[[str], None] = _noop,
          sample_weight: np.ndarray | None = None) -> tuple[RiskModel, dict, Evaluation]:
    """Fit, choose, evaluate. Returns the model, the report dictionary and the arrays for the charts.

    ``sample_weight`` (one per row of ``frame``; only the fit rows' weights are used) weights the WoE counts,
    the logistic regression and the gradient boosting: reject inference enters each rejected applicant twice,
    as bad with weight p and as good with weight 1 - p. Validation and test rows are always unweighted.
    """
    fit, val, test = split.fit, split.validation, split.test
    y_fit, y_val, y_test = y[fit], y[val], y[test]
    w_fit = None if sample_weight is None else np.asarray(sample_weight, dtype="float64")[fit]

    progress("cleaning and typing columns")
    cleaner = Cleaner(max_int_categories=config.max_int_categories).fit(frame.iloc[fit], candidates)
    typed = cleaner.typed_frame(frame)

    progress(f"WoE binning of {len(cleaner.features)} features")
    binner = WoEBinner(config.n_initial_bins, config.min_bin_frac).fit(typed.iloc[fit], y_fit, w_fit)
    woe = binner.transform(typed)
    iv = {f: b.iv for f, b in binner.bins.items()}
    selected, dropped = select_features(iv, woe.iloc[fit], config.iv_threshold, config.max_corr)
    if not selected:
        best = max(iv, key=iv.get)
        selected, dropped = [best], {k: v for k, v in dropped.items() if k != best}
        progress(f"warning: no feature reaches IV {config.iv_threshold}; keeping the best one ({best})")

    model = RiskModel(config=config, cleaner=cleaner, binner=binner, selected=selected, label=label,
                      id_column=id_column)
    model.bands = ScoreBands.from_pd_cutoffs(config.scaling, config.band_pd_cutoffs)
    names = ["scorecard", "gbm"] if config.model_type == "both" else [config.model_type]

    if "scorecard" in names:
        progress(f"fitting the scorecard on {len(selected)} WoE features")
        model.models["scorecard"] = Scorecard(scaling=config.scaling, pca_components=config.pca,
                                              seed=config.seed).fit(woe.iloc[fit][selected], y_fit, binner,
                                                                    sample_weight=w_fit)
    if "gbm" in names:
        if config.pca:
            X_woe = woe[selected].to_numpy()
            mu, sd = X_woe[fit].mean(axis=0), X_woe[fit].std(axis=0)
            sd[sd == 0] = 1.0
            pca = PCA(n_components=min(config.pca, len(selected)), random_state=config.seed)
            pca.fit((X_woe[fit] - mu) / sd)
            model.gbm_pca = (mu, sd, pca)
            X_all = pca.transform((X_woe - mu) / sd)
            columns, cat_mask = [f"pc{i + 1}" for i in range(X_all.shape[1])], np.zeros(X_all.shape[1], bool)
        else:
            passing = [f for f in binner.bins if iv[f] >= config.iv_threshold] or selected
            model.gbm_features = {"selected": selected, "iv": passing, "all": list(binner.bins)}[config.gbm_features]
            X_all, columns, cat_mask = cleaner.gbm_matrix(frame, model.gbm_features)
        progress(f"fitting gradient boosting on {X_all.shape[1]} columns, {len(fit)} rows")
        model.models["gbm"] = GradientBoostingModel(seed=config.seed, max_iter=config.gbm_max_iter,
                                                     n_threads=config.threads).fit(
            X_all[fit], y_fit, columns, cat_mask, sample_weight=w_fit)

    progress("evaluating")
    evaluation = Evaluation(y_test=y_test, y_fit=y_fit)
    per_model, validation_auc = {}, {}
    for name in names:
        p_all = model.predict_pd(frame, name, typed)
        pts_all = model.score_points(frame, name, typed, p_all)
        thr, f1_val = metrics.choose_threshold_f1(y_val, p_all[val])
        ks_val, ks_thr_val = metrics.ks_statistic(y_val, p_all[val])
        model.thresholds[name] = thr
        val_metrics = metrics.evaluate(y_val, p_all[val], thr)
        validation_auc[name] = val_metrics["roc_auc"]
        test_metrics = metrics.evaluate(y_test, p_all[test], thr)
        # PSI of the score (points, the figure monitoring sees): training (fit) rows vs test rows
        stability = metrics.psi(pts_all[fit], pts_all[test])
        stability_val = metrics.psi(pts_all[val], pts_all[test])
        per_model[name] = {
            **{k: test_metrics[k] for k in ("roc_auc", "ks", "gini", "accuracy", "precision", "recall", "f1")},
            "threshold": thr,
            "threshold_rule": THRESHOLD_RULE,
            "threshold_alternative_ks": {"threshold": ks_thr_val, "ks_on_validation": ks_val,
                                         "note": "PD at the KS point on the validation rows (not used)"},
            "psi": stability["psi"],
            "psi_band": stability["band"],
            "psi_detail": {"basis": "score points; expected = training (fit) rows, actual = test rows; "
                                    "10 bins at the training deciles", **stability},
            "psi_validation_vs_test": stability_val["psi"],
            "test": test_metrics,
            "validation": val_metrics,
            "calibration": metrics.calibration_table(y_test, p_all[test]),
            "score_summary_test": _summary(pts_all[test]),
            "band_distribution_test": _band_table(model.bands.assign(pts_all[test]), y_test),
        }
        evaluation.pd_test[name] = p_all[test]
        evaluation.points_test[name] = pts_all[test]
        evaluation.points_fit[name] = pts_all[fit]

    model.primary = max(names, key=lambda n: (np.nan_to_num(validation_auc[n], nan=-1.0), n == "scorecard"))
    model.trained_at = datetime.now(UTC).replace(microsecond=0).isoformat()

    report = {
        "primary_model": model.primary,
        "primary_rule": "the model with the higher ROC AUC on the validation rows (test rows not used)",
        **{k: per_model[model.primary][k] for k in ("roc_auc", "ks", "gini", "accuracy", "precision", "recall",
                                                    "f1", "threshold", "threshold_rule", "psi")},
        "score_definition": ("points = offset + factor * ln((1 - PD) / PD) on the scaling below; for the scorecard "
                             "the sum of its rounded bin points, for gradient boosting its PD on the same scale, "
                             "rounded; bands A..E by points"),
        "models": per_model,
        "validation_roc_auc": validation_auc,
        "split": {"kind": split.kind, **split.details},
        "rows": {**split.counts(), "bad_rate_fit": float(y_fit.mean()), "bad_rate_validation": float(y_val.mean()),
                 "bad_rate_test": float(y_test.mean())},
        "seed": config.seed,
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(config).items()},
        "features": {
            "candidates": len(candidates),
            "columns": cleaner.describe(),
            "iv_table": [{**r, "selected": r["feature"] in selected, "reason": dropped.get(r["feature"])}
                         for r in binner.iv_table()],
            "selected": selected,
            "dropped": dropped,
            "gbm_features": model.gbm_features if not config.pca else [f"pc{i + 1}" for i in range(config.pca)],
            "bins": binner.bin_table(selected),
        },
        "scorecard": _scorecard_section(model),
        "gbm": model.models["gbm"].params() if "gbm" in model.models else None,
        "score_bands": model.bands.as_table(),
        "trained_at": model.trained_at,
    }
    return model, report, evaluation


def _summary(points: np.ndarray) -> dict:
    q = np.quantile(points, [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])
    return dict(zip(["min", "p10", "p25", "median", "p75", "p90", "max"], (float(v) for v in q)))


def _band_table(bands: np.ndarray, y: np.ndarray) -> list[dict]:
    rows = []
    for letter in "ABCDE":
        m = bands == letter
        rows.append({"band": letter, "count": int(m.sum()), "share": float(m.mean()) if len(m) else 0.0,
                     "bad_rate": float(y[m].mean()) if m.any() else None})
    return rows


def _scorecard_section(model: RiskModel) -> dict | None:
    sc = model.models.get("scorecard")
    if sc is None:
        return None
    return {"scaling": model.scaling.as_dict(), "intercept": sc.intercept,
            "weights": dict(zip(sc.features, (float(w) for w in sc.weights))),
            "dropped_wrong_sign": sc.dropped_wrong_sign, "pca_explained_variance": sc.explained_variance,
            "points_rule": "bin points = -factor * weight * WoE + (offset - factor * intercept) / n_features, "
                           "rounded; score = sum of bin points",
            "points_table": sc.points_table()}


def model_version(model: RiskModel) -> str:
    """First 12 hex digits of the sha256 of the freshly trained model pickled without its training time (and
    version): the same data and settings give the same version (training is deterministic), so a rerun leaves
    the score tables unchanged. Kept in the model file as ``RiskModel.version``."""
    stamp, version = model.trained_at, model.version
    model.trained_at, model.version = "", ""
    try:
        return hashlib.sha256(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)).hexdigest()[:12]
    finally:
        model.trained_at, model.version = stamp, version


def save_model(model: RiskModel, path: Path) -> str:
    """Pickle the model atomically, with its version (``model_version``) inside; returns the version."""
    model.version = model_version(model)
    write_bytes(path, pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    return model.version


def load_model(path: Path) -> RiskModel:
    """Only load model files you wrote yourself: unpickling runs code."""
    with open(path, "rb") as fh:
        model = pickle.load(fh)
    if not isinstance(model, RiskModel):
        raise DataError(f"{path} does not hold a RiskModel")
    return model
