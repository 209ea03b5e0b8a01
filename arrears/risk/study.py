"""The credit-risk study (issue 18): one run over several datasets, every figure computed in that run.

Per dataset (the warehouse's ``marts.mart_risk_features`` with its out-of-time split, or any labeled CSV with a
stratified random split), on the *training rows* only (fit + validation rows of the split; the test rows are
only measured):

1. clean and type the columns (the product's ``Cleaner``), engineer repayment-history features
   (``features.engineer``);
2. candidates, each scored by cross-validation on the training rows (out-of-fold ROC AUC; stratified k-fold,
   or forward-chaining by month for the warehouse panel, whose test rows are later months):
   the **baseline** (scikit-learn's ``HistGradientBoostingClassifier`` with default settings on the raw
   columns: what anyone gets for free), the **WoE scorecard** (binning, IV and correlation selection, logistic
   regression, refitted per fold), **LightGBM** on raw and engineered columns (a small grid of settings, early
   stopping inside each fold, monotone constraints on columns whose direction is known), and the
   **ensemble** (weighted mean of the LightGBM, scorecard and baseline PDs, weights on a 0.1 grid chosen on
   the out-of-fold PDs);
3. the candidate with the best cross-validated AUC is the *chosen* model; the baseline is a candidate too, so
   the choice can never be worse than the baseline by the training rows' own account;
4. all candidates refitted on the training rows and measured on the test rows: ROC AUC and KS with paired
   bootstrap intervals, the difference to the baseline with its interval;
5. ablation of feature selection: the same LightGBM settings on all columns, IV >= 0.02, the same number by
   information gain, IV with the correlation filter, and principal components (95% of the variance);
6. permutation importance, scorecard points, PSI, recalibration (none / Platt / isotonic chosen by
   cross-fitting on the validation rows, the latest months in the warehouse split) with expected calibration
   error, a reject-inference experiment with a known policy, and approval / pricing policy curves.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from . import metrics, reject
from .binning import WoEBinner
from .data import Cleaner, DataError
from .features import engineer
from .scorecard import Scorecard, ScoreScaling
from .selection import select_features
from .split import Split

CANDIDATES = ("baseline", "scorecard", "lightgbm", "ensemble")
IV_THRESHOLD = 0.02
MAX_CORR = 0.8


def lightgbm():
    """LightGBM, imported when needed: its wheel needs the OpenMP runtime of the system (libgomp1)."""
    try:
        import lightgbm as lgb
    except OSError as exc:  # pragma: no cover - depends on the machine
        raise DataError(f"LightGBM cannot load ({exc}); install the OpenMP runtime: apt-get install libgomp1") from exc
    return lgb


@dataclass
class StudyConfig:
    seed: int = 42
    folds: int = 5
    grid: str = "full"                 # "full" (8 settings) or "short" (2)
    bootstrap: int = 1000
    lgd: float = 0.6                   # loss given default, share of exposure
    margin: float = 0.12               # revenue per unit of exposure of a good account over the horizon
    reject_share: float = 0.3          # the reject-inference experiment's known policy rejects this share
    threads: int = 1

    @classmethod
    def short(cls, **kw) -> StudyConfig:
        return cls(folds=3, grid="short", bootstrap=200, **kw)


GRIDS = {
    "short": [{"num_leaves": 15, "min_child_samples": 100, "colsample_bytree": 0.5},
              {"num_leaves": 31, "min_child_samples": 200, "colsample_bytree": 0.5}],
    "full": [{"num_leaves": nl, "min_child_samples": mcs, "colsample_bytree": ff}
             for nl in (7, 15, 31) for mcs in (50, 200) for ff in (0.5, 0.8)][:8],
}
LGB_FIXED = {"learning_rate": 0.02, "subsample": 0.8, "subsample_freq": 1, "reg_lambda": 1.0, "verbose": -1}


@dataclass
class StudyData:
    name: str
    frame: pd.DataFrame
    y: np.ndarray
    candidates: list[str]
    split: Split
    source: str
    increasing: list[str] = field(default_factory=list)   # columns whose higher values mean higher risk
    dates: pd.Series | None = None                         # observation dates (warehouse): PSI and calibration by month
    exposure: np.ndarray | None = None                     # per row, for the policy curves (1 when None)
    exposure_column: str | None = None


# ------------------------------------------------------------------------------------------- model pieces

@dataclass
class Prepared:
    """Typed and engineered matrices of one dataset (cleaning fitted on the training rows)."""

    cleaner: Cleaner
    typed: pd.DataFrame
    raw_X: np.ndarray
    raw_columns: list[str]
    raw_cat: np.ndarray
    X: np.ndarray                      # raw + engineered, for LightGBM
    columns: list[str]
    engineered: list[str]
    engineering_log: list[str]
    monotone: list[int]


def prepare(data: StudyData, train_rows: np.ndarray) -> Prepared:
    eng = engineer(data.frame, data.candidates)
    cleaner = Cleaner().fit(data.frame.iloc[train_rows], data.candidates)
    typed = cleaner.typed_frame(data.frame)
    raw_X, raw_columns, raw_cat = cleaner.gbm_matrix(data.frame, list(cleaner.features))
    extra = eng.frame[eng.new_columns].to_numpy(dtype="float64")
    X = np.hstack([raw_X, extra]) if extra.size else raw_X
    columns = raw_columns + eng.new_columns
    increasing = set(data.increasing)
    monotone = [1 if c in increasing else 0 for c in columns]
    return Prepared(cleaner, typed, raw_X, raw_columns, raw_cat, X, columns, eng.new_columns, eng.log, monotone)


def fit_baseline(prep: Prepared, rows: np.ndarray, y: np.ndarray, seed: int, threads: int):
    model = HistGradientBoostingClassifier(random_state=seed,
                                           categorical_features=prep.raw_cat if prep.raw_cat.any() else None)
    with threadpool_limits(limits=threads, user_api="openmp"):
        model.fit(prep.raw_X[rows], y[rows].astype(int))
    return lambda idx: _proba(model, prep.raw_X[idx], threads)


def _proba(model, X: np.ndarray, threads: int) -> np.ndarray:
    with threadpool_limits(limits=threads, user_api="openmp"):
        return model.predict_proba(X)[:, 1]


@dataclass
class ScorecardFit:
    binner: WoEBinner
    selected: list[str]
    dropped: dict
    model: Scorecard
    iv: dict

    def predict(self, typed: pd.DataFrame) -> np.ndarray:
        return self.model.predict_pd(self.binner.transform(typed, self.selected))


def fit_scorecard(prep: Prepared, rows: np.ndarray, y: np.ndarray, seed: int) -> ScorecardFit:
    binner = WoEBinner().fit(prep.typed.iloc[rows], y[rows])
    woe = binner.transform(prep.typed.iloc[rows])
    iv = {f: b.iv for f, b in binner.bins.items()}
    selected, dropped = select_features(iv, woe, IV_THRESHOLD, MAX_CORR)
    if not selected:
        selected = [max(iv, key=iv.get)]
    model = Scorecard(scaling=ScoreScaling(), seed=seed).fit(woe[selected], y[rows], binner)
    return ScorecardFit(binner, selected, dropped, model, iv)


def fit_lightgbm(X: np.ndarray, rows: np.ndarray, y: np.ndarray, params: dict, n_estimators: int, seed: int,
                 threads: int, monotone: list[int] | None = None, weight: np.ndarray | None = None):
    lgb = lightgbm()
    model = lgb.LGBMClassifier(**LGB_FIXED, **params, n_estimators=n_estimators, random_state=seed, n_jobs=threads,
                               monotone_constraints=monotone if monotone and any(monotone) else None)
    model.fit(X[rows], y[rows].astype(int), sample_weight=weight)
    return model


def _lgb_cv(prep: Prepared, train: np.ndarray, y: np.ndarray, folds: list, params: dict, cfg: StudyConfig
            ) -> tuple[np.ndarray, int]:
    """Out-of-fold PDs of one LightGBM setting (early stopping on each held-out fold) and the mean best size."""
    lgb = lightgbm()
    oof = np.full(len(y), np.nan)
    sizes = []
    for fit_i, out_i in folds:
        a, b = train[fit_i], train[out_i]
        model = lgb.LGBMClassifier(**LGB_FIXED, **params, n_estimators=3000, random_state=cfg.seed, n_jobs=cfg.threads,
                                   monotone_constraints=prep.monotone if any(prep.monotone) else None)
        with warnings.catch_warnings():  # LightGBM 4.7 warns that sklearn will rename eval_set: not ours to fix
            warnings.simplefilter("ignore")
            model.fit(prep.X[a], y[a].astype(int), eval_set=[(prep.X[b], y[b].astype(int))], eval_metric="auc",
                      callbacks=[lgb.early_stopping(100, verbose=False)])
        oof[b] = model.predict_proba(prep.X[b], num_iteration=model.best_iteration_)[:, 1]
        sizes.append(model.best_iteration_)
    return oof, max(20, int(round(float(np.mean(sizes)))))


def cv_folds(data: StudyData, train: np.ndarray, y: np.ndarray, cfg: StudyConfig) -> list[tuple[np.ndarray, np.ndarray]]:
    """Folds as positions into `train`. A panel with dates (the warehouse) is validated forward, as its test
    rows are later months: each of the last `folds` training months is held out in turn and the models are
    fitted on the months before it. Otherwise stratified k-fold."""
    if data.dates is None:
        return list(StratifiedKFold(cfg.folds, shuffle=True, random_state=cfg.seed).split(train, y[train]))
    months = pd.to_datetime(data.dates.to_numpy()[train]).to_period("M")
    distinct = sorted(set(months))
    folds = []
    for month in distinct[-cfg.folds:]:
        fit_i, out_i = np.nonzero(months < month)[0], np.nonzero(months == month)[0]
        if len(set(y[train][fit_i].tolist())) == 2 and len(set(y[train][out_i].tolist())) == 2:
            folds.append((fit_i, out_i))
    if not folds:
        raise DataError("too few training months with both labels for forward validation")
    return folds


def blend(pds: dict[str, np.ndarray], weight: dict[str, float]) -> np.ndarray:
    """The ensemble's PD: the weighted mean of its members' PDs (members with weight 0 may be absent)."""
    return sum(w * pds[name] for name, w in weight.items() if w > 0)


# ------------------------------------------------------------------------------------------- statistics

def bootstrap_indices(n: int, replicates: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(replicates, n))


def metric_interval(y: np.ndarray, scores: dict[str, np.ndarray], boot: np.ndarray, fn,
                    reference: str = "baseline", prefix: str = "vs_baseline") -> dict:
    """Point value and 95% percentile interval of fn per model, and of each model's difference to the
    `reference` model (paired: the same resampled rows for every model), under keys `prefix`, `prefix_low`,
    `prefix_high`."""
    draws = {name: np.array([fn(y[i], s[i]) for i in boot]) for name, s in scores.items()}
    points = {name: fn(y, s) for name, s in scores.items()}
    out = {}
    for name in scores:
        lo, hi = np.nanpercentile(draws[name], [2.5, 97.5])
        row = {"value": points[name], "low": lo, "high": hi}
        if reference in scores and name != reference:
            dlo, dhi = np.nanpercentile(draws[name] - draws[reference], [2.5, 97.5])
            row.update({prefix: points[name] - points[reference], f"{prefix}_low": dlo, f"{prefix}_high": dhi})
        out[name] = row
    return out


def ks(y: np.ndarray, s: np.ndarray) -> float:
    return metrics.ks_statistic(y, s)[0]


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Mean |predicted - observed| over equal-count bins of the PD, weighted by the bins' rows."""
    order = np.argsort(p, kind="stable")
    total = 0.0
    for part in np.array_split(order, bins):
        if len(part):
            total += len(part) * abs(float(p[part].mean()) - float(y[part].mean()))
    return total / max(len(p), 1)


