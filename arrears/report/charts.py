"""The report's charts: matplotlib figures rendered to inline SVG (text kept as text)."""
from __future__ import annotations

import html
import io
import re
from collections.abc import Callable

from ..labels import OVERDUE_TYPE_LABELS as TYPE_LABELS
from ..labels import OVERDUE_TYPE_ORDER as TYPE_ORDER
from ..labels import value_label
from .data import ReportData
from .text import fmt_axis, fmt_short, t

# Each chart has colours no other part of the page uses: the screenshot test looks for them to tell that
# the chart was drawn.
AGING_COLOR = "#e8590c"
TYPE_COUNT_COLOR = "#2b8a3e"
TYPE_AMOUNT_COLOR = "#5f3dc4"
TREND_COLORS = ("#fcc5c0", "#fa9fb5", "#f768a1", "#dd3497", "#ae017e", "#7a0177", "#49006a")
TREND_LINE_COLOR = "#212529"
HEATMAP_STEPS = (0.0, 0.02, 0.05, 0.10, 0.20, 0.40, 0.60, 0.80, 1.0001)
HEATMAP_COLORS = ("#f1f7fd", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c")
HEATMAP_EMPTY = "#f8f9fa"
WORKS_COLOR = "#0b7285"
WORKS_INTERVAL_COLOR = "#495057"
# the what-works chart has data only once assignments have been observed 30 days (not in a first run)
WORKS_CHART_COLORS: dict[str, tuple[str, ...]] = {"works": (WORKS_COLOR,)}
CHART_COLORS: dict[str, tuple[str, ...]] = {
    "aging": (AGING_COLOR,),
    "types": (TYPE_COUNT_COLOR, TYPE_AMOUNT_COLOR),
    "roll_rates": HEATMAP_COLORS[3:],   # the darker steps: light ones are close to the page background
    "trend": TREND_COLORS[2:],
}


def _pyplot():
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    plt.rcParams.update({
        "svg.fonttype": "none",          # text stays text: small files, and the browser draws CJK glyphs
        "font.family": "sans-serif",
        "font.sans-serif": ["Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei",
                            "PingFang SC", "DejaVu Sans"],
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#868e96",
        "axes.labelcolor": "#343a40",
        "xtick.color": "#495057",
        "ytick.color": "#495057",
        "svg.hashsalt": "arrears",
    })
    return plt


def _svg(fig, chart_id: str) -> str:
    """The figure as an inline <svg> element: no XML prolog, DOCTYPE, metadata or namespace URLs (inline
    SVG in HTML needs none), scaled to its container."""
    plt = _pyplot()
    plt.rcParams["svg.hashsalt"] = f"arrears-{chart_id}"  # element ids unique across the page's charts
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buf.getvalue()
    text = re.sub(r"<\?xml[^>]*\?>\s*", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>\s*", "", text)
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)
    text = re.sub(r'<svg\s+width="([\d.]+)pt"\s+height="([\d.]+)pt"',
                  lambda m: f'<svg role="img" aria-label="{html.escape(chart_id)}" data-chart="{chart_id}" '
                            f'class="chart" style="max-width:{m.group(1)}pt"', text, count=1)
    return text.strip()


def _no_data_svg(chart_id: str, lang: str) -> str:
    return (f'<svg data-chart="{chart_id}" class="chart" viewBox="0 0 400 60"><text x="10" y="35" '
            f'font-size="14" fill="#868e96">{html.escape(t("no_data", lang))}</text></svg>')


def chart_aging(data: ReportData, lang: str) -> str:
    plt = _pyplot()
    past_due = [b for b in data.buckets if b.order > 0]
    if not past_due:
        return _no_data_svg("aging", lang)
    values = [float(data.aging.get(b.code) or 0) for b in past_due]
    fig, ax = plt.subplots(figsize=(6.2, 3.2))
    bars = ax.bar([b.label(lang) for b in past_due], values, color=AGING_COLOR, width=0.7)
    for bar, v in zip(bars, values):
        ax.annotate(fmt_short(v, lang), (bar.get_x() + bar.get_width() / 2, v), ha="center", va="bottom",
                    xytext=(0, 2), textcoords="offset points", fontsize=8)
    ax.yaxis.set_major_formatter(lambda v, _: fmt_axis(v, lang))
    ax.set_ylim(0, max(values + [1]) * 1.15)
    ax.tick_params(axis="x", labelrotation=0, labelsize=8)
    ax.grid(axis="y", color="#e9ecef", linewidth=0.8)
    ax.set_axisbelow(True)
    return _svg(fig, "aging")


def _type_rows(data: ReportData, lang: str) -> list[tuple[str, int, float]]:
    by_key = {r["key"]: r for r in data.types}
    keys = [k for k in TYPE_ORDER if k in by_key] + sorted(k for k in by_key if k not in TYPE_ORDER and k != "watch")
    keys += ["watch"] if "watch" in by_key else []
    out = []
    for k in keys:
        label = t("watch", lang) if k == "watch" else TYPE_LABELS.get(k, {}).get(lang, k)
        out.append((label, int(by_key[k]["customers"]), float(by_key[k]["at_stake_base"] or 0)))
    return out


def chart_types(data: ReportData, lang: str) -> str:
    plt = _pyplot()
    rows = _type_rows(data, lang)
    if not rows:
        return _no_data_svg("types", lang)
    labels = [r[0] for r in rows]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(6.2, 3.2))
    for ax, values, color, title, fmt in (
        (ax1, [r[1] for r in rows], TYPE_COUNT_COLOR, t("customers", lang), lambda v: f"{v:,.0f}"),
        (ax2, [r[2] for r in rows], TYPE_AMOUNT_COLOR, t("amount", lang), lambda v: fmt_short(v, lang)),
    ):
        from matplotlib.ticker import MaxNLocator

        bars = ax.barh(labels, values, color=color, height=0.65)
        ax.invert_yaxis()
        ax.set_title(title, fontsize=9, loc="left", color="#343a40")
        for bar, v in zip(bars, values):
            ax.annotate(fmt(v), (v, bar.get_y() + bar.get_height() / 2), va="center", ha="left",
                        xytext=(3, 0), textcoords="offset points", fontsize=8)
        ax.set_xlim(0, max(values + [1]) * 1.3)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.xaxis.set_major_formatter(lambda v, _: fmt_axis(v, lang))
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", color="#e9ecef", linewidth=0.8)
        ax.set_axisbelow(True)
    ax2.tick_params(axis="y", labelleft=False)
    fig.tight_layout()
    return _svg(fig, "types")


