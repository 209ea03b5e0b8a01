"""The run summary every pipeline run ends with, success or not (issue 14: the failure policy).

Printed as a short block and written as ``<out>/run_summary.json``: the run and as-of dates and how the as-of
date was chosen, input rows set aside by reason code, every dbt test that ended in ``warn`` (name and failing
rows), every Great Expectations warning, the delivery guards (fired, acknowledged) and the exit status. A
data-quality concern warns here; it does not stop the run (docs/operations.md, "Failure policy").
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from .atomic import write_json

BUILD_WARNINGS_FILE = "build_warnings.json"     # written after the build step, read by later steps' summaries


def dbt_warnings(run_results: Path) -> list[dict[str, Any]]:
    """Tests that ended in `warn` in a dbt run_results.json: name and failing rows."""
    try:
        results = json.loads(run_results.read_text(encoding="utf-8"))["results"]
    except (OSError, ValueError, KeyError):
        return []
    out = []
    for r in results:
        if r.get("status") == "warn":
            out.append({"test": r["unique_id"].split(".")[2] if r["unique_id"].count(".") >= 2 else r["unique_id"],
                        "failures": r.get("failures"), "message": (r.get("message") or "")[:300]})
    return sorted(out, key=lambda w: w["test"])


def save_build_warnings(out: Path, run_results: Path) -> list[dict[str, Any]]:
    warnings = dbt_warnings(run_results)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / BUILD_WARNINGS_FILE, warnings, sort_keys=False, default=None)
    return warnings


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def gx_warnings(docs_dir: Path) -> list[dict[str, Any]]:
    """Failed expectations of severity `warning` in the latest validation of every suite."""
    data = _load_json(docs_dir / "validation_summary.json") or {}
    out = []
    for name, suite in sorted(data.get("suites", {}).items()):
        for e in suite.get("expectations", []):
            if not e.get("success") and e.get("skipped") is None and e.get("severity") == "warning":
                out.append({"suite": name, "expectation": e.get("type"), "rule": e.get("rule"),
                            "detail": e.get("detail")})
    return out


def warehouse_facts(db: Path) -> dict[str, Any]:
    """As-of and run date, how the as-of was chosen, quarantined rows by table and reason, and the customers
    the per-customer incremental models recomputed (their `intermediate.<model>__restated`, written by an
    incremental run only; None after a full build, which recomputes everyone), from `db`."""
    facts: dict[str, Any] = {"as_of_date": None, "run_date": None, "as_of_source": None, "set_aside": [],
                             "recomputed": None}
    if not db.exists():
        return facts
    import duckdb

    try:
        with duckdb.connect(str(db), read_only=True) as con:
            cols = {r[0] for r in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'intermediate' and table_name = 'int_as_of_date'").fetchall()}
            if cols:
                wanted = [c for c in ("as_of_date", "run_date", "as_of_source") if c in cols]
                row = con.execute(f"select {', '.join(wanted)} from intermediate.int_as_of_date").fetchone()
                if row:
                    for c, v in zip(wanted, row):
                        facts[c] = v.isoformat() if isinstance(v, dt.date) else v
            has_q = con.execute("select count(*) from information_schema.tables "
                                "where table_schema = 'staging' and table_name = 'stg_quarantine'").fetchone()[0]
            if has_q:
                facts["set_aside"] = [
                    {"table": t, "reason_code": r, "rows": int(n), "example_key": k}
                    for t, r, n, k in con.execute(
                        "select source_table, reason_code, count(*), min(record_key) from staging.stg_quarantine "
                        "group by 1, 2 order by 1, 2").fetchall()]
            restated = [r[0] for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'intermediate' "
                "and table_name like '%\\_\\_restated' escape '\\' order by 1").fetchall()]
            if restated:
                customers = con.execute("select count(*) from intermediate.int_customer_fingerprints").fetchone()[0]
                facts["recomputed"] = {"customers": int(customers), "models": {
                    name[:-len("__restated")]: int(con.execute(f'select count(*) from intermediate."{name}"').fetchone()[0])
                    for name in restated}}
    except duckdb.Error as exc:
        facts["error"] = str(exc).splitlines()[0]
    return facts


def build_summary(*, status: str, exit_code: int, db: Path, out: Path, run_date: dt.date,
                  requested_as_of: dt.date | None, delivery: dict | None, message: str | None,
                  steps: list[str], loads: dict | None = None) -> dict[str, Any]:
    facts = warehouse_facts(db)
    if facts["as_of_source"] is None and facts["as_of_date"] is not None:
        facts["as_of_source"] = "requested" if requested_as_of else "latest_document"
    return {
        "status": status, "exit_code": exit_code, "message": message, "steps": steps,
        "run_date": facts["run_date"] or run_date.isoformat(),
        "as_of_date": facts["as_of_date"] or (requested_as_of.isoformat() if requested_as_of else None),
        "as_of_source": facts["as_of_source"] or ("requested" if requested_as_of else None),
        "database": str(db),
        "set_aside": facts["set_aside"],
        # what this run's incremental models recomputed; only a successful run's tables are its own
        "recomputed": facts["recomputed"] if status == "ok" else None,
        "dbt_warnings": _load_json(out / BUILD_WARNINGS_FILE) or [],
        "gx_warnings": gx_warnings(out / "data_docs"),
        "delivery": delivery,
        "loads": loads,
        "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def write(summary: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    return write_json(out / "run_summary.json", summary)


def format_text(summary: dict[str, Any]) -> str:
    how = {"requested": "requested (--as-of)", "latest_document": "latest document on or before the run date"}
    lines = [f"[summary] {summary['status'].upper()} (exit {summary['exit_code']}); run date {summary['run_date']}, "
             f"as of {summary['as_of_date'] or '-'} ({how.get(summary['as_of_source'], summary['as_of_source'] or '-')})"]
    set_aside = summary["set_aside"]
    if set_aside:
        lines.append(f"[summary] rows set aside: {sum(s['rows'] for s in set_aside):,} - " + "; ".join(
            f"{s['table']} {s['reason_code']} {s['rows']:,} (e.g. {s['example_key']})" for s in set_aside))
    else:
        lines.append("[summary] rows set aside: none")
    recomputed = summary.get("recomputed")
    if recomputed:
        lines.append(f"[summary] customers recomputed (of {recomputed['customers']:,}): " + ", ".join(
            f"{model} {n:,}" for model, n in recomputed["models"].items()))
    warn = summary["dbt_warnings"]
    lines.append(f"[summary] dbt tests that warned: {len(warn)}" + ("" if not warn else " - " + "; ".join(
        f"{w['test']} ({w['failures']})" for w in warn)))
    gx = summary["gx_warnings"]
    lines.append(f"[summary] Great Expectations warnings: {len(gx)}" + ("" if not gx else " - " + "; ".join(
        f"{g['suite']} {g['expectation']}: {g['detail']}" for g in gx[:10]) + (" ..." if len(gx) > 10 else "")))
    for table in (summary.get("loads") or {}).get("tables", []):
        lines.append(f"[summary] loads of {table['table']}: {len(table['loads'])} loads, {table['rows_read']:,} rows, "
                     f"{table['superseded']:,} superseded by a later version of their key")
    delivery = summary.get("delivery") or {}
    findings = delivery.get("findings", [])
    if findings:
        for f in findings:
            state = "ACKNOWLEDGED (--accept-guard)" if f["accepted"] else "STOPPED THE RUN"
            lines.append(f"[summary] delivery guard {f['key']}: {state}: {f['message']}")
    elif delivery:
        lines.append("[summary] delivery guards: none fired")
    for note in delivery.get("notes", []):
        lines.append(f"[summary] delivery note: {note}")
    if summary.get("message"):
        lines.append(f"[summary] {summary['message']}")
    return "\n".join(lines)