# ------------------------------------------------------------------------------------------- the study

def _say_nothing(_: str) -> None:
    pass


def run_dataset(data: StudyData, cfg: StudyConfig, say: Callable[[str], None] = _say_nothing) -> dict:
    t0 = time.perf_counter()
    y = data.y.astype("float64")
    split = data.split
    train = np.sort(np.r_[split.fit, split.validation])
    test = np.sort(split.test)
    prep = prepare(data, train)
    say(f"[{data.name}] {len(data.frame):,} rows, {len(prep.raw_columns)} raw and {len(prep.engineered)} engineered "
        f"columns; {len(train):,} training rows, {len(test):,} test rows")
    folds = cv_folds(data, train, y, cfg)
    held = np.sort(np.concatenate([train[out_i] for _, out_i in folds]))

    # cross-validation on the training rows
    oof = {name: np.full(len(y), np.nan) for name in CANDIDATES}
    for fit_i, out_i in folds:
        a, b = train[fit_i], train[out_i]
        oof["baseline"][b] = fit_baseline(prep, a, y, cfg.seed, cfg.threads)(b)
        oof["scorecard"][b] = fit_scorecard(prep, a, y, cfg.seed).predict(prep.typed.iloc[b])
    grid_rows = []
    best = None
    for params in GRIDS[cfg.grid]:
        p_oof, size = _lgb_cv(prep, train, y, folds, params, cfg)
        auc = metrics.roc_auc(y[held], p_oof[held])
        grid_rows.append({**params, "n_estimators": size, "cv_roc_auc": auc})
        if best is None or auc > best[0]:
            best = (auc, params, size, p_oof)
    _, params, size, oof["lightgbm"] = best
    say(f"[{data.name}] LightGBM settings by {cfg.folds}-fold CV: {params}, {size} trees")
    members = ("lightgbm", "scorecard", "baseline")
    grid = [(a / 10, b / 10, (10 - a - b) / 10) for a in range(11) for b in range(11 - a)]
    w_auc = [metrics.roc_auc(y[held], blend(oof, dict(zip(members, w, strict=True)))[held]) for w in grid]
    weight = dict(zip(members, grid[int(np.argmax(w_auc))], strict=True))
    oof["ensemble"] = blend(oof, weight)
    cv_auc = {name: metrics.roc_auc(y[held], oof[name][held]) for name in CANDIDATES}
    chosen = max(("baseline", "lightgbm", "ensemble"), key=lambda n: (cv_auc[n], n == "baseline"))

    # refit on every training row, measure on the test rows
    base = fit_baseline(prep, train, y, cfg.seed, cfg.threads)
    sc = fit_scorecard(prep, train, y, cfg.seed)
    lgb_model = fit_lightgbm(prep.X, train, y, params, size, cfg.seed, cfg.threads, prep.monotone)
    pd_all = {"baseline": base(np.arange(len(y))), "scorecard": sc.predict(prep.typed),
              "lightgbm": lgb_model.predict_proba(prep.X)[:, 1]}
    pd_all["ensemble"] = blend(pd_all, weight)
    y_test = y[test]
    scores = {name: pd_all[name][test] for name in CANDIDATES}
    boot = bootstrap_indices(len(test), cfg.bootstrap, cfg.seed)
    auc = metric_interval(y_test, scores, boot, metrics.roc_auc)
    ks_ = metric_interval(y_test, scores, boot, ks)
    # thresholds from the out-of-fold PDs: rows the model that scored them had not seen
    thr = {name: metrics.choose_threshold_f1(y[held], oof[name][held])[0] for name in CANDIDATES}
    test_metrics = {name: metrics.evaluate(y_test, scores[name], thr[name]) for name in CANDIDATES}
    say(f"[{data.name}] test ROC AUC: " + ", ".join(f"{n} {auc[n]['value']:.4f}" for n in CANDIDATES)
        + f"; chosen {chosen}")

    result = {
        "name": data.name, "source": data.source, "split": {"kind": split.kind, **split.counts(), **split.details},
        "rows": int(len(y)), "bad_rate_train": float(y[train].mean()), "bad_rate_test": float(y_test.mean()),
        "cleaning": prep.cleaner.describe(), "engineering": prep.engineering_log,
        "engineered_columns": len(prep.engineered), "raw_columns": len(prep.raw_columns),
        "monotone": {"increasing": data.increasing},
        "cv": {"folds": len(folds), "kind": "forward-chaining by month" if data.dates is not None else
               "stratified k-fold", "held_out_rows": int(len(held)), "roc_auc": cv_auc, "grid": grid_rows, "lightgbm_params": params,
               "lightgbm_trees": size, "ensemble_weights": weight,
               "ensemble_best_cv_roc_auc": float(max(w_auc))},
        "chosen": chosen,
        "chosen_rule": ("the candidate with the highest out-of-fold ROC AUC on the training rows (baseline, "
                        "LightGBM, ensemble); the test rows are never used to choose"),
        "test": {"roc_auc": auc, "ks": ks_, "metrics": test_metrics, "thresholds": thr,
                 "bootstrap_replicates": cfg.bootstrap},
        "scorecard": {"selected": sc.selected, "dropped": sc.dropped,
                      "iv": sorted(({"feature": f, "iv": v, "information_gain_bits": sc.binner.bins[f].ig}
                                    for f, v in sc.iv.items()), key=lambda r: -r["iv"]),
                      "points": sc.model.points_table()},
    }
    result["ablation"] = ablation(prep, sc, train, test, y, params, size, boot, cfg)
    result["importance"] = importance(lgb_model, prep, test, y, cfg)
    result["stability"] = stability(data, pd_all[chosen], train, test)
    result["calibration"] = calibration(data, prep, split, y, params, size, chosen, weight, cfg)
    result["reject_inference"] = reject_experiment(prep, train, test, y, params, size, cfg)
    result["policy"] = policy_curves(data, pd_all[chosen], test, y, cfg)
    result["seconds"] = time.perf_counter() - t0
    result["_arrays"] = {"y_test": y_test, "pd_test": scores, "chosen": chosen,
                         "id_test": data.frame.index.to_numpy()[test]}
    return result


