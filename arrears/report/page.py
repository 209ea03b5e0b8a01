"""The report page: HTML around the charts and tables, written atomically; `arrears-report` (see `--help`)."""
from __future__ import annotations

import datetime as dt
import html
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import arrears

from ..atomic import write_text
from ..errors import EXIT_OK, ArrearsError
from ..labels import OVERDUE_TYPE_LABELS as TYPE_LABELS
from ..labels import team_label, value_label
from .charts import draw_charts, works_label
from .data import EXIT_UNWRITABLE, TOP_ROWS, ReportData, ReportError, read_report_data
from .text import (
    BACKTEST_COLUMNS,
    OUTCOME_LABELS,
    STATUS_LABELS,
    TEAM_COLUMNS,
    TEST_COLUMNS,
    TOP_COLUMNS,
    WATCH_COLUMNS,
    WORKS_COLUMNS,
    fmt_amount,
    fmt_pct,
    fmt_short,
    t,
)

WORKS_MIN_CELL = 30  # var strategy_min_cell's default: below it a row is marked as a small sample

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f8f9fa; color: #212529;
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC", "PingFang SC",
             "Microsoft YaHei", sans-serif; }
header { background: #fff; border-bottom: 1px solid #dee2e6; padding: 16px 28px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header .meta { color: #6c757d; font-size: 12px; }
main { padding: 16px 28px 28px; max-width: 1320px; }
.kpis { display: grid; grid-template-columns: repeat(6, 1fr); gap: 12px; margin-bottom: 16px; }
.kpi { background: #fff; border: 1px solid #dee2e6; border-radius: 6px; padding: 10px 12px; }
.kpi .label { color: #6c757d; font-size: 12px; }
.kpi .value { font-size: 20px; font-weight: 600; }
.kpi .sub { color: #868e96; font-size: 11px; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; margin-bottom: 16px; }
.card { background: #fff; border: 1px solid #dee2e6; border-radius: 6px; padding: 12px 14px; min-width: 0; }
.card.wide { grid-column: 1 / -1; }
.card h2 { font-size: 15px; margin: 0 0 2px; }
.card .note { color: #6c757d; font-size: 12px; margin: 0 0 8px; }
svg.chart { width: 100%; height: auto; display: block; }
table { border-collapse: collapse; width: 100%; font-size: 12px; }
th, td { padding: 4px 6px; border-bottom: 1px solid #e9ecef; text-align: left; vertical-align: top; }
th { background: #f1f3f5; font-weight: 600; white-space: nowrap; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.date { white-space: nowrap; }
footer { color: #868e96; font-size: 11px; padding: 0 28px 20px; }
"""


def _table(columns: Sequence[tuple[str, str, str, str]], rows: Sequence[dict[str, Any]], lang: str) -> str:
    if not rows:
        return f'<p class="note">{html.escape(t("none", lang))}</p>'
    head = "".join(f"<th>{html.escape(zh if lang == 'zh' else en)}</th>" for _, en, zh, _ in columns)
    body = []
    for row in rows:
        cells = []
        for key, _, _, kind in columns:
            value = row.get(key)
            if kind == "amount":
                cells.append(f'<td class="num">{fmt_amount(value)}</td>')
            elif kind == "int":
                cells.append(f'<td class="num">{"" if value is None else f"{value:,}"}</td>')
            elif kind == "date":
                cells.append(f'<td class="date">{"" if value is None else value.isoformat()}</td>')
            else:
                cells.append(f"<td>{html.escape('' if value is None else str(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _top_rows(data: ReportData, lang: str) -> list[dict[str, Any]]:
    out = []
    for r in data.top:
        zh = lang == "zh"
        out.append(dict(
            r,
            overdue_type=(r.get("overdue_type_zh") if zh else TYPE_LABELS.get(r.get("overdue_type"), {}).get(
                "en", r.get("overdue_type"))) or r.get("overdue_type"),
            risk_band=value_label("risk_band", r.get("risk_band"), lang),
            strategy_name=r.get("strategy_name_zh") if zh else r.get("strategy_name_en"),
            owner_team=team_label(r.get("owner_team") or "unassigned", lang),
            next_action=r.get("next_action_zh") if zh else r.get("next_action_en"),
        ))
    return out


def _team_rows(data: ReportData, lang: str) -> list[dict[str, Any]]:
    return [dict(r, owner_team=team_label(r.get("owner_team") or "unassigned", lang),
                 list_type=value_label("list_type", r.get("list_type"), lang),
                 strategy_name=(r.get("strategy_name_zh") if lang == "zh" else r.get("strategy_name_en"))
                 or r.get("strategy_code"))
            for r in data.teams]


def _watch_rows(data: ReportData, lang: str) -> list[dict[str, Any]]:
    return [dict(r, customer_type=value_label("customer_type", r.get("customer_type"), lang),
                 risk_band=value_label("risk_band", r.get("risk_band"), lang),
                 warnings=(r.get("warnings_zh") if lang == "zh" else r.get("warnings_en")) or r.get("warning_codes"))
            for r in data.watch]


def _rate_text(rate: float | None, interval: tuple[float, float] | None, n: int, lang: str) -> str:
    """`31.2% (25.1-38.0%) n=120`, or `not yet observed`."""
    if rate is None or interval is None:
        return t("not_observed", lang)
    return f"{fmt_pct(rate)} ({interval[0] * 100:.1f}–{interval[1] * 100:.1f}%) n={n:,}"


def _works_rows(data: ReportData, lang: str) -> list[dict[str, Any]]:
    out = []
    for r in data.works:
        label = works_label(r, lang).split(" · ", 1)
        out.append(dict(
            r, segment=label[0], strategy_name=label[1].split(" (")[0],
            variant=value_label("variant", r["variant"], lang),
            cure_30=_rate_text(r["cure_30_rate"], r["cure_30_interval"], int(r["cure_30_observed"] or 0), lang),
            cure_90=_rate_text(r["cure_90_rate"], r["cure_90_interval"], int(r["cure_90_observed"] or 0), lang),
            roll_forward=_rate_text(r["roll_forward_rate"], r["roll_forward_interval"],
                                    int(r["roll_forward_observed"] or 0), lang),
            promise_kept=_rate_text(r["promise_kept_rate"], r["promise_kept_interval"], int(r["promises_due"] or 0),
                                    lang),
            flag=t("small_cell", lang) if int(r["cure_30_observed"] or 0) < WORKS_MIN_CELL else "",
        ))
    return out


def _test_rows(data: ReportData, lang: str) -> list[dict[str, Any]]:
    def arm(rate: Any, n: Any) -> str:
        return "" if rate is None else f"{fmt_pct(rate)} (n={int(n):,})"

    out = []
    for r in data.strategy_tests:
        difference = "" if r["difference"] is None else (
            f"{r['difference'] * 100:+.1f} pp [{r['difference_low'] * 100:+.1f}, {r['difference_high'] * 100:+.1f}]")
        out.append(dict(
            r, outcome=OUTCOME_LABELS.get(r["outcome"], {}).get(lang, r["outcome"]),
            champion=arm(r["champion_rate"], r["champion_n"]), challenger=arm(r["challenger_rate"], r["challenger_n"]),
            difference=difference, p_value="" if r["p_value"] is None else f"{r['p_value']:.3f}",
            status=STATUS_LABELS.get(r["status"], {}).get(lang, r["status"])))
    return out


def _backtest_rows(data: ReportData) -> list[dict[str, Any]]:
    def share(part: Any, whole: Any, rate: Any) -> str:
        return "" if rate is None else f"{part:,}/{whole:,} ({rate * 100:.1f}%)"

    return [dict(r, setting=f"{r['setting']} {r.get('vars') or '{}'}",
                 mean_overdue_customers=f"{r['mean_overdue_customers']:,.1f}",
                 mean_watch_customers=f"{r['mean_watch_customers']:,.1f}",
                 flagged_before_90=share(r["flagged_before_90"], r["spells_reaching_90"], r["flagged_before_90_share"]),
                 median_lead_days="" if r["median_lead_days"] is None else f"{r['median_lead_days']:g}",
                 false_alarms=share(r["false_alarms"], r["overdue_listings_judged"], r["false_alarm_rate"]))
            for r in data.backtest]


def _works_cards(data: ReportData, charts: dict[str, str], lang: str, card) -> list[str]:
    """The "What works" section: the chart and table of cure rates, and the champion/challenger tests."""
    note = t("works_note", lang, runs=data.works_runs, min_cell=WORKS_MIN_CELL)
    if not data.works:
        body = f'<p class="note">{html.escape(t("no_works", lang))}</p>'
    else:
        # the chart only once some assignment has been observed 30 days (a first run has none: table only)
        observed = any(r.get("cure_30_interval") is not None for r in data.works)
        body = (charts["works"] if observed else "") + _table(WORKS_COLUMNS, _works_rows(data, lang), lang)
    cards = [card(t("works_title", lang), note, body, wide=True, section="what-works"),
             card(t("tests_title", lang), t("tests_note", lang), _table(TEST_COLUMNS, _test_rows(data, lang), lang),
                  wide=True, section="strategy-tests")]
    if data.backtest:
        cards.append(card(t("backtest_title", lang), t("backtest_note", lang),
                          charts["backtest"] + _table(BACKTEST_COLUMNS, _backtest_rows(data), lang),
                          wide=True, section="backtest"))
    return cards


def render_html(data: ReportData, lang: str = "en", generated_at: dt.datetime | None = None) -> str:
    generated_at = generated_at or dt.datetime.now(dt.UTC)
    charts = draw_charts(data, lang)
    k = data.kpis
    esc = html.escape
    kpis = [
        (t("kpi_outstanding", lang), fmt_short(k["outstanding_base"], lang), ""),
        (t("kpi_overdue", lang), fmt_short(k["overdue_base"], lang), ""),
        (t("kpi_overdue_rate", lang), fmt_pct(k["overdue_amount_rate"]), ""),
        (t("kpi_overdue_customers", lang), f"{k['overdue_customers'] or 0:,}",
         t("of_customers_with_balance", lang, n=f"{k['customers_with_balance'] or 0:,}")),
        (t("kpi_watch", lang), f"{data.watch_total:,}", ""),
        (t("kpi_dso", lang), "" if k["dso_days"] is None else f"{float(k['dso_days']):.0f}", ""),
    ]
    kpi_html = "".join(
        f'<div class="kpi"><div class="label">{esc(label)}</div><div class="value">{esc(value)}</div>'
        f'<div class="sub">{esc(sub)}</div></div>' for label, value, sub in kpis)
    roll_month = data.roll_month.isoformat() if data.roll_month else "-"

    def card(title: str, note: str, body: str, wide: bool = False, section: str = "") -> str:
        return (f'<section class="card{" wide" if wide else ""}" id="{section}"><h2>{esc(title)}</h2>'
                f'<p class="note">{esc(note)}</p>{body}</section>')

    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">',
        "<head>",
        '<meta charset="utf-8">',
        # Nothing may be fetched: a browser enforcing this shows exactly what the file holds.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "img-src data:\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(t('title', lang))} — {data.as_of.isoformat()}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        f"<header><h1>{esc(t('title', lang))}</h1><div class=\"meta\">{esc(t('as_of', lang))} "
        f"<strong>{data.as_of.isoformat()}</strong> · {esc(t('base_ccy', lang))} · {esc(t('generated', lang))} "
        f"{generated_at.isoformat(timespec='seconds')} · {esc(t('source', lang))} {esc(str(data.db))}</div></header>",
        "<main>",
        f'<div class="kpis">{kpi_html}</div>',
        '<div class="grid">',
        card(t("aging_title", lang), t("aging_note", lang, amount=fmt_amount(k.get("current_base"))),
             charts["aging"], section="aging"),
        card(t("types_title", lang), t("types_note", lang), charts["types"], section="types"),
        card(t("roll_title", lang, month=roll_month), t("roll_note", lang), charts["roll_rates"],
             section="roll-rates"),
        card(t("teams_title", lang), t("teams_note", lang), _table(TEAM_COLUMNS, _team_rows(data, lang), lang),
             section="teams"),
        card(t("trend_title", lang), t("trend_note", lang), charts["trend"], wide=True, section="trend"),
        card(t("top_title", lang), t("top_note", lang, n=min(TOP_ROWS, data.overdue_total), total=data.overdue_total),
             _table(TOP_COLUMNS, _top_rows(data, lang), lang), wide=True, section="top"),
        card(t("watch_title", lang), t("watch_note", lang, n=min(TOP_ROWS, data.watch_total), total=data.watch_total),
             _table(WATCH_COLUMNS, _watch_rows(data, lang), lang), wide=True, section="watch"),
        *_works_cards(data, charts, lang, card),
        "</div>",
        "</main>",
        f"<footer>{esc(t('footer', lang, version=arrears.__version__))}</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def write_report(db: Path, out: Path, lang: str = "en", backtest: Path | None = None) -> Path:
    """Read the marts (and an arrears-backtest output folder), render the report and write it atomically to
    `out`; returns the path."""
    data = read_report_data(db, backtest)
    text = render_html(data, lang)
    out = out.resolve()
    try:
        write_text(out, text)
    except OSError as exc:
        raise ReportError(f"cannot write the report to {out}: {exc}", EXIT_UNWRITABLE) from exc
    return out


EPILOG = """\
The report shows: headline figures; past-due amount by aging bucket; customers and amount at stake by overdue
type (and the watch list); the roll-rate heatmap of the latest month; the past-due amount and overdue rate
over months; the top-priority overdue customers; the watch list; what works (cure rates by strategy and type
with intervals, champion/challenger tests) and, with --backtest, the policy backtest. One HTML file, no network
access needed.

exit codes:
  0  done
  1  unexpected error
  2  bad arguments, or the database file is missing or cannot be opened
  4  the marts are missing: the pipeline has not been run on this database
  5  the marts hold no data
  6  the output file cannot be written
"""


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    from arrears.paths import default_db

    parser = argparse.ArgumentParser(
        prog="arrears-report", description="Write the overdue report: one self-contained HTML file (inline SVG "
        "charts, no scripts, no network) from the marts, opened read-only.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=default_db(),
                        help="DuckDB file built by the pipeline (env ARREARS_DB); default: %(default)s")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE.html", help="the HTML file to write")
    parser.add_argument("--lang", choices=("en", "zh"), default="en", help="language of the report (default: en)")
    parser.add_argument("--backtest", type=Path, default=None, metavar="FOLDER",
                        help="an arrears-backtest --out folder: adds the policy backtest to the report")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    args = parser.parse_args(argv)
    try:
        path = write_report(args.db, args.out, args.lang, args.backtest)
    except ArrearsError as exc:
        print(f"[report] ERROR: {exc}", file=sys.stderr)
        return exc.exit_code
    if not args.quiet:
        print(f"[report] wrote {path} ({path.stat().st_size / 1024:.0f} KiB)", flush=True)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
