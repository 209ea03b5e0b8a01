"""Policy backtest (`arrears-backtest`, `scripts/backtest.py`): replay month ends under other settings.

For each setting (the project's current vars, `baseline`, plus each `--vars` / `--setting`), a copy of the
warehouse is rebuilt at every month end from `--from` to `--to` with those vars (`dbt build` of the models the
lists need, no tests) and the lists it would have issued are kept. Then, per setting, with the facts as the
warehouse knows them today (delinquency episodes, the contact log):

- each month: customers and amount on the overdue list, customers on the watch list, the workload per team;
- lead time: for each past-due spell that reached 90 days past due inside the window, the days between the
  first month end the customer was on a list (overdue or watch) during that spell and the day it reached 90;
  a spell never listed before it reached 90 is missed;
- false alarms: a customer on the overdue list at a month end whose spell was over within 30 days, with no
  contact in the log in those 30 days (it cured by itself: the flag cost work for nothing).

Writes `<out>/backtest_monthly.parquet`, `backtest_workload.parquet`, `backtest_summary.parquet`,
`backtest_lists.parquet` (every replayed list row), a Markdown table and an SVG chart; `arrears-report
--backtest <out>` shows them in the report. The warehouse itself is only read.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import EXIT_OK, EXIT_USAGE, ArrearsError
from .paths import ROOT, dbt_executable, default_db
from .warehouse import open_readonly, require_relations

LIST_MODELS = ("+mart_collection_strategy",)
FALSE_ALARM_DAYS = 30
LONG_DPD = 90
SUMMARY_FILE = "backtest_summary.parquet"
MONTHLY_FILE = "backtest_monthly.parquet"
WORKLOAD_FILE = "backtest_workload.parquet"
LISTS_FILE = "backtest_lists.parquet"


class BacktestError(ArrearsError):
    """The backtest cannot run (bad arguments, a replay failed)."""


def month_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every month end from the month of `first` to the month of `last`."""
    out: list[dt.date] = []
    day = first.replace(day=1)
    while day <= last:
        following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        out.append(following - dt.timedelta(days=1))
        day = following
    return out


def parse_settings(vars_json: str | None, settings: Sequence[str]) -> dict[str, dict[str, Any]]:
    """`baseline` (no override) first, then `--vars` as `alternative`, then each `--setting NAME=JSON`."""
    out: dict[str, dict[str, Any]] = {"baseline": {}}

    def load(text: str, what: str) -> dict[str, Any]:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BacktestError(f"{what} is not JSON: {exc}", EXIT_USAGE) from exc
        if not isinstance(value, dict) or not value:
            raise BacktestError(f"{what} must be a non-empty JSON object of dbt vars", EXIT_USAGE)
        if "as_of_date" in value:
            raise BacktestError(f"{what}: as_of_date is set by the backtest itself", EXIT_USAGE)
        return value

    if vars_json:
        out["alternative"] = load(vars_json, "--vars")
    for item in settings:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise BacktestError(f"--setting {item!r}: expected NAME={{json}}", EXIT_USAGE)
        if name in out:
            raise BacktestError(f"--setting {name!r} given twice (baseline and alternative are taken)", EXIT_USAGE)
        out[name.strip()] = load(text, f"--setting {name}")
    return out


