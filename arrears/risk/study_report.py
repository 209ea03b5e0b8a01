"""The study as one self-contained HTML page (inline SVG charts, no external file): the seed's outline.

Every number on the page comes from the study dictionary of the same run (`study.run_dataset`) or from the
test-row predictions beside it; the prose around them says what was done, not what was found.
"""
from __future__ import annotations

import html

import numpy as np
import pandas as pd

from . import metrics
from .report import _fmt, _plt, _svg
from .study import CANDIDATES, LIMITATIONS

COLOURS = {"baseline": "#7f7f7f", "scorecard": "#1f77b4", "lightgbm": "#d62728", "ensemble": "#9467bd"}
CSS = """body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;max-width:1100px;margin:2em auto;color:#222;
line-height:1.45}h1{font-size:1.7em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}td,th{border:1px solid #ccc;padding:3px 7px;
text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.charts{display:flex;
flex-wrap:wrap;gap:10px}.charts svg{max-width:520px;height:auto}.note{color:#555;font-size:.9em}
@media print{h2{page-break-before:auto}.charts svg{max-width:340px}}"""


def _e(text) -> str:
    return html.escape(str(text))


def _table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    head = "".join(f"<th>{_e(label)}</th>" for _, label in columns)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(r.get(key))}</td>" for key, _ in columns) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _ci(row: dict, key: str = "value", low: str = "low", high: str = "high") -> str:
    return f"{row[key]:.4f} [{row[low]:.4f}, {row[high]:.4f}]"


# ---------------------------------------------------------------------------------------------- charts

def roc_pr_charts(part: pd.DataFrame, name: str) -> list[str]:
    plt = _plt()
    y = part["label"].to_numpy()
    fig, ax = plt.subplots(figsize=(5, 4.4))
    fig2, ax2 = plt.subplots(figsize=(5, 4.4))
    for model in CANDIDATES:
        p = part[f"pd_{model}"].to_numpy()
        fpr, tpr, _ = metrics.roc_curve(y, p)
        ax.plot(fpr, tpr, color=COLOURS[model], label=f"{model} ({metrics.roc_auc(y, p):.3f})")
        order = np.argsort(-p, kind="stable")
        tp = np.cumsum(y[order])
        precision = tp / np.arange(1, len(y) + 1)
        recall = tp / max(y.sum(), 1)
        ax2.plot(recall, precision, color=COLOURS[model], label=model)
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC, test rows: {name}")
    ax.legend(loc="lower right", fontsize=8)
    ax2.axhline(y.mean(), color="grey", ls=":", lw=1)
    ax2.set(xlabel="recall", ylabel="precision", title=f"Precision-recall, test rows: {name}")
    ax2.legend(loc="upper right", fontsize=8)
    return [_svg(fig), _svg(fig2)]


def ks_gain_charts(part: pd.DataFrame, model: str, name: str) -> list[str]:
    plt = _plt()
    y = part["label"].to_numpy()
    p = part[f"pd_{model}"].to_numpy()
    order = np.argsort(-p, kind="stable")
    share = np.arange(1, len(y) + 1) / len(y)
    bads = np.cumsum(y[order]) / max(y.sum(), 1)
    goods = np.cumsum(1 - y[order]) / max((1 - y).sum(), 1)
    i = int(np.argmax(bads - goods))
    fig, ax = plt.subplots(figsize=(5, 4.4))
    ax.plot(share, bads, color="#d62728", label="bads caught (cumulative)")
    ax.plot(share, goods, color="#2ca02c", label="goods flagged (cumulative)")
    ax.vlines(share[i], goods[i], bads[i], color="black", lw=2, label=f"KS {bads[i] - goods[i]:.3f}")
    ax.set(xlabel="share of rows, riskiest first", ylabel="cumulative share", title=f"KS, {model}: {name}")
    ax.legend(loc="lower right", fontsize=8)
    fig2, ax2 = plt.subplots(figsize=(5, 4.4))
    deciles = np.array_split(order, 10)
    lift = [y[d].mean() / max(y.mean(), 1e-12) for d in deciles]
    ax2.bar(np.arange(1, 11), lift, color="#d62728")
    ax2.axhline(1, color="grey", ls=":")
    ax2.set(xlabel="decile of PD (1 = riskiest)", ylabel="lift (bad rate / overall)", title=f"Lift, {model}: {name}")
    return [_svg(fig), _svg(fig2)]