def ablation(prep: Prepared, sc: ScorecardFit, train: np.ndarray, test: np.ndarray, y: np.ndarray, params: dict,
             size: int, boot: np.ndarray, cfg: StudyConfig) -> list[dict]:
    """The same LightGBM settings on each feature selection (selection fitted on the training rows)."""
    raw_index = {c: i for i, c in enumerate(prep.raw_columns)}
    iv_rank = sorted(sc.iv, key=lambda f: -sc.iv[f])
    iv_pass = [f for f in iv_rank if sc.iv[f] >= IV_THRESHOLD]
    ig_rank = sorted(sc.iv, key=lambda f: -sc.binner.bins[f].ig)[:len(iv_pass)]

    def cols(features: list[str]) -> list[int]:
        """A feature's matrix columns: its value and its missing indicator, when the cleaner made one."""
        wanted = set(features)
        return [i for c, i in raw_index.items() if c in wanted or c.removesuffix("__missing") in wanted]

    sets = {
        "all columns (raw and engineered)": (prep.X, list(range(prep.X.shape[1]))),
        f"IV >= {IV_THRESHOLD}": (prep.raw_X, cols(iv_pass)),
        f"information gain, top {len(iv_pass)}": (prep.raw_X, cols(ig_rank)),
        f"IV and correlation filter (|r| <= {MAX_CORR})": (prep.raw_X, cols(sc.selected)),
    }
    rows = []
    for name, (X, idx) in sets.items():
        if not idx:
            continue
        model = fit_lightgbm(X[:, idx], train, y, params, size, cfg.seed, cfg.threads)
        p = model.predict_proba(X[test][:, idx])[:, 1]
        rows.append(_ablation_row(name, len(idx), y[test], p, boot))
    # principal components of the standardised raw matrix, enough for 95% of the variance
    mu, sd = prep.raw_X[train].mean(axis=0), prep.raw_X[train].std(axis=0)
    sd[sd == 0] = 1.0
    pca = PCA(n_components=0.95, svd_solver="full", random_state=cfg.seed).fit((prep.raw_X[train] - mu) / sd)
    Z = pca.transform((prep.raw_X - mu) / sd)
    model = fit_lightgbm(Z, train, y, params, size, cfg.seed, cfg.threads)
    rows.append(_ablation_row(f"PCA, {pca.n_components_} components (95% variance)", pca.n_components_, y[test],
                              model.predict_proba(Z[test])[:, 1], boot))
    return rows


