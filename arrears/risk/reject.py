"""Reject inference: a model for everyone who applies, not only for those who were approved.

Only approved applicants have an observed outcome, so a model trained on them alone learns the risk of the
approved population ("known good/bad"), and is weakest exactly where earlier rejections cut the data away.
Reject inference gives the rejected applicants an inferred outcome and trains again on everyone:

1. **Accepted-only model**: the usual training (``model.train``) on the approved applications with a known
   outcome, split at random (stratified) into fit, validation and test rows.
2. **Inference** for each rejected application, from the accepted-only model's PD ``p`` (times
   ``bad_rate_factor``, capped at 1: rejected applicants are usually riskier than the model can see):

   - ``fuzzy`` (default, fuzzy augmentation): the rejected row enters the training data twice, once as bad
     with weight ``p`` and once as good with weight ``1 - p``. No randomness; every rejected row adds one
     unit of weight in total.
   - ``parcelling``: rejected rows are grouped in bands of the accepted-only PD (deciles of the approved fit
     rows' PD); in each band, each rejected row is drawn bad with the band's observed bad rate among approved
     fit rows (times ``bad_rate_factor``), else good (seeded draw), and enters once with weight 1.

3. **Model with reject inference**: trained again on the approved fit rows plus the inferred rejected rows
   (weights in WoE counts, logistic regression and gradient boosting). Its threshold and primary model are
   chosen on the same approved validation rows.

Both models are measured on the same approved test rows, the only rows whose outcome is known and that
neither model saw. Expect the test figures to be close: reject inference changes how the model ranks
applicants like the rejected ones, which the approved test rows can hardly show; the report therefore also
gives both models' view of the rejected applicants (mean PD, score bands) and the through-the-door bad-rate
estimate.

The applications file (CSV): ``application_id``, ``application_date`` (YYYY-MM-DD), ``decision``
(``approved`` | ``rejected``), ``outcome_bad`` (1/0 for approved applications; empty for rejected ones, and
ignored there) and any number of numeric or categorical feature columns (missing values as ``NA`` or empty).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .data import DataError, coerce_label
from .model import Evaluation, RiskModel, TrainConfig, train
from .split import Split, stratified_split

ID, DATE, DECISION, OUTCOME = "application_id", "application_date", "decision", "outcome_bad"
REQUIRED = (ID, DATE, DECISION, OUTCOME)
METHODS = ("fuzzy", "parcelling")
METRICS = ("roc_auc", "ks", "gini", "accuracy", "precision", "recall", "f1", "threshold")
METHOD_TEXT = {
    "fuzzy": "fuzzy augmentation: each rejected application enters twice, as bad with weight p and as good with "
             "weight 1 - p, p = accepted-only PD x bad_rate_factor (capped at 1)",
    "parcelling": "parcelling: rejected applications are grouped in deciles of the accepted-only PD; in each, a "
                  "rejected application is drawn bad with the band's bad rate among approved fit rows x "
                  "bad_rate_factor (seeded), else good; weight 1",
}


@dataclass
class Applications:
    frame: pd.DataFrame          # every application, in file order
    approved: np.ndarray         # positions of approved applications with a known outcome
    rejected: np.ndarray         # positions of rejected applications
    y: np.ndarray                # outcome (NaN for rejected)
    features: list[str]
    approved_without_outcome: int


def read_applications(path: Path) -> Applications:
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path} does not exist")
    frame = pd.read_csv(path, low_memory=False, na_values=["NA", ""], keep_default_na=True,
                        dtype={ID: str, DATE: str, DECISION: str})
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise DataError(f"{path} lacks column(s) {missing}; the applications file needs {', '.join(REQUIRED)} "
                        "and feature columns")
    if frame[ID].isna().any() or frame[ID].duplicated().any():
        raise DataError(f"{path}: application_id must be present and unique")
    decision = frame[DECISION].astype(str).str.strip().str.lower()
    unknown = sorted(set(decision) - {"approved", "rejected"})
    if unknown:
        raise DataError(f"{path}: decision must be approved or rejected, found {unknown[:5]}")
    dates = pd.to_datetime(frame[DATE], format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        raise DataError(f"{path}: {int(dates.isna().sum())} application_date value(s) are not YYYY-MM-DD")
    is_rejected = (decision == "rejected").to_numpy()
    # a rejected applicant has no observed outcome: whatever the column says there is ignored
    y = np.array(coerce_label(frame[OUTCOME].astype("object").where(~is_rejected, None)), dtype="float64")
    approved = np.nonzero(~is_rejected & ~np.isnan(y))[0]
    features = [c for c in frame.columns if c not in REQUIRED]
    if not features:
        raise DataError(f"{path} has no feature column besides {', '.join(REQUIRED)}")
    return Applications(frame=frame.drop(columns=[DECISION]).assign(**{DECISION: decision}), approved=approved,
                        rejected=np.nonzero(is_rejected)[0], y=y, features=features,
                        approved_without_outcome=int((~is_rejected & np.isnan(y)).sum()))


def infer(method: str, pd_rejected: np.ndarray, pd_fit: np.ndarray, y_fit: np.ndarray, factor: float,
          seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inferred training rows for the rejected applications: (index into the rejected rows, label, weight)."""
    p = np.clip(np.asarray(pd_rejected, dtype="float64") * factor, 0.0, 1.0)
    n = len(p)
    if method == "fuzzy":
        idx = np.r_[np.arange(n), np.arange(n)]
        return idx, np.r_[np.ones(n), np.zeros(n)], np.r_[p, 1.0 - p]
    if method == "parcelling":
        edges = np.unique(np.quantile(pd_fit, np.linspace(0, 1, 11)[1:-1]))
        band_fit = np.searchsorted(edges, pd_fit, side="right")
        band_rej = np.searchsorted(edges, pd_rejected, side="right")
        rates = np.array([y_fit[band_fit == b].mean() if (band_fit == b).any() else y_fit.mean()
                          for b in range(len(edges) + 1)])
        p_band = np.clip(rates[band_rej] * factor, 0.0, 1.0)
        draw = np.random.default_rng(seed).uniform(size=n) < p_band
        return np.arange(n), draw.astype("float64"), np.ones(n)
    raise ValueError(f"method must be one of {METHODS}")


