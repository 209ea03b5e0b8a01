"""Evaluation reports: JSON (machine-readable) and a self-contained HTML page (inline SVG, works offline)."""

from __future__ import annotations

import html
import io
import json
import math
from pathlib import Path

import numpy as np

from ..atomic import write_bytes as write_atomic
from . import metrics
from .model import Evaluation

COLOURS = {"scorecard": "#1f77b4", "gbm": "#d62728"}


def _clean(obj):
    """JSON-safe copy: NaN/inf -> null, numpy scalars -> Python."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_clean(v) for v in obj.tolist()]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return None if not math.isfinite(float(obj)) else float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def write_json(report: dict, path: Path) -> None:
    write_atomic(Path(path), (json.dumps(_clean(report), indent=2, allow_nan=False) + "\n").encode())


# ---------------------------------------------------------------------------------------------- charts

def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    text = buf.getvalue()
    return text[text.find("<svg"):]


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"      # text stays text: smaller files
    matplotlib.rcParams["svg.hashsalt"] = "arrears"    # stable element ids between runs
    import matplotlib.pyplot as plt
    return plt


def roc_chart(ev: Evaluation) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 4.5))
    for name, p in ev.pd_test.items():
        fpr, tpr, _ = metrics.roc_curve(ev.y_test, p)
        ax.plot(fpr, tpr, color=COLOURS.get(name), label=f"{name} (AUC {metrics.roc_auc(ev.y_test, p):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1)
    ax.set(xlabel="false positive rate (goods flagged)", ylabel="true positive rate (bads caught)",
           title="ROC curve, test rows")
    ax.legend(loc="lower right")
    return _svg(fig)


def ks_chart(ev: Evaluation, name: str) -> str:
    """Cumulative share of bads and goods by score (points, lowest = riskiest first) and the KS gap."""
    plt = _plt()
    pts = np.asarray(ev.points_test[name], dtype=float)
    y = ev.y_test
    grid = np.unique(pts)
    cum_bad = np.searchsorted(np.sort(pts[y == 1]), grid, side="right") / max((y == 1).sum(), 1)
    cum_good = np.searchsorted(np.sort(pts[y == 0]), grid, side="right") / max((y == 0).sum(), 1)
    gap = cum_bad - cum_good
    i = int(np.argmax(gap))
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.plot(grid, cum_bad, color="#d62728", label="bads (cumulative share)")
    ax.plot(grid, cum_good, color="#2ca02c", label="goods (cumulative share)")
    ax.vlines(grid[i], cum_good[i], cum_bad[i], color="black", lw=2, label=f"KS {gap[i]:.3f} at {grid[i]:.0f}")
    ax.set(xlabel="score (points)", ylabel="cumulative share", title=f"KS chart, {name}, test rows")
    ax.legend(loc="upper left")
    return _svg(fig)


def score_distribution_chart(ev: Evaluation, name: str) -> str:
    plt = _plt()
    pts = np.asarray(ev.points_test[name], dtype=float)
    y = ev.y_test
    bins = np.linspace(pts.min(), pts.max(), 31) if pts.max() > pts.min() else 10
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.hist(pts[y == 0], bins=bins, alpha=0.55, density=True, color="#2ca02c", label="good")
    ax.hist(pts[y == 1], bins=bins, alpha=0.55, density=True, color="#d62728", label="bad")
    ax.set(xlabel="score (points)", ylabel="density", title=f"Score distribution, {name}, test rows")
    ax.legend()
    return _svg(fig)


def calibration_chart(report: dict) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 4.5))
    top = 0.0
    for name, r in report["models"].items():
        rows = r["calibration"]["table"]
        x = [row["mean_pd"] for row in rows]
        yv = [row["observed_rate"] for row in rows]
        top = max(top, *x, *yv)
        ax.plot(x, yv, marker="o", color=COLOURS.get(name), label=name)
    ax.plot([0, top], [0, top], color="grey", ls=":", lw=1)
    ax.set(xlabel="mean predicted PD (decile)", ylabel="observed bad rate", title="Calibration, test rows")
    ax.legend()
    return _svg(fig)


# ---------------------------------------------------------------------------------------------- tables

def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else ""
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        return "" if not math.isfinite(v) else (f"{v:.4f}" if abs(v) < 1000 else f"{v:,.0f}")
    return html.escape(str(v))


def _table(rows: list[dict], columns: list[str] | None = None, headers: dict | None = None) -> str:
    if not rows:
        return "<p><em>none</em></p>"
    columns = columns or list(rows[0])
    headers = headers or {}
    head = "".join(f"<th>{html.escape(headers.get(c, c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(r.get(c))}</td>" for c in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1150px;color:#222;
line-height:1.4;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.2rem .5rem;
text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.charts svg{max-width:520px;height:auto}
.note{color:#555;font-size:.9rem}.key{font-weight:600}
"""