def _ablation_row(name: str, n: int, y: np.ndarray, p: np.ndarray, boot: np.ndarray) -> dict:
    a = metric_interval(y, {"m": p}, boot, metrics.roc_auc)["m"]
    k = metric_interval(y, {"m": p}, boot, ks)["m"]
    return {"selection": name, "columns": int(n), "roc_auc": a["value"], "roc_auc_low": a["low"],
            "roc_auc_high": a["high"], "ks": k["value"], "ks_low": k["low"], "ks_high": k["high"]}


def importance(model, prep: Prepared, test: np.ndarray, y: np.ndarray, cfg: StudyConfig, top: int = 15) -> list[dict]:
    """Permutation importance of the LightGBM model on (up to 5,000) test rows: the drop in ROC AUC."""
    rows = test if len(test) <= 5000 else np.sort(np.random.default_rng(cfg.seed).choice(test, 5000, replace=False))
    result = permutation_importance(model, prep.X[rows], y[rows].astype(int), scoring="roc_auc",
                                    n_repeats=3 if cfg.grid == "short" else 5, random_state=cfg.seed, n_jobs=1)
    order = np.argsort(-result.importances_mean)[:top]
    return [{"feature": prep.columns[i], "auc_drop": float(result.importances_mean[i]),
             "sd": float(result.importances_std[i]), "engineered": prep.columns[i] in prep.engineered}
            for i in order]