def calibration_chart(cal: dict, name: str) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 4.4))
    top = 0.0
    for key, colour, label in (("table_before", "#7f7f7f", "before"), ("table_after", "#d62728",
                                                                        f"after ({cal['method']})")):
        x = [r["mean_pd"] for r in cal[key]]
        yv = [r["observed_rate"] for r in cal[key]]
        top = max(top, *x, *yv)
        ax.plot(x, yv, marker="o", color=colour, label=label)
    ax.plot([0, top], [0, top], color="grey", ls=":", lw=1)
    ax.set(xlabel="mean predicted PD (decile)", ylabel="observed bad rate", title=f"Calibration, test rows: {name}")
    ax.legend(fontsize=8)
    return _svg(fig)


def bar_chart(labels: list[str], values: list[float], lows: list[float] | None, highs: list[float] | None,
              title: str, xlabel: str) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 0.35 * len(labels) + 1.4))
    pos = np.arange(len(labels))[::-1]
    err = None if lows is None else [np.array(values) - np.array(lows), np.array(highs) - np.array(values)]
    ax.barh(pos, values, xerr=err, color="#1f77b4", capsize=3)
    ax.set_yticks(pos, labels=labels, fontsize=8)
    lo = min(lows or values)
    ax.set_xlim(left=max(0.0, lo - 0.02) if lo > 0.3 else None)
    ax.set(title=title, xlabel=xlabel)
    return _svg(fig)


def policy_chart(policy: dict, name: str) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 4.4))
    x = [r["approval_rate"] for r in policy["curve"]]
    for key, colour, label in (("revenue", "#2ca02c", "revenue"), ("expected_loss", "#ff7f0e", "expected loss"),
                               ("realised_loss", "#d62728", "realised loss"), ("profit", "black", "profit")):
        ax.plot(x, [r[key] for r in policy["curve"]], color=colour, label=label)
    ax.set(xlabel="approval rate (lowest PD first)", ylabel=f"amount ({policy['exposure']})",
           title=f"Approval policy, test rows: {name}")
    ax.legend(fontsize=8)
    return _svg(fig)


# ---------------------------------------------------------------------------------------------- page