def render_html(report: dict, ev: Evaluation, title: str = "Credit-risk model evaluation") -> str:
    primary = report["primary_model"]
    names = list(report["models"])
    metric_keys = ["roc_auc", "ks", "gini", "accuracy", "precision", "recall", "f1", "threshold", "psi"]
    metric_rows = []
    for name in names:
        r = report["models"][name]
        metric_rows.append({"model": name + (" (primary)" if name == primary else ""),
                            "validation_roc_auc": r["validation"]["roc_auc"],
                            **{k: r[k] for k in metric_keys}, "psi_band": r["psi_band"],
                            "brier": r["calibration"]["brier"]})
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"]
    rows = report["rows"]
    split = report["split"]
    source = html.escape(str(report.get("source", "")))
    parts.append(
        f"<p class='note'>Source: {source}. Split: {html.escape(split['kind'])}; fit {rows['fit']:,} rows, "
        f"validation {rows['validation']:,}, test {rows['test']:,}; bad rate (test) {rows['bad_rate_test']:.3f}. "
        f"Seed {report['seed']}. Trained {html.escape(report['trained_at'])}. "
        f"Elapsed {report.get('elapsed_seconds', 0):.1f} s.</p>")
    if split["kind"] == "out-of-time":
        parts.append(f"<p class='note'>Training dates up to {split['train_last_date']}; test dates from "
                     f"{split['test_first_date']} ({', '.join(split['test_dates'])}).</p>")
    parts.append("<h2>Metrics (test rows)</h2>")
    parts.append(f"<p>Primary model: <span class='key'>{html.escape(primary)}</span> — "
                 f"{html.escape(report['primary_rule'])}.</p>")
    parts.append(_table(metric_rows))
    parts.append(f"<p class='note'>Threshold: {html.escape(report['models'][primary]['threshold_rule'])}. "
                 "PSI: score points of the training rows against the test rows, 10 bins at the training "
                 "deciles (&lt; 0.10 stable, 0.10–0.25 watch, &gt; 0.25 act).</p>")
    parts.append("<div class='charts'>" + roc_chart(ev) + ks_chart(ev, primary)
                 + score_distribution_chart(ev, primary) + calibration_chart(report) + "</div>")
    for name in names:
        r = report["models"][name]
        cal = r["calibration"]
        parts.append(f"<h2>Calibration, {html.escape(name)} (test deciles of predicted PD)</h2>")
        parts.append(f"<p class='note'>Brier {cal['brier']:.4f}; mean PD {cal['mean_pd']:.4f} against observed "
                     f"{cal['observed_rate']:.4f}; Hosmer–Lemeshow {cal['hosmer_lemeshow']:.1f} "
                     f"(p = {cal['hosmer_lemeshow_p']:.3g}).</p>")
        parts.append(_table(cal["table"], ["bin", "pd_min", "pd_max", "count", "bads", "mean_pd",
                                           "observed_rate", "difference"]))
        parts.append(f"<p>Score bands, {html.escape(name)} (test rows)</p>")
        parts.append(_table(r["band_distribution_test"]))
    parts.append("<h2>Information value</h2>")
    parts.append(f"<p class='note'>IV threshold {report['config']['iv_threshold']}, correlation filter "
                 f"|r| &gt; {report['config']['max_corr']} keeps the higher IV. Information gain in bits over the "
                 "same bins. Gradient boosting features: "
                 f"{html.escape(report['config']['gbm_features'])}.</p>")
    parts.append(_table(report["features"]["iv_table"],
                        ["feature", "kind", "iv", "information_gain_bits", "n_bins", "strength", "selected",
                         "reason"]))
    sc = report.get("scorecard")
    if sc:
        s = sc["scaling"]
        parts.append("<h2>Scorecard points</h2>")
        parts.append(f"<p class='note'>Base score {s['base_score']:g} at odds {s['base_odds']:g}:1, "
                     f"{s['pdo']:g} points to double the odds (factor {s['factor']:.3f}, offset "
                     f"{s['offset']:.2f}). {html.escape(sc['points_rule'])}.</p>")
        if sc["dropped_wrong_sign"]:
            parts.append(f"<p class='note'>Removed for a reversed sign: "
                         f"{html.escape(', '.join(sc['dropped_wrong_sign']))}.</p>")
        parts.append(_table(sc["points_table"], ["feature", "bin", "count", "bad_rate", "woe", "points"]))
    parts.append("<h2>Score bands</h2>")
    parts.append(_table(report["score_bands"]))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(report: dict, ev: Evaluation, path: Path, title: str | None = None) -> None:
    text = render_html(report, ev, title or "Credit-risk model evaluation")
    write_atomic(Path(path), text.encode("utf-8"))
