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
from .charts import draw_charts
from .data import EXIT_UNWRITABLE, TOP_ROWS, ReportData, ReportError, read_report_data
from .text import TEAM_COLUMNS, TOP_COLUMNS, WATCH_COLUMNS, fmt_amount, fmt_pct, fmt_short, t

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
        "</div>",
        "</main>",
        f"<footer>{esc(t('footer', lang, version=arrears.__version__))}</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def write_report(db: Path, out: Path, lang: str = "en") -> Path:
    """Read the marts, render the report and write it atomically to `out`; returns the path."""
    data = read_report_data(db)
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
over months; the top-priority overdue customers; the watch list. One HTML file, no network access needed.

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
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    args = parser.parse_args(argv)
    try:
        path = write_report(args.db, args.out, args.lang)
    except ArrearsError as exc:
        print(f"[report] ERROR: {exc}", file=sys.stderr)
        return exc.exit_code
    if not args.quiet:
        print(f"[report] wrote {path} ({path.stat().st_size / 1024:.0f} KiB)", flush=True)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