def stability(data: StudyData, p: np.ndarray, train: np.ndarray, test: np.ndarray) -> dict:
    """PSI of the chosen model's PD: training rows against the test rows, and against each test month."""
    edges = metrics.decile_edges(p[train])
    out = {"train_vs_test": metrics.psi(p[train], p[test], edges=edges)["psi"], "by_month": []}
    out["band"] = metrics.psi_band(out["train_vs_test"])
    if data.dates is not None:
        dates = pd.to_datetime(data.dates).to_numpy()
        for month in sorted(set(pd.to_datetime(dates[test]).to_period("M"))):
            rows = test[pd.to_datetime(dates[test]).to_period("M") == month]
            if len(rows) >= 50:
                value = metrics.psi(p[train], p[rows], edges=edges)["psi"]
                out["by_month"].append({"month": str(month), "rows": int(len(rows)), "psi": value,
                                        "band": metrics.psi_band(value)})
    return out


def calibration(data: StudyData, prep: Prepared, split: Split, y: np.ndarray, params: dict, size: int, chosen: str,
                weight: dict, cfg: StudyConfig) -> dict:
    """Recalibration of the chosen family fitted on the fit rows: none, Platt or isotonic, chosen by 2-fold
    cross-fitting (log loss) on the validation rows (the latest training months in the warehouse split)."""
    fit, val, test = split.fit, split.validation, split.test
    rows = np.arange(len(y))
    family = {"baseline": lambda: fit_baseline(prep, fit, y, cfg.seed, cfg.threads)(rows),
              "lightgbm": lambda: fit_lightgbm(prep.X, fit, y, params, size, cfg.seed, cfg.threads,
                                               prep.monotone).predict_proba(prep.X)[:, 1],
              "scorecard": lambda: fit_scorecard(prep, fit, y, cfg.seed).predict(prep.typed)}
    if chosen == "ensemble":
        raw = blend({k: family[k]() for k, w in weight.items() if w > 0}, weight)
    else:
        raw = family[chosen]()
    methods = {"none": lambda a, b: (lambda p: p), "platt": _platt, "isotonic": _isotonic}
    halves = np.array_split(np.random.default_rng(cfg.seed).permutation(val), 2)
    losses = {}
    for name, make in methods.items():
        loss = 0.0
        for k in range(2):
            a, b = halves[k], halves[1 - k]
            f = make(raw[a], y[a])
            loss += _log_loss(y[b], f(raw[b])) * len(b)
        losses[name] = loss / len(val)
    method = min(losses, key=losses.get)
    final = methods[method](raw[val], y[val])
    cal = final(raw)
    out = {"method": method, "validation_log_loss": losses,
           "ece_test_before": expected_calibration_error(y[test], raw[test]),
           "ece_test_after": expected_calibration_error(y[test], cal[test]),
           "mean_pd_test_before": float(raw[test].mean()), "mean_pd_test_after": float(cal[test].mean()),
           "bad_rate_test": float(y[test].mean()), "by_month": [],
           "table_before": metrics.calibration_table(y[test], raw[test])["table"],
           "table_after": metrics.calibration_table(y[test], cal[test])["table"]}
    if data.dates is not None:
        months = pd.to_datetime(data.dates).dt.to_period("M").to_numpy()
        for month in sorted(set(months[np.r_[val, test]])):
            rows = np.r_[val, test][months[np.r_[val, test]] == month]
            out["by_month"].append({"month": str(month), "rows": int(len(rows)), "in_test": bool(np.isin(rows, test).all()),
                                    "bad_rate": float(y[rows].mean()), "mean_pd_before": float(raw[rows].mean()),
                                    "mean_pd_after": float(cal[rows].mean())})
    return out