def replay_lists(db: Path, raw_dir: Path, work: Path, setting: str, overrides: dict[str, Any],
                 days: Sequence[dt.date], threads: int | None = None) -> list[dict[str, Any]]:
    """Copy the warehouse to `work`, rebuild the lists at each day with `overrides`, return the list rows."""
    copy = work / f"{setting}.duckdb"
    work.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(db, copy)
    raw_format = "parquet" if any(raw_dir.glob("*.parquet")) and not any(raw_dir.glob("*.csv")) else "csv"
    env = dict(os.environ, DO_NOT_TRACK="1", ARREARS_DB=str(copy), ARREARS_HOME=str(ROOT),
               ARREARS_DUCKDB_TEMP_DIR=str(work / "duckdb_tmp"))
    rows: list[dict[str, Any]] = []
    for day in days:
        dbt_vars = {"raw_dir": str(raw_dir), "raw_format": raw_format, **overrides, "as_of_date": day.isoformat()}
        cmd = [dbt_executable(), "build", "--project-dir", str(ROOT), "--profiles-dir", str(ROOT),
               "--target-path", str(work / f"{setting}_dbt" / "target"), "--log-path", str(work / f"{setting}_dbt" / "logs"),
               "--vars", json.dumps(dbt_vars), "--select", *LIST_MODELS, "--exclude", "tag:risk_decisions",
               "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
        if threads:
            cmd += ["--threads", str(threads)]
        started = time.monotonic()
        done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            raise BacktestError(f"replay of {day} under setting {setting!r} failed (dbt exit {done.returncode}):\n"
                                + "\n".join((done.stdout + done.stderr).splitlines()[-25:]))
        with open_readonly(copy) as con:
            cursor = con.execute("""
                select as_of_date, customer_id, list_type, overdue_type,
                       case when list_type = 'watch' then 'watch' else overdue_type end as segment,
                       risk_band, strategy_code, variant,
                       owner_team, days_past_due, cast(at_stake_base as double) as at_stake_base
                from marts.mart_collection_strategy""")
            names = [d[0] for d in cursor.description]
            found = [dict(zip(names, r), setting=setting) for r in cursor.fetchall()]
        rows += found
        print(f"[backtest] {setting} {day}: {len(found):,} customers listed ({time.monotonic() - started:.1f}s)",
              flush=True)
    copy.unlink(missing_ok=True)
    return rows


def read_facts(db: Path) -> tuple[dict[str, list[tuple[dt.date, dt.date | None, int]]], dict[str, list[dt.date]]]:
    """Past-due spells (start, end or None while open, peak days past due) and contact days, per customer, as
    the warehouse knows them now."""
    with open_readonly(db) as con:
        require_relations(con, db, "marts", ["fct_delinquency_episodes", "mart_collection_strategy"])
        spells: dict[str, list[tuple[dt.date, dt.date | None, int]]] = defaultdict(list)
        for c, start, end, peak in con.execute(
                "select customer_id, episode_start_date, episode_end_date, peak_days_past_due "
                "from marts.fct_delinquency_episodes").fetchall():
            spells[c].append((start, end, int(peak)))
        contacts: dict[str, list[dt.date]] = defaultdict(list)
        for c, day in con.execute("select customer_id, action_date from staging.stg_collection_actions").fetchall():
            contacts[c].append(day)
    return spells, contacts


def _spell_on(spells: list[tuple[dt.date, dt.date | None, int]], day: dt.date):
    return next((s for s in spells if s[0] <= day and (s[1] is None or s[1] >= day)), None)


def summarise(lists: list[dict[str, Any]], settings: Sequence[str], days: Sequence[dt.date],
              spells: dict[str, list[tuple[dt.date, dt.date | None, int]]], contacts: dict[str, list[dt.date]],
              as_of: dt.date) -> tuple[list[dict], list[dict], list[dict]]:
    """Monthly figures, workload per team and month, and one summary row per setting."""
    by_setting: dict[str, list[dict]] = defaultdict(list)
    for row in lists:
        by_setting[row["setting"]].append(row)
    monthly, workload, summary = [], [], []
    window = (days[0].replace(day=1), days[-1])
    # spells that reached LONG_DPD inside the window: the day they did (start is day 1 past due)
    reached = {(c, s[0]): s[0] + dt.timedelta(days=LONG_DPD - 1)
               for c, own in spells.items() for s in own if s[2] >= LONG_DPD
               and window[0] <= s[0] + dt.timedelta(days=LONG_DPD - 1) <= window[1]}
    for setting in settings:
        rows = by_setting.get(setting, [])
        per_day: dict[dt.date, list[dict]] = defaultdict(list)
        for r in rows:
            per_day[r["as_of_date"]].append(r)
        for day in days:
            listed = per_day.get(day, [])
            overdue = [r for r in listed if r["list_type"] == "overdue"]
            monthly.append({"setting": setting, "month_end": day, "overdue_customers": len(overdue),
                            "overdue_base": round(sum(r["at_stake_base"] for r in overdue), 2),
                            "watch_customers": sum(r["list_type"] == "watch" for r in listed)})
            teams: dict[str, int] = defaultdict(int)
            for r in listed:
                teams[r["owner_team"]] += 1
            workload += [{"setting": setting, "month_end": day, "owner_team": team, "customers": n}
                         for team, n in sorted(teams.items())]
        # lead time: first listing (any list) inside the spell, before it reached LONG_DPD
        first_listed: dict[tuple[str, dt.date], dt.date] = {}
        for r in sorted(rows, key=lambda r: r["as_of_date"]):
            spell = _spell_on(spells.get(r["customer_id"], []), r["as_of_date"])
            if spell is not None:
                first_listed.setdefault((r["customer_id"], spell[0]), r["as_of_date"])
        leads = [(hit - first_listed[key]).days for key, hit in reached.items()
                 if key in first_listed and first_listed[key] <= hit]
        # false alarms: overdue-listed, spell over within FALSE_ALARM_DAYS, no contact meanwhile
        judged = alarms = 0
        for r in rows:
            day = r["as_of_date"]
            if r["list_type"] != "overdue" or day + dt.timedelta(days=FALSE_ALARM_DAYS) > as_of:
                continue
            judged += 1
            spell = _spell_on(spells.get(r["customer_id"], []), day)
            cured = spell is not None and spell[1] is not None and spell[1] < day + dt.timedelta(days=FALSE_ALARM_DAYS)
            touched = any(day < c <= day + dt.timedelta(days=FALSE_ALARM_DAYS) for c in contacts.get(r["customer_id"], []))
            alarms += cured and not touched
        months = [m for m in monthly if m["setting"] == setting]
        summary.append({
            "setting": setting, "month_ends": len(days), "first_month_end": days[0], "last_month_end": days[-1],
            "mean_overdue_customers": round(statistics.fmean(m["overdue_customers"] for m in months), 1),
            "mean_overdue_base": round(statistics.fmean(m["overdue_base"] for m in months), 2),
            "mean_watch_customers": round(statistics.fmean(m["watch_customers"] for m in months), 1),
            "spells_reaching_90": len(reached), "flagged_before_90": len(leads),
            "flagged_before_90_share": round(len(leads) / len(reached), 4) if reached else None,
            "median_lead_days": statistics.median(leads) if leads else None,
            "overdue_listings_judged": judged, "false_alarms": alarms,
            "false_alarm_rate": round(alarms / judged, 4) if judged else None,
        })
    return monthly, workload, summary


def write_outputs(out: Path, lists: list[dict], monthly: list[dict], workload: list[dict], summary: list[dict],
                  settings: dict[str, dict[str, Any]]) -> list[Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in ((LISTS_FILE, lists), (MONTHLY_FILE, monthly), (WORKLOAD_FILE, workload),
                       (SUMMARY_FILE, [dict(r, vars=json.dumps(settings[r["setting"]], sort_keys=True))
                                       for r in summary])):
        path = out / name
        pq.write_table(pa.Table.from_pylist(rows) if rows else pa.table({}), path)
        written.append(path)
    md = out / "backtest.md"
    md.write_text(markdown_table(summary, settings), encoding="utf-8")
    svg = out / "backtest.svg"
    svg.write_text(chart_svg(monthly, list(settings)), encoding="utf-8")
    return written + [md, svg]


SUMMARY_COLUMNS = (  # key, header
    ("setting", "setting"), ("mean_overdue_customers", "overdue customers / month"),
    ("mean_overdue_base", "overdue amount / month"), ("mean_watch_customers", "watch list / month"),
    ("spells_reaching_90", "spells reaching 90 DPD"), ("flagged_before_90_share", "flagged before 90 DPD"),
    ("median_lead_days", "median lead (days)"), ("false_alarm_rate", "false alarms"),
)


def markdown_table(summary: list[dict], settings: dict[str, dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(h for _, h in SUMMARY_COLUMNS) + " | vars |",
             "|" + "---|" * (len(SUMMARY_COLUMNS) + 1)]
    for row in summary:
        cells = []
        for key, _ in SUMMARY_COLUMNS:
            value = row[key]
            if key.endswith("_share") or key.endswith("_rate"):
                cells.append("–" if value is None else f"{value * 100:.1f}%")
            elif isinstance(value, float):
                cells.append(f"{value:,.1f}")
            else:
                cells.append("–" if value is None else f"{value:,}" if isinstance(value, int) else str(value))
        cells.append("`" + json.dumps(settings[row["setting"]], sort_keys=True) + "`")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


BACKTEST_COLORS = ("#1864ab", "#c92a2a", "#5c940d", "#e67700", "#862e9c", "#0b7285")


def chart_svg(monthly: list[dict], settings: Sequence[str]) -> str:
    """Overdue customers per month end, one line per setting."""
    import io

    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.0, 3.0))
    for i, setting in enumerate(settings):
        rows = sorted((m for m in monthly if m["setting"] == setting), key=lambda m: m["month_end"])
        ax.plot([m["month_end"] for m in rows], [m["overdue_customers"] for m in rows],
                color=BACKTEST_COLORS[i % len(BACKTEST_COLORS)], linewidth=2, marker="o", markersize=3, label=setting)
    ax.set_ylabel("customers on the overdue list")
    ax.legend(fontsize=8, frameon=False)
    ax.grid(color="#e9ecef", linewidth=0.8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.autofmt_xdate()
    fig.tight_layout()
    buf = io.StringIO()
    plt.rcParams["svg.hashsalt"] = "arrears-backtest"
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return buf.getvalue()


def run_backtest(db: Path, raw_dir: Path, out: Path, first: dt.date, last: dt.date,
                 settings: dict[str, dict[str, Any]], threads: int | None = None) -> list[dict]:
    with open_readonly(db) as con:
        require_relations(con, db, "intermediate", ["int_as_of_date"])
        as_of = con.execute("select as_of_date from intermediate.int_as_of_date").fetchone()[0]
    days = [d for d in month_ends(first, last) if d <= as_of]
    if not days:
        raise BacktestError(f"no month end from {first} to {last} on or before the warehouse's as-of date {as_of}",
                            EXIT_USAGE)
    lists: list[dict] = []
    work = out / "work"
    for name, overrides in settings.items():
        lists += replay_lists(db, raw_dir, work, name, overrides, days, threads)
    shutil.rmtree(work, ignore_errors=True)
    spells, contacts = read_facts(db)
    monthly, workload, summary = summarise(lists, list(settings), days, spells, contacts, as_of)
    for path in write_outputs(out, lists, monthly, workload, summary, settings):
        print(f"[backtest] wrote {path}", flush=True)
    return summary


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="backtest.py",
        description="Replay month ends under alternative settings (dbt vars) and compare the lists they would have "
        "issued: customers and amount flagged each month, lead time before 90+ days past due, false alarms, "
        "workload per team. The warehouse (--db) is only read; each setting is replayed on a copy.",
        epilog="Example: backtest.py --from 2025-01-31 --to 2026-10-31 --vars '{\"overdue_threshold_days\": 45}'. "
        "Exit status: 0 done, 1 a replay failed, 2 bad arguments or no database, 4 the database has no marts.")
    p.add_argument("--db", type=Path, default=default_db(), help="the warehouse (default: %(default)s)")
    p.add_argument("--raw-dir", type=Path, required=True,
                   help="the contract folder the warehouse was built from (for a delivery in loads: the "
                   "consolidated extract folder the pipeline reads)")
    p.add_argument("--from", dest="first", type=dt.date.fromisoformat, required=True, metavar="YYYY-MM-DD",
                   help="first month to replay (its month end)")
    p.add_argument("--to", dest="last", type=dt.date.fromisoformat, required=True, metavar="YYYY-MM-DD",
                   help="last month to replay (its month end; not after the warehouse's as-of date)")
    p.add_argument("--vars", default=None, help="one alternative setting: a JSON object of dbt vars")
    p.add_argument("--setting", action="append", default=[], metavar="NAME=JSON",
                   help="a named alternative setting (repeatable)")
    p.add_argument("--out", type=Path, default=ROOT / "out" / "backtest", help="output folder (default: %(default)s)")
    p.add_argument("--threads", type=int, default=None, help="dbt threads")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.last < args.first:
            raise BacktestError("--to is before --from", EXIT_USAGE)
        if not args.raw_dir.is_dir():
            raise BacktestError(f"--raw-dir {args.raw_dir} is not a folder", EXIT_USAGE)
        settings = parse_settings(args.vars, args.setting)
        summary = run_backtest(args.db.resolve(), args.raw_dir.resolve(), args.out.resolve(), args.first, args.last,
                               settings, args.threads)
    except ArrearsError as exc:
        print(f"[backtest] error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(markdown_table(summary, settings), end="")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