def _figures(report: dict) -> dict:
    out = {k: report[k] for k in METRICS}
    out["primary_model"] = report["primary_model"]
    out["models"] = {name: {k: r[k] for k in METRICS} for name, r in report["models"].items()}
    out["selected_features"] = report["features"]["selected"]
    return out


def _bands(model: RiskModel, frame: pd.DataFrame) -> dict:
    if frame.empty:
        return {}
    bands = pd.Series(model.score_frame(frame)["score_band"]).value_counts()
    return {letter: int(bands.get(letter, 0)) for letter in "ABCDE"}


def run(path: Path, config: TrainConfig, method: str = "fuzzy", factor: float = 1.0,
        say: Callable[[str], None] = lambda _: None) -> tuple[dict, Evaluation, RiskModel, pd.DataFrame, dict]:
    """Both models and the comparison report. Returns (report, evaluation of the reject-inference model, that
    model, per-application scores with a plain-words explanation, that model's full report for the HTML)."""
    if method not in METHODS:
        raise DataError(f"reject-inference method must be one of {METHODS}")
    if factor <= 0:
        raise DataError("the bad-rate factor must be positive")
    apps = read_applications(path)
    frame, y = apps.frame, apps.y
    approved = frame.iloc[apps.approved].reset_index(drop=True)
    rejected = frame.iloc[apps.rejected].reset_index(drop=True)
    y_app = y[apps.approved]
    say(f"read {len(frame):,} applications: {len(approved):,} approved with an outcome "
        f"({int(y_app.sum()):,} bad), {len(rejected):,} rejected")
    if len(rejected) == 0:
        raise DataError("no rejected application: nothing to infer")
    split = stratified_split(y_app, config.test_size, config.validation_size, config.seed)

    say("accepted-only model")
    model_a, report_a, _ = train(approved, y_app, split, config, apps.features, OUTCOME, ID, say)
    pd_rej_a = model_a.predict_pd(rejected)
    pd_fit_a = model_a.predict_pd(approved.iloc[split.fit])
    idx, y_inf, w_inf = infer(method, pd_rej_a, pd_fit_a, y_app[split.fit], factor, config.seed)

    say(f"model with reject inference ({method}: {len(idx):,} inferred rows)")
    frame_b = pd.concat([approved, rejected.iloc[idx]], ignore_index=True)
    y_b = np.r_[y_app, y_inf]
    w_b = np.r_[np.ones(len(approved)), w_inf]
    inferred_pos = np.arange(len(approved), len(frame_b))
    split_b = Split(np.sort(np.r_[split.fit, inferred_pos]), split.validation, split.test, split.kind,
                    {**split.details, "inferred_rows_in_fit": int(len(inferred_pos))})
    model_b, report_b, evaluation_b = train(frame_b, y_b, split_b, config, apps.features, OUTCOME, ID, say,
                                            sample_weight=w_b)
    pd_rej_b = model_b.predict_pd(rejected)
    inferred_bads = float((y_inf * w_inf).sum())
    report = {
        "mode": "applications",
        "status": "trained",
        "source": str(path),
        "label": OUTCOME,
        "id": ID,
        "method": method,
        "method_description": METHOD_TEXT[method],
        "bad_rate_factor": factor,
        "primary_model": report_b["primary_model"],
        **{k: report_b[k] for k in METRICS},
        "figures_are": "the model with reject inference on the approved test rows (see accepted_only for the "
                       "model trained on approved applications only, same test rows)",
        "accepted_only": _figures(report_a),
        "with_reject_inference": _figures(report_b),
        "rows": {
            "applications": int(len(frame)), "approved_with_outcome": int(len(approved)),
            "approved_without_outcome_dropped": apps.approved_without_outcome, "rejected": int(len(rejected)),
            "inferred_rows": int(len(idx)), "fit": int(len(split.fit)), "validation": int(len(split.validation)),
            "test": int(len(split.test)), "approved_bad_rate": float(y_app.mean()),
            "bad_rate_test": float(y_app[split.test].mean()),
        },
        "rejects": {
            "count": int(len(rejected)),
            "inferred_bads": inferred_bads,
            "inferred_bad_rate": inferred_bads / len(rejected),
            "mean_pd_accepted_only": float(pd_rej_a.mean()),
            "mean_pd_with_reject_inference": float(pd_rej_b.mean()),
            "bands_accepted_only": _bands(model_a, rejected),
            "bands_with_reject_inference": _bands(model_b, rejected),
        },
        "through_the_door_bad_rate": (float(y_app.sum()) + inferred_bads) / (len(approved) + len(rejected)),
        "split": {"kind": split.kind, **split.details},
        "seed": config.seed,
        "score_bands": report_b["score_bands"],
        "trained_at": report_b["trained_at"],
    }
    scores = application_scores(frame, y, model_a, model_b, method, apps.rejected, idx, y_inf, w_inf)
    # the HTML report is the standard one of the reject-inference model, with the comparison on top
    report_b = {**report_b, "source": str(path), "reject_inference": report}
    return report, evaluation_b, model_b, scores, report_b