def render(study: dict, preds: pd.DataFrame) -> str:
    sets = study["datasets"]
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Credit-risk study</title>"
             f"<style>{CSS}</style></head><body>",
             "<h1>Credit-risk study: features, models, evaluation and decisions</h1>",
             f"<p class='note'>Computed in one run ({study['seconds']:.0f} s) over {len(sets)} dataset(s); "
             f"seed {study['config']['seed']}, {study['config']['folds']}-fold cross-validation, "
             f"{study['config']['bootstrap']} bootstrap replicates. Every figure below comes from this run.</p>"]
    parts.append("<h2>1. Background</h2><p>A lender and its collections team need, per customer, the probability "
                 "of default (PD) over the coming window, to approve, set limits and prices, and to act before "
                 "arrears grow. This study builds and checks such models on several datasets and turns them into "
                 "decisions.</p>")
    parts.append("<h2>2. Related work</h2><p>Scorecards on weight-of-evidence bins with logistic regression remain "
                 "the industry's explainable standard (Siddiqi, <i>Credit Risk Scorecards</i>, 2006); gradient "
                 "boosting usually ranks better on tabular credit data (Lessmann et al., <i>European Journal of "
                 "Operational Research</i> 247, 2015, a benchmark of 41 classifiers); Yeh and Lien (2009) introduced "
                 "the Taiwan card dataset used here. Reject inference by augmentation and parcelling follows "
                 "Banasik and Crook (2007).</p>")
    parts.append("<h2>3. Data and cleaning</h2>")
    parts.append(_table([{"name": r["name"], "rows": r["rows"], "split": r["split"]["kind"],
                          "train": r["split"]["train"], "test": r["split"]["test"],
                          "bad_train": r["bad_rate_train"], "bad_test": r["bad_rate_test"],
                          "raw": r["raw_columns"], "engineered": r["engineered_columns"]} for r in sets],
                        [("name", "dataset"), ("rows", "labeled rows"), ("split", "split"), ("train", "training rows"),
                         ("test", "test rows"), ("bad_train", "bad rate, training"), ("bad_test", "bad rate, test"),
                         ("raw", "model columns"), ("engineered", "engineered columns")]))
    for r in sets:
        dropped = [c for c in r["cleaning"] if c.get("dropped")]
        missing = [c for c in r["cleaning"] if c.get("n_missing")]
        parts.append(f"<p><b>{_e(r['name'])}</b> ({_e(r['source'])}): {len(r['cleaning']) - len(dropped)} columns "
                     f"kept, {len(dropped)} dropped" + (": " + ", ".join(f"{_e(c['feature'])} ({_e(c['dropped'])})"
                                                         for c in dropped[:8]) if dropped else "")
                     + f"; {len(missing)} with missing values (median-imputed, with an indicator). Engineered: "
                     + (_e("; ".join(r["engineering"])) or "no repayment history found") + ".</p>")
    parts.append("<h2>4. Feature selection</h2><p>Information value (IV) and information gain of every column "
                 "(weight-of-evidence bins on the training rows), then an ablation: the same LightGBM settings "
                 "trained on each selection, measured on the test rows (95% bootstrap intervals).</p>")
    for r in sets:
        parts.append(f"<h3>{_e(r['name'])}</h3>")
        parts.append(_table(r["scorecard"]["iv"][:12], [("feature", "feature (top 12 by IV)"), ("iv", "IV"),
                                                          ("information_gain_bits", "information gain (bits)")]))
        ab = r["ablation"]
        parts.append(_table(ab, [("selection", "selection"), ("columns", "columns"), ("roc_auc", "ROC AUC"),
                                 ("roc_auc_low", "low"), ("roc_auc_high", "high"), ("ks", "KS"), ("ks_low", "low"),
                                 ("ks_high", "high")]))
        parts.append("<div class='charts'>" + bar_chart([a["selection"] for a in ab], [a["roc_auc"] for a in ab],
                                                          [a["roc_auc_low"] for a in ab], [a["roc_auc_high"] for a in ab],
                                                          f"Selection ablation: {r['name']}", "test ROC AUC") + "</div>")
    parts.append("<h2>5. Models and evaluation</h2><p>Candidates: the default baseline (scikit-learn "
                 "HistGradientBoostingClassifier, default settings, raw columns), the WoE scorecard, LightGBM on "
                 "raw and engineered columns (settings by cross-validation, monotone constraints where the "
                 "direction is known) and the ensemble of the three. Chosen: the highest out-of-fold ROC AUC on the "
                 "training rows. Accuracy, recall and F1 at the threshold that maximises F1 on the out-of-fold "
                 "PDs of the training rows.</p>")
    for r in sets:
        auc, ks_, m = r["test"]["roc_auc"], r["test"]["ks"], r["test"]["metrics"]
        rows = [{"model": n + (" (chosen)" if n == r["chosen"] else ""), "cv": r["cv"]["roc_auc"][n],
                 "auc": _ci(auc[n]), "vs": (f"{auc[n]['vs_baseline']:+.4f} [{auc[n]['vs_baseline_low']:+.4f}, "
                                            f"{auc[n]['vs_baseline_high']:+.4f}]") if n != "baseline" else "",
                 "ks": _ci(ks_[n]), "accuracy": m[n]["accuracy"], "recall": m[n]["recall"], "f1": m[n]["f1"]}
                for n in CANDIDATES]
        parts.append(f"<h3>{_e(r['name'])}</h3>" + _table(rows, [
            ("model", "model"), ("cv", "CV ROC AUC (training)"), ("auc", "test ROC AUC [95%]"),
            ("vs", "minus baseline [95%]"), ("ks", "test KS [95%]"), ("accuracy", "accuracy"), ("recall", "recall"),
            ("f1", "F1")]))
        parts.append(f"<p class='note'>LightGBM settings: {_e(r['cv']['lightgbm_params'])}, "
                     f"{r['cv']['lightgbm_trees']} trees; ensemble weights "
                     + ", ".join(f"{k} {v:.1f}" for k, v in r["cv"]["ensemble_weights"].items())
                     + "; monotone increasing: "
                     f"{_e(', '.join(r['monotone']['increasing']) or 'none')}.</p>")
        part = preds[preds["dataset"] == r["name"]]
        parts.append("<div class='charts'>" + "".join(roc_pr_charts(part, r["name"]))
                     + "".join(ks_gain_charts(part, r["chosen"], r["name"])) + "</div>")
    parts.append("<h2>6. Results across datasets</h2>")
    parts.append(_table([{"name": r["name"], "baseline": r["test"]["roc_auc"]["baseline"]["value"],
                          "scorecard": r["test"]["roc_auc"]["scorecard"]["value"],
                          "lightgbm": r["test"]["roc_auc"]["lightgbm"]["value"],
                          "ensemble": r["test"]["roc_auc"]["ensemble"]["value"], "chosen": r["chosen"],
                          "gain": r["test"]["roc_auc"][r["chosen"]].get("vs_baseline", 0.0)} for r in sets],
                        [("name", "dataset"), ("baseline", "baseline AUC"), ("scorecard", "scorecard"),
                         ("lightgbm", "LightGBM"), ("ensemble", "ensemble"), ("chosen", "chosen"),
                         ("gain", "chosen minus baseline")]))
    parts.append("<h2>7. Feature importance</h2><p>Permutation importance of LightGBM (drop in test ROC AUC when "
                 "a column is shuffled) and the scorecard's points per bin.</p>")
    for r in sets:
        imp = r["importance"]
        parts.append(f"<h3>{_e(r['name'])}</h3><div class='charts'>" + bar_chart(
            [i["feature"] + (" *" if i["engineered"] else "") for i in imp], [i["auc_drop"] for i in imp], None, None,
            f"Permutation importance (* engineered): {r['name']}", "drop in ROC AUC") + "</div>")
        pts = r["scorecard"]["points"][:15]
        if pts:
            keys = [k for k in ("feature", "bin", "woe", "points") if k in pts[0]]
            parts.append(_table(pts, [(k, k) for k in keys]))
    parts.append("<h2>8. Stability and calibration</h2>")
    for r in sets:
        st, cal = r["stability"], r["calibration"]
        parts.append(f"<h3>{_e(r['name'])}</h3><p>PSI of the chosen model's PD, training against test rows: "
                     f"{st['train_vs_test']:.4f} ({_e(st['band'])}). Recalibration chosen on the validation rows: "
                     f"<b>{_e(cal['method'])}</b> (log loss by cross-fitting: "
                     + ", ".join(f"{k} {v:.4f}" for k, v in cal["validation_log_loss"].items())
                     + f"); expected calibration error on the test rows {cal['ece_test_before']:.4f} before, "
                     f"{cal['ece_test_after']:.4f} after; mean PD {cal['mean_pd_test_before']:.4f} / "
                     f"{cal['mean_pd_test_after']:.4f} against a bad rate of {cal['bad_rate_test']:.4f}.</p>")
        if st["by_month"]:
            parts.append(_table(st["by_month"], [("month", "test month"), ("rows", "rows"), ("psi", "PSI"),
                                                 ("band", "band")]))
        if cal["by_month"]:
            parts.append(_table(cal["by_month"], [("month", "month"), ("rows", "rows"), ("in_test", "test"),
                                                  ("bad_rate", "bad rate"), ("mean_pd_before", "mean PD before"),
                                                  ("mean_pd_after", "mean PD after")]))
        parts.append("<div class='charts'>" + calibration_chart(cal, r["name"]) + "</div>")
    parts.append("<h2>9. Risk decisions</h2>")
    for r in sets:
        ri, pol = r["reject_inference"], r["policy"]
        rows = [{"method": k, **v} for k, v in ri["methods"].items()]
        parts.append(f"<h3>{_e(r['name'])}: reject inference</h3><p>{_e(ri['policy'])}: {ri['accepted']:,} accepted "
                     f"(bad rate {ri['bad_rate_accepted']:.4f}), {ri['rejected']:,} rejected whose hidden bad rate is "
                     f"{ri['bad_rate_rejected_hidden']:.4f}. Judged on every test row.</p>")
        parts.append(_table(rows, [("method", "method"), ("roc_auc_test", "test ROC AUC"), ("roc_auc_low", "low"),
                                   ("roc_auc_high", "high"), ("vs_none", "minus no inference"), ("vs_none_low", "low"),
                                   ("vs_none_high", "high"), ("mean_pd_rejected_region", "mean PD, rejected region")]))
        best = pol["best_by_expected_profit"]
        parts.append(f"<h3>{_e(r['name'])}: approval, limits and pricing</h3><p>LGD {pol['lgd']}, margin "
                     f"{pol['margin']}, exposure {_e(pol['exposure'])}. Highest expected profit at an approval rate "
                     f"of {best['approval_rate']:.0%} (bad rate {best['bad_rate']:.4f}). {_e(pol['rules'])}.</p>")
        parts.append(_table(pol["pricing"], [("band", "PD band"), ("pd_from", "PD from"), ("pd_to", "to"),
                                             ("rows", "rows"), ("mean_pd", "mean PD"), ("bad_rate", "bad rate"),
                                             ("break_even_margin", "break-even margin"),
                                             ("limit_factor", "limit factor")]))
        parts.append("<div class='charts'>" + policy_chart(pol, r["name"]) + "</div>")
    parts.append("<h2>10. Conclusions</h2><ul>" + "".join(f"<li>{_e(c)}</li>" for c in study["conclusions"])
                 + "</ul>")
    parts.append("<h2>11. Limitations</h2><ul>" + "".join(f"<li>{_e(x)}</li>" for x in LIMITATIONS) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)