def chart_roll_rates(data: ReportData, lang: str) -> str:
    from matplotlib.colors import BoundaryNorm, ListedColormap

    plt = _pyplot()
    if not data.roll:
        return _no_data_svg("roll_rates", lang)
    order = {b.code: b.order for b in data.buckets}
    labels = {b.code: b.label(lang) for b in data.buckets}
    labels["settled"] = t("settled", lang)
    codes = {r["from_bucket"] for r in data.roll} | {r["to_bucket"] for r in data.roll}
    axis = sorted(codes, key=lambda c: (-1 if c == "settled" else order.get(c, 99), c))
    index = {c: i for i, c in enumerate(axis)}
    import numpy as np

    matrix = np.full((len(axis), len(axis)), np.nan)
    for r in data.roll:
        if r["count_rate"] is not None:
            matrix[index[r["from_bucket"]], index[r["to_bucket"]]] = float(r["count_rate"])
    cmap = ListedColormap(list(HEATMAP_COLORS)).with_extremes(bad=HEATMAP_EMPTY)
    norm = BoundaryNorm(list(HEATMAP_STEPS), cmap.N)
    fig, ax = plt.subplots(figsize=(6.2, 4.4))
    ax.pcolormesh(np.ma.masked_invalid(np.clip(matrix, 0, 1)), cmap=cmap, norm=norm, edgecolors="white",
                  linewidth=1.5)
    for i in range(len(axis)):
        for j in range(len(axis)):
            v = matrix[i, j]
            if not np.isnan(v):
                ax.text(j + 0.5, i + 0.5, f"{v * 100:.0f}%", ha="center", va="center", fontsize=7.5,
                        color="white" if v >= 0.40 else "#212529")
    ax.set_xticks([i + 0.5 for i in range(len(axis))], [labels.get(c, c) for c in axis], rotation=35,
                  ha="right", fontsize=8)
    ax.set_yticks([i + 0.5 for i in range(len(axis))], [labels.get(c, c) for c in axis], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(t("roll_to", lang))
    ax.set_ylabel(t("roll_from", lang))
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(length=0)
    return _svg(fig, "roll_rates")


def chart_trend(data: ReportData, lang: str) -> str:
    import numpy as np

    plt = _pyplot()
    if not data.trend:
        return _no_data_svg("trend", lang)
    past_due = [b for b in data.buckets if b.order > 0]
    ends = [r["period_end"] for r in data.trend]
    x = np.arange(len(ends))
    fig, ax = plt.subplots(figsize=(12.6, 3.6))
    bottom = np.zeros(len(ends))
    palette = list(TREND_COLORS[-len(past_due):]) if len(past_due) <= len(TREND_COLORS) else None
    for i, b in enumerate(past_due):
        values = np.array([float(r.get(f"bucket_{b.code}_base") or 0) for r in data.trend])
        color = palette[i] if palette else plt.get_cmap("RdPu")(0.3 + 0.7 * i / max(1, len(past_due) - 1))
        ax.bar(x, values, bottom=bottom, color=color, width=0.75, label=b.label(lang))
        bottom += values
    ax.yaxis.set_major_formatter(lambda v, _: fmt_axis(v, lang))
    ax.grid(axis="y", color="#e9ecef", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_xticks(x, [d.strftime("%Y-%m") if i < len(ends) - 1 or d.day >= 28 else d.isoformat()
                      for i, d in enumerate(ends)], rotation=45, ha="right", fontsize=7.5)
    ax.set_xlim(-0.6, len(ends) - 0.4)
    ax2 = ax.twinx()
    rates = [None if r.get("overdue_amount_rate") is None else float(r["overdue_amount_rate"]) for r in data.trend]
    ax2.plot(x, [np.nan if v is None else v for v in rates], color=TREND_LINE_COLOR, marker="o", markersize=3,
             linewidth=1.6, label=t("overdue_rate", lang))
    ax2.yaxis.set_major_formatter(lambda v, _: f"{v * 100:.0f}%")
    ax2.set_ylim(0, max([v for v in rates if v is not None] + [0.01]) * 1.15)
    ax2.spines["right"].set_visible(True)
    ax2.spines["top"].set_visible(False)
    handles, names = ax.get_legend_handles_labels()
    h2, n2 = ax2.get_legend_handles_labels()
    ax.legend(handles + h2, names + n2, loc="upper left", fontsize=7.5, frameon=False, ncol=4)
    ax.set_ylim(0, max(bottom.max(), 1) * 1.3)
    return _svg(fig, "trend")


def works_label(row: dict, lang: str) -> str:
    """`Type · strategy (arm)` for a what-works row."""
    segment = t("watch", lang) if row["segment"] == "watch" else TYPE_LABELS.get(row["segment"], {}).get(
        lang, row["segment"])
    name = (row.get("strategy_name_zh") if lang == "zh" else row.get("strategy_name_en")) or row["strategy_code"]
    arm = "" if row["variant"] == "champion" else f" ({value_label('variant', row['variant'], lang)})"
    return f"{segment} · {name}{arm}"


def chart_works(data: ReportData, lang: str) -> str:
    plt = _pyplot()
    rows = [r for r in data.works if r.get("cure_30_interval") is not None]
    if not rows:
        return _no_data_svg("works", lang)
    labels = [works_label(r, lang) for r in rows]
    rates = [r["cure_30_rate"] for r in rows]
    fig, ax = plt.subplots(figsize=(7.0, 0.32 * len(rows) + 0.9))
    ax.barh(labels, rates, color=WORKS_COLOR, height=0.6)
    for i, r in enumerate(rows):
        low, high = r["cure_30_interval"]
        ax.plot([low, high], [i, i], color=WORKS_INTERVAL_COLOR, linewidth=1.4)
        ax.annotate(f"{r['cure_30_rate'] * 100:.0f}% (n={int(r['cure_30_observed']):,})", (high, i), va="center",
                    ha="left", xytext=(4, 0), textcoords="offset points", fontsize=7.5)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.25)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.xaxis.set_major_formatter(lambda v, _: f"{v * 100:.0f}%")
    ax.tick_params(axis="y", labelsize=7.5)
    ax.set_title(t("works_chart_title", lang), fontsize=9, loc="left", color="#343a40")
    ax.grid(axis="x", color="#e9ecef", linewidth=0.8)
    ax.set_axisbelow(True)
    fig.tight_layout()
    return _svg(fig, "works")


BACKTEST_COLORS = ("#1864ab", "#c92a2a", "#5c940d", "#e67700", "#862e9c")


def chart_backtest(data: ReportData, lang: str) -> str:
    """Customers on the overdue list at each replayed month end, one line per setting."""
    plt = _pyplot()
    if not data.backtest_monthly:
        return _no_data_svg("backtest", lang)
    settings = [r["setting"] for r in data.backtest]
    fig, ax = plt.subplots(figsize=(7.0, 2.8))
    for i, setting in enumerate(settings):
        rows = sorted((m for m in data.backtest_monthly if m["setting"] == setting), key=lambda m: m["month_end"])
        ax.plot([m["month_end"] for m in rows], [m["overdue_customers"] for m in rows], linewidth=2, marker="o",
                markersize=3, color=BACKTEST_COLORS[i % len(BACKTEST_COLORS)], label=setting)
    ax.set_title(t("backtest_chart_title", lang), fontsize=9, loc="left", color="#343a40")
    ax.legend(fontsize=7.5, frameon=False)
    ax.grid(color="#e9ecef", linewidth=0.8)
    ax.set_axisbelow(True)
    fig.autofmt_xdate()
    fig.tight_layout()
    return _svg(fig, "backtest")


CHARTS: dict[str, Callable[[ReportData, str], str]] = {
    "aging": chart_aging, "types": chart_types, "roll_rates": chart_roll_rates, "trend": chart_trend,
    "works": chart_works, "backtest": chart_backtest,
}


def draw_charts(data: ReportData, lang: str) -> dict[str, str]:
    """Every chart as inline SVG. Without a CJK font matplotlib warns about missing glyphs while it lays
    out Chinese labels; the text is drawn by the browser, so the warnings are noise and are silenced."""
    import logging
    import warnings

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        return {name: draw(data, lang) for name, draw in CHARTS.items()}