def application_scores(frame: pd.DataFrame, y: np.ndarray, model_a: RiskModel, model_b: RiskModel, method: str,
                       rejected_pos: np.ndarray, idx: np.ndarray, y_inf: np.ndarray, w_inf: np.ndarray
                       ) -> pd.DataFrame:
    """One row per application: both models' PD, the final score and band, the inferred outcome and why."""
    a = model_a.score_frame(frame)
    b = model_b.score_frame(frame)
    inferred_bad = np.full(len(frame), np.nan)
    inferred_bad[rejected_pos] = np.bincount(idx, weights=y_inf * w_inf, minlength=len(rejected_pos))
    out = pd.DataFrame({
        ID: frame[ID].to_numpy(), DATE: frame[DATE].to_numpy(), DECISION: frame[DECISION].to_numpy(),
        OUTCOME: y, "pd_accepted_only": a["pd"].to_numpy(), "pd": b["pd"].to_numpy(),
        "score": b["score"].to_numpy(), "score_band": b["score_band"].to_numpy(),
        "inferred_bad_weight": inferred_bad,
    })
    en, zh = [], []
    for row in out.itertuples(index=False):
        head_en = f"Score {row.score} (band {row.score_band}, PD {row.pd:.1%} with reject inference, " \
                  f"{row.pd_accepted_only:.1%} from approved applications only)."
        head_zh = f"评分{row.score}（{row.score_band}档，含拒绝推断违约概率{row.pd:.1%}，仅用核准申请的模型为" \
                  f"{row.pd_accepted_only:.1%}）。"
        if row.decision == "rejected":
            if method == "fuzzy":
                en.append(f"{head_en} Rejected: outcome unknown, counted in training as bad with weight "
                          f"{row.inferred_bad_weight:.3f} and good with weight {1 - row.inferred_bad_weight:.3f}.")
                zh.append(f"{head_zh}已拒绝：结果未知，训练时以权重{row.inferred_bad_weight:.3f}计为坏、以权重"
                          f"{1 - row.inferred_bad_weight:.3f}计为好。")
            else:
                word_en, word_zh = ("bad", "坏") if row.inferred_bad_weight >= 0.5 else ("good", "好")
                en.append(f"{head_en} Rejected: outcome unknown, drawn as {word_en} by parcelling from the bad "
                          "rate of approved applicants in the same PD band.")
                zh.append(f"{head_zh}已拒绝：结果未知，按同一违约概率分段中核准申请的坏账率分配为{word_zh}。")
        else:
            word_en, word_zh = ("bad", "坏") if row.outcome_bad == 1 else ("good", "好")
            en.append(f"{head_en} Approved: observed outcome {word_en}.")
            zh.append(f"{head_zh}已核准：实际结果为{word_zh}。")
    out["explanation_en"] = en
    out["explanation_zh"] = zh
    return out