def _platt(p: np.ndarray, y: np.ndarray):
    x = np.log(np.clip(p, 1e-6, 1 - 1e-6) / (1 - np.clip(p, 1e-6, 1 - 1e-6))).reshape(-1, 1)
    lr = LogisticRegression(C=1e6).fit(x, y.astype(int))
    return lambda q: lr.predict_proba(np.log(np.clip(q, 1e-6, 1 - 1e-6) / (1 - np.clip(q, 1e-6, 1 - 1e-6)))
                                      .reshape(-1, 1))[:, 1]


def _isotonic(p: np.ndarray, y: np.ndarray):
    iso = IsotonicRegression(y_min=1e-4, y_max=1 - 1e-4, out_of_bounds="clip").fit(p, y)
    return iso.predict


def _log_loss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def reject_experiment(prep: Prepared, train: np.ndarray, test: np.ndarray, y: np.ndarray, params: dict, size: int,
                      cfg: StudyConfig) -> dict:
    """A known policy rejects part of the training applicants, their outcomes are hidden, and each way of
    inferring them is judged on the test rows (every applicant: the population a model will score).

    The policy: a logistic regression on all standardised raw columns, fitted on a random half of the
    training rows (the "old model"), rejecting the riskiest `reject_share` of the other half (the applicants). Methods: none (accepted rows only),
    parcelling and fuzzy augmentation (``reject.infer``), and the oracle that sees every outcome."""
    rng = np.random.default_rng(cfg.seed)
    order = rng.permutation(train)
    old, applicants = np.sort(order[: len(order) // 2]), np.sort(order[len(order) // 2:])
    mu, sd = prep.raw_X[old].mean(axis=0), prep.raw_X[old].std(axis=0)
    sd[sd == 0] = 1.0
    policy = LogisticRegression(max_iter=2000).fit((prep.raw_X[old] - mu) / sd, y[old].astype(int))
    policy_pd = policy.predict_proba((prep.raw_X - mu) / sd)[:, 1]
    cutoff = float(np.quantile(policy_pd[applicants], 1 - cfg.reject_share))
    rejected = applicants[policy_pd[applicants] > cutoff]
    accepted = applicants[policy_pd[applicants] <= cutoff]
    accepted_model = fit_lightgbm(prep.X, accepted, y, params, size, cfg.seed, cfg.threads)
    pd_acc = accepted_model.predict_proba(prep.X)[:, 1]
    rows = {}
    test_rejected = test[policy_pd[test] > cutoff]
    boot = bootstrap_indices(len(test), cfg.bootstrap, cfg.seed + 1)
    scores = {"none (accepted only)": pd_acc}
    for method in reject.METHODS:
        idx, labels, w = reject.infer(method, pd_acc[rejected], pd_acc[accepted], y[accepted], 1.0, cfg.seed)
        X = np.vstack([prep.X[accepted], prep.X[rejected[idx]]])
        yy = np.r_[y[accepted], labels]
        ww = np.r_[np.ones(len(accepted)), w]
        model = fit_lightgbm(X, np.arange(len(yy)), yy, params, size, cfg.seed, cfg.threads, weight=ww)
        scores[method] = model.predict_proba(prep.X)[:, 1]
    oracle = fit_lightgbm(prep.X, applicants, y, params, size, cfg.seed, cfg.threads)
    scores["oracle (every outcome)"] = oracle.predict_proba(prep.X)[:, 1]
    none = "none (accepted only)"
    intervals = metric_interval(y[test], {k: v[test] for k, v in scores.items()}, boot, metrics.roc_auc,
                                reference=none, prefix="vs_none")
    for name, p in scores.items():
        r = intervals[name]
        rows[name] = {"roc_auc_test": r["value"], "roc_auc_low": r["low"], "roc_auc_high": r["high"],
                      "vs_none": r.get("vs_none", 0.0), "vs_none_low": r.get("vs_none_low", 0.0),
                      "vs_none_high": r.get("vs_none_high", 0.0),
                      "mean_pd_rejected_region": float(p[test_rejected].mean()) if len(test_rejected) else None}
    return {"policy": f"logistic regression on standardised raw columns fitted on {len(old):,} rows; rejects "
                      f"the riskiest {cfg.reject_share:.0%} of {len(applicants):,} applicants",
            "accepted": int(len(accepted)), "rejected": int(len(rejected)),
            "bad_rate_accepted": float(y[accepted].mean()), "bad_rate_rejected_hidden": float(y[rejected].mean()),
            "test_rows_in_rejected_region": int(len(test_rejected)),
            "bad_rate_test_rejected_region": float(y[test_rejected].mean()) if len(test_rejected) else None,
            "methods": rows}


def policy_curves(data: StudyData, p: np.ndarray, test: np.ndarray, y: np.ndarray, cfg: StudyConfig) -> dict:
    """Approve the lowest-PD share of the test rows: bad rate, expected and realised loss, revenue, profit per
    approval rate; break-even pricing per PD band; a limit rule (the exposure at which expected loss equals
    the margin)."""
    ead = np.ones(len(y)) if data.exposure is None else np.nan_to_num(data.exposure.astype("float64"), nan=0.0)
    order = test[np.argsort(p[test], kind="stable")]
    rows = []
    for rate in np.round(np.arange(0.1, 1.0001, 0.05), 2):
        k = max(1, int(round(rate * len(order))))
        a = order[:k]
        exposure = float(ead[a].sum())
        expected_loss = float((p[a] * cfg.lgd * ead[a]).sum())
        realised_loss = float((y[a] * cfg.lgd * ead[a]).sum())
        revenue = float(((1 - y[a]) * cfg.margin * ead[a]).sum())
        rows.append({"approval_rate": float(rate), "approved": int(k), "bad_rate": float(y[a].mean()),
                     "exposure": exposure, "expected_loss": expected_loss, "realised_loss": realised_loss,
                     "revenue": revenue, "profit": revenue - realised_loss,
                     "expected_profit": float(((1 - p[a]) * cfg.margin * ead[a]).sum()) - expected_loss})
    best = max(rows, key=lambda r: r["expected_profit"])
    bands = []
    edges = np.quantile(p[test], np.linspace(0, 1, 6))
    band = np.clip(np.searchsorted(edges, p[test], side="right") - 1, 0, 4)
    for b in range(5):
        m = band == b
        if not m.any():
            continue
        mean_pd = float(p[test][m].mean())
        bands.append({"band": b + 1, "pd_from": float(edges[b]), "pd_to": float(edges[b + 1]), "rows": int(m.sum()),
                      "mean_pd": mean_pd, "bad_rate": float(y[test][m].mean()),
                      "break_even_margin": mean_pd * cfg.lgd / max(1 - mean_pd, 1e-9),
                      "limit_factor": min(1.5, cfg.margin * (1 - mean_pd) / max(mean_pd * cfg.lgd, 1e-9))})
    return {"lgd": cfg.lgd, "margin": cfg.margin, "exposure": data.exposure_column or "1 per account",
            "curve": rows, "best_by_expected_profit": best, "pricing": bands,
            "rules": ("break-even margin = PD x LGD / (1 - PD); limit factor = margin x (1 - PD) / (PD x LGD), "
                      "capped at 1.5: the multiple of today's limit at which the band's expected loss equals "
                      "its expected revenue")}


def conclusions(results: list[dict]) -> list[str]:
    """Sentences built from the figures of this run (nothing here is written in advance)."""
    out = []
    for r in results:
        auc = r["test"]["roc_auc"]
        best = max(("lightgbm", "ensemble"), key=lambda n: auc[n]["value"])
        d = auc[best]
        verdict = ("above" if d["vs_baseline_low"] > 0 else "not distinguishable from" if d["vs_baseline_high"] >= 0
                   else "below")
        out.append(f"{r['name']}: the best engineered model ({best}) reaches ROC AUC {d['value']:.4f} against "
                   f"{auc['baseline']['value']:.4f} for the default baseline, a difference of "
                   f"{d['vs_baseline']:+.4f} (95% interval {d['vs_baseline_low']:+.4f} to {d['vs_baseline_high']:+.4f}): "
                   f"{verdict} the baseline. Chosen by cross-validation: {r['chosen']} "
                   f"(test ROC AUC {auc[r['chosen']]['value']:.4f}).")
        ri = r["reject_inference"]["methods"]
        helps = [m for m in reject.METHODS if ri[m]["vs_none_low"] > 0]
        out.append(f"{r['name']}: reject inference " + (f"helped ({', '.join(helps)})" if helps else
                   "did not improve ROC AUC on every applicant significantly") + "; "
                   + "; ".join(f"{m} {ri[m]['vs_none']:+.4f}" for m in reject.METHODS) + " against no inference.")
        c = r["calibration"]
        out.append(f"{r['name']}: recalibration ({c['method']}) moved the expected calibration error on the test "
                   f"rows from {c['ece_test_before']:.4f} to {c['ece_test_after']:.4f}.")
    return out


LIMITATIONS = [
    "The warehouse panel is validated forward (each of the last training months predicted from the months "
    "before it); customers recur across months, and a month's outcome window overlaps the next months, so the "
    "validation is closer to the out-of-time test than a random split, not identical to it.",
    "The reject-inference experiment simulates the policy on rows whose outcomes are known; a real rejected "
    "population differs from the accepted one in ways no data shows.",
    "The policy curves use one loss given default and one margin for every account; a lender's own figures "
    "belong there (--lgd, --margin).",
    "Bootstrap intervals resample the test rows and hold the models fixed: they show the sampling error of the "
    "test set, not the variability of training.",
]
