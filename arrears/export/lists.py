"""Reading the strategy mart and writing one as-of date's folder of lists (see the package docstring,
`arrears/export/__init__.py`, for the files, the safety rules and the exit codes)."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import arrears

from ..atomic import fsync_path, fsync_tree, move_folder_into_place, write_text
from ..errors import EXIT_ERROR, EXIT_NO_MARTS, EXIT_OK, EXIT_USAGE, ArrearsError
from ..labels import LANGS, pick, team_label, value_label
from ..warehouse import WarehouseError, built_as_of, open_readonly, relation_exists, require_relations
from .columns import LIST_COLUMNS, SHEET_TITLES, SUMMARY_COLUMNS
from .safety import MASKERS
from .writers import sha256_of, write_csv, write_parquet, write_xlsx

TOOL = "export_strategy_lists"
SOURCE_TABLE = "marts.mart_collection_strategy"
FORMATS = ("csv", "xlsx", "parquet")

EXIT_DATABASE = 2
EXIT_EXISTS = 3
EXIT_NO_DATA = 5
EXIT_UNWRITABLE = 6
__all__ = ["EXIT_ERROR", "EXIT_NO_MARTS", "EXIT_OK", "EXIT_USAGE", "WarehouseError"]


class ExportError(ArrearsError):
    """The export cannot go on; the message says why and what to do, `exit_code` is the CLI's exit status."""


def mart_as_of_dates(con) -> list[dt.date]:
    return [r[0] for r in con.execute(
        f"select distinct as_of_date from {SOURCE_TABLE} where as_of_date is not null order by 1").fetchall()]


@dataclass(frozen=True)
class ExportOptions:
    db: Path
    out: Path
    as_of: dt.date | None = None          # None: the mart's as-of date (it holds one)
    formats: tuple[str, ...] = FORMATS
    lang: str = "en"
    mask_pii: bool = False
    force: bool = False


@dataclass
class ExportResult:
    folder: Path
    manifest: dict[str, Any]
    files: list[Path] = field(default_factory=list)


_LIST_SQL = f"""
select
    s.*,
    {{bucket_label}} as aging_bucket_label,
    {{bucket_label_zh}} as aging_bucket_label_zh
from {SOURCE_TABLE} as s
{{bucket_join}}
where s.as_of_date = ?
order by s.priority_rank, s.customer_id
"""


def read_strategy_rows(con, as_of: dt.date) -> list[dict[str, Any]]:
    """The mart's rows of the as-of date as dicts (Decimal amounts, dates), in priority order."""
    if relation_exists(con, "reference", "aging_buckets"):
        sql = _LIST_SQL.format(bucket_label="b.bucket_label", bucket_label_zh="b.bucket_label_zh",
                               bucket_join="left join reference.aging_buckets as b on s.aging_bucket = b.bucket_code")
    else:
        sql = _LIST_SQL.format(bucket_label="null", bucket_label_zh="null", bucket_join="")
    cursor = con.execute(sql, [as_of])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def catalog_teams(con) -> list[str]:
    if not relation_exists(con, "reference", "strategy_catalog"):
        return []
    return [r[0] for r in con.execute(
        "select distinct owner_team from reference.strategy_catalog where owner_team is not null order by 1"
    ).fetchall()]


def mart_totals(con, as_of: dt.date) -> dict[str, Any]:
    """Totals straight from the mart (SQL), to check the exported rows against."""
    row = con.execute(
        f"select count(*), coalesce(sum(outstanding_base), 0), coalesce(sum(at_stake_base), 0) "
        f"from {SOURCE_TABLE} where as_of_date = ?", [as_of]).fetchone()
    return {"customers": int(row[0]), "outstanding_base": Decimal(row[1]), "at_stake_base": Decimal(row[2])}


def list_record(row: dict[str, Any], lang: str, mask_pii: bool) -> dict[str, Any]:
    """One list row keyed by LIST_COLUMNS keys: language-specific text picked, codes labelled, PII masked."""
    record = {
        "priority_rank": row["priority_rank"],
        "customer_id": row["customer_id"],
        "customer_name": row["customer_name"],
        "customer_type": value_label("customer_type", row["customer_type"], lang),
        "region": row["region"],
        "contact_person": row["contact_person"],
        "phone": row["phone"],
        "email": row["email"],
        "account_manager": row["account_manager"],
        "list_type": value_label("list_type", row["list_type"], lang),
        "overdue_type": pick(lang, row["overdue_type"], row["overdue_type_zh"]),
        "risk_band": value_label("risk_band", row["risk_band"], lang),
        "strategy_code": row["strategy_code"],
        "strategy_name": pick(lang, row["strategy_name_en"], row["strategy_name_zh"]),
        "outstanding_base": row["outstanding_base"],
        "at_stake_base": row["at_stake_base"],
        "days_past_due": row["days_past_due"],
        "aging_bucket": pick(lang, row.get("aging_bucket_label"), row.get("aging_bucket_label_zh"))
        or row["aging_bucket"],
        "reasons": pick(lang, row["reasons_en"], row["reasons_zh"]),
        "next_action": pick(lang, row["next_action_en"], row["next_action_zh"]),
        "next_action_channel": value_label("next_action_channel", row["next_action_channel"], lang),
        "next_action_due_date": row["next_action_due_date"],
        "credit_action": value_label("credit_action", row["credit_action"], lang),
        "priority_score": None if row["priority_score"] is None else round(float(row["priority_score"]), 2),
        # the champion/challenger arm the team must follow (the challenger's actions differ); absent in a
        # warehouse built before the tests existed
        "test_id": row.get("test_id"),
        "variant": value_label("variant", row.get("variant") or "champion", lang),
    }
    if mask_pii:
        for col in LIST_COLUMNS:
            if col.pii:
                record[col.key] = MASKERS[col.pii](record[col.key])
    return record


def summarise(rows: Sequence[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Per team x list x strategy: customers, outstanding and at-stake amounts (Decimal sums)."""
    groups: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        team = row["owner_team"] or "unassigned"
        key = (team, row["list_type"], row["strategy_code"])
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                "owner_team": team_label(team, lang),
                "list_type": value_label("list_type", row["list_type"], lang),
                "strategy_code": row["strategy_code"],
                "strategy_name": pick(lang, row["strategy_name_en"], row["strategy_name_zh"]),
                "overdue_type": pick(lang, row["overdue_type"], row["overdue_type_zh"]),
                "risk_band": value_label("risk_band", row["risk_band"], lang),
                "customers": 0, "outstanding_base": Decimal("0.00"), "at_stake_base": Decimal("0.00"),
            }
        group["customers"] += 1
        group["outstanding_base"] += row["outstanding_base"] or 0
        group["at_stake_base"] += row["at_stake_base"] or 0
    return [groups[k] for k in sorted(groups, key=lambda k: (k[0], k[1] != "overdue", k[2] or ""))]


def _remove_stale_temp_folders(out: Path, as_of: str) -> None:
    """Temporary folders of this as-of date left by killed runs (their process is gone)."""
    pattern = re.compile(rf"\.{re.escape(as_of)}\.(tmp|old)-(\d+)(-.*)?")
    for entry in out.iterdir():
        m = pattern.fullmatch(entry.name)
        if not m or not entry.is_dir():
            continue
        pid = int(m.group(2))
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except PermissionError:
            pass


def _amount(value: Decimal) -> str:
    """Amounts in the manifest are exact decimal strings (JSON numbers would go through binary floats)."""
    return format(Decimal(value).quantize(Decimal("0.01")), "f")


def run_export(opts: ExportOptions, log: Callable[[str], None] | None = None) -> ExportResult:
    """Write the lists of one as-of date (see the module docstring). Raises ExportError on failure."""
    for fmt in opts.formats:
        if fmt not in FORMATS:
            raise ExportError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}", EXIT_USAGE)
    if opts.lang not in LANGS:
        raise ExportError(f"unknown language {opts.lang!r}; choose from {', '.join(LANGS)}", EXIT_USAGE)
    db = opts.db.resolve()
    with open_readonly(db) as con:
        require_relations(con, db, "marts", ["mart_collection_strategy"])
        dates = mart_as_of_dates(con)
        built = built_as_of(con)
        as_of = opts.as_of
        if as_of is None:
            if not dates and built is None:
                raise ExportError(f"{SOURCE_TABLE} in {db} is empty: nothing to export", EXIT_NO_DATA)
            as_of = dates[-1] if dates else built
        if as_of not in dates and as_of == built:
            # The warehouse was built for this date and nobody needs collection work: empty lists, not an error.
            if log:
                log(f"nobody to work on as of {as_of}: the lists are written with their headers only")
        elif as_of not in dates:
            held = ", ".join(d.isoformat() for d in dates) or "none (the mart is empty)"
            raise ExportError(
                f"{SOURCE_TABLE} in {db} has no rows for as-of date {as_of}; it holds: {held}. "
                "Build the warehouse for that date first (run_pipeline.py --as-of) or pass one of these dates",
                EXIT_NO_DATA)
        rows = read_strategy_rows(con, as_of)
        teams = sorted(set(catalog_teams(con)) | {r["owner_team"] or "unassigned" for r in rows})
        totals = mart_totals(con, as_of)

    out = opts.out.resolve()
    folder_name = as_of.isoformat()
    final = out / folder_name
    try:
        out.mkdir(parents=True, exist_ok=True)
        if not os.access(out, os.W_OK | os.X_OK):
            raise PermissionError(f"no write permission on {out}")
        _remove_stale_temp_folders(out, folder_name)
        if final.exists() and not opts.force:
            raise ExportError(f"{final} already exists; use --force to replace it", EXIT_EXISTS)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder_name}.tmp-{os.getpid()}-", dir=out))
        os.chmod(tmp, 0o777 & ~os.umask(os.umask(0o022)))  # mkdtemp makes it private; the published folder follows the umask
    except ExportError:
        raise
    except OSError as exc:
        raise ExportError(f"cannot write to output folder {out}: {exc}", EXIT_UNWRITABLE) from exc

    try:
        files = _write_folder(tmp, rows, teams, totals, opts, db, as_of, log)
        fsync_tree(tmp)
        try:
            move_folder_into_place(tmp, final, opts.force)
        except FileExistsError as exc:
            raise ExportError(f"{exc}; use --force to replace it", EXIT_EXISTS) from exc
        fsync_path(out)
    except ExportError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ExportError(f"cannot write to output folder {out}: {exc}", EXIT_UNWRITABLE) from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    manifest = json.loads((final / "manifest.json").read_text(encoding="utf-8"))
    return ExportResult(folder=final, manifest=manifest, files=[final / f for f in files])


def _write_folder(tmp: Path, rows: list[dict[str, Any]], teams: list[str], totals: dict[str, Any],
                  opts: ExportOptions, db: Path, as_of: dt.date,
                  log: Callable[[str], None] | None) -> list[str]:
    lang = opts.lang
    entries: list[dict[str, Any]] = []

    def add(name: str, kind: str, fmt: str, count: int, team: str | None = None) -> None:
        path = tmp / name
        entry = {"name": name, "kind": kind, "format": fmt, "rows": count, "bytes": path.stat().st_size,
                 "sha256": sha256_of(path)}
        if team is not None:
            entry["team"] = team
        entries.append(entry)

    by_team: dict[str, list[dict[str, Any]]] = {team: [] for team in teams}
    for row in rows:  # already in priority order
        by_team[row["owner_team"] or "unassigned"].append(row)

    team_totals: dict[str, dict[str, Any]] = {}
    exported = {"customers": 0, "outstanding_base": Decimal("0.00"), "at_stake_base": Decimal("0.00")}
    for team in teams:
        team_rows = by_team[team]
        records = [list_record(r, lang, opts.mask_pii) for r in team_rows]
        sums = {"customers": len(team_rows),
                "outstanding_base": sum((r["outstanding_base"] or 0 for r in team_rows), Decimal("0.00")),
                "at_stake_base": sum((r["at_stake_base"] or 0 for r in team_rows), Decimal("0.00"))}
        for key in exported:
            exported[key] += sums[key]
        team_totals[team] = {"label": team_label(team, lang), "customers": sums["customers"],
                             "outstanding_base": _amount(sums["outstanding_base"]),
                             "at_stake_base": _amount(sums["at_stake_base"])}
        for fmt in opts.formats:
            name = f"{team}.{fmt}"
            if fmt == "csv":
                write_csv(tmp / name, LIST_COLUMNS, records, lang)
            elif fmt == "xlsx":
                write_xlsx(tmp / name, LIST_COLUMNS, records, lang, team_label(team, lang))
            else:
                write_parquet(tmp / name, LIST_COLUMNS, records)
            add(name, "list", fmt, len(records), team)
        if log:
            log(f"{team}: {len(records)} customers")

    # The exported rows must be the mart's rows, no more, no less: a mismatch is a bug, never a file.
    if exported != {k: totals[k] for k in exported}:
        raise ExportError(f"exported totals {exported} differ from the mart's {totals}; nothing was written")

    summary = summarise(rows, lang)
    for fmt in opts.formats:
        name = f"summary.{fmt}"
        if fmt == "csv":
            write_csv(tmp / name, SUMMARY_COLUMNS, summary, lang)
        elif fmt == "xlsx":
            write_xlsx(tmp / name, SUMMARY_COLUMNS, summary, lang, SHEET_TITLES["summary"][lang])
        else:
            write_parquet(tmp / name, SUMMARY_COLUMNS, summary)
        add(name, "summary", fmt, len(summary))

    by_list: dict[str, dict[str, Any]] = {}
    for row in rows:
        agg = by_list.setdefault(row["list_type"], {"customers": 0, "outstanding_base": Decimal("0.00"),
                                                    "at_stake_base": Decimal("0.00")})
        agg["customers"] += 1
        agg["outstanding_base"] += row["outstanding_base"] or 0
        agg["at_stake_base"] += row["at_stake_base"] or 0

    manifest = {
        "tool": TOOL,
        "tool_version": arrears.__version__,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "as_of_date": as_of.isoformat(),
        "source_database": str(db),
        "source_table": SOURCE_TABLE,
        "grouping": "owner_team",
        "sort": "priority_rank",
        "language": lang,
        "formats": list(opts.formats),
        "mask_pii": opts.mask_pii,
        "amounts": "base currency; exact decimal strings",
        "totals": {"customers": totals["customers"], "outstanding_base": _amount(totals["outstanding_base"]),
                   "at_stake_base": _amount(totals["at_stake_base"])},
        "totals_by_list_type": {k: {"customers": v["customers"], "outstanding_base": _amount(v["outstanding_base"]),
                                    "at_stake_base": _amount(v["at_stake_base"])}
                                for k, v in sorted(by_list.items())},
        "teams": team_totals,
        "files": entries,
    }

    write_text(tmp / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return [e["name"] for e in entries] + ["manifest.json"]
